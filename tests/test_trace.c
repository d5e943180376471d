/* Trace v1 reader and writer (docs/trace-format.md, ../shared/TRACE-V1.md). Expected
 * structs, columns and canonical texts are written by hand here, never captured from
 * the code under test. Columns count bytes from 1. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/support.h"
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

static struct parsed read_file_stream(FILE *f)
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

static struct parsed read_bytes(const char *data, size_t len)
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

static struct trace_item event(const char *line)
{
    struct trace_item it;
    struct trace_error err;
    cr_assert_eq(trace_parse_event(line, &it, &err), TRACE_OK, "'%s': %u:%u %s", line,
                 err.line, err.col, err.msg);
    cr_assert_eq(it.kind, TRACE_EVENT);
    return it;
}

static void expect_error(const struct parsed *p, unsigned line, unsigned col, const char *msg,
                         const char *what)
{
    cr_assert_eq(p->rc, TRACE_ERR, "no error for: %s", what);
    cr_expect_eq(p->err.line, line, "line %u, want %u (%s) for: %s", p->err.line, line,
                 p->err.msg, what);
    cr_expect_eq(p->err.col, col, "col %u, want %u (%s) for: %s", p->err.col, col, p->err.msg,
                 what);
    cr_expect(strstr(p->err.msg, msg), "message '%s' lacks '%s' for: %s", p->err.msg, msg, what);
}

/* A file whose error is at line:col with a message containing msg. */
static void error_at_bytes(const char *text, size_t len, unsigned line, unsigned col,
                           const char *msg)
{
    struct parsed p = read_bytes(text, len);
    expect_error(&p, line, col, msg, text);
}

#define ERROR_AT(literal, line, col, msg) \
    error_at_bytes(literal, sizeof literal - 1, line, col, msg)
/* An event on line 2, after the magic line. */
#define EVENT_ERROR_AT(ev, col, msg) ERROR_AT(MAGIC ev "\n", 2, col, msg)

static void expect_event(const struct vevent *got, const struct vevent *want, const char *what)
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

static void expect_result(const struct trace_item *it, struct vres want, const char *what)
{
    cr_assert(it->has_expect, "no result in %s", what);
    cr_expect_eq(it->expect.kind, want.kind, "result kind of %s", what);
    cr_expect(vres_equal(&it->expect, &want), "result values of %s", what);
}

static void expect_line_result(const char *line, struct vres want)
{
    struct trace_item it = event(line);
    expect_result(&it, want, line);
}

static const struct vprofile *host(const char *name)
{
    const struct vprofile *h = vprofile_find(name);
    cr_assert_not_null(h, "profile %s", name);
    return h;
}

/* ---- every event and result form ---- */

Test(trace_events, cpuid_takes_leaf_and_subleaf_and_answers_four_registers)
{
    struct trace_item it = event("cpuid 0x40000000 0x1 -> 0x40000006 0x7263694d 0x0 0xffffffff");
    expect_event(&it.ev,
                 &(struct vevent){ .kind = VEV_CPUID, .a = { 0x40000000, 1 }, .legacy = -1 },
                 "cpuid");
    expect_result(&it, (struct vres){ VRES_REGS, { 0x40000006, 0x7263694d, 0, 0xffffffff } },
                  "cpuid");
}

Test(trace_events, rdmsr_answers_a_value_or_gp)
{
    struct trace_item it = event("rdmsr 0x40000022 -> 0x9502f900");
    expect_event(&it.ev, &(struct vevent){ .kind = VEV_RDMSR, .a = { 0x40000022 }, .legacy = -1 },
                 "rdmsr");
    expect_result(&it, (struct vres){ VRES_VALUE, { 0x9502f900 } }, "rdmsr value");
    expect_line_result("rdmsr 0x40000022 -> #GP",
                       (struct vres){ .kind = VRES_GP });
}

Test(trace_events, wrmsr_takes_a_64_bit_value_and_answers_ok_or_gp)
{
    struct trace_item it = event("wrmsr 0x40000000 0xffffffffffffffff -> ok");
    expect_event(&it.ev,
                 &(struct vevent){ .kind = VEV_WRMSR, .a = { 0x40000000, UINT64_MAX },
                                   .legacy = -1 },
                 "wrmsr");
    expect_result(&it, (struct vres){ .kind = VRES_OK }, "wrmsr ok");
    expect_line_result("wrmsr 0x40000003 0x1 -> #GP",
                       (struct vres){ .kind = VRES_GP });
}

Test(trace_events, rdtsc_answers_a_value)
{
    struct trace_item it = event("rdtsc -> 0x3e8");
    expect_event(&it.ev, &(struct vevent){ .kind = VEV_RDTSC, .legacy = -1 }, "rdtsc");
    expect_result(&it, (struct vres){ VRES_VALUE, { 1000 } }, "rdtsc");
}

Test(trace_events, hypercall_takes_rcx_rdx_r8_and_answers_rax_or_ud)
{
    struct trace_item it = event("hypercall 0x8 0x1000 0x2000 -> 0x2");
    expect_event(&it.ev,
                 &(struct vevent){ .kind = VEV_HYPERCALL, .a = { 8, 0x1000, 0x2000 },
                                   .legacy = -1 },
                 "hypercall");
    expect_result(&it, (struct vres){ VRES_VALUE, { 2 } }, "hypercall rax");
    expect_line_result("hypercall 0x8 0x0 0x0 -> #UD",
                       (struct vres){ .kind = VRES_UD });
}

Test(trace_events, param_set_names_its_writer_and_answers_ok_or_an_errno)
{
    struct trace_item it = event("param-set viridian 0x3 from=guest -> EPERM");
    expect_event(&it.ev,
                 &(struct vevent){ .kind = VEV_PARAM_SET, .a = { 3 }, .from_guest = true,
                                   .legacy = -1 },
                 "param-set from=guest");
    expect_result(&it, (struct vres){ .kind = VRES_EPERM }, "EPERM");

    it = event("param-set viridian 0x1 from=toolstack -> ok");
    expect_event(&it.ev, &(struct vevent){ .kind = VEV_PARAM_SET, .a = { 1 }, .legacy = -1 },
                 "param-set from=toolstack");
    expect_result(&it, (struct vres){ .kind = VRES_OK }, "ok");
    expect_line_result("param-set viridian 0x1 from=toolstack -> EEXIST",
                       (struct vres){ .kind = VRES_EEXIST });
    expect_line_result("param-set viridian 0x2 from=toolstack -> EINVAL",
                       (struct vres){ .kind = VRES_EINVAL });
}

