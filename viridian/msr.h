/* The one table of MSRs the model answers: the model, `vsbox msrs`, the fuzzer's
 * dictionary, the oracles, the narration and the docs all read it. A row is one MSR, or
 * a numbered range (HV_X64_MSR_SINT0..15, STIMER0..3_CONFIG) whose handlers get the
 * index. docs/msrs.md is generated from it (`vsbox docs`): every MSR, its group and its
 * behaviour on every host profile. */
#ifndef VSBOX_VIRIDIAN_MSR_H
#define VSBOX_VIRIDIAN_MSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmodel;
struct vprofile;

#define VMSR_ARCH (-1)    /* architectural: always present, gated by no group */
#define VMSR_UNGATED (-2) /* answered for every viridian guest, whatever the mask says */

struct vmsr_info {
    uint32_t msr;
    const char *name;    /* TLFS or SDM name; a range's has a %u for its index */
    uint32_t count;      /* 1, or the number of MSRs in a numbered range */
    uint32_t stride;     /* a range's step between MSR numbers */
    int gate;            /* enum vgroup whose bits it needs, VMSR_UNGATED or VMSR_ARCH */
    int group;           /* enum vgroup whose CPUID bit advertises it (VMSR_ARCH: none) */
    unsigned since;      /* first Xen 4.x release that answers it; 0: no Xen release */
    bool kvm;            /* Linux KVM answers it (kvm_hv_{get,set}_msr{,_pw}) */
    uint32_t cpuid3a;    /* CPUID 0x40000003 EAX bit that advertises it, or 0 */
    uint32_t cpuid3d;    /* CPUID 0x40000003 EDX bit that advertises it, or 0 */
    bool value_gp;       /* a write may #GP for its value (a SINT vector below 0x10) */
    bool unsaved;        /* no save record keeps it: a restore gives it back as at reset */
    const char *src;     /* Xen's file with its handler: "time.c" for viridian/time.c (see
                            vmsr_source()); "hvm.c" for the architectural ones */
    /* 0 on success, -1 for #GP. NULL: that direction has no case in Xen's handler. */
    int (*rd)(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val);
    int (*wr)(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val);
};

const struct vmsr_info *vmsr_table(size_t *n);
/* The row an MSR number falls in, with its index in a range; NULL for none. */
const struct vmsr_info *vmsr_find(uint32_t msr, uint32_t *idx);
/* "HV_X64_MSR_SINT3" */
void vmsr_name(const struct vmsr_info *row, uint32_t msr, char *buf, size_t len);
/* Every MSR number of every row, in table order (for enumeration). */
size_t vmsr_count(void);
uint32_t vmsr_at(size_t i);

/* The KVM host's CPU flag (enum vgroup) whose CPUID bit advertises the row, or -1 when
 * QEMU advertises it with any Hyper-V enlightenment (the hypercall MSRs). */
int vmsr_kvm_flag(const struct vmsr_info *row);

/* The Xen source file with the row's handler at the host's release, from the root of
 * xen.git: xen/arch/x86/hvm/viridian.c before 4.12, viridian/FILE from 4.12. */
void vmsr_source(const struct vmsr_info *row, const struct vprofile *host, char *buf,
                 size_t len);

/* Whether the host has a handler for the row at all (its Xen release, or KVM, has the
 * MSR). */
bool vmsr_in_release(const struct vmsr_info *row, const struct vprofile *host);

/* Whether the MSR has a handler in that direction for this domain now (a write Xen
 * drops for want of one, up to 4.10, does not count). */
bool vmodel_msr_handled(const struct vmodel *m, uint32_t msr, bool write);

/* Xen's own hypercall-page MSR (rdmsr/wrmsr_hypervisor_regs): 0x40000000, moved to
 * 0x40000200 when viridian is on. 0 on the KVM host, which has none. */
uint32_t vmodel_xen_msr_base(const struct vmodel *m);

#endif
