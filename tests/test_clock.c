/* The virtual clock and Xen's time scaling (xen/arch/x86/time.c set_time_scale). */
#include "tests/model_util.h"
#include "viridian/clock.h"
#include "viridian/hvmpv.h"
#include "viridian/spec.h"

Test(clock, scale_for_2ghz_is_one_half)
{
    struct vtime_scale s = vtime_scale_for(2000000000ull);
    cr_assert_eq(s.shift, 0);
    cr_assert_eq(s.mul_frac, 0x80000000u);
}

Test(clock, scale_for_1mhz_shifts_left_ten_times)
{
    /* 1e6 << 10 = 1.024e9 is the first value above 1e9; 1e9/1.024e9 = 0xfa000000 / 2^32 */
    struct vtime_scale s = vtime_scale_for(1000000ull);
    cr_assert_eq(s.shift, 10);
    cr_assert_eq(s.mul_frac, 0xfa000000u);
}

Test(clock, scale_delta_turns_ticks_into_nanoseconds)
{
    struct vtime_scale s = vtime_scale_for(2000000000ull);
    cr_assert_eq(vtime_scale_delta(2000000000ull, &s), 1000000000ull);
    s = vtime_scale_for(2500000000ull);
    cr_assert_eq(vtime_scale_delta(2500000000ull, &s), 999999999ull); /* 0.8 truncated */
}

Test(clock, rdtsc_starts_at_zero_and_follows_advance)
{
    struct vmodel *m = model(0);
    struct vevent rdtsc = { .kind = VEV_RDTSC }, adv = { .kind = VEV_ADVANCE, .a = { 500 } };
    struct vres res;
    cr_assert(vmodel_apply(m, &rdtsc, &res));
    cr_assert_eq(res.v[0], 0);
    cr_assert(vmodel_apply(m, &adv, &res));
    cr_assert_eq(res.kind, VRES_NONE);
    cr_assert(vmodel_apply(m, &rdtsc, &res));
    cr_assert_eq(res.v[0], 500);
    vmodel_destroy(m);
}

Test(clock, advance_saturates_instead_of_wrapping)
{
    struct vmodel *m = model(0);
    vmodel_advance(m, UINT64_MAX - 5);
    vmodel_advance(m, 100);
    cr_assert_eq(vmodel_tsc(m), UINT64_MAX);
    vmodel_destroy(m);
}

/* RELEASE-4.5.0 has the time_ref_count group (commit 88f30bcdb5, the seed's second
 * patch): viridian.c rdmsr_viridian_regs() HV_X64_MSR_TIME_REF_COUNT. */
#define trc_host (*vprofile_find("xen-4.5"))

Test(clock, time_ref_count_counts_100ns_units_of_guest_time)
{
    struct vconfig cfg = { .host = &trc_host, .viridian = 0x5 };
    struct vmodel *m = NULL;
    uint64_t v;
    uint32_t r[4];
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    vmodel_cpuid(m, 0, 0x40000003, 0, r);
    cr_assert_eq(r[0], 0x872);
    vmodel_advance(m, 2000000000ull); /* one second at 2 GHz */
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TIME_REF_COUNT, &v), 0);
    cr_assert_eq(v, 10000000ull);
    /* No write case: 4.5 drops the write (the counter keeps its value). */
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_TIME_REF_COUNT, 0), 0);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TIME_REF_COUNT, &v), 0);
    cr_assert_eq(v, 10000000ull);
    vmodel_destroy(m);
}

Test(clock, time_ref_count_faults_when_its_bit_is_clear)
{
    struct vconfig cfg = { .host = &trc_host, .viridian = 0x1 };
    struct vmodel *m = NULL;
    uint64_t v;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TIME_REF_COUNT, &v), -1);
    vmodel_destroy(m);
}

Test(clock, migration_keeps_the_clock_and_bumps_the_incarnation)
{
    struct vmodel *m = model(0x1);
    uint32_t r[4];
    vmodel_advance(m, 777);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.5"), -1, 0), VRES_OK);
    cr_assert_eq(vmodel_tsc(m), 777);
    vmodel_cpuid(m, 0, 0x40000103, 0, r);
    cr_assert_eq(r[3], 1);
    vmodel_destroy(m);
}

Test(clock, legacy_boolean_stream_restores_as_defaults_on_4_5)
{
    /* xc_domain_restore(): a non-zero stream value is set as the parameter. */
    struct vmodel *m = model(0);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.5"), 1, 0), VRES_OK);
    cr_assert_eq(vmodel_param(m), 0x1);
    vmodel_destroy(m);
}

Test(clock, migration_refuses_a_mask_the_destination_lacks)
{
    struct vconfig cfg = { .host = &trc_host, .viridian = 0x5 };
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.4"), -1, 0), VRES_REFUSED);
    cr_assert_eq(vmodel_host(m), &trc_host);
    cr_assert_eq(vmodel_param(m), 0x5);
    vmodel_destroy(m);
}
