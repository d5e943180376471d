/* vsbox hosts: the host profile table and the group table, both from viridian/. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/options.h"
#include "viridian/hvmpv.h"
#include "viridian/save.h"
#include "viridian/spec.h"

/* The groups whose name first appears in this release's libxl. */
static void new_groups(const struct vprofile *p, const struct vprofile *prev, char *buf,
                       size_t len)
{
    uint64_t added = p->groups & ~(prev ? prev->groups : 0);
    size_t n = 0;
    buf[0] = 0;
    for (int g = 0; g < VGROUP_FIRST_KVM && n < len; g++)
        if (added & (1ull << g))
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", vgroup_info(g)->name);
    if (!n)
        snprintf(buf, len, "-");
}

/* The first release with the group in "defaults". */
static const struct vprofile *default_since(int g)
{
    for (unsigned i = 0; vprofile_at(i); i++)
        if (vprofile_at(i)->default_groups & (1ull << g))
            return vprofile_at(i);
    return NULL;
}

/* The KVM host's row and its CPU flags (--hv): QEMU's names, what each needs, whether
 * hv-passthrough turns it on. */
static void kvm_host(void)
{
    const struct vprofile *k = vprofile_kvm();
    printf("\n%-8s %s (--host %s with QEMU CPU flags)\n", k->name, k->summary, k->name);
    printf("\n%-26s %-4s %-11s %-22s %s\n", "FLAG", "BIT", "PASSTHROUGH", "NEEDS", "WHAT");
    for (int g = VGROUP_FIRST_KVM; g < VGROUP_COUNT; g++) {
        const struct vgroup_info *gi = vgroup_info(g);
        char needs[64] = "-";
        size_t n = 0;
        for (int r = VGROUP_FIRST_KVM; r < VGROUP_COUNT && n < sizeof needs; r++)
            if (gi->requires & (1ull << r))
                n += (size_t)snprintf(needs + n, sizeof needs - n, "%s%s", n ? "," : "",
                                      vgroup_info(r)->name);
        printf("%-26s %-4d %-11s %-22s %s\n", gi->name, __builtin_ctz(gi->hvmpv),
               gi->passthrough ? "yes" : "no", needs, gi->summary);
    }
}

int cmd_hosts(int argc, char **argv)
{
    static const struct opt opts[] = { { 0 } };
    static const struct command c = {
        "hosts", "",
        "List the host profiles other commands take by name, oldest first: the Xen release\n"
        "each is, whether its HVM_PARAM_VIRIDIAN is a boolean or a feature mask (and which),\n"
        "what `defaults` (or a boolean 1) means there, the size of its viridian save records,\n"
        "the groups it added and what else changed for viridian guests. Then every group: its\n"
        "HVM_PARAM_VIRIDIAN bit, the release that added it and the one that put it in\n"
        "`defaults`. The default host is the newest release. Last the KVM host (Linux KVM\n"
        "with QEMU) and the QEMU CPU flags it takes.\n",
        NULL, opts,
    };
    const char *none = NULL;
    int p = opts_parse(&c, argc, argv, &none);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    printf("%-8s %-7s %-6s %-7s %-7s %-41s %s\n", "PROFILE", "PARAM", "MASK", "DEFAULT",
           "RECORDS", "NEW GROUPS", "ALSO");
    const struct vprofile *prev = NULL;
    for (unsigned i = 0; vprofile_at(i); i++) {
        const struct vprofile *h = vprofile_at(i);
        char mask[16], defaults[16], records[16], added[160];
        uint64_t dflt = h->param == VPARAM_MASK ? vgroups_to_mask(h->default_groups)
                                                : h->legacy_true_mask;
        snprintf(mask, sizeof mask, h->param == VPARAM_MASK ? "0x%x" : "0/1", h->feature_mask);
        snprintf(defaults, sizeof defaults, "0x%llx", (unsigned long long)dflt);
        snprintf(records, sizeof records, "%u/%u", vsave_domain_size(h->save),
                 vsave_vcpu_size(h->save));
        new_groups(h, prev, added, sizeof added);
        printf("%-8s %-7s %-6s %-7s %-7s %-41s %s%s\n", h->name,
               h->param == VPARAM_MASK ? "mask" : "boolean", mask, defaults, records, added,
               h->summary, h == vprofile_default() ? " (the default host)" : "");
        prev = h;
    }
    printf("\n%-22s %-4s %-6s %-11s %s\n", "GROUP", "BIT", "SINCE", "DEFAULT", "WHAT");
    for (int g = 0; g < VGROUP_FIRST_KVM; g++) {
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
    kvm_host();
    return EXIT_OK;
}
