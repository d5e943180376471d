/* vsbox replay, end to end through the built binary. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/support.h"

static struct run_result replay(const char *path, const char *extra)
{
    const char *args[] = { "replay", path, extra, NULL };
    return run_vsbox(args, NULL);
}

Test(replay, every_golden_trace_replays_clean)
{
    DIR *d = opendir(src_path("traces/golden"));
    cr_assert_not_null(d);
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 7 || strcmp(e->d_name + n - 6, ".trace") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", src_path("traces/golden"), e->d_name);
        struct run_result r = replay(path, NULL);
        cr_expect_eq(r.status, 0, "%s: status %d\n%s%s", e->d_name, r.status, r.out, r.err);
        cr_expect_str_empty(r.out, "%s printed divergences:\n%s", e->d_name, r.out);
        run_result_free(&r);
        count++;
    }
    closedir(d);
    cr_assert_geq(count, 6);
}

Test(replay, a_wrong_expected_value_exits_1_naming_each_line)
{
    const char *path = src_path("tests/data/replay/wrong-value.trace");
    struct run_result r = replay(path, NULL);
    char want1[1200], want2[1200];
    snprintf(want1, sizeof want1, "%s:3: expected 0x870 0x0 0x0 0x0, got 0x70 0x0 0x0 0x0\n", path);
    snprintf(want2, sizeof want2, "%s:5: expected 0x1, got 0x0\n", path);
    cr_assert_eq(r.status, 1, "status %d: %s", r.status, r.err);
    cr_assert(strstr(r.out, want1), "stdout was:\n%s", r.out);
    cr_assert(strstr(r.out, want2), "stdout was:\n%s", r.out);
    cr_assert_eq(count_lines_with(r.out, "expected"), 2);
    run_result_free(&r);
}

Test(replay, lines_of_one_shape_each_get_their_own_numbers)
{
    /* The fast path parses the first line of a shape whole and the next ones from its
     * shape: each must still be compared with its own numbers (answers: xen-4.5, base
     * and freq, 2 GHz, two vCPUs). */
    const char *path = src_path("tests/data/replay/shapes.trace");
    struct run_result r = replay(path, NULL);
    cr_assert_eq(r.status, 1, "status %d: %s", r.status, r.err);
    const char *want[] = {
        "6: expected 0x77359401, got 0x77359400", "9: expected 0x0, got 0x1",
        "10: expected 0xa, got 0x0", "13: expected #GP, got ok",
        "15: expected 0x7735940, got 0x77359400", /* after a "\r\n" line of its shape */
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char line[1200];
        snprintf(line, sizeof line, "%s:%s\n", path, want[i]);
        cr_expect(strstr(r.out, line), "no '%s' in:\n%s", line, r.out);
    }
    cr_expect_eq(count_lines_with(r.out, ": expected"), 5, "%s", r.out);
    cr_expect(strstr(r.err, ": 11 events, 5 divergences"), "%s", r.err);
    run_result_free(&r);

    /* A line of a known shape with a byte that is no digit: the general parser's error. */
    char bad[1024];
    snprintf(bad, sizeof bad, "%s/bad-shape.trace", test_tmpdir());
    const char text[] = "vsbox-trace 1\nconfig host=xen-4.5 viridian=base,freq vcpus=1\n"
                        "rdmsr 0x40000022 -> 0x77359400\nrdmsr 0x4000002g -> 0x77359400\n";
    write_file(bad, text, sizeof text - 1);
    r = replay(bad, NULL);
    char msg[1200];
    snprintf(msg, sizeof msg, "vsbox: %s:4:7: expected a number, not '0x4000002g'\n", bad);
    cr_expect_eq(r.status, 2);
    cr_expect_str_eq(r.err, msg);
    cr_expect_str_empty(r.out);
    run_result_free(&r);
}

Test(replay, a_malformed_trace_exits_2_naming_line_and_column)
{
    const char *path = src_path("tests/data/replay/malformed.trace");
    struct run_result r = replay(path, NULL);
    char prefix[1200];
    snprintf(prefix, sizeof prefix, "vsbox: %s:4:", path);
    cr_assert_eq(r.status, 2);
    cr_assert(strncmp(r.err, prefix, strlen(prefix)) == 0, "stderr was: %s", r.err);
    /* line:col: the column is a number after the line */
    cr_assert(r.err[strlen(prefix)] >= '1' && r.err[strlen(prefix)] <= '9', "%s", r.err);
    cr_assert_eq(count_lines_with(r.err, ""), 1, "one line only: %s", r.err);
    cr_assert_str_empty(r.out, "no partial output on bad input");
    run_result_free(&r);
}

static void expect_bad_input(const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    write_file(path, data, len);
    struct run_result r = replay(path, NULL);
    cr_assert_eq(r.status, 2, "%s: status %d, stderr %s", name, r.status, r.err);
    cr_assert(strstr(r.err, path), "%s: message does not name the file: %s", name, r.err);
    cr_assert_eq(count_lines_with(r.err, "vsbox:"), 1, "%s: %s", name, r.err);
    cr_assert_str_empty(r.out);
    run_result_free(&r);
    remove(path);
}

#define BAD(name, literal) expect_bad_input(name, literal, sizeof literal - 1)

