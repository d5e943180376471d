/* One row per Xen release, each read from the source at its RELEASE-4.x.0 tag:
 * params.h (HVMPV_feature_mask, HVM_NR_PARAMS), libxl_types.idl (the group names),
 * libxl's hvm_set_viridian_features() ("Enable defaults"), save.h (the record layout),
 * viridian.c / viridian/{viridian,synic,time}.c and the MSR intercepts (behaviour).
 * tests/test_releases.c checks every row against those sources, citing them. Then the
 * KVM host, read from Linux 6.16's arch/x86/kvm/hyperv.c and QEMU 10.1's
 * target/i386/kvm/kvm.c (docs/kvm-import.md); tests/test_kvm_host.c checks it. */
#include "viridian/profile.h"

#include <string.h>
#include "viridian/hvkvm.h"
#include "viridian/hvmpv.h"
#include "viridian/spec.h"

#define G(g) (1ull << VGROUP_##g)

/* libxl_viridian_enlightenment, cumulatively, by the release that added the names. */
#define GROUPS_4_5 (G(BASE) | G(FREQ) | G(TIME_REF_COUNT))
#define GROUPS_4_6 (GROUPS_4_5 | G(REFERENCE_TSC))
#define GROUPS_4_7 (GROUPS_4_6 | G(HCALL_REMOTE_TLB_FLUSH) | G(APIC_ASSIST))
#define GROUPS_4_9 (GROUPS_4_7 | G(CRASH_CTL))
#define GROUPS_4_13 (GROUPS_4_9 | G(SYNIC) | G(STIMER) | G(HCALL_IPI))
#define GROUPS_4_15 (GROUPS_4_13 | G(EX_PROCESSOR_MASKS) | G(NO_VP_LIMIT) | G(CPU_HOTPLUG))

/* "Enable defaults" in hvm_set_viridian_features(). */
#define DEFAULTS_4_5 (G(BASE) | G(FREQ) | G(TIME_REF_COUNT))
#define DEFAULTS_4_7 (DEFAULTS_4_5 | G(APIC_ASSIST))
#define DEFAULTS_4_9 (DEFAULTS_4_7 | G(CRASH_CTL))
#define DEFAULTS_4_15 (DEFAULTS_4_9 | G(NO_VP_LIMIT) | G(CPU_HOTPLUG))

/* HVMPV_feature_mask. */
#define MASK_4_5 (HVMPV_base_freq | HVMPV_no_freq | HVMPV_time_ref_count)
#define MASK_4_6 (MASK_4_5 | HVMPV_reference_tsc)
#define MASK_4_7 (MASK_4_6 | HVMPV_hcall_remote_tlb_flush | HVMPV_apic_assist)
#define MASK_4_9 (MASK_4_7 | HVMPV_crash_ctl)
#define MASK_4_13 (MASK_4_9 | HVMPV_synic | HVMPV_stimer | HVMPV_hcall_ipi)
#define MASK_4_15 (MASK_4_13 | HVMPV_ex_processor_masks | HVMPV_no_vp_limit | HVMPV_cpu_hotplug)

/* Xen leaf base+4 on the profiles' host (no APIC register virtualisation). */
#define LEAF4_4_5 XEN_HVM_CPUID_IOMMU_MAPPINGS
#define LEAF4_4_6 (LEAF4_4_5 | XEN_HVM_CPUID_VCPU_ID_PRESENT)
#define LEAF4_4_11 (LEAF4_4_6 | XEN_HVM_CPUID_DOMID_PRESENT)
#define LEAF4_4_17 (LEAF4_4_11 | XEN_HVM_CPUID_UPCALL_VECTOR)

/* An Intel host with APIC-access virtualisation, MSR bitmaps and HAP, a reliable TSC,
 * but neither APIC register virtualisation nor TSC scaling. */
#define INTEL_HOST                                                                   \
    .tsc_khz = 2000000, .cpu_khz = 2000000, .svm = false, .apic_reg_virt = false,   \
    .tsc_scaling = false, .tsc_reliable = true

#define RELEASE(minor) \
    .name = "xen-4." #minor, .tag = "RELEASE-4." #minor ".0", .xen_major = 4, .xen_minor = minor

#define LEAF6 (CPUID6A_APIC_OVERLAY | CPUID6A_MSR_BITMAPS | CPUID6A_NESTED_PAGING)

/* Everything 4.13 brought, and what later releases kept of it. */
#define SYNIC_4_13 .hcall_ipi = true, .synic = true, .trc_hv_scale = true, .ref_tsc_offset = true

