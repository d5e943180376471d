/* vsbox fuzz as a user drives it: it says it started and how it goes, refuses what
 * cannot work before it runs, stops on Ctrl-C with a summary, and splits the work over
 * --jobs without changing what a seed means. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "fuzz/campaign.h"
#include "tests/support.h"

Test(fuzz_cli, a_start_line_and_progress_on_a_terminal, .timeout = 60)
{
    const char *a[] = { "fuzz", "--seconds", "2", NULL };
    struct run_opts o = { .stderr_tty = true };
    struct run_result r = run_vsbox_ex(a, &o);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.err, "vsbox fuzz: model engine, seed 1"), "no start line:\n%s", r.err);
    cr_assert(strstr(r.err, "runs ("), "no progress:\n%s", r.err);
    run_result_free(&r);

    /* Not a terminal: the start line alone, no carriage-return progress. */
    const char *b[] = { "fuzz", "--runs", "100", NULL };
    r = run_vsbox(b, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.err, "vsbox fuzz: model engine, seed 1"), "%s", r.err);
    cr_assert_null(strchr(r.err, '\r'), "%s", r.err);
    run_result_free(&r);
}

Test(fuzz_cli, what_cannot_work_is_refused_up_front)
{
    const char *a1[] = { "fuzz", "--seconds", "600", "--out", "/nonexistent/dir", NULL };
    const char *a2[] = { "fuzz", "--host", "xen-4.5", "--viridian", "base", "--all-specs", NULL };
    const char *a3[] = { "fuzz", "--all-specs", "--host", "xen-4.5", "--viridian", "base", NULL };
    const char *a4[] = { "fuzz", "--jobs", "0", NULL };
    const char *const *cases[] = { a1, a2, a3, a4 };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run_result r = run_vsbox(cases[i], NULL);
        cr_expect_eq(r.status, 2, "case %zu: %s", i, r.err);
        cr_expect_eq(count_lines_with(r.err, "vsbox:"), 1, "case %zu: %s", i, r.err);
        run_result_free(&r);
    }
}

Test(fuzz_cli, ctrl_c_prints_what_was_done, .timeout = 60)
{
    const char *a[] = { "fuzz", "--seconds", "30", NULL };
    struct run_opts o = { .interrupt_ms = 800 };
    struct run_result r = run_vsbox_ex(a, &o);
    cr_assert_eq(r.status, 130, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_assert(strstr(r.out, "vsbox fuzz: interrupted: model engine, "), "%s", r.out);
    cr_assert(strstr(r.out, " 0 findings"), "%s", r.out);
    run_result_free(&r);
}

Test(fuzz_cli, jobs_report_their_scaling)
{
    const char *a[] = { "fuzz", "--runs", "20000", "--jobs", "2", NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "20000 runs"), "%s", r.out);
    cr_assert(strstr(r.out, ", 2 jobs (") && strstr(r.out, " cores busy)"), "%s", r.out);
    run_result_free(&r);
}

/* The same seed means the same sequences whatever the number of jobs: every run is
 * generated from (seed, run number) alone. */
Test(fuzz_jobs, the_split_changes_nothing_but_the_speed)
{
    struct fuzz_campaign one = { .seed = 5, .max_runs = 6000, .viridian = -1, .jobs = 1 };
    struct fuzz_campaign two = { .seed = 5, .max_runs = 6000, .viridian = -1, .jobs = 2 };
    struct fuzz_campaign three = { .seed = 5, .max_runs = 6000, .viridian = -1, .jobs = 3 };
    cr_assert(fuzz_campaign_run(&one));
    cr_assert(fuzz_campaign_run(&two));
    cr_assert(fuzz_campaign_run(&three));
    cr_assert_not(one.found);
    cr_assert_eq(one.runs, 6000);
    cr_assert_eq(two.runs, 6000);
    cr_assert_eq(three.runs, 6000);
    cr_assert_eq(two.events, one.events);
    cr_assert_eq(three.events, one.events);
    cr_assert_eq(two.states, one.states);
    cr_assert_eq(three.states, one.states);
}

Test(fuzz_jobs, a_run_is_generated_from_the_seed_and_its_number_alone)
{
    struct fuzz_case a, b;
    struct fuzz_rng r1 = fuzz_run_rng(11, 12345), r2 = fuzz_run_rng(11, 12345);
    fuzz_generate(&r1, vprofile_default(), -1, &a);
    fuzz_generate(&r2, vprofile_default(), -1, &b);
    cr_assert_eq(a.n, b.n);
    cr_assert_eq(memcmp(a.ev, b.ev, a.n * sizeof a.ev[0]), 0);
    struct fuzz_rng r3 = fuzz_run_rng(11, 12346);
    fuzz_generate(&r3, vprofile_default(), -1, &b);
    cr_assert(a.n != b.n || memcmp(a.ev, b.ev, a.n * sizeof a.ev[0]) != 0);
}