Test(trace_events, param_get_answers_a_value)
{
    struct trace_item it = event("param-get viridian -> 0x1");
    expect_event(&it.ev, &(struct vevent){ .kind = VEV_PARAM_GET, .legacy = -1 }, "param-get");
    expect_result(&it, (struct vres){ VRES_VALUE, { 1 } }, "param-get");
}

Test(trace_events, advance_takes_a_tick_count_and_no_result)
{
    struct trace_item it = event("advance 2500000000");
    expect_event(&it.ev,
                 &(struct vevent){ .kind = VEV_ADVANCE, .a = { 2500000000u }, .legacy = -1 },
                 "advance");
    cr_assert_not(it.has_expect);
}

Test(trace_events, migrate_is_a_mask_stream_unless_viridian_makes_it_legacy)
{
    struct trace_item it = event("migrate host=xen-4.4 -> refused");
    expect_event(&it.ev,
                 &(struct vevent){ .kind = VEV_MIGRATE, .host = host("xen-4.4"), .legacy = -1 },
                 "migrate");
    expect_result(&it, (struct vres){ .kind = VRES_REFUSED }, "refused");

    const struct {
        const char *line;
        int legacy;
    } legacy[] = {
        { "migrate host=xen-4.5 viridian=0 -> ok", 0 },
        { "migrate host=xen-4.5 viridian=false -> ok", 0 },
        { "migrate host=xen-4.5 viridian=1 -> ok", 1 },
        { "migrate host=xen-4.5 viridian=true -> ok", 1 },
    };
    for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++) {
        it = event(legacy[i].line);
        expect_event(&it.ev,
                     &(struct vevent){ .kind = VEV_MIGRATE, .host = host("xen-4.5"),
                                       .legacy = legacy[i].legacy },
                     legacy[i].line);
        expect_result(&it, (struct vres){ .kind = VRES_OK }, legacy[i].line);
    }
}

Test(trace_events, an_event_without_a_result_expects_nothing)
{
    const char *lines[] = { "cpuid 0x40000003 0x0", "rdmsr 0x40000000", "wrmsr 0x40000000 0x0",
                            "rdtsc", "hypercall 0x1 0x2 0x3", "param-set viridian 0x1 from=guest",
                            "param-get viridian", "advance 0", "migrate host=xen-4.3" };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct trace_item it = event(lines[i]);
        cr_expect_not(it.has_expect, "%s", lines[i]);
        cr_expect_eq(it.expect.kind, VRES_NONE, "%s", lines[i]);
    }
}

Test(trace_events, a_vcpu_prefix_names_the_virtual_cpu)
{
    cr_assert_eq(event("rdtsc").ev.vcpu, 0);
    cr_assert_eq(event("v0 rdtsc").ev.vcpu, 0);
    cr_assert_eq(event("v1 rdtsc").ev.vcpu, 1);
    cr_assert_eq(event("v63 wrmsr 0x40000070 0x0 -> ok").ev.vcpu, 63);
}

Test(trace_events, numbers_are_hex_in_either_case_or_decimal)
{
    cr_assert_eq(event("rdmsr 0x40000022").ev.a[0], 0x40000022);
    cr_assert_eq(event("rdmsr 0X40000022").ev.a[0], 0x40000022);
    cr_assert_eq(event("rdmsr 1073741858").ev.a[0], 0x40000022);
    cr_assert_eq(event("wrmsr 0x10 0xABCdef").ev.a[1], 0xabcdef);
    cr_assert_eq(event("wrmsr 0x10 0x000000000000000000000001").ev.a[1], 1);
    cr_assert_eq(event("wrmsr 0x10 0").ev.a[1], 0);
    cr_assert_eq(event("wrmsr 0x10 0x0").ev.a[1], 0);
    cr_assert_eq(event("wrmsr 0x10 007").ev.a[1], 7);
}

Test(trace_events, fields_take_their_full_width)
{
    struct trace_item it = event("cpuid 0xffffffff 4294967295 -> 0xffffffff 0xffffffff "
                                 "0xffffffff 4294967295");
    cr_assert_eq(it.ev.a[0], 0xffffffffu);
    cr_assert_eq(it.ev.a[1], 0xffffffffu);
    cr_assert_eq(it.expect.v[3], 0xffffffffu);
    cr_assert_eq(event("rdmsr 0xffffffff").ev.a[0], 0xffffffffu);
    cr_assert_eq(event("advance 18446744073709551615").ev.a[0], UINT64_MAX);
    cr_assert_eq(event("hypercall 0xffffffffffffffff 0x0 0x0").ev.a[0], UINT64_MAX);
    cr_assert_eq(event("rdtsc -> 0xFFFFFFFFFFFFFFFF").expect.v[0], UINT64_MAX);
}

/* ---- comments, blanks and line ends ---- */

Test(trace_lines, a_trailing_comment_is_kept_without_the_hash_and_one_blank)
{
    struct trace_item it = event("rdmsr 0x40000022 -> #GP   # freq is off");
    expect_result(&it, (struct vres){ .kind = VRES_GP }, "#GP before a comment");
    cr_assert_str_eq(it.comment, "freq is off");
    cr_assert_str_eq(event("rdtsc #   indented").comment, "  indented");
    cr_assert_str_eq(event("rdtsc #\ttab").comment, "tab");
    cr_assert_str_eq(event("rdtsc # caf\xc3\xa9 \xe2\x9c\x93").comment, "caf\xc3\xa9 \xe2\x9c\x93");
    cr_assert_str_eq(event("rdtsc #").comment, "");
    cr_assert_str_eq(event("rdtsc # trailing blanks go   \t").comment, "trailing blanks go");
    cr_assert_str_eq(event("rdtsc").comment, "");
}

Test(trace_lines, hash_gp_and_hash_ud_are_results_not_comments)
{
    struct trace_item it = event("rdmsr 0x1 -> #GP");
    cr_assert_eq(it.expect.kind, VRES_GP);
    cr_assert_str_eq(it.comment, "");
    it = event("hypercall 0x0 0x0 0x0 -> #UD #");
    cr_assert_eq(it.expect.kind, VRES_UD);
}

