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
#include <string.h>
#include "traces/import_kvm_internal.h"

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
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
    while (p < end && !blank(*p)) {
        char c = *p;
        if (c == ':') {
            if (p + 1 < end && !blank(p[1]))
                colon = p; /* the system's colon, "kvm:kvm_msr:" */
        } else if (!((c >= 'a' && c <= 'z') || digit(c) || c == '_')) {
            return false;
        }
        p++;
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
    while (p < end && blank(*p))
        p++;
    *next = p;
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
        p++;
        while (p < end && blank(*p))
            p++;
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
        p = after;
        while (p < end && blank(*p))
            p++;
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
    while (s < end && blank(*s))
        s++;
    if (s == end)
        return KVM_LINE_BLANK;
    if (header(s, (size_t)(end - s)))
        return KVM_LINE_HEADER;
    if (prefixed(s, end, out) || bare(s, end, out))
        return KVM_LINE_EVENT;
    return KVM_LINE_OTHER;
}
