/* vsbox run and vsbox guests as a new user meets them: names that are not guests, a
 * guest's exit code, --trace-insns next to the console, hostile images, help text. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/support.h"

static const char *raw_image(const char *name, const void *code, size_t len)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    write_file(path, code, len);
    return path;
}

Test(run, a_name_that_is_neither_file_nor_guest_lists_the_guests)
{
    const char *a[] = { "run", "nosuch", NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert_eq(count_lines_with(r.err, "vsbox:"), 1, "%s", r.err);
    cr_assert(strstr(r.err, "'nosuch' is neither a file nor a bundled guest"), "%s", r.err);
    cr_assert(strstr(r.err, "probe") && strstr(r.err, "windows-boot"), "%s", r.err);
    run_result_free(&r);
}

Test(guests, lists_every_bundled_guest_with_its_title)
{
    const char *a[] = { "guests", NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* The titles as each guest's main.c spells them (less the leading name). */
    static const char *const want[][2] = {
        { "probe", "hypervisor leaves and viridian feature bits" },
        { "windows-boot", "OS id, hypercall page, VP index, APIC and frequency MSRs" },
        { "hypercall", "page, HvNotifyLongSpinWait, unknown call codes" },
        { "freq-calibrate", "TSC against the PIT, and the frequency MSR" },
        { "migration", NULL }, { "msr-matrix", NULL }, { "param-lock", NULL },
        { "linux-detect", "what Linux would decide from the viridian leaves" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char line[200];
        snprintf(line, sizeof line, "\n%s ", want[i][0]);
        cr_expect(strstr(r.out, line) || strncmp(r.out, line + 1, strlen(line + 1)) == 0,
                  "%s missing:\n%s", want[i][0], r.out);
        if (want[i][1])
            cr_expect(strstr(r.out, want[i][1]), "%s's title missing:\n%s", want[i][0], r.out);
    }
    run_result_free(&r);
}

Test(run, a_guest_exit_code_is_said)
{
    static const unsigned char code[] = { 0xb0, 0x07, 0xe6, 0xf4, 0xf4 }; /* mov al,7; out 0xf4,al */
    const char *a[] = { "run", raw_image("exit7.bin", code, sizeof code), "--raw", "0x100000", NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "guest exited with code 7"), "%s", r.err);
    cr_assert_eq(count_lines_with(r.err, "vsbox:"), 1, "%s", r.err);
    run_result_free(&r);
}

Test(run, trace_insns_keeps_console_lines_whole)
{
    const char *a[] = { "run", "probe", "--trace-insns", NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\nTest result: SUCCESS\n"), "no whole console line");
    cr_assert(strstr(r.out, "\n  00"), "no instruction lines");
    /* Every line is either an instruction or a console line, never both. */
    for (const char *l = r.out; *l;) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(n < 500 ? n : 500), l);
        if (strstr(line, "Test result"))
            cr_assert(strncmp(line, "Test result", 11) == 0, "glued: %s", line);
        l += n + (nl != NULL);
    }
    run_result_free(&r);
}

Test(run, an_elf_loaded_as_raw_gets_a_hint)
{
    const char *a[] = { "run", "probe", "--raw", "0x100000", "--budget", "100000", NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert(strstr(r.err, "ELF"), "%s", r.err);
    run_result_free(&r);
}

Test(run, an_endless_image_is_refused_before_it_is_read)
{
    const char *a[] = { "run", "/dev/zero", "--raw", "0x100000", NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert_eq(count_lines_with(r.err, "vsbox:"), 1, "%s", r.err);
    cr_assert(strstr(r.err, "/dev/zero"), "%s", r.err);
    /* The default 16 MiB guest: never more than its RAM plus the program. */
    cr_assert_lt(r.maxrss_kib, 96 * 1024, "peak %ld KiB", r.maxrss_kib);
    run_result_free(&r);
    /* Without --raw it must be an ELF: its first bytes say it is not. */
    const char *b[] = { "run", "/dev/zero", NULL };
    r = run_vsbox(b, NULL);
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "not an ELF executable"), "%s", r.err);
    cr_assert_lt(r.maxrss_kib, 64 * 1024, "peak %ld KiB", r.maxrss_kib);
    run_result_free(&r);
}

Test(run, a_directory_as_input_says_so)
{
    const char *dir = test_tmpdir();
    char cfg[600];
    snprintf(cfg, sizeof cfg, "--config=%s", dir);
    const char *a1[] = { "run", dir, NULL };
    const char *a2[] = { "replay", dir, NULL };
    const char *a3[] = { "snapshot", "info", dir, NULL };
    const char *a4[] = { "resume", dir, NULL };
    const char *a5[] = { "cpuid", cfg, NULL };
    const char *const *cases[] = { a1, a2, a3, a4, a5 };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run_result r = run_vsbox(cases[i], NULL);
        cr_expect_eq(r.status, 2, "%s: %s", cases[i][0], r.err);
        cr_expect(strstr(r.err, "is a directory"), "%s: %s", cases[i][0], r.err);
        cr_expect_eq(count_lines_with(r.err, "vsbox:"), 1, "%s", r.err);
        run_result_free(&r);
    }
}

/* Every --flag a help text mentions, in its usage line or its prose, has its own
 * option line ("  --flag ..."). */
Test(help, every_flag_mentioned_has_an_option_line)
{
    static const char *const cmds[] = { "run", "resume", "migrate", "snapshot", "replay", "cpuid",
                                        "msrs", "fuzz", "hosts", "guests" };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        const char *a[] = { cmds[i], "--help", NULL };
        struct run_result r = run_vsbox(a, NULL);
        cr_assert_eq(r.status, 0, "%s --help: %s", cmds[i], r.err);
        for (const char *p = r.out; (p = strstr(p, "--"));) {
            size_t n = 2;
            while (p[n] == '-' || (p[n] >= 'a' && p[n] <= 'z'))
                n++;
            char want[64];
            snprintf(want, sizeof want, "\n  %.*s", (int)n, p);
            if (n > 2)
                cr_expect(strstr(r.out, want), "vsbox %s --help mentions %.*s without an option "
                          "line:\n%s", cmds[i], (int)n, p, r.out);
            p += n;
        }
        run_result_free(&r);
    }
}

Test(help, resume_says_where_save_at_counts_from)
{
    const char *a[] = { "resume", "--help", NULL };
    struct run_result r = run_vsbox(a, NULL);
    const char *line = strstr(r.out, "\n  --save-at");
    cr_assert_not_null(line, "%s", r.out);
    cr_assert(strstr(line, "start of the guest"), "%s", r.out);
    run_result_free(&r);
}
