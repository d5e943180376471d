/* vsbox fuzz: seeded event sequences against the model, oracles after every step. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/interrupt.h"
#include "cli/options.h"
#include "cli/output.h"
#include "cli/text.h"
#include "fuzz/campaign.h"
#include "fuzz/emu_engine.h"
#include "viridian/spec.h"

static void progress(void *ctx, const struct fuzz_campaign *c)
{
    (void)ctx;
    fprintf(stderr, "\rvsbox fuzz: %llu runs (%.0f/s), %llu events, %.0f s",
            (unsigned long long)c->runs, c->runs / (c->elapsed > 0 ? c->elapsed : 1),
            (unsigned long long)c->events, c->elapsed);
    fflush(stderr);
}

static void *emu_new(void)
{
    return fuzz_emu_engine_new();
}

static void emu_free(void *engine)
{
    fuzz_emu_engine_free(engine);
}

/* DIR must be usable before the campaign starts, not hours later at a finding. */
static int check_out_dir(const char *out)
{
    struct stat st;
    if (stat(out, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return fail("fuzz: --out %s: not a directory", out);
        if (access(out, W_OK | X_OK) != 0)
            return fail("fuzz: --out %s: cannot write there: %s", out, strerror(errno));
        return EXIT_OK;
    }
    if (mkdir(out, 0777) != 0)
        return fail("fuzz: --out %s: cannot create: %s", out, strerror(errno));
    return EXIT_OK;
}

static int report_finding(const struct fuzz_campaign *c, const char *out)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/vsbox-fuzz-%llu-%llu.trace", out,
             (unsigned long long)c->seed, (unsigned long long)c->found_run);
    struct output o;
    if (output_open(&o, "fuzz", path))
        return EXIT_BAD_INPUT;
    if (fuzz_write_reproducer(o.f, &c->finding, &c->verdict) != 0 && !ferror(o.f)) {
        output_discard(&o);
        return fail("fuzz: %s: cannot write", path);
    }
    if (output_commit(&o, "fuzz"))
        return EXIT_BAD_INPUT;
    printf("vsbox fuzz: oracle %s fired on run %llu: %s\n", fuzz_oracle_name(c->verdict.oracle),
           (unsigned long long)c->found_run, c->verdict.what);
    char name[4096];
    printf("vsbox fuzz: reproducer (%zu events): %s\n", c->verdict.index + 1,
           esc(path, name, sizeof name));
    return EXIT_DIVERGED;
}

