/* docs/tutorial.md runs as written: every line of a ```sh block is a command that must
 * exit 0 (build/vsbox is this build's vsbox; they run in a fresh directory that has the
 * source's traces/ and guests/ beside it), a ```nasm block is written to the file its
 * first comment names, and a ```text block must be exactly what the ```sh block before
 * it printed. The C guest of section 3 is not built here: it would add a folder to the
 * source tree (tests/test_guest_matrix.c runs the guests that are there). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "support.h"

static char dir[512];

static char *run_line(const char *line, int *status)
{
    char cmd[4096];
    const char *p = line;
    size_t n = 0;
    cmd[0] = 0;
    n += (size_t)snprintf(cmd + n, sizeof cmd - n, "cd '%s' && ", dir);
    /* build/vsbox -> this build's binary, wherever it appears in the line. */
    for (const char *b; (b = strstr(p, "build/vsbox"));) {
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, "%.*s%s", (int)(b - p), p, VSBOX_BINARY);
        p = b + strlen("build/vsbox");
    }
    snprintf(cmd + n, sizeof cmd - n, "%s 2>/dev/null", p);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    static char out[1 << 20];
    size_t len = fread(out, 1, sizeof out - 1, f);
    out[len] = 0;
    *status = pclose(f);
    return out;
}

Test(tutorial, every_command_runs_and_prints_what_the_page_says)
{
    char *page = slurp_file(src_path("docs/tutorial.md"), NULL);
    snprintf(dir, sizeof dir, "%s", test_tmpdir());
    char link[1024];
    snprintf(link, sizeof link, "%s/traces", dir);
    cr_assert_eq(symlink(src_path("traces"), link), 0);
    snprintf(link, sizeof link, "%s/guests", dir);
    cr_assert_eq(symlink(src_path("guests"), link), 0);

    static char printed[1 << 20];
    unsigned commands = 0, files = 0, outputs = 0;
    char *save = NULL;
    enum { NONE, SH, NASM, TEXT } in = NONE;
    static char block[1 << 16];
    size_t blen = 0;
    for (char *line = strtok_r(page, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (in == NONE) {
            in = strcmp(line, "```sh") == 0     ? SH
                 : strcmp(line, "```nasm") == 0 ? NASM
                 : strcmp(line, "```text") == 0 ? TEXT
                                                : NONE;
            blen = 0;
            block[0] = 0;
            if (in == SH)
                printed[0] = 0;
            continue;
        }
        if (strcmp(line, "```") != 0) {
            if (in == SH) {
                int status;
                char *out = run_line(line, &status);
                cr_expect_eq(status, 0, "`%s` exited with %d", line, status);
                strncat(printed, out, sizeof printed - strlen(printed) - 1);
                commands++;
            } else {
                blen += (size_t)snprintf(block + blen, sizeof block - blen, "%s\n", line);
            }
            continue;
        }
        if (in == NASM) {
            char name[256], path[1024];
            cr_assert_eq(sscanf(block, "; %255[^:]:", name), 1, "a nasm block names no file");
            snprintf(path, sizeof path, "%s/%s", dir, name);
            write_file(path, block, blen);
            files++;
        } else if (in == TEXT) {
            cr_expect_str_eq(printed, block, "the page's output block differs from the run");
            outputs++;
        }
        in = NONE;
    }
    /* The page's own count: 11 commands in section 1, 3 in section 2; one file; one output. */
    cr_expect_eq(commands, 14u);
    cr_expect_eq(files, 1u);
    cr_expect_eq(outputs, 1u);
    free(page);
}
