/* traces/trace_write.c: the canonical writer (docs/trace-format.md, "Canonical form"),
 * and parse(format(x)) == x. Expected texts are written by hand from the format. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/trace_util.h"

static const char *line_of(const struct vevent *ev, const struct vres *res, const char *comment)
{
    static char buf[1024];
    int n = trace_format_line(buf, sizeof buf, ev, res, comment);
    cr_assert_eq((size_t)n, strlen(buf));
    return buf;
}

Test(trace_writer, writes_every_event_in_canonical_form)
{
    const struct {
        struct vevent ev;
        const char *text;
    } cases[] = {
        { { .kind = VEV_CPUID, .a = { 0x40000003, 0 } }, "cpuid 0x40000003 0x0" },
        { { .kind = VEV_RDMSR, .a = { 0x40000022 } }, "rdmsr 0x40000022" },
        { { .kind = VEV_WRMSR, .a = { 0x40000000, 0x1040601001DB0 } },
          "wrmsr 0x40000000 0x1040601001db0" },
        { { .kind = VEV_RDTSC }, "rdtsc" },
        { { .kind = VEV_HYPERCALL, .a = { 0x10008, 0xABC000, UINT64_MAX } },
          "hypercall 0x10008 0xabc000 0xffffffffffffffff" },
        { { .kind = VEV_PARAM_SET, .a = { 0x3 }, .from_guest = true },
          "param-set viridian 0x3 from=guest" },
        { { .kind = VEV_PARAM_SET, .a = { 0 } }, "param-set viridian 0x0 from=toolstack" },
        { { .kind = VEV_PARAM_GET }, "param-get viridian" },
        { { .kind = VEV_ADVANCE, .a = { 2500000000u } }, "advance 2500000000" },
        { { .kind = VEV_ADVANCE, .a = { 0 } }, "advance 0" },
        { { .kind = VEV_MIGRATE, .host = vprofile_find("xen-4.4"), .legacy = -1 },
          "migrate host=xen-4.4" },
        { { .kind = VEV_MIGRATE, .host = vprofile_find("xen-4.3"), .legacy = 0 },
          "migrate host=xen-4.3 viridian=0" },
        { { .kind = VEV_MIGRATE, .host = vprofile_find("xen-4.5"), .legacy = 1 },
          "migrate host=xen-4.5 viridian=1" },
        { { .kind = VEV_RDTSC, .vcpu = 0 }, "rdtsc" },
        { { .kind = VEV_RDTSC, .vcpu = 7 }, "v7 rdtsc" },
        { { .kind = VEV_RDMSR, .vcpu = 63, .a = { 0x10 } }, "v63 rdmsr 0x10" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[256];
        int n = trace_format_event(buf, sizeof buf, &cases[i].ev);
        cr_expect_str_eq(buf, cases[i].text);
        cr_expect_eq((size_t)n, strlen(cases[i].text));
        cr_expect_str_eq(line_of(&cases[i].ev, NULL, NULL), cases[i].text);
    }
}

Test(trace_writer, writes_every_result_form)
{
    const struct {
        struct vres res;
        const char *text;
    } cases[] = {
        { { VRES_REGS, { 0x870, 0, 0xFFFFFFFF, 0x1 } }, "0x870 0x0 0xffffffff 0x1" },
        { { VRES_VALUE, { 0 } }, "0x0" },
        { { VRES_VALUE, { 0x9502F900 } }, "0x9502f900" },
        { { .kind = VRES_OK }, "ok" },
        { { .kind = VRES_GP }, "#GP" },
        { { .kind = VRES_UD }, "#UD" },
        { { .kind = VRES_EPERM }, "EPERM" },
        { { .kind = VRES_EEXIST }, "EEXIST" },
        { { .kind = VRES_EINVAL }, "EINVAL" },
        { { .kind = VRES_REFUSED }, "refused" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[128];
        trace_format_result(buf, sizeof buf, &cases[i].res);
        cr_expect_str_eq(buf, cases[i].text);
    }
}

Test(trace_writer, writes_every_width_of_hex_number)
{
    /* Each digit count from 1 to 16, every digit value in each place, written by hand. */
    const struct {
        uint64_t v;
        const char *text;
    } cases[] = {
        { 0x0, "0x0" },
        { 0xa, "0xa" },
        { 0x9f, "0x9f" },
        { 0x10, "0x10" },
        { 0xabc, "0xabc" },
        { 0x1234, "0x1234" },
        { 0xfedcb, "0xfedcb" },
        { 0x100000, "0x100000" },
        { 0x89abcde, "0x89abcde" },
        { 0xffffffff, "0xffffffff" },
        { 0x100000000, "0x100000000" },
        { 0x1040601001db0, "0x1040601001db0" },
        { 0x0123456789abcdef, "0x123456789abcdef" },
        { 0xfedcba9876543210, "0xfedcba9876543210" },
        { 0x8000000000000000, "0x8000000000000000" },
        { 0xffffffffffffffff, "0xffffffffffffffff" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        struct vres res = { VRES_VALUE, { cases[i].v } };
        trace_format_result(buf, sizeof buf, &res);
        cr_expect_str_eq(buf, cases[i].text);
    }
}

