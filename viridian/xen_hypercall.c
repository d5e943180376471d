#include "viridian/xen_hypercall.h"

#include "viridian/hvmpv.h"
#include "viridian/internal.h"

enum { XEN_EPERM = 1, XEN_ESRCH = 3, XEN_EFAULT = 14, XEN_EINVAL = 22, XEN_ENOSYS = 38 };

static uint64_t neg(unsigned e)
{
    return (uint64_t)-(int64_t)e;
}

/* struct xen_hvm_param: u16 domid, u16 pad, u32 index, u64 value. */
bool vmodel_xen_hypercall(struct vmodel *m, uint32_t vcpu, uint64_t nr, uint64_t rdi,
                          uint64_t rsi, uint64_t *rax, struct vevent *ev)
{
    uint8_t a[16];
    *ev = (struct vevent){ .vcpu = vcpu, .legacy = -1 };
    /* vsbox models hvm_op's parameter calls only; everything else is "no such call". */
    if (nr != __HYPERVISOR_hvm_op || (rdi != HVMOP_set_param && rdi != HVMOP_get_param)) {
        *rax = neg(XEN_ENOSYS);
        return false;
    }
    if (!m->mem.read || m->mem.read(m->mem.ctx, rsi, a, sizeof a)) {
        *rax = neg(XEN_EFAULT);
        return false;
    }
    uint16_t domid = (uint16_t)(a[0] | a[1] << 8);
    uint32_t index = (uint32_t)a[4] | (uint32_t)a[5] << 8 | (uint32_t)a[6] << 16 |
                     (uint32_t)a[7] << 24;
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = value << 8 | a[8 + i];

    if (index >= m->host->hvm_nr_params) {
        *rax = neg(XEN_EINVAL);
        return false;
    }
    if (domid != DOMID_SELF && domid != VSBOX_DOMID) {
        *rax = neg(XEN_ESRCH);
        return false;
    }
    if (index != HVM_PARAM_VIRIDIAN) {
        *rax = neg(XEN_ENOSYS);
        return false;
    }
    if (rdi == HVMOP_get_param) {
        ev->kind = VEV_PARAM_GET;
        ev->from_guest = true;
        /* 4.6+ hvm_allow_get_param(): "should not be read by the guest". */
        if (m->host->guest_get_eperm) {
            *rax = neg(XEN_EPERM);
            return true;
        }
        uint8_t out[8];
        for (int i = 0; i < 8; i++)
            out[i] = (uint8_t)(m->param >> (8 * i));
        *rax = m->mem.write && m->mem.write(m->mem.ctx, rsi + 8, out, sizeof out) == 0
                   ? 0
                   : neg(XEN_EFAULT);
        return true;
    }
    ev->kind = VEV_PARAM_SET;
    ev->a[0] = value;
    ev->from_guest = true;
    static const unsigned errnos[] = { [VRES_EPERM] = XEN_EPERM, [VRES_EEXIST] = 17,
                                       [VRES_EINVAL] = XEN_EINVAL };
    enum vres_kind r = vmodel_param_set(m, value, true);
    *rax = r == VRES_OK ? 0 : neg(errnos[r]);
    return true;
}