Test(trace_lines, a_hash_not_followed_by_a_blank_is_not_a_comment)
{
    struct trace_item it;
    struct trace_error err;
    cr_assert_eq(trace_parse_event("rdtsc #x", &it, &err), TRACE_ERR);
    cr_assert_eq(err.col, 7, "%s", err.msg);
    /* Nor is a '#' inside a token. */
    cr_assert_eq(trace_parse_event("rdtsc a# b", &it, &err), TRACE_ERR);
    cr_assert_eq(err.col, 7, "%s", err.msg);
    EVENT_ERROR_AT("#rdtsc", 1, "unknown event '#rdtsc'");
}

Test(trace_lines, a_long_comment_is_cut_at_a_character_boundary)
{
    /* 254 ASCII bytes then a 2-byte character: 256 bytes would not fit with the NUL. */
    char line[400] = "rdtsc # ";
    memset(line + 8, 'x', 254);
    strcpy(line + 8 + 254, "\xc3\xa9yz");
    struct trace_item it = event(line);
    cr_assert_eq(strlen(it.comment), 254);
    cr_assert_eq(it.comment[253], 'x');
    /* 255 bytes fit exactly. */
    line[8 + 255] = '\0';
    memset(line + 8, 'y', 255);
    it = event(line);
    cr_assert_eq(strlen(it.comment), TRACE_MAX_COMMENT - 1);
    /* A cut that ends on a blank drops it, as the end of a line would. */
    memset(line + 8, 'w', 253);
    strcpy(line + 8 + 253, "  more");
    it = event(line);
    cr_assert_eq(strlen(it.comment), 253);
}

Test(trace_lines, whole_line_comments_and_blank_lines_are_items)
{
    struct parsed p = READ("# before the magic\n\nvsbox-trace 1\n#\n  # a comment  \n"
                           "   \t \nrdtsc\n");
    cr_assert_eq(p.rc, TRACE_EOF, "%u:%u %s", p.err.line, p.err.col, p.err.msg);
    cr_assert_eq(p.count, 6);
    const struct {
        enum trace_item_kind kind;
        unsigned line;
        const char *comment;
    } want[] = {
        { TRACE_COMMENT, 1, "before the magic" },
        { TRACE_BLANK, 2, "" },
        { TRACE_COMMENT, 4, "" },
        { TRACE_COMMENT, 5, "a comment" },
        { TRACE_BLANK, 6, "" },
        { TRACE_EVENT, 7, "" },
    };
    for (int i = 0; i < 6; i++) {
        cr_expect_eq(p.items[i].kind, want[i].kind, "item %d", i);
        cr_expect_eq(p.items[i].line, want[i].line, "item %d", i);
        cr_expect_str_eq(p.items[i].comment, want[i].comment, "item %d", i);
    }
}

Test(trace_lines, leading_and_trailing_blanks_are_ignored)
{
    struct parsed p = READ("  vsbox-trace 1\t\n"
                           "\t config  vcpus=2  \n"
                           "   v1   wrmsr\t0x10  0x5 ->   ok  \n");
    cr_assert_eq(p.rc, TRACE_EOF, "%u:%u %s", p.err.line, p.err.col, p.err.msg);
    cr_assert_eq(p.count, 1);
    cr_assert_eq(p.cfg.vcpus, 2);
    expect_event(&p.items[0].ev,
                 &(struct vevent){ .kind = VEV_WRMSR, .vcpu = 1, .a = { 0x10, 5 }, .legacy = -1 },
                 "blank-padded wrmsr");
    expect_result(&p.items[0], (struct vres){ .kind = VRES_OK }, "blank-padded wrmsr");
}

Test(trace_lines, crlf_line_ends_work_throughout)
{
    struct parsed p = READ("vsbox-trace 1\r\n# note\r\nconfig host=xen-4.5 viridian=base\r\n\r\n"
                           "rdtsc -> 0x0  # end\r\nadvance 5\r\nrdmsr 0x10 -> 0x5\r\n");
    cr_assert_eq(p.rc, TRACE_EOF, "%u:%u %s", p.err.line, p.err.col, p.err.msg);
    cr_assert_eq(p.count, 5);
    cr_assert_str_eq(p.items[0].comment, "note");
    cr_assert_eq(p.items[1].kind, TRACE_BLANK);
    cr_assert_str_eq(p.items[2].comment, "end");
    cr_assert_eq(p.items[3].ev.a[0], 5);
    cr_assert_eq(p.items[4].expect.v[0], 5);
    cr_assert_eq(p.items[4].line, 7);
    cr_assert_str_eq(p.cfg.viridian, "base");
}

Test(trace_lines, the_last_line_needs_no_line_end)
{
    struct parsed p = READ("vsbox-trace 1\nrdtsc -> 0x1");
    cr_assert_eq(p.rc, TRACE_EOF, "%s", p.err.msg);
    cr_assert_eq(p.count, 1);
    cr_assert_eq(p.items[0].expect.v[0], 1);
    p = READ("vsbox-trace 1\r\nrdtsc -> 0x1\r");
    cr_assert_eq(p.rc, TRACE_EOF, "%s", p.err.msg);
    cr_assert_eq(p.count, 1);
}

Test(trace_lines, a_file_with_only_the_magic_line_gives_eof)
{
    struct parsed p = READ("vsbox-trace 1\n");
    cr_assert_eq(p.rc, TRACE_EOF, "%s", p.err.msg);
    cr_assert_eq(p.count, 0);
    cr_assert_eq(p.cfg.have, 0);
    p = READ("vsbox-trace 1");
    cr_assert_eq(p.rc, TRACE_EOF, "%s", p.err.msg);
}

Test(trace_lines, a_line_of_exactly_the_limit_is_read)
{
    static char text[TRACE_MAX_LINE + 64];
    strcpy(text, MAGIC "rdtsc # ");
    size_t start = strlen(MAGIC);
    memset(text + strlen(text), 'c', TRACE_MAX_LINE - 8);
    strcpy(text + start + TRACE_MAX_LINE, "\r\n");
    struct parsed p = read_bytes(text, strlen(text));
    cr_assert_eq(p.rc, TRACE_EOF, "%u:%u %s", p.err.line, p.err.col, p.err.msg);
    cr_assert_eq(p.count, 1);
    cr_assert_eq(strlen(p.items[0].comment), TRACE_MAX_COMMENT - 1);
}

