/* The event grammar's fast path: lines in the canonical form the writer writes
 * ("v2 rdmsr 0x40000022 -> 0x77359400"), found and parsed straight from the reader's
 * block, driven by the same table of forms as trace_event.c. Anything else - a comment,
 * two blanks, a tab, a word result this path does not know, a number too long or too
 * wide, an error, a line of more than TRACE_FAST_LINE bytes - is left to the reader's
 * general route and trace_event_parse(), which stays the one authority on the grammar
 * and its messages. Replay of a large trace spends most of its time here
 * (bench/bench_replay.c).
 *
 * One pass classifies the line's bytes sixteen at a time (SSE2, or a byte loop where
 * there is none): where the blanks are, where the line ends, which bytes are hex digits.
 * Tokens are then found with bit scans, and a hex number of known length is checked
 * with one scan and converted eight digits at a time.
 *
 * A trace repeats the same few line shapes millions of times - "rdmsr 0x40000022 -> 0x"
 * and some digits - so the parse of a line is kept as a shape: its text, which bytes
 * are the digits of its hex numbers, and the event it gave. A later line that has the
 * same bytes everywhere but in those digits, and hex digits there, is the same event
 * with other numbers: only they are converted. */
#include "traces/trace_lex.h"
#include "viridian/model.h"
#include <stdlib.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Each line's work is a few hundred instructions: a call and its spills are a tenth. */
#define FAST static inline __attribute__((always_inline))

/* Bytes 0..127 of the line and the ones after it, one bit each. */
struct line_bits {
    uint64_t stop[2];   /* blanks, and every byte from the end of the line on */
    uint64_t nonhex[2]; /* not 0-9, a-f, A-F */
    unsigned end;       /* where the line's text ends ('\n', or the '\r' before it) */
    unsigned next;      /* where the next line begins */
};

/* The hex numbers of a parsed line: where their digits are, and where they go. */
#define FAST_FIELDS 7          /* cpuid: two arguments, four registers */
#define FAST_RESULT 3          /* field slots 0-2: ev.a[]; 3-6: expect.v[] */
struct fast_field {
    uint8_t start, digits, bits, slot;
};
struct fast_fields {
    unsigned n;
    struct fast_field f[FAST_FIELDS];
};

/* Blanks, line ends and hex digits among the 16 bytes at p, as bit masks. */
FAST void classify16(const char *p, unsigned *blank, unsigned *nl, unsigned *hex)
{
#if defined(__SSE2__)
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* c - lo < n unsigned, as a signed compare of c + (0x80 - lo) with n - 0x80. */
    __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - '0'))),
                                   _mm_set1_epi8((char)(10 - 0x80)));
    __m128i lower = _mm_or_si128(x, _mm_set1_epi8(0x20));
    __m128i letter = _mm_cmplt_epi8(_mm_add_epi8(lower, _mm_set1_epi8((char)(0x80 - 'a'))),
                                    _mm_set1_epi8((char)(6 - 0x80)));
    *blank = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
    *nl = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')));
    *hex = (unsigned)_mm_movemask_epi8(_mm_or_si128(digit, letter));
#else
    *blank = *nl = *hex = 0;
    for (unsigned i = 0; i < 16; i++) {
        unsigned char c = (unsigned char)p[i], lower = c | 0x20;
        *blank |= (unsigned)(c == ' ') << i;
        *nl |= (unsigned)(c == '\n') << i;
        *hex |= (unsigned)((c >= '0' && c <= '9') || (lower >= 'a' && lower <= 'f')) << i;
    }
#endif
}

/* Four chunks: the 64 bytes at p. */
FAST void classify64(const char *p, uint64_t *blank, uint64_t *nl, uint64_t *hex)
{
    unsigned b[4], n[4], h[4];
    classify16(p, &b[0], &n[0], &h[0]);
    classify16(p + 16, &b[1], &n[1], &h[1]);
    classify16(p + 32, &b[2], &n[2], &h[2]);
    classify16(p + 48, &b[3], &n[3], &h[3]);
    *blank = b[0] | (uint64_t)b[1] << 16 | (uint64_t)b[2] << 32 | (uint64_t)b[3] << 48;
    *nl = n[0] | (uint64_t)n[1] << 16 | (uint64_t)n[2] << 32 | (uint64_t)n[3] << 48;
    *hex = h[0] | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 32 | (uint64_t)h[3] << 48;
}

