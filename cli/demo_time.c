/* Reference time across a save: HV_X64_MSR_TIME_REF_COUNT frozen while the domain waits
 * paused for the toolstack (commit f6a07643e1, first in 4.5.0), beside the model built
 * with that commit undone (planted fault 8), where the counter runs on and jumps. */
#include <stdio.h>
#include "cli/cli.h"
#include "cli/demo.h"
#include "cli/planted8.h"
#include "viridian/hvmpv.h"
#include "viridian/model.h"

#define SECOND 2000000000ull            /* xen-4.22's tsc_khz: 2 GHz */
#define PAUSE (45ull * 60 * SECOND)     /* the 45 minutes of the WMI report */

struct side {
    struct vmodel *m;
    bool planted;
};

static bool side_apply(struct side *s, const struct vevent *ev, struct vres *res)
{
    return s->planted ? planted8_vmodel_apply(s->m, ev, res) : vmodel_apply(s->m, ev, res);
}

static void row(struct narrator *n, const char *what, struct side *fixed, struct side *buggy,
                const struct vevent *ev)
{
    struct vres a, b;
    side_apply(fixed, ev, &a);
    side_apply(buggy, ev, &b);
    char x[32], y[32];
    snprintf(x, sizeof x, a.kind == VRES_VALUE ? "%llu" : a.kind == VRES_OK ? "ok" : "?",
             (unsigned long long)a.v[0]);
    snprintf(y, sizeof y, b.kind == VRES_VALUE ? "%llu" : b.kind == VRES_OK ? "ok" : "?",
             (unsigned long long)b.v[0]);
    narrate_text(n, "  %-40s %14s %18s", what, x, y);
}

struct seen {
    struct narrator *n;
};

static void changed(void *ctx, enum vdiff_kind kind, const char *what)
{
    struct seen *s = ctx;
    narrate_text(s->n, "  %-6s %s", kind == VDIFF_CHANGE ? "CHANGE" : "note", what);
}

int demo_time_ref(struct narrator *n)
{
    narrate_heading(n, "time-ref: the reference counter across a save (host xen-4.22, defaults)");
    narrate_text(n, "HV_X64_MSR_TIME_REF_COUNT counts 100 ns units of guest time. Windows trusts\n"
                    "it never to jump: its WMI service hung after a 45-minute jump. A save\n"
                    "pauses the domain while the toolstack collects it; Xen freezes the counter\n"
                    "for the pause (commit f6a07643e1, first in 4.5.0) and thaws it on restore.");
    narrate_blank(n);
    narrate_heading(n, "One read, narrated");
    struct vmodel *m = demo_model("xen-4.22", "defaults");
    if (!m)
        return EXIT_BAD_INPUT;
    demo_step(n, m, (struct vevent){ .kind = VEV_ADVANCE, .a = { SECOND }, .legacy = -1 });
    demo_step(n, m, (struct vevent){ .kind = VEV_RDMSR, .a = { HV_X64_MSR_TIME_REF_COUNT },
                                     .legacy = -1 });
    vmodel_destroy(m);

    struct vconfig cfg = { .host = vprofile_find("xen-4.22"),
                           .viridian = HVMPV_base_freq | HVMPV_time_ref_count };
    struct vconfig bcfg = cfg;
    bcfg.host = planted8_vprofile_find("xen-4.22");
    struct side fixed = { NULL, false }, buggy = { NULL, true };
    if (vmodel_create(&cfg, &fixed.m) != VERR_OK ||
        planted8_vmodel_create(&bcfg, &buggy.m) != VERR_OK) {
        vmodel_destroy(fixed.m);
        return fail("demo: no model for xen-4.22");
    }
    narrate_blank(n);
    narrate_heading(n, "Side by side: the same events, HVM_PARAM_VIRIDIAN 0x5 on both");
    narrate_text(n, "  %-40s %14s %18s", "event", "with f6a07643e1", "before (fault 8)");
    struct vevent rd = { .kind = VEV_RDMSR, .a = { HV_X64_MSR_TIME_REF_COUNT }, .legacy = -1 };
    struct vevent sec = { .kind = VEV_ADVANCE, .a = { SECOND }, .legacy = -1 };
    struct vevent mig = { .kind = VEV_MIGRATE, .host = cfg.host, .legacy = -1, .a = { PAUSE } };
    struct vevent bmig = mig;
    bmig.host = bcfg.host;
    struct vvisible fb, fa, bb, ba;
    side_apply(&fixed, &sec, &(struct vres){ 0 });
    side_apply(&buggy, &sec, &(struct vres){ 0 });
    row(n, "rdmsr TIME_REF_COUNT after 1 s", &fixed, &buggy, &rd);
    vmodel_visible(fixed.m, &fb);
    planted8_vmodel_visible(buggy.m, &bb);
    struct vres a, b;
    vmodel_apply(fixed.m, &mig, &a);
    planted8_vmodel_apply(buggy.m, &bmig, &b);
    narrate_text(n, "  %-40s %14s %18s", "migrate to xen-4.22, 45 min paused",
                 a.kind == VRES_OK ? "ok" : "refused", b.kind == VRES_OK ? "ok" : "refused");
    vmodel_visible(fixed.m, &fa);
    planted8_vmodel_visible(buggy.m, &ba);
    row(n, "rdmsr TIME_REF_COUNT right after", &fixed, &buggy, &rd);
    side_apply(&fixed, &sec, &(struct vres){ 0 });
    side_apply(&buggy, &sec, &(struct vres){ 0 });
    row(n, "rdmsr TIME_REF_COUNT 1 s later", &fixed, &buggy, &rd);
    narrate_blank(n);
    narrate_text(n, "What vsbox's restore check reports, with f6a07643e1:");
    struct seen s = { n };
    if (!vvisible_diff(&fb, &fa, changed, &s))
        narrate_text(n, "  (no guest-visible change)");
    narrate_text(n, "and before it:");
    if (!planted8_vvisible_diff(&bb, &ba, changed, &s))
        narrate_text(n, "  (no guest-visible change)");
    narrate_blank(n);
    narrate_text(n, "The frozen counter resumes where the guest left it; the running one jumps by\n"
                    "the whole pause. Every vsbox restore compares the two captures, so the jump\n"
                    "is named wherever it happens (tests/planted/test_trc_freeze.c).");
    vmodel_destroy(fixed.m);
    planted8_vmodel_destroy(buggy.m);
    return EXIT_OK;
}
