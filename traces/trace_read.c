/* The streaming trace v1 reader: one bounded line at a time, the magic line, the config
 * header, then events; every problem a line:column error (docs/trace-format.md). */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "traces/linebuf.h"
#include "traces/trace_lex.h"
#include "viridian/model.h"
#include "viridian/profile.h"

struct trace_reader {
    unsigned line;
    bool magic;
    bool events;               /* an event has been read: no more config */
    bool failed;               /* errors are final: the stream is mid-line */
    struct trace_error failure;
    struct trace_config cfg;
    struct trace_fast *fast;   /* the shapes of the lines the fast path took */
    struct linebuf in;
};

/* 1: the next line at *text, *len bytes without its line end, *cut when it is longer
 * than the limit (then *len is the limit); 0: end of file; -1: an error in *err. */
static int next_line(struct trace_reader *r, char **text, size_t *len, bool *cut,
                     struct trace_error *err)
{
    bool whole;
    if (r->line == UINT_MAX) {
        tlex_fail(err, r->line, 0, "more than %u lines", UINT_MAX - 1);
        return -1;
    }
    int got = linebuf_next(&r->in, text, len, &whole);
    if (got < 0) {
        tlex_fail(err, r->line + 1, 0, "read error: %s", strerror(errno));
        return -1;
    }
    if (got == 0)
        return 0;
    r->line++;
    /* The limit counts the line's text, not its "\r\n" (a window of the limit + 2). */
    size_t n = *len;
    bool crlf = n == TRACE_MAX_LINE + 1 && (*text)[TRACE_MAX_LINE] == '\r';
    *cut = n > TRACE_MAX_LINE && !crlf;
    if (n > TRACE_MAX_LINE)
        n = TRACE_MAX_LINE;
    else if (n && (*text)[n - 1] == '\r')
        n--;
    *len = n;
    return 1;
}

/* The byte rules of a line that the fast path did not take: the byte order mark, trailing
 * blanks, control bytes and UTF-8, the length limit. The text gets a NUL after it. */
static bool check_line(struct trace_reader *r, char **text, size_t *len, bool cut,
                       struct trace_error *err)
{
    char *start = *text;
    size_t n = *len;
    /* A UTF-8 byte order mark some editors write is not part of the first line. */
    if (r->line == 1 && n >= 3 && memcmp(start, "\xef\xbb\xbf", 3) == 0) {
        start += 3;
        n -= 3;
    }
    if (!cut)
        n = tlex_trim(start, n);
    /* A binary file is reported as such even when its first "line" is also too long. */
    if (tlex_check(start, n, cut, r->line, err))
        return false;
    if (cut) {
        tlex_fail(err, r->line, TRACE_MAX_LINE + 1, "line longer than %u bytes", TRACE_MAX_LINE);
        return false;
    }
    start[n] = '\0';
    *text = start;
    *len = n;
    return true;
}

static enum trace_rc parse_magic(struct trace_reader *r, struct tlex *x)
{
    struct tlex_token t;
    char b[TLEX_SHOW];
    uint64_t version;
    tlex_next(x, &t);
    if (!tlex_is(&t, "vsbox-trace"))
        return tlex_fail(x->err, x->line, t.col, "expected 'vsbox-trace 1' on the first line");
    if (!tlex_next(x, &t))
        return tlex_fail(x->err, x->line, tlex_col(x), "expected a version after 'vsbox-trace'");
    if (tlex_number(x, &t, 64, &version))
        return TRACE_ERR;
    if (version != 1)
        return tlex_fail(x->err, x->line, t.col,
                         "trace version %s not supported (this vsbox reads 1)", tlex_show(&t, b));
    if (tlex_next(x, &t))
        return tlex_fail(x->err, x->line, t.col, "unexpected '%s' after 'vsbox-trace 1'",
                         tlex_show(&t, b));
    r->magic = true;
    return TRACE_OK;
}