/* The bits below n (n <= 64). */
FAST uint64_t below(size_t n)
{
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

/* false: no line end within avail and the first TRACE_FAST_LINE bytes. */
static bool line_bits(const char *s, size_t avail, struct line_bits *lb)
{
    uint64_t blank[2], nl, hex[2];
    unsigned at;
    classify64(s, &blank[0], &nl, &hex[0]);
    nl &= below(avail);
    if (nl) {
        at = (unsigned)__builtin_ctzll(nl);
        blank[1] = hex[1] = 0;
    } else {
        if (avail <= 64)
            return false;
        classify64(s + 64, &blank[1], &nl, &hex[1]);
        nl &= below(avail - 64);
        if (!nl)
            return false;
        at = 64 + (unsigned)__builtin_ctzll(nl);
    }
    lb->next = at + 1;
    lb->end = at && s[at - 1] == '\r' ? at - 1 : at;
    /* Everything from the end on stops a token, and is no hex digit. */
    uint64_t from_end[2] = { lb->end < 64 ? ~below(lb->end) : 0,
                             lb->end < 64 ? ~0ull : ~below(lb->end - 64) };
    for (int i = 0; i < 2; i++) {
        lb->stop[i] = blank[i] | from_end[i];
        lb->nonhex[i] = ~hex[i] | from_end[i];
    }
    return true;
}

/* The first set bit at or after pos; there is one by the end of the line. A line of
 * fewer than 64 bytes (most) needs only the first word: wide is a constant in each of
 * the two copies of the parser below. */
FAST unsigned next_bit(const uint64_t m[2], unsigned pos, bool wide)
{
    if (!wide)
        return pos + (unsigned)__builtin_ctzll(m[0] >> pos);
    if (pos < 64) {
        uint64_t w = m[0] >> pos;
        if (w)
            return pos + (unsigned)__builtin_ctzll(w);
        return 64 + (unsigned)__builtin_ctzll(m[1]);
    }
    return pos + (unsigned)__builtin_ctzll(m[1] >> (pos - 64));
}

FAST uint64_t load8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* The value of the eight hex digits at w, first character in the lowest byte (zero
 * bytes count as leading zeros): nibbles, then pairs, quads and the word merged by
 * multiplications that move each half next to the other. */
FAST uint64_t hex8_value(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull;
    uint64_t x = (w & ones * 0x0f) + ((w >> 6) & ones) * 9;
    x = ((x * (1 + (16ull << 8))) >> 8) & 0x00ff00ff00ff00ffull;
    x = ((x * (1 + (1ull << 24))) >> 16) & 0x0000ffff0000ffffull;
    return (x * (1 + (1ull << 48))) >> 32;
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* n (1 to 16) hex digits at p, already checked. */
FAST uint64_t hex_value(const char *p, unsigned n)
{
    if (n <= 8)
        return hex8_value(load8(p) << (8 * (8 - n)));
    return hex8_value(load8(p) << (8 * (16 - n))) << 32 | hex8_value(load8(p + n - 8));
}
#else
FAST uint64_t hex_value(const char *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 4 | (uint64_t)((p[i] & 0x0f) + (p[i] >> 6) * 9);
    return v;
}
#endif

/* The token at *pos, a number "0x..." (up to 16 hex digits) or decimal (up to 19
 * digits) of at most bits bits; *pos moves to the byte after it. */
FAST bool fast_number(const char *s, const struct line_bits *lb, bool wide, unsigned *pos,
                      unsigned bits, uint64_t *out, struct fast_fields *rec, unsigned slot)
{
    unsigned start = *pos, end = next_bit(lb->stop, start, wide), n = end - start;
    uint64_t v = 0;
    if ((n >= 3) & (s[start] == '0') & ((s[start + 1] | 0x20) == 'x')) {
        if (n > 18 || next_bit(lb->nonhex, start + 2, wide) != end)
            return false;
        v = hex_value(s + start + 2, n - 2);
        rec->f[rec->n++] = (struct fast_field){ (uint8_t)(start + 2), (uint8_t)(n - 2),
                                                (uint8_t)bits, (uint8_t)slot };
    } else {
        if (n == 0 || n > 19)
            return false;
        for (unsigned i = start; i < end; i++) {
            unsigned d = (unsigned)(unsigned char)s[i] - '0';
            if (d > 9)
                return false;
            v = v * 10 + d;
        }
    }
    /* bits is 1 to 64: two shifts, since one of 64 is undefined. */
    if ((v >> 1) >> (bits - 1))
        return false;
    *out = v;
    *pos = end;
    return true;
}

/* One blank. A second one, or the end of the line after it, leaves an empty token,
 * which no token parser takes. */
FAST bool fast_blank(const char *s, unsigned *pos)
{
    if (s[*pos] != ' ')
        return false;
    ++*pos;
    return true;
}

/* The token at *pos is the word w. */
FAST bool fast_word(const char *s, const struct line_bits *lb, bool wide, unsigned *pos,
                    const char *w, size_t wlen)
{
    unsigned end = next_bit(lb->stop, *pos, wide);
    if (end - *pos != wlen)
        return false;
    /* A few bytes: a call to memcmp cost more than the comparison. */
    for (size_t i = 0; i < wlen; i++)
        if (s[*pos + i] != w[i])
            return false;
    *pos = end;
    return true;
}

/* The first n bytes of the word w (n <= 8), the rest zero. */
FAST uint64_t first_bytes(uint64_t w, unsigned n)
{
    if (n >= 8)
        return w;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return w & ((1ull << (8 * n)) - 1);
#else
    return w & ~(~0ull >> (8 * n));
#endif
}

/* The form whose word is the token at *pos, compared eight bytes at a time with the
 * zero-padded words of the table. */
FAST const struct event_form *fast_form(const char *s, const struct line_bits *lb, bool wide,
                                        unsigned *pos)
{
    size_t count;
    const struct event_form *forms = trace_event_forms(&count);
    unsigned end = next_bit(lb->stop, *pos, wide), n = end - *pos;
    if (n == 0 || n >= TRACE_FORM_WORD)
        return NULL;
    uint64_t k0 = first_bytes(load8(s + *pos), n);
    uint64_t k1 = n > 8 ? first_bytes(load8(s + *pos + 8), n - 8) : 0;
    for (size_t i = 0; i < count; i++) {
        const char *w = forms[i].word;
        /* Equal keys and a last byte that is not the padding: the token is the word. */
        if (w[0] == s[*pos] && load8(w) == k0 && load8(w + 8) == k1 && w[n - 1] &&
            !forms[i].parse) {
            *pos = end;
            return &forms[i];
        }
    }
    return NULL;
}

FAST bool fast_result(const char *s, const struct line_bits *lb, bool wide, unsigned *pos,
                      const struct event_form *f, struct vres *res, struct fast_fields *rec)
{
    static const struct {
        const char *word;
        size_t len;
        enum vres_kind kind;
    } words[] = { { "ok", 2, VRES_OK }, { "#GP", 3, VRES_GP }, { "#UD", 3, VRES_UD } };
    if (s[*pos] >= '0' && s[*pos] <= '9') {
        if (!f->values[0].what)
            return false;
        res->kind = f->values[1].what ? VRES_REGS : VRES_VALUE;
        res->v[1] = res->v[2] = res->v[3] = 0;
        for (size_t k = 0; k < 4 && f->values[k].what; k++)
            if ((k && !fast_blank(s, pos)) ||
                !fast_number(s, lb, wide, pos, f->values[k].bits, &res->v[k], rec,
                             FAST_RESULT + (unsigned)k))
                return false;
        return true;
    }
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (!fast_word(s, lb, wide, pos, words[i].word, words[i].len))
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

/* The line after line_bits(): its event, or 0. */
FAST size_t parse_line(const char *s, const struct line_bits *lb, bool wide, unsigned line,
                       struct trace_item *item, struct fast_fields *rec)
{
    /* Straight into *item: numbers stored as 8-byte words and then copied as a whole
     * struct stalled on store forwarding (a sixth of replay's time). */
    struct vevent *ev = &item->ev;
    unsigned pos = 0;
    ev->vcpu = 0;
    if (s[0] == 'v') {
        /* "v" and decimal digits only ("v0x1" is an unknown event to the grammar). */
        unsigned end = next_bit(lb->stop, 0, wide);
        uint32_t vcpu = 0;
        if (end == 1)
            return 0;
        for (pos = 1; pos < end; pos++) {
            unsigned d = (unsigned)(unsigned char)s[pos] - '0';
            if (d > 9 || (vcpu = vcpu * 10 + d) >= VMODEL_MAX_VCPUS)
                return 0;
        }
        if (!fast_blank(s, &pos))
            return 0;
        ev->vcpu = vcpu;
    }
    const struct event_form *f = fast_form(s, lb, wide, &pos);
    if (!f)
        return 0;
    ev->kind = f->kind;
    ev->a[0] = ev->a[1] = ev->a[2] = 0;
    ev->from_guest = false;
    ev->host = NULL;
    ev->legacy = -1;
    ev->input = NULL;
    ev->input_words = 0;
    item->has_input = false; /* only hypercall lines carry in=, and they take the parser */
    item->input_words = 0;
    for (size_t i = 0; i < 3 && f->args[i].what; i++)
        if (!fast_blank(s, &pos) ||
            !fast_number(s, lb, wide, &pos, f->args[i].bits, &ev->a[i], rec, (unsigned)i))
            return 0;
    item->has_expect = false;
    item->expect.kind = VRES_NONE;
    if (pos < lb->end) {
        if (!f->results || !fast_blank(s, &pos) || !fast_word(s, lb, wide, &pos, "->", 2) ||
            !fast_blank(s, &pos) || !fast_result(s, lb, wide, &pos, f, &item->expect, rec))
            return 0;
        item->has_expect = true;
    }
    if (pos != lb->end)
        return 0;
    item->kind = TRACE_EVENT;
    item->line = line;
    item->comment[0] = '\0';
    return lb->next;
}

/* The whole parse, with the hex numbers recorded in *rec. */
static size_t parse_full(const char *s, size_t avail, unsigned line, struct trace_item *item,
                         struct fast_fields *rec)
{
    struct line_bits lb;
    rec->n = 0;
    if (!line_bits(s, avail, &lb))
        return 0;
    if (lb.end < 64)
        return parse_line(s, &lb, false, line, item, rec);
    return parse_line(s, &lb, true, line, item, rec);
}

/* What a parse gave, for lines of the same shape. */
struct fast_shape {
    uint64_t key;            /* 0: empty */
    uint64_t literal[2];     /* the bytes before `next` that are not digits of a field */
    uint64_t digits[2];      /* the bytes that are */
    uint64_t mask[FAST_FIELDS][2]; /* each field's digits */
    unsigned next;
    struct fast_fields fields;
    enum vev_kind kind;      /* the event, numbers aside */
    uint32_t vcpu;
    uint64_t a[3];
    bool has_expect;
    struct vres expect;
    char text[TRACE_FAST_LINE + 1];
};

/* Sets of two shapes: lines of different shapes that meet in one set take turns
 * without pushing each other out. */
#define FAST_SET_BITS 6
#define FAST_SETS (1u << FAST_SET_BITS)
struct fast_set {
    struct fast_shape way[2];
    unsigned evict; /* the way used least recently */
};
struct trace_fast {
    struct fast_set set[FAST_SETS];
};

struct trace_fast *trace_fast_new(void)
{
    return calloc(1, sizeof(struct trace_fast));
}

void trace_fast_free(struct trace_fast *c)
{
    free(c);
}

/* Which of the 64 bytes at s are blanks, which line ends (what is not used of
 * classify64() is dropped by the compiler). */
FAST void probe64(const char *s, uint64_t *blank, uint64_t *nl)
{
    uint64_t hex;
    classify64(s, blank, nl, &hex);
}

/* Which of the 64 bytes at s are hex digits. */
FAST uint64_t hex64(const char *s)
{
    uint64_t blank, nl, hex;
    classify64(s, &blank, &nl, &hex);
    return hex;
}

/* Which of the 32 bytes at s equal the ones at t (the bits above are 0). */
FAST uint64_t equal32(const char *s, const char *t)
{
#if defined(__SSE2__)
    __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i y0 = _mm_loadu_si128((const __m128i *)(const void *)t);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
    __m128i y1 = _mm_loadu_si128((const __m128i *)(const void *)(t + 16));
    return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x0, y0)) |
           (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x1, y1)) << 16;
#else
    uint64_t eq = 0;
    for (unsigned i = 0; i < 32; i++)
        eq |= (uint64_t)(s[i] == t[i]) << i;
    return eq;
#endif
}

