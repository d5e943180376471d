#include "emu/pit.h"

static uint16_t count_now(const struct pit_channel *c, uint64_t tsc, uint32_t tsc_khz)
{
    if (!c->loaded)
        return 0;
    uint64_t elapsed = (uint64_t)((unsigned __int128)(tsc - c->start_tsc) * PIT_HZ /
                                  ((uint64_t)tsc_khz * 1000));
    uint32_t reload = c->reload ? c->reload : 0x10000;
    if (c->mode == 2 || c->mode == 3)
        return (uint16_t)(reload - elapsed % reload);
    /* Mode 0 and the rest: count down, and wrap past zero as the hardware does. */
    return (uint16_t)((reload - elapsed) & 0xffff);
}

void pit_write(struct pit *p, uint16_t port, uint8_t v, uint64_t tsc, uint32_t tsc_khz)
{
    if (port == 0x43) {
        unsigned ch = v >> 6;
        if (ch == 3)
            return; /* read-back: not modelled */
        struct pit_channel *c = &p->ch[ch];
        unsigned access = (v >> 4) & 3;
        if (access == 0) {
            if (!c->latched) {
                c->latch = count_now(c, tsc, tsc_khz);
                c->latched = true;
                c->read_hi = false;
            }
            return;
        }
        c->access = (uint8_t)access;
        c->mode = (v >> 1) & 7;
        c->write_hi = c->read_hi = false;
        c->latched = false;
        return;
    }
    struct pit_channel *c = &p->ch[port - 0x40];
    if (c->access == 1 || (c->access == 3 && !c->write_hi)) {
        c->reload = (uint16_t)((c->reload & 0xff00) | v);
        if (c->access == 3) {
            c->write_hi = true;
            return;
        }
    } else {
        c->reload = (uint16_t)((c->reload & 0x00ff) | v << 8);
        c->write_hi = false;
    }
    c->start_tsc = tsc;
    c->loaded = true;
}

uint8_t pit_read(struct pit *p, uint16_t port, uint64_t tsc, uint32_t tsc_khz)
{
    if (port == 0x43)
        return 0xff;
    struct pit_channel *c = &p->ch[port - 0x40];
    uint16_t v = c->latched ? c->latch : count_now(c, tsc, tsc_khz);
    bool hi = c->access == 2 || (c->access == 3 && c->read_hi);
    if (c->access == 3)
        c->read_hi = !c->read_hi;
    if (c->latched && (c->access != 3 || !c->read_hi))
        c->latched = false;
    return hi ? (uint8_t)(v >> 8) : (uint8_t)v;
}
