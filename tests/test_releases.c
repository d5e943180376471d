/* Every host profile against the Xen source at its release tag. Each row was written by
 * hand from that tag (git show RELEASE-4.x.0:...), not from vsbox:
 *   mask      xen/include/public/hvm/params.h HVMPV_feature_mask
 *   defaults  libxl's hvm_set_viridian_features() "Enable defaults" (tools/libxl/libxl_dom.c
 *             to 4.14, tools/libs/light/libxl_x86.c from 4.15), turned into the mask by the
 *             same function's "mask |= ..." lines; all: xl_parse.c "all" ->
 *             libxl_bitmap_set_any(), so every group that release's libxl_types.idl names
 *   leaves    cpuid_viridian_leaves() (xen/arch/x86/hvm/viridian.c, viridian/viridian.c
 *             from 4.12) for the `all` mask and a Windows guest OS id (os 4): leaf 2's
 *             build/version, leaf 3 EAX/EDX, leaf 4 EAX, leaf 5 EAX
 *   xen       cpuid_hypervisor_leaves(): XEN_CPUID_MAX_NUM_LEAVES (public/arch-x86/cpuid.h)
 *             and the XEN_HVM_CPUID_* flags of leaf base+4 (hvm_hypervisor_cpuid_leaf()
 *             to 4.8)
 *   wrmsr     vmx_msr_write_intercept(): an unhandled write is dropped to 4.10 ("case 0:
 *             case 1: break;"), #GP from 4.11 (commit 1f1d183d49)
 *   records   public/arch-x86/hvm/save.h: sizeof hvm_viridian_domain_context and
 *             hvm_viridian_vcpu_context */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/msr.h"
#include "viridian/save.h"
#include "viridian/spec.h"

#define WIN7 0x0001040601001db0ull /* guest OS id: vendor 1, os 4 (NT), 6.1 */

struct rules {
    const char *host;
    bool boolean;
    uint32_t mask;
    uint64_t defaults, all;
    uint32_t l2a, l2b, l3a, l3d, l4a, l5a;
    uint32_t l3d_defaults;
    uint32_t xen_limit, xen_leaf4;
    bool wrmsr_gp;
    uint32_t dom, vcpu;
};