Test(trace_lines, a_utf8_byte_order_mark_before_the_magic_is_skipped)
{
    struct parsed p = READ("\xef\xbb\xbfvsbox-trace 1\nrdtsc\n");
    cr_assert_eq(p.rc, TRACE_EOF, "%s", p.err.msg);
    cr_assert_eq(p.count, 1);
    /* Columns count from after the mark, as editors show them. */
    ERROR_AT("\xef\xbb\xbfvsbox-trace 7\n", 1, 13, "version 7 not supported");
}

Test(trace_lines, the_end_of_file_and_errors_are_final)
{
    FILE *f = tmpfile();
    fputs(MAGIC "rdtsc\n", f);
    rewind(f);
    struct trace_reader *r = trace_reader_new(f);
    struct trace_item it;
    struct trace_error err;
    cr_assert_eq(trace_reader_next(r, &it, &err), TRACE_OK);
    cr_assert_eq(trace_reader_next(r, &it, &err), TRACE_EOF);
    cr_assert_eq(trace_reader_next(r, &it, &err), TRACE_EOF);
    trace_reader_free(r);
    fclose(f);

    /* After an overlong line the stream is mid-line: the reader must not resume there. */
    static char text[3 * TRACE_MAX_LINE];
    memset(text, 'a', sizeof text - 1);
    memcpy(text, MAGIC, strlen(MAGIC));
    memcpy(text + TRACE_MAX_LINE + 100, "\nrdtsc\n", 7);
    f = tmpfile();
    fwrite(text, 1, strlen(text), f);
    rewind(f);
    r = trace_reader_new(f);
    cr_assert_eq(trace_reader_next(r, &it, &err), TRACE_ERR);
    cr_assert_eq(err.line, 2);
    err = (struct trace_error){ 0 };
    cr_assert_eq(trace_reader_next(r, &it, &err), TRACE_ERR);
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.col, TRACE_MAX_LINE + 1);
    trace_reader_free(r);
    fclose(f);
}

/* ---- the header ---- */

Test(trace_header, config_lines_merge_before_the_first_event)
{
    struct parsed p = READ(MAGIC "config host=xen-4.4 viridian=1\n"
                           "# between\n"
                           "config tsc_khz=0x2625a0 vcpus=4\n"
                           "rdtsc\n");
    cr_assert_eq(p.rc, TRACE_EOF, "%s", p.err.msg);
    cr_assert_eq(p.cfg.have, TRACE_HAVE_HOST | TRACE_HAVE_VIRIDIAN | TRACE_HAVE_TSC_KHZ |
                                 TRACE_HAVE_VCPUS);
    cr_assert_eq(p.cfg.host, host("xen-4.4"));
    cr_assert_str_eq(p.cfg.viridian, "1");
    cr_assert_eq(p.cfg.viridian_line, 2);
    cr_assert_eq(p.cfg.viridian_col, 30);
    cr_assert_eq(p.cfg.tsc_khz, 2500000);
    cr_assert_eq(p.cfg.vcpus, 4);
    cr_assert_eq(p.count, 2, "the comment and the event");
    cr_assert_eq(p.items[1].line, 5);
}

Test(trace_header, every_key_is_optional)
{
    struct parsed p = READ(MAGIC "config tsc_khz=1000\nrdtsc\n");
    cr_assert_eq(p.rc, TRACE_EOF, "%s", p.err.msg);
    cr_assert_eq(p.cfg.have, TRACE_HAVE_TSC_KHZ);
    cr_assert_null(p.cfg.host);
    cr_assert_str_eq(p.cfg.viridian, "");
}

Test(trace_header, the_viridian_spec_is_kept_verbatim_for_the_caller)
{
    struct parsed p = READ(MAGIC "config  viridian=all,!freq,time_ref_count  host=xen-4.5\n");
    cr_assert_eq(p.rc, TRACE_EOF, "%s", p.err.msg);
    cr_assert_str_eq(p.cfg.viridian, "all,!freq,time_ref_count");
    cr_assert_eq(p.cfg.viridian_line, 2);
    cr_assert_eq(p.cfg.viridian_col, 18);
    cr_assert_eq(p.cfg.host, host("xen-4.5"));
}

Test(trace_header, numbers_reach_the_ends_of_their_ranges)
{
    struct parsed p = READ(MAGIC "config tsc_khz=4294967295 vcpus=64\n");
    cr_assert_eq(p.rc, TRACE_EOF, "%s", p.err.msg);
    cr_assert_eq(p.cfg.tsc_khz, 4294967295u);
    cr_assert_eq(p.cfg.vcpus, VMODEL_MAX_VCPUS);
    p = READ(MAGIC "config tsc_khz=0x1 vcpus=0x1\n");
    cr_assert_eq(p.rc, TRACE_EOF, "%s", p.err.msg);
    cr_assert_eq(p.cfg.tsc_khz, 1);
    cr_assert_eq(p.cfg.vcpus, 1);
}

