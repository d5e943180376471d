/* Reference time per release: HV_X64_MSR_TIME_REF_COUNT, the reference TSC page, and
 * their freeze/thaw around a save. Expected values are worked out by hand from:
 *   4.5-4.12 viridian.c / viridian/time.c raw_trc_val(): scale_delta(tsc, tsc_to_ns) / 100
 *            (set_time_scale(2 GHz): shift 0, mul_frac 0x80000000, so tsc / 2 / 100)
 *   4.13+    time.c trc_val(): ((tsc * scale) >> 64) + offset with
 *            scale = ((10000 << 32) / tsc_khz) << 32 = 21474836 << 32 at 2 GHz
 *   update_reference_tsc(): TscScale the same scale; TscOffset = trc->off from 4.13
 *            (5a82d598d2); sequence + 1 skipping 0, and before 4.14 0xFFFFFFFF too
 *            (c9d9b5f4c9); sequence 0 when vtsc.
 *   time_ref_count_freeze/thaw (f6a07643e1): frozen on pause, thawed with off = val - now. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/save.h"
#include "viridian/visible.h"
#include "tests/support.h"

#define PAGE 0x3000u


static struct test_ram ram;

static struct vmodel *on(const char *host, uint64_t viridian, uint32_t tsc_khz)
{
    memset(&ram, 0x5a, sizeof ram);
    struct vconfig cfg = { .host = vprofile_find(host), .viridian = viridian, .tsc_khz = tsc_khz,
                           .mem = test_ram_ops(&ram, true) };
    struct vmodel *m = NULL;
    cr_assert_not_null(cfg.host);
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    return m;
}

static uint64_t trc(struct vmodel *m)
{
    uint64_t v = 0;
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TIME_REF_COUNT, &v), 0);
    return v;
}

static uint32_t u32(uint32_t off)
{
    uint32_t v;
    memcpy(&v, ram.b + PAGE + off, 4);
    return v;
}

static uint64_t u64(uint32_t off)
{
    uint64_t v;
    memcpy(&v, ram.b + PAGE + off, 8);
    return v;
}

#define TRC_REF (HVMPV_base_freq | HVMPV_time_ref_count | HVMPV_reference_tsc)
#define SCALE_2GHZ (21474836ull << 32)

Test(time, one_second_is_10000000_before_4_13_and_9999999_after)
{
    struct vmodel *m = on("xen-4.12", TRC_REF, 0);
    vmodel_advance(m, 2000000000ull);
    cr_assert_eq(trc(m), 10000000ull);
    vmodel_destroy(m);
    /* 4.13's page arithmetic: 2e9 * 21474836 / 2^32 = 9999999.77 */
    m = on("xen-4.13", TRC_REF, 0);
    vmodel_advance(m, 2000000000ull);
    cr_assert_eq(trc(m), 9999999ull);
    vmodel_destroy(m);
}

Test(time, time_ref_count_writes_are_dropped_then_fault)
{
    /* No write case until 4.13, where time.c answers "return X86EMUL_EXCEPTION"; before
     * that the unhandled write is dropped (to 4.10) or faults (4.11+). */
    struct vmodel *m = on("xen-4.10", TRC_REF, 0);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_TIME_REF_COUNT, 5), 0);
    vmodel_destroy(m);
    m = on("xen-4.13", TRC_REF, 0);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_TIME_REF_COUNT, 5), -1);
    vmodel_destroy(m);
}

Test(time, the_page_carries_scale_and_sequence_and_from_4_13_the_offset)
{
    struct vmodel *m = on("xen-4.6", TRC_REF, 0);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_REFERENCE_TSC, PAGE | 1), 0);
    cr_assert_eq(u32(HV_REF_TSC_SEQUENCE), 1, "cleared, then 0 + 1");
    cr_assert_eq(u32(4), 0, "the page was cleared");
    cr_assert_eq(u64(HV_REF_TSC_SCALE), SCALE_2GHZ);
    cr_assert_eq(u64(HV_REF_TSC_OFFSET), 0);
    cr_assert_eq(u32(0x800), 0, "the whole page was cleared");
    uint64_t v;
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_REFERENCE_TSC, &v), 0);
    cr_assert_eq(v, PAGE | 1);
    vmodel_destroy(m);

    /* Not a 4.5 MSR: read #GP, write dropped. */
    m = on("xen-4.5", HVMPV_base_freq | HVMPV_time_ref_count, 0);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_REFERENCE_TSC, &v), -1);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_REFERENCE_TSC, PAGE | 1), 0);
    cr_assert_eq(u32(0), 0x5a5a5a5a, "nothing written");
    vmodel_destroy(m);
}

Test(time, an_emulated_tsc_invalidates_the_page)
{
    /* 2.5 GHz on the 2 GHz host, no TSC scaling: vtsc, "p->TscSequence = 0". */
    struct vmodel *m = on("xen-4.22", TRC_REF, 2500000);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_REFERENCE_TSC, PAGE | 1), 0);
    cr_assert_eq(u32(HV_REF_TSC_SEQUENCE), 0);
    cr_assert_eq(u64(HV_REF_TSC_SCALE), 0, "invalidated before the scale is written");
    vmodel_destroy(m);
}

