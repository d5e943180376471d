/* Trace v1 reader and writer (docs/trace-format.md). Canonical texts are written by
 * hand here, never captured from the writer. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "tests/support.h"
#include "traces/trace.h"
#include "viridian/profile.h"

struct parsed {
    enum trace_rc rc;
    struct trace_item item;
    struct trace_error err;
    struct trace_config cfg;
    int items;
};

/* Read a whole text; keep the last event (or the error). */
static struct parsed read_text(const char *text)
{
    struct parsed p = { 0 };
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    cr_assert_not_null(f);
    struct trace_reader *r = trace_reader_new(f);
    struct trace_item it;
    while ((p.rc = trace_reader_next(r, &it, &p.err)) == TRACE_OK) {
        p.items++;
        if (it.kind == TRACE_EVENT)
            p.item = it;
    }
    p.cfg = *trace_reader_config(r);
    trace_reader_free(r);
    fclose(f);
    return p;
}

static struct trace_item event(const char *line)
{
    struct trace_item it;
    struct trace_error err;
    cr_assert_eq(trace_parse_event(line, &it, &err), TRACE_OK, "'%s': %u:%u %s", line, err.line,
                 err.col, err.msg);
    return it;
}

static void error_at(const char *text, unsigned line, unsigned col, const char *msg_part)
{
    struct parsed p = read_text(text);
    cr_assert_eq(p.rc, TRACE_ERR, "parsed: %s", text);
    cr_expect_eq(p.err.line, line, "line %u, want %u (%s) in:\n%s", p.err.line, line, p.err.msg, text);
    cr_expect_eq(p.err.col, col, "col %u, want %u (%s) in:\n%s", p.err.col, col, p.err.msg, text);
    cr_expect(strstr(p.err.msg, msg_part), "message '%s' lacks '%s'", p.err.msg, msg_part);
}

Test(trace_reader, every_event_form_parses)
{
    struct trace_item it = event("cpuid 0x40000003 0");
    cr_assert_eq(it.ev.kind, VEV_CPUID);
    cr_assert_eq(it.ev.a[0], 0x40000003);
    cr_assert_not(it.has_expect);

    it = event("v3 rdmsr 1073741858 -> #GP");
    cr_assert_eq(it.ev.kind, VEV_RDMSR);
    cr_assert_eq(it.ev.vcpu, 3);
    cr_assert_eq(it.ev.a[0], 0x40000022);
    cr_assert_eq(it.expect.kind, VRES_GP);

    it = event("wrmsr 0x40000001 0xFFFFFFFFFFFFFFFF -> ok");
    cr_assert_eq(it.ev.a[1], UINT64_MAX);
    cr_assert_eq(it.expect.kind, VRES_OK);

    it = event("rdtsc -> 0x3e8");
    cr_assert_eq(it.expect.kind, VRES_VALUE);
    cr_assert_eq(it.expect.v[0], 1000);

    it = event("hypercall 0x8 0x1000 0x2000 -> #UD");
    cr_assert_eq(it.ev.a[2], 0x2000);
    cr_assert_eq(it.expect.kind, VRES_UD);

    it = event("param-set viridian 0x3 from=guest -> EPERM");
    cr_assert(it.ev.from_guest);
    cr_assert_eq(it.expect.kind, VRES_EPERM);
    cr_assert_eq(event("param-set viridian 1 from=toolstack -> EEXIST").expect.kind, VRES_EEXIST);
    cr_assert_eq(event("param-set viridian 2 from=toolstack -> EINVAL").expect.kind, VRES_EINVAL);

    it = event("param-get viridian -> 0x1");
    cr_assert_eq(it.ev.kind, VEV_PARAM_GET);

    it = event("advance 2500000000");
    cr_assert_eq(it.ev.a[0], 2500000000ull);

    it = event("migrate host=xen-4.4 -> refused");
    cr_assert_eq(it.ev.host, vprofile_find("xen-4.4"));
    cr_assert_eq(it.ev.legacy, -1);
    cr_assert_eq(it.expect.kind, VRES_REFUSED);
    cr_assert_eq(event("migrate host=xen-4.5 viridian=true -> ok").ev.legacy, 1);
    cr_assert_eq(event("migrate host=xen-4.5 viridian=0").ev.legacy, 0);

    it = event("cpuid 0x40000000 0x0 -> 0x40000006 0x7263694d 0x666f736f 0x76482074");
    cr_assert_eq(it.expect.kind, VRES_REGS);
    cr_assert_eq(it.expect.v[3], 0x76482074);
}

Test(trace_reader, comments_follow_the_blank_rule)
{
    struct trace_item it = event("rdmsr 0x40000022 -> #GP   # freq is off");
    cr_assert_eq(it.expect.kind, VRES_GP);
    cr_assert_str_eq(it.comment, "freq is off");
    cr_assert_str_eq(event("rdtsc #").comment, "");
    /* '#GP' is a result, '#x' is not a comment: it is an unexpected token. */
    struct trace_item bad;
    struct trace_error err;
    cr_assert_eq(trace_parse_event("rdtsc #x", &bad, &err), TRACE_ERR);
    cr_assert_eq(err.col, 7);
}

