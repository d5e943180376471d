#include "viridian/fault.h"
#include "viridian/internal.h"

enum vres_kind vmodel_migrate(struct vmodel *m, const struct vprofile *to, int legacy)
{
    uint64_t value = legacy >= 0 ? (uint64_t)legacy : m->param;
    /* xc_domain_restore(): a non-zero stream value is set by the toolstack on the fresh
     * destination domain, under the destination's rules. */
    if (value != 0 && vparam_check(to, 0, value, false) != VRES_OK)
        return VRES_REFUSED;

    /* Xen's viridian_time_ref_count_freeze() on save and _thaw() on restore keep the
     * counter continuous because the guest TSC travels with the domain. */
    m->host = to;
    m->param = value;
    m->incarnation++;
    if (FAULT(FAULT_CLOCK_RESET))
        m->tsc = 0;
    if (FAULT(FAULT_LOSE_OS_ID))
        m->guest_os_id = 0;
    return VRES_OK;
}
