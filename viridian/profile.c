#include "viridian/profile.h"

#include <string.h>
#include "viridian/hvmpv.h"
#include "viridian/spec.h"

#define G(g) (1u << (g))

/* One row per Xen release. Hardware fields describe the Intel host with APIC access
 * virtualisation, MSR bitmaps and HAP but no APIC register virtualisation that all
 * profiles share, so that only the Xen version differs between them. */
static const struct vprofile profiles[] = {
    {
        .name = "xen-4.3",
        .summary = "Xen 4.3: boolean viridian, base set only",
        .xen_major = 4, .xen_minor = 3,
        .param = VPARAM_BOOLEAN,
        .legacy_true_mask = HVMPV_base_freq | HVMPV_no_freq,
        .tsc_khz = 2000000,
        .cpu_khz = 2000000,
        .leaf6_eax = 0,          /* cpuid_viridian_leaves() has no case 6 yet */
        .xen_leaf_limit = 2,     /* the time leaf only with tsc_mode pvrdtscp */
    },
    {
        .name = "xen-4.4",
        .summary = "Xen 4.4: boolean viridian; the TSC/APIC frequency MSRs appear",
        .xen_major = 4, .xen_minor = 4,
        .param = VPARAM_BOOLEAN,
        .legacy_true_mask = HVMPV_base_freq,
        .tsc_khz = 2000000,
        .cpu_khz = 2000000,
        .leaf6_eax = CPUID6A_APIC_OVERLAY | CPUID6A_MSR_BITMAPS | CPUID6A_NESTED_PAGING,
        .xen_leaf_limit = 2,
    },
    {
        .name = "xen-4.5",
        .summary = "Xen 4.5: HVM_PARAM_VIRIDIAN is a feature mask; time_ref_count",
        .xen_major = 4, .xen_minor = 5,
        .param = VPARAM_MASK,
        .feature_mask = HVMPV_base_freq | HVMPV_no_freq | HVMPV_time_ref_count,
        .groups = G(VGROUP_BASE) | G(VGROUP_FREQ) | G(VGROUP_TIME_REF_COUNT),
        .default_groups = G(VGROUP_BASE) | G(VGROUP_FREQ) | G(VGROUP_TIME_REF_COUNT),
        .legacy_true_mask = HVMPV_base_freq,
        .tsc_khz = 2000000,
        .cpu_khz = 2000000,
        .svm = false,
        .apic_reg_virt = false,
        .leaf6_eax = CPUID6A_APIC_OVERLAY | CPUID6A_MSR_BITMAPS | CPUID6A_NESTED_PAGING,
        .xen_leaf_limit = XEN_CPUID_MAX_NUM_LEAVES,
    },
};

const struct vprofile *vprofile_at(unsigned i)
{
    return i < sizeof profiles / sizeof profiles[0] ? &profiles[i] : NULL;
}

const struct vprofile *vprofile_find(const char *name)
{
    for (unsigned i = 0; vprofile_at(i); i++)
        if (strcmp(profiles[i].name, name) == 0)
            return &profiles[i];
    return NULL;
}

const struct vprofile *vprofile_default(void)
{
    return vprofile_find("xen-4.5");
}
