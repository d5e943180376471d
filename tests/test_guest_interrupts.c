/* The bundled guests that live on interrupts: smp-ipi (APs by INIT-SIPI-SIPI, IPIs by the
 * xAPIC ICR, HV_X64_MSR_ICR and both IPI hypercalls, remote TLB flushes by mask and VP
 * set) and synic-timer (a periodic synthetic timer's messages and SINT interrupts). The
 * expected lines are the guests' own checks, which encode the TLFS and Xen rules; these
 * tests check which of them each host passes, and that SMP runs are deterministic. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "support.h"

static struct run_result run(const char *guest, const char *const *extra)
{
    const char *args[24] = { "run", guest };
    size_t n = 2;
    for (; extra && *extra && n < 23; extra++)
        args[n++] = *extra;
    args[n] = NULL;
    return run_vsbox(args, NULL);
}

static void has(const struct run_result *r, const char *s)
{
    cr_expect(strstr(r->out, s), "missing \"%s\" in:\n%s%s", s, r->out, r->err);
}

Test(smp_ipi, four_vcpus_come_up_by_sipi_and_each_takes_every_kind_of_ipi)
{
    const char *extra[] = { "--vcpus", "4", "--viridian", "all", NULL };
    struct run_result r = run("smp-ipi", extra);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    has(&r, "4 vCPU(s) up");
    for (int v = 0; v < 4; v++) {
        char line[64];
        snprintf(line, sizeof line, "ok   v%d: HV_X64_MSR_VP_INDEX %d", v, v);
        has(&r, line);
    }
    /* Every AP once, the BSP never: "v0:0 v1:1 v2:1 v3:1" on each way of sending. */
    cr_expect_eq(count_lines_with(r.out, "v0:0 v1:1 v2:1 v3:1"), 5, "%s", r.out);
    has(&r, "ok   HvCallSendSyntheticClusterIpiEx: status 0x0");
    has(&r, "ok   after HvCallFlushVirtualAddressSpace every AP reads frame B");
    has(&r, "ok   after HvCallFlushVirtualAddressSpaceEx every AP reads frame A");
    cr_expect_eq(count_lines_with(r.out, "FAIL"), 0, "%s", r.out);
    run_result_free(&r);
}

Test(smp_ipi, ten_runs_record_the_same_trace_and_it_replays_on_the_model_alone)
{
    char path[1024];
    char *first = NULL;
    for (int i = 0; i < 10; i++) {
        snprintf(path, sizeof path, "%s/smp-%d.trace", test_tmpdir(), i);
        const char *extra[] = { "--vcpus", "4", "--viridian", "all", "--record", path, NULL };
        struct run_result r = run("smp-ipi", extra);
        cr_assert_eq(r.status, 0, "run %d: %s", i, r.err);
        run_result_free(&r);
        char *t = slurp_file(path, NULL);
        if (!first) {
            first = t;
            /* every AP's own events carry its prefix */
            cr_assert(strstr(first, "\nv3 rdmsr 0x40000002 -> 0x3"), "%s", first);
            cr_assert(strstr(first, "\nhypercall 0x20015 "), "%s", first);
        } else {
            cr_assert_str_eq(t, first, "run %d recorded a different trace", i);
            free(t);
        }
    }
    free(first);
    const char *args[] = { "replay", path, NULL };
    struct run_result rp = run_vsbox(args, NULL);
    cr_assert_eq(rp.status, 0, "%s", rp.err);
    cr_assert(strstr(rp.err, "0 divergences"), "%s", rp.err);
    run_result_free(&rp);
}

Test(smp_ipi, a_host_before_the_ipi_hypercalls_skips_them_and_still_passes)
{
    /* hcall_ipi and ex_processor_masks are 4.13 and 4.15 groups: 4.12's "all" lacks them,
     * so leaf 4 does not recommend them and the guest leaves them out. */
    const char *extra[] = { "--vcpus", "2", "--viridian", "all", "--host", "xen-4.12", NULL };
    struct run_result r = run("smp-ipi", extra);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    has(&r, "synthetic cluster IPI not recommended: skipped");
    has(&r, "ok   after HvCallFlushVirtualAddressSpace every AP reads frame B");
    run_result_free(&r);
}

