/* Helpers shared by the trace v1 tests (tests/test_trace_*.c): read a text through the
 * reader, parse one event line, and compare what came out with what the format says. */
#ifndef VSBOX_TESTS_TRACE_UTIL_H
#define VSBOX_TESTS_TRACE_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "traces/trace.h"
#include "viridian/model.h"
#include "viridian/profile.h"

#define MAGIC "vsbox-trace 1\n"

struct parsed {
    enum trace_rc rc;
    struct trace_item items[32]; /* every item, in order */
    int count;
    struct trace_error err;
    struct trace_config cfg;
};

static inline struct parsed read_file_stream(FILE *f)
{
    struct parsed p = { 0 };
    struct trace_reader *r = trace_reader_new(f);
    cr_assert_not_null(r);
    struct trace_item it;
    while ((p.rc = trace_reader_next(r, &it, &p.err)) == TRACE_OK) {
        cr_assert_lt(p.count, 32);
        p.items[p.count++] = it;
    }
    p.cfg = *trace_reader_config(r);
    trace_reader_free(r);
    return p;
}

static inline struct parsed read_bytes(const char *data, size_t len)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    rewind(f);
    struct parsed p = read_file_stream(f);
    fclose(f);
    return p;
}

#define READ(literal) read_bytes(literal, sizeof literal - 1)

static inline struct trace_item event(const char *line)
{
    struct trace_item it;
    struct trace_error err;
    cr_assert_eq(trace_parse_event(line, &it, &err), TRACE_OK, "'%s': %u:%u %s", line,
                 err.line, err.col, err.msg);
    cr_assert_eq(it.kind, TRACE_EVENT);
    return it;
}

static inline void expect_error(const struct parsed *p, unsigned line, unsigned col,
                                const char *msg, const char *what)
{
    cr_assert_eq(p->rc, TRACE_ERR, "no error for: %s", what);
    cr_expect_eq(p->err.line, line, "line %u, want %u (%s) for: %s", p->err.line, line,
                 p->err.msg, what);
    cr_expect_eq(p->err.col, col, "col %u, want %u (%s) for: %s", p->err.col, col, p->err.msg,
                 what);
    cr_expect(strstr(p->err.msg, msg), "message '%s' lacks '%s' for: %s", p->err.msg, msg, what);
}

/* A file whose error is at line:col with a message containing msg. */
static inline void error_at_bytes(const char *text, size_t len, unsigned line,
                                  unsigned col, const char *msg)
{
    struct parsed p = read_bytes(text, len);
    expect_error(&p, line, col, msg, text);
}

#define ERROR_AT(literal, line, col, msg) \
    error_at_bytes(literal, sizeof literal - 1, line, col, msg)
/* An event on line 2, after the magic line. */
#define EVENT_ERROR_AT(ev, col, msg) ERROR_AT(MAGIC ev "\n", 2, col, msg)

static inline void expect_event(const struct vevent *got, const struct vevent *want,
                                const char *what)
{
    cr_expect_eq(got->kind, want->kind, "kind of %s", what);
    cr_expect_eq(got->vcpu, want->vcpu, "vcpu of %s", what);
    for (int i = 0; i < 3; i++)
        cr_expect_eq(got->a[i], want->a[i], "a[%d] of %s: 0x%llx", i, what,
                     (unsigned long long)got->a[i]);
    cr_expect_eq(got->from_guest, want->from_guest, "from_guest of %s", what);
    cr_expect_eq(got->host, want->host, "host of %s", what);
    cr_expect_eq(got->legacy, want->legacy, "legacy of %s", what);
}

static inline void expect_result(const struct trace_item *it, struct vres want,
                                 const char *what)
{
    cr_assert(it->has_expect, "no result in %s", what);
    cr_expect_eq(it->expect.kind, want.kind, "result kind of %s", what);
    cr_expect(vres_equal(&it->expect, &want), "result values of %s", what);
}

static inline void expect_line_result(const char *line, struct vres want)
{
    struct trace_item it = event(line);
    expect_result(&it, want, line);
}

static inline const struct vprofile *host(const char *name)
{
    const struct vprofile *h = vprofile_find(name);
    cr_assert_not_null(h, "profile %s", name);
    return h;
}

#endif
