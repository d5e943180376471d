/* Host profiles: one row per Xen release vsbox can pretend to be. */
#ifndef VSBOX_VIRIDIAN_PROFILE_H
#define VSBOX_VIRIDIAN_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

enum vparam_kind {
    VPARAM_BOOLEAN, /* Xen < 4.5: HVM_PARAM_VIRIDIAN is 0 or 1, "a.value > 1" is EINVAL */
    VPARAM_MASK,    /* Xen >= 4.5: the feature mask with set-once rules */
};

struct vprofile {
    const char *name;          /* "xen-4.5" */
    const char *summary;
    unsigned xen_major, xen_minor;
    enum vparam_kind param;
    uint32_t feature_mask;     /* HVMPV_feature_mask of that release */
    uint32_t groups;           /* bit g set: group g (enum vgroup) exists in its libxl */
    uint32_t default_groups;   /* what "defaults" (and boolean true) enables */
    uint32_t legacy_true_mask; /* what a boolean 1 means, as a mask in 4.5 terms */
    uint32_t tsc_khz;          /* default guest TSC frequency */
    uint32_t cpu_khz;          /* physical CPU frequency (Xen time leaf 3, subleaf 2) */
    bool svm;                  /* AMD host: VMMCALL in the hypercall page, else VMCALL */
    bool apic_reg_virt;        /* cpu_has_vmx_apic_reg_virt: clears CPUID4A_MSR_BASED_APIC */
    uint32_t leaf6_eax;        /* hardware features in use (CPUID 0x40000006); 0 before 4.4 */
    uint32_t xen_leaf_limit;   /* Xen's own leaves: base+0 .. base+limit */
};

/* NULL when no profile has that name. */
const struct vprofile *vprofile_find(const char *name);
/* The i-th profile, NULL past the end. */
const struct vprofile *vprofile_at(unsigned i);
const struct vprofile *vprofile_default(void);

#endif
