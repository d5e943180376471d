/* Lines from a stream a block at a time: the trace v1 reader and the KVM importer both
 * read large files, where one getc per byte cost 95% of a replay. Not an API outside
 * traces/. */
#ifndef VSBOX_TRACES_LINEBUF_H
#define VSBOX_TRACES_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define LINEBUF_BLOCK (128u * 1024u)
/* Bytes after the start of any unread data that may always be read (trace_fast.c reads
 * TRACE_FAST_READ); those past the data are zeros. */
#define LINEBUF_SLACK 144u

struct linebuf {
    FILE *f;
    size_t window;   /* a line is looked for in this many bytes; at most LINEBUF_BLOCK */
    size_t pos, end; /* unread bytes are buf[pos..end) */
    bool eof;        /* nothing after buf[end] */
    /* + 1: room for a NUL after a last line with no end */
    char buf[LINEBUF_BLOCK + 1 + LINEBUF_SLACK];
};

/* window: the longest line the caller takes, plus its line end. */
void linebuf_init(struct linebuf *lb, FILE *f, size_t window);

/* 1: the next line at *text, *len bytes up to (not including) its '\n'; when no '\n'
 * comes within the window, *len is the window and *whole is false (the rest of that
 * line stays unread). 0: end of file. -1: a read error (errno). */
int linebuf_next(struct linebuf *lb, char **text, size_t *len, bool *whole);

/* Skip what is left of a line that did not fit the window: up to and past its '\n'. */
int linebuf_skip_rest(struct linebuf *lb);

/* Bytes after text[len] that may be read (for LINEBUF_SLACK-style overreads). */
static inline size_t linebuf_slack(const struct linebuf *lb, const char *text, size_t len)
{
    return (size_t)(lb->buf + sizeof lb->buf - (text + len));
}

/* The unread data in the block, *avail bytes at the result (LINEBUF_SLACK more may be
 * read), for a caller that finds lines itself; linebuf_take() then consumes them. */
static inline char *linebuf_peek(struct linebuf *lb, size_t *avail)
{
    *avail = lb->end - lb->pos;
    return lb->buf + lb->pos;
}

static inline void linebuf_take(struct linebuf *lb, size_t n)
{
    lb->pos += n;
}

#endif
