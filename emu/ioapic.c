/* The IO-APIC as Xen emulates it (xen/arch/x86/hvm/vioapic.c): an index and a data
 * window, 48 pins, every redirection entry masked at reset. Its entries are kept and
 * read back; nothing is routed through it yet (no interrupt source drives a pin). */
#include <string.h>
#include "emu/internal.h"
#include "emu/mmio.h"

enum { IOREGSEL = 0x00, IOWIN = 0x10, IOAPIC_ID = 0, IOAPIC_VER = 1, IOAPIC_ARB = 2,
       IOAPIC_REDIR = 0x10, VIOAPIC_VERSION_ID = 0x11 };

void ioapic_reset(struct emu *e)
{
    memset(&e->ioapic, 0, sizeof e->ioapic);
    for (unsigned i = 0; i < IOAPIC_PINS; i++)
        e->ioapic.redir[i] = 1u << 16;   /* masked */
}

static uint32_t read_reg(struct emu *e, uint32_t reg)
{
    if (reg == IOAPIC_ID)
        return e->ioapic.id;
    if (reg == IOAPIC_VER)
        return VIOAPIC_VERSION_ID | (IOAPIC_PINS - 1) << 16;
    if (reg == IOAPIC_ARB)
        return e->ioapic.id;
    if (reg >= IOAPIC_REDIR && reg < IOAPIC_REDIR + 2 * IOAPIC_PINS) {
        uint64_t r = e->ioapic.redir[(reg - IOAPIC_REDIR) / 2];
        return (reg & 1) ? (uint32_t)(r >> 32) : (uint32_t)r;
    }
    return 0xffffffffu;
}

uint64_t ioapic_read(struct emu *e, uint64_t off, unsigned size)
{
    (void)size;
    if (off == IOREGSEL)
        return e->ioapic.sel;
    if (off == IOWIN)
        return read_reg(e, e->ioapic.sel);
    return 0xffffffffu;
}

void ioapic_write(struct emu *e, uint64_t off, unsigned size, uint64_t value)
{
    (void)size;
    if (off == IOREGSEL) {
        e->ioapic.sel = (uint8_t)value;
        return;
    }
    if (off != IOWIN)
        return;
    uint32_t reg = e->ioapic.sel, v = (uint32_t)value;
    if (reg == IOAPIC_ID) {
        e->ioapic.id = v & 0x0f000000u;
    } else if (reg >= IOAPIC_REDIR && reg < IOAPIC_REDIR + 2 * IOAPIC_PINS) {
        uint64_t *r = &e->ioapic.redir[(reg - IOAPIC_REDIR) / 2];
        /* delivery status (12) and remote IRR (14) are read-only */
        if (reg & 1)
            *r = (*r & 0xffffffffull) | (uint64_t)(v & 0xff000000u) << 32;
        else
            *r = (*r & ~0xffffffffull) | (*r & (1u << 12 | 1u << 14)) | (v & ~(1u << 12 | 1u << 14));
    }
}
