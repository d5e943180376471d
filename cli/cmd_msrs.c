/* vsbox msrs: read every viridian MSR once, from the one MSR table. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/options.h"
#include "traces/trace.h"
#include "viridian/msr.h"
#include "viridian/spec.h"

int cmd_msrs(int argc, char **argv)
{
    struct common_flags flags = { 0 };
    const char *none = NULL;
    const struct opt opts[] = { COMMON_OPTS(&flags), { 0 } };
    const struct command cmd = {
        "msrs", "[OPTIONS]",
        "Print, as a trace v1, a read of every viridian MSR and of Xen's own hypercall-page\n"
        "MSR, each with its result, TLFS name and the group that gates it.\n",
        NULL, opts,
    };
    int p = opts_parse(&cmd, argc, argv, &none);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    struct vmodel *m = settings_model_trace(&flags, stdout);
    if (!m)
        return EXIT_BAD_INPUT;

    size_t n;
    const struct vmsr_info *table = vmsr_table(&n);
    char c[200];
    for (size_t i = 0; i < n; i++) {
        if (table[i].group == VMSR_ARCH)
            continue;
        struct vevent ev = { .kind = VEV_RDMSR, .a = { table[i].msr } };
        struct vres res;
        vmodel_apply(m, &ev, &res);
        snprintf(c, sizeof c, "%s, group %s%s", table[i].name, vgroup_info(table[i].group)->name,
                 table[i].rd ? "" : ", write-only");
        trace_write_line(stdout, &ev, &res, c);
    }
    struct vevent ev = { .kind = VEV_RDMSR, .a = { vmodel_xen_msr_base(m) } };
    struct vres res;
    vmodel_apply(m, &ev, &res);
    trace_write_line(stdout, &ev, &res, "Xen hypercall page MSR (Xen's own, reads as 0)");
    vmodel_destroy(m);
    /* A failed write leaves standard output's error flag: main reports it, once. */
    return EXIT_OK;
}
