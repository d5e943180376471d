/* vsbox replay FILE --image IMAGE: the recorded guest runs again and must make the
 * recorded events with the recorded answers (the determinism check for recorded runs).
 * A record of a bundled guest passes; every kind of tampering fails at the right line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/support.h"

/* Record a bundled guest; the record's text. */
static char *record(const char *guest, const char *path, const char *host, const char *flag,
                    const char *spec)
{
    const char *args[] = { "run", guest, "--host", host, flag, spec, "--record", path, NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert(r.status == 0 || r.status == 1, "%s", r.err);
    run_result_free(&r);
    return slurp_file(path, NULL);
}

static struct run_result rerun(const char *path, const char *image)
{
    const char *args[] = { "replay", path, "--image", image, NULL };
    return run_vsbox(args, NULL);
}

/* Write text (len bytes) as path, re-run image against it: exit 1 and `want` in the
 * report. */
static void expect_fails(const char *path, const char *text, size_t len, const char *image,
                         const char *want)
{
    write_file(path, text, len);
    struct run_result r = rerun(path, image);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, want), "want '%s' in '%s'", want, r.out);
    run_result_free(&r);
}

/* The trace's event lines (after the header), as the record counts them. */
static int events_in(const char *text)
{
    int n = 0;
    const char *p = strstr(text, "\nconfig ");
    cr_assert_not_null(p);
    for (p = strchr(p + 1, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
        if (p[1] != '#' && p[1] != '\n')
            n++;
    return n;
}

Test(replay_exec, a_recorded_run_re_runs_as_recorded_on_xen_and_kvm)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/hypercall.trace", test_tmpdir());
    char *text = record("hypercall", path, "xen-4.22", "--viridian", "defaults");
    struct run_result r = rerun(path, "hypercall");
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    char want[64];
    snprintf(want, sizeof want, ": %d events, every one as recorded\n", events_in(text));
    cr_expect(strstr(r.err, want), "want '%s' in '%s'", want, r.err);
    cr_expect_str_empty(r.out);
    run_result_free(&r);
    free(text);

    snprintf(path, sizeof path, "%s/windows-boot-kvm.trace", test_tmpdir());
    text = record("windows-boot", path, "kvm", "--hv", "hv-relaxed,hv-vapic,hv-time,hv-vpindex");
    r = rerun(path, "windows-boot");
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    run_result_free(&r);
    free(text);
}

/* One answer changed (the maximum viridian leaf Xen 4.22 gives, 0x40000006, made
 * 0x40000005): the guest's own answer differs at that line and the run stops there. */
Test(replay_exec, a_tampered_answer_fails_at_its_line)
{
    char path[1024], bad[1024];
    snprintf(path, sizeof path, "%s/h.trace", test_tmpdir());
    snprintf(bad, sizeof bad, "%s/tampered.trace", test_tmpdir());
    char *text = record("hypercall", path, "xen-4.22", "--viridian", "defaults");
    char *at = strstr(text, "cpuid 0x40000000 0x0 -> 0x40000006 ");
    cr_assert_not_null(at, "%s", text);
    at[strlen("cpuid 0x40000000 0x0 -> 0x4000000")] = '5';
    unsigned line = 1;
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    write_file(bad, text, strlen(text));
    struct run_result r = rerun(bad, "hypercall");
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    char want[1200];
    snprintf(want, sizeof want, "%s:%u: the guest made 'cpuid 0x40000000 0x0 -> 0x40000006 ",
             bad, line);
    cr_expect(strncmp(r.out, want, strlen(want)) == 0, "want '%s' in '%s'", want, r.out);
    cr_expect(strstr(r.out, "the trace has 'cpuid 0x40000000 0x0 -> 0x40000005 "), "%s", r.out);
    run_result_free(&r);
    free(text);
}

Test(replay_exec, a_missing_or_extra_event_or_another_image_fails)
{
    char path[1024], bad[1024];
    snprintf(path, sizeof path, "%s/h2.trace", test_tmpdir());
    snprintf(bad, sizeof bad, "%s/cut.trace", test_tmpdir());
    char *text = record("hypercall", path, "xen-4.22", "--viridian", "defaults");
    /* Cut after the fourth line (magic, config, advance, cpuid): the guest goes on. */
    const char *p = text;
    for (int i = 0; i < 4; i++)
        p = strchr(p, '\n') + 1;
    expect_fails(bad, text, (size_t)(p - text), "hypercall",
                 "the guest went on past the trace's last event: ");
    /* One event more than the guest makes. */
    size_t n = strlen(text);
    char *more = malloc(n + 64);
    memcpy(more, text, n);
    strcpy(more + n, "rdmsr 0x40000000 -> 0x0\n");
    expect_fails(bad, more, strlen(more), "hypercall",
                 "the trace goes on with 'rdmsr 0x40000000 -> 0x0'");
    free(more);
    /* Another guest under the same header: its first event already differs (line 3). */
    struct run_result r = rerun(path, "ref-time");
    cr_expect_eq(r.status, 1);
    char want[1100];
    snprintf(want, sizeof want, "%s:3: the guest made ", path);
    cr_expect(strncmp(r.out, want, strlen(want)) == 0, "%s", r.out);
    run_result_free(&r);
    free(text);
}

Test(replay_exec, bad_input_is_one_line_and_exit_2)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/garbage.trace", test_tmpdir());
    const char garbage[] = "vsbox-trace 1\nconfig vcpus=1\nnot an event\n";
    write_file(path, garbage, strlen(garbage));
    struct run_result r = rerun(path, "hypercall");
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines_with(r.err, "vsbox"), 1, "%s", r.err);
    cr_expect(strstr(r.err, "garbage.trace:3:1: "), "%s", r.err);
    cr_expect_str_empty(r.out);
    run_result_free(&r);
    const char ok[] = "vsbox-trace 1\nconfig vcpus=1\n";
    write_file(path, ok, strlen(ok));
    r = rerun(path, "no-such-guest");
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines_with(r.err, "vsbox"), 1, "%s", r.err);
    run_result_free(&r);
    const char *both[] = { "replay", path, "--image", "hypercall", "--suggest", NULL };
    r = run_vsbox(both, NULL);
    cr_expect_eq(r.status, 2);
    run_result_free(&r);
}