Test(trace_header, the_sample_file_of_every_form_reads_as_written)
{
    FILE *f = fopen(src_path("tests/data/trace/every-form.trace"), "r");
    cr_assert_not_null(f);
    struct parsed p = read_file_stream(f);
    fclose(f);
    cr_assert_eq(p.rc, TRACE_EOF, "%u:%u %s", p.err.line, p.err.col, p.err.msg);
    cr_assert_eq(p.cfg.host, host("xen-4.4"));
    cr_assert_str_eq(p.cfg.viridian, "all,!freq");
    cr_assert_eq(p.cfg.tsc_khz, 2500000);
    cr_assert_eq(p.cfg.vcpus, 4);
    cr_assert_eq(p.count, 25);
    cr_assert_eq(p.items[0].kind, TRACE_COMMENT);
    cr_assert_eq(p.items[1].kind, TRACE_COMMENT);
    cr_assert_eq(p.items[2].kind, TRACE_BLANK);
    cr_assert_eq(p.items[2].line, 6);

    const struct {
        unsigned line;
        struct vevent ev;
        bool has_expect;
        struct vres res;
        const char *comment;
    } want[] = {
        { 7, { .kind = VEV_CPUID, .a = { 0x40000000, 0 }, .legacy = -1 }, true,
          { VRES_REGS, { 0x40000006, 0x7263694d, 0x666f736f, 0x76482074 } }, "" },
        { 8, { .kind = VEV_RDMSR, .a = { 0x40000000 }, .legacy = -1 }, true,
          { VRES_VALUE, { 0 } }, "" },
        { 9, { .kind = VEV_RDMSR, .a = { 0x40000022 }, .legacy = -1 }, true, { .kind = VRES_GP },
          "HV_X64_MSR_TSC_FREQUENCY" },
        { 10, { .kind = VEV_WRMSR, .a = { 0x40000000, 0x1040601001db0 }, .legacy = -1 }, true,
          { .kind = VRES_OK }, "" },
        { 11, { .kind = VEV_WRMSR, .a = { 0x40000003, 1 }, .legacy = -1 }, true,
          { .kind = VRES_GP }, "" },
        { 12, { .kind = VEV_RDTSC, .legacy = -1 }, true, { VRES_VALUE, { 1000 } }, "" },
        { 13, { .kind = VEV_HYPERCALL, .vcpu = 3, .a = { 8, 0x1000, 0x2000 }, .legacy = -1 }, true,
          { VRES_VALUE, { 2 } }, "" },
        { 14, { .kind = VEV_HYPERCALL, .legacy = -1 }, true, { .kind = VRES_UD }, "" },
        { 15, { .kind = VEV_PARAM_SET, .a = { 1 }, .legacy = -1 }, true, { .kind = VRES_OK }, "" },
        { 16, { .kind = VEV_PARAM_SET, .a = { 3 }, .from_guest = true, .legacy = -1 }, true,
          { .kind = VRES_EPERM }, "" },
        { 17, { .kind = VEV_PARAM_SET, .a = { 3 }, .legacy = -1 }, true,
          { .kind = VRES_EEXIST }, "" },
        { 18, { .kind = VEV_PARAM_SET, .a = { 0x200 }, .legacy = -1 }, true,
          { .kind = VRES_EINVAL }, "" },
        { 19, { .kind = VEV_PARAM_GET, .legacy = -1 }, true, { VRES_VALUE, { 1 } }, "" },
        { 20, { .kind = VEV_ADVANCE, .a = { 2500000000u }, .legacy = -1 }, false,
          { .kind = VRES_NONE }, "" },
        { 21, { .kind = VEV_MIGRATE, .host = host("xen-4.5"), .legacy = -1 }, true,
          { .kind = VRES_OK }, "" },
        { 22, { .kind = VEV_MIGRATE, .host = host("xen-4.3"), .legacy = 1 }, true,
          { .kind = VRES_REFUSED }, "" },
        { 23, { .kind = VEV_RDTSC, .vcpu = 63, .legacy = -1 }, false, { .kind = VRES_NONE },
          "  indented comment, kept as written" },
        { 24, { .kind = VEV_POLL, .vcpu = 2, .a = { 3 }, .legacy = -1 }, true,
          { VRES_VALUE, { 1 } }, "" },
        { 25, { .kind = VEV_MIGRATE, .host = host("xen-4.22"), .a = { 20000000 }, .legacy = -1 },
          true, { .kind = VRES_OK }, "" },
        { 26, { .kind = VEV_HYPERCALL, .a = { 0x10002, 0x3000, 0 }, .legacy = -1 }, true,
          { VRES_VALUE, { 0x100000000ull } }, "" },
        { 27, { .kind = VEV_HYPERCALL, .a = { 2, 0x3000, 0 }, .legacy = -1 }, true,
          { VRES_VALUE, { 5 } }, "" },
        { 28, { .kind = VEV_PARAM_GET, .from_guest = true, .legacy = -1 }, true,
          { .kind = VRES_EPERM }, "" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct trace_item *it = &p.items[3 + i];
        char what[32];
        snprintf(what, sizeof what, "line %u", want[i].line);
        cr_expect_eq(it->kind, TRACE_EVENT, "%s", what);
        cr_expect_eq(it->line, want[i].line, "%s", what);
        expect_event(&it->ev, &want[i].ev, what);
        cr_expect_eq(it->has_expect, want[i].has_expect, "%s", what);
        if (want[i].has_expect)
            expect_result(it, want[i].res, what);
        cr_expect_str_eq(it->comment, want[i].comment, "%s", what);
    }
    /* The hypercalls' recorded input blocks. */
    const struct trace_item *h = &p.items[3 + 19];
    cr_assert(h->has_input);
    cr_assert_eq(h->input_words, 3);
    cr_assert_eq(h->input[0], 0);
    cr_assert_eq(h->input[1], 1);
    cr_assert_eq(h->input[2], 0xf);
    cr_assert(h[1].has_input);
    cr_assert_eq(h[1].input_words, 0);
    cr_assert_not(p.items[3 + 6].has_input);
}

/* ---- errors: line, column, message ---- */

Test(trace_errors, rejects_an_empty_file)
{
    ERROR_AT("", 1, 1, "empty file: expected 'vsbox-trace 1'");
}

Test(trace_errors, rejects_a_missing_or_wrong_first_line)
{
    ERROR_AT("hello world\n", 1, 1, "expected 'vsbox-trace 1'");
    ERROR_AT("  rdtsc\n", 1, 3, "expected 'vsbox-trace 1'");
    ERROR_AT("config vcpus=1\nvsbox-trace 1\n", 1, 1, "expected 'vsbox-trace 1'");
    ERROR_AT("vsbox-trace\n", 1, 12, "expected a version");
    ERROR_AT("vsbox-trace one\n", 1, 13, "expected a number");
    ERROR_AT("vsbox-trace 1 extra\n", 1, 15, "unexpected 'extra'");
    /* Comments may come first, but something must follow them. */
    ERROR_AT("# only a comment\n\n", 2, 0, "no 'vsbox-trace 1'");
}

Test(trace_errors, rejects_other_versions)
{
    ERROR_AT("vsbox-trace 2\n", 1, 13, "version 2 not supported");
    ERROR_AT("vsbox-trace 0\nrdtsc\n", 1, 13, "version 0 not supported");
}

Test(trace_errors, rejects_an_unknown_event)
{
    EVENT_ERROR_AT("rdmrs 0x1", 1, "unknown event 'rdmrs'");
    EVENT_ERROR_AT("v2 RDTSC", 4, "unknown event 'RDTSC'");
    EVENT_ERROR_AT("vsbox-trace 1", 1, "unknown event 'vsbox-trace'");
}

Test(trace_errors, rejects_msr_wider_than_32_bits)
{
    EVENT_ERROR_AT("rdmsr 0x100000000", 7, "number does not fit in 32 bits");
    EVENT_ERROR_AT("rdmsr 4294967296", 7, "number does not fit in 32 bits");
    EVENT_ERROR_AT("wrmsr 0x100000000 0x0", 7, "number does not fit in 32 bits");
    /* Past 64 bits too, the field's width is what the message names. */
    EVENT_ERROR_AT("rdmsr 99999999999999999999999", 7, "number does not fit in 32 bits");
}

Test(trace_errors, rejects_leaf_and_subleaf_wider_than_32_bits)
{
    EVENT_ERROR_AT("cpuid 0x100000000 0x0", 7, "does not fit in 32 bits");
    EVENT_ERROR_AT("cpuid 0x0 0x100000000", 11, "does not fit in 32 bits");
}

Test(trace_errors, rejects_cpuid_registers_wider_than_32_bits)
{
    EVENT_ERROR_AT("cpuid 0x40000000 0x0 -> 0x1 0x2 0x3 0x100000000", 37,
                   "does not fit in 32 bits");
    EVENT_ERROR_AT("cpuid 0x40000000 0x0 -> 0x100000000 0x2 0x3 0x4", 25,
                   "does not fit in 32 bits");
}

Test(trace_errors, rejects_numbers_that_overflow_64_bits)
{
    EVENT_ERROR_AT("advance 18446744073709551616", 9, "does not fit in 64 bits");
    EVENT_ERROR_AT("wrmsr 0x10 0x10000000000000000", 12, "does not fit in 64 bits");
    EVENT_ERROR_AT("hypercall 0x1 0x2 0x10000000000000000", 19, "does not fit in 64 bits");
    EVENT_ERROR_AT("rdtsc -> 0x10000000000000000", 10, "does not fit in 64 bits");
    EVENT_ERROR_AT("param-set viridian 99999999999999999999 from=guest", 20,
                   "does not fit in 64 bits");
}

Test(trace_errors, rejects_what_is_not_a_number)
{
    EVENT_ERROR_AT("wrmsr 0x10 zz", 12, "expected a number");
    EVENT_ERROR_AT("rdmsr 0x", 7, "expected a number");
    EVENT_ERROR_AT("rdmsr 12z", 7, "expected a number");
    EVENT_ERROR_AT("rdmsr 0xg", 7, "expected a number");
    EVENT_ERROR_AT("rdmsr -1", 7, "expected a number");
    EVENT_ERROR_AT("rdmsr 1_000", 7, "expected a number");
    EVENT_ERROR_AT("advance 99999999999999999999999z", 9, "expected a number");
}

Test(trace_errors, rejects_a_missing_argument)
{
    EVENT_ERROR_AT("rdmsr", 6, "expected an MSR number");
    EVENT_ERROR_AT("wrmsr 0x10", 11, "expected a value");
    EVENT_ERROR_AT("wrmsr 0x10   # c", 14, "expected a value");
    EVENT_ERROR_AT("wrmsr 0x10 -> ok", 12, "expected a value, not '->'");
    EVENT_ERROR_AT("cpuid 0x1", 10, "expected a subleaf");
    EVENT_ERROR_AT("hypercall 0x1 0x2 -> 0x0", 19, "expected R8");
    EVENT_ERROR_AT("advance", 8, "expected a tick count");
    EVENT_ERROR_AT("param-get", 10, "expected 'viridian'");
    EVENT_ERROR_AT("param-set viridian", 19, "expected a value");
}

Test(trace_errors, rejects_a_missing_or_malformed_result)
{
    EVENT_ERROR_AT("rdtsc ->", 9, "expected a value");
    EVENT_ERROR_AT("rdtsc -> # c", 10, "expected a value");
    EVENT_ERROR_AT("cpuid 0x1 0x0 ->", 17, "expected EAX EBX ECX EDX");
    EVENT_ERROR_AT("cpuid 0x40000000 0x0 -> 0x1 0x2 0x3", 36, "expected EDX");
    EVENT_ERROR_AT("rdtsc ->0x1", 7, "put a blank after '->'");
    EVENT_ERROR_AT("rdtsc => 0x1", 7, "unexpected '=>'");
    EVENT_ERROR_AT("rdtsc 0x1", 7, "unexpected '0x1'");
    EVENT_ERROR_AT("rdmsr 0x10 -> #gp", 15, "expected a value or #GP, not '#gp'");
    EVENT_ERROR_AT("wrmsr 0x10 0x1 -> OK", 19, "expected ok or #GP, not 'OK'");
}

Test(trace_errors, rejects_a_result_that_does_not_fit_the_event)
{
    EVENT_ERROR_AT("wrmsr 0x10 0x5 -> 0x5", 19, "expected ok or #GP, not '0x5'");
    EVENT_ERROR_AT("advance 10 -> ok", 12, "advance takes no result");
    EVENT_ERROR_AT("rdmsr 0x10 -> ok", 15, "expected a value or #GP, not 'ok'");
    EVENT_ERROR_AT("rdtsc -> #GP", 10, "expected a value, not '#GP'");
    EVENT_ERROR_AT("cpuid 0x1 0x0 -> ok", 18, "expected EAX EBX ECX EDX, not 'ok'");
    EVENT_ERROR_AT("hypercall 0x1 0x2 0x3 -> ok", 26, "expected RAX or #UD, not 'ok'");
    EVENT_ERROR_AT("param-set viridian 0x1 from=guest -> refused", 38,
                   "expected ok, EPERM, EEXIST or EINVAL, not 'refused'");
    EVENT_ERROR_AT("param-get viridian -> EEXIST", 23, "expected a value or EPERM, not 'EEXIST'");
    EVENT_ERROR_AT("poll -> 0x1", 6, "expected the SIM slots the guest holds");
    EVENT_ERROR_AT("poll 0x10000", 6, "number does not fit in 16 bits");
    EVENT_ERROR_AT("migrate host=xen-4.22 downtime=", 32, "expected a tick count");
    EVENT_ERROR_AT("hypercall 0x2 0x0 0x0 in=0x1,,0x2", 30, "expected a 64-bit word");
    EVENT_ERROR_AT("hypercall 0x2 0x0 0x0 in=0x1,zz", 30, "expected a number");
    EVENT_ERROR_AT("migrate host=xen-4.5 -> #GP", 25, "expected ok or refused, not '#GP'");
    EVENT_ERROR_AT("migrate host=xen-4.5 -> 0x1", 25, "expected ok or refused, not '0x1'");
}

Test(trace_errors, rejects_trailing_garbage)
{
    EVENT_ERROR_AT("rdtsc -> 0x1 0x2", 14, "unexpected '0x2' after the result");
    EVENT_ERROR_AT("cpuid 0x1 0x0 -> 0x1 0x2 0x3 0x4 0x5", 34, "after the result");
    EVENT_ERROR_AT("advance 10 20", 12, "unexpected '20'");
    EVENT_ERROR_AT("migrate host=xen-4.5 viridian=1 x", 33, "unexpected 'x'");
    EVENT_ERROR_AT("wrmsr 0x10 0x1 -> ok ok", 22, "after the result");
}

Test(trace_errors, rejects_a_vcpu_the_model_cannot_have)
{
    EVENT_ERROR_AT("v64 rdtsc", 1, "vCPU 64 out of range");
    EVENT_ERROR_AT("v99999999999999999999999 rdtsc", 1, "out of range");
    EVENT_ERROR_AT("v3", 3, "expected an event after 'v3'");
    EVENT_ERROR_AT("v3   # c", 6, "expected an event");
    EVENT_ERROR_AT("v3x rdtsc", 1, "unknown event 'v3x'");
}

Test(trace_errors, rejects_an_unknown_host_profile_at_its_name)
{
    EVENT_ERROR_AT("migrate host=xen-9.9", 14, "unknown host profile 'xen-9.9'");
    EVENT_ERROR_AT("config host=xen-9.9", 13, "unknown host profile 'xen-9.9'");
    EVENT_ERROR_AT("config vcpus=1 host=XEN-4.5", 21, "unknown host profile 'XEN-4.5'");
}

Test(trace_errors, rejects_a_malformed_migrate)
{
    EVENT_ERROR_AT("migrate", 8, "expected host=PROFILE");
    EVENT_ERROR_AT("migrate xen-4.5", 9, "expected host=PROFILE, not 'xen-4.5'");
    EVENT_ERROR_AT("migrate host=", 9, "expected host=PROFILE");
    EVENT_ERROR_AT("migrate host=xen-4.5 viridian=base", 31, "only a boolean");
    EVENT_ERROR_AT("migrate host=xen-4.5 viridian=", 31, "only a boolean");
}

Test(trace_errors, rejects_a_malformed_param_event)
{
    EVENT_ERROR_AT("param-set hpet 1 from=guest", 11, "unknown parameter 'hpet'");
    EVENT_ERROR_AT("param-get viridian2", 11, "unknown parameter 'viridian2'");
    EVENT_ERROR_AT("param-set viridian 0x1", 23, "expected from=toolstack or from=guest");
    EVENT_ERROR_AT("param-set viridian 1 from=dom0", 22, "expected from=toolstack or from=guest");
    EVENT_ERROR_AT("param-set viridian 1 -> ok", 22, "expected from=toolstack or from=guest");
}

Test(trace_errors, rejects_unknown_and_duplicate_config_keys)
{
    EVENT_ERROR_AT("config colour=blue", 8, "unknown config key 'colour'");
    EVENT_ERROR_AT("config vcpus=1 vcpus=2", 16, "config key 'vcpus' given twice");
    ERROR_AT(MAGIC "config vcpus=1\nconfig host=xen-4.5 vcpus=2\n", 3, 21,
             "config key 'vcpus' given twice");
    EVENT_ERROR_AT("config host", 8, "expected KEY=VALUE");
    EVENT_ERROR_AT("config =1", 8, "expected KEY=VALUE");
    EVENT_ERROR_AT("config", 7, "expected KEY=VALUE after 'config'");
    EVENT_ERROR_AT("config vcpus=", 14, "expected a value for 'vcpus'");
}

Test(trace_errors, rejects_config_after_the_first_event)
{
    ERROR_AT(MAGIC "rdtsc\nconfig vcpus=2\n", 3, 1, "config must come before the first event");
    ERROR_AT(MAGIC "config vcpus=2\nadvance 1\n\n  config tsc_khz=1000\n", 5, 3,
             "before the first event");
}

Test(trace_errors, rejects_config_values_out_of_range)
{
    EVENT_ERROR_AT("config vcpus=0", 14, "vcpus must be 1 to 64");
    EVENT_ERROR_AT("config vcpus=65", 14, "vcpus must be 1 to 64");
    EVENT_ERROR_AT("config vcpus=two", 14, "expected a number");
    EVENT_ERROR_AT("config tsc_khz=0", 16, "tsc_khz must be positive");
    EVENT_ERROR_AT("config tsc_khz=4294967296", 16, "does not fit in 32 bits");
    EVENT_ERROR_AT("config tsc_khz=2.5e6", 16, "expected a number");
    static char spec[400];
    strcpy(spec, MAGIC "config viridian=");
    memset(spec + strlen(spec), 'a', 256);
    error_at_bytes(spec, strlen(spec), 2, 17, "viridian spec longer than 255");
}

Test(trace_errors, rejects_binary_data)
{
    static const char nul[] = MAGIC "rd\0tsc\n";
    error_at_bytes(nul, sizeof nul - 1, 2, 3, "binary data (NUL byte)");
    EVENT_ERROR_AT("rdtsc\x1b[31m", 6, "binary data (control character 0x1b)");
    EVENT_ERROR_AT("rdtsc # bell\x07", 13, "control character 0x07");
    EVENT_ERROR_AT("rdtsc\x7f", 6, "control character 0x7f");
    EVENT_ERROR_AT("rd\rtsc", 3, "carriage return inside a line");
    static const unsigned char elf[] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0xff, 0xfe };
    error_at_bytes((const char *)elf, sizeof elf, 1, 1, "control character 0x7f");
}

