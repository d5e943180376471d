/* vsbox cpuid: the hypervisor leaves a guest would read, printed as a replayable trace. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/options.h"
#include "traces/trace.h"
#include "viridian/hvkvm.h"
#include "viridian/hvmpv.h"
#include "viridian/profile.h"

struct bitname {
    uint32_t bit;
    const char *name;
};

static void append_bits(char *buf, size_t len, uint32_t value, const struct bitname *names,
                        size_t n)
{
    size_t used = strlen(buf);
    for (size_t i = 0; i < n; i++)
        if (value & names[i].bit)
            used += (size_t)snprintf(buf + used, used < len ? len - used : 0, " %s",
                                     names[i].name);
    if (value == 0 && used < len)
        snprintf(buf + used, len - used, " (none)");
}

static void annotate_viridian(uint32_t idx, const uint32_t r[4], char *c, size_t len)
{
    static const struct bitname leaf3[] = {
        { CPUID3A_MSR_TIME_REF_COUNT, "TIME_REF_COUNT" }, { CPUID3A_MSR_SYNIC, "SYNIC" },
        { CPUID3A_MSR_STIMER, "STIMER" },                 { CPUID3A_MSR_APIC_ACCESS, "APIC_ACCESS" },
        { CPUID3A_MSR_HYPERCALL, "HYPERCALL" },           { CPUID3A_MSR_VP_INDEX, "VP_INDEX" },
        { CPUID3A_MSR_REFERENCE_TSC, "REFERENCE_TSC" },   { CPUID3A_MSR_FREQ, "FREQ" },
        /* KVM's (QEMU's hv-runtime, hv-reset, hv-reenlightenment) */
        { CPUID3A_MSR_VP_RUNTIME, "VP_RUNTIME" },         { CPUID3A_MSR_RESET, "RESET" },
        { CPUID3A_MSR_REENLIGHTENMENT, "REENLIGHTENMENT" },
    };
    static const struct bitname leaf3d[] = {
        { CPUID3D_CPU_DYNAMIC_PARTITIONING, "CPU_DYNAMIC_PARTITIONING" },
        { CPUID3D_CRASH_MSRS, "CRASH_MSRS" }, { CPUID3D_SINT_POLLING, "SINT_POLLING" },
        { CPUID3D_XMM_INPUT, "XMM_INPUT" }, { CPUID3D_FREQ_MSRS, "FREQ_MSRS" },
        { CPUID3D_DEBUG_MSRS, "DEBUG_MSRS" }, { CPUID3D_EXT_GVA_RANGES, "EXT_GVA_RANGES" },
        { CPUID3D_STIMER_DIRECT, "STIMER_DIRECT" },
    };
    static const struct bitname leaf4[] = {
        { CPUID4A_HCALL_REMOTE_TLB_FLUSH, "HCALL_REMOTE_TLB_FLUSH" },
        { CPUID4A_MSR_BASED_APIC, "MSR_BASED_APIC" }, { CPUID4A_RELAX_TIMER_INT, "RELAX_TIMER_INT" },
        { CPUID4A_SYNTHETIC_CLUSTER_IPI, "SYNTHETIC_CLUSTER_IPI" },
        { CPUID4A_EX_PROCESSOR_MASKS, "EX_PROCESSOR_MASKS" },
        { CPUID4A_DEPRECATING_AEOI, "DEPRECATING_AEOI" },
        { CPUID4A_ENLIGHTENED_VMCS, "ENLIGHTENED_VMCS" },
        { CPUID4A_NO_NONARCH_CS, "NO_NONARCH_CORESHARING" },
    };
    static const struct bitname leaf6[] = {
        { CPUID6A_APIC_OVERLAY, "APIC_OVERLAY" }, { CPUID6A_MSR_BITMAPS, "MSR_BITMAPS" },
        { CPUID6A_NESTED_PAGING, "NESTED_PAGING" },
    };
    switch (idx) {
    case 0:
        snprintf(c, len, "viridian: max leaf, vendor \"%.4s%.4s%.4s\"", (const char *)&r[1],
                 (const char *)&r[2], (const char *)&r[3]);
        break;
    case 1:
        snprintf(c, len, "viridian: interface \"%.4s\"", (const char *)&r[0]);
        break;
    case 2:
        if (r[0] == 0)
            snprintf(c, len, "viridian: version, empty until the guest sets its OS id");
        else
            snprintf(c, len, "viridian: build %u, version %u.%u", r[0], r[1] >> 16, r[1] & 0xffff);
        break;
    case 3:
        snprintf(c, len, "viridian: MSRs available:");
        append_bits(c, len, r[0], leaf3, sizeof leaf3 / sizeof leaf3[0]);
        if (r[3]) {
            snprintf(c + strlen(c), len - strlen(c), "; features:");
            append_bits(c, len, r[3], leaf3d, sizeof leaf3d / sizeof leaf3d[0]);
        }
        break;
    case 4:
        snprintf(c, len, "viridian: recommendations:");
        append_bits(c, len, r[0], leaf4, sizeof leaf4 / sizeof leaf4[0]);
        if (r[1])
            snprintf(c + strlen(c), len - strlen(c), ", spin count %u", r[1]);
        break;
    case 5:
        if (r[0] == 0xffffffffu)
            snprintf(c, len, "viridian: implementation limits: no limit on virtual processors");
        else
            snprintf(c, len, "viridian: implementation limits (none given: 64 VPs)");
        break;
    case 6:
        snprintf(c, len, "viridian: hardware features in use:");
        append_bits(c, len, r[0], leaf6, sizeof leaf6 / sizeof leaf6[0]);
        break;
    }
}