static enum trace_rc cfg_host(struct tlex *x, const struct tlex_token *v, struct trace_config *cfg)
{
    return trace_parse_host(x, v, &cfg->host);
}

/* Kept as text: the spec means something only against the host, which a later line or
 * the command line may still change; the caller resolves it and reports at this place. */
static enum trace_rc cfg_viridian(struct tlex *x, const struct tlex_token *v,
                                  struct trace_config *cfg)
{
    if (v->len >= sizeof cfg->viridian)
        return tlex_fail(x->err, x->line, v->col, "viridian spec longer than %zu characters",
                         sizeof cfg->viridian - 1);
    memcpy(cfg->viridian, v->p, v->len);
    cfg->viridian[v->len] = '\0';
    cfg->viridian_line = x->line;
    cfg->viridian_col = v->col;
    return TRACE_OK;
}

/* Only the syntax: the model owns the range it supports (VMODEL_TSC_KHZ_MIN/MAX). */
static enum trace_rc cfg_tsc_khz(struct tlex *x, const struct tlex_token *v,
                                 struct trace_config *cfg)
{
    uint64_t n;
    if (tlex_number(x, v, 32, &n))
        return TRACE_ERR;
    if (n == 0)
        return tlex_fail(x->err, x->line, v->col, "tsc_khz must be positive");
    cfg->tsc_khz = (uint32_t)n;
    return TRACE_OK;
}

static enum trace_rc cfg_vcpus(struct tlex *x, const struct tlex_token *v,
                               struct trace_config *cfg)
{
    uint64_t n;
    if (tlex_number(x, v, 64, &n))
        return TRACE_ERR;
    if (n < 1 || n > VMODEL_MAX_VCPUS)
        return tlex_fail(x->err, x->line, v->col, "vcpus must be 1 to %u", VMODEL_MAX_VCPUS);
    cfg->vcpus = (uint32_t)n;
    return TRACE_OK;
}

static enum trace_rc cfg_memory(struct tlex *x, const struct tlex_token *v,
                                struct trace_config *cfg)
{
    uint64_t n;
    if (tlex_number(x, v, 64, &n))
        return TRACE_ERR;
    if (n < 1 || n > 4096)
        return tlex_fail(x->err, x->line, v->col, "memory must be 1 to 4096 (MiB)");
    cfg->memory_mib = (uint32_t)n;
    return TRACE_OK;
}

static const struct {
    const char *key;
    unsigned bit;
    enum trace_rc (*parse)(struct tlex *, const struct tlex_token *, struct trace_config *);
} config_keys[] = {
    { "host", TRACE_HAVE_HOST, cfg_host },
    { "viridian", TRACE_HAVE_VIRIDIAN, cfg_viridian },
    { "tsc_khz", TRACE_HAVE_TSC_KHZ, cfg_tsc_khz },
    { "vcpus", TRACE_HAVE_VCPUS, cfg_vcpus },
    { "memory", TRACE_HAVE_MEMORY, cfg_memory },
};

static enum trace_rc parse_config(struct trace_reader *r, struct tlex *x,
                                  const struct tlex_token *config)
{
    struct tlex_token t;
    char b[TLEX_SHOW];
    bool any = false;
    if (r->events)
        return tlex_fail(x->err, x->line, config->col, "config must come before the first event");
    while (tlex_next(x, &t)) {
        const char *eq = memchr(t.p, '=', t.len);
        if (!eq || eq == t.p)
            return tlex_fail(x->err, x->line, t.col, "expected KEY=VALUE, not '%s'",
                             tlex_show(&t, b));
        size_t klen = (size_t)(eq - t.p);
        struct tlex_token key = { t.p, klen, t.col };
        struct tlex_token v = { eq + 1, t.len - klen - 1, t.col + (unsigned)klen + 1 };
        size_t i = 0;
        while (i < sizeof config_keys / sizeof config_keys[0] && !tlex_is(&key, config_keys[i].key))
            i++;
        if (i == sizeof config_keys / sizeof config_keys[0])
            return tlex_fail(x->err, x->line, t.col, "unknown config key '%s'",
                             tlex_show(&key, b));
        if (r->cfg.have & config_keys[i].bit)
            return tlex_fail(x->err, x->line, t.col, "config key '%s' given twice",
                             config_keys[i].key);
        if (v.len == 0)
            return tlex_fail(x->err, x->line, v.col, "expected a value for '%s'",
                             config_keys[i].key);
        if (config_keys[i].parse(x, &v, &r->cfg))
            return TRACE_ERR;
        r->cfg.have |= config_keys[i].bit;
        any = true;
    }
    if (!any)
        return tlex_fail(x->err, x->line, tlex_col(x), "expected KEY=VALUE after 'config'");
    return TRACE_OK;
}

