/* Guest-physical memory as vsbox itself touches it: the guest's RAM, the few pages a
 * Xen toolstack keeps for the guest outside it (console and XenStore rings), device
 * MMIO, and nothing: an address with no RAM or device reads as all ones and drops
 * writes, as an unpopulated address does under Xen HVM. */
#ifndef VSBOX_EMU_PHYS_H
#define VSBOX_EMU_PHYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct emu;

/* Where [pa, pa + len) is RAM, its bytes; NULL when any of it is not. */
uint8_t *phys_ram(struct emu *e, uint64_t pa, size_t len);

void phys_read(struct emu *e, uint64_t pa, void *buf, size_t len);
/* Writes behind Unicorn's back: code translated from those pages is dropped before
 * the guest runs again (phys_sync). */
void phys_write(struct emu *e, uint64_t pa, const void *buf, size_t len);

/* The guard records each page code was translated from, so that phys_write knows
 * which writes change code. */
void phys_mark_code(struct emu *e, uint64_t pa);
/* Drop stale translations; only between runs of Unicorn (run.c), never from a hook.
 * Writes from hooks happen at trap sites, which end their block, so the stop that
 * follows comes before any stale code could run. */
void phys_sync(struct emu *e);
/* Code changed under the running guest (or a rule translation depends on): stop the
 * run so that phys_sync drops the translations before the guest goes on. */
void phys_stale_stop(struct emu *e);

#endif
