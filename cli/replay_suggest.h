/* vsbox replay --suggest (cli/replay_suggest.c). */
#ifndef VSBOX_CLI_REPLAY_SUGGEST_H
#define VSBOX_CLI_REPLAY_SUGGEST_H

#include <stddef.h>
#include "cli/cli.h"

/* Search the host's configurations (flags' --host, else the trace header's) for the one
 * whose answers match most of the trace's events; print it, with how many events still
 * differ, and put its spec text into spec and the host into *host. EXIT_OK, or EXIT_BAD_INPUT after reporting. */
int replay_suggest(const char *name, const struct common_flags *flags, char *spec, size_t len,
                   const struct vprofile **host);

#endif
