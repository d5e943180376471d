/* KVM's tracepoint arguments, as the TP_printk formats of Linux's arch/x86/kvm/trace.h
 * print them: one row per format, newest first, each naming the releases it comes from.
 * Read in the kernel sources at 2.6.32.9, 3.0, 3.6, 4.8, 5.2, 5.10 and the kvm-x86 tree
 * of 2026, and in the patches that changed them on the kvm mailing list (the dates
 * below); docs/kvm-import.md has the whole story. A format string here is matched the
 * way the kernel printed it: %x/%lx/%llx hex digits, %u/%llu/%d decimal, %s one of the
 * row's alternatives. A blank matches any run of blanks (excerpts are often re-aligned). */
#include <string.h>
#include "traces/import_kvm_internal.h"

#define F(...) { __VA_ARGS__ }

/* A row for an event that only says which vCPU a thread runs (no guest access). */
#define VCPU_ONLY(event, args, since) \
    { event, KVM_TP_VCPU, args, { 0 }, true, F(KF_VCPU), since }

static const struct kvm_format formats[] = {
    /* kvm_msr. 2.6.32 printed "msr_%s %x = 0x%lx" (no fault flag); by 3.0 the _ex forms
     * of the faulting accesses add " (#GP)" (a faulting read prints data 0). */
    { "kvm_msr", KVM_TP_MSR, "msr_%s %x = 0x%llx%s", { "write|read", " (#GP)|" }, false,
      F(KF_WRITE, KF_MSR, KF_DATA, KF_GP), "2.6.32 onward; ' (#GP)' from 3.0 or earlier" },

    /* kvm_cpuid. The subleaf ("idx") and ", used max basic" came with Sean
     * Christopherson's patches of 2020-03-02 and 2020-03-17 (Linux 5.7). */
    { "kvm_cpuid", KVM_TP_CPUID,
      "func %x idx %x rax %lx rbx %lx rcx %lx rdx %lx, cpuid entry %s%s",
      { "not found|found", ", used max basic|" }, false,
      F(KF_LEAF, KF_SUBLEAF, KF_EAX, KF_EBX, KF_ECX, KF_EDX), "5.7 onward" },
    /* "found"/"not found": after 4.8 (not in its source), in 5.2's. */
    { "kvm_cpuid", KVM_TP_CPUID, "func %x rax %lx rbx %lx rcx %lx rdx %lx, cpuid entry %s",
      { "not found|found" }, false, F(KF_LEAF, KF_EAX, KF_EBX, KF_ECX, KF_EDX),
      "between 4.8 and 5.2, to 5.6" },
    { "kvm_cpuid", KVM_TP_CPUID, "func %x rax %lx rbx %lx rcx %lx rdx %lx", { 0 }, false,
      F(KF_LEAF, KF_EAX, KF_EBX, KF_ECX, KF_EDX), "2.6.32 to 4.8 at least" },

    /* kvm_hv_hypercall. "var_cnt" (and "cnt" renamed "rep_cnt") came with the patch of
     * 2021-12-07 that read sparse banks from VARHEAD (Linux 5.17). */
    { "kvm_hv_hypercall", KVM_TP_HYPERCALL,
      "code 0x%x %s var_cnt 0x%x rep_cnt 0x%x idx 0x%x in 0x%llx out 0x%llx", { "fast|slow" },
      false, F(KF_CODE, KF_FAST, KF_VAR_CNT, KF_REP_CNT, KF_REP_IDX, KF_IN, KF_OUT),
      "5.17 onward" },
    { "kvm_hv_hypercall", KVM_TP_HYPERCALL, "code 0x%x %s cnt 0x%x idx 0x%x in 0x%llx out 0x%llx",
      { "fast|slow" }, false, F(KF_CODE, KF_FAST, KF_REP_CNT, KF_REP_IDX, KF_IN, KF_OUT),
      "Hyper-V emulation (after 2.6.32; read in 3.6 and 5.10) to 5.16" },
    /* Vitaly Kuznetsov's patch of 2021-07-30 (Linux 5.15): the hypercall's status. */
    { "kvm_hv_hypercall_done", KVM_TP_HYPERCALL_DONE, "result 0x%llx", { 0 }, false,
      F(KF_RESULT), "5.15 onward" },

    /* The SynIC, synthetic timer and debugger MSRs, as KVM's hyperv.c sees a write: the
     * guest's (host 0), which kvm_msr then shows again with its outcome, or the VMM's
     * (host 1). Read in 5.10 and today's source alike. */
    { "kvm_hv_synic_set_msr", KVM_TP_HV_MSR_WRITE, "vcpu_id %d msr 0x%x data 0x%llx host %d",
      { 0 }, false, F(KF_VCPU, KF_MSR, KF_DATA, KF_HOST), "5.10 and later (SynIC: 4.5)" },
    { "kvm_hv_stimer_set_config", KVM_TP_HV_MSR_WRITE,
      "vcpu_id %d timer %d config 0x%llx host %d", { 0 }, false,
      F(KF_VCPU, KF_TIMER, KF_CONFIG, KF_HOST), "5.10 and later (stimer: 4.5)" },
    { "kvm_hv_stimer_set_count", KVM_TP_HV_MSR_WRITE, "vcpu_id %d timer %d count %llu host %d",
      { 0 }, false, F(KF_VCPU, KF_TIMER, KF_COUNT, KF_HOST), "5.10 and later (stimer: 4.5)" },
    { "kvm_hv_syndbg_set_msr", KVM_TP_HV_MSR_WRITE, "vcpu_id %d vp_index %u msr 0x%x data 0x%llx",
      { 0 }, false, F(KF_VCPU, KF_NONE, KF_MSR, KF_DATA), "5.10 and later (syndbg: 5.8)" },
    { "kvm_hv_syndbg_get_msr", KVM_TP_HV_MSR_READ, "vcpu_id %d vp_index %u msr 0x%x data 0x%llx",
      { 0 }, false, F(KF_VCPU, KF_NONE, KF_MSR, KF_DATA), "5.10 and later (syndbg: 5.8)" },

    /* The arguments KVM read for a TLB flush or IPI hypercall; " (L2)" came with the L2
     * TLB flush support (not in 5.10, in today's source). */
    { "kvm_hv_flush_tlb", KVM_TP_DETAIL,
      "processor_mask 0x%llx address_space 0x%llx flags 0x%llx %s", { "(L2)|" }, false,
      F(KF_NONE), "5.10 and later; '(L2)' in 6.x" },
    { "kvm_hv_flush_tlb_ex", KVM_TP_DETAIL,
      "valid_bank_mask 0x%llx format 0x%llx address_space 0x%llx flags 0x%llx %s", { "(L2)|" },
      false, F(KF_NONE), "5.10 and later; '(L2)' in 6.x" },
    { "kvm_hv_send_ipi", KVM_TP_DETAIL, "vector %x processor_mask 0x%llx", { 0 }, false,
      F(KF_NONE), "5.10 and later" },
    { "kvm_hv_send_ipi_ex", KVM_TP_DETAIL, "vector %x format %llx valid_bank_mask 0x%llx",
      { 0 }, false, F(KF_NONE), "5.10 and later" },

    /* No guest access, but they say which vCPU a thread runs. kvm_entry printed "vcpu
     * %u" alone until the rip was added (in 5.10's source); kvm_exit names the vCPU in
     * 4.8 and later, not in 3.6. */
    VCPU_ONLY("kvm_entry", "vcpu %u", "2.6.32 onward"),
    VCPU_ONLY("kvm_exit", "vcpu %u reason", "4.8 onward"),
    VCPU_ONLY("kvm_hv_notify_acked_sint", "vcpu_id %d sint", "4.5 onward"),
    VCPU_ONLY("kvm_hv_synic_set_irq", "vcpu_id %d sint", "4.5 onward"),
    VCPU_ONLY("kvm_hv_synic_send_eoi", "vcpu_id %d vector", "4.5 onward"),
    VCPU_ONLY("kvm_hv_stimer_start_periodic", "vcpu_id %d timer", "4.5 onward"),
    VCPU_ONLY("kvm_hv_stimer_start_one_shot", "vcpu_id %d timer", "4.5 onward"),
    VCPU_ONLY("kvm_hv_stimer_callback", "vcpu_id %d timer", "4.5 onward"),
    VCPU_ONLY("kvm_hv_stimer_expiration", "vcpu_id %d timer", "4.5 onward"),
    VCPU_ONLY("kvm_hv_stimer_cleanup", "vcpu_id %d timer", "4.5 onward"),
    /* Not Hyper-V at all: the VMX preemption timer ("hv" for hardware), vcpu_id in hex. */
    VCPU_ONLY("kvm_hv_timer_state", "vcpu_id %x hv_timer", "4.x onward"),
};