static void annotate_xen(uint32_t idx, uint32_t sub, const uint32_t r[4], char *c, size_t len)
{
    switch (idx) {
    case 0:
        snprintf(c, len, "xen: max leaf, vendor \"%.4s%.4s%.4s\"", (const char *)&r[1],
                 (const char *)&r[2], (const char *)&r[3]);
        break;
    case 1:
        snprintf(c, len, "xen: version %u.%u", r[0] >> 16, r[0] & 0xffff);
        break;
    case 2:
        snprintf(c, len, "xen: %u hypercall page, MSR base 0x%x", r[0], r[1]);
        break;
    case 3:
        if (sub == 0)
            snprintf(c, len, "xen time: flags 0x%x, tsc_mode %u, tsc_khz %u, incarnation %u",
                     r[0], r[1], r[2], r[3]);
        else if (sub == 1)
            snprintf(c, len, "xen time: tsc->ns mul_frac 0x%x shift %d", r[2], (int)r[3]);
        else
            snprintf(c, len, "xen time: physical cpu_khz %u", r[0]);
        break;
    case 4: {
        static const struct bitname hvm[] = {
            { XEN_HVM_CPUID_APIC_ACCESS_VIRT, "APIC_ACCESS_VIRT" },
            { XEN_HVM_CPUID_X2APIC_VIRT, "X2APIC_VIRT" },
            { XEN_HVM_CPUID_IOMMU_MAPPINGS, "IOMMU_MAPPINGS" },
            { XEN_HVM_CPUID_VCPU_ID_PRESENT, "VCPU_ID_PRESENT" },
            { XEN_HVM_CPUID_DOMID_PRESENT, "DOMID_PRESENT" },
            { XEN_HVM_CPUID_UPCALL_VECTOR, "UPCALL_VECTOR" },
        };
        snprintf(c, len, "xen: HVM features:");
        append_bits(c, len, r[0], hvm, sizeof hvm / sizeof hvm[0]);
        if (r[0] & XEN_HVM_CPUID_VCPU_ID_PRESENT)
            snprintf(c + strlen(c), len - strlen(c), "; vCPU %u", r[1]);
        if (r[0] & XEN_HVM_CPUID_DOMID_PRESENT)
            snprintf(c + strlen(c), len - strlen(c), "; domain %u", r[2]);
        break;
    }
    case 5:
        snprintf(c, len, "xen: PV-specific parameters (nothing for an HVM guest)");
        break;
    }
}

static void emit(struct vmodel *m, uint32_t leaf, uint32_t sub, const char *comment)
{
    struct vevent ev = { .kind = VEV_CPUID, .a = { leaf, sub } };
    struct vres res;
    vmodel_apply(m, &ev, &res);
    trace_write_line(stdout, &ev, &res, comment);
}

/* The KVM host: Hyper-V's leaves up to the maximum QEMU set (and the synthetic debugger's),
 * then KVM's own two. */
