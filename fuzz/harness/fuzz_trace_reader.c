/* libFuzzer target: the trace v1 reader on arbitrary bytes. */
#include <stdint.h>
#include <stdio.h>
#include "traces/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0; /* fmemopen takes no empty buffer; tests cover the empty file */
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
