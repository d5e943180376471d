/* Where vsbox writes: --record, --snapshot and standard output. A regular file (or a
 * new path) is replaced whole; a device, FIFO or symlink target is written through;
 * temporaries are unpredictable and never followed through a link; a write that fails
 * (a full device) is exit 2 in one line, whatever the command. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tests/support.h"

/* The file's text (kept until the next call). */
static const char *slurp(const char *path)
{
    static char *last;
    free(last);
    return last = slurp_file(path, NULL);
}

static void record_probe(const char *path)
{
    const char *a[] = { "run", "probe", "--record", path, NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

Test(output, a_symlinked_record_is_written_through_the_link)
{
    const char *dir = test_tmpdir();
    char target[600], link[600];
    snprintf(target, sizeof target, "%s/target.trace", dir);
    snprintf(link, sizeof link, "%s/link.trace", dir);
    write_file(target, "old\n", 4);
    cr_assert_eq(symlink("target.trace", link), 0);
    record_probe(link);
    struct stat st;
    cr_assert_eq(lstat(link, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the link was replaced by a file");
    cr_assert(strncmp(slurp(target), "vsbox-trace 1\n", 14) == 0, "%s", slurp(target));
    cr_assert_eq(entries(dir), 2, "a temporary was left behind");
}

Test(output, a_fifo_record_feeds_its_reader)
{
    const char *dir = test_tmpdir();
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/pipe", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    int rd = open(fifo, O_RDONLY | O_NONBLOCK); /* a reader waiting, as a `cat` would */
    cr_assert_geq(rd, 0);
    const char *a[] = { "run", "probe", "--record", fifo, NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    static char got[65536];
    ssize_t n = read(rd, got, sizeof got - 1);
    close(rd);
    cr_assert_gt(n, 0, "the reader got nothing");
    got[n] = '\0';
    cr_assert(strncmp(got, "vsbox-trace 1\n", 14) == 0, "%s", got);
    struct stat st;
    cr_assert_eq(lstat(fifo, &st), 0);
    cr_assert(S_ISFIFO(st.st_mode), "the FIFO was replaced by a file");
    run_result_free(&r);
}

Test(output, a_link_planted_at_the_old_temporary_name_is_not_followed)
{
    const char *dir = test_tmpdir();
    char victim[600], trap[600], out[600];
    snprintf(victim, sizeof victim, "%s/victim.txt", dir);
    snprintf(trap, sizeof trap, "%s/out.trace.tmp", dir);
    snprintf(out, sizeof out, "%s/out.trace", dir);
    write_file(victim, "precious\n", 9);
    cr_assert_eq(symlink("victim.txt", trap), 0);
    record_probe(out);
    cr_assert_str_eq(slurp(victim), "precious\n");
    cr_assert(strncmp(slurp(out), "vsbox-trace 1\n", 14) == 0);

    /* The same for snapshots. */
    char snap[600], strap[600];
    snprintf(snap, sizeof snap, "%s/s.snap", dir);
    snprintf(strap, sizeof strap, "%s/s.snap.tmp", dir);
    cr_assert_eq(symlink("victim.txt", strap), 0);
    const char *b[] = { "run", "probe", "--save-at", "2", "--snapshot", snap, NULL };
    struct run_result r = run_vsbox(b, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(slurp(victim), "precious\n");
    run_result_free(&r);
}

Test(output, record_dash_is_standard_output_and_pipes_into_replay)
{
    const char *dir = test_tmpdir();
    const char *a[] = { "run", "windows-boot", "--viridian", "1", "--record", "-", NULL };
    struct run_opts o = { .cwd = dir };
    struct run_result r = run_vsbox_ex(a, &o);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strncmp(r.out, "vsbox-trace 1\n", 14) == 0, "%s", r.out);
    cr_assert_eq(entries(dir), 0, "a file named '-' was written");
    /* The guest's console moves to standard error, out of the trace's way. */
    cr_assert(strstr(r.err, "Test result: SUCCESS"), "%s", r.err);
    const char *b[] = { "replay", "-", NULL };
    struct run_result p = run_vsbox(b, r.out);
    cr_assert_eq(p.status, 0, "%s%s", p.out, p.err);
    cr_assert(strstr(p.err, " 0 divergences"), "%s", p.err);
    run_result_free(&p);
    run_result_free(&r);
}

Test(output, every_command_fails_on_a_full_standard_output, .timeout = 60)
{
    struct stat st;
    if (stat("/dev/full", &st) != 0 || !S_ISCHR(st.st_mode))
        cr_skip_test("no /dev/full here");
    char golden[600], snap[600];
    snprintf(golden, sizeof golden, "%s", src_path("traces/golden/param-rules.trace"));
    snprintf(snap, sizeof snap, "%s/p.snap", test_tmpdir());
    const char *mk[] = { "run", "probe", "--save-at", "2", "--snapshot", snap, NULL };
    struct run_result r = run_vsbox(mk, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);

    const char *c1[] = { "hosts", NULL };
    const char *c2[] = { "run", "probe", NULL };
    const char *c3[] = { "cpuid", NULL };
    const char *c4[] = { "msrs", NULL };
    const char *c5[] = { "replay", golden, "--fill", NULL };
    const char *c6[] = { "guests", NULL };
    const char *c7[] = { "snapshot", "info", snap, NULL };
    const char *c8[] = { "resume", snap, NULL };
    const char *c9[] = { "migrate", "probe", "--from", "xen-4.5", "--to", "xen-4.5", "--at", "2",
                         NULL };
    const char *c10[] = { "fuzz", "--runs", "10", NULL };
    const char *c11[] = { "run", "probe", "--record", "-", NULL };
    const char *c12[] = { "--help", NULL };
    const char *const *cmds[] = { c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12 };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        struct run_opts o = { .stdout_path = "/dev/full" };
        r = run_vsbox_ex(cmds[i], &o);
        cr_expect_eq(r.status, 2, "vsbox %s: exit %d\n%s", cmds[i][0], r.status, r.err);
        cr_expect_eq(count_lines_with(r.err, "cannot write"), 1, "vsbox %s:\n%s", cmds[i][0], r.err);
        cr_expect(strstr(r.err, "standard output") || strstr(r.err, "No space left"),
                  "vsbox %s:\n%s", cmds[i][0], r.err);
        run_result_free(&r);
    }
    cr_assert_eq(stat("/dev/full", &st), 0);
    cr_assert(S_ISCHR(st.st_mode));
}

/* Run only against a vsbox that writes devices through: one that renames a temporary
 * over its target would, as root, turn /dev/full into a plain file. */
Test(output, a_record_to_a_full_device_exits_2_and_leaves_the_device)
{
    struct stat st;
    if (stat("/dev/full", &st) != 0 || !S_ISCHR(st.st_mode))
        cr_skip_test("no /dev/full here");
    const char *a[] = { "run", "probe", "--record", "/dev/full", NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert_eq(count_lines_with(r.err, "vsbox:"), 1, "%s", r.err);
    cr_assert(strstr(r.err, "/dev/full"), "%s", r.err);
    cr_assert_eq(stat("/dev/full", &st), 0);
    cr_assert(S_ISCHR(st.st_mode), "/dev/full was replaced");
    run_result_free(&r);
}

Test(output, a_directory_is_no_place_for_a_record)
{
    const char *dir = test_tmpdir();
    const char *a[] = { "run", "probe", "--record", dir, NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "is a directory"), "%s", r.err);
    cr_assert_eq(entries(dir), 0);
    run_result_free(&r);
}

Test(output, a_replaced_file_keeps_its_mode_and_a_failed_run_keeps_the_old_file)
{
    const char *dir = test_tmpdir();
    char out[600];
    snprintf(out, sizeof out, "%s/keep.trace", dir);
    write_file(out, "old\n", 4);
    cr_assert_eq(chmod(out, 0640), 0);
    record_probe(out);
    struct stat st;
    cr_assert_eq(stat(out, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0640, "mode %o", st.st_mode & 0777);

    write_file(out, "old\n", 4);
    const char *b[] = { "run", "probe", "--record", out, "--save-at", "999", "--snapshot",
                        "/nonexistent-dir/s.snap", NULL };
    struct run_result r = run_vsbox(b, NULL);
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert_str_eq(slurp(out), "old\n");
    cr_assert_eq(entries(dir), 1, "a temporary was left behind");
    run_result_free(&r);
}
