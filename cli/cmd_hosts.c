/* vsbox hosts: the host profile table. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "viridian/spec.h"

static const char usage[] =
    "usage: vsbox hosts\n"
    "List the host profiles (--host): the Xen release each pretends to be, whether its\n"
    "HVM_PARAM_VIRIDIAN is a boolean or a feature mask, and what a boolean 1 means there.\n";

int cmd_hosts(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            fputs(usage, stdout);
            return EXIT_OK;
        }
        return fail("hosts: unexpected argument '%s'", argv[1]);
    }
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
