/* Names and numbers shared with Xen and the Hyper-V TLFS, so readers can cross-check.
 * Sources: xen/include/public/hvm/params.h (HVMPV_*, RELEASE-4.5.0 .. RELEASE-4.22.0),
 * xen/arch/x86/hvm/viridian/viridian.c cpuid_viridian_leaves() (CPUID3A/3D/4A/6A),
 * xen/arch/x86/include/asm/guest/hyperv-tlfs.h (MSRs, hypercall codes and status,
 * struct hv_vpset, union hv_stimer_config, union hv_synic_sint, struct hv_message),
 * xen/include/public/arch-x86/cpuid.h (Xen's own leaves). Hyper-V TLFS v6.0b.
 *
 * Freestanding: only #defines, so the guests (guests/runtime/guest.h) include it too and
 * every constant is spelled once. */
#ifndef VSBOX_VIRIDIAN_HVMPV_H
#define VSBOX_VIRIDIAN_HVMPV_H

#define HVM_PARAM_VIRIDIAN 9

/* HVM_PARAM_VIRIDIAN feature mask bits, and the release whose params.h added them. */
#define _HVMPV_base_freq              0   /* 4.5 */
#define HVMPV_base_freq               (1u << _HVMPV_base_freq)
#define _HVMPV_no_freq                1   /* 4.5 */
#define HVMPV_no_freq                 (1u << _HVMPV_no_freq)
#define _HVMPV_time_ref_count         2   /* 4.5 */
#define HVMPV_time_ref_count          (1u << _HVMPV_time_ref_count)
#define _HVMPV_reference_tsc          3   /* 4.6 */
#define HVMPV_reference_tsc           (1u << _HVMPV_reference_tsc)
#define _HVMPV_hcall_remote_tlb_flush 4   /* 4.7 */
#define HVMPV_hcall_remote_tlb_flush  (1u << _HVMPV_hcall_remote_tlb_flush)
#define _HVMPV_apic_assist            5   /* 4.7 */
#define HVMPV_apic_assist             (1u << _HVMPV_apic_assist)
#define _HVMPV_crash_ctl              6   /* 4.9 */
#define HVMPV_crash_ctl               (1u << _HVMPV_crash_ctl)
#define _HVMPV_synic                  7   /* 4.13 */
#define HVMPV_synic                   (1u << _HVMPV_synic)
#define _HVMPV_stimer                 8   /* 4.13 */
#define HVMPV_stimer                  (1u << _HVMPV_stimer)
#define _HVMPV_hcall_ipi              9   /* 4.13 */
#define HVMPV_hcall_ipi               (1u << _HVMPV_hcall_ipi)
#define _HVMPV_ex_processor_masks     10  /* 4.15 */
#define HVMPV_ex_processor_masks      (1u << _HVMPV_ex_processor_masks)
#define _HVMPV_no_vp_limit            11  /* 4.15 */
#define HVMPV_no_vp_limit             (1u << _HVMPV_no_vp_limit)
#define _HVMPV_cpu_hotplug            12  /* 4.15 */
#define HVMPV_cpu_hotplug             (1u << _HVMPV_cpu_hotplug)

/* Synthetic MSRs (TLFS names; Xen before 4.9 called them VIRIDIAN_MSR_*). */
#define HV_X64_MSR_GUEST_OS_ID      0x40000000u
#define HV_X64_MSR_HYPERCALL        0x40000001u
#define HV_X64_MSR_VP_INDEX         0x40000002u
#define HV_X64_MSR_TIME_REF_COUNT   0x40000020u
#define HV_X64_MSR_REFERENCE_TSC    0x40000021u
#define HV_X64_MSR_TSC_FREQUENCY    0x40000022u
#define HV_X64_MSR_APIC_FREQUENCY   0x40000023u
#define HV_X64_MSR_EOI              0x40000070u
#define HV_X64_MSR_ICR              0x40000071u
#define HV_X64_MSR_TPR              0x40000072u
#define HV_X64_MSR_VP_ASSIST_PAGE   0x40000073u /* "APIC_ASSIST" in Xen < 4.9 */
#define HV_X64_MSR_APIC_ASSIST_PAGE HV_X64_MSR_VP_ASSIST_PAGE
#define HV_X64_MSR_SCONTROL         0x40000080u
#define HV_X64_MSR_SVERSION         0x40000081u
#define HV_X64_MSR_SIEFP            0x40000082u
#define HV_X64_MSR_SIMP             0x40000083u
#define HV_X64_MSR_EOM              0x40000084u
#define HV_X64_MSR_SINT0            0x40000090u
#define HV_X64_MSR_SINT15           0x4000009fu
#define HV_X64_MSR_STIMER0_CONFIG   0x400000b0u
#define HV_X64_MSR_STIMER0_COUNT    0x400000b1u
#define HV_X64_MSR_STIMER3_COUNT    0x400000b7u
#define HV_X64_MSR_CRASH_P0         0x40000100u
#define HV_X64_MSR_CRASH_P4         0x40000104u
#define HV_X64_MSR_CRASH_CTL        0x40000105u

