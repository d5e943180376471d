/* Host profiles: one row per hypervisor release vsbox can pretend to be
 * (viridian/profile.c): every Xen release 4.3-4.22, then Linux KVM with QEMU. A row says
 * what that release's hypervisor accepts, what its toolstack calls the groups (libxl's
 * viridian groups, QEMU's hv-* CPU flags) and turns on by default, how it lays out the
 * viridian save records, and each place where its behaviour differs from a neighbour's.
 * Adding a release is one row. */
#ifndef VSBOX_VIRIDIAN_PROFILE_H
#define VSBOX_VIRIDIAN_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

/* Which hypervisor a row is: it decides which rows of the group table (spec.h) and the
 * MSR table (msr.h) apply, and which of Xen's or KVM's rules the model follows. */
enum vhypervisor {
    VHV_XEN,
    VHV_KVM,        /* Linux KVM with QEMU as its VMM (docs/kvm-import.md) */
};

enum vparam_kind {
    VPARAM_BOOLEAN, /* Xen < 4.5: HVM_PARAM_VIRIDIAN is 0 or 1, "a.value > 1" is EINVAL */
    VPARAM_MASK,    /* Xen >= 4.5: the feature mask with set-once rules */
    VPARAM_HV_FLAGS,/* KVM: QEMU's hv-* CPU flags as vsbox encodes them (spec.h KVM_*), set
                       once by the VMM before the guest runs */
};

/* hvm_viridian_{domain,vcpu}_context at the release tag (public/arch-x86/hvm/save.h). */
enum vsave_layout {
    VSAVE_4_3,      /* domain {hypercall_gpa, guest_os_id}; vcpu {apic_assist} */
    VSAVE_4_5,      /* domain + time_ref_count */
    VSAVE_4_6,      /* domain + reference_tsc */
    VSAVE_4_7,      /* vcpu {vp_assist_msr, u8 assist vector/pending, u8 _pad[7]} */
    VSAVE_4_13,     /* vcpu + simp_msr, sint_msr[16], stimer_config_msr[4], stimer_count_msr[4] */
};

/* What the destination's toolstack does with the stream's HVM_PARAM_VIRIDIAN. */
enum vrestore_kind {
    VRESTORE_V2,      /* 4.6+ handle_hvm_params() (xc_sr_restore_x86_hvm.c): a refused
                         xc_hvm_param_set() fails the restore */
    VRESTORE_BOOL,    /* 4.3-4.4 xc_domain_restore(): "if (pagebuf.viridian != 0)
                         xc_set_hvm_param(..., HVM_PARAM_VIRIDIAN, 1)", result ignored */
    VRESTORE_IGNORED, /* 4.5 xc_domain_restore(): sets the stream's value, result ignored:
                         a refused value leaves the destination's own */
    VRESTORE_QEMU,    /* QEMU: the destination's own -cpu flags decide CPUID; the stream
                         carries the Hyper-V MSRs' values only (kvm_put_msrs) */
};

/* What HV_X64_MSR_VP_ASSIST_PAGE does with its page (viridian.c/synic.c). */
enum vassist_kind {
    VASSIST_DWORD,  /* 4.3-4.6: a write zeroes the first dword; Xen never uses the page */
    VASSIST_4_7,    /* 4.7-4.8: zeroes the first dword; kept for APIC assist only with
                       HVMPV_apic_assist; the pending assist is a vector; reloaded on restore */
    VASSIST_4_9,    /* 4.9-4.10: clears the page, always kept; pending assist is a vector */
    VASSIST_4_11,   /* 4.11+: clears the page; pending assist is a flag */
};

/* What HV_X64_MSR_CRASH_CTL with CrashNotify does. */
enum vcrash_kind {
    VCRASH_NONE,    /* < 4.9: no crash MSRs */
    VCRASH_LOG,     /* 4.9-4.11: "VIRIDIAN CRASH: ..." in the log, nothing else */
    VCRASH_SHUTDOWN,/* 4.12+: also d->shutdown_code = SHUTDOWN_crash (commit c217412e9d) */
};

struct vprofile {
    const char *name;          /* "xen-4.13", "kvm" */
    const char *tag;           /* "RELEASE-4.13.0": what the row was read from */
    enum vhypervisor hypervisor;
    const char *summary;       /* what changed for viridian guests in this release */
    unsigned xen_major, xen_minor;

    /* The hypervisor's HVM_PARAM_VIRIDIAN (hvm.c, params.h). */
    enum vparam_kind param;
    uint32_t feature_mask;     /* HVMPV_feature_mask */
    uint32_t legacy_true_mask; /* what a boolean 1 means, as a mask in 4.5 terms */
    bool guest_get_eperm;      /* hvm_allow_get_param() (4.6+) refuses the guest's read */
    uint32_t hvm_nr_params;    /* HVM_NR_PARAMS */

