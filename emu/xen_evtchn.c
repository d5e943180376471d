/* Xen's event channels for one HVM guest, 2-level ABI (xen/common/event_channel.c,
 * event_2l.c): ports as the guest allocates, binds, closes and sends on them, pending
 * bits in its shared_info. The toolstack's two ports come bound to dom0 (xenstored and
 * xenconsoled), whose side vsbox plays (xen_platform.c). The FIFO ABI is checked as
 * Xen checks it (event_fifo.c) but not offered: its requests fail after the checks. */
#include <stdlib.h>
#include <string.h>
#include "emu/internal.h"
#include "emu/mmu.h"
#include "emu/phys.h"
#include "emu/xen_platform.h"
#include "viridian/xen_hypercall.h"

enum { ECS_FREE, ECS_RESERVED, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_PIRQ, ECS_VIRQ, ECS_IPI };
/* EVTCHNSTAT_* as EVTCHNOP_status reports the states above */
static const uint32_t stat_of[] = { 0, 0, 1, 2, 3, 4, 5 };

enum {
    EVTCHNOP_bind_interdomain = 0, EVTCHNOP_bind_virq = 1, EVTCHNOP_close = 3,
    EVTCHNOP_send = 4, EVTCHNOP_status = 5, EVTCHNOP_alloc_unbound = 6, EVTCHNOP_bind_ipi = 7,
    EVTCHNOP_bind_vcpu = 8, EVTCHNOP_unmask = 9, EVTCHNOP_init_control = 11,
    EVTCHNOP_expand_array = 12,
};
enum { XEN_ENOENT = 2, XEN_ESRCH = 3, XEN_EFAULT = 14, XEN_EEXIST = 17, XEN_EINVAL = 22,
       XEN_ENOSPC = 28, XEN_ENOSYS = 38, XEN_EOPNOTSUPP = 95 };
enum { SHINFO_EVTCHN_PENDING = 2048 };

