/* Fuzzing speed: the same seeded sequences through the model engine and the emulator
 * engine (`vsbox fuzz --engine model|emu`), side by side in one run. The ratio is what a
 * sequence costs as real guest code (a rewind, the guest's own CPUID/RDMSR/WRMSR/RDTSC
 * and hypercalls through Unicorn, a replay on a second model) over the model alone.
 * Then `vsbox fuzz --jobs`: the same campaigns with 1 and 2 jobs (threads), the ratio of
 * their sequences per second. Best of 3. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "fuzz/campaign.h"
#include "fuzz/emu_engine.h"

struct speed {
    double runs_s, events_s;
    double cores;   /* CPU seconds per wall second the jobs got */
};

static void *emu_new(void)
{
    return fuzz_emu_engine_new();
}

static void emu_free(void *engine)
{
    fuzz_emu_engine_free(engine);
}

static struct speed once(struct fuzz_emu_engine *emu, uint64_t runs, unsigned jobs)
{
    struct fuzz_campaign c = { .seed = 1, .viridian = -1, .max_runs = runs, .jobs = jobs };
    if (emu) {
        c.check = fuzz_emu_engine_check;
        c.minimize = fuzz_emu_engine_minimize;
        c.engine = emu;
        c.new_engine = emu_new;
        c.free_engine = emu_free;
    }
    if (!fuzz_campaign_run(&c) || c.found) {
        fprintf(stderr, "bench: the campaign %s\n", c.found ? "found something: run vsbox fuzz"
                                                           : "ran out of memory");
        exit(2);
    }
    return (struct speed){ c.runs / c.elapsed, c.events / c.elapsed, c.busy / c.elapsed };
}

static void keep_best(struct speed *best, struct speed s)
{
    if (s.events_s > best->events_s)
        *best = s;
}

/* 1 job and 2 jobs alternately, best of 3 each: a machine busy with something else for
 * a while slows both rather than one. */
static void measure(struct fuzz_emu_engine *emu, uint64_t runs, struct speed *one,
                    struct speed *two)
{
    *one = *two = (struct speed){ 0, 0, 0 };
    for (int i = 0; i < 3; i++) {
        keep_best(one, once(emu, runs, 1));
        keep_best(two, once(emu, runs, 2));
    }
}

int main(void)
{
    struct fuzz_emu_engine *emu = fuzz_emu_engine_new();
    if (!emu) {
        fprintf(stderr, "bench: cannot boot the emulator engine's guest\n");
        return 2;
    }
    struct speed model, model2, guest, guest2;
    measure(NULL, 200000, &model, &model2);
    measure(emu, 20000, &guest, &guest2);
    fuzz_emu_engine_free(emu);
    printf("vsbox fuzz speed (seed 1, every host profile and viridian value, best of 3)\n");
    printf("%-8s %14s %16s\n", "engine", "sequences/s", "events/s");
    printf("%-8s %14.0f %16.0f\n", "model", model.runs_s, model.events_s);
    printf("%-8s %14.0f %16.0f\n", "emu", guest.runs_s, guest.events_s);
    printf("an event costs %.1fx as much as real guest code as on the model alone\n",
           model.events_s / guest.events_s);
    printf("\nvsbox fuzz --jobs (the same runs shared among threads; %ld cores here)\n",
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("%-8s %14s %14s %8s %12s %14s\n", "engine", "1 job seq/s", "2 jobs seq/s", "ratio",
           "cores busy", "per busy core");
    printf("%-8s %14.0f %14.0f %7.2fx %12.2f %13.2fx\n", "model", model.runs_s, model2.runs_s,
           model2.runs_s / model.runs_s, model2.cores,
           model2.runs_s / model2.cores / (model.runs_s / model.cores));
    printf("%-8s %14.0f %14.0f %7.2fx %12.2f %13.2fx\n", "emu", guest.runs_s, guest2.runs_s,
           guest2.runs_s / guest.runs_s, guest2.cores,
           guest2.runs_s / guest2.cores / (guest.runs_s / guest.cores));
    printf("(ratio: 2 jobs over 1; cores busy: what the 2 jobs got of the machine; per busy\n"
           " core: 2-job speed per CPU second over 1-job speed per CPU second, 1.00x when\n"
           " the jobs cost each other nothing)\n");
    return 0;
}
