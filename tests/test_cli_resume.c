/* vsbox resume and snapshot info on what users and attackers hand them: a save point
 * already passed, a resumed trace that must replay alone, a move onto a host with fewer
 * Xen leaves, hostile snapshot files, and Ctrl-C in the middle of a recorded run. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "snapshot/snapshot.h"
#include "tests/support.h"

static const char *tmp_path(const char *name)
{
    static char buf[4][600];
    static unsigned next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", test_tmpdir(), name);
    return p;
}

/* windows-boot under viridian=1, saved after event 5 (the README's example). */
static const char *boot_snapshot(void)
{
    static char path[600];
    snprintf(path, sizeof path, "%s", tmp_path("s.snap"));
    const char *a[] = { "run", "windows-boot", "--viridian", "1", "--save-at", "5", "--snapshot",
                        path, NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    return path;
}

Test(resume, a_save_point_already_passed_is_one_line_and_exit_2)
{
    const char *snap = boot_snapshot();
    const char *a[] = { "resume", snap, "--save-at", "1", "--snapshot", tmp_path("s2.snap"), NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
    cr_assert_eq(count_lines_with(r.err, "vsbox:"), 1, "%s", r.err);
    cr_assert(strstr(r.err, "taken after event 5"), "%s", r.err);
    run_result_free(&r);
}

static void resumed_trace_replays(const char *const *extra)
{
    const char *snap = boot_snapshot();
    const char *t = tmp_path("r.trace");
    const char *a[12] = { "resume", snap, "--record", t };
    int n = 4;
    for (; extra && *extra; extra++)
        a[n++] = *extra;
    a[n] = NULL;
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    const char *b[] = { "replay", t, NULL };
    r = run_vsbox(b, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.err, " 0 divergences"), "%s", r.err);
    run_result_free(&r);
}

Test(resume, a_resumed_trace_replays_on_the_model_alone)
{
    resumed_trace_replays(NULL);
}

/* Onto the release before the default one: its records fit (test_migrate_releases.c). */
Test(resume, a_trace_resumed_on_another_host_replays_too)
{
    const char *host[] = { "--host", "xen-4.21", NULL };
    resumed_trace_replays(host);
}

/* What the user is told when the guest moves from xen-4.5 to xen-4.4: Xen's leaves
 * 0x40000003 (time) and 0x40000004 (HVM features) are gone; Xen 4.4's max leaf is
 * base+2 (cpuid_hypervisor_leaves), 4.5's base+4 (XEN_CPUID_MAX_NUM_LEAVES). Without
 * viridian: a viridian 4.5 guest cannot go back to 4.4 at all (its strict load refuses
 * 4.5's longer VIRIDIAN_DOMAIN record), and Xen's leaves are then at 0x40000000. */
static char *notes(const char *err)
{
    static char out[4096];
    out[0] = '\0';
    for (const char *l = err; *l;) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        const char *k = NULL;
        for (const char *p = l; p < l + n && !k; p++)
            if (strncmp(p, ": note: ", 8) == 0 || strncmp(p, ": guest-visible change: ", 24) == 0)
                k = p + 2;
        if (k)
            snprintf(out + strlen(out), sizeof out - strlen(out), "%.*s\n", (int)(l + n - k), k);
        l += n + (nl != NULL);
    }
    return out;
}

