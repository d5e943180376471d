/* Host profiles before the seed: Xen 4.3 and 4.4 took a boolean HVM_PARAM_VIRIDIAN
 * (hvm.c: "if ( a.value > 1 ) rc = -EINVAL") whose meaning changed between them. */
#include <criterion/criterion.h>
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/spec.h"

static struct vmodel *on(const char *host, uint64_t viridian)
{
    struct vconfig cfg = { .host = vprofile_find(host), .viridian = viridian };
    struct vmodel *m = NULL;
    cr_assert_not_null(cfg.host, "%s", host);
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    return m;
}

static uint32_t eax_of(struct vmodel *m, uint32_t leaf)
{
    uint32_t r[4];
    vmodel_cpuid(m, 0, leaf, 0, r);
    return r[0];
}

Test(profiles, xen_4_3_boolean_true_is_the_base_set)
{
    struct vmodel *m = on("xen-4.3", 1);
    uint64_t v;
    cr_assert_eq(eax_of(m, 0x40000003), 0x70);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TSC_FREQUENCY, &v), -1);
    cr_assert_eq(eax_of(m, 0x40000006), 0, "4.3 has no case for leaf 6");
    vmodel_destroy(m);
}

Test(profiles, xen_4_4_boolean_true_adds_the_frequency_msrs)
{
    struct vmodel *m = on("xen-4.4", 1);
    uint64_t v;
    cr_assert_eq(eax_of(m, 0x40000003), 0x870);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TSC_FREQUENCY, &v), 0);
    cr_assert_eq(v, 2000000000ull);
    cr_assert_eq(eax_of(m, 0x40000006), 0xb);
    vmodel_destroy(m);
}

Test(profiles, before_4_5_xens_leaves_stop_at_base_plus_2)
{
    struct vmodel *m = on("xen-4.4", 1);
    cr_assert_eq(eax_of(m, 0x40000100), 0x40000102);
    cr_assert_eq(eax_of(m, 0x40000101), 0x00040004);
    cr_assert_eq(eax_of(m, 0x40000103), 0, "no time leaf without tsc_mode pvrdtscp");
    vmodel_destroy(m);
}

Test(profiles, boolean_hosts_refuse_values_above_one)
{
    struct vmodel *m = on("xen-4.4", 0);
    cr_assert_eq(vmodel_param_set(m, 2, false), VRES_EINVAL);
    cr_assert_eq(vmodel_param_set(m, 1, false), VRES_OK);
    vmodel_destroy(m);
    struct vconfig cfg = { .host = vprofile_find("xen-4.3"), .viridian = 3 };
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_BAD_MASK);
}

Test(profiles, before_the_seed_nothing_locks_the_parameter)
{
    /* The flaws the seed patch closes: the guest may write it, and the toolstack may
     * clear it under a running guest, pulling the leaves away. */
    struct vmodel *m = on("xen-4.4", 1);
    cr_assert_eq(vmodel_param_set(m, 1, true), VRES_OK);
    cr_assert_eq(vmodel_param_set(m, 0, false), VRES_OK);
    cr_assert_eq(eax_of(m, 0x40000000), 0x40000002, "Xen's leaves are back at 0x40000000");
    vmodel_destroy(m);
}

Test(profiles, boolean_hosts_take_no_group_lists)
{
    uint64_t mask;
    struct vspec_error err = { 0 };
    char msg[128];
    cr_assert_eq(vspec_parse(vprofile_find("xen-4.4"), "base,freq", &mask, &err), VERR_NO_GROUPS);
    vspec_strerror(&err, msg, sizeof msg);
    cr_assert_str_eq(msg, "host xen-4.4 takes only a boolean viridian option (0 or 1)");
    cr_assert_eq(vspec_parse(vprofile_find("xen-4.4"), "true", &mask, &err), VERR_OK);
    cr_assert_eq(mask, 1);
}

Test(profiles, the_4_3_to_4_4_migration_makes_msrs_appear)
{
    /* Historical bug 1: the same boolean means a bigger set on the destination. */
    struct vmodel *m = on("xen-4.3", 1);
    uint64_t v;
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TSC_FREQUENCY, &v), -1);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.4"), -1, 0), VRES_OK);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TSC_FREQUENCY, &v), 0);
    vmodel_destroy(m);
}

Test(profiles, a_base_only_mask_cannot_migrate_to_a_boolean_host)
{
    struct vmodel *m = on("xen-4.5", HVMPV_base_freq | HVMPV_no_freq);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.4"), -1, 0), VRES_REFUSED);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.5"), -1, 0), VRES_OK);
    vmodel_destroy(m);
}

Test(profiles, unknown_names_are_not_found)
{
    cr_assert_null(vprofile_find("xen-9.9"));
    cr_assert_null(vprofile_find(""));
}
