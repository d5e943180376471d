/* Small things a new user trips over in inputs and summaries: the replay summary's
 * grammar, an empty xl.cfg, a viridian key given twice (the last counts, as in xl). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "tests/support.h"

Test(replay_summary, one_event_is_singular)
{
    const char trace[] = "vsbox-trace 1\nrdtsc -> 0x0\n";
    const char *a[] = { "replay", "-", NULL };
    struct run_result r = run_vsbox(a, trace);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.err, ": 1 event, 0 divergences\n"), "%s", r.err);
    run_result_free(&r);
}

static const char *cfg_file(const char *name, const char *text)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    write_file(path, text, strlen(text));
    return path;
}

/* Refused rather than warned: a config that sets nothing is almost always the wrong
 * file, and --config exists to set things. */
Test(xlcfg_cli, an_empty_config_is_refused)
{
    const char *texts[] = { "", "# only a comment\n\n" };
    for (int i = 0; i < 2; i++) {
        const char *p = cfg_file("empty.cfg", texts[i]);
        const char *a[] = { "cpuid", "--config", p, NULL };
        struct run_result r = run_vsbox(a, NULL);
        cr_assert_eq(r.status, 2, "%s", r.err);
        cr_assert_eq(count_lines_with(r.err, "vsbox:"), 1, "%s", r.err);
        cr_assert(strstr(r.err, "no settings"), "%s", r.err);
        cr_assert_str_empty(r.out);
        run_result_free(&r);
    }
}

/* xl takes the last of a key given twice (tools/libs/util/libxlu_cfg.c: each setting is
 * put at the head of the list and find() returns the first it meets), and XTF's test
 * configs override their defaults that way ("vcpus=1" ... "vcpus = 3"). */
Test(xlcfg_cli, a_key_given_twice_takes_its_last_value_as_xl_does)
{
    const char *p = cfg_file("twice.cfg", "viridian = 1\nname = \"w\"\nviridian = [ \"base\" ]\n");
    const char *a[] = { "cpuid", "--config", p, NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* base alone (freq off): CPUID 0x40000003 EAX 0x70, not 1's 0x872 */
    cr_assert(strstr(r.out, "cpuid 0x40000003 0x0 -> 0x70 0x0 0x0 0x0"), "%s", r.out);
    /* not silently (issue 15): one note, at the value that counts, naming the other */
    cr_expect_eq(count_lines_with(r.err, "note: 'viridian' is also set on line 1"), 1, "%s",
                 r.err);
    cr_expect(strstr(r.err, "twice.cfg:3:"), "%s", r.err);
    cr_expect_eq(count_lines_with(r.err, "'name'"), 0, "%s", r.err);
    run_result_free(&r);
}
