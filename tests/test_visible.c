/* What the guest can see before and after a migration, compared by name. */
#include <criterion/criterion.h>
#include <string.h>
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/visible.h"

struct seen {
    char lines[16][256];
    enum vdiff_kind kinds[16];
    int n;
};

static void collect(void *ctx, enum vdiff_kind kind, const char *what)
{
    struct seen *s = ctx;
    cr_assert_lt(s->n, 16);
    strcpy(s->lines[s->n], what);
    s->kinds[s->n++] = kind;
}

static bool has(const struct seen *s, enum vdiff_kind kind, const char *line)
{
    for (int i = 0; i < s->n; i++)
        if (s->kinds[i] == kind && strcmp(s->lines[i], line) == 0)
            return true;
    return false;
}

static struct vmodel *on(const char *host, uint64_t viridian)
{
    struct vconfig cfg = { .host = vprofile_find(host), .viridian = viridian };
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    return m;
}

Test(visible, boolean_viridian_from_4_3_to_4_4_grows_the_feature_set)
{
    struct vmodel *m = on("xen-4.3", 1);
    struct vvisible before, after;
    struct seen s = { 0 };
    vmodel_visible(m, &before);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.4"), -1, 0), VRES_OK);
    vmodel_visible(m, &after);
    unsigned changes = vvisible_diff(&before, &after, collect, &s);
    cr_assert(has(&s, VDIFF_NOTE, "Xen version 4.3 -> 4.4 (host xen-4.3 -> xen-4.4)"));
    cr_assert(has(&s, VDIFF_CHANGE, "CPUID 0x40000003 EAX changed 0x70 -> 0x870"));
    cr_assert(has(&s, VDIFF_CHANGE, "CPUID 0x40000006 EAX changed 0x0 -> 0xb"));
    cr_assert(has(&s, VDIFF_CHANGE, "HV_X64_MSR_TSC_FREQUENCY appeared"));
    cr_assert(has(&s, VDIFF_CHANGE, "HV_X64_MSR_APIC_FREQUENCY appeared"));
    cr_assert_eq(changes, 4);
    vmodel_destroy(m);
}

Test(visible, the_mask_keeps_the_set_across_a_4_5_migration)
{
    struct vmodel *m = on("xen-4.5", HVMPV_base_freq | HVMPV_no_freq);
    struct vvisible before, after;
    struct seen s = { 0 };
    vmodel_wrmsr(m, 0, HV_X64_MSR_GUEST_OS_ID, 0x1040601001db0ull);
    vmodel_advance(m, 1000);
    vmodel_visible(m, &before);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.5"), -1, 0), VRES_OK);
    vmodel_visible(m, &after);
    cr_assert_eq(vvisible_diff(&before, &after, collect, &s), 0);
    cr_assert_eq(s.n, 1);
    cr_assert(has(&s, VDIFF_NOTE, "Xen's TSC incarnation 0 -> 1 (CPUID 0x40000103.0 EDX)"));
    vmodel_destroy(m);
}

Test(visible, a_legacy_stream_onto_4_5_brings_the_freq_msrs)
{
    /* A 4.3 guest (base only) whose boolean stream lands on 4.5: 1 means base+freq. */
    struct vmodel *m = on("xen-4.3", 1);
    struct vvisible before, after;
    struct seen s = { 0 };
    vmodel_visible(m, &before);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.5"), 1, 0), VRES_OK);
    vmodel_visible(m, &after);
    vvisible_diff(&before, &after, collect, &s);
    cr_assert(has(&s, VDIFF_CHANGE, "HV_X64_MSR_TSC_FREQUENCY appeared"));
    vmodel_destroy(m);
}

Test(visible, a_rate_change_says_whether_the_guest_was_told)
{
    struct vmodel *m = on("xen-4.5", 1);
    struct vvisible a, b;
    struct seen s = { 0 };
    uint64_t v;
    vmodel_visible(m, &a);
    b = a;
    b.tsc_khz = 2400000;
    vvisible_diff(&a, &b, collect, &s);
    cr_assert(has(&s, VDIFF_CHANGE,
                  "TSC frequency changed 2000000 kHz -> 2400000 kHz (the guest never read "
                  "HV_X64_MSR_TSC_FREQUENCY)"));
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TSC_FREQUENCY, &v), 0);
    vmodel_visible(m, &a);
    b = a;
    b.tsc_khz = 2400000;
    s.n = 0;
    vvisible_diff(&a, &b, collect, &s);
    cr_assert(has(&s, VDIFF_CHANGE,
                  "TSC frequency changed 2000000 kHz -> 2400000 kHz while the guest was told it "
                  "by HV_X64_MSR_TSC_FREQUENCY"));
    vmodel_destroy(m);
}

