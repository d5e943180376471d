/* Migration between releases uses the destination's rules: hvm_allow_set_param() /
 * hvm_set_param() take HVM_PARAM_VIRIDIAN only within the destination's
 * HVMPV_feature_mask (4.3/4.4: 0 or 1), set once (EEXIST); the destination's toolstack
 * decides what a refused set means (4.3/4.4 xc_domain_restore() sets 1 and 4.5's sets the
 * stream's value, both ignoring the result; 4.6+ handle_hvm_params() fails); and
 * _hvm_check_entry() loads a viridian record only if it fits the destination's struct
 * (strict before 4.5 / 4.7, zero-extended after). Each pair below is worked out from
 * those rules and the row's values in test_releases.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/save.h"
#include "viridian/spec.h"
#include "viridian/visible.h"

static struct vmodel *defaults_on(unsigned minor)
{
    char name[16];
    snprintf(name, sizeof name, "xen-4.%u", minor);
    const struct vprofile *h = vprofile_find(name);
    uint64_t mask;
    struct vspec_error err;
    cr_assert_eq(vspec_parse(h, "1", &mask, &err), VERR_OK);
    struct vconfig cfg = { .host = h, .viridian = mask };
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    return m;
}

static enum vres_kind move(unsigned from, unsigned to, char *why, size_t len)
{
    struct vmodel *m = defaults_on(from);
    struct vsave s;
    char name[16];
    snprintf(name, sizeof name, "xen-4.%u", to);
    vmodel_save(m, vmodel_host(m)->param == VPARAM_BOOLEAN, &s);
    enum vres_kind r = vrestore_check(&s, vprofile_find(name), 0, why, len);
    vmodel_destroy(m);
    return r;
}

Test(migrate_releases, every_forward_step_with_defaults_is_taken)
{
    for (unsigned minor = 3; minor < 22; minor++) {
        char why[512] = "";
        cr_expect_eq(move(minor, minor + 1, why, sizeof why), VRES_OK, "4.%u -> 4.%u: %s", minor,
                     minor + 1, why);
    }
}

Test(migrate_releases, backward_steps_are_refused_where_a_bit_or_a_record_does_not_fit)
{
    static const struct { unsigned from; enum vres_kind r; const char *why; } back[] = {
        { 4, VRES_OK, "" },     /* a legacy 1: 4.3 takes it (the MSRs vanish) */
        /* 4.4's restore sets the boolean 1 (result ignored); its strict load refuses the
         * longer record. */
        { 5, VRES_REFUSED, "VIRIDIAN_DOMAIN record: 24 bytes where its hvm_viridian_domain_context has 16" },
        { 6, VRES_REFUSED, "VIRIDIAN_DOMAIN record: 32 bytes where its hvm_viridian_domain_context has 24" },
        { 7, VRES_REFUSED, "HVMPV_apic_assist (apic_assist group)" },
        { 8, VRES_OK, "" },
        { 9, VRES_REFUSED, "HVMPV_crash_ctl (crash_ctl group)" },
        { 10, VRES_OK, "" },
        { 11, VRES_OK, "" },
        { 12, VRES_OK, "" },
        { 13, VRES_REFUSED, "VIRIDIAN_VCPU record: 216 bytes where its hvm_viridian_vcpu_context has 16" },
        { 14, VRES_OK, "" },
        { 15, VRES_REFUSED, "HVMPV_no_vp_limit (no_vp_limit group), HVMPV_cpu_hotplug (cpu_hotplug group)" },
        { 16, VRES_OK, "" }, { 17, VRES_OK, "" }, { 18, VRES_OK, "" }, { 19, VRES_OK, "" },
        { 20, VRES_OK, "" }, { 21, VRES_OK, "" }, { 22, VRES_OK, "" },
    };
    for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
        char why[512] = "";
        enum vres_kind r = move(back[i].from, back[i].from - 1, why, sizeof why);
        cr_expect_eq(r, back[i].r, "4.%u -> 4.%u: %s", back[i].from, back[i].from - 1, why);
        cr_expect(strstr(why, back[i].why), "4.%u -> 4.%u: '%s' lacks '%s'", back[i].from,
                  back[i].from - 1, why, back[i].why);
    }
}

Test(migrate_releases, a_4_22_defaults_guest_cannot_go_to_4_9_and_the_bits_are_named)
{
    char why[512];
    cr_assert_eq(move(22, 9, why, sizeof why), VRES_REFUSED);
    cr_assert_str_eq(why, "xen-4.9 refuses HVM_PARAM_VIRIDIAN 0x1865 from the stream: "
                          "HVMPV_no_vp_limit (no_vp_limit group), HVMPV_cpu_hotplug "
                          "(cpu_hotplug group) not in its feature mask 0x7f");
    struct vmodel *m = defaults_on(22);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.9"), -1, 0), VRES_REFUSED);
    cr_assert_str_eq(vmodel_host(m)->name, "xen-4.22", "the source stays as it was");
    vmodel_destroy(m);
}

struct seen {
    char lines[16][256];
    int n;
};

static void collect(void *ctx, enum vdiff_kind kind, const char *what)
{
    struct seen *s = ctx;
    if (s->n < 16)
        snprintf(s->lines[s->n++], sizeof s->lines[0], "%s%s",
                 kind == VDIFF_CHANGE ? "change: " : "note: ", what);
}