static const struct rules rules[] = {
    /* 4.3/4.4: HVM_PARAM_VIRIDIAN is "a.value > 1 -> EINVAL" (hvm.c do_hvm_op); 1 means
     * the base set on 4.3 and base + the frequency MSRs on 4.4 (84657efd). */
    { "xen-4.3", true, 0, 1, 1, 1, 0x40003, 0x70, 0, 0x28, 0, 0, 2, 0, false, 16, 8 },
    { "xen-4.4", true, 0, 1, 1, 1, 0x40004, 0x870, 0, 0x28, 0, 0, 2, 0, false, 16, 8 },
    { "xen-4.5", false, 0x7, 0x5, 0x5, 1, 0x40005, 0x872, 0, 0x28, 0, 0, 4, 0x4, false, 24, 8 },
    { "xen-4.6", false, 0xf, 0x5, 0xd, 1, 0x40006, 0xa72, 0, 0x28, 0, 0, 4, 0xc, false, 32, 8 },
    { "xen-4.7", false, 0x3f, 0x25, 0x3d, 1, 0x40007, 0xa72, 0, 0x2c, 0, 0, 4, 0xc, false, 32, 16 },
    { "xen-4.8", false, 0x3f, 0x25, 0x3d, 1, 0x40008, 0xa72, 0, 0x2c, 0, 0, 4, 0xc, false, 32, 16 },
    /* 4.9: crash_ctl (CPUID3D_CRASH_MSRS), leaf 2 = Windows Server 2008's 6.0.0x1772 */
    { "xen-4.9", false, 0x7f, 0x65, 0x7d, 0x1772, 0x60000, 0xa72, 0x400, 0x2c, 0, 0x400, 4, 0xc,
      false, 32, 16 },
    { "xen-4.10", false, 0x7f, 0x65, 0x7d, 0x1772, 0x60000, 0xa72, 0x400, 0x2c, 0, 0x400, 5, 0xc,
      false, 32, 16 },
    { "xen-4.11", false, 0x7f, 0x65, 0x7d, 0x1772, 0x60000, 0xa72, 0x400, 0x2c, 0, 0x400, 5,
      0x1c, true, 32, 16 },
    { "xen-4.12", false, 0x7f, 0x65, 0x7d, 0x1772, 0x60000, 0xa72, 0x400, 0x2c, 0, 0x400, 5,
      0x1c, true, 32, 16 },
    /* 4.13: synic (AccessSynicRegs, CPUID3D_SINT_POLLING), stimer (AccessSyntheticTimerRegs),
     * hcall_ipi (CPUID4A_SYNTHETIC_CLUSTER_IPI); all = 0x3ff less HVMPV_no_freq */
    { "xen-4.13", false, 0x3ff, 0x65, 0x3fd, 0x1772, 0x60000, 0xa7e, 0x20400, 0x42c, 0, 0x400, 5,
      0x1c, true, 32, 216 },
    { "xen-4.14", false, 0x3ff, 0x65, 0x3fd, 0x1772, 0x60000, 0xa7e, 0x20400, 0x42c, 0, 0x400, 5,
      0x1c, true, 32, 216 },
    /* 4.15: ex_processor_masks (CPUID4A_EX_PROCESSOR_MASKS), no_vp_limit (leaf 5 EAX -1),
     * cpu_hotplug (CPUID3D_CPU_DYNAMIC_PARTITIONING); the last two join the defaults */
    { "xen-4.15", false, 0x1fff, 0x1865, 0x1ffd, 0x1772, 0x60000, 0xa7e, 0x20408, 0xc2c,
      0xffffffff, 0x408, 5, 0x1c, true, 32, 216 },
    { "xen-4.16", false, 0x1fff, 0x1865, 0x1ffd, 0x1772, 0x60000, 0xa7e, 0x20408, 0xc2c,
      0xffffffff, 0x408, 5, 0x1c, true, 32, 216 },
    /* 4.17: XEN_HVM_CPUID_UPCALL_VECTOR in Xen's leaf base+4 */
    { "xen-4.17", false, 0x1fff, 0x1865, 0x1ffd, 0x1772, 0x60000, 0xa7e, 0x20408, 0xc2c,
      0xffffffff, 0x408, 5, 0x5c, true, 32, 216 },
    { "xen-4.18", false, 0x1fff, 0x1865, 0x1ffd, 0x1772, 0x60000, 0xa7e, 0x20408, 0xc2c,
      0xffffffff, 0x408, 5, 0x5c, true, 32, 216 },
    { "xen-4.19", false, 0x1fff, 0x1865, 0x1ffd, 0x1772, 0x60000, 0xa7e, 0x20408, 0xc2c,
      0xffffffff, 0x408, 5, 0x5c, true, 32, 216 },
    { "xen-4.20", false, 0x1fff, 0x1865, 0x1ffd, 0x1772, 0x60000, 0xa7e, 0x20408, 0xc2c,
      0xffffffff, 0x408, 5, 0x5c, true, 32, 216 },
    { "xen-4.21", false, 0x1fff, 0x1865, 0x1ffd, 0x1772, 0x60000, 0xa7e, 0x20408, 0xc2c,
      0xffffffff, 0x408, 5, 0x5c, true, 32, 216 },
    { "xen-4.22", false, 0x1fff, 0x1865, 0x1ffd, 0x1772, 0x60000, 0xa7e, 0x20408, 0xc2c,
      0xffffffff, 0x408, 5, 0x5c, true, 32, 216 },
};

#define NRULES (sizeof rules / sizeof rules[0])

static uint64_t spec(const struct vprofile *h, const char *text)
{
    uint64_t mask = 0xdead;
    struct vspec_error err = { 0 };
    cr_assert_eq(vspec_parse(h, text, &mask, &err), VERR_OK, "%s: '%s' refused (%d)", h->name,
                 text, err.code);
    return mask;
}

static struct vmodel *on(const struct vprofile *h, uint64_t viridian)
{
    struct vconfig cfg = { .host = h, .viridian = viridian };
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK, "%s 0x%llx", h->name,
                 (unsigned long long)viridian);
    return m;
}