Test(trace_writer, writes_whole_lines_with_result_and_comment)
{
    struct vevent ev = { .kind = VEV_CPUID, .a = { 0x40000003, 0 } };
    struct vres regs = { VRES_REGS, { 0x870, 0, 0, 0 } };
    cr_assert_str_eq(line_of(&ev, &regs, NULL), "cpuid 0x40000003 0x0 -> 0x870 0x0 0x0 0x0");

    ev = (struct vevent){ .kind = VEV_WRMSR, .vcpu = 2, .a = { 0x40000000, 0x1040601001DB0 } };
    struct vres ok = { .kind = VRES_OK };
    cr_assert_str_eq(line_of(&ev, &ok, "HV_X64_MSR_GUEST_OS_ID"),
                     "v2 wrmsr 0x40000000 0x1040601001db0 -> ok  # HV_X64_MSR_GUEST_OS_ID");

    ev = (struct vevent){ .kind = VEV_RDMSR, .a = { 0x40000022 } };
    struct vres gp = { .kind = VRES_GP };
    cr_assert_str_eq(line_of(&ev, &gp, ""), "rdmsr 0x40000022 -> #GP");
    cr_assert_str_eq(line_of(&ev, NULL, "no result"), "rdmsr 0x40000022  # no result");

    /* advance has no result form: a VRES_NONE is left out rather than written unreadable. */
    ev = (struct vevent){ .kind = VEV_ADVANCE, .a = { 10 } };
    struct vres none = { .kind = VRES_NONE };
    cr_assert_str_eq(line_of(&ev, &none, NULL), "advance 10");
}

