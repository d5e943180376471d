/* Divergences grouped by cause, for `vsbox replay`: "CPUID 0x40000003 EAX bit 2
 * (AccessSynicRegs): the capture advertised it, this config does not (enable `synic`)".
 * The causes come from the model (viridian/explain.h asks which group would change an
 * answer), the names from the Hyper-V TLFS. Memory is bounded: a fixed table of causes. */
#ifndef VSBOX_TRACES_DIVERGE_H
#define VSBOX_TRACES_DIVERGE_H

#include <stdio.h>
#include "traces/trace.h"
#include "viridian/model.h"

struct diverge;

struct diverge *diverge_new(void);
void diverge_free(struct diverge *d);

/* The model m (after applying it->ev) answered got where the trace says it->expect. */
void diverge_add(struct diverge *d, const struct vmodel *m, const struct trace_item *it,
                 const struct vres *got);

/* The causes, most frequent first, one line each; nothing when there were none. */
void diverge_report(const struct diverge *d, FILE *out, const char *name);

#endif
