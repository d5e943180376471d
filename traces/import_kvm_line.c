/* The prefix each tool puts before a tracepoint's arguments:
 *   trace-cmd report   "       CPU 0/KVM-3066  [002]  2360.123456: kvm_msr: ..."
 *   ftrace trace(_pipe) "  qemu-system-x86-613   [001] ....  1165.185227: kvm_msr: ..."
 *                       (flags "d..2." between CPU and time; "(tgid)" after the pid with
 *                       the record-tgid option)
 *   perf script        "       CPU 0/KVM  655470 [011] 17156.779273:   kvm:kvm_msr: ..."
 *                       ("pid/tid" when asked for both)
 * and excerpts pasted into bug reports with the prefix gone ("kvm_hv_flush_tlb: ...") or
 * another in its place ("A@1451335: kvm:kvm_cpuid: ..."). Task names may hold blanks and
 * dashes, so the line is read outward from the "[cpu]" field. */
#include <stdint.h>
#include <string.h>
#include "traces/import_kvm_internal.h"

/* Byte classes, one load per byte: the importer reads every byte of a capture. */
enum { C_BLANK = 1, C_DIGIT = 2, C_NAME = 4 /* a-z 0-9 _: tracepoint names */ };
#define C_LOWER(c) [c] = C_NAME
static const unsigned char cls[256] = {
    [' '] = C_BLANK, ['\t'] = C_BLANK, ['_'] = C_NAME,
    ['0'] = C_DIGIT | C_NAME, ['1'] = C_DIGIT | C_NAME, ['2'] = C_DIGIT | C_NAME,
    ['3'] = C_DIGIT | C_NAME, ['4'] = C_DIGIT | C_NAME, ['5'] = C_DIGIT | C_NAME,
    ['6'] = C_DIGIT | C_NAME, ['7'] = C_DIGIT | C_NAME, ['8'] = C_DIGIT | C_NAME,
    ['9'] = C_DIGIT | C_NAME,
    C_LOWER('a'), C_LOWER('b'), C_LOWER('c'), C_LOWER('d'), C_LOWER('e'), C_LOWER('f'),
    C_LOWER('g'), C_LOWER('h'), C_LOWER('i'), C_LOWER('j'), C_LOWER('k'), C_LOWER('l'),
    C_LOWER('m'), C_LOWER('n'), C_LOWER('o'), C_LOWER('p'), C_LOWER('q'), C_LOWER('r'),
    C_LOWER('s'), C_LOWER('t'), C_LOWER('u'), C_LOWER('v'), C_LOWER('w'), C_LOWER('x'),
    C_LOWER('y'), C_LOWER('z'),
};
#undef C_LOWER

static inline bool blank(char c)
{
    return cls[(unsigned char)c] & C_BLANK;
}

static inline bool digit(char c)
{
    return cls[(unsigned char)c] & C_DIGIT;
}

/* The first byte from p on that is not a blank. Trace-cmd pads its columns with runs of
 * them, so eight bytes are looked at at once where eight remain. */
static const char *skip_blanks(const char *p, const char *end)
{
    const uint64_t ones = 0x0101010101010101ull, low7 = ones * 0x7f;
    while (end - p >= 8) {
        uint64_t w, sp, tab;
        memcpy(&w, p, 8);
        /* A byte's high bit set when it is zero: exact, no borrow between bytes. */
        sp = w ^ (ones * ' ');
        sp = ~(((sp & low7) + low7) | sp | low7);
        tab = w ^ (ones * '\t');
        tab = ~(((tab & low7) + low7) | tab | low7);
        uint64_t other = ~(sp | tab) & (ones * 0x80);
        if (other) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + (__builtin_ctzll(other) >> 3);
#else
            return p + (__builtin_clzll(other) >> 3);
#endif
        }
        p += 8;
    }
    while (p < end && blank(*p))
        p++;
    return p;
}

static bool has_prefix(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && memcmp(s, p, n) == 0;
}

