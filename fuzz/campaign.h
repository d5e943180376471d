/* A fuzzing campaign: many seeded cases, stop at the first finding. */
#ifndef VSBOX_FUZZ_CAMPAIGN_H
#define VSBOX_FUZZ_CAMPAIGN_H

#include "fuzz/fuzz.h"

struct fuzz_campaign {
    uint64_t seed;
    uint64_t max_runs;            /* 0: no limit (then max_seconds must be set) */
    double max_seconds;           /* 0: no limit; wall clock only decides when to stop */
    const struct vprofile *host;  /* NULL: every profile in turn */
    int64_t viridian;             /* -1: every valid value (--all-specs) */
    /* Called about every 0.25 s; may be NULL. */
    void (*progress)(void *ctx, const struct fuzz_campaign *c);
    void *ctx;
    /* The engine. NULL: the model alone (fuzz_check, fuzz_minimize). Otherwise check
     * runs a case (and may rewrite it into what it ran), false when it could not run. */
    bool (*check)(void *engine, struct fuzz_case *c, struct fuzz_verdict *v);
    void (*minimize)(void *engine, struct fuzz_case *c, struct fuzz_verdict *v);
    void *engine;

    /* Results. */
    uint64_t runs, events, states;
    double elapsed;
    bool found;
    uint64_t found_run;
    struct fuzz_case finding;
    struct fuzz_verdict verdict;
};

/* Runs until a limit or a finding (then minimised into c->finding/c->verdict).
 * Returns false only when out of memory. */
bool fuzz_campaign_run(struct fuzz_campaign *c);

#endif
