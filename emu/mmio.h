/* Devices on the guest-physical bus: one row each in the table of mmio.c, the way
 * kvmtool registers its devices. A device gets the offset into its window and the
 * access size (1, 2, 4 or 8). */
#ifndef VSBOX_EMU_MMIO_H
#define VSBOX_EMU_MMIO_H

#include <stdbool.h>
#include <stdint.h>

struct emu;

/* True when a device claims pa (then *value is read, or value written). */
bool mmio_read(struct emu *e, uint64_t pa, unsigned size, uint64_t *value);
bool mmio_write(struct emu *e, uint64_t pa, unsigned size, uint64_t value);

/* The devices (hpet.c, ioapic.c) */
void hpet_reset(struct emu *e);
uint64_t hpet_read(struct emu *e, uint64_t off, unsigned size);
void hpet_write(struct emu *e, uint64_t off, unsigned size, uint64_t value);
void ioapic_reset(struct emu *e);
uint64_t ioapic_read(struct emu *e, uint64_t off, unsigned size);
void ioapic_write(struct emu *e, uint64_t off, unsigned size, uint64_t value);

#endif
