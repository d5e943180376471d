#include "fuzz/campaign.h"

#include <stdlib.h>
#include <time.h>

#define STATE_SLOTS 65536u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Counts distinct end states: open addressing over 64-bit hashes, 0 = empty. */
static bool state_seen(uint64_t *slots, uint64_t h)
{
    h |= 1;
    for (uint32_t i = (uint32_t)h % STATE_SLOTS, n = 0; n < STATE_SLOTS; i = (i + 1) % STATE_SLOTS, n++) {
        if (slots[i] == h)
            return true;
        if (slots[i] == 0) {
            slots[i] = h;
            return false;
        }
    }
    return true; /* full: stop counting */
}

static unsigned profile_count(void)
{
    unsigned n = 0;
    while (vprofile_at(n))
        n++;
    return n;
}

bool fuzz_campaign_run(struct fuzz_campaign *c)
{
    uint64_t *slots = calloc(STATE_SLOTS, sizeof *slots);
    struct fuzz_case *fc = malloc(sizeof *fc);
    struct fuzz_verdict *v = malloc(sizeof *v);
    if (!slots || !fc || !v) {
        free(slots);
        free(fc);
        free(v);
        return false;
    }
    struct fuzz_rng rng = { c->seed };
    unsigned hosts = profile_count();
    double start = now(), last_progress = start;
    c->runs = c->events = c->states = 0;
    c->found = false;

    while ((!c->max_runs || c->runs < c->max_runs)) {
        const struct vprofile *host = c->host ? c->host : vprofile_at((unsigned)(c->runs % hosts));
        fuzz_generate(&rng, host, c->viridian, fc);
        c->runs++;
        if (c->check ? !c->check(c->engine, fc, v) : !fuzz_check(fc, v))
            continue;
        c->events += fc->n;
        if (!state_seen(slots, v->state_hash))
            c->states++;
        if (v->oracle != ORACLE_NONE) {
            c->found = true;
            c->found_run = c->runs;
            if (c->minimize)
                c->minimize(c->engine, fc, v);
            else
                fuzz_minimize(fc, v);
            c->finding = *fc;
            c->verdict = *v;
            break;
        }
        if ((c->runs & 255) == 0) {
            double t = now();
            if (c->max_seconds > 0 && t - start >= c->max_seconds)
                break;
            if (c->progress && t - last_progress >= 0.25) {
                c->elapsed = t - start;
                c->progress(c->ctx, c);
                last_progress = t;
            }
        }
    }
    c->elapsed = now() - start;
    free(slots);
    free(fc);
    free(v);
    return true;
}
