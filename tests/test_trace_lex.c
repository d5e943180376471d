/* traces/trace_lex.c: the bytes, numbers and comments of a line (docs/trace-format.md,
 * "Lines"). Expected values and columns are written by hand from the format. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/trace_util.h"

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
