/* Internals of the trace v1 reader and writer: the bytes of one line, its tokens,
 * numbers and comment. Not an API: traces/trace.h is. */
#ifndef VSBOX_TRACES_TRACE_LEX_H
#define VSBOX_TRACES_TRACE_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "traces/trace.h"

/* One line without its line end and trailing blanks, already through tlex_check(). */
struct tlex {
    const char *s;
    size_t len;
    size_t pos;
    unsigned line;
    struct trace_error *err;
};

struct tlex_token {
    const char *p;
    size_t len;
    unsigned col; /* 1-based byte column */
};

/* Room for a token quoted in a message; longer ones are cut with "...". */
#define TLEX_SHOW 40u

static inline bool tlex_blank(char c)
{
    return c == ' ' || c == '\t';
}

enum trace_rc tlex_fail(struct trace_error *err, unsigned line, unsigned col, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));

/* Length of s[0..len) without trailing blanks. */
size_t tlex_trim(const char *s, size_t len);

/* The byte rules of a line: no control characters but tab, ASCII outside comments,
 * well-formed UTF-8 inside them. partial: the line was cut at the length limit, so a
 * character may be cut too. */
enum trace_rc tlex_check(const char *s, size_t len, bool partial, unsigned line,
                         struct trace_error *err);

/* Length of the well-formed UTF-8 character at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
size_t tlex_utf8_len(const unsigned char *s, size_t avail);

/* The next token; false at the end of the line or at a comment. */
bool tlex_next(struct tlex *x, struct tlex_token *t);
/* Like tlex_next without moving on. */
bool tlex_peek(const struct tlex *x, struct tlex_token *t);
/* Column where the tokens ended (the end of the line or the comment's '#'). */
unsigned tlex_col(const struct tlex *x);

/* Inline so that the length of a literal word is known at compile time: the reader
 * compares a few words per event. */
static inline bool tlex_is(const struct tlex_token *t, const char *word)
{
    size_t n = strlen(word);
    return t->len == n && memcmp(t->p, word, n) == 0;
}

/* Move past a token that tlex_peek() returned, without scanning it again. */
static inline void tlex_take(struct tlex *x, const struct tlex_token *t)
{
    x->pos = t->col - 1 + t->len;
}

bool tlex_has_prefix(const struct tlex_token *t, const char *prefix);
const char *tlex_show(const struct tlex_token *t, char buf[TLEX_SHOW]);

/* A number of at most bits bits: 0x hex (either case) or decimal. */
enum trace_rc tlex_number(const struct tlex *x, const struct tlex_token *t, unsigned bits,
                          uint64_t *out);

/* Once tlex_next() returned false: the comment's text after '#' and one blank, cut at a
 * character boundary to fit; "" when there is none. */
void tlex_comment(const struct tlex *x, char out[TRACE_MAX_COMMENT]);

struct number_arg {
    const char *what; /* for "expected ..." */
    unsigned bits;
};

/* One row per event of the grammar (trace_event.c). */
#define TRACE_FORM_WORD 16u

struct event_form {
    /* Zero-padded: the fast path compares it eight bytes at a time. */
    char word[TRACE_FORM_WORD];
    enum vev_kind kind;
    struct number_arg args[3];   /* the numbers after the word, in order */
    enum trace_rc (*parse)(struct tlex *, struct trace_item *); /* instead of args */
    const char *results;         /* for messages; NULL: the event takes no result */
    struct number_arg values[4]; /* a numeric result: one value, or four registers */
    enum vres_kind words[4];     /* the word results allowed (VRES_NONE ends the list) */
};

const struct event_form *trace_event_forms(size_t *n);

/* The event grammar (trace_event.c), for the reader. */
enum trace_rc trace_event_parse(struct tlex *x, struct trace_item *item);

/* The same grammar for lines as the writer writes them (trace_fast.c): single blanks,
 * no comment, numbers that fit, at most TRACE_FAST_LINE bytes before the line end ('\n'
 * or "\r\n"). s: the line and what follows it, avail bytes of which are data; the
 * first TRACE_FAST_READ bytes at s are read whatever avail is (what lies past avail is
 * never used to decide anything). Returns the bytes the line takes with its line end,
 * *item holding the event exactly as trace_event_parse() would give it; 0: nothing is
 * decided, the line is for the general route (which also gives every error; *item is
 * then left half written). cache: the shapes of lines parsed before (trace_fast_new()),
 * or NULL. */
#define TRACE_FAST_LINE 127u
#define TRACE_FAST_READ 144u
struct trace_fast;
struct trace_fast *trace_fast_new(void);
void trace_fast_free(struct trace_fast *cache);
size_t trace_event_parse_fast(struct trace_fast *cache, const char *s, size_t avail,
                              unsigned line, struct trace_item *item);
/* The PROFILE of host=PROFILE (migrate, config): unknown names are an error at v. */
enum trace_rc trace_parse_host(struct tlex *x, const struct tlex_token *v,
                               const struct vprofile **host);

#endif
