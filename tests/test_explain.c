/* viridian/explain.c: which viridian group, turned on or off, would change the model's
 * answer. The groups expected come from Xen 4.5's rules as the model encodes them
 * (freq gates HV_X64_MSR_TSC_FREQUENCY and CPUID 0x40000003 EAX bit 11) and from the
 * boolean viridian option of Xen before 4.5. */
#include <criterion/criterion.h>
#include "viridian/explain.h"
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/spec.h"

static struct vmodel *model(const char *host, uint64_t viridian)
{
    struct vconfig cfg = { .host = vprofile_find(host), .viridian = viridian };
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    return m;
}

Test(explain, a_frequency_msr_needs_freq_on)
{
    struct vmodel *m = model("xen-4.5", HVMPV_base_freq | HVMPV_no_freq);
    struct vevent ev = { .kind = VEV_RDMSR, .a = { HV_X64_MSR_TSC_FREQUENCY }, .legacy = -1 };
    struct vres want = { VRES_VALUE, { 2000000000ull } };
    struct vexplain x;
    cr_assert(vexplain_event(m, &ev, &want, -1, 0, &x));
    cr_expect_eq(x.group, VGROUP_FREQ);
    cr_expect(x.enable);
    cr_expect_not(x.boolean);
    /* The model itself is untouched: it still refuses. */
    uint64_t v;
    cr_expect_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TSC_FREQUENCY, &v), -1);
    vmodel_destroy(m);
}

Test(explain, a_fault_the_capture_saw_needs_freq_off)
{
    struct vmodel *m = model("xen-4.5", HVMPV_base_freq);
    struct vevent ev = { .kind = VEV_RDMSR, .a = { HV_X64_MSR_APIC_FREQUENCY }, .legacy = -1 };
    struct vres gp = { .kind = VRES_GP };
    struct vexplain x;
    cr_assert(vexplain_event(m, &ev, &gp, -1, 0, &x));
    cr_expect_eq(x.group, VGROUP_FREQ);
    cr_expect_not(x.enable);
    vmodel_destroy(m);
}

Test(explain, one_cpuid_bit_at_a_time)
{
    struct vmodel *m = model("xen-4.5", HVMPV_base_freq | HVMPV_no_freq);
    struct vevent ev = { .kind = VEV_CPUID, .a = { 0x40000003, 0 }, .legacy = -1 };
    /* A capture with AccessFrequencyRegs (bit 11) and one with AccessSynicRegs (bit 2). */
    struct vres want = { VRES_REGS, { 0x874, 0, 0, 0 } };
    struct vexplain x;
    cr_assert(vexplain_event(m, &ev, &want, 0, 11, &x));
    cr_expect_eq(x.group, VGROUP_FREQ);
    cr_expect(x.enable);
    cr_expect_not(vexplain_event(m, &ev, &want, 0, 2, &x), "no group of xen-4.5 gives bit 2");
    vmodel_destroy(m);
}

Test(explain, a_boolean_host_has_only_viridian_itself_to_turn)
{
    struct vmodel *m = model("xen-4.4", 1);
    struct vevent ev = { .kind = VEV_RDMSR, .a = { HV_X64_MSR_TSC_FREQUENCY }, .legacy = -1 };
    struct vres gp = { .kind = VRES_GP };
    struct vexplain x;
    cr_assert(vexplain_event(m, &ev, &gp, -1, 0, &x));
    cr_expect(x.boolean);
    cr_expect_not(x.enable);
    cr_expect_eq(x.group, -1);
    vmodel_destroy(m);
}
