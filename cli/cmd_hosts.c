/* vsbox hosts: the host profile table, and when each viridian group appeared. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "viridian/hvmpv.h"
#include "viridian/save.h"
#include "viridian/spec.h"

static const char usage[] =
    "usage: vsbox hosts\n"
    "List the host profiles (--host), oldest first: the Xen release each is, whether its\n"
    "HVM_PARAM_VIRIDIAN is a boolean or a feature mask (and which), what `defaults` (or a\n"
    "boolean 1) means there, the size of its viridian save records, the groups it added\n"
    "and what else changed for viridian guests. Then every group: its HVM_PARAM_VIRIDIAN\n"
    "bit, the release that added it and the one that put it in `defaults`. The default\n"
    "host is the newest release.\n";

/* The groups whose name first appears in this release's libxl. */
static void new_groups(const struct vprofile *p, const struct vprofile *prev, char *buf,
                       size_t len)
{
    uint32_t added = p->groups & ~(prev ? prev->groups : 0);
    size_t n = 0;
    buf[0] = 0;
    for (int g = 0; g < VGROUP_COUNT && n < len; g++)
        if (added & (1u << g))
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", vgroup_info(g)->name);
    if (!n)
        snprintf(buf, len, "-");
}

/* The first release with the group in "defaults". */
static const struct vprofile *default_since(int g)
{
    for (unsigned i = 0; vprofile_at(i); i++)
        if (vprofile_at(i)->default_groups & (1u << g))
            return vprofile_at(i);
    return NULL;
}

int cmd_hosts(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            fputs(usage, stdout);
            return EXIT_OK;
        }
        return fail("hosts: unexpected argument '%s'", argv[1]);
    }
    printf("%-8s %-7s %-6s %-7s %-7s %-41s %s\n", "PROFILE", "PARAM", "MASK", "DEFAULT",
           "RECORDS", "NEW GROUPS", "ALSO");
    const struct vprofile *prev = NULL;
    for (unsigned i = 0; vprofile_at(i); i++) {
        const struct vprofile *p = vprofile_at(i);
        char mask[16], defaults[16], records[16], added[160];
        uint64_t dflt = p->param == VPARAM_MASK ? vgroups_to_mask(p->default_groups)
                                                : p->legacy_true_mask;
        snprintf(mask, sizeof mask, p->param == VPARAM_MASK ? "0x%x" : "0/1", p->feature_mask);
        snprintf(defaults, sizeof defaults, "0x%llx", (unsigned long long)dflt);
        snprintf(records, sizeof records, "%u/%u", vsave_domain_size(p->save),
                 vsave_vcpu_size(p->save));
        new_groups(p, prev, added, sizeof added);
        printf("%-8s %-7s %-6s %-7s %-7s %-41s %s%s\n", p->name,
               p->param == VPARAM_MASK ? "mask" : "boolean", mask, defaults, records, added,
               p->summary, p == vprofile_default() ? " (the default host)" : "");
        prev = p;
    }
    printf("\n%-22s %-4s %-6s %-11s %s\n", "GROUP", "BIT", "SINCE", "DEFAULT", "WHAT");
    for (int g = 0; g < VGROUP_COUNT; g++) {
        const struct vgroup_info *gi = vgroup_info(g);
        const struct vprofile *d = default_since(g);
        char bit[8], since[8], in_default[16];
        if (g == VGROUP_FREQ)
            snprintf(bit, sizeof bit, "!%d", _HVMPV_no_freq);
        else
            snprintf(bit, sizeof bit, "%d", __builtin_ctz(gi->hvmpv));
        snprintf(since, sizeof since, "4.%u", gi->since);
        snprintf(in_default, sizeof in_default, d ? "since 4.%u" : "no", d ? d->xen_minor : 0);
        printf("%-22s %-4s %-6s %-11s %s%s\n", gi->name, bit, since, in_default, gi->summary,
               gi->documented ? "" : " (not in xl.cfg(5))");
    }
    return EXIT_OK;
}
