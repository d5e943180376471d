/* The viridian model: one Xen domain's HVM_PARAM_VIRIDIAN, synthetic CPUID leaves and
 * MSRs, hypercalls and virtual clock. No Unicorn, no I/O, no allocation after create. */
#ifndef VSBOX_VIRIDIAN_MODEL_H
#define VSBOX_VIRIDIAN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "viridian/event.h"
#include "viridian/profile.h"
#include "viridian/verr.h"

#define VMODEL_MAX_VCPUS 64u
#define VMODEL_TSC_KHZ_MIN 1000u
#define VMODEL_TSC_KHZ_MAX 100000000u

/* Guest-physical memory, as the embedder has it. Both return 0 on success and
 * -1 when any byte of the range is not guest RAM. Either may be NULL (no memory). */
struct vmem_ops {
    void *ctx;
    int (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
    int (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
};

struct vconfig {
    const struct vprofile *host;   /* NULL: vprofile_default() */
    uint64_t viridian;             /* HVM_PARAM_VIRIDIAN as the toolstack sets it at build; 0: off */
    uint32_t tsc_khz;              /* 0: the host's default */
    uint32_t vcpus;                /* 0: 1 */
    struct vmem_ops mem;
};

struct vmodel;

/* Validates the config against the host (VERR_BAD_MASK, VERR_BAD_TSC_KHZ, ...). */
enum verr vmodel_create(const struct vconfig *cfg, struct vmodel **out);
void vmodel_destroy(struct vmodel *m);

const struct vprofile *vmodel_host(const struct vmodel *m);
uint32_t vmodel_tsc_khz(const struct vmodel *m);
uint32_t vmodel_vcpus(const struct vmodel *m);
uint64_t vmodel_param(const struct vmodel *m);
/* The features in force, as a mask in 4.5 terms (a boolean host's 1 expanded). */
uint64_t vmodel_features(const struct vmodel *m);

/* Apply one event. Events naming a vCPU >= vcpus are refused with VRES_NONE and
 * a false return; every other event returns true with its result. */
bool vmodel_apply(struct vmodel *m, const struct vevent *ev, struct vres *res);

/* The individual operations, for callers that want no event struct. */
void vmodel_cpuid(struct vmodel *m, uint32_t vcpu, uint32_t leaf, uint32_t subleaf,
                  uint32_t regs[4]);
/* 0 on success, -1 for #GP. */
int vmodel_rdmsr(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint64_t *val);
int vmodel_wrmsr(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint64_t val);
/* Viridian hypercall (64-bit calling convention); -1 for #UD (no viridian). */
int vmodel_hypercall(struct vmodel *m, uint32_t vcpu, uint64_t rcx, uint64_t rdx,
                     uint64_t r8, uint64_t *rax);
enum vres_kind vmodel_param_set(struct vmodel *m, uint64_t value, bool from_guest);

/* The leaves vmodel_cpuid() answers: the hypervisor range 0x40000000-0x4fffffff. */
static inline bool vmodel_cpuid_owns(uint32_t leaf)
{
    return (leaf & 0xf0000000u) == 0x40000000u;
}

/* Save this domain and restore it on host `to`, as a migration would: the stream
 * carries HVM_PARAM_VIRIDIAN (legacy < 0) or only the boolean pre-4.5 Xen wrote
 * (legacy 0/1), and the viridian save records. The destination applies its own
 * HVM_PARAM_VIRIDIAN rules; VRES_REFUSED leaves the model as it was. */
enum vres_kind vmodel_migrate(struct vmodel *m, const struct vprofile *to, int legacy);

/* An independent copy with the same state (a save immediately restored on the same
 * host, without the incarnation bump a migration makes). NULL when out of memory. */
struct vmodel *vmodel_clone(const struct vmodel *m);

/* Virtual clock, in TSC ticks at tsc_khz. */
uint64_t vmodel_tsc(const struct vmodel *m);
void vmodel_advance(struct vmodel *m, uint64_t ticks);
void vmodel_set_tsc(struct vmodel *m, uint64_t tsc);

#endif