static bool said(const struct seen *s, const char *line)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->lines[i], line) == 0)
            return true;
    return false;
}

Test(migrate_releases, a_4_9_guest_goes_to_4_22_and_hears_what_changed)
{
    struct vmodel *m = defaults_on(9);
    struct vvisible a, b;
    struct seen s = { 0 };
    vmodel_advance(m, 1000000);
    vmodel_pause(m);
    vmodel_visible(m, &a);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.22"), -1, 20000000), VRES_OK);
    vmodel_visible(m, &b);
    unsigned changes = vvisible_diff(&a, &b, collect, &s);
    /* The mask travels (0x65): the viridian leaves and MSRs stay as they were; Xen's own
     * leaves and its MSR write rule are the release's. */
    cr_assert(said(&s, "note: Xen version 4.9 -> 4.22 (host xen-4.9 -> xen-4.22)"));
    cr_assert(said(&s, "note: Xen leaf 0x40000105 (PV parameters) appeared (max Xen leaf "
                       "0x40000104 -> 0x40000105)"));
    cr_assert(said(&s, "change: CPUID 0x40000104 EAX (Xen's HVM features) changed 0xc -> 0x5c"));
    cr_assert(said(&s, "change: an MSR write Xen has no handler for now raises #GP (it was "
                       "dropped, up to Xen 4.10)"));
    cr_assert(said(&s, "note: a CrashNotify now also sets the domain's shutdown code to crash"));
    cr_assert_eq(changes, 2, "%d lines, first: %s", s.n, s.lines[0]);
    cr_assert_eq(b.time_ref, a.time_ref, "the counter carried over exactly");
    vmodel_destroy(m);
}

static struct vsave saved(unsigned minor, const char *spec)
{
    char name[16];
    snprintf(name, sizeof name, "xen-4.%u", minor);
    const struct vprofile *h = vprofile_find(name);
    uint64_t mask;
    struct vspec_error err;
    cr_assert_eq(vspec_parse(h, spec, &mask, &err), VERR_OK);
    struct vconfig cfg = { .host = h, .viridian = mask };
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    struct vsave s;
    vmodel_save(m, h->param == VPARAM_BOOLEAN, &s);
    vmodel_destroy(m);
    return s;
}

Test(migrate_releases, each_toolstack_treats_a_refused_parameter_its_own_way)
{
    uint64_t p;
    enum vres_kind ignored;
    char why[512];
    /* 4.4 -> 4.5 with xl's viridian=1 on both: 4.5's libxl sets its defaults 0x5 first;
     * the stream's 1 is EEXIST, which xc_domain_restore() ignores (RELEASE-4.5.0
     * tools/libxc/xc_domain_restore.c: "xc_hvm_param_set(xch, dom, HVM_PARAM_VIRIDIAN,
     * pagebuf.viridian)", result unused): the guest runs with 0x5. */
    struct vsave s = saved(4, "1");
    cr_assert_eq(vrestore_param(&s, vprofile_find("xen-4.5"), 0x5, &p, &ignored), VRES_OK);
    cr_assert_eq(p, 0x5);
    cr_assert_eq(ignored, VRES_EEXIST);
    cr_assert_eq(vrestore_check(&s, vprofile_find("xen-4.5"), 0x5, why, sizeof why), VRES_OK);
    cr_assert(strstr(why, "xen-4.5's restore (xc_domain_restore) ignores the failure and the "
                          "guest runs with 0x5"), "%s", why);
    /* 4.5 -> 4.4 with no records in the way (viridian off there is not this case: a
     * viridian guest's 24-byte record is refused): 4.4 sets 1 for any non-zero value
     * (RELEASE-4.4.0 xc_domain_restore.c: "xc_set_hvm_param(xch, dom, HVM_PARAM_VIRIDIAN,
     * 1)"). */
    s = saved(5, "defaults");
    cr_assert_eq(vrestore_param(&s, vprofile_find("xen-4.4"), 0, &p, &ignored), VRES_OK);
    cr_assert_eq(p, 1);
    cr_assert_eq(ignored, VRES_OK);
    /* 4.6 -> 4.7 with viridian=1 on both: 4.7's defaults add apic_assist (0x25), and
     * handle_hvm_params() (RELEASE-4.7.0 tools/libxc/xc_sr_restore_x86_hvm.c) fails the
     * restore on the EEXIST from hvm_allow_set_param(). */
    s = saved(6, "1");
    cr_assert_eq(vrestore_param(&s, vprofile_find("xen-4.7"), 0x25, &p, &ignored), VRES_EEXIST);
    cr_assert_eq(vrestore_check(&s, vprofile_find("xen-4.7"), 0x25, why, sizeof why),
                 VRES_EEXIST);
    /* The same stream with no value set by the destination's config goes through. */
    cr_assert_eq(vrestore_param(&s, vprofile_find("xen-4.7"), 0, &p, &ignored), VRES_OK);
    cr_assert_eq(p, 0x5);
    /* vmodel_restore() follows dest_param. */
    s = saved(4, "1");
    s.dest_param = 0x5;
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_restore(&s, vprofile_find("xen-4.5"), (struct vmem_ops){ 0 }, &m),
                 VRES_OK);
    cr_assert_eq(vmodel_param(m), 0x5);
    vmodel_destroy(m);
}
