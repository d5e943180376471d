/* Trace v1 reader: one bounded line at a time, every problem a line:column error. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "traces/trace.h"
#include "viridian/model.h"
#include "viridian/profile.h"

struct trace_reader {
    FILE *f;
    unsigned line;
    bool magic;
    bool events;               /* an event has been read: no more config */
    struct trace_config cfg;
    char buf[TRACE_MAX_LINE + 1];
};

/* A cursor over one line; tokens are runs of non-blanks, a comment ends the line. */
struct cursor {
    const char *s;
    size_t pos;
    unsigned line;
    struct trace_error *err;
};

struct token {
    const char *p;
    size_t len;
    size_t col;                /* 1-based */
};

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

static enum trace_rc fail_at(struct trace_error *err, unsigned line, size_t col,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum trace_rc fail_at(struct trace_error *err, unsigned line, size_t col,
                             const char *fmt, ...)
{
    va_list ap;
    err->line = line;
    err->col = (unsigned)col;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return TRACE_ERR;
}

static bool at_comment(const struct cursor *c)
{
    const char *s = c->s + c->pos;
    return s[0] == '#' && (s[1] == '\0' || blank(s[1])) && (c->pos == 0 || blank(s[-1]));
}

/* false at the end of the line or at a comment. */
static bool next_token(struct cursor *c, struct token *t)
{
    while (blank(c->s[c->pos]))
        c->pos++;
    if (c->s[c->pos] == '\0' || at_comment(c))
        return false;
    t->p = c->s + c->pos;
    t->col = c->pos + 1;
    while (c->s[c->pos] && !blank(c->s[c->pos]))
        c->pos++;
    t->len = (size_t)(c->s + c->pos - t->p);
    return true;
}

static bool is(const struct token *t, const char *word)
{
    return t->len == strlen(word) && memcmp(t->p, word, t->len) == 0;
}

/* Text for messages: the token, shortened and made printable. */
static const char *shown(const struct token *t, char *buf, size_t len)
{
    size_t n = t->len < len - 4 ? t->len : len - 4;
    for (size_t i = 0; i < n; i++)
        buf[i] = (t->p[i] >= 0x20 && t->p[i] < 0x7f) ? t->p[i] : '?';
    strcpy(buf + n, t->len > n ? "..." : "");
    return buf;
}

static enum trace_rc parse_number(const struct token *t, unsigned bits, uint64_t *out,
                                  unsigned line, struct trace_error *err)
{
    uint64_t v = 0;
    size_t i = 0;
    unsigned base = 10;
    if (t->len > 2 && t->p[0] == '0' && (t->p[1] == 'x' || t->p[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == t->len)
        return fail_at(err, line, t->col, "expected a number");
    for (; i < t->len; i++) {
        char ch = t->p[i];
        unsigned d = ch >= '0' && ch <= '9'               ? (unsigned)(ch - '0')
                     : base == 16 && ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                     : base == 16 && ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10)
                                                           : 99;
        if (d >= base) {
            char b[40];
            return fail_at(err, line, t->col, "expected a number, not '%s'", shown(t, b, sizeof b));
        }
        if (v > (UINT64_MAX - d) / base)
            return fail_at(err, line, t->col, "number does not fit in 64 bits");
        v = v * base + d;
    }
    if (bits < 64 && v >> bits)
        return fail_at(err, line, t->col, "number does not fit in %u bits", bits);
    *out = v;
    return TRACE_OK;
}

static enum trace_rc need(struct cursor *c, struct token *t, const char *what)
{
    if (next_token(c, t))
        return TRACE_OK;
    return fail_at(c->err, c->line, c->pos + 1, "expected %s", what);
}

static enum trace_rc number_arg(struct cursor *c, unsigned bits, uint64_t *out, const char *what)
{
    struct token t;
    if (need(c, &t, what) != TRACE_OK)
        return TRACE_ERR;
    return parse_number(&t, bits, out, c->line, c->err);
}

/* The allowed result words per event, and whether a number (or four) is allowed. */
struct result_form {
    unsigned numbers;          /* 0, 1 or 4 */
    unsigned bits;
    enum vres_kind words[4];
    const char *describe;
};

static const struct result_form forms[VEV_KIND_COUNT] = {
    [VEV_CPUID] = { 4, 32, { VRES_NONE }, "EAX EBX ECX EDX" },
    [VEV_RDMSR] = { 1, 64, { VRES_GP }, "a value or #GP" },
    [VEV_WRMSR] = { 0, 0, { VRES_OK, VRES_GP }, "ok or #GP" },
    [VEV_RDTSC] = { 1, 64, { VRES_NONE }, "a value" },
    [VEV_HYPERCALL] = { 1, 64, { VRES_UD }, "a value or #UD" },
    [VEV_PARAM_SET] = { 0, 0, { VRES_OK, VRES_EPERM, VRES_EEXIST, VRES_EINVAL },
                        "ok, EPERM, EEXIST or EINVAL" },
    [VEV_PARAM_GET] = { 1, 64, { VRES_NONE }, "a value" },
    [VEV_ADVANCE] = { 0, 0, { VRES_NONE }, NULL },
    [VEV_MIGRATE] = { 0, 0, { VRES_OK, VRES_REFUSED }, "ok or refused" },
};

static const struct {
    const char *word;
    enum vres_kind kind;
} result_words[] = {
    { "ok", VRES_OK },         { "#GP", VRES_GP },         { "#UD", VRES_UD },
    { "EPERM", VRES_EPERM },   { "EEXIST", VRES_EEXIST },  { "EINVAL", VRES_EINVAL },
    { "refused", VRES_REFUSED },
};

static enum trace_rc parse_result(struct cursor *c, const struct token *arrow, enum vev_kind kind,
                                  struct vres *res)
{
    const struct result_form *f = &forms[kind];
    struct token t;
    if (!f->describe)
        return fail_at(c->err, c->line, arrow->col, "this event takes no result");
    if (need(c, &t, f->describe) != TRACE_OK)
        return TRACE_ERR;
    for (size_t i = 0; i < sizeof result_words / sizeof result_words[0]; i++) {
        if (!is(&t, result_words[i].word))
            continue;
        for (unsigned k = 0; k < 4; k++)
            if (f->words[k] == result_words[i].kind && f->words[k] != VRES_NONE) {
                res->kind = result_words[i].kind;
                return TRACE_OK;
            }
        return fail_at(c->err, c->line, t.col, "expected %s, not '%s'", f->describe,
                       result_words[i].word);
    }
    if (f->numbers == 0) {
        char b[40];
        return fail_at(c->err, c->line, t.col, "expected %s, not '%s'", f->describe,
                       shown(&t, b, sizeof b));
    }
    res->kind = f->numbers == 4 ? VRES_REGS : VRES_VALUE;
    if (parse_number(&t, f->bits, &res->v[0], c->line, c->err) != TRACE_OK)
        return TRACE_ERR;
    for (unsigned k = 1; k < f->numbers; k++)
        if (number_arg(c, f->bits, &res->v[k], f->describe) != TRACE_OK)
            return TRACE_ERR;
    return TRACE_OK;
}

static enum trace_rc parse_kv(struct cursor *c, const struct token *t, const char *key,
                              struct token *value)
{
    size_t k = strlen(key);
    if (t->len <= k + 1 || memcmp(t->p, key, k) != 0 || t->p[k] != '=')
        return fail_at(c->err, c->line, t->col, "expected %s=...", key);
    *value = (struct token){ t->p + k + 1, t->len - k - 1, t->col + k + 1 };
    return TRACE_OK;
}

static enum trace_rc parse_host(struct cursor *c, const struct token *v,
                                const struct vprofile **host)
{
    char name[40];
    if (v->len >= sizeof name)
        return fail_at(c->err, c->line, v->col, "unknown host profile");
    memcpy(name, v->p, v->len);
    name[v->len] = '\0';
    if (!(*host = vprofile_find(name)))
        return fail_at(c->err, c->line, v->col, "unknown host profile '%s'", name);
    return TRACE_OK;
}

static enum trace_rc parse_args(struct cursor *c, struct vevent *ev)
{
    struct token t, v;
    switch (ev->kind) {
    case VEV_CPUID:
        if (number_arg(c, 32, &ev->a[0], "a leaf") || number_arg(c, 32, &ev->a[1], "a subleaf"))
            return TRACE_ERR;
        return TRACE_OK;
    case VEV_RDMSR:
        return number_arg(c, 32, &ev->a[0], "an MSR number");
    case VEV_WRMSR:
        if (number_arg(c, 32, &ev->a[0], "an MSR number") ||
            number_arg(c, 64, &ev->a[1], "a value"))
            return TRACE_ERR;
        return TRACE_OK;
    case VEV_HYPERCALL:
        for (int i = 0; i < 3; i++)
            if (number_arg(c, 64, &ev->a[i], i == 0 ? "RCX" : i == 1 ? "RDX" : "R8"))
                return TRACE_ERR;
        return TRACE_OK;
    case VEV_PARAM_SET:
    case VEV_PARAM_GET:
        if (need(c, &t, "'viridian'"))
            return TRACE_ERR;
        if (!is(&t, "viridian"))
            return fail_at(c->err, c->line, t.col, "only the viridian parameter is modelled");
        if (ev->kind == VEV_PARAM_GET)
            return TRACE_OK;
        if (number_arg(c, 64, &ev->a[0], "a value") || need(c, &t, "from=toolstack or from=guest"))
            return TRACE_ERR;
        if (is(&t, "from=toolstack") || is(&t, "from=guest")) {
            ev->from_guest = is(&t, "from=guest");
            return TRACE_OK;
        }
        return fail_at(c->err, c->line, t.col, "expected from=toolstack or from=guest");
    case VEV_ADVANCE:
        return number_arg(c, 64, &ev->a[0], "a tick count");
    case VEV_MIGRATE:
        if (need(c, &t, "host=PROFILE") || parse_kv(c, &t, "host", &v) ||
            parse_host(c, &v, &ev->host))
            return TRACE_ERR;
        size_t save = c->pos;
        if (next_token(c, &t)) {
            if (is(&t, "->")) {
                c->pos = save;
                return TRACE_OK;
            }
            if (parse_kv(c, &t, "viridian", &v))
                return TRACE_ERR;
            if (is(&v, "0") || is(&v, "false"))
                ev->legacy = 0;
            else if (is(&v, "1") || is(&v, "true"))
                ev->legacy = 1;
            else
                return fail_at(c->err, c->line, v.col,
                               "a legacy stream carries only a boolean: viridian=0 or 1");
        }
        return TRACE_OK;
    default:
        return TRACE_OK;
    }
}

static const struct {
    const char *word;
    enum vev_kind kind;
} event_words[] = {
    { "cpuid", VEV_CPUID },         { "rdmsr", VEV_RDMSR },     { "wrmsr", VEV_WRMSR },
    { "rdtsc", VEV_RDTSC },         { "hypercall", VEV_HYPERCALL },
    { "param-set", VEV_PARAM_SET }, { "param-get", VEV_PARAM_GET },
    { "advance", VEV_ADVANCE },     { "migrate", VEV_MIGRATE },
};

static enum trace_rc take_comment(struct cursor *c, char *out)
{
    const char *s = c->s + c->pos;
    out[0] = '\0';
    while (blank(*s))
        s++;
    if (*s != '#')
        return TRACE_OK;
    s++;
    while (blank(*s))
        s++;
    /* Whole UTF-8 sequences only, and cut only at a character boundary. */
    size_t n = 0, i = 0, len = strlen(s);
    while (i < len) {
        unsigned char b = (unsigned char)s[i];
        size_t k = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3
                 : (b & 0xf8) == 0xf0 ? 4 : 0;
        if (k == 0 || i + k > len)
            return fail_at(c->err, c->line, (size_t)(s - c->s) + i + 1, "invalid UTF-8 in comment");
        for (size_t j = 1; j < k; j++)
            if (((unsigned char)s[i + j] & 0xc0) != 0x80)
                return fail_at(c->err, c->line, (size_t)(s - c->s) + i + 1,
                               "invalid UTF-8 in comment");
        if (n + k < TRACE_MAX_COMMENT) {
            memcpy(out + n, s + i, k);
            n += k;
        }
        i += k;
    }
    out[n] = '\0';
    return TRACE_OK;
}

static enum trace_rc parse_event_line(struct cursor *c, struct trace_item *item)
{
    struct token t;
    struct vevent *ev = &item->ev;
    *ev = (struct vevent){ .legacy = -1 };
    item->kind = TRACE_EVENT;
    item->has_expect = false;
    item->expect = (struct vres){ .kind = VRES_NONE };
    item->comment[0] = '\0';

    if (!next_token(c, &t))
        return fail_at(c->err, c->line, 1, "expected an event");
    if (t.len >= 2 && t.p[0] == 'v' && t.p[1] >= '0' && t.p[1] <= '9') {
        struct token num = { t.p + 1, t.len - 1, t.col + 1 };
        uint64_t n;
        if (parse_number(&num, 64, &n, c->line, c->err))
            return TRACE_ERR;
        if (n >= VMODEL_MAX_VCPUS)
            return fail_at(c->err, c->line, t.col, "vCPU %llu out of range (0-%u)",
                           (unsigned long long)n, VMODEL_MAX_VCPUS - 1);
        ev->vcpu = (uint32_t)n;
        if (need(c, &t, "an event after the vCPU"))
            return TRACE_ERR;
    }
    size_t k = 0;
    while (k < sizeof event_words / sizeof event_words[0] && !is(&t, event_words[k].word))
        k++;
    if (k == sizeof event_words / sizeof event_words[0]) {
        char b[40];
        return fail_at(c->err, c->line, t.col, "unknown event '%s'", shown(&t, b, sizeof b));
    }
    ev->kind = event_words[k].kind;
    if (parse_args(c, ev))
        return TRACE_ERR;
    if (next_token(c, &t)) {
        if (!is(&t, "->")) {
            char b[40];
            return fail_at(c->err, c->line, t.col, "unexpected '%s' (results follow '->')",
                           shown(&t, b, sizeof b));
        }
        if (parse_result(c, &t, ev->kind, &item->expect))
            return TRACE_ERR;
        item->has_expect = true;
        if (next_token(c, &t)) {
            char b[40];
            return fail_at(c->err, c->line, t.col, "unexpected '%s' after the result",
                           shown(&t, b, sizeof b));
        }
    }
    return take_comment(c, item->comment);
}

static enum trace_rc parse_config_line(struct trace_reader *r, struct cursor *c)
{
    static const struct {
        const char *key;
        unsigned bit;
    } keys[] = {
        { "host", TRACE_HAVE_HOST },         { "viridian", TRACE_HAVE_VIRIDIAN },
        { "tsc_khz", TRACE_HAVE_TSC_KHZ },   { "vcpus", TRACE_HAVE_VCPUS },
    };
    struct token t;
    if (r->events)
        return fail_at(c->err, c->line, 1, "config must come before the first event");
    bool any = false;
    while (next_token(c, &t)) {
        const char *eq = memchr(t.p, '=', t.len);
        if (!eq || eq == t.p) {
            char b[40];
            return fail_at(c->err, c->line, t.col, "expected KEY=VALUE, not '%s'",
                           shown(&t, b, sizeof b));
        }
        size_t klen = (size_t)(eq - t.p);
        struct token key = { t.p, klen, t.col }, v = { eq + 1, t.len - klen - 1, t.col + klen + 1 };
        size_t i = 0;
        while (i < sizeof keys / sizeof keys[0] && !is(&key, keys[i].key))
            i++;
        if (i == sizeof keys / sizeof keys[0]) {
            char b[40];
            return fail_at(c->err, c->line, t.col, "unknown config key '%s'",
                           shown(&key, b, sizeof b));
        }
        if (r->cfg.have & keys[i].bit)
            return fail_at(c->err, c->line, t.col, "config key '%s' given twice", keys[i].key);
        if (v.len == 0)
            return fail_at(c->err, c->line, v.col, "expected a value for '%s'", keys[i].key);
        uint64_t n;
        switch (keys[i].bit) {
        case TRACE_HAVE_HOST:
            if (parse_host(c, &v, &r->cfg.host))
                return TRACE_ERR;
            break;
        case TRACE_HAVE_VIRIDIAN:
            if (v.len >= sizeof r->cfg.viridian)
                return fail_at(c->err, c->line, v.col, "viridian spec too long");
            memcpy(r->cfg.viridian, v.p, v.len);
            r->cfg.viridian[v.len] = '\0';
            r->cfg.viridian_line = c->line;
            r->cfg.viridian_col = (unsigned)v.col;
            break;
        case TRACE_HAVE_TSC_KHZ:
            if (parse_number(&v, 32, &n, c->line, c->err))
                return TRACE_ERR;
            if (n == 0)
                return fail_at(c->err, c->line, v.col, "tsc_khz must be positive");
            r->cfg.tsc_khz = (uint32_t)n;
            break;
        case TRACE_HAVE_VCPUS:
            if (parse_number(&v, 32, &n, c->line, c->err))
                return TRACE_ERR;
            if (n < 1 || n > VMODEL_MAX_VCPUS)
                return fail_at(c->err, c->line, v.col, "vcpus must be 1 to %u", VMODEL_MAX_VCPUS);
            r->cfg.vcpus = (uint32_t)n;
            break;
        }
        r->cfg.have |= keys[i].bit;
        any = true;
    }
    if (!any)
        return fail_at(c->err, c->line, c->pos + 1, "expected KEY=VALUE after 'config'");
    return TRACE_OK;
}

/* Reads one line into r->buf: 1 a line, 0 end of file, -1 error (err filled). */
static int read_line(struct trace_reader *r, struct trace_error *err)
{
    size_t n = 0;
    int ch;
    while ((ch = getc(r->f)) != EOF && ch != '\n') {
        if (ch == '\0') {
            fail_at(err, r->line + 1, n + 1, "binary data (NUL byte)");
            return -1;
        }
        if (n == TRACE_MAX_LINE) {
            fail_at(err, r->line + 1, n + 1, "line longer than %u bytes", TRACE_MAX_LINE);
            return -1;
        }
        r->buf[n++] = (char)ch;
    }
    if (ch == EOF && ferror(r->f)) {
        fail_at(err, r->line + 1, 0, "read error: %s", strerror(errno));
        return -1;
    }
    if (ch == EOF && n == 0)
        return 0;
    if (n && r->buf[n - 1] == '\r')
        n--;
    r->buf[n] = '\0';
    r->line++;
    return 1;
}

struct trace_reader *trace_reader_new(FILE *f)
{
    struct trace_reader *r = calloc(1, sizeof *r);
    if (r)
        r->f = f;
    return r;
}

void trace_reader_free(struct trace_reader *r)
{
    free(r);
}

const struct trace_config *trace_reader_config(const struct trace_reader *r)
{
    return &r->cfg;
}

static bool only_comment(struct cursor *c, struct trace_item *item, enum trace_rc *rc)
{
    struct token t;
    size_t save = c->pos;
    if (next_token(c, &t)) {
        c->pos = save;
        return false;
    }
    item->kind = c->s[c->pos] == '\0' ? TRACE_BLANK : TRACE_COMMENT;
    *rc = take_comment(c, item->comment);
    return true;
}

enum trace_rc trace_reader_next(struct trace_reader *r, struct trace_item *item,
                                struct trace_error *err)
{
    for (;;) {
        int got = read_line(r, err);
        if (got < 0)
            return TRACE_ERR;
        if (got == 0) {
            if (!r->magic)
                return fail_at(err, r->line ? r->line : 1, r->line ? 0 : 1,
                               r->line ? "expected 'vsbox-trace 1' before the end"
                                       : "empty file: expected 'vsbox-trace 1'");
            return TRACE_EOF;
        }
        struct cursor c = { r->buf, 0, r->line, err };
        struct token t;
        enum trace_rc rc = TRACE_OK;
        *item = (struct trace_item){ .line = r->line };
        if (only_comment(&c, item, &rc))
            return rc;
        next_token(&c, &t);
        if (!r->magic) {
            struct token v;
            if (!is(&t, "vsbox-trace") || !next_token(&c, &v))
                return fail_at(err, r->line, t.col, "expected 'vsbox-trace 1' on the first line");
            if (!is(&v, "1")) {
                char b[40];
                return fail_at(err, r->line, v.col, "trace version %s not supported (this vsbox reads 1)",
                               shown(&v, b, sizeof b));
            }
            if (next_token(&c, &v))
                return fail_at(err, r->line, v.col, "unexpected text after 'vsbox-trace 1'");
            r->magic = true;
            continue;
        }
        if (is(&t, "config")) {
            if (parse_config_line(r, &c))
                return TRACE_ERR;
            continue;
        }
        c.pos = 0;
        if (parse_event_line(&c, item))
            return TRACE_ERR;
        item->line = r->line;
        r->events = true;
        return TRACE_OK;
    }
}

enum trace_rc trace_parse_event(const char *line, struct trace_item *item, struct trace_error *err)
{
    if (strlen(line) > TRACE_MAX_LINE)
        return fail_at(err, 1, TRACE_MAX_LINE + 1, "line longer than %u bytes", TRACE_MAX_LINE);
    struct cursor c = { line, 0, 1, err };
    *item = (struct trace_item){ .line = 1 };
    return parse_event_line(&c, item);
}
