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

Test(vcpus, absurd_vcpu_counts_and_smp_snapshots_are_refused_in_one_line)
{
    const char *bad[] = { "0", "65", "three", "-1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct run_result r = smp(bad[i], NULL);
        cr_assert_eq(r.status, 2, "--vcpus %s: %s", bad[i], r.err);
        cr_assert(strstr(r.err, "--vcpus") && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                  "%s", r.err);
        run_result_free(&r);
    }
    char snap[1024];
    snprintf(snap, sizeof snap, "%s/smp.snap", test_tmpdir());
    const char *extra[] = { "--vcpus", "2", "--save-at", "1", "--snapshot", snap, NULL };
    struct run_result r = run_image("smp_vcpus.bin", extra);
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "vCPU"), "%s", r.err);
    cr_assert_null(fopen(snap, "r"), "no partial snapshot");
    run_result_free(&r);
}