Test(time, the_sequence_skips_0xffffffff_only_before_4_14)
{
    /* 4.13 and 4.14 rewrite the page on every thaw; a pause and unpause is one. */
    static const struct { const char *host; uint32_t want; } cases[] = {
        { "xen-4.13", 1 }, { "xen-4.14", 0xffffffffu },
    };
    for (int i = 0; i < 2; i++) {
        struct vmodel *m = on(cases[i].host, TRC_REF, 0);
        cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_REFERENCE_TSC, PAGE | 1), 0);
        uint32_t seq = 0xfffffffe;
        memcpy(ram.b + PAGE, &seq, 4);
        vmodel_pause(m);
        vmodel_unpause(m);
        cr_assert_eq(u32(HV_REF_TSC_SEQUENCE), cases[i].want, "%s", cases[i].host);
        vmodel_destroy(m);
    }
}

Test(time, a_save_freezes_the_counter_and_the_restore_thaws_it_without_a_jump)
{
    for (unsigned minor = 5; minor <= 22; minor++) {
        char host[16];
        snprintf(host, sizeof host, "xen-4.%u", minor);
        struct vmodel *m = on(host, HVMPV_base_freq | HVMPV_time_ref_count, 0);
        vmodel_advance(m, 123456789);
        uint64_t before = trc(m);
        /* ten seconds of downtime: the TSC runs on, the counter does not */
        cr_assert_eq(vmodel_migrate(m, vprofile_find(host), -1, 20000000000ull), VRES_OK);
        cr_assert_eq(vmodel_tsc(m), 123456789 + 20000000000ull);
        cr_assert_eq(trc(m), before, "%s", host);
        vmodel_advance(m, 2000);
        cr_assert_eq(trc(m), before + 10, "%s: it runs on from there", host);
        vmodel_destroy(m);
    }
}

Test(time, from_4_13_the_page_keeps_time_across_a_migration_and_before_it_jumps)
{
    /* 4.12: the page has no offset, so its time is the guest TSC's: it jumps by the
     * downtime, and the MSR and the page disagree afterwards. */
    struct vmodel *m = on("xen-4.12", TRC_REF, 0);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_REFERENCE_TSC, PAGE | 1), 0);
    vmodel_advance(m, 2000000000ull);
    struct vvisible a, b;
    vmodel_pause(m);
    vmodel_visible(m, &a);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.12"), -1, 2000000000ull), VRES_OK);
    vmodel_visible(m, &b);
    cr_assert(a.ref_tsc_on && b.ref_tsc_on);
    cr_assert_eq(u32(HV_REF_TSC_SEQUENCE), 2, "load: update_reference_tsc(d, 0), 1 + 1");
    /* floor(4e9 * 21474836 / 2^32) - floor(2e9 * 21474836 / 2^32) = 19999999 - 9999999 */
    cr_assert_eq(b.ref_tsc_time - a.ref_tsc_time, 10000000, "one second of downtime");
    cr_assert_eq(b.time_ref, a.time_ref);
    vmodel_destroy(m);

    /* 4.13: the load maps (clears) the page, the thaw writes scale, the counter's offset
     * and sequence 1: page time and counter agree and neither jumped. */
    m = on("xen-4.13", TRC_REF, 0);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_REFERENCE_TSC, PAGE | 1), 0);
    vmodel_advance(m, 2000000000ull);
    vmodel_pause(m);
    vmodel_visible(m, &a);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.13"), -1, 2000000000ull), VRES_OK);
    vmodel_visible(m, &b);
    cr_assert_eq(u32(HV_REF_TSC_SEQUENCE), 1);
    /* off = val - trc_val(now, 0) = 9999999 - 19999999 */
    cr_assert_eq((int64_t)u64(HV_REF_TSC_OFFSET), -10000000, "off = val - trc_val(now, 0)");
    cr_assert_eq(b.ref_tsc_time, a.ref_tsc_time);
    cr_assert_eq(b.ref_tsc_time, b.time_ref);
    vmodel_destroy(m);
}

Test(time, a_release_that_does_not_freeze_saves_the_old_value)
{
    /* 4.5-4.12 arch_domain_pause(): "if ( has_viridian_time_ref_count(d) )": without the
     * group the counter is never frozen and the record carries trc.val, still 0. */
    struct vmodel *m = on("xen-4.12", HVMPV_base_freq, 0);
    vmodel_advance(m, 2000000000ull);
    struct vsave s;
    vmodel_save(m, false, &s);
    cr_assert_eq(s.domain.time_ref_count, 0);
    vmodel_destroy(m);
    /* 4.13+ viridian_time_domain_freeze() freezes every viridian domain's. */
    m = on("xen-4.13", HVMPV_base_freq, 0);
    vmodel_advance(m, 2000000000ull);
    vmodel_save(m, false, &s);
    cr_assert_eq(s.domain.time_ref_count, 9999999);
    vmodel_destroy(m);
}
