/* Viridian groups, and group specs as xl.cfg's `viridian = [ "all", "!freq" ]` and the
 * CLI's `--viridian all,!freq` write them, turned into an HVM_PARAM_VIRIDIAN value the
 * way libxl's hvm_set_viridian_features() does at the host's release. On the KVM host the
 * groups are QEMU's CPU flags (`--hv hv-relaxed,hv-vapic,hv-time`), turned into the
 * host's configuration value (hvkvm.h) the way QEMU's kvm_hyperv_expand_features() checks
 * them.
 *
 * The group table is the one place a group's name, bit, CPUID advertisement and first
 * release are written: the model's CPUID leaves, `vsbox msrs`, `vsbox hosts`, the names
 * --viridian and --hv accept and the docs all read it. */
#ifndef VSBOX_VIRIDIAN_SPEC_H
#define VSBOX_VIRIDIAN_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "viridian/profile.h"
#include "viridian/verr.h"

/* libxl_viridian_enlightenment, in its order (the index is the HVMPV bit for all but
 * freq, which maps to the absence of HVMPV_no_freq); then QEMU's CPU flags for the KVM
 * host, hv-* in enum hyperv_feat order and the other -cpu options after them. */
enum vgroup {
    VGROUP_BASE,
    VGROUP_FREQ,
    VGROUP_TIME_REF_COUNT,
    VGROUP_REFERENCE_TSC,
    VGROUP_HCALL_REMOTE_TLB_FLUSH,
    VGROUP_APIC_ASSIST,
    VGROUP_CRASH_CTL,
    VGROUP_SYNIC,
    VGROUP_STIMER,
    VGROUP_HCALL_IPI,
    VGROUP_EX_PROCESSOR_MASKS,
    VGROUP_NO_VP_LIMIT,
    VGROUP_CPU_HOTPLUG,
    VGROUP_HV_RELAXED,
    VGROUP_HV_VAPIC,
    VGROUP_HV_TIME,
    VGROUP_HV_CRASH,
    VGROUP_HV_RESET,
    VGROUP_HV_VPINDEX,
    VGROUP_HV_RUNTIME,
    VGROUP_HV_SYNIC,
    VGROUP_HV_STIMER,
    VGROUP_HV_FREQUENCIES,
    VGROUP_HV_REENLIGHTENMENT,
    VGROUP_HV_TLBFLUSH,
    VGROUP_HV_EVMCS,
    VGROUP_HV_IPI,
    VGROUP_HV_STIMER_DIRECT,
    VGROUP_HV_AVIC,
    VGROUP_HV_SYNDBG,
    VGROUP_HV_EMSR_BITMAP,
    VGROUP_HV_XMM_INPUT,
    VGROUP_HV_TLBFLUSH_EXT,
    VGROUP_HV_TLBFLUSH_DIRECT,
    VGROUP_HV_NO_NONARCH_CS,
    VGROUP_HV_ENFORCE_CPUID,
    VGROUP_HV_PASSTHROUGH,
    VGROUP_KVM_HIDDEN,
    VGROUP_KVM_PV_UNHALT,
    VGROUP_KVM_PV_TLB_FLUSH,
    VGROUP_KVM_PV_IPI,
    VGROUP_KVM_POLL_CONTROL,
    VGROUP_KVM_PV_SCHED_YIELD,
    VGROUP_KVM_MSI_EXT_DEST_ID,
    VGROUP_COUNT
};

/* The first KVM row, for loops over one hypervisor's rows. */
#define VGROUP_FIRST_KVM VGROUP_HV_RELAXED

