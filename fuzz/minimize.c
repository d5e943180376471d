/* Delta debugging, simplified: drop ever smaller chunks of events while the same
 * oracle still fires. Cases are tiny (<= FUZZ_MAX_EVENTS), so brute force is fine. */
#include <string.h>
#include "fuzz/fuzz.h"

static bool still_fails(const struct fuzz_case *c, enum fuzz_oracle o, struct fuzz_verdict *v)
{
    return fuzz_check(c, v) && v->oracle == o;
}

void fuzz_minimize(struct fuzz_case *c, struct fuzz_verdict *v)
{
    enum fuzz_oracle o = v->oracle;
    struct fuzz_case trial;
    struct fuzz_verdict tv;

    c->n = v->index + 1;
    for (size_t chunk = c->n / 2 ? c->n / 2 : 1;; chunk /= 2) {
        size_t i = 0;
        while (i < c->n && c->n > 1) {
            size_t len = chunk < c->n - i ? chunk : c->n - i;
            trial = *c;
            memmove(trial.ev + i, trial.ev + i + len, (trial.n - i - len) * sizeof trial.ev[0]);
            trial.n -= len;
            if (trial.n && still_fails(&trial, o, &tv)) {
                trial.n = tv.index + 1;
                *c = trial;
            } else {
                i += len;
            }
        }
        if (chunk == 1)
            break;
    }
    /* Fewer vCPUs when the events allow it. */
    trial = *c;
    trial.vcpus = 1;
    for (size_t i = 0; i < trial.n; i++)
        trial.ev[i].vcpu = 0;
    if (still_fails(&trial, o, &tv))
        *c = trial;
    fuzz_check(c, v);
}
