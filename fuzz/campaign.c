#include "fuzz/campaign.h"

#include <pthread.h>
#include <stdatomic.h>
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

/* What the jobs share: the lowest run number with a finding so far (UINT64_MAX: none),
 * which every job stops before passing, and whether to stop for time or Ctrl-C. */
struct shared {
    const struct fuzz_campaign *c;
    unsigned jobs, hosts;
    double start;
    atomic_uint_fast64_t first_found;
    atomic_bool stop;
    atomic_uint finished;
};

struct job {
    _Alignas(64) struct shared *sh; /* a cache line each: jobs never share one */
    unsigned index;
    void *engine;
    uint64_t *slots;
    struct fuzz_case *fc;
    struct fuzz_verdict *v;
    atomic_uint_fast64_t runs, events;
    bool found;
    uint64_t found_at;           /* run number, from 0 */
    double cpu;                  /* this job's thread CPU time */
};

static bool time_to_stop(const struct shared *sh)
{
    const struct fuzz_campaign *c = sh->c;
    return (c->cancel && *c->cancel) || (c->max_seconds > 0 && now() - sh->start >= c->max_seconds);
}

static void *job_run(void *arg)
{
    struct job *j = arg;
    struct shared *sh = j->sh;
    const struct fuzz_campaign *c = sh->c;
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) /* job 0 may share its thread */
        j->cpu = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    /* Counted here and published every 256 runs: a shared counter bumped per run would
     * bounce between the cores and cost more than the run. */
    uint64_t runs = 0, events = 0;
    for (uint64_t r = j->index; !c->max_runs || r < c->max_runs; r += sh->jobs) {
        if (r > atomic_load_explicit(&sh->first_found, memory_order_relaxed) ||
            atomic_load_explicit(&sh->stop, memory_order_relaxed))
            break;
        const struct vprofile *host = c->host ? c->host : vprofile_at((unsigned)(r % sh->hosts));
        struct fuzz_rng rng = fuzz_run_rng(c->seed, r);
        fuzz_generate(&rng, host, c->viridian, j->fc);
        if ((++runs & 255) == 0) {
            atomic_store_explicit(&j->runs, runs, memory_order_relaxed);
            atomic_store_explicit(&j->events, events, memory_order_relaxed);
            if (time_to_stop(sh))
                atomic_store(&sh->stop, true);
        }
        if (c->check ? !c->check(j->engine, j->fc, j->v) : !fuzz_check(j->fc, j->v))
            continue;
        events += j->fc->n;
        state_seen(j->slots, j->v->state_hash);
        if (j->v->oracle != ORACLE_NONE) {
            j->found = true;
            j->found_at = r;
            uint_fast64_t cur = atomic_load(&sh->first_found);
            while (r < cur && !atomic_compare_exchange_weak(&sh->first_found, &cur, r))
                ;
            break;
        }
    }
    atomic_store(&j->runs, runs);
    atomic_store(&j->events, events);
    struct timespec end;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end) == 0)
        j->cpu = (double)end.tv_sec + (double)end.tv_nsec / 1e9 - j->cpu;
    atomic_fetch_add(&sh->finished, 1);
    return NULL;
}

static void totals(struct fuzz_campaign *c, struct job *jobs, unsigned n)
{
    uint64_t runs = 0, events = 0;
    for (unsigned i = 0; i < n; i++) {
        runs += atomic_load(&jobs[i].runs);
        events += atomic_load(&jobs[i].events);
    }
    c->runs = runs;
    c->events = events;
}

/* Distinct states over every job: the union of their tables. */
static uint64_t count_states(struct job *jobs, unsigned n)
{
    uint64_t *all = calloc(STATE_SLOTS, sizeof *all), states = 0;
    if (!all)
        return 0;
    for (unsigned i = 0; i < n; i++)
        for (uint32_t k = 0; k < STATE_SLOTS; k++)
            if (jobs[i].slots[k] && !state_seen(all, jobs[i].slots[k]))
                states++;
    free(all);
    return states;
}

