/* Trace format v1 (docs/trace-format.md): a streaming reader with line:column errors
 * and a canonical writer. The reader never allocates per line and bounds every line,
 * so any input - binary, huge, hostile - ends in an item or an error. */
#ifndef VSBOX_TRACES_TRACE_H
#define VSBOX_TRACES_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "viridian/event.h"

#define TRACE_MAX_LINE 4096u    /* longer lines are an error, not a truncation */
#define TRACE_MAX_COMMENT 256u

/* Header keys present in `config` lines (bitmask in trace_config.have). */
#define TRACE_HAVE_HOST     (1u << 0)
#define TRACE_HAVE_VIRIDIAN (1u << 1)
#define TRACE_HAVE_TSC_KHZ  (1u << 2)
#define TRACE_HAVE_VCPUS    (1u << 3)
#define TRACE_HAVE_MEMORY   (1u << 4)

struct trace_config {
    unsigned have;
    const struct vprofile *host;  /* resolved by the reader: unknown names are an error */
    char viridian[256];           /* spec text; resolved against the host by the caller */
    uint32_t tsc_khz;
    uint32_t vcpus;
    uint32_t memory_mib;          /* guest RAM the trace was recorded with (bounds checks) */
    unsigned viridian_line, viridian_col; /* where the spec was, for the caller's errors */
};

enum trace_item_kind {
    TRACE_EVENT,    /* ev, optional expected result, optional trailing comment */
    TRACE_COMMENT,  /* a whole-line comment: text is everything after "# " */
    TRACE_BLANK,    /* an empty line, kept so --fill can reproduce a file's layout */
};

#define TRACE_MAX_INPUT_WORDS 68u /* VHYPERCALL_MAX_INPUT_WORDS */

struct trace_item {
    enum trace_item_kind kind;
    unsigned line;
    struct vevent ev;                /* ev.input is NULL: the words are below */
    bool has_input;                  /* a hypercall's in=: the input block it read */
    uint32_t input_words;
    uint64_t input[TRACE_MAX_INPUT_WORDS];
    bool has_expect;
    struct vres expect;
    char comment[TRACE_MAX_COMMENT]; /* "" when none */
};

struct trace_error {
    unsigned line, col;   /* 1-based; col 0 when the whole line/file is at fault */
    char msg[160];
};

enum trace_rc { TRACE_OK, TRACE_EOF, TRACE_ERR };

struct trace_reader;

/* The reader reads from f (not closed by it). NULL only when out of memory. */
struct trace_reader *trace_reader_new(FILE *f);
void trace_reader_free(struct trace_reader *r);

/* Next item after the "vsbox-trace 1" line and the config lines. Config lines may only
 * come before the first event; trace_reader_config() is complete once next() has
 * returned the first TRACE_EVENT or TRACE_EOF. */
enum trace_rc trace_reader_next(struct trace_reader *r, struct trace_item *item,
                                struct trace_error *err);
const struct trace_config *trace_reader_config(const struct trace_reader *r);

/* Parse one event line on its own (no magic line, no config), e.g. for tests and the
 * fuzzer's reproducers. */
enum trace_rc trace_parse_event(const char *line, struct trace_item *item,
                                struct trace_error *err);

/* Canonical text: lowercase hex with 0x for registers, MSRs, leaves, addresses and
 * values; decimal for counts, vCPU numbers and tsc_khz. Return the length written
 * (excluding NUL), as snprintf does. */
int trace_format_event(char *buf, size_t len, const struct vevent *ev);
int trace_format_result(char *buf, size_t len, const struct vres *res);
/* A whole line without '\n': "EVENT[ -> RESULT][ # comment]". res may be NULL. */
int trace_format_line(char *buf, size_t len, const struct vevent *ev,
                      const struct vres *res, const char *comment);
int trace_format_config(char *buf, size_t len, const struct trace_config *cfg);

/* Writers: return 0, or -1 on a write error (errno set). */
int trace_write_magic(FILE *f);
int trace_write_config(FILE *f, const struct trace_config *cfg);
int trace_write_line(FILE *f, const struct vevent *ev, const struct vres *res,
                     const char *comment);
/* A whole-line comment "# text", the text cleaned as comments are (an empty one: "#"). */
int trace_write_comment(FILE *f, const char *text);

#endif
