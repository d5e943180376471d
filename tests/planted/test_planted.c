/* Built once per planted fault (-DVSBOX_FAULT=N, see viridian/planted.h) with the
 * model compiled in: the fuzzer must find the broken rule, with the right oracle,
 * minimise it, and write a reproducer that the correct vsbox replays clean while
 * this faulty model diverges on it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "fuzz/campaign.h"
#include "tests/support.h"
#include "traces/replay.h"
#include "viridian/planted.h"
#include "viridian/spec.h"

static bool expected_oracle(enum fuzz_oracle o)
{
    switch (VSBOX_FAULT) {
    case FAULT_FREQ_UNGATED:
        return o == ORACLE_MSR_VS_CPUID;
    case FAULT_NO_EEXIST:
    case FAULT_GUEST_MAY_WRITE:
        return o == ORACLE_PARAM;
    case FAULT_CLOCK_RESET:
        return o == ORACLE_CLOCK || o == ORACLE_SAVE_RESTORE;
    case FAULT_LOSE_OS_ID:
        return o == ORACLE_SAVE_RESTORE;
    case FAULT_ADVERTISE_TRC:
        return o == ORACLE_HOST_GROUPS || o == ORACLE_MSR_VS_CPUID;
    case FAULT_TRC_RUNS_PAUSED:
        return o == ORACLE_SAVE_RESTORE;
    }
    return false;
}

static struct fuzz_campaign hunt(uint64_t seed, unsigned jobs)
{
    struct fuzz_campaign c = { .seed = seed, .max_runs = 200000, .viridian = -1, .jobs = jobs };
    cr_assert(fuzz_campaign_run(&c));
    cr_assert(c.found, "fault %d not found in %llu runs", VSBOX_FAULT,
              (unsigned long long)c.runs);
    return c;
}

/* Replays a trace on this (faulty) model; returns the number of divergences. */
static int replay_here(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    struct trace_reader *r = trace_reader_new(f);
    struct trace_item it;
    struct trace_error err;
    struct vmodel *m = NULL;
    int diverged = 0;
    while (trace_reader_next(r, &it, &err) == TRACE_OK) {
        if (it.kind != TRACE_EVENT)
            continue;
        if (!m) {
            const struct trace_config *cfg = trace_reader_config(r);
            struct vconfig vc = { .host = cfg->host, .tsc_khz = cfg->tsc_khz, .vcpus = cfg->vcpus };
            struct vspec_error serr;
            cr_assert_eq(vspec_parse(cfg->host, cfg->viridian, &vc.viridian, &serr), VERR_OK);
            cr_assert_eq(vmodel_create(&vc, &m), VERR_OK);
        }
        struct vres got;
        enum replay_rc rc = replay_step(m, &it, &got, &err);
        cr_assert_neq(rc, REPLAY_INVALID, "%s", err.msg);
        diverged += rc == REPLAY_DIVERGED;
    }
    vmodel_destroy(m);
    trace_reader_free(r);
    fclose(f);
    return diverged;
}

Test(planted, the_fuzzer_finds_and_minimises_the_fault)
{
    struct fuzz_campaign c = hunt(1, 1);
    cr_assert(expected_oracle(c.verdict.oracle), "fault %d caught by oracle %s: %s", VSBOX_FAULT,
              fuzz_oracle_name(c.verdict.oracle), c.verdict.what);
    cr_assert_leq(c.finding.n, 8, "minimised to %zu events", c.finding.n);
    cr_assert_leq(c.found_run, 2000, "found only on run %llu", (unsigned long long)c.found_run);

    char path[1024];
    snprintf(path, sizeof path, "%s/repro.trace", test_tmpdir());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fuzz_write_reproducer(f, &c.finding, &c.verdict), 0);
    cr_assert_eq(fclose(f), 0);

    /* The reproducer states the right behaviour: the correct model agrees... */
    const char *args[] = { "replay", path, NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "correct model diverges on the reproducer:\n%s%s", r.out, r.err);
    run_result_free(&r);
    /* ...and this faulty one does not, when the oracle could name the right result. */
    if (c.verdict.has_expect && (c.verdict.has_probe || !vres_equal(&c.verdict.expect,
                                                                    &c.verdict.got)))
        cr_assert_gt(replay_here(path), 0, "the faulty model replays its reproducer clean");
}

Test(planted, the_same_seed_finds_the_same_case)
{
    struct fuzz_campaign a = hunt(7, 1), b = hunt(7, 1);
    cr_assert_eq(a.found_run, b.found_run);
    cr_assert_eq(a.finding.n, b.finding.n);
    cr_assert_eq(memcmp(a.finding.ev, b.finding.ev, a.finding.n * sizeof a.finding.ev[0]), 0);
}

/* Jobs share the runs out, never the meaning of a seed: two or three jobs report the
 * finding one job meets first, so --seed alone reproduces it. */
Test(planted, more_jobs_find_the_same_case)
{
    struct fuzz_campaign one = hunt(3, 1);
    for (unsigned jobs = 2; jobs <= 3; jobs++) {
        struct fuzz_campaign more = hunt(3, jobs);
        cr_assert_eq(more.found_run, one.found_run, "%u jobs", jobs);
        cr_assert_eq(more.verdict.oracle, one.verdict.oracle);
        cr_assert_eq(more.finding.n, one.finding.n);
        cr_assert_eq(memcmp(more.finding.ev, one.finding.ev, one.finding.n * sizeof one.finding.ev[0]),
                     0, "%u jobs", jobs);
    }
}