Test(trace_writer, cleans_comments_so_that_the_line_reads_back)
{
    struct vevent ev = { .kind = VEV_RDTSC };
    cr_assert_str_eq(line_of(&ev, NULL, "two\nlines\r"), "rdtsc  # two lines");
    cr_assert_str_eq(line_of(&ev, NULL, "bad \xff utf-8 \xc3"), "rdtsc  # bad ? utf-8 ?");
    cr_assert_str_eq(line_of(&ev, NULL, "caf\xc3\xa9\t\xe2\x9c\x93"),
                     "rdtsc  # caf\xc3\xa9\t\xe2\x9c\x93");
    cr_assert_str_eq(line_of(&ev, NULL, "   "), "rdtsc");

    char longer[600];
    memset(longer, 'z', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    memcpy(longer + 253, "\xe2\x9c\x93", 3); /* would end at byte 256 */
    const char *line = line_of(&ev, NULL, longer);
    cr_assert_eq(strlen(line), strlen("rdtsc  # ") + 253);
}

Test(trace_writer, truncates_like_snprintf_and_counts_the_whole_length)
{
    struct vevent ev = { .kind = VEV_WRMSR, .a = { 0x40000000, 0x1 } };
    struct vres ok = { .kind = VRES_OK };
    char buf[8];
    int n = trace_format_line(buf, sizeof buf, &ev, &ok, "c");
    cr_assert_eq(n, (int)strlen("wrmsr 0x40000000 0x1 -> ok  # c"));
    cr_assert_str_eq(buf, "wrmsr 0");
    cr_assert_eq(trace_format_line(NULL, 0, &ev, &ok, NULL),
                 (int)strlen("wrmsr 0x40000000 0x1 -> ok"));
    struct trace_config cfg = { .have = TRACE_HAVE_VCPUS, .vcpus = 2 };
    cr_assert_eq(trace_format_config(buf, sizeof buf, &cfg), (int)strlen("config vcpus=2"));
    cr_assert_str_eq(buf, "config ");
}

Test(trace_writer, config_prints_only_the_keys_present_in_order)
{
    char buf[256];
    struct trace_config cfg = { .have = TRACE_HAVE_HOST | TRACE_HAVE_TSC_KHZ,
                                .host = vprofile_find("xen-4.5"), .tsc_khz = 2500000 };
    trace_format_config(buf, sizeof buf, &cfg);
    cr_assert_str_eq(buf, "config host=xen-4.5 tsc_khz=2500000");

    cfg = (struct trace_config){ .have = TRACE_HAVE_VCPUS | TRACE_HAVE_VIRIDIAN | TRACE_HAVE_HOST |
                                         TRACE_HAVE_TSC_KHZ,
                                 .host = vprofile_find("xen-4.3"), .viridian = "all,!freq",
                                 .tsc_khz = 0xffffffff, .vcpus = 64 };
    trace_format_config(buf, sizeof buf, &cfg);
    cr_assert_str_eq(buf, "config host=xen-4.3 viridian=all,!freq tsc_khz=4294967295 vcpus=64");

    cfg = (struct trace_config){ .have = TRACE_HAVE_VIRIDIAN, .viridian = "0" };
    trace_format_config(buf, sizeof buf, &cfg);
    cr_assert_str_eq(buf, "config viridian=0");

    cfg = (struct trace_config){ 0 };
    cr_assert_eq(trace_format_config(buf, sizeof buf, &cfg), 0);
    cr_assert_str_eq(buf, "");
}

Test(trace_writer, a_written_file_reads_back)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    struct trace_config cfg = { .have = TRACE_HAVE_HOST | TRACE_HAVE_VIRIDIAN | TRACE_HAVE_VCPUS,
                                .host = vprofile_find("xen-4.4"), .viridian = "base,freq",
                                .vcpus = 2 };
    struct vevent ev = { .kind = VEV_RDMSR, .vcpu = 1, .a = { 0x40000022 }, .legacy = -1 };
    struct vres gp = { .kind = VRES_GP };
    cr_assert_eq(trace_write_magic(f), 0);
    cr_assert_eq(trace_write_config(f, &cfg), 0);
    cr_assert_eq(trace_write_line(f, &ev, &gp, "freq is off"), 0);
    cr_assert_eq(trace_write_line(f, &ev, NULL, NULL), 0);
    rewind(f);
    char text[256] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    cr_assert_str_eq(text, "vsbox-trace 1\n"
                           "config host=xen-4.4 viridian=base,freq vcpus=2\n"
                           "v1 rdmsr 0x40000022 -> #GP  # freq is off\n"
                           "v1 rdmsr 0x40000022\n");
    rewind(f);
    struct parsed p = read_file_stream(f);
    fclose(f);
    cr_assert_eq(p.rc, TRACE_EOF, "%s", p.err.msg);
    cr_assert_eq(p.cfg.have, cfg.have);
    cr_assert_eq(p.cfg.host, cfg.host);
    cr_assert_str_eq(p.cfg.viridian, "base,freq");
    cr_assert_eq(p.count, 2);
    expect_event(&p.items[0].ev, &ev, "written rdmsr");
    expect_result(&p.items[0], gp, "written rdmsr");
    cr_assert_str_eq(p.items[0].comment, "freq is off");
}

Test(trace_writer, an_empty_config_writes_no_line)
{
    FILE *f = tmpfile();
    struct trace_config cfg = { 0 };
    cr_assert_eq(trace_write_magic(f), 0);
    cr_assert_eq(trace_write_config(f, &cfg), 0);
    cr_assert_eq(ftell(f), (long)strlen(MAGIC));
    fclose(f);
}