static uint64_t neg(unsigned e)
{
    return (uint64_t)-(int64_t)e;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

int evtchn_init(struct emu *e)
{
    e->xen.ports = calloc(XEN_EVTCHN_MAX, sizeof *e->xen.ports);
    if (!e->xen.ports)
        return -1;
    e->xen.ports[0].state = ECS_RESERVED;   /* port 0 is never handed out */
    e->xen.ports[XEN_STORE_EVTCHN] = (struct xen_port){ ECS_INTERDOMAIN, 0, 1 };
    e->xen.ports[XEN_CONSOLE_EVTCHN] = (struct xen_port){ ECS_INTERDOMAIN, 0, 2 };
    return 0;
}

/* How many ports the 2-level ABI gives: 64 words of 64 bits, or of 32 bits once the
 * guest's shared_info is the 32-bit layout (a guest that first called Xen in 32-bit
 * code: hvm_latch_shinfo_size). */
static unsigned max_ports(const struct emu *e)
{
    return e->xen.shinfo_32 ? 1024 : XEN_EVTCHN_MAX;
}

void evtchn_set_pending(struct emu *e, unsigned port)
{
    if (!e->xen.shinfo_mapped)
        return;
    uint8_t b;
    uint64_t at = e->xen.shinfo_gpa + SHINFO_EVTCHN_PENDING + port / 8;
    phys_read(e, at, &b, 1);
    b |= (uint8_t)(1u << (port % 8));
    phys_write(e, at, &b, 1);
}

static bool own(uint16_t dom)
{
    return dom == DOMID_SELF || dom == VSBOX_DOMID;
}

static int alloc_port(struct emu *e)
{
    for (unsigned p = 1; p < max_ports(e); p++)
        if (e->xen.ports[p].state == ECS_FREE)
            return (int)p;
    return -1;
}

static uint64_t port_arg(struct emu *e, uint64_t arg, uint32_t *port)
{
    uint8_t p[4];
    if (mmu_copy_from_guest(e, arg, p, 4))
        return neg(XEN_EFAULT);
    *port = get32(p);
    return *port < max_ports(e) ? 0 : neg(XEN_EINVAL);
}

uint64_t evtchn_op(struct emu *e, uint64_t cmd, uint64_t arg)
{
    uint8_t a[24] = { 0 };
    uint32_t port;
    uint64_t rc;
    int p;
    switch (cmd) {
    case EVTCHNOP_alloc_unbound:   /* dom, remote_dom, port (out) */
        if (mmu_copy_from_guest(e, arg, a, 8))
            return neg(XEN_EFAULT);
        if (!own(get16(a)))
            return neg(XEN_ESRCH);
        if ((p = alloc_port(e)) < 0)
            return neg(XEN_ENOSPC);
        e->xen.ports[p] = (struct xen_port){ ECS_UNBOUND,
                                             own(get16(a + 2)) ? VSBOX_DOMID : get16(a + 2), 0 };
        put32(a + 4, (uint32_t)p);
        return mmu_copy_to_guest(e, arg + 4, a + 4, 4) ? neg(XEN_EFAULT) : 0;
    case EVTCHNOP_bind_ipi:        /* vcpu, port (out) */
        if (mmu_copy_from_guest(e, arg, a, 8))
            return neg(XEN_EFAULT);
        if (get32(a) >= vmodel_vcpus(e->model))
            return neg(XEN_ENOENT);
        if ((p = alloc_port(e)) < 0)
            return neg(XEN_ENOSPC);
        e->xen.ports[p] = (struct xen_port){ ECS_IPI, 0, 0 };
        put32(a + 4, (uint32_t)p);
        return mmu_copy_to_guest(e, arg + 4, a + 4, 4) ? neg(XEN_EFAULT) : 0;
    case EVTCHNOP_close:
        if ((rc = port_arg(e, arg, &port)))
            return rc;
        if (e->xen.ports[port].state == ECS_RESERVED)
            return neg(XEN_EINVAL);
        e->xen.ports[port] = (struct xen_port){ ECS_FREE, 0, 0 };
        return 0;
    case EVTCHNOP_send:
        if ((rc = port_arg(e, arg, &port)))
            return rc;
        switch (e->xen.ports[port].state) {
        case ECS_INTERDOMAIN:
            xen_notify_dom0(e, port);
            return 0;
        case ECS_IPI:
            evtchn_set_pending(e, port);
            return 0;
        case ECS_UNBOUND:
            return 0;   /* nobody on the other end yet: Xen drops it */
        default:
            return neg(XEN_EINVAL);
        }
    case EVTCHNOP_unmask:
        return port_arg(e, arg, &port);
    case EVTCHNOP_status: {        /* dom, port, status (out), vcpu (out), u (out) */
        if (mmu_copy_from_guest(e, arg, a, 8))
            return neg(XEN_EFAULT);
        if (!own(get16(a)))
            return neg(XEN_ESRCH);
        port = get32(a + 4);
        if (port >= max_ports(e))
            return neg(XEN_EINVAL);
        const struct xen_port *x = &e->xen.ports[port];
        memset(a + 8, 0, 16);
        put32(a + 8, stat_of[x->state]);
        if (x->state == ECS_UNBOUND)
            put16(a + 16, x->remote_dom);
        else if (x->state == ECS_INTERDOMAIN) {
            put16(a + 16, x->remote_dom);
            put32(a + 20, x->remote_port);
        }
        return mmu_copy_to_guest(e, arg + 8, a + 8, 16) ? neg(XEN_EFAULT) : 0;
    }
    case EVTCHNOP_init_control: {  /* control_gfn, offset, vcpu, link_bits (out) */
        if (mmu_copy_from_guest(e, arg, a, 16))
            return neg(XEN_EFAULT);
        uint64_t gfn;
        memcpy(&gfn, a, 8);
        uint32_t offset = get32(a + 8);
        /* evtchn_fifo_init_control's checks, in its order; a 64-byte control block */
        if (get32(a + 12) >= vmodel_vcpus(e->model))
            return neg(XEN_ENOENT);
        if (offset > 4096 - 64 || (offset & 7))
            return neg(XEN_EINVAL);
        if (gfn > (UINT64_MAX >> 12) || !phys_ram(e, gfn << 12, 4096))
            return neg(XEN_EINVAL);   /* map_control_block: not a page of the guest's */
        return neg(XEN_EOPNOTSUPP);   /* vsbox offers the 2-level ABI only */
    }
    case EVTCHNOP_expand_array:
        return neg(XEN_EOPNOTSUPP);   /* FIFO only, and not switched to */
    default:
        return neg(XEN_ENOSYS);
    }
}

void evtchn_free(struct emu *e)
{
    free(e->xen.ports);
    e->xen.ports = NULL;
}
