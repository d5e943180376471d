/* The HPET as Xen emulates it for HVM guests (xen/arch/x86/hvm/hpet.c): three timers,
 * a main counter at 1/16 of guest time in ns (62.5 MHz), 64-bit, legacy-replacement
 * capable. The counter runs on the virtual clock; timer interrupts are not delivered
 * (vsbox has no interrupt controller path from it yet), the registers behave. */
#include <string.h>
#include "emu/internal.h"
#include "emu/mmio.h"

enum {
    HPET_ID = 0x000, HPET_CFG = 0x010, HPET_STATUS = 0x020, HPET_COUNTER = 0x0f0,
    HPET_T0 = 0x100, HPET_TIMER_STRIDE = 0x20, HPET_TIMERS = 3,
    HPET_CFG_ENABLE = 1, HPET_CFG_LEGACY = 2,
    STIME_PER_HPET_TICK = 16,
};
/* hpet_set(): 0x80860001 | (timers - 1) << 8 | 64-bit | legacy-capable, and the tick
 * period in femtoseconds (16 ns) in the high half */
#define HPET_CAPABILITY (0x80860001ull | (HPET_TIMERS - 1) << 8 | 1u << 13 | 1u << 15 | \
                         (16000000ull << 32))
/* each timer: interrupt routes 20-23 possible, 64-bit and periodic capable */
#define HPET_TN_RESET (0x00f00000ull << 32 | 1u << 5 | 1u << 4)
#define HPET_TN_WRITABLE 0x7f4eull   /* level, enable, periodic, 32-bit, route, FSB bits */

static uint64_t guest_ns(struct emu *e)
{
    return (uint64_t)((unsigned __int128)vmodel_tsc(e->model) * 1000000ull /
                      vmodel_tsc_khz(e->model));
}

static uint64_t counter(struct emu *e)
{
    if (!(e->hpet.config & HPET_CFG_ENABLE))
        return e->hpet.counter;
    return guest_ns(e) / STIME_PER_HPET_TICK - e->hpet.offset;
}

void hpet_reset(struct emu *e)
{
    memset(&e->hpet, 0, sizeof e->hpet);
    for (int i = 0; i < HPET_TIMERS; i++) {
        e->hpet.timer_cfg[i] = HPET_TN_RESET;
        e->hpet.cmp[i] = ~0ull;
    }
}

static uint64_t read64(struct emu *e, uint64_t reg)
{
    if (reg == HPET_ID)
        return HPET_CAPABILITY;
    if (reg == HPET_CFG)
        return e->hpet.config;
    if (reg == HPET_STATUS)
        return e->hpet.status;
    if (reg == HPET_COUNTER)
        return counter(e);
    if (reg >= HPET_T0 && reg < HPET_T0 + HPET_TIMERS * HPET_TIMER_STRIDE) {
        unsigned t = (unsigned)((reg - HPET_T0) / HPET_TIMER_STRIDE);
        switch ((reg - HPET_T0) % HPET_TIMER_STRIDE) {
        case 0: return e->hpet.timer_cfg[t];
        case 8: return e->hpet.cmp[t];
        default: return 0;
        }
    }
    return 0;
}

/* 32-bit halves and byte accesses read out of the 64-bit register. */
uint64_t hpet_read(struct emu *e, uint64_t off, unsigned size)
{
    uint64_t v = read64(e, off & ~7ull) >> (8 * (off & 7));
    return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

void hpet_write(struct emu *e, uint64_t off, unsigned size, uint64_t value)
{
    uint64_t reg = off & ~7ull, shift = 8 * (off & 7);
    uint64_t mask = (size == 8 ? ~0ull : ((1ull << (8 * size)) - 1)) << shift;
    uint64_t old = read64(e, reg), v = (old & ~mask) | ((value << shift) & mask);
    if (reg == HPET_CFG) {
        uint64_t now = counter(e);
        e->hpet.config = v & (HPET_CFG_ENABLE | HPET_CFG_LEGACY);
        /* the counter stops where it is, or runs on from there */
        e->hpet.counter = now;
        e->hpet.offset = guest_ns(e) / STIME_PER_HPET_TICK - now;
    } else if (reg == HPET_STATUS) {
        e->hpet.status &= ~v;   /* write 1 to clear */
    } else if (reg == HPET_COUNTER) {
        if (!(e->hpet.config & HPET_CFG_ENABLE))
            e->hpet.counter = v;   /* writable only while halted */
    } else if (reg >= HPET_T0 && reg < HPET_T0 + HPET_TIMERS * HPET_TIMER_STRIDE) {
        unsigned t = (unsigned)((reg - HPET_T0) / HPET_TIMER_STRIDE);
        if ((reg - HPET_T0) % HPET_TIMER_STRIDE == 0)
            e->hpet.timer_cfg[t] = (HPET_TN_RESET & ~HPET_TN_WRITABLE) | (v & HPET_TN_WRITABLE);
        else if ((reg - HPET_T0) % HPET_TIMER_STRIDE == 8)
            e->hpet.cmp[t] = (e->hpet.timer_cfg[t] & (1u << 8)) ? (uint32_t)v : v;
    }
}