Test(resume, a_vanished_xen_leaf_is_named_and_resume_and_migrate_agree, .timeout = 60)
{
    const char *snap = tmp_path("m.snap");
    const char *a[] = { "run", "migration", "--host", "xen-4.5", "--save-at", "40", "--snapshot",
                        snap, NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    const char *b[] = { "resume", snap, "--host", "xen-4.4", NULL };
    struct run_result res = run_vsbox(b, NULL);
    char *said = strdup(notes(res.err));
    cr_assert(strstr(said, "note: Xen leaf 0x40000003 (time) disappeared (max Xen leaf "
                           "0x40000004 -> 0x40000002)\n"), "%s", res.err);
    cr_assert(strstr(said, "note: Xen leaf 0x40000004 (HVM features) disappeared"), "%s", res.err);
    cr_assert_null(strstr(said, "incarnation"), "%s", res.err);
    const char *c[] = { "migrate", "migration", "--from", "xen-4.5", "--to", "xen-4.4", "--at",
                        "40", NULL };
    struct run_result mig = run_vsbox(c, NULL);
    cr_assert_str_eq(notes(mig.err), said, "migrate says:\n%s\nresume says:\n%s", mig.err, res.err);
    free(said);
    run_result_free(&res);
    run_result_free(&mig);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The boot snapshot with its HEADER payload edited (CRC kept right), as file name. The
 * HEADER record follows the 16-byte file header: type, instance, length, CRC, payload. */
static const char *edited_header(const char *name, void (*edit)(uint8_t *payload))
{
    size_t len;
    uint8_t *buf = (uint8_t *)slurp_file(boot_snapshot(), &len);
    uint8_t *rec = buf + 16;
    cr_assert_eq(get32(rec), 1u);
    edit(rec + 16);
    put32(rec + 12, snap_crc32(snap_crc32(0, rec, 12), rec + 16, get32(rec + 8)));
    const char *path = tmp_path(name);
    write_file(path, buf, len);
    free(buf);
    return path;
}

static void hostile_host(uint8_t *header)
{
    memset(header, 0, 32);
    memcpy(header, "\x1b[2Jxen", 7);
}

Test(resume, a_hostile_host_name_is_printed_escaped)
{
    const char *bad = edited_header("esc.snap", hostile_host);
    const char *a1[] = { "resume", bad, NULL };
    const char *a2[] = { "snapshot", "info", bad, NULL };
    const char *const *cases[] = { a1, a2 };
    for (int i = 0; i < 2; i++) {
        struct run_result r = run_vsbox(cases[i], NULL);
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert_null(strchr(r.err, 0x1b), "a raw escape reached the terminal");
        cr_assert(strstr(r.err, "\\x1b[2Jxen"), "%s", r.err);
        run_result_free(&r);
    }
    /* A file name is untrusted too. */
    const char *odd = tmp_path("a\x1b]0;x\x07.snap");
    const char *a3[] = { "snapshot", "info", odd, NULL };
    struct run_result r = run_vsbox(a3, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert_null(strchr(r.err, 0x1b), "%s", r.err);
    cr_assert_null(strchr(r.err, 0x07), "%s", r.err);
    run_result_free(&r);
}

Test(resume, an_endless_stream_is_refused_on_its_header)
{
    const char *a1[] = { "snapshot", "info", "/dev/zero", NULL };
    const char *a2[] = { "resume", "/dev/zero", NULL };
    const char *const *cases[] = { a1, a2 };
    for (int i = 0; i < 2; i++) {
        struct run_result r = run_vsbox(cases[i], NULL);
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert(strstr(r.err, "not a vsbox snapshot"), "%s", r.err);
        cr_assert_lt(r.maxrss_kib, 64 * 1024, "peak %ld KiB", r.maxrss_kib);
        run_result_free(&r);
    }
}

static void four_gib(uint8_t *header)
{
    put32(header + 40, 4096); /* memory MiB */
}

Test(resume, a_snapshot_declaring_more_than_it_holds_costs_what_it_holds)
{
    /* A good snapshot re-declared as 4096 MiB: the reader maps RAM lazily and reads only
     * what the records say, so the file's claims cost nothing until pages arrive. */
    const char *a[] = { "snapshot", "info", edited_header("big.snap", four_gib), NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "memory           4096 MiB"), "%s", r.out);
    cr_assert_lt(r.maxrss_kib, 64 * 1024, "peak %ld KiB", r.maxrss_kib);
    run_result_free(&r);
}

/* mov eax, 0x40000000; cpuid; mov ecx, 100000; loop $; jmp back: a trapped event
 * about every millisecond, forever. */
static const unsigned char endless[] = { 0xb8, 0x00, 0x00, 0x00, 0x40, 0x0f, 0xa2, 0xb9, 0xa0,
                                         0x86, 0x01, 0x00, 0xe2, 0xfe, 0xeb, 0xf0 };

Test(interrupt, ctrl_c_during_run_record_keeps_the_trace_so_far, .timeout = 60)
{
    const char *dir = test_tmpdir();
    char img[600], t[600];
    snprintf(img, sizeof img, "%s/endless.bin", dir);
    snprintf(t, sizeof t, "%s/i.trace", dir);
    write_file(img, endless, sizeof endless);
    const char *a[] = { "run", img, "--raw", "0x100000", "--viridian", "1", "--record", t, NULL };
    struct run_opts o = { .interrupt_ms = 700 };
    struct run_result r = run_vsbox_ex(a, &o);
    cr_assert_eq(r.status, 130, "exit %d: %s", r.status, r.err);
    cr_assert_eq(count_lines_with(r.err, "vsbox:"), 1, "%s", r.err);
    cr_assert(strstr(r.err, "interrupted"), "%s", r.err);
    run_result_free(&r);
    DIR *d = opendir(dir);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));)
        files += e->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(files, 2, "a temporary was left behind");
    const char *b[] = { "replay", t, NULL };
    r = run_vsbox(b, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    unsigned long events = 0;
    const char *p = strstr(r.err, " events,");
    cr_assert_not_null(p, "%s", r.err);
    while (p > r.err && p[-1] >= '0' && p[-1] <= '9')
        p--;
    cr_assert(sscanf(p, "%lu", &events) == 1, "%s", r.err);
    cr_assert_gt(events, 10, "%s", r.err);
    run_result_free(&r);
}
