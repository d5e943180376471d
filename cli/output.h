/* Every file a command writes (--record, --snapshot, the fuzzer's reproducers) and its
 * standard output go through here, so that each gets the same rules:
 *   "-"                    standard output;
 *   a new path, a regular file, a symlink to one
 *                          written to a fresh temporary in the target's directory
 *                          (mkstemp: unpredictable name, O_EXCL, no link followed) and
 *                          renamed over the target when complete, so it appears whole or
 *                          not at all (a symlink stays, its target is replaced);
 *   a character device, a FIFO (or a symlink to one)
 *                          written in place: /dev/null, /dev/full, a named pipe's reader;
 *   anything else          refused (a directory, a dangling link, a block device).
 * A write that fails (a full disk or device) is reported once, naming the file. */
#ifndef VSBOX_CLI_OUTPUT_H
#define VSBOX_CLI_OUTPUT_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

struct output {
    FILE *f;
    const char *name;          /* as given, for messages */
    char path[PATH_MAX];       /* where it lands when atomic (a symlink resolved) */
    char tmp[PATH_MAX];        /* the temporary; "" when written in place */
    bool is_stdout;
};

/* Open for writing; flag names the option in messages ("--record"). Reports and
 * returns -1 (nothing created then). */
int output_open(struct output *o, const char *flag, const char *name);

/* Flush, check every write, put the file in place. Reports and returns -1 (the
 * temporary removed, an existing target untouched). Closes o in every case. */
int output_commit(struct output *o, const char *flag);

/* Give up: the temporary goes, the target stays as it was. */
void output_discard(struct output *o);

/* At the end of a command: a failed write to standard output turns status into exit 2
 * with one line (unless the command already reported bad input). */
int output_stdout_status(int status);

#endif
