/* The guest pages Xen maps for a viridian guest, through the embedder's memory. Xen's
 * get_page_from_gfn() fails for a frame that is not RAM ("Bad GMFN" in the log) and the
 * page is then simply not used; without memory ops every frame counts as RAM that the
 * model cannot see (writes are dropped, reads give zeros). */
#include <string.h>
#include "viridian/internal.h"

#define PAGE 4096u

bool vpage_ram(const struct vmodel *m, uint64_t gpa)
{
    uint8_t probe;
    if (!m->mem.read)
        return true;
    return m->mem.read(m->mem.ctx, gpa, &probe, 1) == 0 &&
           m->mem.read(m->mem.ctx, gpa + PAGE - 1, &probe, 1) == 0;
}

void vpage_clear(struct vmodel *m, uint64_t gpa)
{
    static const uint8_t zero[PAGE];
    vpage_write(m, gpa, zero, sizeof zero);
}

/* viridian_map_guest_page(): hold the page the MSR names, clearing it (4.12+ always
 * clears on map; older callers clear or not themselves). */
void vpage_map(struct vmodel *m, struct vpage *p, bool clear)
{
    p->mapped = (p->msr & HV_PAGE_ENABLE) && vpage_ram(m, vpage_gpa(p));
    if (p->mapped && clear)
        vpage_clear(m, vpage_gpa(p));
}

int vpage_read(const struct vmodel *m, uint64_t gpa, void *buf, size_t len)
{
    if (!m->mem.read) {
        memset(buf, 0, len);
        return 0;
    }
    return m->mem.read(m->mem.ctx, gpa, buf, len);
}

void vpage_write(struct vmodel *m, uint64_t gpa, const void *buf, size_t len)
{
    if (m->mem.write)
        (void)m->mem.write(m->mem.ctx, gpa, buf, len);
}

uint32_t vpage_read32(const struct vmodel *m, uint64_t gpa)
{
    uint8_t b[4];
    if (vpage_read(m, gpa, b, sizeof b))
        return 0;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

void vpage_write32(struct vmodel *m, uint64_t gpa, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    vpage_write(m, gpa, b, sizeof b);
}

void vpage_write64(struct vmodel *m, uint64_t gpa, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    vpage_write(m, gpa, b, sizeof b);
}
