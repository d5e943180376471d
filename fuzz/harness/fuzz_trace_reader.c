/* libFuzzer target: the trace v1 reader on arbitrary bytes. Each line also goes through
 * the fast path of the event grammar (traces/trace_fast.c), which must never decide a
 * line differently from the general parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "traces/trace.h"
#include "traces/trace_lex.h"

static void fast_agrees(const char *line, size_t len)
{
    struct trace_item fast, general;
    struct trace_error err;
    char copy[TRACE_MAX_LINE + 1];
    if (len > TRACE_MAX_LINE || !trace_event_parse_fast(line, len, 0, 1, &fast))
        return;
    memcpy(copy, line, len);
    copy[len] = '\0';
    if (trace_parse_event(copy, &general, &err) != TRACE_OK ||
        general.ev.kind != fast.ev.kind || general.ev.vcpu != fast.ev.vcpu ||
        memcmp(general.ev.a, fast.ev.a, sizeof fast.ev.a) != 0 ||
        general.has_expect != fast.has_expect ||
        !vres_equal(&general.expect, &fast.expect) || general.comment[0])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0; /* fmemopen takes no empty buffer; tests cover the empty file */
    for (const char *p = (const char *)data, *end = p + size; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        fast_agrees(p, len);
        p += len + 1;
    }
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
