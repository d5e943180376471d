/* The viridian model built a second time with planted fault 8 (viridian/planted.h:
 * FAULT_TRC_RUNS_PAUSED, Xen before commit f6a07643e1), its symbols renamed planted8_*
 * by CMakeLists.txt so that both models link into vsbox. Only the time-ref demo uses it,
 * to show the historical bug beside the fix. Its structs are the normal model's. */
#ifndef VSBOX_CLI_PLANTED8_H
#define VSBOX_CLI_PLANTED8_H

#include "viridian/model.h"
#include "viridian/visible.h"

const struct vprofile *planted8_vprofile_find(const char *name);
enum verr planted8_vmodel_create(const struct vconfig *cfg, struct vmodel **out);
void planted8_vmodel_destroy(struct vmodel *m);
bool planted8_vmodel_apply(struct vmodel *m, const struct vevent *ev, struct vres *res);
void planted8_vmodel_visible(const struct vmodel *m, struct vvisible *out);
unsigned planted8_vvisible_diff(const struct vvisible *before, const struct vvisible *after,
                                vdiff_fn fn, void *ctx);

#endif
