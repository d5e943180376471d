/* Small things a new user trips over in inputs and summaries: the replay summary's
 * grammar, an empty xl.cfg, a viridian key given twice. */
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

Test(xlcfg_cli, a_viridian_key_given_twice_names_both_lines)
{
    const char *p = cfg_file("twice.cfg", "viridian = 1\nname = \"w\"\nviridian = [ \"base\" ]\n");
    const char *a[] = { "cpuid", "--config", p, "--verbose", NULL };
    struct run_result r = run_vsbox(a, NULL);
    cr_assert_eq(r.status, 2, "%s", r.err);
    char want[700];
    snprintf(want, sizeof want, "vsbox: %s:3:1: viridian given twice (lines 1 and 3)\n", p);
    cr_assert_str_eq(r.err, want);
    run_result_free(&r);
}
