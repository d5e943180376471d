/* Divergences grouped by cause, for `vsbox replay`: "CPUID 0x40000003 EAX bit 2
 * (AccessSynicRegs): the capture advertised it, this config does not (enable `synic`)".
 * The causes come from the model (viridian/explain.h asks which group would change an
 * answer), the names from the Hyper-V TLFS. Memory is bounded: a fixed table of causes. */
#ifndef VSBOX_TRACES_DIVERGE_H
#define VSBOX_TRACES_DIVERGE_H

#include <stdint.h>
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

/* The TLFS names the causes use, for other reports (the narration): a CPUID bit of the
 * viridian leaves (reg 0 EAX .. 3 EDX), a hypercall code, a hypercall status; NULL when
 * the TLFS names none. */
const char *diverge_cpuid_bit_name(uint32_t leaf, unsigned reg, unsigned bit);
const char *diverge_hypercall_name(uint32_t code);
const char *diverge_status_name(uint32_t status);

#endif
