/* The one table of MSRs the model answers: the model, `vsbox msrs`, the fuzzer's
 * dictionary and docs/msrs.md all read it. */
#ifndef VSBOX_VIRIDIAN_MSR_H
#define VSBOX_VIRIDIAN_MSR_H

#include <stddef.h>
#include <stdint.h>

struct vmodel;

#define VMSR_ARCH (-1)   /* architectural: always present, gated by no group */

struct vmsr_info {
    uint32_t msr;
    const char *name;    /* TLFS or SDM name */
    int group;           /* enum vgroup, or VMSR_ARCH */
    uint32_t cpuid3a;    /* CPUID 0x40000003 EAX bit that advertises it; 0 for none */
    /* 0 on success, -1 for #GP. NULL: that direction is a #GP (Xen has no case for it). */
    int (*rd)(struct vmodel *m, uint32_t vcpu, uint64_t *val);
    int (*wr)(struct vmodel *m, uint32_t vcpu, uint64_t val);
};

const struct vmsr_info *vmsr_table(size_t *n);
const struct vmsr_info *vmsr_find(uint32_t msr);

/* Xen's own hypercall-page MSR (rdmsr/wrmsr_hypervisor_regs): 0x40000000, moved to
 * 0x40000200 when viridian is on. */
uint32_t vmodel_xen_msr_base(const struct vmodel *m);

#endif
