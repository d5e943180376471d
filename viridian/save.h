/* The model's part of a save stream, after Xen's HVM_PARAM_VIRIDIAN stream entry and
 * its VIRIDIAN_DOMAIN / VIRIDIAN_VCPU save records (xen/arch/x86/hvm/viridian.c). */
#ifndef VSBOX_VIRIDIAN_SAVE_H
#define VSBOX_VIRIDIAN_SAVE_H

#include <stdbool.h>
#include <stdint.h>
#include "viridian/event.h"
#include "viridian/model.h"

struct vsave_domain {             /* hvm_viridian_domain_context */
    uint64_t time_ref_count;      /* frozen at save, thawed at restore */
    uint64_t hypercall_gpa;
    uint64_t guest_os_id;
};

struct vsave_vcpu {               /* hvm_viridian_vcpu_context, plus the vlapic bits */
    uint64_t apic_assist;         /* the MSRs reach, which Xen saves with the vlapic */
    uint32_t icr, icr2, tpr;
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
    struct vsave_domain domain;
    struct vsave_vcpu vcpu[VMODEL_MAX_VCPUS];
};

/* legacy: write only the boolean, as a pre-4.5 toolstack did. */
void vmodel_save(const struct vmodel *m, bool legacy, struct vsave *out);

/* Restore onto a fresh domain of host `to`: the stream's value is set by the toolstack
 * under `to`'s HVM_PARAM_VIRIDIAN rules (xc_domain_restore), then the records load.
 * VRES_OK with *out, or VRES_REFUSED (nothing allocated) when `to` refuses the value;
 * VRES_EINVAL for a stream no host could have written (vcpus, tsc_khz out of range). */
enum vres_kind vmodel_restore(const struct vsave *s, const struct vprofile *to,
                              struct vmem_ops mem, struct vmodel **out);

/* The same, as a rewind to an earlier point of the same guest on its own host rather
 * than a migration: nothing moves, so the TSC incarnation stays as saved. */
enum vres_kind vmodel_rewind(const struct vsave *s, struct vmem_ops mem, struct vmodel **out);

/* The mask bits a host refuses in a value (0 when it takes it). */
uint64_t vprofile_refused_bits(const struct vprofile *host, uint64_t value);

/* Would a restore of s onto `to` go through, when the destination's own config has
 * already set HVM_PARAM_VIRIDIAN to dest_param (0: not set)? VRES_OK, VRES_REFUSED
 * (the host's rules refuse the stream's value) or VRES_EEXIST (the destination was built
 * with a different non-zero value, which the stream may not replace). When not OK, why
 * gets one line naming the value, the bits and their groups. */
enum vres_kind vrestore_check(const struct vsave *s, const struct vprofile *to,
                              uint64_t dest_param, char *why, size_t len);

#endif
