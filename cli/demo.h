/* `vsbox demo`: narrated walks through what viridian is and what migration can break.
 * Each demo is one function printing through the narrator (cli/narrate.h); its plain
 * output is a golden test (tests/golden/demos/NAME.txt). */
#ifndef VSBOX_CLI_DEMO_H
#define VSBOX_CLI_DEMO_H

#include <stdint.h>
#include "cli/narrate.h"
#include "viridian/visible.h"

struct demo {
    const char *name;
    const char *summary;
    int (*run)(struct narrator *n);   /* an exit status */
};

/* Model-only demos (cli/demo_model.c). */
int demo_enlightenments(struct narrator *n);
int demo_feature_mask(struct narrator *n);
int demo_migration_bug(struct narrator *n);
int demo_xen_vs_kvm(struct narrator *n);
/* Reference time beside Xen before f6a07643e1 (cli/demo_time.c). */
int demo_time_ref(struct narrator *n);
/* Real guest code on the emulator (cli/demo_guest.c). */
int demo_hypercall_page(struct narrator *n);
int demo_tsc_calibration(struct narrator *n);
int demo_synic_timer(struct narrator *n);

/* A model for a demo, or NULL after reporting (the demos' settings are fixed). */
struct vmodel *demo_model(const char *host, const char *spec);
/* An event, its why, its result: narrate_apply with the demo's error handling. */
struct vres demo_step(struct narrator *n, struct vmodel *m, struct vevent ev);
/* What the guest could see change between two captures, one line each. */
unsigned demo_changes(struct narrator *n, const struct vvisible *before,
                      const struct vvisible *after);

#endif
