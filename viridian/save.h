/* The model's part of a save stream, after Xen's HVM_PARAM_VIRIDIAN stream entry and
 * its VIRIDIAN_DOMAIN (type 15) / VIRIDIAN_VCPU (type 17) save records, whose layout
 * each release defines (public/arch-x86/hvm/save.h, enum vsave_layout). */
#ifndef VSBOX_VIRIDIAN_SAVE_H
#define VSBOX_VIRIDIAN_SAVE_H

#include <stdbool.h>
#include <stdint.h>
#include "viridian/event.h"
#include "viridian/model.h"

struct vsave_domain {             /* hvm_viridian_domain_context */
    uint64_t hypercall_gpa;
    uint64_t guest_os_id;
    uint64_t time_ref_count;      /* 4.5+: frozen at the pause before the save */
    uint64_t reference_tsc;       /* 4.6+: the MSR */
};

struct vsave_vcpu {               /* hvm_viridian_vcpu_context */
    uint64_t vp_assist_msr;       /* apic_assist (4.3-4.6) / vp_assist_msr */
    uint8_t apic_assist;          /* 4.7+: the assisted vector (4.7-4.10) or pending (4.11+) */
    uint64_t simp_msr;            /* 4.13+ */
    uint64_t sint_msr[16];
    uint64_t stimer_config_msr[4];
    uint64_t stimer_count_msr[4];
    uint32_t icr, icr2, tpr;      /* the model's own APIC copies (Xen saves them with the
                                     vlapic; with the platform's APIC they are its) */
};

struct vsave {
    char host[32];                /* the source profile */
    int legacy;                   /* -1: mask stream; 0/1: only the boolean (pre-4.5) */
    uint64_t param;               /* HVM_PARAM_VIRIDIAN as the stream carries it */
    uint32_t tsc_khz;             /* the guest's rate travels with it (Xen's tsc_info) */
    uint32_t vcpus;
    uint64_t tsc;
    uint32_t incarnation;
    bool freq_told;
    bool records;                 /* Xen writes no viridian records without viridian */
    enum vsave_layout layout;     /* the source release's record layout */
    struct vsave_domain domain;
    struct vsave_vcpu vcpu[VMODEL_MAX_VCPUS];
    /* Not in the stream: the HVM_PARAM_VIRIDIAN the destination's libxl set from its own
     * config at build (libxl__build_pre), before the stream's is applied; 0 for none.
     * vmodel_restore() follows it; snapshot files never carry it. */
    uint64_t dest_param;
};

/* Record sizes of a layout, as hvm_save_entry() writes them. */
uint32_t vsave_domain_size(enum vsave_layout l);
uint32_t vsave_vcpu_size(enum vsave_layout l);
/* The layout whose records have these sizes; -1 for none. */
int vsave_layout_of(uint32_t domain_size, uint32_t vcpu_size);

/* legacy: write only the boolean, as a pre-4.5 toolstack did. A save is taken with the
 * domain paused: the counter's value is the one frozen at the pause (or now, if the
 * caller never paused). */
void vmodel_save(const struct vmodel *m, bool legacy, struct vsave *out);

/* Restore onto a fresh domain of host `to`: the stream's value is set by the toolstack
 * under `to`'s HVM_PARAM_VIRIDIAN rules (xc_domain_restore), the records load under its
 * load rules into a paused domain (with memory already in place: the pages Xen maps at
 * load are written then), and the domain is unpaused. VRES_OK with *out, VRES_REFUSED
 * (nothing allocated) when `to` refuses the value or cannot load the records, VRES_EINVAL
 * for a stream no host could have written (vcpus, tsc_khz out of range). */
enum vres_kind vmodel_restore(const struct vsave *s, const struct vprofile *to,
                              struct vmem_ops mem, struct vmodel **out);

/* The same, as a rewind to an earlier point of the same guest on its own host rather
 * than a migration: nothing moves, so the TSC incarnation stays as saved. */
enum vres_kind vmodel_rewind(const struct vsave *s, struct vmem_ops mem, struct vmodel **out);

/* The mask bits a host refuses in a value (0 when it takes it). */
uint64_t vprofile_refused_bits(const struct vprofile *host, uint64_t value);

/* The HVM_PARAM_VIRIDIAN a restore of s onto `to` ends with when the destination was
 * built with dest_param (0: none), by `to`'s toolstack (enum vrestore_kind): VRES_OK and
 * *param, with *ignored the result of a set the legacy restore ignored (VRES_OK when the
 * set took); or the refusal (VRES_EINVAL, VRES_EEXIST) that fails a 4.6+ restore. */
enum vres_kind vrestore_param(const struct vsave *s, const struct vprofile *to,
                              uint64_t dest_param, uint64_t *param, enum vres_kind *ignored);

/* Whether a restore of s onto `to` moves the guest between hypervisors (Xen <-> KVM):
 * no stream could do that; vsbox answers what the guest would see change, with the
 * destination's own configuration or, without one, the closest to the source's
 * (viridian/suggest.h), and the records' MSR values carried over. */
bool vrestore_crosses(const struct vsave *s, const struct vprofile *to);

/* Would a restore of s onto `to` go through, when the destination's own config has
 * already set HVM_PARAM_VIRIDIAN to dest_param (0: not set)? VRES_OK, VRES_REFUSED
 * (the host's rules refuse the stream's value, or it cannot load the records) or
 * VRES_EEXIST (the destination was built with a different non-zero value, which the
 * stream may not replace). When not OK, why gets one line naming the value, the bits
 * and their groups, or the record; when OK, it is empty or a note on what a legacy
 * restore did instead (4.3-4.5 ignore a refused value). */
enum vres_kind vrestore_check(const struct vsave *s, const struct vprofile *to,
                              uint64_t dest_param, char *why, size_t len);

#endif