const struct kvm_format *kvm_format_table(size_t *n)
{
    *n = sizeof formats / sizeof formats[0];
    return formats;
}

const struct kvm_format *kvm_formats(const char *event, size_t len, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (formats[i].event[0] != event[0] || strncmp(formats[i].event, event, len) != 0 ||
            formats[i].event[len] != '\0')
            continue;
        while (i + *n < sizeof formats / sizeof formats[0] &&
               strcmp(formats[i + *n].event, formats[i].event) == 0)
            (*n)++;
        return &formats[i];
    }
    return NULL;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

struct match {
    const struct kvm_format *f;
    const char *end;      /* of the arguments */
    struct kvm_args *out;
};

/* Digits of a %x, %lx, %llx (hex) or %u, %llu, %d (decimal, %d signed). */
static const char *number(const char *s, const char *end, bool hex, bool sign, uint64_t *v)
{
    bool neg = sign && s < end && *s == '-';
    const char *p = s + neg, *start = p;
    uint64_t x = 0;
    /* Up to 15 hex or 19 decimal digits cannot overflow: no check for them. */
    for (const char *safe = end - p > (hex ? 15 : 19) ? p + (hex ? 15 : 19) : end; p < safe;
         p++) {
        unsigned c = (unsigned char)*p, d;
        if (c - '0' < 10)
            d = c - '0';
        else if (hex && (c | 0x20) - 'a' < 6)
            d = (c | 0x20) - 'a' + 10;
        else
            break;
        x = hex ? x << 4 | d : x * 10 + d;
    }
    for (; p < end; p++) {
        unsigned c = (unsigned char)*p, d;
        if (c - '0' < 10)
            d = c - '0';
        else if (hex && (c | 0x20) - 'a' < 6)
            d = (c | 0x20) - 'a' + 10;
        else
            break;
        if (hex ? x >> 60 != 0 : x > UINT64_MAX / 10 || (x == UINT64_MAX / 10 && d > 5))
            return NULL; /* wider than 64 bits: nothing KVM prints */
        x = hex ? x << 4 | d : x * 10 + d;
    }
    if (p == start)
        return NULL;
    *v = neg ? (uint64_t)-(int64_t)x : x;
    return p;
}

