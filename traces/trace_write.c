/* The canonical text of trace v1 (TRACE-V1.md, "Numbers"): lowercase hex with 0x and no
 * leading zeros for registers, MSRs, leaves and values; decimal for counts, vCPUs,
 * tsc_khz and vcpus. Whatever the input, a written line reads back. */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "traces/trace_lex.h"
#include "viridian/profile.h"

/* snprintf semantics across several appends: output cut to fit, length counted in full. */
struct out {
    char *buf;
    size_t len;
    size_t used;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    bool room = o->used < o->len;
    va_start(ap, fmt);
    int n = vsnprintf(room ? o->buf + o->used : NULL, room ? o->len - o->used : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->used += (size_t)n;
}

/* Plain text and numbers without vsnprintf, which cost most of writing a line: the
 * importer and --fill write one per event. Same semantics as put(). */
static void put_mem(struct out *o, const char *s, size_t n)
{
    if (o->used < o->len) {
        size_t room = o->len - o->used - 1; /* keep the NUL's byte */
        size_t k = n < room ? n : room;
        memcpy(o->buf + o->used, s, k);
        o->buf[o->used + k] = '\0';
    }
    o->used += n;
}

/* Inlined, so that the length of a literal is known when compiling. */
static inline __attribute__((always_inline)) void put_str(struct out *o, const char *s)
{
    put_mem(o, s, strlen(s));
}

static void put_hex(struct out *o, uint64_t v)
{
    /* "0x", then as many digits as v has (clz: no loop to count them). */
    char tmp[18] = "0x";
    size_t n = v ? (size_t)(67 - __builtin_clzll(v)) / 4 : 1;
    for (size_t i = n + 1; i >= 2; i--, v >>= 4)
        tmp[i] = "0123456789abcdef"[v & 0xf];
    put_mem(o, tmp, n + 2);
}

static void put_dec(struct out *o, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_mem(o, tmp + i, sizeof tmp - i);
}

static int done(const struct out *o)
{
    if (o->len && o->used == 0)
        o->buf[0] = '\0';
    return o->used > INT_MAX ? INT_MAX : (int)o->used;
}

static void put_event(struct out *o, const struct vevent *ev)
{
    if (ev->vcpu) {
        put_str(o, "v");
        put_dec(o, ev->vcpu);
        put_str(o, " ");
    }
    switch (ev->kind) {
    case VEV_CPUID:
        put_str(o, "cpuid ");
        put_hex(o, ev->a[0]);
        put_str(o, " ");
        put_hex(o, ev->a[1]);
        return;
    case VEV_RDMSR:
        put_str(o, "rdmsr ");
        put_hex(o, ev->a[0]);
        return;
    case VEV_WRMSR:
        put_str(o, "wrmsr ");
        put_hex(o, ev->a[0]);
        put_str(o, " ");
        put_hex(o, ev->a[1]);
        return;
    case VEV_RDTSC:
        put_str(o, "rdtsc");
        return;
    case VEV_HYPERCALL:
        put_str(o, "hypercall ");
        for (int i = 0; i < 3; i++) {
            put_hex(o, ev->a[i]);
            if (i < 2)
                put_str(o, " ");
        }
        if (ev->input && !ev->input_words)
            put_str(o, " in=none");
        for (uint32_t i = 0; ev->input && i < ev->input_words; i++) {
            put_str(o, i ? "," : " in=");
            put_hex(o, ev->input[i]);
        }
        return;
    case VEV_PARAM_SET:
        put(o, "param-set viridian 0x%" PRIx64 " from=%s", ev->a[0],
            ev->from_guest ? "guest" : "toolstack");
        return;
    case VEV_PARAM_GET:
        put(o, "param-get viridian%s", ev->from_guest ? " from=guest" : "");
        return;
    case VEV_ADVANCE:
        put(o, "advance %" PRIu64, ev->a[0]);
        return;
    case VEV_MIGRATE:
        put(o, "migrate host=%s", ev->host ? ev->host->name : "?");
        if (ev->legacy >= 0)
            put(o, " viridian=%d", ev->legacy ? 1 : 0);
        if (ev->a[0])
            put(o, " downtime=%" PRIu64, ev->a[0]);
        return;
    case VEV_POLL:
        put(o, "poll 0x%" PRIx64, ev->a[0]);
        return;
    case VEV_KIND_COUNT:
        break;
    }
    put(o, "?");
}

static void put_result(struct out *o, const struct vres *res)
{
    static const char *const words[] = {
        [VRES_NONE] = "(none)", [VRES_OK] = "ok",         [VRES_GP] = "#GP",
        [VRES_UD] = "#UD",      [VRES_EPERM] = "EPERM",   [VRES_EEXIST] = "EEXIST",
        [VRES_EINVAL] = "EINVAL", [VRES_REFUSED] = "refused",
    };
    if (res->kind == VRES_REGS) {
        for (int i = 0; i < 4; i++) {
            put_hex(o, res->v[i]);
            if (i < 3)
                put_str(o, " ");
        }
    } else if (res->kind == VRES_VALUE) {
        put_hex(o, res->v[0]);
    } else if ((size_t)res->kind < sizeof words / sizeof words[0] && words[res->kind]) {
        put_str(o, words[res->kind]);
    } else {
        put_str(o, "?");
    }
}

/* The reader's rules for comment text, applied on the way out: control characters
 * become blanks, bytes that are not UTF-8 become '?', the length is cut at a character
 * boundary to TRACE_MAX_COMMENT - 1 and trailing blanks go (the reader drops them). */
static size_t clean_comment(const char *in, char out[TRACE_MAX_COMMENT])
{
    size_t n = 0, len = strlen(in);
    const unsigned char *s = (const unsigned char *)in;
    /* Printable ASCII, by far the common case, eight bytes at a time: no byte below
     * 0x20 (the first test) and none from 0x7f up (the second). */
    const uint64_t ones = 0x0101010101010101ull, highs = ones * 0x80;
    while (len - n >= 8 && n + 8 < TRACE_MAX_COMMENT) {
        uint64_t w;
        memcpy(&w, s, 8);
        if (((w - ones * 0x20) & ~w & highs) | (((w + ones) | w) & highs))
            break;
        memcpy(out + n, s, 8);
        n += 8;
        s += 8;
    }
    while (*s) {
        /* Printable ASCII, by far the common case, needs no decoding. */
        if (*s >= 0x20 && *s < 0x7f) {
            if (n + 1 >= TRACE_MAX_COMMENT)
                break;
            out[n++] = (char)*s++;
            continue;
        }
        size_t k = tlex_utf8_len(s, strnlen((const char *)s, 4));
        if (n + (k ? k : 1) >= TRACE_MAX_COMMENT)
            break;
        if (k > 1) {
            memcpy(out + n, s, k);
            n += k;
            s += k;
            continue;
        }
        if (k == 0)
            out[n++] = '?';
        else if ((*s < 0x20 && *s != '\t') || *s == 0x7f)
            out[n++] = ' ';
        else
            out[n++] = (char)*s;
        s++;
    }
    n = tlex_trim(out, n);
    out[n] = '\0';
    return n;
}

int trace_format_event(char *buf, size_t len, const struct vevent *ev)
{
    struct out o = { buf, len, 0 };
    put_event(&o, ev);
    return done(&o);
}

int trace_format_result(char *buf, size_t len, const struct vres *res)
{
    struct out o = { buf, len, 0 };
    put_result(&o, res);
    return done(&o);
}

int trace_format_line(char *buf, size_t len, const struct vevent *ev, const struct vres *res,
                      const char *comment)
{
    struct out o = { buf, len, 0 };
    char text[TRACE_MAX_COMMENT];
    put_event(&o, ev);
    /* An event that has no result (advance) cannot be written with one. */
    if (res && res->kind != VRES_NONE) {
        put_str(&o, " -> ");
        put_result(&o, res);
    }
    size_t n;
    if (comment && (n = clean_comment(comment, text)) > 0) {
        put_str(&o, "  # ");
        put_mem(&o, text, n);
    }
    return done(&o);
}

int trace_format_config(char *buf, size_t len, const struct trace_config *cfg)
{
    struct out o = { buf, len, 0 };
    const char *sep = "config ";
    if ((cfg->have & TRACE_HAVE_HOST) && cfg->host) {
        put(&o, "%shost=%s", sep, cfg->host->name);
        sep = " ";
    }
    if (cfg->have & TRACE_HAVE_VIRIDIAN) {
        put(&o, "%sviridian=%s", sep, cfg->viridian);
        sep = " ";
    }
    if (cfg->have & TRACE_HAVE_TSC_KHZ) {
        put(&o, "%stsc_khz=%" PRIu32, sep, cfg->tsc_khz);
        sep = " ";
    }
    if (cfg->have & TRACE_HAVE_VCPUS) {
        put(&o, "%svcpus=%" PRIu32, sep, cfg->vcpus);
        sep = " ";
    }
    if (cfg->have & TRACE_HAVE_MEMORY)
        put(&o, "%smemory=%" PRIu32, sep, cfg->memory_mib);
    return done(&o);
}

int trace_write_magic(FILE *f)
{
    return fputs("vsbox-trace 1\n", f) < 0 ? -1 : 0;
}

int trace_write_config(FILE *f, const struct trace_config *cfg)
{
    char buf[TRACE_MAX_LINE + 1];
    /* A "config" with no keys would not read back: no keys, no line. */
    if (trace_format_config(buf, sizeof buf, cfg) == 0)
        return 0;
    return fprintf(f, "%s\n", buf) < 0 ? -1 : 0;
}

int trace_write_line(FILE *f, const struct vevent *ev, const struct vres *res,
                     const char *comment)
{
    char buf[TRACE_MAX_LINE + 1];
    int n = trace_format_line(buf, sizeof buf - 1, ev, res, comment);
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2; /* cannot happen: an event and a comment are far shorter */
    buf[n] = '\n';
    return fwrite(buf, 1, (size_t)n + 1, f) == (size_t)n + 1 ? 0 : -1;
}

int trace_write_comment(FILE *f, const char *text)
{
    char clean[TRACE_MAX_COMMENT];
    int rc = clean_comment(text, clean) ? fprintf(f, "# %s\n", clean) : fputs("#\n", f);
    return rc < 0 ? -1 : 0;
}
