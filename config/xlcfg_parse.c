/* xl.cfg syntax as libxlu's lexer and grammar accept it (Xen 4.5): identifiers
 * [a-z][._0-9a-z]*, numbers [0-9][0-9a-fx]*, '...' and "..." strings with C escapes,
 * lists of atoms, '#' comments, settings ended by a newline or ';'. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/xlcfg.h"

#define MAX_ENTRIES 100000u
#define MAX_KEY 255u

struct lexer {
    const char *s;
    size_t len, pos;
    unsigned line;
    size_t line_start;
    struct xlcfg_error *err;
};

static int fail(struct lexer *lx, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct lexer *lx, size_t at, const char *fmt, ...)
{
    va_list ap;
    lx->err->line = lx->line;
    lx->err->col = (unsigned)(at - lx->line_start + 1);
    va_start(ap, fmt);
    vsnprintf(lx->err->msg, sizeof lx->err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static char peek(const struct lexer *lx)
{
    return lx->pos < lx->len ? lx->s[lx->pos] : '\0';
}

/* Blanks and a comment; newlines too when nl_ok (inside lists). */
static void skip(struct lexer *lx, bool nl_ok)
{
    while (lx->pos < lx->len) {
        char c = lx->s[lx->pos];
        if (c == ' ' || c == '\t' || c == '\r') {
            lx->pos++;
        } else if (c == '#') {
            while (lx->pos < lx->len && lx->s[lx->pos] != '\n')
                lx->pos++;
        } else if (c == '\n' && nl_ok) {
            lx->pos++;
            lx->line++;
            lx->line_start = lx->pos;
        } else {
            break;
        }
    }
}