Test(visible, time_going_back_is_a_change)
{
    struct vmodel *m = on("xen-4.5", 1);
    struct vvisible a, b;
    struct seen s = { 0 };
    vmodel_advance(m, 5000);
    vmodel_visible(m, &a);
    b = a;
    b.tsc = 10;
    cr_assert_eq(vvisible_diff(&a, &b, collect, &s), 1);
    cr_assert(has(&s, VDIFF_CHANGE, "time went back: TSC 0x1388 -> 0xa"));
    vmodel_destroy(m);
}

Test(visible, capturing_does_not_disturb_the_model)
{
    struct vmodel *m = on("xen-4.5", 1);
    uint64_t v;
    struct vvisible a;
    vmodel_wrmsr(m, 0, HV_X64_MSR_TPR, 0x20);
    vmodel_visible(m, &a);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TPR, &v), 0);
    cr_assert_eq(v, 0x20);
    cr_assert(a.msr_write[0], "IA32_TSC is writable");
    vmodel_destroy(m);
}

/* The counter freezes at the pause and thaws at the restore (time_ref_count_freeze /
 * _thaw, f6a07643e1): 45 minutes of downtime change nothing the guest reads of it. The
 * planted-fault build (tests/planted/test_trc_freeze.c) shows this check firing. */
Test(visible, downtime_does_not_move_the_reference_counter)
{
    struct vmodel *m = on("xen-4.22", HVMPV_base_freq | HVMPV_time_ref_count);
    struct vvisible before, after;
    struct seen s = { 0 };
    vmodel_advance(m, 2000000000ull);
    vmodel_pause(m);
    vmodel_visible(m, &before);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.22"), -1, 5400000000000ull), VRES_OK);
    vmodel_visible(m, &after);
    cr_assert_eq(vvisible_diff(&before, &after, collect, &s), 0, "%s", s.n ? s.lines[0] : "");
    cr_assert_eq(after.time_ref, before.time_ref);
    cr_assert_eq(after.tsc, before.tsc + 5400000000000ull, "the TSC ran on");
    vmodel_destroy(m);
}

/* Xen 4.4 shows Xen leaves up to base+2, 4.5 up to base+4 (XEN_CPUID_MAX_NUM_LEAVES):
 * the leaves that go are named, and the incarnation is not read from a leaf that is gone.
 * (Without viridian: a viridian 4.5 guest cannot go back to 4.4, whose strict load
 * refuses the longer VIRIDIAN_DOMAIN record.) */
Test(visible, xen_leaves_that_vanish_are_named_as_such)
{
    struct vmodel *m = on("xen-4.5", 0);
    struct vvisible before, after;
    struct seen s = { 0 };
    vmodel_visible(m, &before);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.4"), -1, 0), VRES_OK);
    vmodel_visible(m, &after);
    vvisible_diff(&before, &after, collect, &s);
    cr_assert(has(&s, VDIFF_NOTE, "Xen leaf 0x40000003 (time) disappeared (max Xen leaf "
                                  "0x40000004 -> 0x40000002)"));
    cr_assert(has(&s, VDIFF_NOTE, "Xen leaf 0x40000004 (HVM features) disappeared (max Xen "
                                  "leaf 0x40000004 -> 0x40000002)"));
    for (int i = 0; i < s.n; i++)
        cr_assert_null(strstr(s.lines[i], "incarnation"), "%s", s.lines[i]);
    s.n = 0;
    vvisible_diff(&after, &before, collect, &s);
    cr_assert(has(&s, VDIFF_NOTE, "Xen leaf 0x40000003 (time) appeared (max Xen leaf "
                                  "0x40000002 -> 0x40000004)"));
    vmodel_destroy(m);
}
