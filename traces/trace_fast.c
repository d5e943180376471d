/* The event grammar's fast path: one pass over a line in the canonical form the writer
 * writes ("v2 rdmsr 0x40000022 -> 0x77359400"), driven by the same table of forms as
 * trace_event.c. Anything else - a comment, two blanks, a tab, a word result this path
 * does not know, a number too long or too wide, an error - is left to
 * trace_event_parse(), which stays the one authority on the grammar and its messages.
 * Replay of a large trace spends most of its time here (bench/bench_replay.c); the
 * general parser scans each token two or three times. */
#include "traces/trace_lex.h"
#include "viridian/model.h"

struct cursor {
    const char *p, *end;
    const char *limit; /* bytes up to here may be read, past the end of the line */
};

/* A digit's value plus one, 0 for anything else: one load per character. */
static const unsigned char digit1[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
    ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* The hex digits that begin the eight bytes at p: how many (0 to 8), and their value.
 * Eight bytes at once, since replay spends most of its parsing on hex numbers. Bytes
 * from 0x80 up end the run; the carries their sums make only reach later bytes, whose
 * results no longer count. */
static unsigned hex8(const char *p, uint64_t *value)
{
    const uint64_t ones = 0x0101010101010101ull, highs = ones * 0x80;
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t lower = w | ones * 0x20;
    uint64_t digit = (w + ones * (0x80 - '0')) & ~(w + ones * (0x80 - '9' - 1));
    uint64_t letter = (lower + ones * (0x80 - 'a')) & ~(lower + ones * (0x80 - 'f' - 1));
    uint64_t bad = ~((digit | letter) & ~w) & highs;
    unsigned n = bad ? (unsigned)__builtin_ctzll(bad) >> 3 : 8;
    /* Nibble values, first character in the lowest byte, then in the highest. */
    uint64_t x = (w & ones * 0x0f) + ((letter & highs) >> 7) * 9;
    if (n < 8)
        x &= (1ull << (8 * n)) - 1;
    x = __builtin_bswap64(x);
    x = ((x >> 4) | x) & 0x00ff00ff00ff00ffull;
    x = ((x >> 8) | x) & 0x0000ffff0000ffffull;
    x = ((x >> 16) | x) & 0x00000000ffffffffull;
    *value = x >> (4 * (8 - n));
    return n;
}

/* A number "0x..." (up to 16 hex digits) or decimal (up to 19 digits) ending at a blank
 * or the end of the line, of at most bits bits. */
static bool fast_number(struct cursor *c, unsigned bits, uint64_t *out)
{
    const char *p = c->p, *start;
    uint64_t v = 0;
    unsigned d;
    if (c->end - p >= 3 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        for (start = p += 2; p < c->end;) {
            if (c->limit - p >= 8 && p - start <= 16) {
                uint64_t chunk;
                unsigned n = hex8(p, &chunk);
                /* Digits past the end of the line belong to the next one. */
                if ((size_t)n > (size_t)(c->end - p)) {
                    chunk >>= 4 * (n - (unsigned)(c->end - p));
                    n = (unsigned)(c->end - p);
                }
                v = v << (4 * n) | chunk;
                p += n;
                if (n < 8)
                    break;
            } else if ((d = digit1[(unsigned char)*p] - 1u) < 16) {
                v = v << 4 | d;
                p++;
            } else {
                break;
            }
        }
        if (p == start || p - start > 16)
            return false;
    } else {
        for (start = p; p < c->end && (d = digit1[(unsigned char)*p] - 1u) < 10; p++)
            v = v * 10 + d;
        if (p == start || p - start > 19)
            return false;
    }
    if ((p < c->end && *p != ' ') || (bits < 64 && v >> bits))
        return false;
    *out = v;
    c->p = p;
    return true;
}

/* One blank, then something. */
static bool fast_blank(struct cursor *c)
{
    if (c->end - c->p < 2 || c->p[0] != ' ' || c->p[1] == ' ')
        return false;
    c->p++;
    return true;
}

/* The word w, then a blank or the end of the line. */
static bool fast_word(struct cursor *c, const char *w)
{
    const char *p = c->p;
    for (; *w; w++, p++)
        if (p == c->end || *p != *w)
            return false;
    if (p < c->end && *p != ' ')
        return false;
    c->p = p;
    return true;
}

static const struct event_form *fast_form(struct cursor *c)
{
    size_t n;
    const struct event_form *forms = trace_event_forms(&n);
    for (size_t i = 0; i < n; i++)
        if (c->p[0] == forms[i].word[0] && !forms[i].parse && fast_word(c, forms[i].word))
            return &forms[i];
    return NULL;
}

static bool fast_result(struct cursor *c, const struct event_form *f, struct vres *res)
{
    static const struct {
        const char *word;
        enum vres_kind kind;
    } words[] = { { "ok", VRES_OK }, { "#GP", VRES_GP }, { "#UD", VRES_UD } };
    if (c->p[0] >= '0' && c->p[0] <= '9') {
        if (!f->values[0].what)
            return false;
        res->kind = f->values[1].what ? VRES_REGS : VRES_VALUE;
        res->v[1] = res->v[2] = res->v[3] = 0;
        for (size_t k = 0; k < 4 && f->values[k].what; k++)
            if ((k && !fast_blank(c)) || !fast_number(c, f->values[k].bits, &res->v[k]))
                return false;
        return true;
    }
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (!fast_word(c, words[i].word))
            continue;
        for (size_t k = 0; k < sizeof f->words / sizeof f->words[0]; k++)
            if (f->words[k] == words[i].kind) {
                res->kind = words[i].kind;
                return true;
            }
        return false;
    }
    return false;
}

bool trace_event_parse_fast(const char *s, size_t len, size_t slack, unsigned line,
                            struct trace_item *item)
{
    struct cursor c = { s, s + len, s + len + slack };
    /* Straight into *item: numbers stored as 8-byte words and then copied as a whole
     * struct stalled on store forwarding (a sixth of replay's time). */
    struct vevent *ev = &item->ev;
    if (len == 0)
        return false;
    ev->vcpu = 0;
    if (c.p[0] == 'v') {
        /* "v" and decimal digits only ("v0x1" is an unknown event to the grammar). */
        uint32_t vcpu = 0;
        const char *digits = ++c.p;
        for (; c.p < c.end && *c.p >= '0' && *c.p <= '9' && vcpu < VMODEL_MAX_VCPUS; c.p++)
            vcpu = vcpu * 10 + (uint32_t)(*c.p - '0');
        if (c.p == digits || vcpu >= VMODEL_MAX_VCPUS || !fast_blank(&c))
            return false;
        ev->vcpu = vcpu;
    }
    const struct event_form *f = fast_form(&c);
    if (!f)
        return false;
    ev->kind = f->kind;
    ev->a[0] = ev->a[1] = ev->a[2] = 0;
    ev->from_guest = false;
    ev->host = NULL;
    ev->legacy = -1;
    for (size_t i = 0; i < 3 && f->args[i].what; i++)
        if (!fast_blank(&c) || !fast_number(&c, f->args[i].bits, &ev->a[i]))
            return false;
    item->has_expect = false;
    item->expect.kind = VRES_NONE;
    if (c.p < c.end) {
        if (!f->results || !fast_blank(&c) || !fast_word(&c, "->") || !fast_blank(&c) ||
            !fast_result(&c, f, &item->expect))
            return false;
        item->has_expect = true;
    }
    if (c.p != c.end)
        return false;
    item->kind = TRACE_EVENT;
    item->line = line;
    item->comment[0] = '\0';
    return true;
}