/* Which of the 64 bytes at s equal the ones at t. */
FAST uint64_t equal64(const char *s, const char *t)
{
    return equal32(s, t) | equal32(s + 32, t + 32) << 32;
}

/* The shape's key: where the line ends and where its blanks are, which the digits of
 * its numbers never change. */
FAST uint64_t shape_key(uint64_t blank0, uint64_t blank1, unsigned next)
{
    uint64_t k = (blank0 * 0x9e3779b97f4a7c15ull) ^ (blank1 * 0xc2b2ae3d27d4eb4full) ^ next;
    return k | 1; /* never 0, an empty way */
}

/* Digits at positions [start, start + n) of a two-word bit set. */
static void set_bits(uint64_t m[2], unsigned start, unsigned n)
{
    for (unsigned i = start; i < start + n; i++)
        m[i / 64] |= 1ull << (i % 64);
}

static void remember(struct fast_shape *sh, uint64_t key, const char *s, unsigned next,
                     const struct trace_item *item, const struct fast_fields *rec)
{
    sh->key = key;
    sh->next = next;
    sh->digits[0] = sh->digits[1] = 0;
    for (unsigned i = 0; i < rec->n; i++) {
        sh->mask[i][0] = sh->mask[i][1] = 0;
        set_bits(sh->mask[i], rec->f[i].start, rec->f[i].digits);
        sh->digits[0] |= sh->mask[i][0];
        sh->digits[1] |= sh->mask[i][1];
    }
    sh->literal[0] = ~sh->digits[0] & below(next);
    sh->literal[1] = next > 64 ? ~sh->digits[1] & below(next - 64) : 0;
    sh->fields = *rec;
    sh->kind = item->ev.kind;
    sh->vcpu = item->ev.vcpu;
    memcpy(sh->a, item->ev.a, sizeof sh->a);
    sh->has_expect = item->has_expect;
    sh->expect = item->expect;
    memcpy(sh->text, s, next);
}