Test(trace_reader, header_config_and_layout_items)
{
    struct parsed p = read_text("# leading comment\n\nvsbox-trace 1\r\n"
                                "config host=xen-4.4 viridian=1\n"
                                "config tsc_khz=0x2625a0 vcpus=4\n"
                                "  rdtsc   \n");
    cr_assert_eq(p.rc, TRACE_EOF, "%s", p.err.msg);
    cr_assert_eq(p.items, 3, "comment, blank, event");
    cr_assert_eq(p.cfg.have, TRACE_HAVE_HOST | TRACE_HAVE_VIRIDIAN | TRACE_HAVE_TSC_KHZ |
                                 TRACE_HAVE_VCPUS);
    cr_assert_eq(p.cfg.host, vprofile_find("xen-4.4"));
    cr_assert_str_eq(p.cfg.viridian, "1");
    cr_assert_eq(p.cfg.viridian_line, 4);
    cr_assert_eq(p.cfg.viridian_col, 30);
    cr_assert_eq(p.cfg.tsc_khz, 2500000);
    cr_assert_eq(p.cfg.vcpus, 4);
    cr_assert_eq(p.item.line, 6);
}

Test(trace_reader, a_file_with_only_the_magic_line_is_empty)
{
    struct parsed p = read_text("vsbox-trace 1\n");
    cr_assert_eq(p.rc, TRACE_EOF);
    cr_assert_eq(p.items, 0);
}

Test(trace_reader, errors_name_line_and_column)
{
    error_at("", 1, 1, "empty file");
    error_at("vsbox-trace 2\n", 1, 13, "version 2 not supported");
    error_at("hello\n", 1, 1, "expected 'vsbox-trace 1'");
    error_at("vsbox-trace 1 extra\n", 1, 15, "unexpected text");
    error_at("vsbox-trace 1\nrdmrs 0x1\n", 2, 1, "unknown event 'rdmrs'");
    error_at("vsbox-trace 1\nrdmsr 0x100000000\n", 2, 7, "does not fit in 32 bits");
    error_at("vsbox-trace 1\ncpuid 0x40000000 0x0 -> 0x1 0x2 0x3 0x100000000\n", 2, 37,
             "does not fit in 32 bits");
    error_at("vsbox-trace 1\nadvance 18446744073709551616\n", 2, 9, "does not fit in 64 bits");
    error_at("vsbox-trace 1\nwrmsr 0x10 zz\n", 2, 12, "expected a number");
    error_at("vsbox-trace 1\nwrmsr 0x10\n", 2, 11, "expected a value");
    error_at("vsbox-trace 1\nwrmsr 0x10 0x5 -> 0x5\n", 2, 19, "expected ok or #GP");
    error_at("vsbox-trace 1\nrdmsr 0x10 -> ok\n", 2, 15, "expected a value or #GP");
    error_at("vsbox-trace 1\nadvance 10 -> ok\n", 2, 12, "takes no result");
    error_at("vsbox-trace 1\nrdtsc ->\n", 2, 9, "expected a value");
    error_at("vsbox-trace 1\nrdtsc -> 0x1 0x2\n", 2, 14, "after the result");
    error_at("vsbox-trace 1\nrdtsc 0x1\n", 2, 7, "unexpected '0x1'");
    error_at("vsbox-trace 1\nv64 rdtsc\n", 2, 1, "vCPU 64 out of range");
    error_at("vsbox-trace 1\nparam-set hpet 1 from=guest\n", 2, 11, "only the viridian");
    error_at("vsbox-trace 1\nparam-set viridian 1 from=dom0\n", 2, 22, "from=toolstack or from=guest");
    error_at("vsbox-trace 1\nmigrate host=xen-9.9\n", 2, 14, "unknown host profile 'xen-9.9'");
    error_at("vsbox-trace 1\nmigrate host=xen-4.5 viridian=base\n", 2, 31, "only a boolean");
    error_at("vsbox-trace 1\nconfig colour=blue\n", 2, 8, "unknown config key 'colour'");
    error_at("vsbox-trace 1\nconfig vcpus=1 vcpus=2\n", 2, 16, "given twice");
    error_at("vsbox-trace 1\nconfig vcpus=65\n", 2, 14, "vcpus must be 1 to 64");
    error_at("vsbox-trace 1\nconfig tsc_khz=0\n", 2, 16, "positive");
    error_at("vsbox-trace 1\nconfig host\n", 2, 8, "expected KEY=VALUE");
    error_at("vsbox-trace 1\nrdtsc\nconfig vcpus=2\n", 3, 1, "before the first event");
    error_at("vsbox-trace 1\nrdtsc # caf\xc3\n", 2, 12, "invalid UTF-8");
    error_at("vsbox-trace 1\nrdtsc \xc3\xa9\n", 2, 7, "unexpected");
}

