/* Instructions per translated block, by the block's address: an open-addressing table
 * the guard fills as blocks are translated and the budget's block hook reads. A lookup
 * that misses returns 0 (the caller then bounds the count by the block's bytes). */
#ifndef VSBOX_EMU_ICOUNT_H
#define VSBOX_EMU_ICOUNT_H

#include <stdint.h>
#include <stdlib.h>
#include "emu/internal.h"

/* A block by its address and its size in bytes: the same address can start blocks of
 * different lengths (QEMU's restart of an instruction that wrote its own block is a block
 * of one instruction; code rewritten in place translates anew). The address is
 * canonical, so its top 16 bits repeat bit 47 and can carry the size. */
static inline uint64_t icount_key(uint64_t pc, uint32_t size)
{
    return (pc & 0x0000ffffffffffffull) | (uint64_t)(size & 0xffff) << 48;
}

/* A block's count carries this bit when it was translated single-stepping (TF set):
 * QEMU then makes every block one instruction long. */
#define ICOUNT_STEPPED 0x80000000u

static inline uint32_t icount_slot(uint64_t pc, uint32_t cap)
{
    return (uint32_t)((pc * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

static inline uint32_t icount_get(const struct icount_map *m, uint64_t pc)
{
    if (!m->cap)
        return 0;
    for (uint32_t i = icount_slot(pc, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->n[i] == 0)
            return 0;
        if (m->pc[i] == pc)
            return m->n[i];
    }
}

static inline void icount_put(struct icount_map *m, uint64_t pc, uint32_t n)
{
    if (2 * (m->used + 1) > m->cap) {
        struct icount_map bigger = { NULL, NULL, m->cap ? 2 * m->cap : 1024, 0 };
        bigger.pc = calloc(bigger.cap, sizeof *bigger.pc);
        bigger.n = calloc(bigger.cap, sizeof *bigger.n);
        if (!bigger.pc || !bigger.n) {
            free(bigger.pc);
            free(bigger.n);
            return;   /* out of memory: the block hook falls back to byte counts */
        }
        for (uint32_t i = 0; i < m->cap; i++)
            if (m->n[i])
                icount_put(&bigger, m->pc[i], m->n[i]);
        free(m->pc);
        free(m->n);
        *m = bigger;
    }
    uint32_t i = icount_slot(pc, m->cap);
    while (m->n[i] != 0 && m->pc[i] != pc)
        i = (i + 1) & (m->cap - 1);
    if (m->n[i] == 0)
        m->used++;
    m->pc[i] = pc;
    m->n[i] = n;
}

static inline void icount_free(struct icount_map *m)
{
    free(m->pc);
    free(m->n);
    *m = (struct icount_map){ NULL, NULL, 0, 0 };
}

#endif
