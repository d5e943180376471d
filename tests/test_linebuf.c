/* traces/linebuf.c: lines out of a stream read a block at a time: every byte of the
 * input comes out once, line ends where the '\n's are, and a line longer than the window
 * is reported as such and can be skipped. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "traces/linebuf.h"

static FILE *stream(const char *data, size_t len)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    rewind(f);
    return f;
}

static void next(struct linebuf *lb, const char *want, bool whole)
{
    char *text;
    size_t len;
    bool w;
    cr_assert_eq(linebuf_next(lb, &text, &len, &w), 1, "want '%s'", want);
    cr_expect_eq(len, strlen(want));
    cr_expect(memcmp(text, want, len) == 0, "'%.*s', want '%s'", (int)len, text, want);
    cr_expect_eq(w, whole, "'%s'", want);
}

static void end(struct linebuf *lb)
{
    char *text;
    size_t len;
    bool w;
    cr_expect_eq(linebuf_next(lb, &text, &len, &w), 0);
    cr_expect_eq(linebuf_next(lb, &text, &len, &w), 0, "the end stays the end");
}

Test(linebuf, lines_come_out_without_their_line_end)
{
    FILE *f = stream("one\ntwo\r\n\nlast", 14);
    struct linebuf *lb = malloc(sizeof *lb);
    linebuf_init(lb, f, 100);
    next(lb, "one", true);
    next(lb, "two\r", true); /* "\r" is the caller's business */
    next(lb, "", true);
    next(lb, "last", true);  /* the last line needs no end */
    end(lb);
    free(lb);
    fclose(f);
}

Test(linebuf, an_empty_stream_has_no_line)
{
    FILE *f = stream("", 0);
    struct linebuf *lb = malloc(sizeof *lb);
    linebuf_init(lb, f, 100);
    end(lb);
    free(lb);
    fclose(f);
}

Test(linebuf, a_line_longer_than_the_window_says_so_and_can_be_skipped)
{
    FILE *f = stream("abcdefghij\nok\n0123456789", 24);
    struct linebuf *lb = malloc(sizeof *lb);
    linebuf_init(lb, f, 4);
    next(lb, "abcd", false);
    cr_assert_eq(linebuf_skip_rest(lb), 0);
    next(lb, "ok", true);
    next(lb, "0123", false);
    cr_assert_eq(linebuf_skip_rest(lb), 0);
    end(lb);
    free(lb);
    fclose(f);
}

Test(linebuf, lines_across_block_boundaries_come_out_whole)
{
    /* 300,000 numbered lines: several 128 KiB blocks, lines cut by each boundary. */
    size_t cap = 300000 * 8, n = 0;
    char *data = malloc(cap);
    for (int i = 0; i < 300000; i++)
        n += (size_t)sprintf(data + n, "%06d\n", i);
    FILE *f = stream(data, n);
    struct linebuf *lb = malloc(sizeof *lb);
    linebuf_init(lb, f, 64);
    for (int i = 0; i < 300000; i++) {
        char want[8];
        sprintf(want, "%06d", i);
        char *text;
        size_t len;
        bool whole;
        cr_assert_eq(linebuf_next(lb, &text, &len, &whole), 1);
        cr_assert(len == 6 && memcmp(text, want, 6) == 0 && whole, "line %d", i);
    }
    end(lb);
    free(lb);
    free(data);
    fclose(f);
}

Test(linebuf, the_slack_after_a_line_may_be_read)
{
    FILE *f = stream("x", 1);
    struct linebuf *lb = malloc(sizeof *lb);
    linebuf_init(lb, f, 16);
    char *text;
    size_t len;
    bool whole;
    cr_assert_eq(linebuf_next(lb, &text, &len, &whole), 1);
    cr_expect_geq(linebuf_slack(lb, text, len), LINEBUF_SLACK);
    free(lb);
    fclose(f);
}

Test(linebuf, a_caller_may_find_lines_itself)
{
    /* The trace reader's fast path looks at the unread data and takes what it parsed. */
    FILE *f = stream("abc\ndef\ngh", 10);
    struct linebuf *lb = malloc(sizeof *lb);
    linebuf_init(lb, f, 16);
    size_t avail;
    linebuf_peek(lb, &avail);
    cr_expect_eq(avail, 0, "nothing is read before the first line is asked for");
    next(lb, "abc", true);
    const char *s = linebuf_peek(lb, &avail);
    cr_assert_eq(avail, 6);
    cr_expect(memcmp(s, "def\ngh", 6) == 0);
    /* Past the data: zeros, never bytes of an earlier block. */
    for (size_t i = avail; i < LINEBUF_SLACK; i++)
        cr_expect_eq(s[i], '\0', "byte %zu past the data", i - avail);
    linebuf_take(lb, 4);
    next(lb, "gh", true); /* the last line, whole though it has no line end */
    end(lb);
    free(lb);
    fclose(f);
}
