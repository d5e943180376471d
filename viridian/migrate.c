/* vmodel_migrate: a save on this host and a restore on another in one step, as the
 * `migrate` trace event replays it. The restore applies the destination's rules
 * (vmodel_restore in save.c); this file only keeps the caller's model object in place. */
#include <string.h>
#include "viridian/internal.h"
#include "viridian/save.h"

/* A migration is a save immediately restored on the destination; the model object
 * stays the caller's, so its contents are swapped in. The source is paused first
 * (arch_domain_pause freezes the reference counter), and its clock runs on for the
 * downtime while the toolstack waits to collect the context: Xen's guest TSC does not
 * stop for a pause. A refused restore leaves the source as it was. */
enum vres_kind vmodel_migrate(struct vmodel *m, const struct vprofile *to, int legacy,
                              uint64_t downtime)
{
    struct vsave s;
    struct vmodel *dst;
    char why[8];
    vmodel_save(m, legacy >= 0, &s);
    if (legacy >= 0)
        s.param = (uint64_t)legacy;
    if (vrestore_check(&s, to, 0, why, sizeof why) != VRES_OK)
        return VRES_REFUSED;
    vmodel_pause(m);
    vmodel_advance(m, downtime);
    vmodel_save(m, legacy >= 0, &s);
    if (legacy >= 0)
        s.param = (uint64_t)legacy;
    enum vres_kind r = vmodel_restore(&s, to, m->mem, &dst);
    if (r != VRES_OK) {
        vmodel_unpause(m);
        return VRES_REFUSED;
    }
    dst->plat = m->plat;
    memcpy(m, dst, sizeof *m);
    vmodel_destroy(dst);
    return VRES_OK;
}