static enum trace_rc next_item(struct trace_reader *r, struct trace_item *item,
                               struct trace_error *err)
{
    for (;;) {
        /* Most lines of a large trace are events as the writer writes them: the fast path
         * finds their end itself and takes only bytes its forms allow, so its lines pass
         * every byte rule unchecked. */
        if (r->magic && r->line < UINT_MAX - 1) {
            size_t avail;
            const char *s = linebuf_peek(&r->in, &avail);
            size_t took = trace_event_parse_fast(r->fast, s, avail, r->line + 1, item);
            if (took) {
                linebuf_take(&r->in, took);
                r->line++;
                r->events = true;
                return TRACE_OK;
            }
        }
        size_t len = 0;
        char *text = NULL;
        bool cut = false;
        int got = next_line(r, &text, &len, &cut, err);
        if (got < 0)
            return TRACE_ERR;
        if (got == 0) {
            if (r->magic)
                return TRACE_EOF;
            if (r->line == 0)
                return tlex_fail(err, 1, 1, "empty file: expected 'vsbox-trace 1'");
            return tlex_fail(err, r->line, 0, "no 'vsbox-trace 1' line before the end");
        }
        if (!check_line(r, &text, &len, cut, err))
            return TRACE_ERR;
        struct tlex x = { text, len, 0, r->line, err };
        struct tlex_token t;
        *item = (struct trace_item){ .line = r->line };
        if (!tlex_peek(&x, &t)) {
            /* Kept as items so that --fill can give back the file's layout. */
            item->kind = len == 0 ? TRACE_BLANK : TRACE_COMMENT;
            tlex_comment(&x, item->comment);
            return TRACE_OK;
        }
        if (!r->magic) {
            if (parse_magic(r, &x))
                return TRACE_ERR;
            continue;
        }
        if (tlex_is(&t, "config")) {
            tlex_next(&x, &t);
            if (parse_config(r, &x, &t))
                return TRACE_ERR;
            continue;
        }
        if (trace_event_parse(&x, item))
            return TRACE_ERR;
        r->events = true;
        return TRACE_OK;
    }
}

struct trace_reader *trace_reader_new(FILE *f)
{
    /* Not calloc: the 128 KiB block needs no zeroing, only the fields do. */
    struct trace_reader *r = malloc(sizeof *r);
    if (r) {
        memset(r, 0, offsetof(struct trace_reader, in));
        linebuf_init(&r->in, f, TRACE_MAX_LINE + 2);
        /* Without it the fast path still works, only slower. */
        r->fast = trace_fast_new();
    }
    return r;
}

void trace_reader_free(struct trace_reader *r)
{
    if (r)
        trace_fast_free(r->fast);
    free(r);
}

const struct trace_config *trace_reader_config(const struct trace_reader *r)
{
    return &r->cfg;
}

enum trace_rc trace_reader_next(struct trace_reader *r, struct trace_item *item,
                                struct trace_error *err)
{
    if (r->failed) {
        *err = r->failure;
        return TRACE_ERR;
    }
    enum trace_rc rc = next_item(r, item, err);
    if (rc == TRACE_ERR) {
        r->failed = true;
        r->failure = *err;
    }
    return rc;
}
