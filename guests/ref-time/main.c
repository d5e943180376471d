/* Reference time seen from the inside, around a save point: read
 * HV_X64_MSR_TIME_REF_COUNT and the reference TSC page again and again (run it with
 * `vsbox migrate ref-time ... --at N` and move it mid-loop) and check that neither ever
 * goes back, and that the counter never jumps: the pause for the save is time the guest
 * did not run, and Xen freezes the counter for it (commit f6a07643e1, first in 4.5.0;
 * before it Windows' WMI hung after a 45-minute jump).
 *
 * What Xen's own releases allow, and this guest therefore accepts:
 *  - before 4.13 the reference TSC page has no offset (viridian.c update_reference_tsc()
 *    writes TscScale only), so page time is the guest TSC's and runs on through the pause,
 *    while the counter does not. A forward step of the page there is reported, not failed;
 *    from 4.13 (commit 5a82d598d2 "viridian: unify time sources") the page carries the
 *    counter's offset and must agree with it.
 *  - a page whose sequence is 0 is invalid (TLFS); the guest reads the counter instead.
 * The guest prints nothing inside the loop (every console byte is a trapped event), so
 * event numbers inside the loop stay small and stable for --at. */
#include "runtime/guest.h"

#define ROUNDS 120
#define JUMP   10000u /* 1 ms in 100 ns units: a round takes well under 1 us */

const char test_title[] = "ref-time: reference time never goes back or jumps across a save point";

static uint8_t tsc_page[4096] __attribute__((aligned(4096), section(".bss.page")));

/* The TLFS reading loop: sequence, scale, offset, RDTSC, sequence again. 0 = valid. */
static int page_time(uint64_t *t)
{
    volatile uint32_t *seqp = (volatile uint32_t *)(tsc_page + HV_REF_TSC_SEQUENCE);
    volatile uint64_t *scalep = (volatile uint64_t *)(tsc_page + HV_REF_TSC_SCALE);
    volatile int64_t *offp = (volatile int64_t *)(tsc_page + HV_REF_TSC_OFFSET);
    for (;;) {
        uint32_t seq = *seqp;
        if (seq == 0)
            return -1;
        uint64_t scale = *scalep;
        int64_t off = *offp;
        uint64_t tsc = rdtsc();
        if (*seqp == seq) {
            *t = (uint64_t)(((unsigned __int128)tsc * scale) >> 64) + (uint64_t)off;
            return 0;
        }
    }
}

/* Xen's version from its own leaves (major << 16 | minor), 0 when they are not there. */
static uint32_t xen_version(void)
{
    uint32_t r[4], base = xen_leaves();
    if (!base)
        return 0;
    cpuid(base + 1, r);
    return r[0];
}

struct source {
    const char *name;
    bool used, seen, back_ok, jump_ok;
    uint64_t first, last, step; /* largest step between two rounds */
    int back_round, jump_round;
    uint64_t back_from, back_to, jump_by;
    uint32_t jump_xen;          /* Xen's version read right after the jump */
};

static void observe(struct source *s, int round, uint64_t v)
{
    if (!s->seen) {
        s->seen = true;
        s->first = s->last = v;
        return;
    }
    if (v < s->last && s->back_ok) {
        s->back_ok = false;
        s->back_round = round;
        s->back_from = s->last;
        s->back_to = v;
    } else if (v >= s->last) {
        uint64_t d = v - s->last;
        if (d > s->step)
            s->step = d;
        if (d > JUMP && s->jump_ok) {
            s->jump_ok = false;
            s->jump_round = round;
            s->jump_by = d;
            s->jump_xen = xen_version();
        }
    }
    s->last = v;
}

static void report(const struct source *s)
{
    if (!s->used)
        return;
    if (!s->seen) {
        printf("%s: never valid\n", s->name);
        return;
    }
    printf("%s: %lu -> %lu over %d rounds, largest step %lu\n", s->name,
           (unsigned long)s->first, (unsigned long)s->last, ROUNDS, (unsigned long)s->step);
    if (!s->back_ok)
        printf("  round %d: went back from %lu to %lu\n", s->back_round,
               (unsigned long)s->back_from, (unsigned long)s->back_to);
    if (!s->jump_ok)
        printf("  round %d: jumped forward by %lu (%lu us)\n", s->jump_round,
               (unsigned long)s->jump_by, (unsigned long)(s->jump_by / 10));
}

void test_main(void)
{
    uint32_t msrs = viridian_msrs();
    struct source trc = { .name = "HV_X64_MSR_TIME_REF_COUNT", .back_ok = true, .jump_ok = true };
    struct source page = { .name = "reference TSC page", .back_ok = true, .jump_ok = true };
    int invalid = 0;
    bool agree = true; /* page and counter, in the last round */
    uint64_t last_tsc = rdtsc();
    bool tsc_ok = true;

    trc.used = msrs & CPUID3A_MSR_TIME_REF_COUNT;
    page.used = msrs & CPUID3A_MSR_REFERENCE_TSC;
    if (page.used && wrmsr_safe(HV_X64_MSR_REFERENCE_TSC, (uint64_t)(uintptr_t)tsc_page | 1))
        error("HV_X64_MSR_REFERENCE_TSC is advertised but its write faulted");

    /* With neither source the loop still runs (and can still be moved): the TSC alone. */
    for (int i = 1; i <= ROUNDS; i++) {
        uint64_t tsc = rdtsc(), c = 0, p = 0;
        if (tsc < last_tsc)
            tsc_ok = false;
        last_tsc = tsc;
        if (trc.used) {
            if (rdmsr_safe(HV_X64_MSR_TIME_REF_COUNT, &c))
                error("round %d: HV_X64_MSR_TIME_REF_COUNT is advertised but faulted", i);
            observe(&trc, i, c);
        }
        if (page.used) {
            if (page_time(&p)) {
                invalid++;
            } else {
                observe(&page, i, p);
                /* From 4.13 page and counter are one clock: the page read comes after the
                 * MSR read, so it is ahead by at most the round's own few ticks. */
                if (trc.used && i == ROUNDS)
                    agree = p >= c && p - c <= 10;
            }
        }
    }

    uint32_t xen = xen_version();
    if (!trc.used && !page.used)
        printf("no reference time advertised (CPUID 0x40000003 EAX 0x%x): the TSC only\n", msrs);
    report(&trc);
    report(&page);
    if (invalid)
        printf("reference TSC page: invalid (sequence 0) in %d of %d rounds\n", invalid, ROUNDS);

    check(tsc_ok, "the TSC never went back");
    if (trc.used) {
        check(trc.back_ok, "HV_X64_MSR_TIME_REF_COUNT never went back");
        check(trc.jump_ok, "HV_X64_MSR_TIME_REF_COUNT never jumped (it is frozen while the "
              "domain is paused)");
    }
    if (page.used && page.seen) {
        check(page.back_ok, "reference TSC page time never went back");
        bool unified = page.jump_xen >= (4u << 16 | 13);
        if (!page.jump_ok && !unified)
            printf("  (Xen %u.%u: the page has no offset before 4.13, so it keeps the TSC's "
                   "time over a pause; commit 5a82d598d2 unified the two)\n",
                   page.jump_xen >> 16, page.jump_xen & 0xffff);
        else
            check(page.jump_ok, "reference TSC page time never jumped");
        if (trc.used && xen >= (4u << 16 | 13))
            check(agree, "page time and HV_X64_MSR_TIME_REF_COUNT agree (one clock since "
                  "4.13): %lu and %lu", (unsigned long)page.last, (unsigned long)trc.last);
    }
    pass();
}