Test(trace_errors, rejects_invalid_utf8_in_comments)
{
    EVENT_ERROR_AT("rdtsc # caf\xc3", 12, "invalid UTF-8 in comment");
    EVENT_ERROR_AT("rdtsc # \xc0\x80", 9, "invalid UTF-8");       /* overlong NUL */
    EVENT_ERROR_AT("rdtsc # \xe0\x80\xaf", 9, "invalid UTF-8");   /* overlong '/' */
    EVENT_ERROR_AT("rdtsc # \xed\xa0\x80", 9, "invalid UTF-8");   /* surrogate */
    EVENT_ERROR_AT("rdtsc # \xf4\x90\x80\x80", 9, "invalid UTF-8"); /* above U+10FFFF */
    EVENT_ERROR_AT("rdtsc # \xf5\x80\x80\x80", 9, "invalid UTF-8");
    EVENT_ERROR_AT("rdtsc # ok \x80", 12, "invalid UTF-8");       /* lone continuation */
    EVENT_ERROR_AT("rdtsc # \xe2\x9c", 9, "invalid UTF-8");       /* cut short */
    EVENT_ERROR_AT("# \xff", 3, "invalid UTF-8");
    ERROR_AT("vsbox-trace 1 # \xfe\n", 1, 17, "invalid UTF-8");
    EVENT_ERROR_AT("config vcpus=1 # \xc3(", 18, "invalid UTF-8");
}