/* The line at s if it has the shape sh: the event, or 0. eq: which of its bytes equal
 * the shape's line. */
FAST size_t from_shape(const struct fast_shape *sh, const char *s, uint64_t eq0, uint64_t eq1,
                       unsigned line, struct trace_item *item)
{
    /* Every byte the same (most lines): the same event. Otherwise the bytes around the
     * numbers must be, and the numbers' bytes must be hex digits. */
    bool same = !((~eq0 & sh->literal[0]) | (~eq1 & sh->literal[1]) |
                  (~eq0 & sh->digits[0]) | (~eq1 & sh->digits[1]));
    if (!same) {
        if ((~eq0 & sh->literal[0]) | (~eq1 & sh->literal[1]))
            return 0;
        uint64_t hex0 = hex64(s), hex1 = sh->next > 64 ? hex64(s + 64) : 0;
        if ((~hex0 & sh->digits[0]) | (~hex1 & sh->digits[1]))
            return 0;
    }
    struct vevent *ev = &item->ev;
    ev->kind = sh->kind;
    ev->vcpu = sh->vcpu;
    ev->a[0] = sh->a[0];
    ev->a[1] = sh->a[1];
    ev->a[2] = sh->a[2];
    ev->from_guest = false;
    ev->host = NULL;
    ev->legacy = -1;
    ev->input = NULL;
    ev->input_words = 0;
    item->has_input = false;
    item->input_words = 0;
    item->has_expect = sh->has_expect;
    item->expect = sh->expect;
    for (unsigned i = 0; !same && i < sh->fields.n; i++) {
        const struct fast_field *f = &sh->fields.f[i];
        /* The same digits as the shape's line: the same value, already copied. */
        if (!((~eq0 & sh->mask[i][0]) | (~eq1 & sh->mask[i][1])))
            continue;
        uint64_t v = hex_value(s + f->start, f->digits);
        /* More digits than the field's bits hold: the value may be too wide. */
        if (f->digits * 4u > f->bits && (v >> 1) >> (f->bits - 1))
            return 0;
        if (f->slot < FAST_RESULT)
            ev->a[f->slot] = v;
        else
            item->expect.v[f->slot - FAST_RESULT] = v;
    }
    item->kind = TRACE_EVENT;
    item->line = line;
    item->comment[0] = '\0';
    return sh->next;
}