/* Literal text of n bytes at s, a blank in it matching a run of blanks; NULL if absent. */
static const char *literal(const char *lit, size_t n, const char *s, const char *end)
{
    for (size_t i = 0; i < n; i++) {
        if (lit[i] == ' ') {
            const char *t = s;
            while (t < end && blank(*t))
                t++;
            if (t == s)
                return NULL;
            s = t;
        } else if (s == end || *s++ != lit[i]) {
            return NULL;
        }
    }
    return s;
}

/* The rest of the format from pat against the arguments from s; conv counts the
 * conversions so far, alt the %s so far. Backtracks over a %s's alternatives. */
static bool match_from(const struct match *m, const char *pat, const char *s, unsigned conv,
                       unsigned alt)
{
    while (*pat) {
        /* Literal text first: most of a format is. */
        if (*pat != ' ' && *pat != '%') {
            if (s == m->end || *s != *pat)
                return false;
            s++;
            pat++;
            continue;
        }
        if (*pat == ' ') {
            /* One or more blanks; none at the very end (trailing blanks are trimmed). */
            const char *t = s;
            while (t < m->end && blank(*t))
                t++;
            if (t == s && t != m->end)
                return false;
            s = t;
            pat++;
            continue;
        }
        pat++;
        while (*pat == 'l')
            pat++;
        if (*pat == 's') {
            const char *alts = alt < 3 ? m->f->alts[alt] : NULL;
            if (!alts)
                return false;
            for (unsigned k = 0;; k++) {
                const char *bar = strchr(alts, '|');
                size_t n = bar ? (size_t)(bar - alts) : strlen(alts);
                const char *t = literal(alts, n, s, m->end);
                if (t && match_from(m, pat + 1, t, conv + 1, alt + 1)) {
                    enum kvm_field f = conv < KVM_MAX_CONV ? m->f->fields[conv] : KF_NONE;
                    m->out->has[f] = true;
                    m->out->v[f] = k;
                    return true;
                }
                if (!bar)
                    return false;
                alts = bar + 1;
            }
        }
        uint64_t v;
        const char *t = number(s, m->end, *pat == 'x', *pat == 'd', &v);
        if (!t || (*pat != 'x' && *pat != 'u' && *pat != 'd'))
            return false;
        enum kvm_field f = conv < KVM_MAX_CONV ? m->f->fields[conv] : KF_NONE;
        m->out->has[f] = true;
        m->out->v[f] = v;
        s = t;
        conv++;
        pat++;
    }
    /* Text after the arguments: an annotation when a blank sets it apart. */
    m->out->trailing = s != m->end;
    return s == m->end || m->f->prefix || blank(*s);
}

bool kvm_match_args(const char *event, size_t event_len, const char *args, size_t len,
                    struct kvm_args *out)
{
    size_t n;
    const struct kvm_format *f = kvm_formats(event, event_len, &n);
    return kvm_match_formats(f, n, args, len, out);
}

bool kvm_match_formats(const struct kvm_format *f, size_t n, const char *args, size_t len,
                       struct kvm_args *out)
{
    for (size_t i = 0; i < n; i++) {
        *out = (struct kvm_args){ .format = &f[i] };
        struct match m = { &f[i], args + len, out };
        if (match_from(&m, f[i].printk, args, 0, 0)) {
            out->has[KF_NONE] = false;
            if (f[i].prefix)
                out->trailing = false;
            return true;
        }
    }
    return false;
}