int cmd_fuzz(int argc, char **argv)
{
    struct fuzz_campaign c = { .seed = 1, .viridian = -1 };
    const char *out = ".", *engine = "model", *spec = NULL, *host = NULL, *none = NULL;
    const char *runs = NULL, *seconds = NULL, *seed = NULL, *jobs = NULL;
    bool all_specs = false;
    const struct opt opts[] = {
        { "--seed", "N", "the generator's seed (default 1): the sequences depend on it alone",
          &seed, NULL, NULL },
        { "--runs", "N", "stop after N sequences (default 10000 without --seconds)", &runs, NULL,
          NULL },
        { "--seconds", "S", "stop after S seconds of wall clock", &seconds, NULL, NULL },
        { "--jobs", "N", "share the runs among N threads (1 to 64, default 1); what a seed\n"
          "generates, and the finding reported, stay the same", &jobs, NULL, NULL },
        { "--host", "PROFILE", "one host profile (default: every profile in turn)", &host, NULL,
          NULL },
        { "--viridian", "SPEC", "one viridian value, with --host (default: every valid value)",
          &spec, NULL, NULL },
        { "--all-specs", NULL, "every valid viridian value (the default; not with --viridian)",
          NULL, &all_specs, NULL },
        { "--engine", "NAME", "model (the model alone) or emu (the same sequences as real guest\n"
          "code in the emulator)", &engine, NULL, NULL },
        { "--out", "DIR", "where a reproducer goes (default .; created if missing)", &out, NULL,
          NULL },
        { 0 },
    };
    const struct command cmd = {
        "fuzz", "[OPTIONS]",
        "Generate event sequences (CPUID, RDMSR/WRMSR over the viridian range and its\n"
        "neighbours, hypercalls, RDTSC, advances, param-sets, migrations) from a seeded\n"
        "generator and check the oracles after every event. Run r is generated from the seed\n"
        "and r alone; --seconds and --jobs only decide how fast and when to stop. A violation\n"
        "is minimised and written to DIR as a trace v1 reproducer for vsbox replay, and exits\n"
        "1. Progress goes to standard error on a terminal; Ctrl-C stops with a summary (130).\n",
        NULL, opts,
    };
    int p = opts_parse(&cmd, argc, argv, &none);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
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
    uint64_t njobs = 1;
    if (jobs && !parse_u64(jobs, 1, FUZZ_MAX_JOBS, &njobs))
        return fail("--jobs: '%s' is not a number of jobs from 1 to %u", jobs, FUZZ_MAX_JOBS);
    c.jobs = (unsigned)njobs;
    if (!runs && !seconds)
        c.max_runs = 10000;
    if (strcmp(engine, "emu") != 0 && strcmp(engine, "model") != 0)
        return fail("--engine: '%s' is not an engine (model or emu)", engine);
    if (host && !(c.host = vprofile_find(host)))
        return fail("--host: unknown host profile '%s' (see vsbox hosts)", host);
    /* The oracles state Xen's rules (an MSR answers exactly when CPUID advertises it, the
     * parameter's set-once rules); KVM's differ and are tests/test_kvm_host.c's. */
    if (c.host && c.host->hypervisor != VHV_XEN)
        return fail("--host %s: the fuzzer's oracles are Xen's rules; pick a Xen release",
                    host);
    if (spec && all_specs)
        return fail("fuzz: --viridian fixes one value, --all-specs takes every one: choose one");
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
    if (check_out_dir(out) != EXIT_OK)
        return EXIT_BAD_INPUT;
    struct fuzz_emu_engine *emu = NULL;
    if (strcmp(engine, "emu") == 0) {
        if (!(emu = fuzz_emu_engine_new()))
            return fail("fuzz: cannot start the emulator engine");
        c.check = fuzz_emu_engine_check;
        c.minimize = fuzz_emu_engine_minimize;
        c.engine = emu;
        c.new_engine = emu_new;
        c.free_engine = emu_free;
    }

    char jobs_text[64] = "", limit[64], specs[160];
    if (c.jobs > 1)
        snprintf(jobs_text, sizeof jobs_text, ", %u jobs", c.jobs);
    if (c.max_runs)
        snprintf(limit, sizeof limit, "%llu runs%s", (unsigned long long)c.max_runs,
                 c.max_seconds > 0 ? " at most" : "");
    if (c.max_seconds > 0)
        snprintf(limit + (c.max_runs ? strlen(limit) : 0),
                 sizeof limit - (c.max_runs ? strlen(limit) : 0), "%s%.0f s",
                 c.max_runs ? " or " : "", c.max_seconds);
    char spec_text[128];
    snprintf(specs, sizeof specs, "%s, %s", c.host ? c.host->name : "every host",
             spec ? esc(spec, spec_text, sizeof spec_text) : "every viridian value");
    fprintf(stderr, "vsbox fuzz: %s engine, seed %llu, %s, %s%s (Ctrl-C stops with a summary)\n",
            engine, (unsigned long long)c.seed, specs, limit, jobs_text);
    c.cancel = interrupt_catch();
    bool tty = isatty(STDERR_FILENO);
    if (tty)
        c.progress = progress;
    bool ran = fuzz_campaign_run(&c);
    fuzz_emu_engine_free(emu);
    if (!ran)
        return fail("fuzz: out of memory (or no engine for every job)");
    if (tty)
        fputc('\n', stderr);
    if (c.found)
        return report_finding(&c, out);
    if (c.jobs > 1) /* how well the jobs scaled: bench/bench_fuzz has the 1-job ratio */
        snprintf(jobs_text, sizeof jobs_text, ", %u jobs (%.2f cores busy)", c.jobs,
                 c.elapsed > 0 ? c.busy / c.elapsed : 0);
    printf("vsbox fuzz: %s%s engine%s, %llu runs (%.0f runs/s), %llu events (%.0f events/s), "
           "%llu distinct states, 0 findings\n", c.cancelled ? "interrupted: " : "", engine,
           jobs_text, (unsigned long long)c.runs, c.runs / (c.elapsed > 0 ? c.elapsed : 1),
           (unsigned long long)c.events, c.events / (c.elapsed > 0 ? c.elapsed : 1),
           (unsigned long long)c.states);
    return c.cancelled ? EXIT_INTERRUPTED : EXIT_OK;
}
