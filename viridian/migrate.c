/* vmodel_migrate: a save on this host and a restore on another in one step, as the
 * `migrate` trace event replays it. The restore applies the destination's rules
 * (vmodel_restore in save.c); this file only keeps the caller's model object in place. */
#include "viridian/internal.h"
#include "viridian/save.h"

/* A migration is a save immediately restored on the destination; the model object
 * stays the caller's, so its contents are swapped in. */
enum vres_kind vmodel_migrate(struct vmodel *m, const struct vprofile *to, int legacy)
{
    struct vsave s;
    struct vmodel *dst;
    vmodel_save(m, legacy >= 0, &s);
    if (legacy >= 0)
        s.param = (uint64_t)legacy;
    enum vres_kind r = vmodel_restore(&s, to, m->mem, &dst);
    if (r != VRES_OK)
        return VRES_REFUSED;
    *m = *dst;
    vmodel_destroy(dst);
    return VRES_OK;
}
