/* One event in, one result out: the single entry point replay and the fuzzer share. */
#include "viridian/hypercall.h"
#include "viridian/internal.h"

bool vmodel_apply(struct vmodel *m, const struct vevent *ev, struct vres *res)
{
    *res = (struct vres){ .kind = VRES_NONE };
    if (ev->vcpu >= m->vcpus)
        return false;

    switch (ev->kind) {
    case VEV_CPUID: {
        uint32_t r[4];
        vmodel_cpuid(m, ev->vcpu, (uint32_t)ev->a[0], (uint32_t)ev->a[1], r);
        *res = (struct vres){ VRES_REGS, { r[0], r[1], r[2], r[3] } };
        return true;
    }
    case VEV_RDMSR:
        res->kind = vmodel_rdmsr(m, ev->vcpu, (uint32_t)ev->a[0], &res->v[0]) ? VRES_GP
                                                                             : VRES_VALUE;
        return true;
    case VEV_WRMSR:
        res->kind = vmodel_wrmsr(m, ev->vcpu, (uint32_t)ev->a[0], ev->a[1]) ? VRES_GP : VRES_OK;
        return true;
    case VEV_RDTSC:
        *res = (struct vres){ VRES_VALUE, { vmodel_tsc(m) } };
        return true;
    case VEV_HYPERCALL:
        res->kind = vmodel_hypercall_with(m, ev->vcpu, ev->a[0], ev->a[1], ev->a[2], ev->input,
                                          ev->input_words, &res->v[0])
                        ? VRES_UD
                        : VRES_VALUE;
        return true;
    case VEV_PARAM_SET:
        res->kind = vmodel_param_set(m, ev->a[0], ev->from_guest);
        return true;
    case VEV_PARAM_GET:
        /* The toolstack reads it; a guest only before 4.6 (hvm_allow_get_param). */
        if (ev->from_guest && m->host->guest_get_eperm)
            *res = (struct vres){ .kind = VRES_EPERM };
        else
            *res = (struct vres){ VRES_VALUE, { m->param } };
        return true;
    case VEV_ADVANCE:
        vmodel_advance(m, ev->a[0]);
        return true;
    case VEV_MIGRATE:
        res->kind = vmodel_migrate(m, ev->host, ev->legacy, ev->a[0]);
        return true;
    case VEV_POLL:
        *res = (struct vres){ VRES_VALUE,
                              { vmodel_poll(m, ev->vcpu, (int64_t)(ev->a[0] & 0xffff)) } };
        return true;
    case VEV_KIND_COUNT:
        break;
    }
    return false;
}
