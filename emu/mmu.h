/* Guest memory as the CPU addresses it, for the places where vsbox itself acts as the
 * CPU: delivering exceptions (IDT, GDT, TSS, the new stack), decoding the instruction
 * at a trap site, and Xen hypercalls that take guest virtual addresses. Unicorn 2.0.1
 * has no call to translate an address, so this walks the guest's page tables the way
 * the SDM (vol. 3, chapter 4) describes: 32-bit, PAE and 4-level paging, with the
 * accessed and dirty bits set as the walk goes. */
#ifndef VSBOX_EMU_MMU_H
#define VSBOX_EMU_MMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "emu/tlb.h"

struct emu;
struct cpustate;

/* The paging controls of one moment, read once per operation. */
struct mmu {
    uint64_t cr0, cr3, cr4, efer;
    bool eflags_ac;
    uint64_t mode;      /* what besides CR3 a walk's answer depends on (mmu.c) */
};

enum mmu_access { MMU_READ, MMU_WRITE, MMU_FETCH };

/* How an access is checked: as CPL 3 code would make it, as the CPU's own access to
 * system structures (descriptor tables, the TSS: supervisor, SMAP ignored), or as
 * supervisor code would. */
enum mmu_who { MMU_SUPERVISOR, MMU_USER, MMU_IMPLICIT };

/* The #PF a failed access raises. */
struct mmu_fault {
    uint64_t addr;      /* CR2 */
    uint32_t error;     /* the error code */
};

enum { PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8, PF_ID = 16 };

void mmu_load(struct emu *e, struct mmu *m);
/* The same, from a CPU state already saved (no register calls). */
void mmu_from_cpu(const struct cpustate *cs, struct mmu *m);

bool mmu_paging(const struct mmu *m);

/* Linear to physical; -1 and *f on a page fault. set_ad: mark the entries accessed
 * (and the final one dirty for a write) as the CPU would. */
int mmu_walk(struct emu *e, const struct mmu *m, uint64_t la, enum mmu_access acc,
                  enum mmu_who who, bool set_ad, uint64_t *pa, struct mmu_fault *f);

/* Copy between linear memory and buf, page by page; -1 and *f at the first fault
 * (nothing is written past it). */
int mmu_read(struct emu *e, const struct mmu *m, uint64_t la, void *buf, size_t len,
             enum mmu_who who, struct mmu_fault *f);
int mmu_write(struct emu *e, const struct mmu *m, uint64_t la, const void *buf, size_t len,
              enum mmu_who who, struct mmu_fault *f);

/* A hypercall's arguments: guest linear addresses through the running vCPU's paging, as
 * supervisor (Xen's hvm_copy_{from,to}_guest_linear). 0, or -1 on a fault. */
int mmu_copy_from_guest(struct emu *e, uint64_t la, void *buf, size_t len);
int mmu_copy_to_guest(struct emu *e, uint64_t la, const void *buf, size_t len);

#endif
