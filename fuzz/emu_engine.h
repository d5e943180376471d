/* `vsbox fuzz --engine emu`: the same generated sequences run as real guest code in the
 * emulator, and what the guest saw compared with the model alone (oracle 6). */
#ifndef VSBOX_FUZZ_EMU_ENGINE_H
#define VSBOX_FUZZ_EMU_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include "fuzz/fuzz.h"

struct fuzz_emu;

/* One booted guest, rewound before every sequence to the case's host, viridian value
 * and TSC rate. -1 with err on failure. */
int fuzz_emu_create(struct fuzz_emu **out, char *err, size_t errlen);
void fuzz_emu_destroy(struct fuzz_emu *f);

/* Keep the events a guest can perform itself (CPUID, RDMSR, WRMSR, RDTSC, hypercalls),
 * with hypercall pages moved to scratch memory so the model never writes over the
 * guest's own code and tables. */
void fuzz_emu_shape(const struct fuzz_case *in, struct fuzz_case *out);

/* Run a shaped case in the guest and replay what the emulator recorded on a fresh model.
 * True when every event the guest performed was seen, in order, and the guest saw
 * exactly the model's answers; false fills v (ORACLE_EMU_AGREES) and rec, the recorded
 * sequence with its advances, for the reproducer. */
bool fuzz_emu_check(struct fuzz_emu *f, const struct fuzz_case *c, struct fuzz_verdict *v,
                    struct fuzz_case *rec);

/* Shrink a shaped failing case; v and rec describe the smaller failure. */
void fuzz_emu_minimize(struct fuzz_emu *f, struct fuzz_case *c, struct fuzz_verdict *v,
                       struct fuzz_case *rec);

/* The engine for fuzz_campaign: one booted guest for every case, the model's oracles on each shaped case, then oracle 6. A finding becomes the
 * recorded sequence (with its advances), so its reproducer replays as a trace. */
struct fuzz_emu_engine;
struct fuzz_emu_engine *fuzz_emu_engine_new(void);
void fuzz_emu_engine_free(struct fuzz_emu_engine *g);
bool fuzz_emu_engine_check(void *engine, struct fuzz_case *c, struct fuzz_verdict *v);
void fuzz_emu_engine_minimize(void *engine, struct fuzz_case *c, struct fuzz_verdict *v);

#endif
