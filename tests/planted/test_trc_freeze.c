/* Built with the planted fault FAULT_TRC_RUNS_PAUSED (viridian/planted.h): Xen before
 * commit f6a07643e1 ("x86/viridian: freeze time reference counter when domain is
 * paused", first in RELEASE-4.5.0), where HV_X64_MSR_TIME_REF_COUNT kept counting while a
 * suspended domain waited for the toolstack to collect its context, and Windows' WMI
 * service hung after a 45-minute jump. The check every migration and restore runs
 * (vvisible_diff) must name the jump. */
#include <criterion/criterion.h>
#include <string.h>
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/planted.h"
#include "viridian/visible.h"

#if VSBOX_FAULT != 8
#error "test_trc_freeze is built only with FAULT_TRC_RUNS_PAUSED"
#endif

struct seen {
    char line[8][256];
    int n;
    unsigned changes;
};

static void collect(void *ctx, enum vdiff_kind kind, const char *what)
{
    struct seen *s = ctx;
    if (s->n < 8)
        strcpy(s->line[s->n++], what);
    s->changes += kind == VDIFF_CHANGE;
}

Test(trc_freeze, the_migration_check_names_a_counter_that_ran_while_paused)
{
    struct vconfig cfg = { .host = vprofile_find("xen-4.22"),
                           .viridian = HVMPV_base_freq | HVMPV_time_ref_count };
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    vmodel_advance(m, 2000000000ull);
    struct vvisible before, after;
    vmodel_pause(m);
    vmodel_visible(m, &before);
    /* 45 minutes at 2 GHz waiting for the save */
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.22"), -1, 5400000000000ull), VRES_OK);
    vmodel_visible(m, &after);
    struct seen s = { 0 };
    vvisible_diff(&before, &after, collect, &s);
    bool named = false;
    for (int i = 0; i < s.n; i++)
        /* floor(5.402e12 * 21474836 / 2^32) - floor(2e9 * 21474836 / 2^32) (4.22 trc_val) */
        named |= strstr(s.line[i], "HV_X64_MSR_TIME_REF_COUNT jumped forward by 26999999397") !=
                 NULL;
    cr_assert(named, "the jump went unreported (%d lines: %s)", s.n, s.n ? s.line[0] : "");
    cr_assert_geq(s.changes, 1);
    vmodel_destroy(m);
}
