/* The device table. Each access costs guest time like a trapped I/O port would (a
 * guest polling a device sees the clock move), and the answers come from devices that
 * run on the virtual clock only. */
#include "emu/internal.h"
#include "emu/mmio.h"

static const struct device {
    const char *name;
    uint64_t base, size;
    uint64_t (*read)(struct emu *e, uint64_t off, unsigned size);
    void (*write)(struct emu *e, uint64_t off, unsigned size, uint64_t value);
} devices[] = {
    /* Xen's vioapic at VIOAPIC_DEFAULT_BASE_ADDRESS, its vhpet at HPET_BASE_ADDRESS */
    { "IO-APIC", 0xfec00000ull, 0x1000, ioapic_read, ioapic_write },
    { "HPET", 0xfed00000ull, 0x400, hpet_read, hpet_write },
    /* the local APIC, where IA32_APIC_BASE keeps it (the viridian model's MSR) */
    { "local APIC", LAPIC_BASE, 0x1000, lapic_dev_read, lapic_dev_write },
};

static const struct device *find(uint64_t pa, unsigned size)
{
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++)
        if (pa >= devices[i].base && pa - devices[i].base + size <= devices[i].size)
            return &devices[i];
    return NULL;
}

bool mmio_read(struct emu *e, uint64_t pa, unsigned size, uint64_t *value)
{
    const struct device *d = find(pa, size);
    if (!d)
        return false;
    trap_clock(e, COST_IO);
    *value = d->read(e, pa - d->base, size);
    return true;
}

bool mmio_write(struct emu *e, uint64_t pa, unsigned size, uint64_t value)
{
    const struct device *d = find(pa, size);
    if (!d)
        return false;
    trap_clock(e, COST_IO);
    d->write(e, pa - d->base, size, value);
    return true;
}