Test(releases, there_is_one_profile_per_release_from_4_3_to_4_22_and_the_newest_is_default)
{
    unsigned i = 0;
    for (; vprofile_at(i); i++) {
        cr_assert_eq(vprofile_at(i)->xen_minor, 3 + i);
        cr_assert_str_eq(vprofile_at(i)->name, rules[i].host);
    }
    cr_assert_eq(i, NRULES);
    cr_assert_str_eq(vprofile_default()->name, "xen-4.22");
}

Test(releases, param_mask_defaults_and_all_are_xens)
{
    for (size_t i = 0; i < NRULES; i++) {
        const struct vprofile *h = vprofile_find(rules[i].host);
        cr_assert_eq(h->param == VPARAM_BOOLEAN, rules[i].boolean, "%s", h->name);
        if (!rules[i].boolean)
            cr_expect_eq(h->feature_mask, rules[i].mask, "%s: mask 0x%x", h->name,
                         h->feature_mask);
        cr_expect_eq(spec(h, "1"), rules[i].defaults, "%s: viridian=1", h->name);
        if (!rules[i].boolean) {
            cr_expect_eq(spec(h, "defaults"), rules[i].defaults, "%s: defaults", h->name);
            cr_expect_eq(spec(h, "all"), rules[i].all, "%s: all -> 0x%llx", h->name,
                         (unsigned long long)spec(h, "all"));
        }
    }
}

Test(releases, cpuid_leaves_with_every_group_match_the_source)
{
    for (size_t i = 0; i < NRULES; i++) {
        const struct vprofile *h = vprofile_find(rules[i].host);
        struct vmodel *m = on(h, rules[i].all);
        uint32_t r[4];
        cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_GUEST_OS_ID, WIN7), 0);
        vmodel_cpuid(m, 0, 0x40000002, 0, r);
        cr_expect(r[0] == rules[i].l2a && r[1] == rules[i].l2b, "%s: leaf 2 0x%x 0x%x", h->name,
                  r[0], r[1]);
        vmodel_cpuid(m, 0, 0x40000003, 0, r);
        cr_expect(r[0] == rules[i].l3a && r[1] == 0 && r[3] == rules[i].l3d,
                  "%s: leaf 3 EAX 0x%x EBX 0x%x EDX 0x%x", h->name, r[0], r[1], r[3]);
        vmodel_cpuid(m, 0, 0x40000004, 0, r);
        cr_expect(r[0] == rules[i].l4a && r[1] == 2047, "%s: leaf 4 0x%x 0x%x", h->name, r[0],
                  r[1]);
        vmodel_cpuid(m, 0, 0x40000005, 0, r);
        cr_expect_eq(r[0], rules[i].l5a, "%s: leaf 5 0x%x", h->name, r[0]);
        vmodel_cpuid(m, 0, 0x40000100, 0, r);
        cr_expect_eq(r[0], 0x40000100 + rules[i].xen_limit, "%s: Xen limit 0x%x", h->name, r[0]);
        vmodel_cpuid(m, 0, 0x40000101, 0, r);
        cr_expect_eq(r[0], 4u << 16 | h->xen_minor, "%s: Xen version", h->name);
        if (rules[i].xen_limit >= 4) {
            vmodel_cpuid(m, 0, 0x40000104, 0, r);
            cr_expect_eq(r[0], rules[i].xen_leaf4, "%s: Xen leaf 4 0x%x", h->name, r[0]);
        }
        vmodel_destroy(m);
        m = on(h, rules[i].defaults);
        vmodel_cpuid(m, 0, 0x40000003, 0, r);
        cr_expect_eq(r[3], rules[i].l3d_defaults, "%s: defaults leaf 3 EDX 0x%x", h->name, r[3]);
        vmodel_destroy(m);
    }
}

