/* Every file a command reads (images, snapshots, traces, xl.cfg) is opened here, so a
 * directory, a missing file or an endless stream gets the same one-line answer. */
#ifndef VSBOX_CLI_INPUT_H
#define VSBOX_CLI_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Open path for reading ("-": standard input when allow_stdin). A directory is refused
 * as such. Reports "PATH: why" and returns NULL. */
FILE *input_open(const char *path, int allow_stdin);
void input_close(FILE *f);

/* The whole of f, at most max bytes: a regular file larger than max is refused on its
 * size before anything is read, a stream after max + 1 bytes. Memory grows with what was
 * read, never with max. too_big ends "PATH: " in the message. Reports, returns NULL. */
uint8_t *input_read_all(FILE *f, const char *path, size_t max, const char *too_big,
                        size_t *len);

#endif
