/* Names and numbers of the KVM host (docs/kvm-import.md), beside hvmpv.h's Xen and TLFS
 * ones. Sources: Linux 6.16 arch/x86/kvm/hyperv.c (kvm_hv_hypercall, hv_check_msr_access,
 * kvm_get_hv_cpuid), include/asm-generic/hyperv-tlfs.h and arch/x86/include/asm/
 * hyperv-tlfs.h (MSRs, CPUID bits, hypercall input layout), arch/x86/include/uapi/asm/
 * kvm_para.h (KVM's own leaves); QEMU 10.1 target/i386/kvm/hyperv-proto.h and kvm.c
 * (enum hyperv_feat, hyperv_fill_cpuids), target/i386/cpu.c (property defaults),
 * target/i386/kvm/kvm-cpu.c (kvm_default_props). Freestanding: #defines only. */
#ifndef VSBOX_VIRIDIAN_HVKVM_H
#define VSBOX_VIRIDIAN_HVKVM_H

/* The configuration of a KVM host model (HVM_PARAM_VIRIDIAN's place, vconfig.viridian):
 * bits 0-20 are QEMU's cpu->hyperv_features, numbered as QEMU's HYPERV_FEAT_*; the rest
 * are vsbox's for the other -cpu options that change what the guest sees. */
#define KVM_FEAT_RELAXED          0
#define KVM_FEAT_VAPIC            1
#define KVM_FEAT_TIME             2
#define KVM_FEAT_CRASH            3
#define KVM_FEAT_RESET            4
#define KVM_FEAT_VPINDEX          5
#define KVM_FEAT_RUNTIME          6
#define KVM_FEAT_SYNIC            7
#define KVM_FEAT_STIMER           8
#define KVM_FEAT_FREQUENCIES      9
#define KVM_FEAT_REENLIGHTENMENT  10
#define KVM_FEAT_TLBFLUSH         11
#define KVM_FEAT_EVMCS            12
#define KVM_FEAT_IPI              13
#define KVM_FEAT_STIMER_DIRECT    14
#define KVM_FEAT_AVIC             15
#define KVM_FEAT_SYNDBG           16
#define KVM_FEAT_MSR_BITMAP       17
#define KVM_FEAT_XMM_INPUT        18
#define KVM_FEAT_TLBFLUSH_EXT     19
#define KVM_FEAT_TLBFLUSH_DIRECT  20
#define KVM_HV_FEATURES           0x1fffffu   /* bits 0-20 */
#define KVM_OPT_NO_NONARCH_CS     21          /* hv-no-nonarch-coresharing=on */
#define KVM_OPT_ENFORCE_CPUID     22          /* hv-enforce-cpuid: KVM_CAP_HYPERV_ENFORCE_CPUID */
#define KVM_OPT_PASSTHROUGH       23          /* hv-passthrough: KVM's identification */
#define KVM_OPT_HIDDEN            24          /* kvm=off: no KVM leaves */
#define KVM_OPT_PV_UNHALT         25          /* kvm-pv-unhalt and the other opt-in PV */
#define KVM_OPT_PV_TLB_FLUSH      26          /* features QEMU leaves off by default */
#define KVM_OPT_PV_IPI            27
#define KVM_OPT_POLL_CONTROL      28
#define KVM_OPT_PV_SCHED_YIELD    29
#define KVM_OPT_MSI_EXT_DEST_ID   30
#define KVM_CONFIG_BITS           0x7fffffffu
/* hv-spinlocks=N, stored as N ^ 0xffffffff in bits 32-63: 0 is QEMU's default,
 * HYPERV_SPINLOCK_NEVER_NOTIFY (0xffffffff). */
#define KVM_SPINLOCKS_SHIFT       32
#define HYPERV_SPINLOCK_NEVER_NOTIFY 0xffffffffu

/* CPUID 0x40000003 bits QEMU or KVM set beyond hvmpv.h's. */
#define CPUID3A_MSR_REENLIGHTENMENT (1u << 13) /* AccessReenlightenmentControls */
#define CPUID3A_TSC_INVARIANT       (1u << 15) /* HV_ACCESS_TSC_INVARIANT */
#define CPUID3B_POST_MESSAGES       (1u << 4)
#define CPUID3B_SIGNAL_EVENTS       (1u << 5)
#define CPUID3D_XMM_INPUT           (1u << 4)  /* HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE */
#define CPUID3D_FREQ_MSRS           (1u << 8)  /* HV_FEATURE_FREQUENCY_MSRS_AVAILABLE */
#define CPUID3D_DEBUG_MSRS          (1u << 11) /* HV_FEATURE_DEBUG_MSRS_AVAILABLE */
#define CPUID3D_EXT_GVA_RANGES      (1u << 14) /* HV_FEATURE_EXT_GVA_RANGES_FLUSH */
#define CPUID3D_STIMER_DIRECT       (1u << 19) /* HV_STIMER_DIRECT_MODE_AVAILABLE */
#define CPUID4A_DEPRECATING_AEOI    (1u << 9)
#define CPUID4A_ENLIGHTENED_VMCS    (1u << 14)
#define CPUID4A_NO_NONARCH_CS       (1u << 18)
#define CPUIDAA_DIRECT_FLUSH        (1u << 17) /* HV_CPUID_NESTED_FEATURES EAX */
#define CPUIDAA_MSR_BITMAP          (1u << 19)
#define CPUIDAA_EVMCS_VERSION       0x101u     /* QEMU's DEFAULT_EVMCS_VERSION: eVMCS 1..1 */
#define HV_CPUID_NESTED_FEATURES    0x4000000au
#define HV_CPUID_SYNDBG_VENDOR      0x40000080u
#define HV_CPUID_SYNDBG_INTERFACE   0x40000081u
#define HV_CPUID_SYNDBG_PLATFORM    0x40000082u
#define HV_SYNDBG_CAP_ALLOW_KERNEL_DEBUGGING (1u << 1)