Test(releases, unhandled_writes_are_dropped_to_4_10_and_fault_from_4_11)
{
    for (size_t i = 0; i < NRULES; i++) {
        const struct vprofile *h = vprofile_find(rules[i].host);
        struct vmodel *m = on(h, rules[i].defaults);
        uint64_t v;
        /* HV_X64_MSR_TSC_FREQUENCY has no write case in any release. */
        int want = rules[i].wrmsr_gp ? -1 : 0;
        cr_expect_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_TSC_FREQUENCY, 5), want, "%s", h->name);
        cr_expect_eq(vmodel_wrmsr(m, 0, 0x40000003, 5), want, "%s: no such MSR", h->name);
        cr_expect_eq(vmodel_rdmsr(m, 0, 0x40000003, &v), -1, "%s: reads always fault", h->name);
        vmodel_destroy(m);
    }
}

Test(releases, save_records_have_the_release_layout)
{
    for (size_t i = 0; i < NRULES; i++) {
        const struct vprofile *h = vprofile_find(rules[i].host);
        cr_expect_eq(vsave_domain_size(h->save), rules[i].dom, "%s", h->name);
        cr_expect_eq(vsave_vcpu_size(h->save), rules[i].vcpu, "%s", h->name);
    }
}

/* What the destination's toolstack does with the stream's HVM_PARAM_VIRIDIAN:
 *   4.3/4.4 tools/libxc/xc_domain_restore.c: "if (pagebuf.viridian != 0)
 *           xc_set_hvm_param(xch, dom, HVM_PARAM_VIRIDIAN, 1);" (result unused)
 *   4.5     the same file: "xc_hvm_param_set(xch, dom, HVM_PARAM_VIRIDIAN,
 *           pagebuf.viridian);" (result unused)
 *   4.6+    tools/libxc/xc_sr_restore_x86_hvm.c (tools/libs/guest/xg_sr_restore_x86_hvm.c
 *           from 4.15) handle_hvm_params(): "PERROR(\"set HVM param ...\"); return rc;" */
Test(releases, each_toolstack_restores_the_parameter_its_own_way)
{
    for (size_t i = 0; i < NRULES; i++) {
        const struct vprofile *h = vprofile_find(rules[i].host);
        enum vrestore_kind want = h->xen_minor <= 4   ? VRESTORE_BOOL
                                  : h->xen_minor == 5 ? VRESTORE_IGNORED
                                                      : VRESTORE_V2;
        cr_expect_eq(h->restore, want, "%s", h->name);
    }
}

/* The groups a release's libxl_types.idl names: the first release that accepts each. */
Test(releases, each_group_name_is_known_from_its_first_release)
{
    static const struct { const char *name; unsigned since; } first[] = {
        { "base", 5 },          { "freq", 5 },      { "time_ref_count", 5 },
        { "reference_tsc", 6 }, { "hcall_remote_tlb_flush", 7 }, { "apic_assist", 7 },
        { "crash_ctl", 9 },     { "synic", 13 },    { "stimer", 13 },
        { "hcall_ipi", 13 },    { "ex_processor_masks", 15 },    { "no_vp_limit", 15 },
        { "cpu_hotplug", 15 },
    };
    for (size_t g = 0; g < sizeof first / sizeof first[0]; g++) {
        cr_assert_eq(vgroup_by_name(first[g].name, strlen(first[g].name)), (int)g);
        cr_assert_eq(vgroup_info(g)->since, first[g].since, "%s", first[g].name);
        for (unsigned minor = 5; minor <= 22; minor++) {
            const struct vprofile *h = vprofile_of(4, minor);
            char text[64];
            snprintf(text, sizeof text, "base,%s", first[g].name);
            uint64_t mask;
            struct vspec_error err;
            enum verr e = vspec_parse(h, text, &mask, &err);
            cr_expect_eq(e == VERR_OK, minor >= first[g].since, "%s on %s: %d", first[g].name,
                         h->name, e);
        }
    }
}

/* libxl 4.13+: "if (libxl_bitmap_test(&enlightenments, LIBXL_VIRIDIAN_ENLIGHTENMENT_STIMER))
 * mask |= HVMPV_time_ref_count | HVMPV_synic | HVMPV_stimer;" - no error, no message. */