bool fuzz_campaign_run(struct fuzz_campaign *c)
{
    unsigned n = c->jobs ? c->jobs : 1;
    if (n > FUZZ_MAX_JOBS)
        n = FUZZ_MAX_JOBS;
    struct shared sh = { .c = c, .jobs = n, .hosts = profile_count(), .start = now() };
    atomic_init(&sh.first_found, UINT64_MAX);
    atomic_init(&sh.stop, false);
    atomic_init(&sh.finished, 0);
    c->runs = c->events = c->states = 0;
    c->found = c->cancelled = false;
    struct job *jobs = calloc(n, sizeof *jobs);
    bool ok = jobs != NULL;
    for (unsigned i = 0; ok && i < n; i++) {
        struct job *j = &jobs[i];
        j->sh = &sh;
        j->index = i;
        atomic_init(&j->runs, 0);
        atomic_init(&j->events, 0);
        j->slots = calloc(STATE_SLOTS, sizeof *j->slots);
        j->fc = malloc(sizeof *j->fc);
        j->v = malloc(sizeof *j->v);
        j->engine = i == 0 || !c->check ? c->engine : c->new_engine ? c->new_engine() : NULL;
        ok = j->slots && j->fc && j->v && (!c->check || j->engine);
    }

    sh.start = now(); /* after the jobs' engines booted: runs are what is timed */
    /* Job 0 runs on the calling thread unless there is progress to report; then every
     * job has a thread and this one watches the clock, Ctrl-C and the counters. */
    pthread_t threads[FUZZ_MAX_JOBS];
    bool started[FUZZ_MAX_JOBS] = { false };
    unsigned first_thread = c->progress ? 0 : 1;
    for (unsigned i = first_thread; ok && i < n; i++)
        started[i] = pthread_create(&threads[i], NULL, job_run, &jobs[i]) == 0;
    for (unsigned i = first_thread; ok && i < n; i++)
        if (!started[i])
            job_run(&jobs[i]); /* no thread to be had: run it here, in turn */
    if (ok && !c->progress)
        job_run(&jobs[0]);
    double last = sh.start;
    while (ok && c->progress && atomic_load(&sh.finished) < n) {
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
        if (time_to_stop(&sh))
            atomic_store(&sh.stop, true);
        double t = now();
        if (t - last >= 0.25) {
            totals(c, jobs, n);
            c->elapsed = t - sh.start;
            c->progress(c->ctx, c);
            last = t;
        }
    }
    for (unsigned i = 0; i < n; i++)
        if (started[i])
            pthread_join(threads[i], NULL);
    c->elapsed = now() - sh.start;

    if (ok) {
        totals(c, jobs, n);
        c->states = count_states(jobs, n);
        c->busy = 0;
        for (unsigned i = 0; i < n; i++)
            c->busy += jobs[i].cpu;
        c->cancelled = c->cancel && *c->cancel;
        struct job *win = NULL;
        for (unsigned i = 0; i < n; i++)
            if (jobs[i].found && (!win || jobs[i].found_at < win->found_at))
                win = &jobs[i];
        if (win) {
            c->found = true;
            c->found_run = win->found_at + 1;
            c->runs = win->found_at + 1;
            if (c->minimize)
                c->minimize(win->engine, win->fc, win->v);
            else
                fuzz_minimize(win->fc, win->v);
            c->finding = *win->fc;
            c->verdict = *win->v;
        }
    }
    for (unsigned i = 0; jobs && i < n; i++) {
        if (i > 0 && c->check && jobs[i].engine && c->free_engine)
            c->free_engine(jobs[i].engine);
        free(jobs[i].slots);
        free(jobs[i].fc);
        free(jobs[i].v);
    }
    free(jobs);
    return ok;
}
