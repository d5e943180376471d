/* The demos that need only the model: what a guest sees under each viridian setting, how
 * an xl.cfg list becomes the feature mask and the rules that guard it, and the migration
 * bug the mask was made to end. */
#include <stdio.h>
#include "cli/cli.h"
#include "cli/demo.h"
#include "viridian/hvkvm.h"
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/spec.h"

#define CPUID(leaf) (struct vevent){ .kind = VEV_CPUID, .a = { (leaf), 0 }, .legacy = -1 }
#define RDMSR(msr) (struct vevent){ .kind = VEV_RDMSR, .a = { (msr) }, .legacy = -1 }
#define PARAM(v, guest) \
    (struct vevent){ .kind = VEV_PARAM_SET, .a = { (v) }, .from_guest = (guest), .legacy = -1 }

int demo_enlightenments(struct narrator *n)
{
    static const char *const specs[] = { "0", "base", "defaults", "all" };
    narrate_heading(n, "enlightenments: one guest, four viridian settings (host xen-4.22)");
    narrate_text(n, "The guest asks who the hypervisor is (CPUID 0x40000000), what it may use\n"
                    "(CPUID 0x40000003), then reads the TSC frequency MSR. Only the xl.cfg line\n"
                    "viridian = ... differs between the runs.");
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct vmodel *m = demo_model("xen-4.22", specs[i]);
        if (!m)
            return EXIT_BAD_INPUT;
        char spec[256];
        vspec_format(vmodel_host(m), vmodel_param(m), spec, sizeof spec);
        narrate_blank(n);
        narrate_heading(n, "viridian = %s: HVM_PARAM_VIRIDIAN 0x%llx", specs[i],
                        (unsigned long long)vmodel_param(m));
        if (vmodel_param(m))
            narrate_text(n, "groups: %s", spec);
        demo_step(n, m, CPUID(0x40000000));
        demo_step(n, m, CPUID(0x40000003));
        demo_step(n, m, RDMSR(HV_X64_MSR_TSC_FREQUENCY));
        vmodel_destroy(m);
    }
    narrate_blank(n);
    narrate_text(n, "Without viridian the leaves at 0x40000000 are Xen's own, and 0x40000003 is\n"
                    "Xen's time leaf. Each group adds its CPUID bits and its MSRs; a guest that\n"
                    "uses an MSR its CPUID did not advertise takes a #GP.");
    return EXIT_OK;
}

static void spec_result(struct narrator *n, const struct vprofile *h, const char *spec)
{
    uint64_t mask;
    struct vspec_error se;
    if (vspec_parse(h, spec, &mask, &se) == VERR_OK) {
        narrate_text(n, "  viridian = %-32s -> 0x%llx", spec, (unsigned long long)mask);
        return;
    }
    char msg[256];
    vspec_strerror(&se, msg, sizeof msg);
    narrate_text(n, "  viridian = %-32s -> libxl: %s", spec, msg);
}

int demo_feature_mask(struct narrator *n)
{
    const struct vprofile *h = vprofile_find("xen-4.22");
    const char *list = "[ \"base\", \"!freq\", \"stimer\" ]";
    uint64_t mask = 0;
    if (vspec_parse(h, list, &mask, NULL) != VERR_OK)
        return fail("demo: the demo's own list is refused");
    narrate_heading(n, "feature-mask: an xl.cfg list becomes HVM_PARAM_VIRIDIAN (host xen-4.22)");
    narrate_text(n, "xl.cfg: viridian = %s", list);
    narrate_text(n, "libxl's hvm_set_viridian_features() turns each group into its bit:");
    static const enum vgroup items[] = { VGROUP_BASE, VGROUP_FREQ, VGROUP_STIMER };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        const struct vgroup_info *gi = vgroup_info(items[i]);
        if (items[i] == VGROUP_FREQ) {
            narrate_text(n, "  !freq   -> HVMPV_no_freq (bit %d) set: no frequency MSRs",
                         _HVMPV_no_freq);
            continue;
        }
        narrate_text(n, "  %-7s -> bit %d (0x%x)%s", gi->name, __builtin_ctz(gi->hvmpv),
                     gi->hvmpv, gi->implies ? ", and silently:" : "");
        for (int g = 0; g < VGROUP_FIRST_KVM; g++)
            if (gi->implies & vgroup_info(g)->hvmpv && g != VGROUP_BASE)
                narrate_text(n, "            %s, bit %d (0x%x)", vgroup_info(g)->name,
                             __builtin_ctz(vgroup_info(g)->hvmpv), vgroup_info(g)->hvmpv);
    }
    narrate_text(n, "HVM_PARAM_VIRIDIAN = 0x%llx. What libxl refuses:", (unsigned long long)mask);
    spec_result(n, h, "[ \"stimer\" ]");
    spec_result(n, h, "[ \"!freq\", \"all\" ]");
    spec_result(n, h, "[ \"base\", \"turbo\" ]");
    narrate_blank(n);
    narrate_heading(n, "The parameter's rules, live: a domain built with viridian = 0");
    struct vmodel *m = demo_model("xen-4.22", "0");
    if (!m)
        return EXIT_BAD_INPUT;
    demo_step(n, m, PARAM(mask, false));
    demo_step(n, m, PARAM(HVMPV_base_freq, true));
    demo_step(n, m, PARAM(HVMPV_base_freq, false));
    demo_step(n, m, PARAM(mask, false));
    demo_step(n, m, (struct vevent){ .kind = VEV_PARAM_GET, .from_guest = true, .legacy = -1 });
    demo_step(n, m, CPUID(0x40000003));
    vmodel_destroy(m);
    narrate_blank(n);
    narrate_heading(n, "A value the hypervisor itself refuses, on a fresh domain");
    m = demo_model("xen-4.22", "0");
    if (!m)
        return EXIT_BAD_INPUT;
    demo_step(n, m, PARAM(HVMPV_no_freq, false));
    demo_step(n, m, PARAM(HVMPV_base_freq | 1u << 13, false));
    vmodel_destroy(m);
    narrate_blank(n);
    narrate_text(n, "Once set, the mask cannot change under a running guest: not by the guest\n"
                    "(EPERM), not by the toolstack (EEXIST). That is the seed patch's promise.");
    return EXIT_OK;
}