Test(releases, stimer_silently_brings_time_ref_count_and_synic)
{
    const struct vprofile *h = vprofile_find("xen-4.13");
    cr_assert_eq(spec(h, "base,stimer"), HVMPV_base_freq | HVMPV_no_freq | HVMPV_time_ref_count |
                                              HVMPV_synic | HVMPV_stimer);
    /* "!synic" cannot take it back: the bits come from stimer's line, not synic's group. */
    cr_assert_eq(spec(h, "base,stimer,!synic,!time_ref_count"),
                 HVMPV_base_freq | HVMPV_no_freq | HVMPV_time_ref_count | HVMPV_synic |
                     HVMPV_stimer);
    /* The hypervisor itself does not insist (hvm.c: base only): a raw value without synic
     * is taken, and then the SINT MSRs fault while the timer MSRs answer. */
    struct vmodel *m = on(h, HVMPV_base_freq | HVMPV_stimer);
    uint64_t v;
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_STIMER0_CONFIG, &v), 0);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_SINT0, &v), -1);
    vmodel_destroy(m);
}

/* libxl: LOG(ERROR, "base group not enabled"); "%s group both enabled and disabled";
 * xl: "unknown viridian enlightenment '%s'". libxl__enum_from_string() is strcasecmp(). */
Test(releases, libxls_errors_and_case_insensitive_names)
{
    const struct vprofile *h = vprofile_default();
    struct vspec_error err;
    uint64_t mask;
    char msg[128];
    cr_assert_eq(vspec_parse(h, "stimer", &mask, &err), VERR_BASE_NOT_ENABLED);
    vspec_strerror(&err, msg, sizeof msg);
    cr_assert_str_eq(msg, "base group not enabled");
    cr_assert_eq(vspec_parse(h, "!crash_ctl,all", &mask, &err), VERR_GROUP_CONFLICT);
    vspec_strerror(&err, msg, sizeof msg);
    cr_assert_str_eq(msg, "crash_ctl group both enabled and disabled");
    cr_assert_eq(vspec_parse(h, "base,turbo", &mask, &err), VERR_UNKNOWN_GROUP);
    vspec_strerror(&err, msg, sizeof msg);
    cr_assert_str_eq(msg, "unknown viridian enlightenment 'turbo'");
    cr_assert_eq(spec(h, "BASE,Crash_Ctl"), HVMPV_base_freq | HVMPV_no_freq | HVMPV_crash_ctl);
    /* "all" and "defaults" are xl's strcmp()s. */
    cr_assert_eq(vspec_parse(h, "ALL", &mask, &err), VERR_UNKNOWN_GROUP);
}

/* hvm.c hvm_allow_set_param() / hvm_set_param(): bits outside HVMPV_feature_mask or no
 * HVMPV_base_freq are EINVAL, whatever libxl would have written. */
Test(releases, the_hypervisor_takes_only_its_own_bits)
{
    for (size_t i = 2; i < NRULES; i++) {
        const struct vprofile *h = vprofile_find(rules[i].host);
        struct vmodel *m = on(h, 0);
        uint32_t next = (rules[i].mask + 1);
        cr_expect_eq(vmodel_param_set(m, HVMPV_base_freq | next, false), VRES_EINVAL, "%s",
                     h->name);
        cr_expect_eq(vmodel_param_set(m, rules[i].mask & ~HVMPV_base_freq, false), VRES_EINVAL,
                     "%s", h->name);
        cr_expect_eq(vmodel_param_set(m, rules[i].mask, false), VRES_OK, "%s", h->name);
        vmodel_destroy(m);
    }
}

/* Adding a release is one row: the groups each row knows are the group table's `since`. */
Test(releases, each_row_knows_exactly_the_groups_of_its_release)
{
    for (unsigned i = 2; vprofile_at(i); i++) {
        const struct vprofile *h = vprofile_at(i);
        uint32_t want = 0;
        for (int g = 0; g < VGROUP_FIRST_KVM; g++) /* the Xen rows */
            if (vgroup_info(g)->since <= h->xen_minor)
                want |= 1u << g;
        cr_expect_eq(h->groups, want, "%s", h->name);
        cr_expect_eq(h->default_groups & ~h->groups, 0, "%s", h->name);
        cr_expect_eq(vgroups_to_mask(h->groups) & ~(uint64_t)h->feature_mask, 0, "%s", h->name);
    }
}
