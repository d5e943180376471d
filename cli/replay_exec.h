/* vsbox replay FILE --image IMAGE (cli/replay_exec.c): re-execution replay. */
#ifndef VSBOX_CLI_REPLAY_EXEC_H
#define VSBOX_CLI_REPLAY_EXEC_H

#include "cli/cli.h"

/* Run IMAGE on the emulator with the trace's header (flags override it) and check that
 * the guest makes the trace's events, in order, with the trace's answers. Reports the
 * first difference as FILE:LINE on standard output. EXIT_OK (every event as recorded),
 * EXIT_DIVERGED, or EXIT_BAD_INPUT after a one-line report. */
int replay_exec(const char *trace, const char *image, const struct common_flags *flags);

#endif