Test(smp_ipi, saved_between_two_ipis_and_resumed_it_still_passes)
{
    char snap[1024];
    snprintf(snap, sizeof snap, "%s/smp.snap", test_tmpdir());
    /* event 12 is the first HV_X64_MSR_ICR write, with vCPU 1's EOI still to come */
    const char *extra[] = { "--vcpus", "4", "--viridian", "all", "--save-at", "12",
                            "--snapshot", snap, NULL };
    struct run_result r = run("smp-ipi", extra);
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *args[] = { "resume", snap, NULL };
    struct run_result rs = run_vsbox(args, NULL);
    cr_assert_eq(rs.status, 0, "%s%s", rs.out, rs.err);
    /* the resumed part: the MSR and both hypercalls, each AP once */
    cr_expect_eq(count_lines_with(rs.out, "v0:0 v1:1 v2:1 v3:1"), 3, "%s", rs.out);
    cr_expect(strstr(rs.out, "ok   HV_X64_MSR_ICR reached every AP"), "%s", rs.out);
    cr_expect_eq(count_lines_with(rs.out, "FAIL"), 0, "%s", rs.out);
    run_result_free(&r);
    run_result_free(&rs);
}

Test(synic_timer, a_periodic_timer_ticks_once_a_period_with_a_message_each)
{
    const char *extra[] = { "--viridian", "all", NULL };
    struct run_result r = run("synic-timer", extra);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    has(&r, "5 interrupts, 5 messages");
    has(&r, "ok   HV_X64_MSR_SVERSION reads 1");
    for (int i = 1; i < 5; i++) {
        char line[80];
        snprintf(line, sizeof line, "ok   tick %d expires one period after tick %d", i, i - 1);
        has(&r, line);
    }
    cr_expect_eq(count_lines_with(r.out, "FAIL"), 0, "%s", r.out);
    run_result_free(&r);
}

Test(synic_timer, xen_4_13_writes_its_own_message_header)
{
    /* 4.13's HV_MESSAGE_HEADER put flags and payload size at bytes 6 and 7; 4.14 took
     * the TLFS layout (bytes 5 and 4). */
    const char *extra[] = { "--viridian", "all", "--host", "xen-4.13", NULL };
    struct run_result r = run("synic-timer", extra);
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    has(&r, "FAIL message headers as the TLFS lays them out (5 had Xen 4.13's");
    has(&r, "5 interrupts, 5 messages");
    run_result_free(&r);
}

Test(synic_timer, no_synic_before_4_13_is_a_skip)
{
    const char *extra[] = { "--viridian", "all", "--host", "xen-4.12", NULL };
    struct run_result r = run("synic-timer", extra);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    has(&r, "Test result: SKIP");
    run_result_free(&r);
}

Test(synic_timer, a_restore_with_a_message_in_flight_loses_it_as_xen_does)
{
    /* Event 15 is the first tick's poll: its message is in the page and its interrupt
     * pending when the snapshot is taken. Xen's restore maps the SIM page again and clears
     * it (viridian_map_guest_page), so the interrupt finds the slot empty. */
    char snap[1024];
    snprintf(snap, sizeof snap, "%s/t.snap", test_tmpdir());
    const char *extra[] = { "--viridian", "all", "--save-at", "15", "--snapshot", snap, NULL };
    struct run_result r = run("synic-timer", extra);
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *args[] = { "resume", snap, NULL };
    struct run_result rs = run_vsbox(args, NULL);
    cr_assert_eq(rs.status, 0, "%s%s", rs.out, rs.err);
    cr_expect(strstr(rs.out, "6 interrupts, 5 messages"), "%s", rs.out);
    cr_expect(strstr(rs.out, "1 interrupt(s) found the slot empty"), "%s", rs.out);
    cr_expect(strstr(rs.out, "tick 0: expiration 20"), "the first tick's message is gone:\n%s",
              rs.out);
    run_result_free(&r);
    run_result_free(&rs);
}
