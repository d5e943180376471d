/* vCPUs and interrupts, as ratios measured side by side in one run (issue 11):
 *   4 vCPUs that never trap vs 1 vCPU doing a quarter of the work: the instruction rate
 *   summed over the vCPUs, relative to one vCPU's (target >= 0.8). Measured on a tight
 *   loop (2 instructions per translation block: the worst case for the per-block
 *   schedule check), on compiled C (bench/images/work.c: the block lengths gcc -O2
 *   makes, and stack stores) and on a 32-instruction block; and, beside the target, the
 *   tight loop with the APIC in use on both sides (one vCPU then takes the block hook too,
 *   as every OS guest's does: the part of the cost that is the vCPUs' own);
 *   an interrupt delivered through the guest's IDT vs a trapped RDMSR (target <= 3x):
 *   a self-IPI round trip (ICR write, delivery, a handler that writes EOI, IRETQ) minus
 *   the same guest instructions with the delivery replaced by a jump into the handler
 *   on a stack that already holds the frame. The round trip and the APIC writes alone
 *   are printed beside it.
 * Images come from bench/images (NASM); each case runs BENCH_ROUNDS times (default 5)
 * interleaved with its partner. For the vCPUs the fastest run of each counts; for the
 * interrupt, whose figure is a difference, the median round (see below). BENCH_ONLY=spin or
 * BENCH_ONLY=irq runs one half (for a profiler). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "emu/emu.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *slurp(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.bin", VSBOX_BENCH_IMAGE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench: %s: cannot open\n", path);
        exit(2);
    }
    static uint8_t buf[1 << 20];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static double run(const char *name, uint32_t vcpus)
{
    size_t len;
    const uint8_t *code = slurp(name, &len);
    struct emu_config cfg = { .model = { .viridian = 1, .vcpus = vcpus }, .memory_mib = 32 };
    struct emu *e;
    char err[256];
    struct emu_result res;
    if (emu_create(&cfg, &e, err, sizeof err) ||
        emu_load(e, code, len, true, 0x100000, err, sizeof err)) {
        fprintf(stderr, "bench: %s: %s\n", name, err);
        exit(2);
    }
    double t = now();
    emu_run(e, &res);
    t = now() - t;
    if (res.stop != EMU_EXITED || res.exit_code != 0) {
        fprintf(stderr, "bench: %s did not exit 0 (stop %d, code %d): %s\n", name, res.stop,
                res.exit_code, res.report);
        exit(2);
    }
    emu_destroy(e);
    return t;
}

struct pair {
    const char *a, *b;
    uint32_t vcpus_a, vcpus_b;
    double ta, tb;
};

static void measure(struct pair *p, int rounds)
{
    p->ta = p->tb = 1e9;
    for (int i = 0; i < rounds; i++) {
        double a = run(p->a, p->vcpus_a), b = run(p->b, p->vcpus_b);
        if (a < p->ta)
            p->ta = a;
        if (b < p->tb)
            p->tb = b;
    }
}

int main(void)
{
    const char *r = getenv("BENCH_ROUNDS");
    int rounds = r ? atoi(r) : 5;
    if (rounds < 1 || rounds > 1000) {
        fprintf(stderr, "bench: BENCH_ROUNDS '%s': want 1 to 1000\n", r);
        return 2;
    }
    const char *only = getenv("BENCH_ONLY");
    bool do_spin = !only || !strcmp(only, "spin"), do_irq = !only || !strcmp(only, "irq");
    struct pair spin[4] = {
        { "spin_1_tight", "spin_4_tight", 1, 4, 0, 0 },
        { "spin_1_c", "spin_4_c", 1, 4, 0, 0 },
        { "spin_1_wide", "spin_4_wide", 1, 4, 0, 0 },
        { "spin_1_tight_apic", "spin_4_tight_apic", 1, 4, 0, 0 },
    };
    static const char *const spin_name[4] = {
        "2 instructions per block (tight loop)",
        "compiled C (work.c: CRC, sort, hashing)",
        "32 instructions per block",
        "tight loop, APIC in use (as any OS's)",
    };
    if (do_spin)
        printf("%-44s %10s %10s %8s  %s\n", "no-trap loop, the same work per vCPU",
               "1 vCPU", "4 vCPUs", "ratio", "target");
    for (int i = 0; do_spin && i < 4; i++) {
        measure(&spin[i], rounds);
        printf("%-44s %8.1f ms %8.1f ms %7.2fx  %s\n", spin_name[i], spin[i].ta * 1e3,
               spin[i].tb * 1e3, 4 * spin[i].ta / spin[i].tb,
               i < 3 ? ">= 0.8x (summed rate / one vCPU's)" : "(beside the target: both hooked)");
    }
    if (!do_irq)
        return 0;
    /* Each round runs the four loops back to back: the RDMSR loop, the round trip (ICR
     * write, delivery, handler with its EOI, IRETQ), the same guest instructions with the
     * delivery replaced by a jump (the difference is the delivery alone: the target), and
     * the two APIC writes alone. The delivery is the difference of two timings, so its
     * ratio is taken within each round, whose four runs share the machine's load, and
     * the median round's counts (a minimum per loop would pair quiet moments that
     * differ). */
    static const char *const loop[4] = { "irq_loop_msr", "irq_loop_ipi", "irq_loop_jump",
                                         "irq_loop_apic" };
    const double n = 200000;
    double t[1000][4], ratio[1000];
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 4; k++)
            t[r][k] = run(loop[k], 1) / n * 1e9;
        ratio[r] = (t[r][1] - t[r][2]) / t[r][0];
    }
    /* the round whose ratio is the median (insertion sort of round numbers by ratio) */
    int order[1000];
    for (int r = 0; r < rounds; r++) {
        int j = r;
        for (; j > 0 && ratio[order[j - 1]] > ratio[r]; j--)
            order[j] = order[j - 1];
        order[j] = r;
    }
    const double *m = t[order[rounds / 2]];
    double msr = m[0], trip = m[1], same = m[2], apic = m[3];
    printf("\n%-48s %9s %8s  %s   (the median of %d rounds; ratios in them: %.2fx to %.2fx)\n",
           "per operation", "ns", "ratio", "target", rounds, ratio[order[0]],
           ratio[order[rounds - 1]]);
    printf("%-48s %6.0f ns %7s\n", "trapped RDMSR (HV_X64_MSR_VP_INDEX)", msr, "1x");
    printf("%-48s %6.0f ns %7.2fx  <= 3x\n", "an interrupt delivered through the IDT", trip - same,
           (trip - same) / msr);
    printf("%-48s %6.0f ns %7.2fx\n", "round trip: ICR write, delivery, EOI, IRETQ", trip, trip / msr);
    printf("%-48s %6.0f ns %7.2fx\n", "  the same with a jump for the delivery", same, same / msr);
    printf("%-48s %6.0f ns %7.2fx\n", "  the ICR and EOI writes alone", apic, apic / msr);
    return 0;
}
