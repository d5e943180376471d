/* traces/trace_fast.c: the fast path of the event grammar must take the writer's lines
 * and must never decide anything the general parser (trace_event.c) would decide
 * differently, whether it parses a line whole or from the shape of one before. Checked
 * on lines written by hand and on a million lines made by a seeded generator from the
 * grammar's own words and their near misses, each then changed in one byte. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "traces/trace_lex.h"

static bool same(const struct trace_item *a, const struct trace_item *b)
{
    return a->kind == b->kind && a->ev.kind == b->ev.kind && a->ev.vcpu == b->ev.vcpu &&
           a->ev.a[0] == b->ev.a[0] && a->ev.a[1] == b->ev.a[1] && a->ev.a[2] == b->ev.a[2] &&
           a->ev.from_guest == b->ev.from_guest && a->ev.host == b->ev.host &&
           a->ev.legacy == b->ev.legacy && a->has_expect == b->has_expect &&
           vres_equal(&a->expect, &b->expect) && strcmp(a->comment, b->comment) == 0;
}

/* The line as the reader's block holds it: its line end, then bytes of the next line
 * that must not change anything (hex digits and blanks). */
static size_t place(char *buf, const char *line, const char *end)
{
    size_t n = strlen(line);
    memcpy(buf, line, n);
    memcpy(buf + n, end, strlen(end));
    size_t data = n + strlen(end);
    for (size_t i = data; i < data + TRACE_FAST_READ; i++)
        buf[i] = "f0 9a"[i % 5];
    return data;
}

/* The fast path's answer for line, without and with shapes, each checked against the
 * general parser's; cache: shapes kept from the lines before (NULL: a fresh one). */
static bool fast_with(struct trace_fast *cache, const char *line)
{
    char buf[TRACE_MAX_LINE + 2 * TRACE_FAST_READ];
    struct trace_item f, g;
    struct trace_error err;
    size_t avail = place(buf, line, "\n");
    size_t took = trace_event_parse_fast(cache, buf, avail, 1, &f);
    if (!took)
        return false;
    cr_assert_eq(took, strlen(line) + 1, "'%s': took %zu bytes", line, took);
    cr_assert_eq(trace_parse_event(line, &g, &err), TRACE_OK,
                 "fast path took '%s', the grammar says %u: %s", line, err.col, err.msg);
    cr_assert(same(&f, &g), "fast path and grammar differ on '%s'", line);
    return true;
}

static bool fast(const char *line)
{
    struct trace_fast *cache = trace_fast_new();
    cr_assert_not_null(cache);
    bool plain = fast_with(NULL, line);
    /* The first time the shape is made, the second time it is used. */
    cr_assert_eq(fast_with(cache, line), plain, "'%s' with a new cache", line);
    cr_assert_eq(fast_with(cache, line), plain, "'%s' from its shape", line);
    trace_fast_free(cache);
    return plain;
}