Test(trace_reader, binary_and_overlong_lines_are_errors)
{
    static const char nul[] = "vsbox-trace 1\nrd\0tsc\n";
    FILE *f = fmemopen((void *)nul, sizeof nul - 1, "r");
    struct trace_reader *r = trace_reader_new(f);
    struct trace_item it;
    struct trace_error err;
    cr_assert_eq(trace_reader_next(r, &it, &err), TRACE_ERR);
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.col, 3);
    cr_assert(strstr(err.msg, "NUL"));
    trace_reader_free(r);
    fclose(f);

    static char long_line[TRACE_MAX_LINE + 100];
    memset(long_line, 'a', sizeof long_line - 1);
    memcpy(long_line, "vsbox-trace 1\n", 14);
    struct parsed p = read_text(long_line);
    cr_assert_eq(p.rc, TRACE_ERR);
    cr_assert_eq(p.err.line, 2);
    cr_assert_eq(p.err.col, TRACE_MAX_LINE + 1);
}

Test(trace_writer, canonical_text_is_lowercase_hex_and_decimal_counts)
{
    char buf[256];
    struct vevent ev = { .kind = VEV_CPUID, .a = { 0x40000003, 0 } };
    struct vres regs = { VRES_REGS, { 0x870, 0, 0, 0 } };
    trace_format_line(buf, sizeof buf, &ev, &regs, NULL);
    cr_assert_str_eq(buf, "cpuid 0x40000003 0x0 -> 0x870 0x0 0x0 0x0");

    ev = (struct vevent){ .kind = VEV_WRMSR, .vcpu = 2, .a = { 0x40000000, 0x1040601001DB0ull } };
    struct vres ok = { .kind = VRES_OK };
    trace_format_line(buf, sizeof buf, &ev, &ok, "HV_X64_MSR_GUEST_OS_ID");
    cr_assert_str_eq(buf, "v2 wrmsr 0x40000000 0x1040601001db0 -> ok  # HV_X64_MSR_GUEST_OS_ID");

    ev = (struct vevent){ .kind = VEV_ADVANCE, .a = { 2500000000ull } };
    trace_format_line(buf, sizeof buf, &ev, NULL, NULL);
    cr_assert_str_eq(buf, "advance 2500000000");

    ev = (struct vevent){ .kind = VEV_PARAM_SET, .a = { 3 }, .from_guest = true };
    struct vres eperm = { .kind = VRES_EPERM };
    trace_format_line(buf, sizeof buf, &ev, &eperm, NULL);
    cr_assert_str_eq(buf, "param-set viridian 0x3 from=guest -> EPERM");

    ev = (struct vevent){ .kind = VEV_MIGRATE, .host = vprofile_find("xen-4.3"), .legacy = 1 };
    struct vres refused = { .kind = VRES_REFUSED };
    trace_format_line(buf, sizeof buf, &ev, &refused, NULL);
    cr_assert_str_eq(buf, "migrate host=xen-4.3 viridian=1 -> refused");

    struct trace_config cfg = { .have = TRACE_HAVE_HOST | TRACE_HAVE_TSC_KHZ,
                                .host = vprofile_find("xen-4.5"), .tsc_khz = 2500000 };
    trace_format_config(buf, sizeof buf, &cfg);
    cr_assert_str_eq(buf, "config host=xen-4.5 tsc_khz=2500000");
}

Test(trace_writer, parse_of_format_is_identity)
{
    const struct vprofile *h = vprofile_find("xen-4.4");
    const struct {
        struct vevent ev;
        struct vres res;
        const char *comment;
    } cases[] = {
        { { .kind = VEV_CPUID, .a = { 0x40000103, 2 }, .legacy = -1 },
          { VRES_REGS, { 1, 0xffffffff, 0, 7 } }, NULL },
        { { .kind = VEV_RDMSR, .vcpu = 63, .a = { 0xffffffff }, .legacy = -1 },
          { VRES_VALUE, { UINT64_MAX } }, "x" },
        { { .kind = VEV_WRMSR, .a = { 0x40000001, 0 }, .legacy = -1 }, { .kind = VRES_GP }, NULL },
        { { .kind = VEV_RDTSC, .legacy = -1 }, { VRES_VALUE, { 0 } }, "clock" },
        { { .kind = VEV_HYPERCALL, .a = { 8, 1, 2 }, .legacy = -1 }, { VRES_VALUE, { 2 } }, NULL },
        { { .kind = VEV_PARAM_SET, .a = { 5 }, .legacy = -1 }, { .kind = VRES_EINVAL }, NULL },
        { { .kind = VEV_PARAM_GET, .vcpu = 1, .legacy = -1 }, { VRES_VALUE, { 3 } }, NULL },
        { { .kind = VEV_MIGRATE, .host = h, .legacy = 0 }, { .kind = VRES_OK }, "é ✓" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[512];
        trace_format_line(buf, sizeof buf, &cases[i].ev, &cases[i].res, cases[i].comment);
        struct trace_item it = event(buf);
        cr_assert_eq(memcmp(&it.ev, &cases[i].ev, sizeof it.ev), 0, "event of '%s'", buf);
        cr_assert(vres_equal(&it.expect, &cases[i].res), "result of '%s'", buf);
        cr_assert_str_eq(it.comment, cases[i].comment ? cases[i].comment : "", "'%s'", buf);
    }
}
