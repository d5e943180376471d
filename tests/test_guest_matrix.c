/* Every bundled guest under every relevant --viridian spec: its exit status and its
 * console transcript, against golden transcripts in tests/golden/guests/ that were read
 * and checked by hand against the Xen source at the host's release tag (see
 * docs/guests.md). A mismatch prints the unified diff. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/support.h"

/* Arrays, not pointers: Criterion copies parameters into a re-executed process, where
 * a pointer into this binary's data would point elsewhere. */
struct cell {
    char guest[24];
    char spec[16];         /* --viridian */
    char tag[24];          /* golden file: GUEST.TAG.txt */
    char host[12];         /* --host; empty: the default (the newest release) */
    int exit;              /* expected vsbox exit status */
};

#define ROW(g)                                                                          \
    { g, "0", "off", "", 0 }, { g, "base", "base", "", 0 },                             \
    { g, "base,freq", "base-freq", "", 0 }, { g, "all", "all", "", 0 }

static const struct cell cells[] = {
    ROW("probe"),          ROW("linux-detect"), ROW("windows-boot"), ROW("msr-matrix"),
    ROW("freq-calibrate"), ROW("hypercall"),    ROW("param-lock"),   ROW("migration"),
    ROW("ref-time"),
    /* crash: skipped without the crash_ctl group (no CPUID 0x40000003 EDX bit 10); with it
     * the guest passes, but 4.12+ set the crash shutdown code: vsbox exits 1. 4.9-4.11
     * only log the CrashNotify. */
    { "crash", "0", "off", "", 0 }, { "crash", "base", "base", "", 0 },
    { "crash", "base,freq", "base-freq", "", 0 }, { "crash", "all", "all", "", 1 },
    { "crash", "defaults", "xen-4.11.defaults", "xen-4.11", 0 },
    { "crash", "defaults", "xen-4.12.defaults", "xen-4.12", 1 },
    /* ref-time where the page has no offset yet, and where the counter first came. */
    { "ref-time", "all", "xen-4.12.all", "xen-4.12", 0 },
    { "ref-time", "1", "xen-4.5", "xen-4.5", 0 },
    /* The boolean before the seed: what viridian=1 meant on each release. */
    { "probe", "1", "xen-4.3", "xen-4.3", 0 }, { "probe", "1", "xen-4.4", "xen-4.4", 0 },
    { "msr-matrix", "1", "xen-4.3", "xen-4.3", 0 }, { "msr-matrix", "1", "xen-4.4", "xen-4.4", 0 },
    /* Every group as it arrived: `all` on the releases that added some. */
    { "probe", "all", "xen-4.5.all", "xen-4.5", 0 },   { "probe", "all", "xen-4.6.all", "xen-4.6", 0 },
    { "probe", "all", "xen-4.7.all", "xen-4.7", 0 },   { "probe", "all", "xen-4.9.all", "xen-4.9", 0 },
    { "probe", "all", "xen-4.13.all", "xen-4.13", 0 }, { "probe", "all", "xen-4.15.all", "xen-4.15", 0 },
    { "msr-matrix", "all", "xen-4.5.all", "xen-4.5", 0 },
    { "msr-matrix", "all", "xen-4.9.all", "xen-4.9", 0 },
    { "msr-matrix", "all", "xen-4.13.all", "xen-4.13", 0 },
    { "msr-matrix", "defaults", "xen-4.10.defaults", "xen-4.10", 0 },
    { "msr-matrix", "defaults", "xen-4.11.defaults", "xen-4.11", 0 },
};

ParameterizedTestParameters(guests, matrix)
{
    return cr_make_param_array(struct cell, (void *)cells, sizeof cells / sizeof cells[0]);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void show_diff(const char *golden, const char *actual_text)
{
    char actual[1024], cmd[2600];
    snprintf(actual, sizeof actual, "%s/actual.txt", test_tmpdir());
    write_file(actual, actual_text, strlen(actual_text));
    snprintf(cmd, sizeof cmd, "diff -u '%s' '%s' >&2", golden, actual);
    if (system(cmd) == -1)
        fprintf(stderr, "(could not run diff)\n");
}

ParameterizedTest(const struct cell *c, guests, matrix, .timeout = 60)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/golden/guests/%s.%s.txt", c->guest, c->tag);
    char *golden_path = strdup(src_path(rel));
    char *golden = slurp(golden_path);
    cr_assert(golden, "missing golden transcript %s", golden_path);

    const char *args[] = { "run", c->guest, "--viridian", c->spec, c->host[0] ? "--host" : NULL,
                           c->host, NULL };
    struct run_result r = run_vsbox(args, NULL);
    if (strcmp(r.out, golden) != 0) {
        fprintf(stderr, "vsbox run %s --viridian %s: transcript differs from %s\n", c->guest,
                c->spec, rel);
        show_diff(golden_path, r.out);
    }
    cr_expect_str_eq(r.out, golden, "%s --viridian %s: console transcript", c->guest, c->spec);
    cr_expect_eq(r.status, c->exit, "%s --viridian %s: exit %d, expected %d (stderr: %s)",
                 c->guest, c->spec, r.status, c->exit, r.err);
    run_result_free(&r);
    free(golden);
    free(golden_path);
}

/* The crash guest's CrashNotify: vsbox names the parameters and Xen's log line, and
 * exits 1 where the release sets the crash shutdown code (viridian.c, RELEASE-4.12.0:
 * "d->shutdown_code = SHUTDOWN_crash"; 4.20 logs "VIRIDIAN GUEST_CRASH" with %#lx). */
Test(guests, crash_reports_the_bugcheck_and_exits_1_from_4_12)
{
    static const struct { const char *host; int exit; const char *log; } runs[] = {
        { "xen-4.11", 0, "xen-4.11 logs \"VIRIDIAN CRASH: d1 fffff80012345000 2 0 "
                         "fffff80001234567\" and nothing else" },
        { "xen-4.12", 1, "xen-4.12 logs \"VIRIDIAN CRASH: d1 fffff80012345000 2 0 "
                         "fffff80001234567\" and sets the domain's shutdown code to crash" },
        { "xen-4.22", 1, "xen-4.22 logs \"VIRIDIAN GUEST_CRASH: 0xd1 0xfffff80012345000 0x2 0 "
                         "0xfffff80001234567\" and sets the domain's shutdown code to crash" },
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        const char *a[] = { "run", "crash", "--host", runs[i].host, "--viridian", "defaults",
                            NULL };
        struct run_result r = run_vsbox(a, NULL);
        cr_expect_eq(r.status, runs[i].exit, "%s: %s", runs[i].host, r.err);
        cr_expect(strstr(r.err, "the guest reported a crash on vCPU 0 (HV_X64_MSR_CRASH_CTL "
                                "CrashNotify): P0 0xd1 P1 0xfffff80012345000 P2 0x2 P3 0x0 "
                                "P4 0xfffff80001234567"), "%s: %s", runs[i].host, r.err);
        cr_expect(strstr(r.err, runs[i].log), "%s: %s", runs[i].host, r.err);
        run_result_free(&r);
    }
}