/* What every release from 4.12 on keeps: the mask parameter a guest may not read, 39
 * HVM params, leaf 2 as Windows Server 2008, #GP for unhandled writes, the 4.11 VP
 * assist page, CrashNotify's shutdown code, the flush calls, Xen's leaves to base+5. */
#define SINCE_4_12                                                                    \
    .param = VPARAM_MASK, .legacy_true_mask = HVMPV_base_freq, .guest_get_eperm = true,  \
    .hvm_nr_params = 39, .leaf2_ws2008 = true, .wrmsr_unknown_gp = true,              \
    .vp_assist = VASSIST_4_11, .crash = VCRASH_SHUTDOWN, .hcall_flush = true,          \
    .xen_leaf_limit = 5, .leaf6_eax = LEAF6

/* ... and from 4.15: its mask, groups and defaults, the 4.13 records and SynIC, the
 * _EX calls, the sequence that may be 0xFFFFFFFF (4.14). */
#define SINCE_4_15                                                                    \
    SINCE_4_12, .feature_mask = MASK_4_15, .groups = GROUPS_4_15,                     \
    .default_groups = DEFAULTS_4_15, .save = VSAVE_4_13, SYNIC_4_13, .hcall_ex = true, \
    .ref_tsc_seq_all_ones = true

static const struct vprofile profiles[] = {
    { RELEASE(3), INTEL_HOST, .summary = "boolean viridian: the base set",
      .param = VPARAM_BOOLEAN, .legacy_true_mask = HVMPV_base_freq | HVMPV_no_freq,
      .hvm_nr_params = 32, .save = VSAVE_4_3, .restore = VRESTORE_BOOL, .vp_assist = VASSIST_DWORD,
      .xen_leaf_limit = 2, .leaf6_eax = 0 /* cpuid_viridian_leaves() has no case 6 */ },
    { RELEASE(4), INTEL_HOST, .summary = "boolean viridian: + the TSC and APIC frequency MSRs",
      .param = VPARAM_BOOLEAN, .legacy_true_mask = HVMPV_base_freq,
      .hvm_nr_params = 32, .save = VSAVE_4_3, .restore = VRESTORE_BOOL, .vp_assist = VASSIST_DWORD,
      .xen_leaf_limit = 2, .leaf6_eax = LEAF6 },
    { RELEASE(5), INTEL_HOST, .summary = "HVM_PARAM_VIRIDIAN is a feature mask; time_ref_count",
      .param = VPARAM_MASK, .feature_mask = MASK_4_5, .legacy_true_mask = HVMPV_base_freq,
      .hvm_nr_params = 35, .groups = GROUPS_4_5, .default_groups = DEFAULTS_4_5,
      .save = VSAVE_4_5, .restore = VRESTORE_IGNORED, .vp_assist = VASSIST_DWORD,
      .xen_leaf_limit = 4, .xen_leaf4 = LEAF4_4_5, .leaf6_eax = LEAF6 },
    { RELEASE(6), INTEL_HOST, .summary = "reference_tsc; a guest may no longer read the parameter",
      .param = VPARAM_MASK, .feature_mask = MASK_4_6, .legacy_true_mask = HVMPV_base_freq,
      .guest_get_eperm = true, .hvm_nr_params = 36, .groups = GROUPS_4_6,
      .default_groups = DEFAULTS_4_5, .save = VSAVE_4_6, .vp_assist = VASSIST_DWORD,
      .xen_leaf_limit = 4, .xen_leaf4 = LEAF4_4_6, .leaf6_eax = LEAF6 },
    { RELEASE(7), INTEL_HOST, .summary = "hcall_remote_tlb_flush; apic_assist, in defaults",
      .param = VPARAM_MASK, .feature_mask = MASK_4_7, .legacy_true_mask = HVMPV_base_freq,
      .guest_get_eperm = true, .hvm_nr_params = 37, .groups = GROUPS_4_7,
      .default_groups = DEFAULTS_4_7, .save = VSAVE_4_7, .vp_assist = VASSIST_4_7,
      .hcall_flush = true, .xen_leaf_limit = 4, .xen_leaf4 = LEAF4_4_6, .leaf6_eax = LEAF6 },
    { RELEASE(8), INTEL_HOST, .summary = "no viridian change",
      .param = VPARAM_MASK, .feature_mask = MASK_4_7, .legacy_true_mask = HVMPV_base_freq,
      .guest_get_eperm = true, .hvm_nr_params = 37, .groups = GROUPS_4_7,
      .default_groups = DEFAULTS_4_7, .save = VSAVE_4_7, .vp_assist = VASSIST_4_7,
      .hcall_flush = true, .xen_leaf_limit = 4, .xen_leaf4 = LEAF4_4_6, .leaf6_eax = LEAF6 },
    { RELEASE(9), INTEL_HOST,
      .summary = "crash_ctl, in defaults; leaf 2 says 6.0 build 6002; the VP assist page is cleared",
      .param = VPARAM_MASK, .feature_mask = MASK_4_9, .legacy_true_mask = HVMPV_base_freq,
      .guest_get_eperm = true, .hvm_nr_params = 38, .groups = GROUPS_4_9,
      .default_groups = DEFAULTS_4_9, .save = VSAVE_4_7, .leaf2_ws2008 = true,
      .vp_assist = VASSIST_4_9, .crash = VCRASH_LOG, .hcall_flush = true,
      .xen_leaf_limit = 4, .xen_leaf4 = LEAF4_4_6, .leaf6_eax = LEAF6 },
    { RELEASE(10), INTEL_HOST, .summary = "Xen's leaves reach base+5",
      .param = VPARAM_MASK, .feature_mask = MASK_4_9, .legacy_true_mask = HVMPV_base_freq,
      .guest_get_eperm = true, .hvm_nr_params = 39, .groups = GROUPS_4_9,
      .default_groups = DEFAULTS_4_9, .save = VSAVE_4_7, .leaf2_ws2008 = true,
      .vp_assist = VASSIST_4_9, .crash = VCRASH_LOG, .hcall_flush = true,
      .xen_leaf_limit = 5, .xen_leaf4 = LEAF4_4_6, .leaf6_eax = LEAF6 },
    { RELEASE(11), INTEL_HOST, .summary = "unhandled viridian MSR writes fault; APIC assist reworked",
      .param = VPARAM_MASK, .feature_mask = MASK_4_9, .legacy_true_mask = HVMPV_base_freq,
      .guest_get_eperm = true, .hvm_nr_params = 39, .groups = GROUPS_4_9,
      .default_groups = DEFAULTS_4_9, .save = VSAVE_4_7, .leaf2_ws2008 = true,
      .wrmsr_unknown_gp = true, .vp_assist = VASSIST_4_11, .crash = VCRASH_LOG,
      .hcall_flush = true, .xen_leaf_limit = 5, .xen_leaf4 = LEAF4_4_11, .leaf6_eax = LEAF6 },
    { RELEASE(12), INTEL_HOST, SINCE_4_12, .summary = "CrashNotify sets the crash shutdown code",
      .feature_mask = MASK_4_9, .groups = GROUPS_4_9, .default_groups = DEFAULTS_4_9,
      .save = VSAVE_4_7, .xen_leaf4 = LEAF4_4_11 },
    { RELEASE(13), INTEL_HOST, SINCE_4_12,
      .summary = "synic, stimer, hcall_ipi; one offset for the counter and the TSC page",
      .feature_mask = MASK_4_13, .groups = GROUPS_4_13, .default_groups = DEFAULTS_4_9,
      .save = VSAVE_4_13, SYNIC_4_13, .synic_eom = true, .msg_hdr_4_13 = true,
      .xsa472 = true, .xen_leaf4 = LEAF4_4_11 },
    { RELEASE(14), INTEL_HOST, SINCE_4_12, .summary = "the reference TSC sequence may be 0xFFFFFFFF",
      .feature_mask = MASK_4_13, .groups = GROUPS_4_13, .default_groups = DEFAULTS_4_9,
      .save = VSAVE_4_13, SYNIC_4_13, .synic_eom = true, .ref_tsc_seq_all_ones = true,
      .xsa472 = true, .xen_leaf4 = LEAF4_4_11 },
    { RELEASE(15), INTEL_HOST, SINCE_4_15,
      .summary = "ex_processor_masks; no_vp_limit and cpu_hotplug, in defaults",
      .xsa472 = true, .xsa475 = true, .xen_leaf4 = LEAF4_4_11 },
    { RELEASE(16), INTEL_HOST, SINCE_4_15, .summary = "no viridian change",
      .xsa472 = true, .xsa475 = true, .xen_leaf4 = LEAF4_4_11 },
    { RELEASE(17), INTEL_HOST, SINCE_4_15, .summary = "Xen's leaf base+4 names the upcall vector",
      .xsa472 = true, .xsa475 = true, .xen_leaf4 = LEAF4_4_17 },
    { RELEASE(18), INTEL_HOST, SINCE_4_15,
      .summary = "SINT messages and IPIs skip a disabled local APIC",
      .xsa472 = true, .xsa475 = true, .irq_needs_apic = true, .xen_leaf4 = LEAF4_4_17 },
    { RELEASE(19), INTEL_HOST, SINCE_4_15, .summary = "no viridian change",
      .xsa472 = true, .xsa475 = true, .irq_needs_apic = true, .xen_leaf4 = LEAF4_4_17 },
    { RELEASE(20), INTEL_HOST, SINCE_4_15, .summary = "the crash log line says GUEST_CRASH",
      .xsa472 = true, .xsa475 = true, .irq_needs_apic = true, .crash_log_guest = true,
      .xen_leaf4 = LEAF4_4_17 },
    { RELEASE(21), INTEL_HOST, SINCE_4_15, .summary = "XSA-472 and XSA-475 fixed",
      .irq_needs_apic = true, .crash_log_guest = true, .xen_leaf4 = LEAF4_4_17 },
    { RELEASE(22), INTEL_HOST, SINCE_4_15,
      .summary = "a synthetic timer is never enabled with count 0",
      .irq_needs_apic = true, .crash_log_guest = true, .stimer_zero_count = true,
      .xen_leaf4 = LEAF4_4_17 },

    /* Linux 6.16 KVM with QEMU 10.1 as the VMM, on the same Intel hardware but with TSC
     * scaling (QEMU refuses a tsc-frequency the host cannot run otherwise, so a capture
     * with a foreign rate came from such a host). What it shares with Xen rows is what
     * KVM does alike: unknown MSR writes #GP (kvm_pr_unimpl_wrmsr), the reference
     * counter is the TSC page's arithmetic, a VP assist page write zeroes its first dword
     * only, SynIC and stimers with EOM re-delivery and the TLFS message header, the
     * flush, IPI and _EX hypercalls, a crash ends the guest (QEMU's -action
     * panic=shutdown), a synthetic timer never runs with count 0, and a disabled local
     * APIC takes no SINT or IPI. The rest is KVM's own (`vkvm` in the model). */
    { .name = "kvm", .tag = "Linux 6.16 + QEMU 10.1", .hypervisor = VHV_KVM,
      .summary = "Linux 6.16 KVM + QEMU 10.1: QEMU's hv-* CPU flags, KVM's MSR rules",
      .tsc_khz = 2000000, .cpu_khz = 2000000, .svm = false, .apic_reg_virt = false,
      .tsc_scaling = true, .tsc_reliable = true, .apic_bus_cycle_ns = KVM_APIC_BUS_CYCLE_NS,
      .param = VPARAM_HV_FLAGS, .feature_mask = KVM_CONFIG_BITS, .guest_get_eperm = true,
      .groups = ((1ull << VGROUP_COUNT) - 1) & ~((1ull << VGROUP_FIRST_KVM) - 1),
      .save = VSAVE_4_13, .restore = VRESTORE_QEMU, .wrmsr_unknown_gp = true,
      .trc_hv_scale = true, .ref_tsc_offset = true, .vp_assist = VASSIST_DWORD,
      .crash = VCRASH_SHUTDOWN, .hcall_flush = true, .hcall_ipi = true, .hcall_ex = true,
      .synic = true, .synic_eom = true, .irq_needs_apic = true, .stimer_zero_count = true },
};

#define NPROFILES (sizeof profiles / sizeof profiles[0])
#define NXEN (NPROFILES - 1)

const struct vprofile *vprofile_at(unsigned i)
{
    return i < NXEN ? &profiles[i] : NULL;
}

const struct vprofile *vprofile_host_at(unsigned i)
{
    return i < NPROFILES ? &profiles[i] : NULL;
}

const struct vprofile *vprofile_kvm(void)
{
    return &profiles[NXEN];
}

const struct vprofile *vprofile_find(const char *name)
{
    for (unsigned i = 0; i < NPROFILES; i++)
        if (strcmp(profiles[i].name, name) == 0)
            return &profiles[i];
    return NULL;
}

const struct vprofile *vprofile_of(unsigned major, unsigned minor)
{
    for (unsigned i = 0; i < NXEN; i++)
        if (profiles[i].xen_major == major && profiles[i].xen_minor == minor)
            return &profiles[i];
    return NULL;
}

const struct vprofile *vprofile_default(void)
{
    return &profiles[NXEN - 1];
}
