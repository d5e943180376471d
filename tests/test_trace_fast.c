/* traces/trace_fast.c: the fast path of the event grammar must take the writer's lines
 * and must never decide anything the general parser (trace_event.c) would decide
 * differently. Checked on lines written by hand and on a million lines made by a
 * seeded generator from the grammar's own words and their near misses. */
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

/* The fast path's answer for line, checked against the general parser's. */
static bool fast(const char *line)
{
    struct trace_item f, g;
    struct trace_error err;
    if (!trace_event_parse_fast(line, strlen(line), 0, 1, &f))
        return false;
    cr_assert_eq(trace_parse_event(line, &g, &err), TRACE_OK,
                 "fast path took '%s', the grammar says %u: %s", line, err.col, err.msg);
    cr_assert(same(&f, &g), "fast path and grammar differ on '%s'", line);
    return true;
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
    /* The reader lets it look 8 bytes past a line; what is there belongs to the next. */
    char buf[64] = "rdmsr 0x4000002" "2345678\n";
    struct trace_item it;
    cr_assert(trace_event_parse_fast(buf, 15, 8, 1, &it));
    cr_expect_eq(it.ev.a[0], 0x4000002);
    strcpy(buf, "wrmsr 0x1 0xabcdef0" "12345678");
    cr_assert(trace_event_parse_fast(buf, 19, 8, 1, &it));
    cr_expect_eq(it.ev.a[1], 0xabcdef0);
    strcpy(buf, "rdtsc -> 0x0123456789abcdef" "0");
    cr_assert(trace_event_parse_fast(buf, 27, 1, 1, &it));
    cr_expect_eq(it.expect.v[0], 0x0123456789abcdefull);
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
    unsigned long taken = 0;
    for (int i = 0; i < 1000000; i++) {
        char line[256] = "";
        int tokens = 1 + (int)(next(&seed) % 8);
        for (int k = 0; k < tokens; k++) {
            if (k)
                strcat(line, next(&seed) % 16 ? " " : "  ");
            strcat(line, parts[next(&seed) % n]);
        }
        taken += fast(line);
    }
    /* The generator makes enough good lines for the comparison to mean something. */
    cr_expect_gt(taken, 1000);
}
