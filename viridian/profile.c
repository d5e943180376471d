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
        .name = "xen-4.5",
        .summary = "Xen 4.5: HVM_PARAM_VIRIDIAN is a feature mask (the seed patch)",
        .xen_major = 4, .xen_minor = 5,
        .param = VPARAM_MASK,
        .feature_mask = HVMPV_base_freq | HVMPV_no_freq,
        .groups = G(VGROUP_BASE) | G(VGROUP_FREQ),
        .default_groups = G(VGROUP_BASE) | G(VGROUP_FREQ),
        .legacy_true_mask = HVMPV_base_freq,
        .tsc_khz = 2000000,
        .cpu_khz = 2000000,
        .svm = false,
        .apic_reg_virt = false,
        .leaf6_eax = CPUID6A_APIC_OVERLAY | CPUID6A_MSR_BITMAPS | CPUID6A_NESTED_PAGING,
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