/* Architectural MSRs the model owns because they derive from its state. */
#define MSR_IA32_TSC        0x10u
#define MSR_IA32_APIC_BASE  0x1bu

/* CPUID 0x40000003 EAX: the partition privilege mask's low half (HV_PARTITION_PRIVILEGE_MASK
 * bit order; Xen sets no bit of the high half, EBX). */
#define CPUID3A_MSR_VP_RUNTIME     (1u << 0)  /* AccessVpRunTimeReg */
#define CPUID3A_MSR_TIME_REF_COUNT (1u << 1)  /* AccessPartitionReferenceCounter */
#define CPUID3A_MSR_SYNIC          (1u << 2)  /* AccessSynicRegs */
#define CPUID3A_MSR_STIMER         (1u << 3)  /* AccessSyntheticTimerRegs */
#define CPUID3A_MSR_APIC_ACCESS    (1u << 4)  /* AccessIntrCtrlRegs */
#define CPUID3A_MSR_HYPERCALL      (1u << 5)  /* AccessHypercallMsrs */
#define CPUID3A_MSR_VP_INDEX       (1u << 6)  /* AccessVpIndex */
#define CPUID3A_MSR_RESET          (1u << 7)  /* AccessResetReg */
#define CPUID3A_MSR_STATS          (1u << 8)  /* AccessStatsReg */
#define CPUID3A_MSR_REFERENCE_TSC  (1u << 9)  /* AccessPartitionReferenceTsc */
#define CPUID3A_MSR_GUEST_IDLE     (1u << 10) /* AccessGuestIdleReg */
#define CPUID3A_MSR_FREQ           (1u << 11) /* AccessFrequencyRegs */
#define CPUID3A_MSR_DEBUG          (1u << 12) /* AccessDebugRegs */

/* CPUID 0x40000003 EDX: hypervisor feature indication. */
#define CPUID3D_CPU_DYNAMIC_PARTITIONING (1u << 3)
#define CPUID3D_CRASH_MSRS               (1u << 10)
#define CPUID3D_SINT_POLLING             (1u << 17)

/* CPUID 0x40000004 EAX: implementation recommendations. */
#define CPUID4A_HCALL_REMOTE_TLB_FLUSH (1u << 2)
#define CPUID4A_MSR_BASED_APIC         (1u << 3)
#define CPUID4A_RELAX_TIMER_INT        (1u << 5)
#define CPUID4A_SYNTHETIC_CLUSTER_IPI  (1u << 10)
#define CPUID4A_EX_PROCESSOR_MASKS     (1u << 11)

/* CPUID 0x40000006 EAX: hardware features detected and in use. */
#define CPUID6A_APIC_OVERLAY    (1u << 0)
#define CPUID6A_MSR_BITMAPS     (1u << 1)
#define CPUID6A_NESTED_PAGING   (1u << 3)

/* Viridian leaf 2 from Xen 4.9 on: Windows Server 2008's numbers (viridian.c). */
#define VIRIDIAN_MAJOR 6u
#define VIRIDIAN_MINOR 0u
#define VIRIDIAN_BUILD 0x1772u
#define VIRIDIAN_SPINLOCK_RETRY_COUNT 2047u

/* Hypercall input (RCX in 64-bit mode): call code, fast flag, rep count and start. */
#define HV_HYPERCALL_FAST_BIT       (1ull << 16)
#define HV_HYPERCALL_REP_COUNT(x)   (((x) >> 32) & 0xfffu)
#define HV_HYPERCALL_REP_START(x)   (((x) >> 48) & 0xfffu)
#define HV_HYPERCALL_REP_COMP_SHIFT 32