static void kvm_leaves(struct vmodel *m, bool viridian)
{
    char c[256];
    uint32_t r[4], max = 0x40000000u;
    if (viridian) {
        vmodel_cpuid(m, 0, 0x40000000u, 0, r);
        max = r[0];
        for (uint32_t leaf = 0x40000000u; leaf <= max && leaf <= 0x4000000au; leaf++) {
            vmodel_cpuid(m, 0, leaf, 0, r);
            if (leaf - 0x40000000u <= 6)
                annotate_viridian(leaf - 0x40000000u, r, c, sizeof c);
            else
                snprintf(c, sizeof c, leaf == 0x4000000au ? "viridian: nested features"
                                                          : "viridian: (a zeroed leaf)");
            emit(m, leaf, 0, c);
        }
        for (uint32_t leaf = 0x40000080u; leaf <= max; leaf++)
            emit(m, leaf, 0, "viridian: synthetic debugger");
    }
    uint32_t base = viridian ? 0x40000100u : 0x40000000u;
    vmodel_cpuid(m, 0, base, 0, r);
    if (r[1] == 0) {
        emit(m, base, 0, "kvm=off: no KVM leaves");
        return;
    }
    snprintf(c, sizeof c, "kvm: max leaf, vendor \"%.4s%.4s%.4s\"", (const char *)&r[1],
             (const char *)&r[2], (const char *)&r[3]);
    emit(m, base, 0, c);
    vmodel_cpuid(m, 0, base + 1, 0, r);
    snprintf(c, sizeof c, "kvm: features (KVM_FEATURE_*) 0x%x, hints 0x%x", r[0], r[3]);
    emit(m, base + 1, 0, c);
}

int cmd_cpuid(int argc, char **argv)
{
    struct common_flags flags = { 0 };
    const char *os_id = NULL, *none = NULL;
    const struct opt opts[] = {
        { "--guest-os-id", "VALUE", "first write HV_X64_MSR_GUEST_OS_ID, which unlocks leaves\n"
          "0x40000002 and 0x40000004 as a booting Windows does", &os_id, NULL, NULL },
        COMMON_OPTS(&flags),
        { 0 },
    };
    const struct command cmd = {
        "cpuid", "[OPTIONS]",
        "Print the CPUID leaves 0x40000000+ a guest would see, as a trace v1 that vsbox replay\n"
        "accepts.\n",
        NULL, opts,
    };
    int p = opts_parse(&cmd, argc, argv, &none);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    uint64_t os_value = 0;
    if (os_id && !parse_u64(os_id, 0, UINT64_MAX, &os_value))
        return fail("--guest-os-id: '%s' is not a 64-bit number", os_id);

    struct vmodel *m = settings_model_trace(&flags, stdout);
    if (!m)
        return EXIT_BAD_INPUT;
    if (os_id) {
        struct vevent ev = { .kind = VEV_WRMSR, .a = { HV_X64_MSR_GUEST_OS_ID, os_value } };
        struct vres res;
        vmodel_apply(m, &ev, &res);
        trace_write_line(stdout, &ev, &res, "HV_X64_MSR_GUEST_OS_ID");
    }

    char c[256];
    bool viridian = vmodel_viridian(m);
    if (vmodel_host(m)->hypervisor == VHV_KVM) {
        kvm_leaves(m, viridian);
        vmodel_destroy(m);
        return EXIT_OK;
    }
    if (viridian) {
        for (uint32_t idx = 0; idx <= 6; idx++) {
            uint32_t r[4];
            vmodel_cpuid(m, 0, 0x40000000u + idx, 0, r);
            annotate_viridian(idx, r, c, sizeof c);
            emit(m, 0x40000000u + idx, 0, c);
        }
    }
    uint32_t base = viridian ? 0x40000100u : 0x40000000u;
    for (uint32_t idx = 0; idx <= vmodel_host(m)->xen_leaf_limit; idx++) {
        for (uint32_t sub = 0; sub < (idx == 3 ? 3u : 1u); sub++) {
            uint32_t r[4];
            vmodel_cpuid(m, 0, base + idx, sub, r);
            annotate_xen(idx, sub, r, c, sizeof c);
            emit(m, base + idx, sub, c);
        }
    }
    vmodel_destroy(m);
    /* A failed write leaves standard output's error flag: main reports it, once. */
    return EXIT_OK;
}