Test(replay, empty_garbage_and_binary_inputs_exit_2)
{
    BAD("empty.trace", "");
    BAD("garbage.trace", "hello world\n");
    BAD("version2.trace", "vsbox-trace 2\n");
    static const unsigned char binary[] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0xff, 0xfe };
    expect_bad_input("binary.trace", binary, sizeof binary);
    BAD("nul.trace", "vsbox-trace 1\nrdtsc\0 -> 0x0\n");
    BAD("absurd.trace", "vsbox-trace 1\nadvance 99999999999999999999999\n");
    BAD("badcfg.trace", "vsbox-trace 1\nconfig viridian=freq\nrdtsc\n");
    BAD("badvcpu.trace", "vsbox-trace 1\nv5 rdtsc\n");
    BAD("badleaf.trace", "vsbox-trace 1\ncpuid 0x1 0x0\n");
    BAD("badkhz.trace", "vsbox-trace 1\nconfig tsc_khz=5\n");
}

Test(replay, a_100_megabyte_garbage_file_exits_2_quickly)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/huge.trace", test_tmpdir());
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    static char chunk[1 << 20];
    memset(chunk, 'A', sizeof chunk);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(fwrite(chunk, 1, sizeof chunk, f), sizeof chunk);
    fclose(f);
    struct run_result r = replay(path, NULL);
    cr_assert_eq(r.status, 2, "status %d: %s", r.status, r.err);
    cr_assert(strstr(r.err, ":1:"), "%s", r.err);
    run_result_free(&r);
    remove(path);
}

Test(replay, a_missing_file_exits_2)
{
    struct run_result r = replay("/nonexistent/x.trace", NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "/nonexistent/x.trace: cannot open"), "%s", r.err);
    run_result_free(&r);
}

Test(replay, fill_computes_every_result)
{
    struct run_result r = replay(src_path("tests/data/replay/to-fill.trace"), "--fill");
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* base,freq is mask 0x1: leaf 3 has FREQ; the TSC runs at the default 2 GHz. */
    cr_assert(strstr(r.out, "cpuid 0x40000003 0x0 -> 0x870 0x0 0x0 0x0\n"), "%s", r.out);
    cr_assert(strstr(r.out, "rdmsr 0x40000022 -> 0x77359400  # TSC frequency\n"), "%s", r.out);
    cr_assert(strstr(r.out, "param-set viridian 0x3 from=toolstack -> EEXIST\n"), "%s", r.out);
    cr_assert(strstr(r.out, "rdtsc -> 0xa\n"), "%s", r.out);
    cr_assert(strstr(r.out, "# written by hand, results left for --fill\n"), "%s", r.out);

    /* What --fill wrote replays clean. */
    const char *args[] = { "replay", "-", NULL };
    struct run_result again = run_vsbox(args, r.out);
    cr_assert_eq(again.status, 0, "%s%s", again.out, again.err);
    run_result_free(&again);
    run_result_free(&r);
}

Test(replay, flags_override_the_header)
{
    const char *args[] = { "replay", src_path("traces/golden/seed-cpuid-base.trace"), "--viridian",
                           "1", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.out, ":7: expected 0x3, got 0x5"), "%s", r.out);
    run_result_free(&r);
}

Test(replay, a_bad_viridian_flag_exits_2_with_libxls_message)
{
    const char *args[] = { "replay", src_path("traces/golden/clock.trace"), "--viridian", "freq",
                           NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert_str_eq(r.err, "vsbox: --viridian: base group not enabled\n");
    run_result_free(&r);
}

Test(replay, a_bad_spec_in_the_header_names_its_line_and_column)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/spec.trace", test_tmpdir());
    const char text[] = "vsbox-trace 1\nconfig host=xen-4.5 viridian=!freq,all\nrdtsc\n";
    write_file(path, text, sizeof text - 1);
    struct run_result r = replay(path, NULL);
    char want[1200];
    snprintf(want, sizeof want, "vsbox: %s:2:30: freq group both enabled and disabled\n", path);
    cr_assert_eq(r.status, 2);
    cr_assert_str_eq(r.err, want);
    run_result_free(&r);
}

Test(replay, fill_reports_what_a_migration_changed_for_the_guest)
{
    struct run_result r =
        replay(src_path("traces/golden/historical-bug-4.3-to-4.4.trace"), "--fill");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "migrate host=xen-4.4 -> ok\n"
                            "# migrate note: Xen version 4.3 -> 4.4 (host xen-4.3 -> xen-4.4)\n"),
              "%s", r.out);
    cr_assert(strstr(r.out, "# migrate: HV_X64_MSR_TSC_FREQUENCY appeared\n"), "%s", r.out);
    cr_assert(strstr(r.out, "# migrate: CPUID 0x40000003 EAX changed 0x70 -> 0x870\n"), "%s", r.out);
    run_result_free(&r);
}

Test(replay, verbose_reports_migration_changes_on_stderr)
{
    const char *path = src_path("traces/golden/historical-bug-4.3-to-4.4.trace");
    struct run_result r = replay(path, "--verbose");
    char want[1200];
    snprintf(want, sizeof want, "vsbox: %s:14: migrate: HV_X64_MSR_APIC_FREQUENCY appeared\n", path);
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.err, want), "%s", r.err);
    cr_assert_str_empty(r.out);
    run_result_free(&r);
}

Test(replay, the_memory_key_gives_the_model_ram_bounds)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/mem.trace", test_tmpdir());
    /* Xen's hypercall-page MSR takes a frame inside RAM and refuses one outside. */
    const char text[] = "vsbox-trace 1\nconfig viridian=0 memory=1\n"
                        "wrmsr 0x40000000 0x1000 -> ok\n"
                        "wrmsr 0x40000000 0x100000 -> #GP\n";
    write_file(path, text, sizeof text - 1);
    struct run_result r = replay(path, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    run_result_free(&r);
    const char bad[] = "vsbox-trace 1\nconfig memory=0\n";
    write_file(path, bad, sizeof bad - 1);
    r = replay(path, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "memory must be 1 to 4096 (MiB)"), "%s", r.err);
    run_result_free(&r);
}
