/* traces/trace_read.c: the streaming reader - lines, the magic line, the config header,
 * and the errors of whole lines and files (docs/trace-format.md, "Header" and "Reader
 * errors"). Expected values and columns are written by hand from the format. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/support.h"
#include "tests/trace_util.h"

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
