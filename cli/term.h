/* Terminal manners: colour only for a person (standard output is a TTY and NO_COLOR is
 * not set, https://no-color.org), plain text for pipes, files and golden tests; and a
 * progress line on standard error while a long command runs, only when standard error
 * is a TTY (it is redrawn in place and erased at the end, so logs never see it). */
#ifndef VSBOX_CLI_TERM_H
#define VSBOX_CLI_TERM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Whether to colour what goes to f. */
bool term_color(FILE *f);

enum term_style { TERM_PLAIN, TERM_BOLD, TERM_DIM, TERM_OK, TERM_BAD, TERM_WARN, TERM_NOTE };

/* The escape sequence that starts a style, or "" when colour is off (TERM_PLAIN ends
 * one). */
const char *term_sgr(bool color, enum term_style s);

struct progress {
    bool on;
    const char *what;
    uint64_t last_ms;
    int width;
    bool drawn;
};

/* what: "fuzz", "replay t.trace". Off unless standard error is a TTY. */
void progress_begin(struct progress *p, const char *what);
/* done of total (total 0: unknown); redrawn at most ten times a second. */
void progress_update(struct progress *p, uint64_t done, uint64_t total, const char *unit);
void progress_end(struct progress *p);

#endif
