/* A trace recorded by `vsbox resume` starts from a saved guest, not a fresh one. So that
 * it replays on the model alone, it carries that state as its first events: the clock,
 * the MSR writes and restores that rebuild the snapshot's viridian state on a fresh
 * model of the snapshot's own host, then the restore itself as a `migrate` event (onto
 * the same host or another). The events are checked, not assumed: they are applied to a
 * model and its state compared with the emulator's after the real restore. */
#ifndef VSBOX_CLI_PROLOGUE_H
#define VSBOX_CLI_PROLOGUE_H

#include <stdbool.h>
#include <stdio.h>
#include "cli/cli.h"
#include "viridian/save.h"

struct snapshot;

/* The header settings of such a trace: the snapshot's own host, mask, rate and RAM. */
void prologue_settings(const struct vsave *saved, uint32_t memory_mib, struct settings *st);

/* Write the prologue for a guest saved as `saved` (in file, after event taken_at) and
 * restored onto `to` into `restored`. false when the events do not rebuild that state
 * exactly (a destination TSC rate set by --tsc-khz, which no event expresses): a comment
 * says so, and the caller warns. */
bool prologue_write(FILE *out, const char *file, uint64_t taken_at, const struct vsave *saved,
                    uint32_t memory_mib, const struct vprofile *to,
                    const struct vmodel *restored, int *err);

#endif
