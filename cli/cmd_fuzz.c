/* vsbox fuzz: seeded event sequences against the model, oracles after every step. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "fuzz/campaign.h"
#include "fuzz/emu_engine.h"
#include "viridian/spec.h"

static const char usage[] =
    "usage: vsbox fuzz [--seed N] [--runs N | --seconds S] [--host PROFILE]\n"
    "                  [--viridian SPEC | --all-specs] [--engine model|emu] [--out DIR]\n"
    "Generate event sequences (CPUID, RDMSR/WRMSR over the viridian range and its\n"
    "neighbours, hypercalls, RDTSC, advances, param-sets, migrations) from a seeded\n"
    "generator and check the oracles after every event. The sequences depend only on\n"
    "--seed; --seconds only decides when to stop. A violation is minimised and written\n"
    "to DIR (default .) as a trace v1 reproducer for vsbox replay, and exits 1.\n"
    "Default: --runs 10000, every host profile in turn, every valid viridian value.\n";

static void progress(void *ctx, const struct fuzz_campaign *c)
{
    (void)ctx;
    fprintf(stderr, "\rvsbox fuzz: %llu runs (%.0f/s), %llu events, %llu states, 0 findings",
            (unsigned long long)c->runs, c->runs / (c->elapsed > 0 ? c->elapsed : 1),
            (unsigned long long)c->events, (unsigned long long)c->states);
    fflush(stderr);
}

static int report_finding(const struct fuzz_campaign *c, const char *out)
{
    char path[4096];
    if (mkdir(out, 0777) != 0 && errno != EEXIST)
        return fail("fuzz: %s: cannot create: %s", out, strerror(errno));
    snprintf(path, sizeof path, "%s/vsbox-fuzz-%llu-%llu.trace", out,
             (unsigned long long)c->seed, (unsigned long long)c->found_run);
    if (fuzz_write_reproducer(path, &c->finding, &c->verdict) != 0)
        return fail("fuzz: %s: cannot write: %s", path, strerror(errno));
    printf("vsbox fuzz: oracle %s fired on run %llu: %s\n", fuzz_oracle_name(c->verdict.oracle),
           (unsigned long long)c->found_run, c->verdict.what);
    printf("vsbox fuzz: reproducer (%zu events): %s\n", c->verdict.index + 1, path);
    return EXIT_DIVERGED;
}

int cmd_fuzz(int argc, char **argv)
{
    struct fuzz_campaign c = { .seed = 1, .viridian = -1 };
    const char *out = ".", *engine = "model", *spec = NULL, *host = NULL;
    const char *runs = NULL, *seconds = NULL, *seed = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--seed") == 0      ? &seed
                          : strcmp(a, "--runs") == 0      ? &runs
                          : strcmp(a, "--seconds") == 0   ? &seconds
                          : strcmp(a, "--host") == 0      ? &host
                          : strcmp(a, "--viridian") == 0  ? &spec
                          : strcmp(a, "--engine") == 0    ? &engine
                          : strcmp(a, "--out") == 0       ? &out
                                                          : NULL;
        if (slot) {
            if (i + 1 >= argc)
                return fail("fuzz: %s needs a value", a);
            *slot = argv[++i];
        } else if (strcmp(a, "--all-specs") == 0) {
            spec = NULL;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return EXIT_OK;
        } else {
            return fail("fuzz: unexpected argument '%s' (see vsbox fuzz --help)", a);
        }
    }
    if (seed && !parse_u64(seed, 0, UINT64_MAX, &c.seed))
        return fail("--seed: '%s' is not a 64-bit number", seed);
    if (runs && !parse_u64(runs, 1, UINT64_MAX, &c.max_runs))
        return fail("--runs: '%s' is not a count from 1", runs);
    if (seconds) {
        uint64_t s;
        if (!parse_u64(seconds, 1, 86400 * 365, &s))
            return fail("--seconds: '%s' is not a whole number of seconds from 1", seconds);
        c.max_seconds = (double)s;
    }
    if (!runs && !seconds)
        c.max_runs = 10000;
    struct fuzz_emu_engine *emu = NULL;
    if (strcmp(engine, "emu") == 0) {
        if (!(emu = fuzz_emu_engine_new()))
            return fail("fuzz: out of memory");
        c.check = fuzz_emu_engine_check;
        c.minimize = fuzz_emu_engine_minimize;
        c.engine = emu;
    } else if (strcmp(engine, "model") != 0) {
        return fail("--engine: '%s' is not an engine (model or emu)", engine);
    }
    if (host && !(c.host = vprofile_find(host)))
        return fail("--host: unknown host profile '%s' (see vsbox hosts)", host);
    if (spec) {
        struct vspec_error err = { 0 };
        uint64_t mask;
        if (!c.host)
            return fail("fuzz: --viridian needs --host: a spec means different things per host");
        if (vspec_parse(c.host, spec, &mask, &err) != VERR_OK) {
            char msg[200];
            vspec_strerror(&err, msg, sizeof msg);
            return fail("--viridian: %s", msg);
        }
        c.viridian = (int64_t)mask;
    }
    if (isatty(STDERR_FILENO))
        c.progress = progress;
    bool ran = fuzz_campaign_run(&c);
    fuzz_emu_engine_free(emu);
    if (!ran)
        return fail("fuzz: out of memory");
    if (c.progress)
        fputc('\n', stderr);
    if (c.found)
        return report_finding(&c, out);
    printf("vsbox fuzz: %s engine, %llu runs (%.0f runs/s), %llu events (%.0f events/s), %llu "
           "distinct states, 0 findings\n", engine, (unsigned long long)c.runs,
           c.runs / (c.elapsed > 0 ? c.elapsed : 1), (unsigned long long)c.events,
           c.events / (c.elapsed > 0 ? c.elapsed : 1), (unsigned long long)c.states);
    return EXIT_OK;
}
