#include "viridian/event.h"

bool vres_equal(const struct vres *a, const struct vres *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case VRES_REGS:
        return a->v[0] == b->v[0] && a->v[1] == b->v[1] && a->v[2] == b->v[2] &&
               a->v[3] == b->v[3];
    case VRES_VALUE:
        return a->v[0] == b->v[0];
    default:
        return true;
    }
}
