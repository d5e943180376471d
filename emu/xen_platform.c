/* Xen's own hypercalls, as an HVM guest of xl makes them. */
#include "emu/internal.h"
#include "emu/xen_platform.h"
#include "viridian/xen_hypercall.h"

void xen_hypercall(struct emu *e, uint64_t rip, bool wide, unsigned cpl)
{
    (void)cpl;
    uint64_t rax;
    struct vevent ev;
    bool param = vmodel_xen_hypercall(e->model, 0, emu_reg(e, UC_X86_REG_RAX) & 0xffffffffu,
                                      emu_reg(e, wide ? UC_X86_REG_RDI : UC_X86_REG_RBX),
                                      emu_reg(e, wide ? UC_X86_REG_RSI : UC_X86_REG_RCX),
                                      &rax, &ev);
    if (param) {
        struct vres res = { .kind = VRES_VALUE, .v = { vmodel_param(e->model) } };
        if (ev.kind == VEV_PARAM_SET)
            res = (struct vres){ .kind = rax == 0 ? VRES_OK
                                         : rax == (uint64_t)-1 ? VRES_EPERM
                                         : rax == (uint64_t)-17 ? VRES_EEXIST : VRES_EINVAL };
        trap_event(e, &ev, &res, rip);
    }
    emu_set_reg(e, UC_X86_REG_RAX, wide ? rax : rax & 0xffffffffu);
}
