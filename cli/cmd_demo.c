/* vsbox demo: the list, and one demo by name. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/demo.h"
#include "cli/options.h"
#include "viridian/model.h"
#include "viridian/spec.h"

static const struct demo demos[] = {
    { "enlightenments", "one guest under viridian = 0, base, defaults and all: what it sees",
      demo_enlightenments },
    { "feature-mask", "an xl.cfg list becomes HVM_PARAM_VIRIDIAN; EPERM, EEXIST, EINVAL live",
      demo_feature_mask },
    { "migration-bug", "Xen 4.3 -> 4.4 with viridian=1: MSRs appear under a guest; the mask "
      "stops it", demo_migration_bug },
    { "time-ref", "the reference counter across a 45-minute save, beside Xen before f6a07643e1",
      demo_time_ref },
    { "hypercall-page", "the bytes Xen writes into the hypercall page, then executed",
      demo_hypercall_page },
    { "tsc-calibration", "calibrating the TSC against the PIT versus reading the frequency MSR",
      demo_tsc_calibration },
    { "synic-timer", "a periodic synthetic timer: HVMSG_TIMER_EXPIRED messages and SINT interrupts",
      demo_synic_timer },
    { "xen-vs-kvm", "the same questions on Xen 4.22 and on KVM, then a move from one to the other",
      demo_xen_vs_kvm },
};

#define NDEMOS (sizeof demos / sizeof demos[0])

struct vmodel *demo_model(const char *host, const char *spec)
{
    const struct vprofile *h = vprofile_find(host);
    uint64_t mask = 0;
    struct vspec_error se;
    if (!h || vspec_parse(h, spec, &mask, &se) != VERR_OK) {
        fail("demo: no model for %s viridian=%s", host, spec);
        return NULL;
    }
    struct vconfig cfg = { .host = h, .viridian = mask };
    struct vmodel *m = NULL;
    if (vmodel_create(&cfg, &m) != VERR_OK) {
        fail("demo: the model refuses %s viridian=%s", host, spec);
        return NULL;
    }
    return m;
}

struct vres demo_step(struct narrator *n, struct vmodel *m, struct vevent ev)
{
    struct vres res = { .kind = VRES_NONE };
    if (ev.kind == VEV_MIGRATE && !ev.host)
        ev.host = vmodel_host(m);
    narrate_apply(n, m, &ev, &res);
    return res;
}

struct changes {
    struct narrator *n;
};

static void change(void *ctx, enum vdiff_kind kind, const char *what)
{
    struct changes *c = ctx;
    narrate_text(c->n, "  %-6s %s", kind == VDIFF_CHANGE ? "CHANGE" : "note", what);
}

unsigned demo_changes(struct narrator *n, const struct vvisible *before,
                      const struct vvisible *after)
{
    struct changes c = { n };
    unsigned k = vvisible_diff(before, after, change, &c);
    if (!k)
        narrate_text(n, "  (no guest-visible change)");
    return k;
}

int cmd_demo(int argc, char **argv)
{
    static const struct opt opts[] = { { 0 } };
    static const struct command c = {
        "demo", "[NAME]",
        "Without NAME, list the demos. With it, run one: each step says what the guest does\n"
        "(the instruction and its bytes, disassembled), what the model decides and why (the\n"
        "rule, the viridian group and its HVM_PARAM_VIRIDIAN bit, the Xen source file), and\n"
        "what the guest sees. Colour on a terminal only (NO_COLOR turns it off).\n"
        "docs/tutorial.md walks through them in order.\n",
        "NAME", opts,
    };
    const char *name = NULL;
    int p = opts_parse(&c, argc, argv, &name);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    if (!name) {
        for (size_t i = 0; i < NDEMOS; i++)
            printf("%-16s %s\n", demos[i].name, demos[i].summary);
        return EXIT_OK;
    }
    for (size_t i = 0; i < NDEMOS; i++)
        if (strcmp(demos[i].name, name) == 0) {
            struct narrator n;
            narrate_open(&n, stdout);
            int status = demos[i].run(&n);
            narrate_close(&n);
            return status;
        }
    return fail("demo: no demo '%s' (vsbox demo lists them)", name);
}
