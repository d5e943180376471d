/* Bad images end in one line and exit 2, before anything runs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "tests/emu_util.h"

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void expect_refused(const char *name, const void *data, size_t len, const char *part,
                           const char *extra)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    write_file(path, data, len);
    const char *args[] = { "run", path, extra, extra ? "1" : NULL, NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 2, "%s: status %d: %s", name, r.status, r.err);
    cr_assert(strstr(r.err, part), "%s: '%s' lacks '%s'", name, r.err, part);
    cr_assert(strstr(r.err, path), "%s: message names no file: %s", name, r.err);
    cr_assert_eq(count_lines_with(r.err, ""), 1, "%s: one line: %s", name, r.err);
    cr_assert_str_empty(r.out);
    run_result_free(&r);
}

Test(emu_images, empty_truncated_foreign_and_oversized_images_are_refused)
{
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/guests/probe.elf", VSBOX_BUILD_DIR);
    size_t len;
    char *elf = read_all(probe, &len);

    expect_refused("empty.elf", "", 0, "empty file", NULL);
    expect_refused("text.elf", "hello", 5, "not an ELF executable", NULL);
    expect_refused("header.elf", elf, 40, "truncated ELF header", NULL);
    expect_refused("cut.elf", elf, 200, "runs past the end of the file", NULL);

    char *arm = malloc(len);
    memcpy(arm, elf, len);
    arm[18] = 183; /* e_machine: EM_AARCH64 */
    arm[19] = 0;
    expect_refused("arm.elf", arm, len, "ELF64 for machine 183, not x86-64", NULL);
    /* probe loads at 1 MiB: with --memory 1 the segments fall outside RAM */
    expect_refused("small.elf", elf, len, "is outside guest RAM", "--memory");
    free(arm);
    free(elf);
}

Test(emu_images, a_raw_image_below_the_system_area_is_refused)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/low.bin", test_tmpdir());
    write_file(path, "\xf4", 1);
    const char *args[] = { "run", path, "--raw", "0x1000", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "outside guest RAM"), "%s", r.err);
    run_result_free(&r);
}

Test(emu_images, absurd_options_are_refused)
{
    const char *a1[] = { "run", "probe", "--memory", "99999", NULL };
    const char *a2[] = { "run", "probe", "--raw", "banana", NULL };
    const char *a3[] = { "run", "/nonexistent.elf", NULL };
    const char *a4[] = { "run", NULL };
    const char *const *cases[] = { a1, a2, a3, a4 };
    for (size_t i = 0; i < 4; i++) {
        struct run_result r = run_vsbox(cases[i], NULL);
        cr_assert_eq(r.status, 2, "case %zu: %s", i, r.err);
        cr_assert_eq(count_lines_with(r.err, "vsbox:"), 1, "%s", r.err);
        run_result_free(&r);
    }
}

Test(emu_images, run_has_help)
{
    const char *args[] = { "run", "--help", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "usage: vsbox run IMAGE"));
    run_result_free(&r);
}
