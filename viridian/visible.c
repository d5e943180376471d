#include "viridian/visible.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "viridian/internal.h"
#include "viridian/msr.h"
#include "viridian/spec.h"

void vmodel_visible(const struct vmodel *m, struct vvisible *v)
{
    /* Probe on copies without guest memory: writes have effects (the hypercall page,
     * the APIC assist page), and the caller's model and RAM stay untouched. */
    struct vmodel probe = *m;
    probe.mem = (struct vmem_ops){ 0 };
    probe.plat = (struct vplatform_ops){ 0 };
    memset(v, 0, sizeof *v);
    v->host = m->host->name;
    bool viridian = viridian_enabled(m);
    for (uint32_t i = 0; i < 7 && viridian; i++)
        vmodel_cpuid(&probe, 0, 0x40000000u + i, 0, v->leaf[i]);
    v->hypervisor = (int)m->host->hypervisor;
    v->xen_base = viridian ? 0x40000100u : 0x40000000u;
    uint32_t r[4];
    vmodel_cpuid(&probe, 0, v->xen_base, 0, r);
    v->xen_max = r[0];
    for (int i = 0; i < 3; i++)
        v->own_sig[i] = r[1 + i];
    vmodel_cpuid(&probe, 0, v->xen_base + 1, 0, r);
    v->xen_version = r[0];
    if (v->xen_max >= v->xen_base + 4) {
        vmodel_cpuid(&probe, 0, v->xen_base + 4, 0, r);
        v->xen_leaf4 = r[0];
    }
    v->wrmsr_unknown_gp = m->host->wrmsr_unknown_gp;
    v->crash_shutdown = m->host->crash == VCRASH_SHUTDOWN;
    v->time_leaf = v->xen_max >= v->xen_base + 3;
    if (v->time_leaf) {
        vmodel_cpuid(&probe, 0, v->xen_base + 3, 0, r);
        v->incarnation = r[3];
    }
    size_t n = vmsr_count();
    for (size_t i = 0; i < n && i < VVISIBLE_MSRS; i++) {
        uint64_t val = 0;
        v->msr[i] = vmsr_at(i);
        v->msr_read[i] = vmodel_rdmsr(&probe, 0, v->msr[i], &val) == 0;
        v->msr_write[i] = vmodel_msr_handled(m, v->msr[i], true);
        v->msr_value[i] = val;
    }
    v->tsc_khz = m->tsc_khz;
    v->freq_told = m->freq_told;
    v->tsc = m->tsc;
    uint64_t val;
    v->time_ref_readable = vmodel_rdmsr(&probe, 0, HV_X64_MSR_TIME_REF_COUNT, &val) == 0;
    v->time_ref = vtime_ref_count(m);
    v->ref_tsc_on = vmodel_rdmsr(&probe, 0, HV_X64_MSR_REFERENCE_TSC, &val) == 0 &&
                    (m->reference_tsc.msr & HV_PAGE_ENABLE) && m->mem.read;
    if (v->ref_tsc_on) {
        uint8_t page[24];
        if (m->mem.read(m->mem.ctx, m->reference_tsc.msr & HV_PAGE_MASK, page, sizeof page)) {
            v->ref_tsc_on = false;
            return;
        }
        uint64_t scale = 0, offset = 0;
        for (int i = 7; i >= 0; i--) {
            scale = scale << 8 | page[8 + i];
            offset = offset << 8 | page[16 + i];
        }
        v->ref_tsc_seq = (uint32_t)page[0] | (uint32_t)page[1] << 8 | (uint32_t)page[2] << 16 |
                         (uint32_t)page[3] << 24;
        v->ref_tsc_time = (uint64_t)(((unsigned __int128)m->tsc * scale) >> 64) + offset;
    }
}

/* A leaf's three signature registers as text ("XenVMMXenVMM", "KVMKVMKVM"). */
static void sig_text(const uint32_t sig[3], char out[16])
{
    size_t n = 0;
    for (int i = 0; i < 12; i++) {
        char c = (char)(sig[i / 4] >> (8 * (i % 4)));
        if (c)
            out[n++] = c >= 0x20 && c < 0x7f ? c : '?';
    }
    out[n] = '\0';
}

struct out {
    vdiff_fn fn;
    void *ctx;
    unsigned changes;
};

static void say(struct out *o, enum vdiff_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct out *o, enum vdiff_kind kind, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (kind == VDIFF_CHANGE)
        o->changes++;
    if (o->fn)
        o->fn(o->ctx, kind, buf);
}

static const char *access_name(bool rd, bool wr)
{
    return rd && wr ? "read/write" : rd ? "read-only" : wr ? "write-only" : "absent";
}