    /* Its toolstack: the group names it accepts (libxl's viridian groups, QEMU's CPU flags),
     * and "defaults" (bit g: enum vgroup g). */
    uint64_t groups;
    uint64_t default_groups;

    enum vsave_layout save;
    enum vrestore_kind restore;

    /* Behaviour changes, each named where the code that reads it cites the source. */
    bool leaf2_ws2008;         /* leaf 2 is 6.0 build 0x1772, not Xen's version (4.9+) */
    bool wrmsr_unknown_gp;     /* an unhandled WRMSR faults (4.11+) instead of being dropped */
    bool trc_hv_scale;         /* TIME_REF_COUNT = (tsc * scale) >> 64 + offset (4.13+,
                                  5a82d598d2), not scale_delta(tsc) / 100 + offset */
    bool ref_tsc_offset;       /* the reference TSC page carries the counter's offset and is
                                  refreshed on thaw (4.13+) rather than only on load */
    bool ref_tsc_seq_all_ones; /* the sequence may be 0xFFFFFFFF (4.14+, c9d9b5f4c9) */
    enum vassist_kind vp_assist;
    enum vcrash_kind crash;
    bool crash_log_guest;      /* the log says "VIRIDIAN GUEST_CRASH" (4.20+) */
    bool hcall_flush;          /* HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE/LIST (4.7+) */
    bool hcall_ipi;            /* HVCALL_SEND_IPI (4.13+) */
    bool hcall_ex;             /* the _EX hypercalls and sparse vpsets (4.15+) */
    bool synic;                /* SynIC and synthetic timer MSRs (4.13+) */
    bool synic_eom;            /* 4.13-4.14: a busy slot sets MessagePending, EOM re-arms */
    bool msg_hdr_4_13;         /* 4.13's HV_MESSAGE_HEADER: flags at byte 6, payload size at
                                  byte 7; 4.14+ (hyperv-tlfs.h) and the TLFS: size 4, flags 5 */
    bool irq_needs_apic;       /* SINT and IPI delivery skip a disabled vLAPIC (4.18+) */
    bool stimer_zero_count;    /* CONFIG write and load refuse enable with count 0 (4.22+) */
    bool xsa472;               /* 4.13-4.20: an expiring timer with no SIM page dereferences
                                  NULL (XSA-472, fixed in 4.21) */
    bool xsa475;               /* 4.15-4.20: IPI/vpset masks past the vCPUs read out of
                                  bounds (XSA-475, fixed in 4.21) */

    /* Xen's own leaves (cpuid_hypervisor_leaves). */
    uint32_t xen_leaf_limit;   /* XEN_CPUID_MAX_NUM_LEAVES (2 before 4.5: no time leaf) */
    uint32_t xen_leaf4;        /* XEN_HVM_CPUID_* flags leaf base+4 sets on this host */

    /* The hardware all profiles share, so that only the Xen version differs. */
    uint32_t tsc_khz;          /* default guest TSC frequency */
    uint32_t cpu_khz;          /* physical CPU frequency (Xen time leaf 3, subleaf 2) */
    bool svm;                  /* AMD host: VMMCALL in the hypercall page, else VMCALL */
    bool apic_reg_virt;        /* cpu_has_vmx_apic_reg_virt: clears CPUID4A_MSR_BASED_APIC */
    uint32_t apic_bus_cycle_ns;/* HV_X64_MSR_APIC_FREQUENCY = 1e9 / this; 0: Xen's 10 */
    bool tsc_scaling;          /* hvm_get_tsc_scaling_ratio(): a foreign tsc_khz runs natively */
    bool tsc_reliable;         /* host_tsc_is_safe(): X86_FEATURE_TSC_RELIABLE */
    uint32_t leaf6_eax;        /* hardware features in use (CPUID 0x40000006); 0 before 4.4 */
};

/* NULL when no profile has that name. */
const struct vprofile *vprofile_find(const char *name);
/* The i-th Xen release, oldest first; NULL past the end. */
const struct vprofile *vprofile_at(unsigned i);
/* The i-th profile of every hypervisor: the Xen releases, then KVM; NULL past the end. */
const struct vprofile *vprofile_host_at(unsigned i);
/* The newest Xen release. */
const struct vprofile *vprofile_default(void);
/* The KVM host (Linux KVM with QEMU). */
const struct vprofile *vprofile_kvm(void);
/* The profile of a Xen 4.x release, NULL when none. */
const struct vprofile *vprofile_of(unsigned major, unsigned minor);

#endif
