/* The walks mmu.c remembers, kept in struct emu (apart from mmu.h, whose PF_* names
 * collide with <elf.h>'s). */
#ifndef VSBOX_EMU_TLB_H
#define VSBOX_EMU_TLB_H

#include <stdbool.h>
#include <stdint.h>

/* Walks remembered, so that the IDT, stack and APIC pages a delivery or an MMIO access
 * touches again are not walked from the top again. An entry keeps every paging entry its
 * walk read, and is used only while each still holds the value it had (in RAM) under the
 * same CR3 and paging controls: the answer is exactly a new walk's, with no invalidation
 * to get wrong (no INVLPG, CR3 write or page-table store needs to be seen). */
enum { MMU_TLB_BITS = 8, MMU_TLB_SIZE = 1 << MMU_TLB_BITS };
struct mmu_tlb_entry {
    uint64_t key;           /* (la >> 12) + 1, the access and who (mmu.c): 0 is empty */
    uint64_t cr3, mode;     /* the paging controls the walk ran under */
    uint64_t pa;            /* the physical 4 KiB page */
    uint64_t at[5], val[5]; /* each entry read (all in RAM), and what it held afterwards */
    uint8_t n, wide;
    bool ad;                /* accessed (and dirty, for a write) already set throughout */
};
struct mmu_tlb {
    struct mmu_tlb_entry e[MMU_TLB_SIZE];
};

#endif
