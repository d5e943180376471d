/* State shared by the model's files; not part of the public interface. */
#ifndef VSBOX_VIRIDIAN_INTERNAL_H
#define VSBOX_VIRIDIAN_INTERNAL_H

#include "viridian/clock.h"
#include "viridian/hvmpv.h"
#include "viridian/model.h"

struct vvcpu {
    uint32_t icr, icr2;     /* vlapic APIC_ICR / APIC_ICR2 as HV_X64_MSR_ICR writes them */
    uint32_t tpr;           /* vlapic APIC_TASKPRI */
    uint64_t apic_assist;   /* HV_X64_MSR_APIC_ASSIST_PAGE, raw */
};

/* Xen's struct viridian_time_ref_count: frozen value plus offset while running. */
struct vtrc {
    uint64_t val;
    int64_t off;
};

struct vmodel {
    const struct vprofile *host;
    uint32_t tsc_khz;
    uint32_t vcpus;
    struct vmem_ops mem;
    struct vtime_scale tsc_to_ns;

    uint64_t param;         /* params[HVM_PARAM_VIRIDIAN] */
    uint64_t guest_os_id;   /* HV_X64_MSR_GUEST_OS_ID, raw */
    uint64_t hypercall_gpa; /* HV_X64_MSR_HYPERCALL, raw */
    struct vtrc trc;
    uint64_t tsc;           /* the virtual clock */
    uint32_t incarnation;   /* Xen bumps it on every restore; CPUID time leaf reports it */
    bool freq_told;         /* the guest has read HV_X64_MSR_TSC_FREQUENCY: a later rate
                               change breaks what it was told (vsbox's, not Xen's state) */
    struct vvcpu vcpu[VMODEL_MAX_VCPUS];
};

/* Features in force, in 4.5 mask terms. */
uint64_t vmodel_features(const struct vmodel *m);

static inline bool viridian_enabled(const struct vmodel *m)
{
    return (vmodel_features(m) & HVMPV_base_freq) != 0;
}

/* Whether a group's MSRs and CPUID bits are exposed (see spec.h enum vgroup). */
bool vgroup_enabled(const struct vmodel *m, int group);

uint64_t vtime_ref_count(const struct vmodel *m);

/* The host's HVM_PARAM_VIRIDIAN rules for a toolstack write (Xen's do_hvm_op). */
enum vres_kind vparam_check(const struct vprofile *host, uint64_t current, uint64_t value,
                            bool from_guest);

#endif
