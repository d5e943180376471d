/* HVM_PARAM_VIRIDIAN set/get, per Xen 4.5 do_hvm_op(). */
#include "tests/model_util.h"
#include "viridian/hvmpv.h"

Test(param, guest_write_is_refused_with_eperm)
{
    struct vmodel *m = model(0);
    cr_assert_eq(vmodel_param_set(m, 0x1, true), VRES_EPERM);
    cr_assert_eq(vmodel_param(m), 0);
    vmodel_destroy(m);
}

Test(param, guest_write_of_the_same_value_is_still_eperm)
{
    struct vmodel *m = model(0x1);
    cr_assert_eq(vmodel_param_set(m, 0x1, true), VRES_EPERM);
    vmodel_destroy(m);
}

Test(param, toolstack_sets_it_once_from_zero)
{
    struct vmodel *m = model(0);
    cr_assert_eq(vmodel_param_set(m, 0x3, false), VRES_OK);
    cr_assert_eq(vmodel_param(m), 0x3);
    vmodel_destroy(m);
}

Test(param, rewriting_the_same_value_is_allowed)
{
    struct vmodel *m = model(0x1);
    cr_assert_eq(vmodel_param_set(m, 0x1, false), VRES_OK);
    vmodel_destroy(m);
}

Test(param, changing_a_set_value_is_eexist)
{
    struct vmodel *m = model(0x1);
    cr_assert_eq(vmodel_param_set(m, 0x3, false), VRES_EEXIST);
    cr_assert_eq(vmodel_param(m), 0x1);
    vmodel_destroy(m);
}

Test(param, clearing_a_set_value_is_eexist)
{
    struct vmodel *m = model(0x3);
    cr_assert_eq(vmodel_param_set(m, 0, false), VRES_EEXIST);
    cr_assert_eq(vmodel_param(m), 0x3);
    vmodel_destroy(m);
}

Test(param, writing_zero_over_zero_is_allowed)
{
    struct vmodel *m = model(0);
    cr_assert_eq(vmodel_param_set(m, 0, false), VRES_OK);
    vmodel_destroy(m);
}

Test(param, bits_outside_the_mask_are_einval)
{
    struct vmodel *m = model(0);
    /* RELEASE-4.5.0 params.h: HVMPV_feature_mask is bits 0-2; bit 3 is 4.6's. */
    cr_assert_eq(vmodel_param_set(m, 0x9, false), VRES_EINVAL);
    cr_assert_eq(vmodel_param_set(m, 0x8000000000000001ull, false), VRES_EINVAL);
    cr_assert_eq(vmodel_param(m), 0);
    vmodel_destroy(m);
}

Test(param, nonzero_without_the_base_bit_is_einval)
{
    struct vmodel *m = model(0);
    cr_assert_eq(vmodel_param_set(m, HVMPV_no_freq, false), VRES_EINVAL);
    vmodel_destroy(m);
}

Test(param, eexist_is_checked_before_einval)
{
    /* Once set, any different value is EEXIST, even one that would be EINVAL. */
    struct vmodel *m = model(0x1);
    cr_assert_eq(vmodel_param_set(m, 0x2, false), VRES_EEXIST);
    vmodel_destroy(m);
}

Test(param, enabling_at_run_time_exposes_the_leaves)
{
    struct vmodel *m = model(0);
    uint32_t r[4];
    vmodel_cpuid(m, 0, 0x40000000, 0, r);
    cr_assert_eq(r[1], 0x566e6558); /* "XenV" */
    cr_assert_eq(vmodel_param_set(m, 0x1, false), VRES_OK);
    vmodel_cpuid(m, 0, 0x40000000, 0, r);
    cr_assert_eq(r[1], 0x7263694d); /* "Micr" */
    vmodel_destroy(m);
}

Test(param, get_returns_the_value_set)
{
    struct vmodel *m = model(0x3);
    struct vevent ev = { .kind = VEV_PARAM_GET };
    struct vres res;
    cr_assert(vmodel_apply(m, &ev, &res));
    cr_assert_eq(res.kind, VRES_VALUE);
    cr_assert_eq(res.v[0], 0x3);
    vmodel_destroy(m);
}

Test(param, create_refuses_a_mask_the_host_would_refuse)
{
    struct vconfig cfg = { .host = vprofile_find("xen-4.5"), .viridian = 0x2 };
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_BAD_MASK);
    cr_assert_null(m);
    cfg.viridian = 0x4;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_BAD_MASK);
}

Test(param, create_refuses_absurd_clock_and_vcpu_counts)
{
    struct vconfig cfg = { .tsc_khz = 999 };
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_BAD_TSC_KHZ);
    cfg = (struct vconfig){ .tsc_khz = 100000001 };
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_BAD_TSC_KHZ);
    cfg = (struct vconfig){ .vcpus = VMODEL_MAX_VCPUS + 1 };
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_BAD_VCPUS);
}
