/* What a guest can observe of the viridian interface, captured before and after a
 * restore and compared by name: how vsbox reports a feature set changing under a
 * guest during migration. */
#ifndef VSBOX_VIRIDIAN_VISIBLE_H
#define VSBOX_VIRIDIAN_VISIBLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmodel;

#define VVISIBLE_MSRS 64

struct vvisible {
    const char *host;
    int hypervisor;               /* enum vhypervisor: whose own leaves are at xen_base */
    uint32_t own_sig[3];          /* the hypervisor's own leaf EBX-EDX ("XenVMMXenVMM") */
    uint32_t leaf[7][4];          /* viridian leaves 0x40000000-6 (zero without viridian) */
    uint32_t msr[VVISIBLE_MSRS];  /* the MSR numbers probed, vmsr_at() order */
    uint32_t xen_base;            /* where Xen's leaves are */
    uint32_t xen_max;             /* Xen leaf 0 EAX: its last leaf */
    uint32_t xen_version;         /* Xen leaf 1 EAX; on KVM its features (KVM_FEATURE_*) */
    uint32_t xen_leaf4;           /* Xen leaf base+4 EAX (HVM features), when it has one */
    bool wrmsr_unknown_gp;        /* an MSR write Xen has no handler for faults */
    bool crash_shutdown;          /* CrashNotify sets the crash shutdown code */
    uint32_t incarnation;         /* Xen time leaf EDX, when the host shows that leaf */
    bool time_leaf;               /* the host shows it (base+3 within base..xen_max) */
    bool msr_read[VVISIBLE_MSRS]; /* per vmsr_table() row: rdmsr works */
    bool msr_write[VVISIBLE_MSRS];
    uint64_t msr_value[VVISIBLE_MSRS];
    uint32_t tsc_khz;
    bool freq_told;               /* the guest has read HV_X64_MSR_TSC_FREQUENCY */
    uint64_t tsc;
    bool time_ref_readable;
    uint64_t time_ref;
    bool ref_tsc_on;              /* HV_X64_MSR_REFERENCE_TSC enabled */
    uint32_t ref_tsc_seq;         /* the page's sequence (0: invalid, use the MSR) */
    uint64_t ref_tsc_time;        /* ((RDTSC * scale) >> 64) + offset, read from the page */
};

enum vdiff_kind {
    VDIFF_NOTE,     /* visible but expected of any migration: Xen version, Xen's own leaves
                       appearing or vanishing with it, incarnation */
    VDIFF_CHANGE,   /* the feature set or time changed under the guest */
};

typedef void (*vdiff_fn)(void *ctx, enum vdiff_kind kind, const char *what);

void vmodel_visible(const struct vmodel *m, struct vvisible *out);

/* Calls fn once per difference, in a fixed order; returns the number of CHANGEs. A leaf
 * that is there on one side only is named as appeared or disappeared, never reported
 * as a value going to or from 0. */
unsigned vvisible_diff(const struct vvisible *before, const struct vvisible *after, vdiff_fn fn,
                       void *ctx);

#endif
