/* Why the model answers an event as it does: the rule that decided it, the group and
 * mask bit it turned on, and the Xen source file the rule comes from. The rules are
 * those the model applies (the MSR gates in msr.c, the parameter's in model.c), named
 * here once with their citation, so that the narration (`vsbox demo`, `--explain`) says
 * what the code did rather than a second account of it. */
#ifndef VSBOX_VIRIDIAN_WHY_H
#define VSBOX_VIRIDIAN_WHY_H

#include <stdbool.h>
#include <stdint.h>
#include "viridian/event.h"

struct vmodel;
struct vprofile;
struct vmsr_info;

enum vrule {
    VRULE_NONE,
    /* RDMSR / WRMSR */
    VRULE_MSR_ARCH,         /* architectural, derived from the model's state */
    VRULE_MSR_NONE,         /* no viridian MSR has that number */
    VRULE_MSR_XEN,          /* Xen's own hypercall-page MSR */
    VRULE_MSR_VIRIDIAN_OFF, /* viridian is off: no synthetic MSR has a handler */
    VRULE_MSR_NOT_YET,      /* the host's release has no handler for it yet */
    VRULE_MSR_GATE_CLOSED,  /* its group is off in HVM_PARAM_VIRIDIAN */
    VRULE_MSR_GATE_OPEN,    /* its group is on: its handler answers */
    VRULE_MSR_UNGATED,      /* answered for every viridian guest, whatever the mask */
    VRULE_MSR_KVM,          /* KVM: answered once any enlightenment is on, whatever CPUID says */
    VRULE_MSR_KVM_ENFORCED, /* KVM with hv-enforce-cpuid: answered when CPUID advertises it */
    VRULE_MSR_KVM_REFUSED,  /* KVM with hv-enforce-cpuid: not advertised, so #GP */
    /* CPUID */
    VRULE_CPUID_VIRIDIAN,   /* a viridian leaf, its bits from the groups in force */
    VRULE_CPUID_XEN,        /* one of Xen's own leaves */
    VRULE_CPUID_EMPTY,      /* a leaf of the range nobody fills */
    VRULE_CPUID_KVM_HV,     /* KVM host: a Hyper-V leaf as QEMU fills it from the hv-* flags */
    VRULE_CPUID_KVM,        /* KVM host: KVM's own leaves */
    VRULE_CPUID_KVM_EMPTY,  /* KVM host: a leaf nobody fills */
    /* HVM_PARAM_VIRIDIAN */
    VRULE_PARAM_GUEST,      /* a guest may not set it: EPERM */
    VRULE_PARAM_SET_ONCE,   /* already set to another value: EEXIST */
    VRULE_PARAM_BAD_MASK,   /* bits outside HVMPV_feature_mask, or no base: EINVAL */
    VRULE_PARAM_BOOLEAN,    /* a boolean host takes only 0 and 1: EINVAL above */
    VRULE_PARAM_TAKEN,      /* accepted */
    VRULE_PARAM_GET,        /* a read: the toolstack may; a guest only before 4.6 */
    /* the rest */
    VRULE_RDTSC,
    VRULE_HYPERCALL,
    VRULE_HYPERCALL_UD,     /* no viridian: VMCALL is not Xen's viridian hypercall */
    VRULE_ADVANCE,
    VRULE_MIGRATE,
    VRULE_POLL,
    VRULE_COUNT
};

struct vrule_info {
    const char *text;       /* the rule, in a few words */
    const char *src;        /* Xen source file (from xen.git's root) or NULL: see src_viridian */
    bool src_viridian;      /* the file is the viridian code's own: xen/arch/x86/hvm/viridian.c
                               before 4.12, viridian/viridian.c from 4.12 */
};

const struct vrule_info *vrule_info(enum vrule r);

struct vwhy {
    enum vrule rule;
    int group;                     /* enum vgroup the rule turned on, or -1 */
    const struct vmsr_info *msr;   /* the MSR's row, or NULL */
    char src[64];                  /* the Xen source file, at the host's release */
};

/* Why m answers ev. Ask before applying ev: only a parameter write depends on the state
 * the event itself changes (the value already set). */
void vmodel_why(const struct vmodel *m, const struct vevent *ev, struct vwhy *out);

/* The rule that picks who answers a CPUID leaf (cpuid.c). */
enum vrule vmodel_cpuid_rule(const struct vmodel *m, uint32_t leaf);
/* The rule the MSR gates apply to msr on this domain now (msr.c). */
enum vrule vmodel_msr_rule(const struct vmodel *m, uint32_t msr);
/* The rule HVM_PARAM_VIRIDIAN's write check applies (model.c), and its result. */
enum vrule vparam_rule(const struct vprofile *host, uint64_t current, uint64_t value,
                       bool from_guest);

#endif
