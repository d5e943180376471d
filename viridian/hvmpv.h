/* Names and numbers shared with Xen and the Hyper-V TLFS, so readers can cross-check.
 * Sources: xen/include/public/hvm/params.h and xen/arch/x86/hvm/viridian.c (RELEASE-4.5.0),
 * xen/include/public/arch-x86/cpuid.h, Hyper-V TLFS v4.0. */
#ifndef VSBOX_VIRIDIAN_HVMPV_H
#define VSBOX_VIRIDIAN_HVMPV_H

#define HVM_PARAM_VIRIDIAN 9

/* HVM_PARAM_VIRIDIAN feature mask bits. */
#define _HVMPV_base_freq      0
#define HVMPV_base_freq       (1u << _HVMPV_base_freq)
#define _HVMPV_no_freq        1
#define HVMPV_no_freq         (1u << _HVMPV_no_freq)
#define _HVMPV_time_ref_count 2
#define HVMPV_time_ref_count  (1u << _HVMPV_time_ref_count)

/* Synthetic MSRs (TLFS names; Xen calls them VIRIDIAN_MSR_*). */
#define HV_X64_MSR_GUEST_OS_ID     0x40000000u
#define HV_X64_MSR_HYPERCALL       0x40000001u
#define HV_X64_MSR_VP_INDEX        0x40000002u
#define HV_X64_MSR_TIME_REF_COUNT  0x40000020u
#define HV_X64_MSR_TSC_FREQUENCY   0x40000022u
#define HV_X64_MSR_APIC_FREQUENCY  0x40000023u
#define HV_X64_MSR_EOI             0x40000070u
#define HV_X64_MSR_ICR             0x40000071u
#define HV_X64_MSR_TPR             0x40000072u
#define HV_X64_MSR_APIC_ASSIST_PAGE 0x40000073u

/* Architectural MSRs the model owns because they derive from its state. */
#define MSR_IA32_TSC        0x10u
#define MSR_IA32_APIC_BASE  0x1bu

/* CPUID 0x40000003 EAX: which synthetic MSRs are available. */
#define CPUID3A_MSR_TIME_REF_COUNT (1u << 1)
#define CPUID3A_MSR_APIC_ACCESS    (1u << 4)
#define CPUID3A_MSR_HYPERCALL      (1u << 5)
#define CPUID3A_MSR_VP_INDEX       (1u << 6)
#define CPUID3A_MSR_FREQ           (1u << 11)

/* CPUID 0x40000004 EAX: implementation recommendations. */
#define CPUID4A_MSR_BASED_APIC  (1u << 3)
#define CPUID4A_RELAX_TIMER_INT (1u << 5)

/* CPUID 0x40000006 EAX: hardware features detected and in use. */
#define CPUID6A_APIC_OVERLAY    (1u << 0)
#define CPUID6A_MSR_BITMAPS     (1u << 1)
#define CPUID6A_NESTED_PAGING   (1u << 3)

/* Hypercall status codes and call codes (TLFS). */
#define HV_STATUS_SUCCESS                0x0000u
#define HV_STATUS_INVALID_HYPERCALL_CODE 0x0002u
#define HvNotifyLongSpinWait             0x0008u

/* Xen's own leaves and MSR (xen/arch/x86/traps.c). */
#define XEN_CPUID_SIGNATURE_EBX 0x566e6558u /* "XenV" */
#define XEN_CPUID_SIGNATURE_ECX 0x65584d4du /* "MMXe" */
#define XEN_CPUID_SIGNATURE_EDX 0x4d4d566eu /* "nVMM" */
#define XEN_CPUID_MAX_NUM_LEAVES 4u
#define XEN_HVM_CPUID_APIC_ACCESS_VIRT (1u << 0)
#define XEN_HVM_CPUID_IOMMU_MAPPINGS (1u << 2)

/* xen/include/asm-x86/hvm/vlapic.h */
#define APIC_BUS_CYCLE_NS 10u

#endif
