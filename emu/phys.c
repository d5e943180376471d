#include <string.h>
#include "emu/internal.h"
#include "emu/mmio.h"
#include "emu/phys.h"
#include "emu/xen_platform.h"

uint8_t *phys_ram(struct emu *e, uint64_t pa, size_t len)
{
    if (pa < e->ram_size && len <= e->ram_size - pa)
        return e->ram + pa;
    if (e->special && pa >= XEN_SPECIAL_BASE && pa - XEN_SPECIAL_BASE < XEN_SPECIAL_SIZE &&
        len <= XEN_SPECIAL_SIZE - (pa - XEN_SPECIAL_BASE))
        return e->special + (pa - XEN_SPECIAL_BASE);
    for (unsigned i = 0; i < e->xen.n_extra; i++)
        if (pa >> 12 == e->xen.extra[i].gfn && (pa & 4095) + len <= 4096)
            return e->xen.extra[i].page + (pa & 4095);
    return NULL;
}

/* Byte by byte where a range straddles RAM and a hole, so each byte gets its own
 * answer (the RAM's, or all ones). */
void phys_read(struct emu *e, uint64_t pa, void *buf, size_t len)
{
    uint8_t *p = phys_ram(e, pa, len);
    if (p) {
        memcpy(buf, p, len);
        return;
    }
    uint64_t v;
    if ((len == 1 || len == 2 || len == 4 || len == 8) && mmio_read(e, pa, (unsigned)len, &v)) {
        memcpy(buf, &v, len);
        return;
    }
    uint8_t *out = buf;
    for (size_t i = 0; i < len; i++) {
        p = phys_ram(e, pa + i, 1);
        out[i] = p ? *p : 0xff;
    }
}

void phys_mark_code(struct emu *e, uint64_t pa)
{
    if (pa < e->ram_size)
        e->code_pages[pa >> 15] |= (uint8_t)(1u << ((pa >> 12) & 7));
}

static bool was_code(const struct emu *e, uint64_t page)
{
    /* No bitmap yet: a restored model writing its pages before the machine is set up. */
    return e->code_pages && page < e->ram_size >> 12 &&
           (e->code_pages[page >> 3] & (1u << (page & 7)));
}

void phys_write(struct emu *e, uint64_t pa, const void *buf, size_t len)
{
    if (len == 0)
        return;
    uint8_t *p = phys_ram(e, pa, len);
    uint64_t v = 0;
    if (!p && (len == 1 || len == 2 || len == 4 || len == 8)) {
        memcpy(&v, buf, len);
        if (mmio_write(e, pa, (unsigned)len, v))
            return;
    }
    if (!p) {
        const uint8_t *in = buf;
        for (size_t i = 0; i < len; i++)
            if ((p = phys_ram(e, pa + i, 1)))
                phys_write(e, pa + i, in + i, 1);
        return;
    }
    memcpy(p, buf, len);
    mark_dirty(e, pa, len);
    for (uint64_t pg = pa >> 12; pg <= (pa + len - 1) >> 12; pg++) {
        if (!was_code(e, pg))
            continue;
        if (e->n_stale < sizeof e->stale / sizeof e->stale[0])
            e->stale[e->n_stale++] = pg << 12;
        else
            e->stale_overflow = true;
        e->code_pages[pg >> 3] &= (uint8_t)~(1u << (pg & 7));
        phys_stale_stop(e);
    }
}

/* A write from a hook (a trap site, which ends its block) stops the run, so that the
 * run loop drops the stale code before anything else runs. */
void phys_stale_stop(struct emu *e)
{
    e->sync_stop = true;
    if (e->uc)
        run_stop(e);
}

/* Drop Unicorn's translations of one RAM page. Unicorn 2.0.1 finds them only through a
 * guest virtual address, translated by the guest's page tables (a miss there faults
 * inside the engine), and its TB cache is keyed by that address taken as physical. With
 * paging off for the moment of the call, the page's own address is that address. */
static void invalidate(struct emu *e, uint64_t pa)
{
    uint64_t cr0 = emu_reg(e, UC_X86_REG_CR0);
    if (!(cr0 & (1ull << 31))) {
        uc_ctl_remove_cache(e->uc, pa, pa + 4096);
        return;
    }
    cpustate_load(&e->cpu, e->uc);
    emu_set_reg(e, UC_X86_REG_CR0, cr0 & ~(1ull << 31));
    uc_ctl_remove_cache(e->uc, pa, pa + 4096);
    emu_set_reg(e, UC_X86_REG_CR0, cr0);
    cpustate_store(&e->cpu, e->uc);   /* exactly the CPU it was (long mode included) */
}

void phys_sync(struct emu *e)
{
    if (e->stale_overflow) {
        /* More pages than the list holds: every page code came from (a restore). */
        for (uint64_t pg = 0; pg < e->ram_size >> 12; pg++)
            if (was_code(e, pg))
                invalidate(e, pg << 12);
        memset(e->code_pages, 0, (size_t)(e->ram_size >> 15) + 1);
        e->stale_overflow = false;
    }
    for (uint32_t i = 0; i < e->n_stale; i++)
        invalidate(e, e->stale[i]);
    e->n_stale = 0;
}
