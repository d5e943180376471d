/* The bytes, tokens, numbers and comment of one trace line (docs/trace-format.md, "Lines"). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "traces/trace_lex.h"

enum trace_rc tlex_fail(struct trace_error *err, unsigned line, unsigned col, const char *fmt,
                        ...)
{
    va_list ap;
    err->line = line;
    err->col = col;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return TRACE_ERR;
}

size_t tlex_trim(const char *s, size_t len)
{
    while (len && tlex_blank(s[len - 1]))
        len--;
    return len;
}

/* TRACE-V1.md: a '#' that begins the line or follows a blank, and is followed by a
 * blank or the end of the line; so "#GP" and "a#b" are not comments. */
static bool comment_at(const char *s, size_t len, size_t i)
{
    return s[i] == '#' && (i == 0 || tlex_blank(s[i - 1])) &&
           (i + 1 == len || tlex_blank(s[i + 1]));
}

size_t tlex_utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char b = s[0];
    size_t k;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        k = 2;
    else if (b >= 0xe0 && b <= 0xef)
        k = 3;
    else if (b >= 0xf0 && b <= 0xf4)
        k = 4;
    else
        return 0;
    if (b == 0xe0)
        lo = 0xa0; /* overlong */
    else if (b == 0xed)
        hi = 0x9f; /* UTF-16 surrogates */
    else if (b == 0xf0)
        lo = 0x90; /* overlong */
    else if (b == 0xf4)
        hi = 0x8f; /* above U+10FFFF */
    if (avail < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t j = 2; j < k; j++)
        if ((s[j] & 0xc0) != 0x80)
            return 0;
    return k;
}

/* Every byte printable ASCII (0x20-0x7e), eight at a time: then no rule below can fail,
 * which is the case for nearly every line a program wrote. Bit tricks from "Bit
 * Twiddling Hacks" (hasless/hasmore), exact for these bounds. */
static bool plain_ascii(const char *s, size_t len)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if ((((w - ones * 0x20) & ~w) | ((w + ones * (127 - 0x7e)) | w)) & highs)
            return false;
    }
    for (; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

enum trace_rc tlex_check(const char *s, size_t len, bool partial, unsigned line,
                         struct trace_error *err)
{
    if (plain_ascii(s, len))
        return TRACE_OK;
    bool comment = false;
    size_t i = 0;
    while (i < len) {
        unsigned char b = (unsigned char)s[i];
        unsigned col = (unsigned)i + 1;
        if (!comment && comment_at(s, len, i))
            comment = true;
        if (b == 0)
            return tlex_fail(err, line, col, "binary data (NUL byte)");
        if (b == '\r')
            return tlex_fail(err, line, col, "carriage return inside a line");
        if (b == '\n')
            return tlex_fail(err, line, col, "line break inside a line");
        if ((b < 0x20 && b != '\t') || b == 0x7f)
            return tlex_fail(err, line, col, "binary data (control character 0x%02x)", b);
        if (b < 0x80) {
            i++;
            continue;
        }
        if (!comment)
            return tlex_fail(err, line, col,
                             "non-ASCII byte 0x%02x outside a comment (tokens are ASCII)", b);
        size_t k = tlex_utf8_len((const unsigned char *)s + i, len - i);
        if (k == 0) {
            /* The cut of an overlong line may split a character; the long line is the error. */
            if (partial && len - i < 4)
                break;
            return tlex_fail(err, line, col, "invalid UTF-8 in comment");
        }
        i += k;
    }
    return TRACE_OK;
}

bool tlex_peek(const struct tlex *x, struct tlex_token *t)
{
    size_t pos = x->pos;
    while (pos < x->len && tlex_blank(x->s[pos]))
        pos++;
    if (pos == x->len || comment_at(x->s, x->len, pos))
        return false;
    size_t end = pos;
    while (end < x->len && !tlex_blank(x->s[end]))
        end++;
    *t = (struct tlex_token){ x->s + pos, end - pos, (unsigned)pos + 1 };
    return true;
}

bool tlex_next(struct tlex *x, struct tlex_token *t)
{
    while (x->pos < x->len && tlex_blank(x->s[x->pos]))
        x->pos++;
    if (!tlex_peek(x, t))
        return false;
    x->pos = t->col - 1 + t->len;
    return true;
}

unsigned tlex_col(const struct tlex *x)
{
    size_t pos = x->pos;
    while (pos < x->len && tlex_blank(x->s[pos]))
        pos++;
    return (unsigned)pos + 1;
}

bool tlex_has_prefix(const struct tlex_token *t, const char *prefix)
{
    size_t n = strlen(prefix);
    return t->len >= n && memcmp(t->p, prefix, n) == 0;
}

const char *tlex_show(const struct tlex_token *t, char buf[TLEX_SHOW])
{
    size_t n = t->len < TLEX_SHOW - 4 ? t->len : TLEX_SHOW - 4;
    for (size_t i = 0; i < n; i++)
        buf[i] = (t->p[i] >= 0x20 && t->p[i] < 0x7f) ? t->p[i] : '?';
    strcpy(buf + n, t->len > n ? "..." : "");
    return buf;
}

/* 0-15, or 16 for anything that is not a hex digit. */
static unsigned hex_digit(char ch)
{
    unsigned c = (unsigned char)ch;
    if (c - '0' < 10)
        return c - '0';
    c |= 0x20; /* lower case */
    return c - 'a' < 6 ? c - 'a' + 10 : 16;
}

enum trace_rc tlex_number(const struct tlex *x, const struct tlex_token *t, unsigned bits,
                          uint64_t *out)
{
    char b[TLEX_SHOW];
    unsigned base = 10;
    size_t i = 0;
    if (t->len >= 2 && t->p[0] == '0' && (t->p[1] == 'x' || t->p[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == t->len)
        return tlex_fail(x->err, x->line, t->col, "expected a number, not '%s'", tlex_show(t, b));
    uint64_t v = 0;
    bool wide = false;
    /* Keep scanning after an overflow so that "99...9z" is reported as not a number.
     * The overflow tests avoid a division per digit, which cost a third of replay. */
    for (; i < t->len; i++) {
        unsigned d = hex_digit(t->p[i]);
        if (d >= base)
            return tlex_fail(x->err, x->line, t->col, "expected a number, not '%s'",
                             tlex_show(t, b));
        if (base == 16) {
            wide |= v >> 60 != 0;
            v = v << 4 | d;
        } else {
            wide |= v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10);
            v = v * 10 + d;
        }
    }
    if (wide || (bits < 64 && v >> bits))
        return tlex_fail(x->err, x->line, t->col, "number does not fit in %u bits", bits);
    *out = v;
    return TRACE_OK;
}

void tlex_comment(const struct tlex *x, char out[TRACE_MAX_COMMENT])
{
    size_t pos = x->pos;
    out[0] = '\0';
    while (pos < x->len && tlex_blank(x->s[pos]))
        pos++;
    if (pos == x->len || x->s[pos] != '#')
        return;
    pos++;
    /* One blank belongs to the '#'; the rest is the comment's own indentation. */
    if (pos < x->len)
        pos++;
    size_t n = x->len - pos;
    if (n >= TRACE_MAX_COMMENT) {
        n = TRACE_MAX_COMMENT - 1;
        /* The text is valid UTF-8 (tlex_check): back off to a character's first byte. */
        while (n && ((unsigned char)x->s[pos + n] & 0xc0) == 0x80)
            n--;
        /* As for a whole line, a comment never ends in blanks, so the writer's text matches. */
        n = tlex_trim(x->s + pos, n);
    }
    memcpy(out, x->s + pos, n);
    out[n] = '\0';
}