/* One migration, narrated with what the guest could see change. */
static void move(struct narrator *n, struct vmodel *m, const char *to)
{
    struct vvisible before, after;
    vmodel_visible(m, &before);
    struct vevent ev = { .kind = VEV_MIGRATE, .host = vprofile_find(to), .legacy = -1 };
    struct vres res = demo_step(n, m, ev);
    if (res.kind != VRES_OK)
        return;
    vmodel_visible(m, &after);
    narrate_text(n, "  What the guest could see change (vsbox's check after every restore):");
    demo_changes(n, &before, &after);
}

/* Leaf 3 and the frequency MSR, the move, and the same two again. */
static int before_and_after(struct narrator *n, const char *from, const char *spec,
                            const char *to)
{
    struct vmodel *m = demo_model(from, spec);
    if (!m)
        return EXIT_BAD_INPUT;
    for (int round = 0; round < 2; round++) {
        if (round)
            move(n, m, to);
        demo_step(n, m, CPUID(0x40000003));
        demo_step(n, m, RDMSR(HV_X64_MSR_TSC_FREQUENCY));
    }
    vmodel_destroy(m);
    return EXIT_OK;
}

int demo_migration_bug(struct narrator *n)
{
    narrate_heading(n, "migration-bug: Xen 4.3 -> Xen 4.4 with viridian = 1");
    narrate_text(n, "Before Xen 4.5 viridian was one boolean, and 1 meant whatever that release\n"
                    "had: 4.4 added the TSC and APIC frequency MSRs (commit 84657efd). A running\n"
                    "guest moved from 4.3 to 4.4 saw them appear under it.");
    if (before_and_after(n, "xen-4.3", "1", "xen-4.4"))
        return EXIT_BAD_INPUT;
    narrate_blank(n);
    narrate_heading(n, "The same move with the feature mask: Xen 4.5 -> Xen 4.6, viridian = "
                       "[ \"base\", \"!freq\" ]");
    narrate_text(n, "From 4.5 the stream carries HVM_PARAM_VIRIDIAN itself, and the 4.3 set is\n"
                    "named: base without freq (HVMPV_no_freq). The destination sets exactly that.");
    return before_and_after(n, "xen-4.5", "base,!freq", "xen-4.6");
}

/* The same questions asked of both hypervisors, then a move from one to the other. */
int demo_xen_vs_kvm(struct narrator *n)
{
    static const char *const hosts[][2] = {
        { "xen-4.22", "all" },
        /* what libvirt and virt-manager give a Windows guest today */
        { "kvm", "hv-relaxed,hv-vapic,hv-time,hv-vpindex,hv-synic,hv-stimer,hv-frequencies,"
                 "hv-tlbflush,hv-ipi,hv-reset" },
    };
    narrate_heading(n, "xen-vs-kvm: one guest's questions on Xen 4.22 and on KVM");
    narrate_text(n, "KVM (with QEMU) offers the same Hyper-V interface, switched on flag by flag\n"
                    "(-cpu ...,hv-relaxed,hv-vapic,...) where Xen has its viridian groups. The\n"
                    "guest cannot tell who made the answers, only what they are.");
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        struct vmodel *m = demo_model(hosts[i][0], hosts[i][1]);
        if (!m)
            return EXIT_BAD_INPUT;
        narrate_blank(n);
        narrate_heading(n, "%s, %s", hosts[i][0], hosts[i][1]);
        demo_step(n, m, CPUID(0x40000003));
        demo_step(n, m, CPUID(0x40000100));
        demo_step(n, m, RDMSR(HV_X64_MSR_RESET));
        vmodel_destroy(m);
    }
    narrate_blank(n);
    narrate_heading(n, "A guest moved from Xen 4.22 (viridian = defaults) to KVM");
    narrate_text(n, "Xen's save stream carries HVM_PARAM_VIRIDIAN; KVM's carries CPU flags. vsbox\n"
                    "picks the flags closest to what the guest saw (a lost bit counts twice a new\n"
                    "one) and names every change the guest could notice.");
    struct vmodel *m = demo_model("xen-4.22", "defaults");
    if (!m)
        return EXIT_BAD_INPUT;
    /* a second of the guest's life first, so that the counter has something to keep */
    demo_step(n, m, (struct vevent){ .kind = VEV_ADVANCE, .a = { 2000000000 }, .legacy = -1 });
    demo_step(n, m, RDMSR(HV_X64_MSR_TIME_REF_COUNT));
    move(n, m, "kvm");
    demo_step(n, m, RDMSR(HV_X64_MSR_TIME_REF_COUNT));
    vmodel_destroy(m);
    narrate_blank(n);
    narrate_text(n, "The reference counter (100 ns units) carried on across the move: the\n"
                    "guest's clock survives it. What changed is identification and what is\n"
                    "advertised; a guest that checks only the bits it uses keeps running.\n"
                    "vsbox replay --host kvm --suggest asks the same of a real KVM capture.");
    return EXIT_OK;
}