static bool ident_start(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool ident_char(char c)
{
    return ident_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '_';
}

static void describe(char c, char *buf, size_t len)
{
    if (c == '\0')
        snprintf(buf, len, "end of file");
    else if (c == '\n')
        snprintf(buf, len, "end of line");
    else if (c > 0x20 && c < 0x7f)
        snprintf(buf, len, "'%c'", c);
    else
        snprintf(buf, len, "byte 0x%02x", (unsigned char)c);
}

/* libxlu flags these as "likely python" */
static bool pythonic(char c)
{
    return c == '+' || c == '-' || c == '.' || c == '(' || c == ')' || c == ':';
}

static int escape(struct lexer *lx, char *out)
{
    static const char simple[] = "\"\"''\\\\a\ab\bf\fn\nr\rt\tv\v";
    char c = peek(lx);
    for (size_t i = 0; simple[i]; i += 2)
        if (c == simple[i]) {
            *out = simple[i + 1];
            lx->pos++;
            return 0;
        }
    unsigned v = 0, digits = 0, base = c == 'x' ? 16 : 8, max = c == 'x' ? 2 : 3;
    if (c == 'x')
        lx->pos++;
    while (digits < max) {
        char d = peek(lx);
        unsigned n = d >= '0' && d <= '7'                   ? (unsigned)(d - '0')
                     : base == 16 && d >= '8' && d <= '9'   ? (unsigned)(d - '0')
                     : base == 16 && d >= 'a' && d <= 'f'   ? (unsigned)(d - 'a' + 10)
                     : base == 16 && d >= 'A' && d <= 'F'   ? (unsigned)(d - 'A' + 10)
                                                            : 99;
        if (n == 99)
            break;
        v = v * base + n;
        digits++;
        lx->pos++;
    }
    if (digits == 0)
        return fail(lx, lx->pos, "unknown escape in quoted string");
    if (v == 0 || v > 0xff)
        return fail(lx, lx->pos - 1, "escape gives a NUL or out-of-range byte");
    *out = (char)v;
    return 0;
}

static int string_value(struct lexer *lx, struct xlcfg_value *v)
{
    char q = lx->s[lx->pos];
    size_t start = lx->pos++, end = lx->pos;
    /* Size the buffer by the quoted text only: escapes never lengthen it. */
    while (end < lx->len && lx->s[end] != q && lx->s[end] != '\n')
        end += lx->s[end] == '\\' ? 2 : 1;
    char *buf = malloc(end - lx->pos + 1);
    size_t n = 0;
    if (!buf)
        return fail(lx, start, "out of memory");
    for (;;) {
        char c = peek(lx);
        if (lx->pos >= lx->len || c == '\n') {
            free(buf);
            return fail(lx, start, "unterminated string");
        }
        lx->pos++;
        if (c == q)
            break;
        if (c == '\\') {
            if (escape(lx, &buf[n])) {
                free(buf);
                return -1;
            }
            n++;
            continue;
        }
        buf[n++] = c;
    }
    buf[n] = '\0';
    v->type = XLCFG_STRING;
    v->text = buf;
    return 0;
}

static int atom(struct lexer *lx, struct xlcfg_value *v)
{
    char c = peek(lx);
    v->line = lx->line;
    v->col = (unsigned)(lx->pos - lx->line_start + 1);
    v->items = NULL;
    v->n_items = 0;
    if (c == '"' || c == '\'')
        return string_value(lx, v);
    if (c >= '0' && c <= '9') {
        size_t start = lx->pos;
        while (lx->pos < lx->len &&
               ((peek(lx) >= '0' && peek(lx) <= '9') || (peek(lx) >= 'a' && peek(lx) <= 'f') ||
                peek(lx) == 'x'))
            lx->pos++;
        v->type = XLCFG_NUMBER;
        v->text = strndup(lx->s + start, lx->pos - start);
        return v->text ? 0 : fail(lx, start, "out of memory");
    }
    char what[32];
    describe(c, what, sizeof what);
    if (pythonic(c))
        return fail(lx, lx->pos, "unexpected %s (xl.cfg is not Python)", what);
    return fail(lx, lx->pos, "expected a string, a number or a [ list ], not %s", what);
}

static void free_value(struct xlcfg_value *v)
{
    free(v->text);
    for (size_t i = 0; i < v->n_items; i++)
        free(v->items[i].text);
    free(v->items);
}

static int list_value(struct lexer *lx, struct xlcfg_value *v)
{
    size_t open = lx->pos++;
    unsigned open_line = lx->line;
    size_t open_col = open - lx->line_start;
    size_t cap = 0;
    v->type = XLCFG_LIST;
    v->text = NULL;
    v->items = NULL;
    v->n_items = 0;
    for (;;) {
        skip(lx, true);
        char c = peek(lx);
        if (c == ']') {
            lx->pos++;
            return 0;
        }
        if (lx->pos >= lx->len) {
            lx->line = open_line;
            lx->line_start = open - open_col;
            free_value(v);
            return fail(lx, open, "unterminated list");
        }
        if (c == '[') {
            free_value(v);
            return fail(lx, lx->pos, "lists cannot contain lists");
        }
        if (v->n_items == cap) {
            cap = cap ? cap * 2 : 4;
            struct xlcfg_value *grown = realloc(v->items, cap * sizeof *grown);
            if (!grown) {
                free_value(v);
                return fail(lx, lx->pos, "out of memory");
            }
            v->items = grown;
        }
        if (atom(lx, &v->items[v->n_items])) {
            free_value(v);
            return -1;
        }
        v->n_items++;
        skip(lx, true);
        if (peek(lx) == ',') {
            lx->pos++;
            continue;
        }
        if (peek(lx) != ']') {
            char what[32];
            describe(peek(lx), what, sizeof what);
            if (lx->pos >= lx->len) {
                lx->line = open_line;
                lx->line_start = open - open_col;
                free_value(v);
                return fail(lx, open, "unterminated list");
            }
            free_value(v);
            return fail(lx, lx->pos, "expected ',' or ']' in a list, not %s", what);
        }
    }
}

void xlcfg_free(struct xlcfg *cfg)
{
    for (size_t i = 0; i < cfg->n_entries; i++) {
        free(cfg->entries[i].key);
        free_value(&cfg->entries[i].value);
    }
    free(cfg->entries);
    cfg->entries = NULL;
    cfg->n_entries = 0;
}

static int setting(struct lexer *lx, struct xlcfg *out, size_t *cap)
{
    size_t start = lx->pos;
    struct xlcfg_entry e = { .line = lx->line, .col = (unsigned)(start - lx->line_start + 1) };
    while (lx->pos < lx->len && ident_char(peek(lx)))
        lx->pos++;
    size_t key_len = lx->pos - start;
    if (key_len > MAX_KEY)
        return fail(lx, start, "key longer than %u characters", MAX_KEY);
    skip(lx, false);
    if (peek(lx) != '=') {
        char what[32];
        describe(peek(lx), what, sizeof what);
        return fail(lx, lx->pos, "expected '=' after key '%.*s', not %s",
                    (int)(key_len > 64 ? 64 : key_len), lx->s + start, what);
    }
    lx->pos++;
    skip(lx, false);
    int rc = peek(lx) == '[' ? list_value(lx, &e.value) : atom(lx, &e.value);
    if (rc)
        return -1;
    if (e.value.type == XLCFG_LIST) {
        e.value.line = e.line;
        e.value.col = e.col;
    }
    if (out->n_entries == MAX_ENTRIES) {
        free_value(&e.value);
        return fail(lx, start, "more than %u settings", MAX_ENTRIES);
    }
    if (out->n_entries == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        struct xlcfg_entry *grown = realloc(out->entries, *cap * sizeof *grown);
        if (!grown) {
            free_value(&e.value);
            return fail(lx, start, "out of memory");
        }
        out->entries = grown;
    }
    e.key = strndup(lx->s + start, key_len);
    if (!e.key) {
        free_value(&e.value);
        return fail(lx, start, "out of memory");
    }
    out->entries[out->n_entries++] = e;
    return 0;
}

int xlcfg_parse(const char *text, size_t len, struct xlcfg *out, struct xlcfg_error *err)
{
    struct lexer lx = { text, len, 0, 1, 0, err };
    size_t cap = 0;
    *out = (struct xlcfg){ 0 };
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        size_t at = (size_t)(nul - text);
        for (size_t i = 0; i < at; i++)
            if (text[i] == '\n') {
                lx.line++;
                lx.line_start = i + 1;
            }
        return fail(&lx, at, "binary data (NUL byte): not an xl.cfg file");
    }
    for (;;) {
        skip(&lx, false);
        char c = peek(&lx);
        if (lx.pos >= len)
            return 0;
        if (c == '\n' || c == ';') {
            if (c == '\n') {
                lx.line++;
                lx.line_start = lx.pos + 1;
            }
            lx.pos++;
            continue;
        }
        if (!ident_start(c)) {
            char what[32];
            describe(c, what, sizeof what);
            xlcfg_free(out);
            return fail(&lx, lx.pos, "expected a setting (key = value), not %s", what);
        }
        if (setting(&lx, out, &cap)) {
            xlcfg_free(out);
            return -1;
        }
        skip(&lx, false);
        c = peek(&lx);
        if (lx.pos < len && c != '\n' && c != ';') {
            char what[32];
            describe(c, what, sizeof what);
            xlcfg_free(out);
            if (pythonic(c))
                return fail(&lx, lx.pos, "unexpected %s (xl.cfg is not Python)", what);
            return fail(&lx, lx.pos, "expected a newline or ';' after the value, not %s", what);
        }
    }
}

const struct xlcfg_entry *xlcfg_get(const struct xlcfg *cfg, const char *key)
{
    for (size_t i = cfg->n_entries; i-- > 0;)
        if (strcmp(cfg->entries[i].key, key) == 0)
            return &cfg->entries[i];
    return NULL;
}