Test(trace_errors, rejects_non_ascii_outside_comments)
{
    EVENT_ERROR_AT("rdtsc \xc3\xa9", 7, "non-ASCII byte 0xc3 outside a comment");
    EVENT_ERROR_AT("cpuid\xc2\xa0" "0x1 0x0", 6, "non-ASCII");  /* no-break space */
    EVENT_ERROR_AT("rdtsc #\xc3\xa9", 8, "non-ASCII"); /* '#' needs a blank after it */
}

Test(trace_errors, rejects_lines_longer_than_the_limit)
{
    static char text[TRACE_MAX_LINE + 100];
    memset(text, 'a', sizeof text - 1);
    memcpy(text, MAGIC, strlen(MAGIC));
    error_at_bytes(text, strlen(text), 2, TRACE_MAX_LINE + 1, "line longer than 4096 bytes");
    /* The limit counts text, not blanks: trailing blanks are still text until the end. */
    memset(text + strlen(MAGIC), ' ', TRACE_MAX_LINE + 1);
    text[strlen(MAGIC) + TRACE_MAX_LINE + 1] = '\n';
    error_at_bytes(text, strlen(MAGIC) + TRACE_MAX_LINE + 2, 2, TRACE_MAX_LINE + 1,
                   "line longer");
}

Test(trace_errors, a_binary_file_is_reported_as_binary_not_as_a_long_line)
{
    static char text[2 * TRACE_MAX_LINE];
    memset(text, 'x', sizeof text);
    text[4] = '\0';
    error_at_bytes(text, sizeof text, 1, 5, "NUL byte");
}

