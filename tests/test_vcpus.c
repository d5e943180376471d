/* Several vCPUs on one engine (emu/vcpu.c): started by Xen's VCPUOP_initialise and
 * VCPUOP_up, scheduled by instruction slices, each with its own APIC and APIC ID, IPIs
 * routed by destination; and the schedule as deterministic as one vCPU's. */
#include <criterion/criterion.h>
#include <string.h>
#include "tests/emu_util.h"

static struct run_result smp(const char *vcpus, const char *record)
{
    const char *extra[] = { "--vcpus", vcpus, record ? "--record" : NULL, record, NULL };
    return run_image("smp_vcpus.bin", extra);
}

Test(vcpus, aps_start_by_vcpuop_and_each_takes_only_the_ipis_sent_to_it)
{
    struct run_result r = smp("3", NULL);
    cr_assert_eq(r.status, 0, "step %d failed\n%s", r.status, r.err);
    cr_assert_str_eq(r.out, "U12");
    run_result_free(&r);
}

/* A STARTUP IPI from an ICR write in the middle of a block whose chain QEMU entered at
 * an indirect jump: the BSP goes on after the write, and the AP runs (exit 1 before
 * vcpu.c stopped writing the new vCPU's RIP through Unicorn: the BSP went back to the
 * indirect jump and counted twice). */
Test(vcpus, a_startup_ipi_in_the_middle_of_a_block_runs_nothing_twice)
{
    const char *extra[] = { "--vcpus", "2", NULL };
    struct run_result r = run_image("sipi_midblock.bin", extra);
    cr_assert_eq(r.status, 0, "step %d failed\n%s", r.status, r.err);
    run_result_free(&r);
}

Test(vcpus, vcpuop_for_a_vcpu_the_domain_lacks_is_enoent)
{
    /* One vCPU: VCPUOP_initialise(1) fails, and the guest exits with step 1. */
    struct run_result r = smp("1", NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    run_result_free(&r);
}

Test(vcpus, an_smp_run_records_the_same_trace_twice_and_replays_it)
{
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/smp-a.trace", test_tmpdir());
    snprintf(b, sizeof b, "%s/smp-b.trace", test_tmpdir());
    struct run_result r1 = smp("3", a), r2 = smp("3", b);
    cr_assert_eq(r1.status, 0, "%s", r1.err);
    cr_assert_eq(r2.status, 0, "%s", r2.err);
    char *ta = slurp_file(a, NULL), *tb = slurp_file(b, NULL);
    cr_assert_not_null(ta);
    cr_assert_str_eq(ta, tb);
    cr_assert(strstr(ta, "vcpus=3"), "%s", ta);
    cr_assert(strstr(ta, "\nv1 rdtsc -> "), "%s", ta);
    cr_assert(strstr(ta, "\nv2 rdtsc -> "), "%s", ta);
    const char *args[] = { "replay", a, NULL };
    struct run_result rp = run_vsbox(args, NULL);
    cr_assert_eq(rp.status, 0, "%s", rp.err);
    cr_assert(strstr(rp.err, "0 divergences"), "%s", rp.err);
    free(ta);
    free(tb);
    run_result_free(&r1);
    run_result_free(&r2);
    run_result_free(&rp);
}

Test(vcpus, absurd_vcpu_counts_are_refused_in_one_line)
{
    const char *bad[] = { "0", "65", "three", "-1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct run_result r = smp(bad[i], NULL);
        cr_assert_eq(r.status, 2, "--vcpus %s: %s", bad[i], r.err);
        cr_assert(strstr(r.err, "--vcpus") && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                  "%s", r.err);
        run_result_free(&r);
    }
}

/* Saved at each of its events (each AP's RDTSC) and resumed: every vCPU's registers,
 * APIC, state and the schedule come back, so the IPIs after the save still reach the
 * right vCPUs and the two halves of the trace are the whole run's. */
static void save_resume(const char *image, const char *vcpus, int events, const char *console)
{
    char full[1024], p1[1024], p2[1024], snap[1024];
    snprintf(full, sizeof full, "%s/full.trace", test_tmpdir());
    snprintf(p1, sizeof p1, "%s/p1.trace", test_tmpdir());
    snprintf(p2, sizeof p2, "%s/p2.trace", test_tmpdir());
    snprintf(snap, sizeof snap, "%s/s.snap", test_tmpdir());
    const char *whole[] = { "--vcpus", vcpus, "--record", full, NULL };
    struct run_result w = run_image(image, whole);
    cr_assert_eq(w.status, 0, "%s", w.err);
    cr_assert_str_eq(w.out, console);
    for (int n = 1; n <= events; n++) {
        char at[16];
        snprintf(at, sizeof at, "%d", n);
        const char *a[] = { "--vcpus", vcpus, "--save-at", at, "--snapshot", snap, "--record", p1,
                            NULL };
        struct run_result r1 = run_image(image, a);
        cr_assert_eq(r1.status, 0, "save at %d: %s", n, r1.err);
        const char *b[] = { "resume", snap, "--record", p2, NULL };
        struct run_result r2 = run_vsbox(b, NULL);
        cr_assert_eq(r2.status, 0, "resume at %d: %s", n, r2.err);
        char both[256];
        snprintf(both, sizeof both, "%s%s", r1.out, r2.out);
        cr_assert_str_eq(both, console, "console after a save at event %d", n);
        char *t1 = slurp_file(p1, NULL), *t2 = slurp_file(p2, NULL), *tw = slurp_file(full, NULL);
        /* Every event line of the whole run, in order, in the two halves. */
        for (const char *line = tw; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
            if (strncmp(line, "v1 ", 3) && strncmp(line, "v2 ", 3) && strncmp(line, "rdtsc", 5))
                continue;
            size_t len = strcspn(line, "\n");
            char ev[160];
            snprintf(ev, sizeof ev, "%.*s", (int)(len < 159 ? len : 159), line);
            cr_assert(strstr(t1, ev) || strstr(t2, ev), "save at %d lost: %s", n, ev);
        }
        free(t1), free(t2), free(tw);
        run_result_free(&r1);
        run_result_free(&r2);
    }
    run_result_free(&w);
}

Test(vcpus, an_smp_guest_saved_at_each_event_resumes_to_the_same_end)
{
    save_resume("smp_vcpus.bin", "3", 2, "U12");
}

Test(vcpus, a_running_apic_timer_survives_a_save)
{
    save_resume("apic_timer.bin", "1", 1, "TaIbc");
}
