/* The built-in fuzzer: seeded event sequences against the model, property oracles
 * after every step, and minimised trace v1 reproducers. */
#ifndef VSBOX_FUZZ_FUZZ_H
#define VSBOX_FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "viridian/event.h"
#include "viridian/profile.h"

#define FUZZ_MAX_EVENTS 96u

enum fuzz_oracle {
    ORACLE_NONE,
    ORACLE_MSR_VS_CPUID,   /* 2: an MSR works exactly when leaf 0x40000003 advertises it */
    ORACLE_HOST_GROUPS,    /* 2: a host never advertises a group it does not have */
    ORACLE_PARAM,          /* 3: HVM_PARAM_VIRIDIAN rules and set-once lock */
    ORACLE_SAVE_RESTORE,   /* 4: save/restore (same host) changes nothing visible */
    ORACLE_CLOCK,          /* 5: TSC and TIME_REF_COUNT never go backwards */
    ORACLE_EMU_AGREES,     /* 6: the guest in the emulator sees what the model says */
    ORACLE_COUNT
};

const char *fuzz_oracle_name(enum fuzz_oracle o);

struct fuzz_case {
    const struct vprofile *host;
    uint64_t viridian;
    uint32_t tsc_khz;
    uint32_t vcpus;
    size_t n;
    struct vevent ev[FUZZ_MAX_EVENTS];
};

struct fuzz_verdict {
    enum fuzz_oracle oracle;
    size_t index;             /* event that broke it */
    bool has_expect;          /* the oracle can say what the result should have been */
    struct vres expect;
    struct vres got;
    char what[200];
    struct vres results[FUZZ_MAX_EVENTS]; /* what the model answered, up to index */
    uint64_t state_hash;      /* what the guest could observe at the end */
    /* For a save/restore finding: a read that shows the difference, and what it
     * returned before the restore. */
    bool has_probe;
    struct vevent probe_ev;
    struct vres probe_expect;
};

/* Deterministic generator state (splitmix64). */
struct fuzz_rng {
    uint64_t s;
};

uint64_t fuzz_next(struct fuzz_rng *r);
/* The generator for run `run` (from 0) of a campaign seeded with seed: independent of
 * every other run, so runs can be shared out among jobs in any way. */
struct fuzz_rng fuzz_run_rng(uint64_t seed, uint64_t run);
/* A random case for host (viridian drawn from the host's valid values unless
 * fixed_viridian >= 0). */
void fuzz_generate(struct fuzz_rng *r, const struct vprofile *host, int64_t fixed_viridian,
                   struct fuzz_case *c);

/* Run a case on a fresh model and check every oracle after every event. Returns
 * false when the model could not be created for the case. */
bool fuzz_check(const struct fuzz_case *c, struct fuzz_verdict *v);

/* Shrink a failing case to a smaller one failing the same oracle. */
void fuzz_minimize(struct fuzz_case *c, struct fuzz_verdict *v);

/* Write the case as a trace v1 reproducer to f: observed results up to the failing
 * event, which carries the oracle's expectation. 0, or -1 on a write error (where it
 * goes, and how it is put in place, is the caller's). */
int fuzz_write_reproducer(FILE *f, const struct fuzz_case *c, const struct fuzz_verdict *v);

#endif