/* Digits s[0..n) as a number, -1 when not all digits or too long. */
static long decimal(const char *s, size_t n)
{
    long v = 0;
    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* The header lines of ftrace ("# tracer: nop", "#  TASK-PID ..."), trace-cmd report
 * ("cpus=4", "version = 6", "CPU 2 is empty", "CPU 0 data recorded at offset=...")
 * and perf ("# ========"). */
static bool header(const char *s, size_t len)
{
    /* Every header begins with one of these (most event lines do not). */
    if (s[0] != '#' && s[0] != 'c' && s[0] != 'v' && s[0] != 'C')
        return false;
    if (s[0] == '#' || has_prefix(s, len, "cpus=") || has_prefix(s, len, "version = "))
        return true;
    if (!has_prefix(s, len, "CPU ") || len < 5 || !digit(s[4]))
        return false;
    size_t i = 4;
    while (i < len && digit(s[i]))
        i++;
    return has_prefix(s + i, len - i, " is empty") || has_prefix(s + i, len - i, " data recorded");
}

/* "name:" or "sys:name:" at s, ending at a blank or the end; the event in out. */
static bool event_token(const char *s, const char *end, struct kvm_line *out, const char **next)
{
    const char *p = s, *colon = NULL;
    for (; p < end; p++) {
        unsigned c = cls[(unsigned char)*p];
        if (c & C_NAME)
            continue;
        if (c & C_BLANK)
            break;
        if (*p != ':')
            return false;
        if (p + 1 < end && !blank(p[1]))
            colon = p; /* the system's colon, "kvm:kvm_msr:" */
    }
    if (p - s < 2 || p[-1] != ':')
        return false;
    const char *name = colon ? colon + 1 : s;
    out->system = colon ? s : NULL;
    out->system_len = colon ? (size_t)(colon - s) : 0;
    out->event = name;
    out->event_len = (size_t)(p - 1 - name);
    if (out->event_len == 0 || (colon && out->system_len == 0))
        return false;
    *next = skip_blanks(p, end);
    return true;
}

/* "2360.123456:" (seconds, microseconds or nanoseconds) at s. */
static bool timestamp(const char *s, const char *end, const char **next)
{
    const char *p = s;
    while (p < end && digit(*p))
        p++;
    if (p == s)
        return false;
    if (p < end && *p == '.') {
        const char *frac = ++p;
        while (p < end && digit(*p))
            p++;
        if (p == frac)
            return false;
    }
    if (p == end || *p != ':')
        return false;
    *next = p + 1;
    return true;
}

/* What comes before "[cpu]": "task-pid", "task-pid (tgid)", "task tid", "task pid/tid". */
static void task_and_pid(const char *s, size_t len, struct kvm_line *out)
{
    while (len && blank(s[len - 1]))
        len--;
    if (len && s[len - 1] == ')') {
        const char *open = memchr(s, '(', len);
        if (open) {
            const char *v = open + 1, *e = s + len - 1;
            while (v < e && blank(*v))
                v++;
            out->tgid = decimal(v, (size_t)(e - v)); /* "(-------)": not known */
            len = (size_t)(open - s);
            while (len && blank(s[len - 1]))
                len--;
        }
    }
    size_t d = len;
    while (d && digit(s[d - 1]))
        d--;
    if (d < len && d > 0 && s[d - 1] == '-') {
        out->pid = decimal(s + d, len - d);
        out->task = s;
        out->task_len = d - 1;
        return;
    }
    if (d < len && d > 0 && s[d - 1] == '/') {
        /* perf's "pid/tid": the thread is what names a vCPU. */
        size_t t = d - 1;
        out->pid = decimal(s + d, len - d);
        d = t;
        while (d && digit(s[d - 1]))
            d--;
        out->tgid = decimal(s + d, t - d);
        len = d;
    } else if (d < len && d > 0 && blank(s[d - 1])) {
        out->pid = decimal(s + d, len - d);
        len = d;
    }
    while (len && blank(s[len - 1]))
        len--;
    size_t start = 0;
    while (start < len && blank(s[start]))
        start++;
    out->task = s + start;
    out->task_len = len - start;
}

/* "... [cpu] [flags] ts: event: args"; false when the line is not one. */
static bool prefixed(const char *s, const char *end, struct kvm_line *out)
{
    for (const char *b = s; (b = memchr(b, '[', (size_t)(end - b))) != NULL; b++) {
        const char *p = b + 1;
        while (p < end && digit(*p))
            p++;
        if (p == b + 1 || p == end || *p != ']' || (b > s && !blank(b[-1])))
            continue;
        long cpu = decimal(b + 1, (size_t)(p - b - 1));
        p = skip_blanks(p + 1, end);
        const char *after;
        if (!timestamp(p, end, &after)) {
            /* The irq/preempt flags ftrace prints: "d..2", ".....", "dNh1." */
            while (p < end && !blank(*p))
                p++;
            while (p < end && blank(*p))
                p++;
            if (!timestamp(p, end, &after))
                continue;
        }
        out->ts = p;
        out->ts_len = (size_t)(after - 1 - p);
        p = skip_blanks(after, end);
        if (!event_token(p, end, out, &p))
            continue;
        out->cpu = cpu < 0 ? -1 : (int)cpu;
        out->args = p;
        out->args_len = (size_t)(end - p);
        task_and_pid(s, (size_t)(b - s), out);
        return true;
    }
    return false;
}

/* An excerpt's "kvm_msr: args" with whatever prefix: the first "kvm_...:" or
 * "kvm:kvm_...:" token. */
static bool bare(const char *s, const char *end, struct kvm_line *out)
{
    for (const char *p = s; p + 4 < end; p++) {
        if ((p > s && !blank(p[-1])) || memcmp(p, "kvm", 3) != 0 || (p[3] != '_' && p[3] != ':'))
            continue;
        const char *next;
        struct kvm_line l = *out;
        if (!event_token(p, end, &l, &next))
            continue;
        if (l.system_len && (l.system_len != 3 || memcmp(l.system, "kvm", 3) != 0))
            continue;
        *out = l;
        out->args = next;
        out->args_len = (size_t)(end - next);
        return true;
    }
    return false;
}

enum kvm_line_kind kvm_split_line(const char *s, size_t len, struct kvm_line *out)
{
    *out = (struct kvm_line){ .pid = -1, .tgid = -1, .cpu = -1 };
    const char *end = s + len;
    while (end > s && (blank(end[-1]) || end[-1] == '\r'))
        end--;
    s = skip_blanks(s, end);
    if (s == end)
        return KVM_LINE_BLANK;
    if (header(s, (size_t)(end - s)))
        return KVM_LINE_HEADER;
    if (prefixed(s, end, out) || bare(s, end, out))
        return KVM_LINE_EVENT;
    return KVM_LINE_OTHER;
}
