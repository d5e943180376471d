/* vsbox msrs: read every viridian MSR once, from the one MSR table, labelled with the
 * group names --viridian takes (viridian/spec.c). */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/options.h"
#include "traces/trace.h"
#include "viridian/msr.h"
#include "viridian/spec.h"

/* "group synic", or for the crash MSRs "no group (crash_ctl only advertises it)". */
static void describe(const struct vprofile *host, const struct vmsr_info *row, uint32_t msr,
                     char *c, size_t len)
{
    char name[48];
    vmsr_name(row, msr, name, sizeof name);
    if (host->hypervisor == VHV_KVM) {
        int g = vmsr_kvm_flag(row);
        snprintf(c, len, "%s, %s%s, KVM%s", name, g < 0 ? "any hv-* flag" : "flag ",
                 g < 0 ? "" : vgroup_info(g)->name, row->rd ? "" : ", write-only");
    } else if (row->gate == VMSR_UNGATED) {
        snprintf(c, len, "%s, no group (%s only advertises it), Xen 4.%u+", name,
                 vgroup_info(row->group)->name, row->since);
    } else {
        snprintf(c, len, "%s, group %s, Xen 4.%u+%s", name, vgroup_info(row->gate)->name,
                 row->since, row->rd ? "" : ", write-only");
    }
}

int cmd_msrs(int argc, char **argv)
{
    struct common_flags flags = { 0 };
    const char *none = NULL;
    const struct opt opts[] = { COMMON_OPTS(&flags), { 0 } };
    const struct command cmd = {
        "msrs", "[OPTIONS]",
        "Print, as a trace v1, a read of every viridian MSR and of Xen's own hypercall-page\n"
        "MSR, each with its result, TLFS name, the group that gates it and the release that\n"
        "added it.\n",
        NULL, opts,
    };
    int p = opts_parse(&cmd, argc, argv, &none);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    struct vmodel *m = settings_model_trace(&flags, stdout);
    if (!m)
        return EXIT_BAD_INPUT;

    char c[200];
    for (size_t i = 0; i < vmsr_count(); i++) {
        uint32_t msr = vmsr_at(i);
        const struct vmsr_info *row = vmsr_find(msr, NULL);
        if (row->gate == VMSR_ARCH || !vmsr_in_release(row, vmodel_host(m)))
            continue;
        struct vevent ev = { .kind = VEV_RDMSR, .a = { msr } };
        struct vres res;
        vmodel_apply(m, &ev, &res);
        describe(vmodel_host(m), row, msr, c, sizeof c);
        trace_write_line(stdout, &ev, &res, c);
    }
    if (vmodel_host(m)->hypervisor == VHV_KVM) {
        vmodel_destroy(m);
        return EXIT_OK;
    }
    struct vevent ev = { .kind = VEV_RDMSR, .a = { vmodel_xen_msr_base(m) } };
    struct vres res;
    vmodel_apply(m, &ev, &res);
    trace_write_line(stdout, &ev, &res, "Xen hypercall page MSR (Xen's own, reads as 0)");
    vmodel_destroy(m);
    /* A failed write leaves standard output's error flag: main reports it, once. */
    return EXIT_OK;
}
