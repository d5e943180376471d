/* One replay step: the rule shared by `vsbox replay`, the tests and the fuzzers for
 * applying a trace event to the model and judging its expected result. */
#ifndef VSBOX_TRACES_REPLAY_H
#define VSBOX_TRACES_REPLAY_H

#include "traces/trace.h"
#include "viridian/model.h"

enum replay_rc {
    REPLAY_MATCH,     /* applied; no expected result, or the expected one */
    REPLAY_DIVERGED,  /* applied; *got differs from item->expect */
    REPLAY_INVALID,   /* not applicable to this model (err says why); nothing applied */
};

enum replay_rc replay_step(struct vmodel *m, const struct trace_item *item, struct vres *got,
                           struct trace_error *err);

#endif