/* Hypercall status codes. */
#define HV_STATUS_SUCCESS                0x0000u
#define HV_STATUS_INVALID_HYPERCALL_CODE 0x0002u
#define HV_STATUS_INVALID_PARAMETER      0x0005u

/* Hypercall codes. */
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE    0x0002u
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST     0x0003u
#define HVCALL_NOTIFY_LONG_SPIN_WAIT          0x0008u
#define HVCALL_SEND_IPI                       0x000bu
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX 0x0013u
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX  0x0014u
#define HVCALL_SEND_IPI_EX                    0x0015u
#define HVCALL_GET_PARTITION_ID               0x0046u
#define HVCALL_POST_MESSAGE                   0x005cu
#define HVCALL_SIGNAL_EVENT                   0x005du
#define HVCALL_EXT_CALL_QUERY_CAPABILITIES    0x8001u
#define HvNotifyLongSpinWait                  HVCALL_NOTIFY_LONG_SPIN_WAIT

/* Flush flags and processor sets. */
#define HV_FLUSH_ALL_PROCESSORS   (1ull << 0)
#define HV_GENERIC_SET_SPARSE_4K  0u
#define HV_GENERIC_SET_ALL        1u

/* SynIC: HV_X64_MSR_SINTx (union hv_synic_sint) and the message page. */
#define HV_SINT_VECTOR_MASK    0xffull
#define HV_SINT_MASKED         (1ull << 16)
#define HV_SINT_AUTO_EOI       (1ull << 17)
#define HV_SINT_POLLING        (1ull << 18)
#define HV_SYNIC_SINT_COUNT    16u
#define HV_MESSAGE_SIZE        256u
#define HVMSG_NONE             0x00000000u
#define HVMSG_TIMER_EXPIRED    0x80000010u
#define HV_SYNIC_SVERSION      1u

/* Synthetic timers: HV_X64_MSR_STIMERx_CONFIG (union hv_stimer_config). */
#define HV_STIMER_COUNT        4u
#define HV_STIMER_ENABLE       (1ull << 0)
#define HV_STIMER_PERIODIC     (1ull << 1)
#define HV_STIMER_LAZY         (1ull << 2)
#define HV_STIMER_AUTO_ENABLE  (1ull << 3)
#define HV_STIMER_APIC_VECTOR(c) (((c) >> 4) & 0xffu)
#define HV_STIMER_DIRECT_MODE  (1ull << 12)
#define HV_STIMER_SINTX_SHIFT  16
#define HV_STIMER_SINTX(c)     (((c) >> HV_STIMER_SINTX_SHIFT) & 0xfu)

/* HV_X64_MSR_CRASH_CTL: CrashNotify. */
#define HV_CRASH_CTL_CRASH_NOTIFY (1ull << 63)

/* Page MSRs (hypercall, reference TSC, VP assist, SIMP): enable bit and frame. */
#define HV_PAGE_ENABLE   1ull
#define HV_PAGE_MASK     0x0ffffffffffff000ull

/* Reference TSC page (HV_REFERENCE_TSC_PAGE): u32 tsc_sequence, u32 reserved,
 * u64 tsc_scale, s64 tsc_offset. */
#define HV_REF_TSC_SEQUENCE 0u
#define HV_REF_TSC_SCALE    8u
#define HV_REF_TSC_OFFSET   16u

/* Xen's own leaves and MSR (xen/include/public/arch-x86/cpuid.h). */
#define XEN_CPUID_SIGNATURE_EBX 0x566e6558u /* "XenV" */
#define XEN_CPUID_SIGNATURE_ECX 0x65584d4du /* "MMXe" */
#define XEN_CPUID_SIGNATURE_EDX 0x4d4d566eu /* "nVMM" */
#define XEN_HVM_CPUID_APIC_ACCESS_VIRT (1u << 0)
#define XEN_HVM_CPUID_X2APIC_VIRT      (1u << 1)
#define XEN_HVM_CPUID_IOMMU_MAPPINGS   (1u << 2)
#define XEN_HVM_CPUID_VCPU_ID_PRESENT  (1u << 3)
#define XEN_HVM_CPUID_DOMID_PRESENT    (1u << 4)
#define XEN_HVM_CPUID_EXT_DEST_ID      (1u << 5)
#define XEN_HVM_CPUID_UPCALL_VECTOR    (1u << 6)

/* xen/include/asm-x86/hvm/vlapic.h */
#define APIC_BUS_CYCLE_NS 10u

#endif