Test(trace_fast, takes_every_event_as_the_writer_writes_it)
{
    const char *lines[] = {
        "cpuid 0x40000003 0x0 -> 0x870 0x0 0x0 0x0",
        "rdmsr 0x40000022 -> 0x77359400",
        "v63 rdmsr 0x40000022 -> #GP",
        "wrmsr 0x40000000 0x1040601001db0 -> ok",
        "wrmsr 0x40000000 0xffffffffffffffff -> #GP",
        "rdtsc -> 0x3e8",
        "hypercall 0x10008 0x7ffe0000 0x7ffe1000 -> 0x2",
        "v1 hypercall 0x8 0x0 0x0 -> #UD",
        "advance 2500000000",
        "cpuid 0x40000000 0x0",
        "rdmsr 0x10",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        cr_expect(fast(lines[i]), "fast path left '%s' to the general parser", lines[i]);
}

Test(trace_fast, leaves_everything_else_to_the_general_parser)
{
    const char *lines[] = {
        "rdmsr 0x40000022 -> 0x1  # a comment",  /* comments */
        "rdmsr  0x40000022",                      /* two blanks */
        "rdmsr\t0x40000022",                      /* a tab */
        " rdmsr 0x1",                             /* leading blank */
        "rdmsr 0x1 ",                             /* trailing blank */
        "param-set viridian 0x1 from=guest -> ok", /* forms with their own parser */
        "migrate host=xen-4.5 -> ok",
        "rdmsr 0x100000000",                      /* too wide: an error */
        "rdmsr 0x00000000000000000001",           /* more than 16 digits: fine, but general */
        "advance 18446744073709551615",           /* 20 digits */
        "v64 rdtsc",                              /* vCPU out of range: an error */
        "v0x1 rdtsc",                             /* not a vCPU prefix */
        "v rdtsc",
        "rdtsc -> ok",                            /* wrong result form: an error */
        "wrmsr 0x10 0x5 -> 0x5",
        "advance 10 -> ok",
        "cpuid 0x1 0x0 -> 0x1 0x2 0x3",           /* a register missing */
        "cpuid 0x1 0x0 -> 0x1 0x2 0x3 0x4 0x5",
        "rdmsr 0x",
        "rdmsr 0xg",
        "rdmsr -1",
        "rdtsc ->0x1",
        "rdtsc -> 0x1 # c",
        "rdmsr 0x1 -> #gp",
        "RDMSR 0x1",
        "",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        cr_expect_not(fast(lines[i]), "fast path took '%s'", lines[i]);
}

Test(trace_fast, never_reads_digits_past_the_end_of_the_line)
{
    /* What follows the line end belongs to the next line. */
    char buf[256];
    struct trace_item it;
    place(buf, "rdmsr 0x4000002", "\n2345678");
    cr_assert_eq(trace_event_parse_fast(NULL, buf, 23, 1, &it), 16);
    cr_expect_eq(it.ev.a[0], 0x4000002);
    place(buf, "wrmsr 0x1 0xabcdef0", "\n12345678 ");
    cr_assert_eq(trace_event_parse_fast(NULL, buf, 29, 1, &it), 20);
    cr_expect_eq(it.ev.a[1], 0xabcdef0);
    place(buf, "rdtsc -> 0x0123456789abcdef", "\n0");
    cr_assert_eq(trace_event_parse_fast(NULL, buf, 29, 1, &it), 28);
    cr_expect_eq(it.expect.v[0], 0x0123456789abcdefull);
}

Test(trace_fast, takes_only_a_line_whose_end_is_in_the_data)
{
    char buf[512];
    struct trace_item it;
    /* The line end after avail is not data yet: the reader reads more first. */
    place(buf, "rdmsr 0x1", "\n");
    cr_expect_eq(trace_event_parse_fast(NULL, buf, 9, 1, &it), 0);
    cr_expect_eq(trace_event_parse_fast(NULL, buf, 10, 1, &it), 10);
    /* A Windows line end is the line's end too. */
    place(buf, "rdmsr 0x1 -> 0x2", "\r\n");
    cr_expect_eq(trace_event_parse_fast(NULL, buf, 18, 1, &it), 18);
    cr_expect_eq(it.expect.v[0], 2);
    /* Lines longer than TRACE_FAST_LINE go the general way. */
    char line[300] = "rdmsr 0x1 -> 0x2  # ";
    memset(line + strlen(line), 'c', 200);
    line[220] = '\0';
    place(buf, line, "\n");
    cr_expect_eq(trace_event_parse_fast(NULL, buf, 221, 1, &it), 0);
    /* The longest line it takes: four registers of 16 digits. */
    const char *four = "v63 cpuid 0x40000000 0x0 -> 0x1234567890abcdef 0x1234567890abcdef "
                       "0x1234567890abcdef 0x1234567890abcdef";
    cr_assert_lt(strlen(four), TRACE_FAST_LINE);
    cr_expect_not(fast(four)); /* registers are 32 bits: an error, for the grammar */
}

Test(trace_fast, a_shape_takes_other_digits_and_nothing_else)
{
    struct trace_fast *cache = trace_fast_new();
    cr_assert_not_null(cache);
    cr_assert(fast_with(cache, "rdmsr 0x40000022 -> 0x77359400"));
    /* Other digits, the same shape: other numbers. */
    cr_expect(fast_with(cache, "rdmsr 0x40000023 -> 0x1234abcd"));
    cr_expect(fast_with(cache, "rdmsr 0x4000002F -> 0xFFFFFFFF"));
    /* Not a digit where one was: the general parser's error. */
    cr_expect_not(fast_with(cache, "rdmsr 0x4000002g -> 0x1234abcd"));
    cr_expect_not(fast_with(cache, "rdmsr 0x40000022 => 0x77359400"));
    /* Nine digits in a 32-bit field fit once, not always. */
    cr_assert(fast_with(cache, "cpuid 0x000000001 0x0"));
    cr_expect_not(fast_with(cache, "cpuid 0x100000000 0x0"));
    cr_expect(fast_with(cache, "cpuid 0x0ffffffff 0x0"));
    /* A vCPU and a result word are part of the shape. */
    cr_assert(fast_with(cache, "v1 wrmsr 0x40000070 0x0 -> ok"));
    cr_expect(fast_with(cache, "v2 wrmsr 0x40000070 0x0 -> ok"));
    cr_expect(fast_with(cache, "v1 wrmsr 0x40000070 0x0 -> #GP"));
    cr_expect_not(fast_with(cache, "v1 rdtsc 0x40000070 0x0 -> ok"));
    trace_fast_free(cache);
}

/* xorshift64*: the same million lines on every run. */
static uint64_t next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

Test(trace_fast, agrees_with_the_grammar_on_a_million_generated_lines)
{
    static const char *const parts[] = {
        "cpuid", "rdmsr", "wrmsr", "rdtsc", "hypercall", "advance", "param-get", "migrate",
        "v1", "v63", "v64", "v007", "->", "ok", "#GP", "#UD", "#gp", "0x0", "0x1", "0X1F",
        "0xffffffff", "0x100000000", "0xffffffffffffffff", "0x10000000000000000", "42",
        "18446744073709551615", "18446744073709551616", "0x", "0xg", "007", "#", "# c",
        "", " ", "\t", "x", "0x40000022", "4294967295", "4294967296", "0x0000000000000001",
    };
    const size_t n = sizeof parts / sizeof parts[0];
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    unsigned long taken = 0, again = 0;
    struct trace_fast *cache = trace_fast_new();
    cr_assert_not_null(cache);
    for (int i = 0; i < 1000000; i++) {
        char line[256] = "";
        int tokens = 1 + (int)(next(&seed) % 8);
        for (int k = 0; k < tokens; k++) {
            if (k)
                strcat(line, next(&seed) % 16 ? " " : "  ");
            strcat(line, parts[next(&seed) % n]);
        }
        if (!fast_with(NULL, line)) {
            cr_assert_not(fast_with(cache, line), "'%s' only with shapes", line);
            continue;
        }
        taken++;
        cr_assert(fast_with(cache, line), "'%s' not with shapes", line);
        /* The same line with some bytes changed, against the shape just made: another
         * hex digit, a letter that is not one, a blank, a sign. */
        for (int k = 0; k < 4; k++) {
            char other[256];
            strcpy(other, line);
            size_t at = next(&seed) % strlen(other);
            other[at] = "0123456789abcdefABCDEFgx -#"[next(&seed) % 27];
            bool plain = fast_with(NULL, other);
            cr_assert_eq(fast_with(cache, other), plain, "'%s' after '%s'", other, line);
            again += plain;
        }
    }
    trace_fast_free(cache);
    /* The generator makes enough good lines for the comparison to mean something. */
    cr_expect_gt(taken, 1000);
    cr_expect_gt(again, 1000);
}
