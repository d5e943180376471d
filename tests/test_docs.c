/* The generated pages are what `vsbox docs` prints now: a table changed without
 * `bash scripts/docs.sh` fails here, naming the page. And the man page, generated from
 * every command's --help, renders with man(1) and groff without a warning. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "support.h"

static char *docs(const char *page)
{
    const char *args[] = { "docs", page, "--source", VSBOX_SOURCE_DIR, NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "vsbox docs %s: %s", page, r.err);
    char *out = strdup(r.out);
    run_result_free(&r);
    return out;
}

static void fresh(const char *page, const char *file)
{
    char *want = docs(page), *have = slurp_file(src_path(file), NULL);
    cr_expect_str_eq(have, want, "%s is stale: run bash scripts/docs.sh", file);
    free(want);
    free(have);
}

Test(docs, msrs_md_is_generated_from_the_msr_table)
{
    fresh("msrs", "docs/msrs.md");
}

Test(docs, groups_md_is_generated_from_the_group_and_host_tables)
{
    fresh("groups", "docs/groups.md");
}

Test(docs, the_guest_list_in_guests_md_is_generated_from_the_guests)
{
    char *want = docs("guests"), *page = slurp_file(src_path("docs/guests.md"), NULL);
    const char *begin = strstr(page, "<!-- BEGIN vsbox docs guests -->\n");
    const char *end = strstr(page, "<!-- END vsbox docs guests -->");
    cr_assert(begin && end && end > begin, "docs/guests.md lost its markers");
    begin += strlen("<!-- BEGIN vsbox docs guests -->\n");
    cr_expect_eq((size_t)(end - begin), strlen(want),
                 "docs/guests.md's list is stale: run bash scripts/docs.sh");
    cr_expect_eq(strncmp(begin, want, strlen(want)), 0,
                 "docs/guests.md's list is stale: run bash scripts/docs.sh");
    free(want);
    free(page);
}

/* Facts the MSR page must show, from Xen: the frequency MSRs first answer in 4.4
 * (commit 84657efd), the crash MSRs from 4.9 whatever crash_ctl says, and a write with no
 * handler is dropped to 4.10 and #GP from 4.11 (commit 1f1d183d49). */
Test(docs, the_msr_page_says_what_xen_does_per_release)
{
    char *out = docs("msrs");
    cr_expect(strstr(out, "| 0x40000022 | HV_X64_MSR_TSC_FREQUENCY | freq | freq | 4.4 | time.c | "
                          "4.3: read #GP, write dropped<br>4.4: read, write dropped; viridian "
                          "off: read #GP, write dropped<br>4.5-4.10: read, write dropped; freq "
                          "off: read #GP, write dropped<br>4.11-4.22: read, write #GP; freq off: "
                          "read #GP, write #GP |"), "%s", out);
    cr_expect(strstr(out, "| 0x40000105 | HV_X64_MSR_CRASH_CTL | none (any viridian guest) | "
                          "crash_ctl | 4.9 |"));
    free(out);
}

Test(docs, the_man_page_renders_and_documents_every_command)
{
    char *page = docs("man");
    char path[1024], cmd[2048];
    snprintf(path, sizeof path, "%s/vsbox.1", test_tmpdir());
    write_file(path, page, strlen(page));
    snprintf(cmd, sizeof cmd, "groff -man -Tutf8 -ww -z %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char warn[4096] = "";
    size_t n = fread(warn, 1, sizeof warn - 1, p);
    warn[n] = 0;
    cr_expect_eq(pclose(p), 0, "%s", cmd);
    cr_expect_eq(n, 0u, "groff warns: %s", warn);
    snprintf(cmd, sizeof cmd, "MANWIDTH=100 man -l %s 2>/dev/null", path);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    static char text[1 << 18];
    n = fread(text, 1, sizeof text - 1, p);
    text[n] = 0;
    cr_expect_eq(pclose(p), 0, "%s", cmd);
    static const char *const want[] = { "vsbox run IMAGE", "vsbox replay FILE", "vsbox demo",
                                        "vsbox report TRACE", "--explain", "--viridian",
                                        "NO_COLOR", "EXIT STATUS" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(strstr(text, want[i]), "man -l shows no '%s'", want[i]);
    free(page);
}