size_t trace_event_parse_fast(struct trace_fast *cache, const char *s, size_t avail,
                              unsigned line, struct trace_item *item)
{
    struct fast_fields rec;
    /* Comments and blank lines are turned away before any work. */
    if (avail == 0 || s[0] < 'a' || s[0] > 'z')
        return 0;
    if (!cache)
        return parse_full(s, avail, line, item, &rec);
    /* Where the line ends, and its key: half the lines of a trace end within 32 bytes. */
    uint64_t blank0, nl0, blank1 = 0, nl1 = 0;
    unsigned b[4], n[4], h[4];
    classify16(s, &b[0], &n[0], &h[0]);
    classify16(s + 16, &b[1], &n[1], &h[1]);
    blank0 = b[0] | (uint64_t)b[1] << 16;
    nl0 = (n[0] | (uint64_t)n[1] << 16) & below(avail);
    if (!nl0) {
        classify16(s + 32, &b[2], &n[2], &h[2]);
        classify16(s + 48, &b[3], &n[3], &h[3]);
        blank0 |= (uint64_t)b[2] << 32 | (uint64_t)b[3] << 48;
        nl0 = ((uint64_t)n[2] << 32 | (uint64_t)n[3] << 48) & below(avail);
    }
    unsigned next;
    if (nl0) {
        next = (unsigned)__builtin_ctzll(nl0) + 1;
    } else {
        if (avail <= 64)
            return 0;
        probe64(s + 64, &blank1, &nl1);
        nl1 &= below(avail - 64);
        if (!nl1)
            return 0;
        next = 65 + (unsigned)__builtin_ctzll(nl1);
    }
    uint64_t key = shape_key(blank0 & below(next), next > 64 ? blank1 & below(next - 64) : 0,
                             next);
    struct fast_set *set = &cache->set[key >> (64 - FAST_SET_BITS)];
    for (unsigned w = 0; w < 2; w++) {
        const struct fast_shape *sh = &set->way[w];
        if (sh->key != key)
            continue;
        uint64_t eq0 = next <= 32 ? equal32(s, sh->text) : equal64(s, sh->text);
        uint64_t eq1 = next > 64 ? equal64(s + 64, sh->text + 64) : 0;
        size_t took = from_shape(sh, s, eq0, eq1, line, item);
        if (took) {
            set->evict = !w;
            return took;
        }
    }
    size_t took = parse_full(s, avail, line, item, &rec);
    if (took) {
        remember(&set->way[set->evict], key, s, (unsigned)took, item, &rec);
        set->evict = !set->evict;
    }
    return took;
}
