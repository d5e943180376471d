/* The KVM host's hypervisor leaves, as QEMU 10.1 hands them to KVM_SET_CPUID2
 * (target/i386/kvm/kvm.c kvm_arch_init_vcpu): Hyper-V's from hyperv_fill_cpuids() when
 * hyperv_enabled(), then KVM's own "KVMKVMKVM" leaves at the next free base unless
 * kvm=off. Which bits each flag sets is the group table's (viridian/spec.c). A leaf KVM
 * has no entry for reads as zeros here; an Intel guest would get KVM's "max basic leaf"
 * instead (get_out_of_range_cpuid_entry), which is not the model's to know. */
#include "viridian/internal.h"
#include "viridian/spec.h"

#define HV_BASE 0x40000000u

static uint32_t sig(const char *s)
{
    return (uint32_t)(uint8_t)s[0] | (uint32_t)(uint8_t)s[1] << 8 |
           (uint32_t)(uint8_t)s[2] << 16 | (uint32_t)(uint8_t)s[3] << 24;
}

static void vendor(uint32_t r[4], const char *twelve)
{
    r[1] = sig(twelve);
    r[2] = sig(twelve + 4);
    r[3] = sig(twelve + 8);
}

/* hv_build_cpuid_leaf(): the bits of every enabled flag. */
struct bits {
    uint32_t a3, b3, d3, a4, aa, kvm;
};

static struct bits enabled_bits(const struct vmodel *m)
{
    struct bits b = { 0 };
    for (int g = VGROUP_FIRST_KVM; g < VGROUP_COUNT; g++) {
        if (!vgroup_enabled(m, g))
            continue;
        const struct vgroup_info *gi = vgroup_info(g);
        b.a3 |= gi->leaf3a;
        b.b3 |= gi->leaf3b;
        b.d3 |= gi->leaf3d;
        b.a4 |= gi->leaf4a;
        b.aa |= gi->leafaa;
        b.kvm |= gi->kvm_features;
    }
    return b;
}

static uint32_t max_leaf(const struct vmodel *m, const struct bits *b)
{
    uint32_t max = b->aa ? HV_CPUID_NESTED_FEATURES : HV_BASE + 5;
    if (kvm_flag(m, KVM_FEAT_SYNDBG))
        max = HV_CPUID_SYNDBG_PLATFORM;
    return max;
}

static void hyperv_leaf(const struct vmodel *m, uint32_t leaf, uint32_t r[4])
{
    struct bits b = enabled_bits(m);
    bool pt = kvm_flag(m, KVM_OPT_PASSTHROUGH);
    if (leaf > max_leaf(m, &b))
        return;
    switch (leaf) {
    case HV_BASE:
        r[0] = max_leaf(m, &b);
        /* hv-vendor-id, or with hv-passthrough KVM's own (kvm_get_hv_cpuid). */
        vendor(r, pt ? "Linux KVM Hv" : "Microsoft Hv");
        break;
    case HV_BASE + 1:
        r[0] = sig("Hv#1");
        break;
    case HV_BASE + 2:
        /* hv-version-id-*: Windows Server 2016 (10.0.14393), KVM's numbers too. */
        r[0] = QEMU_HV_VERSION_BUILD;
        r[1] = QEMU_HV_VERSION_MAJOR << 16 | QEMU_HV_VERSION_MINOR;
        break;
    case HV_BASE + 3:
        /* "Unconditionally required with any Hyper-V enlightenment", and "Not exposed
         * by KVM but needed to make CPU hotplug in Windows work". */
        r[0] = b.a3 | CPUID3A_MSR_HYPERCALL;
        r[1] = b.b3;
        r[3] = b.d3 | CPUID3D_CPU_DYNAMIC_PARTITIONING;
        break;
    case HV_BASE + 4:
        r[0] = b.a4;
        if (kvm_flag(m, KVM_FEAT_VAPIC) && !kvm_flag(m, KVM_FEAT_AVIC))
            r[0] |= CPUID4A_MSR_BASED_APIC; /* HV_APIC_ACCESS_RECOMMENDED */
        r[1] = vkvm_spinlocks(m->param);
        break;
    case HV_BASE + 5:
        r[0] = pt ? KVM_HV_MAX_VCPUS : QEMU_HV_MAX_VPS;
        r[1] = QEMU_HV_MAX_LPS;
        break;
    case HV_CPUID_NESTED_FEATURES:
        r[0] = b.aa;
        break;
    case HV_CPUID_SYNDBG_VENDOR:
        vendor(r, "Microsoft VS");
        break;
    case HV_CPUID_SYNDBG_INTERFACE:
        r[0] = sig("VS#1");
        break;
    case HV_CPUID_SYNDBG_PLATFORM:
        r[0] = HV_SYNDBG_CAP_ALLOW_KERNEL_DEBUGGING;
        break;
    default: /* 0x40000006-9: zeroed entries; the rest: none */
        break;
    }
}

void vkvm_cpuid(const struct vmodel *m, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    (void)sub;
    bool hv = viridian_enabled(m);
    uint32_t base = hv ? 0x40000100u : HV_BASE;
    if (hv && leaf < base) {
        hyperv_leaf(m, leaf, r);
        return;
    }
    if (kvm_flag(m, KVM_OPT_HIDDEN))
        return;
    if (leaf == base) {
        r[0] = base | 1u; /* KVM_CPUID_FEATURES | kvm_base */
        r[1] = KVM_CPUID_SIGNATURE_EBX;
        r[2] = KVM_CPUID_SIGNATURE_ECX;
        r[3] = KVM_CPUID_SIGNATURE_EDX;
    } else if (leaf == base + 1) {
        r[0] = KVM_DEFAULT_FEATURES | enabled_bits(m).kvm; /* env->features[FEAT_KVM] */
    }
}

bool vkvm_cpuid_allows(const struct vmodel *m, uint32_t eax_bits, uint32_t edx_bits)
{
    uint32_t r[4] = { 0 };
    hyperv_leaf(m, HV_BASE + 3, r);
    return (r[0] & eax_bits) || (r[3] & edx_bits);
}
