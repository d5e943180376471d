/* vsbox report: the page is rendered by a real headless Chromium (Debian's chromium):
 * a screenshot must be a real picture, and the DOM after the page's script ran must hold
 * what the script draws: one lane per vCPU, one dot per event coloured by its outcome,
 * the migration line. The expected counts are tests/data/report/two-vcpus.trace's, by
 * hand: 7 events drawn (cpuid, v1 rdmsr, v1 wrmsr ok; rdmsr of TIME_REF_COUNT #GP with
 * time_ref_count off; the guest's param-set EPERM and the toolstack's EEXIST refused;
 * v1's VP_INDEX read diverges, since it is 1 on vCPU 1), 1 migration, 2 vCPUs. A page
 * whose script breaks draws nothing, and the same checks fail on it (checked below). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "support.h"

/* One directory per test (test_tmpdir() makes a new one each call). */
static const char *tmp(void)
{
    static char dir[512];
    if (!dir[0])
        snprintf(dir, sizeof dir, "%s", test_tmpdir());
    return dir;
}

static const char *chromium(void)
{
    static const char *const names[] = { "/usr/bin/chromium", "/usr/bin/chromium-browser" };
    for (size_t i = 0; i < 2; i++)
        if (access(names[i], X_OK) == 0)
            return names[i];
    cr_assert_fail("no chromium: scripts/install-deps.sh installs Debian's chromium");
    return NULL;
}

/* Chromium's own flags for a root user in a container with no display or GPU. */
#define FLAGS "--headless --no-sandbox --disable-gpu --disable-dev-shm-usage " \
              "--no-first-run --user-data-dir=%s/profile"

static char *dump_dom(const char *html)
{
    char cmd[4096], out[1024];
    snprintf(out, sizeof out, "%s/dom.html", tmp());
    snprintf(cmd, sizeof cmd, "%s " FLAGS " --dump-dom file://%s > %s 2>/dev/null", chromium(),
             tmp(), html, out);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    return slurp_file(out, NULL);
}

static long screenshot(const char *url, const char *png)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s " FLAGS " --window-size=1200,600 --screenshot=%s %s "
             ">/dev/null 2>&1", chromium(), tmp(), png, url);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    struct stat st;
    cr_assert_eq(stat(png, &st), 0, "no screenshot %s", png);
    return (long)st.st_size;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static const char *make_report(void)
{
    static char html[1024];
    snprintf(html, sizeof html, "%s/r.html", tmp());
    const char *args[] = { "report", src_path("tests/data/report/two-vcpus.trace"), "-o", html,
                           NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    return html;
}

/* What the script draws, read back from the DOM; false when anything is missing. */
static bool drawn(const char *dom)
{
    return strstr(dom, "data-rendered=\"7\"") && strstr(dom, "data-marks=\"1\"") &&
           count(dom, "class=\"lane\"") == 2 && count(dom, "class=\"ev ok") == 3 &&
           count(dom, "class=\"ev gp") == 1 && count(dom, "class=\"ev refused") == 2 &&
           count(dom, "class=\"ev diverged") == 1 && count(dom, "class=\"mark migrate") == 1 &&
           strstr(dom, "vCPU 1");
}

Test(report, chromium_renders_the_timeline_and_the_dom_holds_every_event)
{
    const char *html = make_report();
    char *page = slurp_file(html, NULL);
    /* Self-contained: nothing is fetched from anywhere. */
    /* Self-contained: the only URL is the SVG namespace's name, which is never fetched. */
    cr_expect_eq(count(page, "http://"), count(page, "http://www.w3.org/2000/svg"));
    cr_expect_null(strstr(page, "<link"));
    cr_expect_null(strstr(page, "https://"));
    cr_expect_null(strstr(page, "src="));
    free(page);

    char *dom = dump_dom(html);
    cr_expect(drawn(dom), "the DOM after the script ran lacks what it draws:\n%.4000s", dom);
    /* The details panel was filled by the script for the first event (line 5). */
    cr_expect(strstr(dom, "data-line=\"5\""));
    free(dom);

    char png[1024], blank_png[1024], blank[1024];
    snprintf(png, sizeof png, "%s/r.png", tmp());
    snprintf(blank, sizeof blank, "%s/blank.html", tmp());
    snprintf(blank_png, sizeof blank_png, "%s/blank.png", tmp());
    write_file(blank, "<!DOCTYPE html><html><body></body></html>", 41);
    char url[1100], blank_url[1100];
    snprintf(url, sizeof url, "file://%s", html);
    snprintf(blank_url, sizeof blank_url, "file://%s", blank);
    long size = screenshot(url, png), empty = screenshot(blank_url, blank_png);
    char *head = slurp_file(png, NULL);
    cr_expect_eq(memcmp(head, "\x89PNG\r\n\x1a\n", 8), 0, "not a PNG");
    free(head);
    /* A blank page of the same size compresses to a few KB; text, lanes and dots do not. */
    cr_expect_gt(size, 4 * empty, "screenshot %ld bytes, a blank page %ld", size, empty);
}

Test(report, a_page_whose_script_breaks_fails_the_dom_check)
{
    const char *html = make_report();
    size_t len;
    char *page = slurp_file(html, &len);
    char *s = strstr(page, "'use strict';");
    cr_assert_not_null(s);
    memcpy(s, "'use strict'(", 13); /* a syntax error: nothing of the script runs */
    char broken[1024];
    snprintf(broken, sizeof broken, "%s/broken.html", tmp());
    write_file(broken, page, len);
    free(page);
    char *dom = dump_dom(broken);
    cr_expect_not(drawn(dom), "a broken script still passed the DOM check");
    free(dom);
}

Test(report, a_bad_trace_is_one_line_exit_2_and_no_file)
{
    char out[1024];
    snprintf(out, sizeof out, "%s/bad.html", tmp());
    const char *args[] = { "report", src_path("tests/data/replay/malformed.trace"), "-o", out,
                           NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines_with(r.err, "malformed.trace:"), 1, "%s", r.err);
    cr_expect_eq(count(r.err, "\n"), 1, "%s", r.err);
    struct stat st;
    cr_expect_neq(stat(out, &st), 0, "a partial page was left behind");
    run_result_free(&r);
}
