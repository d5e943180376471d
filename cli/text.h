/* Untrusted text on its way to a terminal: control characters (C0, DEL, C1) and bytes
 * that are not UTF-8 become \xNN; well-formed printable UTF-8 passes. */
#ifndef VSBOX_CLI_TEXT_H
#define VSBOX_CLI_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Escape in into out (always terminated, cut at a character); returns bytes written. */
size_t text_escape(char *out, size_t size, const char *in);
/* The same, returning buf: for a name inside a printf. */
const char *esc(const char *in, char *buf, size_t size);
/* "vsbox: " + message, escaped, one line on stderr; not an error (fail() in cli.h is). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
