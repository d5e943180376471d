/* libFuzzer target: the trace v1 reader on arbitrary bytes. Each line also goes through
 * the fast path of the event grammar (traces/trace_fast.c), whole and from the shapes of
 * the lines before it, which must never decide a line differently from the general
 * parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "traces/trace.h"
#include "traces/trace_lex.h"

static bool same(const struct trace_item *a, const struct trace_item *b)
{
    return a->ev.kind == b->ev.kind && a->ev.vcpu == b->ev.vcpu &&
           memcmp(a->ev.a, b->ev.a, sizeof a->ev.a) == 0 && a->has_expect == b->has_expect &&
           vres_equal(&a->expect, &b->expect) && !a->comment[0] && !b->comment[0];
}

/* The line (no line end of its own) as the reader would hand it to the fast path, with
 * and without the shapes of the lines before (cache), against the general parser. */
static void fast_agrees(struct trace_fast *cache, const char *line, size_t len)
{
    static char buf[TRACE_MAX_LINE + 1 + TRACE_FAST_READ];
    struct trace_item fast, general;
    struct trace_error err;
    if (len > TRACE_MAX_LINE)
        return;
    memcpy(buf, line, len);
    buf[len] = '\n';
    memset(buf + len + 1, 'f', TRACE_FAST_READ); /* the next line: hex digits */
    size_t plain = trace_event_parse_fast(NULL, buf, len + 1, 1, &fast);
    size_t shaped = cache ? trace_event_parse_fast(cache, buf, len + 1, 1, &general) : plain;
    if (plain != shaped || (plain && !same(&fast, &general)))
        abort();
    if (!plain)
        return;
    /* The reader takes a '\r' before the line end as part of the line end. */
    if (len && line[len - 1] == '\r')
        len--;
    memcpy(buf, line, len);
    buf[len] = '\0';
    if (trace_parse_event(buf, &general, &err) != TRACE_OK || !same(&fast, &general))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0; /* fmemopen takes no empty buffer; tests cover the empty file */
    struct trace_fast *cache = trace_fast_new();
    for (const char *p = (const char *)data, *end = p + size; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        fast_agrees(cache, p, len);
        p += len + 1;
    }
    trace_fast_free(cache);
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return 0;
    struct trace_reader *r = trace_reader_new(f);
    struct trace_item it;
    struct trace_error err;
    char line[TRACE_MAX_LINE + 512];
    while (r && trace_reader_next(r, &it, &err) == TRACE_OK)
        if (it.kind == TRACE_EVENT)
            trace_format_line(line, sizeof line, &it.ev, it.has_expect ? &it.expect : NULL,
                              it.comment[0] ? it.comment : NULL);
    trace_reader_free(r);
    fclose(f);
    return 0;
}