static void write_garbage(const char *path, size_t megabytes, bool with_newlines)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    static unsigned char chunk[1 << 20];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof chunk; i++) {
        x = x * 1103515245u + 12345u;
        chunk[i] = (unsigned char)(x >> 16);
        if (!with_newlines && chunk[i] == '\n')
            chunk[i] = 'n';
    }
    chunk[0] = 'Z'; /* so that line 1 is not blank */
    for (size_t i = 0; i < megabytes; i++)
        cr_assert_eq(fwrite(chunk, 1, sizeof chunk, f), sizeof chunk);
    cr_assert_eq(fclose(f), 0);
}

static void expect_quick_error(const char *path, unsigned line)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    struct trace_reader *r = trace_reader_new(f);
    struct trace_item it;
    struct trace_error err;
    cr_assert_eq(trace_reader_next(r, &it, &err), TRACE_ERR);
    cr_expect_eq(err.line, line, "%u:%u %s", err.line, err.col, err.msg);
    cr_expect_gt(err.col, 0);
    /* Proof that the reader did not slurp: the stream is still near its start. */
    long at = ftell(f);
    cr_expect(at >= 0 && at <= 1 << 20, "read %ld bytes", at);
    trace_reader_free(r);
    fclose(f);
    remove(path);
}

Test(trace_errors, a_100_megabyte_garbage_file_fails_on_line_1_without_reading_far)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/garbage.trace", test_tmpdir());
    write_garbage(path, 100, true);
    expect_quick_error(path, 1);
    write_garbage(path, 100, false);
    expect_quick_error(path, 1);
}

Test(trace_errors, garbage_after_a_good_start_fails_on_its_first_bad_line)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tail.trace", test_tmpdir());
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs(MAGIC "config vcpus=2\nrdtsc\n", f);
    static char chunk[1 << 20];
    memset(chunk, '?', sizeof chunk);
    for (int i = 0; i < 20; i++)
        fwrite(chunk, 1, sizeof chunk, f);
    fclose(f);
    f = fopen(path, "rb");
    struct parsed p = read_file_stream(f);
    cr_assert_lt(ftell(f), 1 << 20);
    fclose(f);
    expect_error(&p, 4, TRACE_MAX_LINE + 1, "line longer", "a huge line 4");
    cr_assert_eq(p.count, 1);
    remove(path);
}

Test(trace_errors, parse_event_takes_exactly_one_line)
{
    struct trace_item it;
    struct trace_error err;
    cr_assert_eq(event("rdtsc -> 0x1\n").expect.v[0], 1);
    cr_assert_eq(event("rdtsc -> 0x2\r\n").expect.v[0], 2);
    cr_assert_eq(trace_parse_event("rdtsc\nrdtsc", &it, &err), TRACE_ERR);
    cr_assert_eq(err.line, 1);
    cr_assert_eq(err.col, 6);
    cr_assert(strstr(err.msg, "line break"), "%s", err.msg);
    cr_assert_eq(trace_parse_event("", &it, &err), TRACE_ERR);
    cr_assert_eq(err.col, 1);
    cr_assert(strstr(err.msg, "expected an event"), "%s", err.msg);
    cr_assert_eq(trace_parse_event("   # just a comment", &it, &err), TRACE_ERR);
    cr_assert_eq(err.col, 4);

    static char long_line[TRACE_MAX_LINE + 10];
    memset(long_line, 'a', TRACE_MAX_LINE + 1);
    cr_assert_eq(trace_parse_event(long_line, &it, &err), TRACE_ERR);
    cr_assert_eq(err.col, TRACE_MAX_LINE + 1);
    cr_assert(strstr(err.msg, "line longer"), "%s", err.msg);
}

/* ---- the writer ---- */

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
