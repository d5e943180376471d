/* vsbox hosts: the host profile table. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/options.h"
#include "viridian/spec.h"

int cmd_hosts(int argc, char **argv)
{
    static const struct opt opts[] = { { 0 } };
    static const struct command c = {
        "hosts", "",
        "List the host profiles other commands take by name: the Xen release each pretends to\n"
        "be, whether its "
        "HVM_PARAM_VIRIDIAN is a boolean or a feature mask, and what a boolean 1\n"
        "means there.\n",
        NULL, opts,
    };
    const char *none = NULL;
    int p = opts_parse(&c, argc, argv, &none);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    printf("%-9s %-7s %-6s %-15s %-10s %s\n", "PROFILE", "PARAM", "MASK", "VIRIDIAN=1 IS", "TSC kHz",
           "SUMMARY");
    for (unsigned i = 0; vprofile_at(i); i++) {
        const struct vprofile *p = vprofile_at(i);
        char legacy[64], mask[16];
        vspec_format(vprofile_find("xen-4.5"), p->legacy_true_mask, legacy, sizeof legacy);
        snprintf(mask, sizeof mask, p->param == VPARAM_MASK ? "0x%x" : "-", p->feature_mask);
        printf("%-9s %-7s %-6s %-15s %-10u %s\n", p->name,
               p->param == VPARAM_MASK ? "mask" : "boolean", mask, legacy, p->tsc_khz, p->summary);
    }
    return EXIT_OK;
}
