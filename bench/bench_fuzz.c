/* Fuzzing speed: the same seeded sequences through the model engine and the emulator
 * engine (`vsbox fuzz --engine model|emu`), side by side in one run. The ratio is what a
 * sequence costs as real guest code (a rewind, the guest's own CPUID/RDMSR/WRMSR/RDTSC
 * and hypercalls through Unicorn, a replay on a second model) over the model alone.
 * Best of 3. */
#include <stdio.h>
#include <stdlib.h>
#include "fuzz/campaign.h"
#include "fuzz/emu_engine.h"

struct speed {
    double runs_s, events_s;
};

static struct speed measure(struct fuzz_emu_engine *emu, uint64_t runs)
{
    struct speed best = { 0, 0 };
    for (int i = 0; i < 3; i++) {
        struct fuzz_campaign c = { .seed = 1, .viridian = -1, .max_runs = runs };
        if (emu) {
            c.check = fuzz_emu_engine_check;
            c.minimize = fuzz_emu_engine_minimize;
            c.engine = emu;
        }
        if (!fuzz_campaign_run(&c) || c.found) {
            fprintf(stderr, "bench: the campaign %s\n", c.found ? "found something: run vsbox fuzz"
                                                               : "ran out of memory");
            exit(2);
        }
        if (c.events / c.elapsed > best.events_s)
            best = (struct speed){ c.runs / c.elapsed, c.events / c.elapsed };
    }
    return best;
}

int main(void)
{
    struct fuzz_emu_engine *emu = fuzz_emu_engine_new();
    if (!emu) {
        fprintf(stderr, "bench: cannot boot the emulator engine's guest\n");
        return 2;
    }
    struct speed model = measure(NULL, 200000), guest = measure(emu, 20000);
    fuzz_emu_engine_free(emu);
    printf("vsbox fuzz speed (seed 1, every host profile and viridian value, best of 3)\n");
    printf("%-8s %14s %16s\n", "engine", "sequences/s", "events/s");
    printf("%-8s %14.0f %16.0f\n", "model", model.runs_s, model.events_s);
    printf("%-8s %14.0f %16.0f\n", "emu", guest.runs_s, guest.events_s);
    printf("an event costs %.1fx as much as real guest code as on the model alone\n",
           model.events_s / guest.events_s);
    return 0;
}
