/* Why the model answers differently from another hypervisor: which viridian group,
 * turned on or off on the model's host, would change an answer. The question goes to
 * the model itself (a copy of the domain with that one group changed), so every rule
 * stays where it is and new groups need nothing here. For replay's divergence reports
 * (traces/diverge.c). */
#ifndef VSBOX_VIRIDIAN_EXPLAIN_H
#define VSBOX_VIRIDIAN_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>
#include "viridian/event.h"

struct vmodel;

struct vexplain {
    int group;      /* enum vgroup; -1 when no single group does it */
    bool enable;    /* true: the group is off and would be on; false: the reverse */
    bool boolean;   /* a boolean host (Xen < 4.5): the switch is viridian itself
                       (group is -1, enable says which way) */
};

/* Which one change of group makes the model answer ev with want. When reg >= 0 only bit
 * `bit` of CPUID register reg (0 EAX .. 3 EDX) has to match want's. ev is applied to
 * copies of m; m itself is not changed. false when no single change does it. */
bool vexplain_event(const struct vmodel *m, const struct vevent *ev, const struct vres *want,
                    int reg, unsigned bit, struct vexplain *out);

#endif
