#include "viridian/visible.h"

#include <stdarg.h>
#include <stdio.h>
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
    memset(v, 0, sizeof *v);
    v->host = m->host->name;
    bool viridian = viridian_enabled(m);
    for (uint32_t i = 0; i < 7 && viridian; i++)
        vmodel_cpuid(&probe, 0, 0x40000000u + i, 0, v->leaf[i]);
    v->xen_base = viridian ? 0x40000100u : 0x40000000u;
    uint32_t r[4];
    vmodel_cpuid(&probe, 0, v->xen_base, 0, r);
    v->xen_max = r[0];
    vmodel_cpuid(&probe, 0, v->xen_base + 1, 0, r);
    v->xen_version = r[0];
    v->time_leaf = v->xen_max >= v->xen_base + 3;
    if (v->time_leaf) {
        vmodel_cpuid(&probe, 0, v->xen_base + 3, 0, r);
        v->incarnation = r[3];
    }
    size_t n;
    const struct vmsr_info *t = vmsr_table(&n);
    for (size_t i = 0; i < n && i < VVISIBLE_MSRS; i++) {
        uint64_t val = 0;
        v->msr_read[i] = vmodel_rdmsr(&probe, 0, t[i].msr, &val) == 0;
        struct vmodel scratch = probe;
        v->msr_write[i] = vmodel_wrmsr(&scratch, 0, t[i].msr, val) == 0;
    }
    v->tsc_khz = m->tsc_khz;
    v->freq_told = m->freq_told;
    v->tsc = m->tsc;
    v->time_ref_readable = vgroup_enabled(m, VGROUP_TIME_REF_COUNT);
    v->time_ref = vtime_ref_count(m);
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

    if (strcmp(a->host, b->host) != 0 || a->xen_version != b->xen_version)
        say(&o, VDIFF_NOTE, "Xen version %u.%u -> %u.%u (host %s -> %s)", a->xen_version >> 16,
            a->xen_version & 0xffff, b->xen_version >> 16, b->xen_version & 0xffff, a->host,
            b->host);
    /* Xen's own leaves come and go with its version (cpuid_hypervisor_leaves): named
     * one by one, at the same offset from wherever Xen's base is on each side. */
    static const char *const xen_leaf[] = { "max leaf", "version", "hypercall page", "time",
                                            "HVM features" };
    uint32_t na = a->xen_max - a->xen_base, nb = b->xen_max - b->xen_base;
    for (uint32_t i = 1; i < 5 && na != nb; i++)
        if ((i <= na) != (i <= nb))
            say(&o, VDIFF_NOTE, "Xen leaf 0x%x (%s) %s (max Xen leaf 0x%x -> 0x%x)",
                b->xen_base + i, xen_leaf[i], i <= nb ? "appeared" : "disappeared", a->xen_max,
                b->xen_max);
    if (va != vb)
        say(&o, VDIFF_CHANGE, "the viridian leaves %s (CPUID 0x40000000 now \"%s\")",
            vb ? "appeared" : "disappeared", vb ? "Microsoft Hv" : "XenVMMXenVMM");
    if (a->xen_base != b->xen_base)
        say(&o, VDIFF_CHANGE, "Xen's leaves moved 0x%x -> 0x%x", a->xen_base, b->xen_base);
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
    size_t n;
    const struct vmsr_info *t = vmsr_table(&n);
    for (size_t i = 0; i < n && i < VVISIBLE_MSRS; i++) {
        bool had = a->msr_read[i] || a->msr_write[i], has = b->msr_read[i] || b->msr_write[i];
        if (had == has && a->msr_read[i] == b->msr_read[i] && a->msr_write[i] == b->msr_write[i])
            continue;
        if (!had || !has)
            say(&o, VDIFF_CHANGE, "%s %s", t[i].name, has ? "appeared" : "disappeared");
        else
            say(&o, VDIFF_CHANGE, "%s went %s -> %s", t[i].name,
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
    if (a->time_ref_readable && b->time_ref_readable && b->time_ref < a->time_ref)
        say(&o, VDIFF_CHANGE, "time went back: HV_X64_MSR_TIME_REF_COUNT 0x%llx -> 0x%llx",
            (unsigned long long)a->time_ref, (unsigned long long)b->time_ref);
    if (a->time_leaf && b->time_leaf && a->incarnation != b->incarnation)
        say(&o, VDIFF_NOTE, "Xen's TSC incarnation %u -> %u (CPUID 0x%x.0 EDX)", a->incarnation,
            b->incarnation, b->xen_base + 3);
    return o.changes;
}