/* QEMU's identification (target/i386/cpu.c, QEMU 6.2+ machine types): hv-vendor-id,
 * hv-version-id-build/major/minor, x-hv-max-vps (-1), hyperv_limits[0]. */
#define QEMU_HV_VERSION_BUILD   0x3839u
#define QEMU_HV_VERSION_MAJOR   0x000au
#define QEMU_HV_VERSION_MINOR   0x0000u
#define QEMU_HV_MAX_VPS         0xffffffffu
#define QEMU_HV_MAX_LPS         64u
/* KVM's own (kvm_get_hv_cpuid), which hv-passthrough copies. */
#define KVM_HV_SPINLOCKS        0x00000fffu
#define KVM_HV_MAX_VCPUS        4096u  /* KVM_MAX_VCPUS with CONFIG_MAXSMP, as distributions */

/* Synthetic MSRs KVM has and Xen does not. */
#define HV_X64_MSR_RESET                   0x40000003u
#define HV_X64_MSR_VP_RUNTIME              0x40000010u
#define HV_X64_MSR_SYNDBG_CONTROL          0x400000f1u
#define HV_X64_MSR_SYNDBG_PENDING_BUFFER   0x400000f5u
#define HV_X64_MSR_SYNDBG_OPTIONS          0x400000ffu
#define HV_X64_MSR_REENLIGHTENMENT_CONTROL 0x40000106u
#define HV_X64_MSR_TSC_EMULATION_CONTROL   0x40000107u
#define HV_X64_MSR_TSC_EMULATION_STATUS    0x40000108u
#define HV_X64_MSR_TSC_INVARIANT_CONTROL   0x40000118u
#define HV_EXPOSE_INVARIANT_TSC            1ull

/* Hypercall input fields KVM checks (hyperv-tlfs.h). */
#define HV_HYPERCALL_VARHEAD_SHIFT  17
#define HV_HYPERCALL_VARHEAD_MASK   (0x3ffull << 17)
#define HV_HYPERCALL_RSVD_MASK      (0x1full << 27 | 0xfull << 44 | 0xfull << 60)
#define HV_STATUS_INVALID_HYPERCALL_INPUT 0x0003u
#define HV_STATUS_INVALID_ALIGNMENT       0x0004u
#define HV_STATUS_ACCESS_DENIED           0x0006u
#define HV_STATUS_OPERATION_DENIED        0x0008u
#define HV_STATUS_INVALID_PORT_ID         0x0011u
#define HV_STATUS_INVALID_CONNECTION_ID   0x0012u
#define HVCALL_POST_DEBUG_DATA            0x0069u
#define HVCALL_RETRIEVE_DEBUG_DATA        0x006au
#define HVCALL_RESET_DEBUG_SESSION        0x006bu
#define HV_EXT_CALL_MAX                   0x8041u  /* HvExtCallQueryCapabilities + 64 */
/* kvm_emulate_hypercall(): a VMCALL that is not a Hyper-V call (no guest OS id yet). */
#define KVM_ENOSYS 1000u

/* KVM's own leaves (kvm_para.h), at 0x40000000, or 0x40000100 behind Hyper-V's. */
#define KVM_CPUID_SIGNATURE_EBX 0x4b4d564bu /* "KVMKVMKVM\0\0\0" */
#define KVM_CPUID_SIGNATURE_ECX 0x564b4d56u
#define KVM_CPUID_SIGNATURE_EDX 0x0000004du
#define KVM_FEATURE_CLOCKSOURCE         0
#define KVM_FEATURE_NOP_IO_DELAY        1
#define KVM_FEATURE_CLOCKSOURCE2        3
#define KVM_FEATURE_ASYNC_PF            4
#define KVM_FEATURE_STEAL_TIME          5
#define KVM_FEATURE_PV_EOI              6
#define KVM_FEATURE_PV_UNHALT           7
#define KVM_FEATURE_PV_TLB_FLUSH        9
#define KVM_FEATURE_PV_SEND_IPI         11
#define KVM_FEATURE_POLL_CONTROL        12
#define KVM_FEATURE_PV_SCHED_YIELD      13
#define KVM_FEATURE_ASYNC_PF_INT        14
#define KVM_FEATURE_MSI_EXT_DEST_ID     15
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT 24
/* kvm_default_props: kvmclock (bits 0 and 3), kvm-nopiodelay, kvm-asyncpf,
 * kvm-asyncpf-int, kvm-steal-time, kvm-pv-eoi, kvmclock-stable-bit. */
#define KVM_DEFAULT_FEATURES                                                            \
    (1u << KVM_FEATURE_CLOCKSOURCE | 1u << KVM_FEATURE_NOP_IO_DELAY |                  \
     1u << KVM_FEATURE_CLOCKSOURCE2 | 1u << KVM_FEATURE_ASYNC_PF |                     \
     1u << KVM_FEATURE_STEAL_TIME | 1u << KVM_FEATURE_PV_EOI |                         \
     1u << KVM_FEATURE_ASYNC_PF_INT | 1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT)

/* KVM's APIC bus: APIC_BUS_CYCLE_NS_DEFAULT, 1 GHz (Linux 6.10+). */
#define KVM_APIC_BUS_CYCLE_NS 1u

#endif