struct vgroup_info {
    const char *name;      /* libxl_viridian_enlightenment string; QEMU's CPU flag */
    uint32_t hvmpv;        /* the HVM_PARAM_VIRIDIAN bit it stands for (base: HVMPV_base_freq;
                              freq: 0, it clears HVMPV_no_freq); on KVM the bit of the
                              host's configuration value (hvkvm.h KVM_FEAT_*, KVM_OPT_*) */
    uint32_t implies;      /* bits libxl sets along with it, silently (stimer) */
    unsigned since;        /* first Xen 4.x release whose libxl has the name (0: KVM's) */
    uint32_t leaf3a;       /* CPUID 0x40000003 EAX bits it advertises (CPUID3A_*) */
    uint32_t leaf3d;       /* CPUID 0x40000003 EDX bits (CPUID3D_*) */
    uint32_t leaf4a;       /* CPUID 0x40000004 EAX bits (CPUID4A_*) */
    bool leaf5_no_limit;   /* CPUID 0x40000005 EAX = 0xFFFFFFFF */
    bool documented;       /* in xl.cfg(5); synic is deliberately not (commit a85089d0ef) */
    const char *commit;    /* the Xen commit that added it */
    const char *summary;
    /* KVM rows (hypervisor VHV_KVM) only: */
    enum vhypervisor hypervisor;
    uint64_t requires;     /* groups QEMU refuses it without (kvm_hyperv_properties
                              .dependencies, and synic's hv-vpindex) */
    uint32_t leaf3b;       /* CPUID 0x40000003 EBX bits */
    uint32_t leafaa;       /* CPUID 0x4000000A EAX bits (nested features) */
    uint32_t kvm_features; /* KVM's own leaf base+1 EAX bits (KVM_FEATURE_*) */
    bool passthrough;      /* hv-passthrough turns it on: Linux 6.16's kvm_get_hv_cpuid()
                              has its bits and QEMU does not skip it (syndbg) */
    const char *desc;      /* QEMU's words for it in its errors */
};

const struct vgroup_info *vgroup_info(enum vgroup g);
/* The group named name[0..len), case-insensitively as libxl's enum_from_string()
 * (strcasecmp); -1 when no release has it. */
int vgroup_by_name(const char *name, size_t len);

/* The HVM_PARAM_VIRIDIAN value libxl writes for a set of enabled groups (bit g:
 * enum vgroup g), at a mask host; KVM rows give the KVM host's configuration bits. */
uint64_t vgroups_to_mask(uint64_t enabled);

struct vspec_error {
    enum verr code;
    size_t col;            /* 0-based offset into the spec text of the offending item */
    char item[32];         /* the group name involved, for the message */
    int group, needs;      /* VERR_HV_REQUIRES: the row and the one it lacks */
    bool kvm;              /* the spec was the KVM host's CPU flags */
};

/* Parse a spec: "all,!freq", "defaults", "0", "1", "true", "false", or the xl list
 * literal `[ "all", "!freq" ]`. The host decides which groups exist and what
 * "defaults" means. */
enum verr vspec_parse(const struct vprofile *host, const char *spec, uint64_t *mask,
                      struct vspec_error *err);

/* Same, from list items already split (xl.cfg lists). item_cols may be NULL. */
enum verr vspec_from_items(const struct vprofile *host, const char *const *items,
                           size_t n, uint64_t *mask, struct vspec_error *err);

/* The one-line libxl-style message for a failed parse, into buf. */
void vspec_strerror(const struct vspec_error *err, char *buf, size_t len);

/* Canonical spec text for a mask ("base,freq,time_ref_count", "0", "0x3f"; on KVM
 * "hv-relaxed,hv-vapic,hv-spinlocks=0x1fff"), for trace headers and reports; parsing it
 * on the same host gives the mask back. */
void vspec_format(const struct vprofile *host, uint64_t mask, char *buf, size_t len);

/* The groups a mask enables (bit g: enum vgroup g), for naming what a guest has: Xen's
 * for an HVM_PARAM_VIRIDIAN value. */
uint64_t vmask_groups(uint64_t mask);
/* The same on a given host: a KVM host's configuration names KVM rows. */
uint64_t vhost_mask_groups(const struct vprofile *host, uint64_t mask);

/* Whether the KVM host takes this configuration (QEMU's dependency checks); when not,
 * the first unmet dependency as QEMU finds it (the row that needs it and the row it
 * needs). */
bool vkvm_config_ok(uint64_t mask, int *group, int *needs);

/* hv-spinlocks of a KVM configuration (HYPERV_SPINLOCK_NEVER_NOTIFY: QEMU's default). */
uint32_t vkvm_spinlocks(uint64_t mask);

/* A group set closed under what it needs (KVM's requires, libxl's implies are bits
 * already): with `on`, g and everything g needs; without, g and everything needing g. */
uint64_t vgroups_flip(const struct vprofile *host, uint64_t enabled, int g, bool on);

#endif