Test(trace_writer, parse_of_format_is_the_same_event)
{
    char long_comment[TRACE_MAX_COMMENT];
    memset(long_comment, 'k', sizeof long_comment - 1);
    long_comment[sizeof long_comment - 1] = '\0';
    const struct {
        struct vevent ev;
        struct vres res;
        const char *comment;
    } cases[] = {
        { { .kind = VEV_CPUID, .a = { 0x40000103, 2 }, .legacy = -1 },
          { VRES_REGS, { 1, 0xffffffff, 0, 7 } }, NULL },
        { { .kind = VEV_CPUID, .vcpu = 5, .a = { 0xffffffff, 0xffffffff }, .legacy = -1 },
          { .kind = VRES_NONE }, "no result" },
        { { .kind = VEV_RDMSR, .vcpu = 63, .a = { 0xffffffff }, .legacy = -1 },
          { VRES_VALUE, { UINT64_MAX } }, "x" },
        { { .kind = VEV_RDMSR, .a = { 0 }, .legacy = -1 }, { .kind = VRES_GP }, NULL },
        { { .kind = VEV_WRMSR, .a = { 0x40000001, 0 }, .legacy = -1 }, { .kind = VRES_GP }, NULL },
        { { .kind = VEV_WRMSR, .vcpu = 1, .a = { 0x40000000, UINT64_MAX }, .legacy = -1 },
          { .kind = VRES_OK }, "HV_X64_MSR_GUEST_OS_ID" },
        { { .kind = VEV_RDTSC, .legacy = -1 }, { VRES_VALUE, { 0 } }, "clock" },
        { { .kind = VEV_HYPERCALL, .a = { 8, 1, 2 }, .legacy = -1 }, { VRES_VALUE, { 2 } }, NULL },
        { { .kind = VEV_HYPERCALL, .vcpu = 9, .a = { UINT64_MAX, 0, 1 }, .legacy = -1 },
          { .kind = VRES_UD }, NULL },
        { { .kind = VEV_PARAM_SET, .a = { 5 }, .legacy = -1 }, { .kind = VRES_EINVAL }, NULL },
        { { .kind = VEV_PARAM_SET, .a = { 3 }, .from_guest = true, .legacy = -1 },
          { .kind = VRES_EPERM }, NULL },
        { { .kind = VEV_PARAM_SET, .a = { 1 }, .legacy = -1 }, { .kind = VRES_EEXIST }, NULL },
        { { .kind = VEV_PARAM_SET, .a = { 1 }, .legacy = -1 }, { .kind = VRES_OK }, NULL },
        { { .kind = VEV_PARAM_GET, .vcpu = 1, .legacy = -1 }, { VRES_VALUE, { 3 } }, NULL },
        { { .kind = VEV_ADVANCE, .a = { UINT64_MAX }, .legacy = -1 }, { .kind = VRES_NONE },
          "the longest wait" },
        { { .kind = VEV_MIGRATE, .host = vprofile_find("xen-4.4"), .legacy = 0 },
          { .kind = VRES_OK }, "caf\xc3\xa9 \xe2\x9c\x93" },
        { { .kind = VEV_MIGRATE, .host = vprofile_find("xen-4.3"), .legacy = 1 },
          { .kind = VRES_REFUSED }, NULL },
        { { .kind = VEV_MIGRATE, .vcpu = 2, .host = vprofile_find("xen-4.5"), .legacy = -1 },
          { .kind = VRES_OK }, "  indented" },
        { { .kind = VEV_RDTSC, .legacy = -1 }, { VRES_VALUE, { 1 } }, long_comment },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *text = line_of(&cases[i].ev, &cases[i].res, cases[i].comment);
        char copy[1024];
        strcpy(copy, text);
        struct trace_item it = event(copy);
        expect_event(&it.ev, &cases[i].ev, copy);
        cr_expect_eq(it.has_expect, cases[i].res.kind != VRES_NONE, "'%s'", copy);
        cr_expect(vres_equal(&it.expect, &cases[i].res), "result of '%s'", copy);
        cr_expect_str_eq(it.comment, cases[i].comment ? cases[i].comment : "", "'%s'", copy);
    }
}
