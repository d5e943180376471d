/* A fuzzing campaign: many seeded cases, stop at the first finding. Run r (from 0) is
 * generated from (seed, r) alone and runs on host r mod the number of profiles, so the
 * cases do not depend on how many jobs share the work: job j of N takes runs j, j+N,
 * j+2N... and the finding reported is the one with the lowest run number, the one a
 * single job would have met first. A finding reproduces from --seed alone. */
#ifndef VSBOX_FUZZ_CAMPAIGN_H
#define VSBOX_FUZZ_CAMPAIGN_H

#include <signal.h>
#include "fuzz/fuzz.h"

#define FUZZ_MAX_JOBS 64u

struct fuzz_campaign {
    uint64_t seed;
    uint64_t max_runs;            /* 0: no limit (then max_seconds must be set) */
    double max_seconds;           /* 0: no limit; wall clock only decides when to stop */
    const struct vprofile *host;  /* NULL: every profile in turn */
    int64_t viridian;             /* -1: every valid value (--all-specs) */
    unsigned jobs;                /* threads sharing the runs; 0 means 1 */
    const volatile sig_atomic_t *cancel; /* non-zero: stop soon (Ctrl-C); may be NULL */
    /* Called about every 0.25 s from the calling thread; may be NULL. */
    void (*progress)(void *ctx, const struct fuzz_campaign *c);
    void *ctx;
    /* The engine. NULL: the model alone (fuzz_check, fuzz_minimize). Otherwise check
     * runs a case (and may rewrite it into what it ran), false when it could not run.
     * engine serves the first job; with more jobs, new_engine makes one for each other
     * (free_engine ends it). */
    bool (*check)(void *engine, struct fuzz_case *c, struct fuzz_verdict *v);
    void (*minimize)(void *engine, struct fuzz_case *c, struct fuzz_verdict *v);
    void *engine;
    void *(*new_engine)(void);
    void (*free_engine)(void *engine);

    /* Results (runs and events also while running, for progress). */
    uint64_t runs, events, states;
    double elapsed;
    double busy;                  /* CPU seconds the jobs used: busy / elapsed is how many
                                     cores the campaign kept working */
    bool cancelled;               /* stopped by *cancel */
    bool found;
    uint64_t found_run;           /* 1-based: the run's number + 1 */
    struct fuzz_case finding;
    struct fuzz_verdict verdict;
};

/* Runs until a limit, a finding (then minimised into c->finding/c->verdict) or *cancel.
 * Returns false only when out of memory (or an engine could not be made). */
bool fuzz_campaign_run(struct fuzz_campaign *c);

#endif