unsigned vvisible_diff(const struct vvisible *a, const struct vvisible *b, vdiff_fn fn, void *ctx)
{
    struct out o = { fn, ctx, 0 };
    bool va = a->leaf[0][1] != 0, vb = b->leaf[0][1] != 0;

    char sa[16], sb[16];
    sig_text(a->own_sig, sa);
    sig_text(b->own_sig, sb);
    if (a->hypervisor != b->hypervisor) {
        /* Another hypervisor: its own leaves are another's, wherever they are. */
        say(&o, VDIFF_CHANGE, "the hypervisor's own leaves at 0x%x are %s's now (\"%s\" -> "
            "\"%s\"; host %s -> %s)", b->xen_base, b->hypervisor == VHV_KVM ? "KVM" : "Xen", sa,
            sb, a->host, b->host);
    } else if (a->hypervisor == VHV_KVM) {
        if (a->xen_version != b->xen_version && a->xen_max && b->xen_max)
            say(&o, VDIFF_CHANGE, "CPUID 0x%x EAX (KVM's features) changed 0x%x -> 0x%x",
                b->xen_base + 1, a->xen_version, b->xen_version);
        if (!a->xen_max != !b->xen_max)
            say(&o, VDIFF_CHANGE, "KVM's own leaves %s (kvm=off)",
                b->xen_max ? "appeared" : "disappeared");
    } else if (strcmp(a->host, b->host) != 0 || a->xen_version != b->xen_version) {
        say(&o, VDIFF_NOTE, "Xen version %u.%u -> %u.%u (host %s -> %s)", a->xen_version >> 16,
            a->xen_version & 0xffff, b->xen_version >> 16, b->xen_version & 0xffff, a->host,
            b->host);
    }
    bool xen = a->hypervisor == VHV_XEN && b->hypervisor == VHV_XEN;
    /* Xen's own leaves come and go with its version (cpuid_hypervisor_leaves): named
     * one by one, at the same offset from wherever Xen's base is on each side. */
    static const char *const xen_leaf[] = { "max leaf", "version", "hypercall page", "time",
                                            "HVM features", "PV parameters" };
    uint32_t na = a->xen_max - a->xen_base, nb = b->xen_max - b->xen_base;
    for (uint32_t i = 1; i < 6 && na != nb && xen; i++)
        if ((i <= na) != (i <= nb))
            say(&o, VDIFF_NOTE, "Xen leaf 0x%x (%s) %s (max Xen leaf 0x%x -> 0x%x)",
                b->xen_base + i, xen_leaf[i], i <= nb ? "appeared" : "disappeared", a->xen_max,
                b->xen_max);
    if (va != vb)
        say(&o, VDIFF_CHANGE, "the viridian leaves %s (CPUID 0x40000000 now \"%s\")",
            vb ? "appeared" : "disappeared", vb ? "Microsoft Hv" : sb);
    if (a->xen_base != b->xen_base)
        say(&o, VDIFF_CHANGE, "%s leaves moved 0x%x -> 0x%x",
            b->hypervisor == VHV_KVM ? "KVM's" : "Xen's", a->xen_base, b->xen_base);
    if (xen && a->xen_base == b->xen_base && a->xen_max >= a->xen_base + 4 &&
        b->xen_max >= b->xen_base + 4 && a->xen_leaf4 != b->xen_leaf4)
        say(&o, VDIFF_CHANGE, "CPUID 0x%x EAX (Xen's HVM features) changed 0x%x -> 0x%x",
            b->xen_base + 4, a->xen_leaf4, b->xen_leaf4);
    if (a->wrmsr_unknown_gp != b->wrmsr_unknown_gp)
        say(&o, VDIFF_CHANGE, "an MSR write Xen has no handler for now %s (it %s)",
            b->wrmsr_unknown_gp ? "raises #GP" : "is dropped",
            b->wrmsr_unknown_gp ? "was dropped, up to Xen 4.10" : "raised #GP, from Xen 4.11");
    if (a->crash_shutdown != b->crash_shutdown && va && vb)
        say(&o, VDIFF_NOTE, "a CrashNotify %s the domain's shutdown code to crash",
            b->crash_shutdown ? "now also sets" : "no longer sets");
    for (uint32_t i = 1; i < 7 && va && vb; i++) {
        bool in_a = 0x40000000u + i <= a->leaf[0][0], in_b = 0x40000000u + i <= b->leaf[0][0];
        if (in_a != in_b)
            say(&o, VDIFF_CHANGE, "CPUID 0x%x %s (max viridian leaf 0x%x -> 0x%x)",
                0x40000000u + i, in_b ? "appeared" : "disappeared", a->leaf[0][0], b->leaf[0][0]);
    }
    for (uint32_t i = 0; i < 7 && va && vb; i++)
        for (int reg = 0; reg < 4; reg++)
            if (a->leaf[i][reg] != b->leaf[i][reg] && !(i == 2 && reg == 1) &&
                !(i == 0 && reg == 0) && 0x40000000u + i <= a->leaf[0][0] &&
                0x40000000u + i <= b->leaf[0][0])
                say(&o, VDIFF_CHANGE, "CPUID 0x%x %s changed 0x%x -> 0x%x", 0x40000000u + i,
                    (const char *[]){ "EAX", "EBX", "ECX", "EDX" }[reg], a->leaf[i][reg],
                    b->leaf[i][reg]);
    size_t n = vmsr_count();
    for (size_t i = 0; i < n && i < VVISIBLE_MSRS; i++) {
        bool had = a->msr_read[i] || a->msr_write[i], has = b->msr_read[i] || b->msr_write[i];
        char name[48];
        vmsr_name(vmsr_find(a->msr[i], NULL), a->msr[i], name, sizeof name);
        if (had && has && a->msr_read[i] && b->msr_read[i] && a->msr_value[i] != b->msr_value[i]
            && vmsr_find(a->msr[i], NULL)->unsaved)
            say(&o, VDIFF_CHANGE, "%s lost its value 0x%llx: no save record keeps it", name,
                (unsigned long long)a->msr_value[i]);
        if (had == has && a->msr_read[i] == b->msr_read[i] && a->msr_write[i] == b->msr_write[i])
            continue;
        if (!had || !has)
            say(&o, VDIFF_CHANGE, "%s %s", name, has ? "appeared" : "disappeared");
        else
            say(&o, VDIFF_CHANGE, "%s went %s -> %s", name,
                access_name(a->msr_read[i], a->msr_write[i]),
                access_name(b->msr_read[i], b->msr_write[i]));
    }
    if (a->tsc_khz != b->tsc_khz)
        say(&o, VDIFF_CHANGE, "TSC frequency changed %u kHz -> %u kHz%s", a->tsc_khz, b->tsc_khz,
            a->freq_told ? " while the guest was told it by HV_X64_MSR_TSC_FREQUENCY"
                         : " (the guest never read HV_X64_MSR_TSC_FREQUENCY)");
    if (b->tsc < a->tsc)
        say(&o, VDIFF_CHANGE, "time went back: TSC 0x%llx -> 0x%llx", (unsigned long long)a->tsc,
            (unsigned long long)b->tsc);
    /* The counter freezes at the pause and thaws at the restore (time_ref_count_freeze /
     * _thaw, commit f6a07643e1): it reads the same on both sides, exactly. */
    if (a->time_ref_readable && b->time_ref_readable && b->time_ref < a->time_ref)
        say(&o, VDIFF_CHANGE, "time went back: HV_X64_MSR_TIME_REF_COUNT 0x%llx -> 0x%llx",
            (unsigned long long)a->time_ref, (unsigned long long)b->time_ref);
    else if (a->time_ref_readable && b->time_ref_readable && b->time_ref > a->time_ref)
        say(&o, VDIFF_CHANGE, "HV_X64_MSR_TIME_REF_COUNT jumped forward by %llu (100 ns units) "
            "across the save: the counter ran on while the domain was paused",
            (unsigned long long)(b->time_ref - a->time_ref));
    bool va_ok = a->ref_tsc_on && a->ref_tsc_seq, vb_ok = b->ref_tsc_on && b->ref_tsc_seq;
    if (va_ok && b->ref_tsc_on && !b->ref_tsc_seq)
        say(&o, VDIFF_CHANGE, "the reference TSC page was invalidated (sequence 0): the "
            "destination emulates the TSC");
    else if (a->ref_tsc_on && !a->ref_tsc_seq && vb_ok)
        say(&o, VDIFF_CHANGE, "the reference TSC page became valid");
    else if (va_ok && vb_ok && b->ref_tsc_time < a->ref_tsc_time)
        say(&o, VDIFF_CHANGE, "time went back: the reference TSC page 0x%llx -> 0x%llx",
            (unsigned long long)a->ref_tsc_time, (unsigned long long)b->ref_tsc_time);
    else if (va_ok && vb_ok && b->ref_tsc_time > a->ref_tsc_time)
        say(&o, VDIFF_CHANGE, "the reference TSC page's time jumped forward by %llu (100 ns "
            "units) across the save", (unsigned long long)(b->ref_tsc_time - a->ref_tsc_time));
    if (xen && a->time_leaf && b->time_leaf && a->incarnation != b->incarnation)
        say(&o, VDIFF_NOTE, "Xen's TSC incarnation %u -> %u (CPUID 0x%x.0 EDX)", a->incarnation,
            b->incarnation, b->xen_base + 3);
    return o.changes;
}
