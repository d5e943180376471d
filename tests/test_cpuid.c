/* CPUID 0x40000000+ as Xen 4.5 cpuid_viridian_leaves()/cpuid_hypervisor_leaves() give them.
 * Expected values are read off the Xen source, not captured from vsbox. */
#include "tests/model_util.h"
#include "viridian/hvmpv.h"

#define WINDOWS_7_OS_ID 0x0001040601001db0ull /* vendor 1, os 4 (NT), 6.1, build 7600 */
#define OS_TYPE_3_ID    0x0001030601001db0ull

static void leaf(struct vmodel *m, uint32_t l, uint32_t s, uint32_t a, uint32_t b, uint32_t c,
                 uint32_t d)
{
    uint32_t r[4];
    vmodel_cpuid(m, 0, l, s, r);
    cr_expect_eq(r[0], a, "leaf 0x%x.%u eax 0x%x, want 0x%x", l, s, r[0], a);
    cr_expect_eq(r[1], b, "leaf 0x%x.%u ebx 0x%x, want 0x%x", l, s, r[1], b);
    cr_expect_eq(r[2], c, "leaf 0x%x.%u ecx 0x%x, want 0x%x", l, s, r[2], c);
    cr_expect_eq(r[3], d, "leaf 0x%x.%u edx 0x%x, want 0x%x", l, s, r[3], d);
}

Test(cpuid, vendor_leaf_says_microsoft_hv_with_max_leaf_6)
{
    struct vmodel *m = model(0x1);
    leaf(m, 0x40000000, 0, 0x40000006, 0x7263694d, 0x666f736f, 0x76482074);
    vmodel_destroy(m);
}

Test(cpuid, interface_leaf_says_hv1)
{
    struct vmodel *m = model(0x1);
    leaf(m, 0x40000001, 0, 0x31237648, 0, 0, 0);
    vmodel_destroy(m);
}

Test(cpuid, leaf3_base_only_advertises_hypercall_vp_index_apic)
{
    struct vmodel *m = model(HVMPV_base_freq | HVMPV_no_freq);
    leaf(m, 0x40000003, 0, 0x70, 0, 0, 0);
    vmodel_destroy(m);
}

Test(cpuid, leaf3_with_freq_adds_the_frequency_msrs)
{
    struct vmodel *m = model(HVMPV_base_freq);
    leaf(m, 0x40000003, 0, 0x870, 0, 0, 0);
    vmodel_destroy(m);
}

Test(cpuid, version_leaf_is_empty_until_the_guest_sets_its_os_id)
{
    struct vmodel *m = model(0x1);
    leaf(m, 0x40000002, 0, 0, 0, 0, 0);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_GUEST_OS_ID, WINDOWS_7_OS_ID), 0);
    leaf(m, 0x40000002, 0, 1, 0x00040005, 0, 0);
    vmodel_destroy(m);
}

Test(cpuid, recommendations_need_an_os_id_of_type_4_or_more)
{
    struct vmodel *m = model(0x1);
    leaf(m, 0x40000004, 0, 0, 0, 0, 0);
    vmodel_wrmsr(m, 0, HV_X64_MSR_GUEST_OS_ID, OS_TYPE_3_ID);
    leaf(m, 0x40000004, 0, 0, 0, 0, 0);
    vmodel_wrmsr(m, 0, HV_X64_MSR_GUEST_OS_ID, WINDOWS_7_OS_ID);
    /* RELAX_TIMER_INT, MSR_BASED_APIC (no APIC register virtualisation), spin 2047 */
    leaf(m, 0x40000004, 0, 0x28, 2047, 0, 0);
    vmodel_destroy(m);
}

Test(cpuid, leaf5_is_zero_and_leaf6_reports_hardware_in_use)
{
    struct vmodel *m = model(0x1);
    leaf(m, 0x40000005, 0, 0, 0, 0, 0);
    leaf(m, 0x40000006, 0, 0xb, 0, 0, 0);
    leaf(m, 0x40000007, 0, 0, 0, 0, 0);
    vmodel_destroy(m);
}

Test(cpuid, xen_leaves_sit_at_0x40000000_without_viridian)
{
    struct vmodel *m = model(0);
    leaf(m, 0x40000000, 0, 0x40000004, 0x566e6558, 0x65584d4d, 0x4d4d566e);
    leaf(m, 0x40000001, 0, 0x00040005, 0, 0, 0);
    leaf(m, 0x40000002, 0, 1, 0x40000000, 0, 0);
    leaf(m, 0x40000004, 0, 0x4, 0, 0, 0);
    leaf(m, 0x40000005, 0, 0, 0, 0, 0);
    leaf(m, 0x40000100, 0, 0, 0, 0, 0);
    vmodel_destroy(m);
}

Test(cpuid, xen_leaves_move_to_0x40000100_with_viridian)
{
    struct vmodel *m = model(0x1);
    leaf(m, 0x40000100, 0, 0x40000104, 0x566e6558, 0x65584d4d, 0x4d4d566e);
    leaf(m, 0x40000101, 0, 0x00040005, 0, 0, 0);
    leaf(m, 0x40000102, 0, 1, 0x40000200, 0, 0);
    leaf(m, 0x40000104, 0, 0x4, 0, 0, 0);
    leaf(m, 0x40000104, 1, 0, 0, 0, 0);
    leaf(m, 0x40000105, 0, 0, 0, 0, 0);
    vmodel_destroy(m);
}

Test(cpuid, xen_time_leaf_reports_the_guest_tsc_scale)
{
    struct vmodel *m = model(0x1);
    /* host TSC safe | RDTSCP, no vtsc: tsc_set_info() runs the TSC natively when the guest
     * rate is the host's (2 GHz); tsc_mode 0; 2 GHz; incarnation 0 */
    leaf(m, 0x40000103, 0, 0x6, 0, 2000000, 0);
    /* set_time_scale(2e9): shift 0, mul_frac 1e9 * 2^32 / 2e9 */
    leaf(m, 0x40000103, 1, 0, 0, 0x80000000, 0);
    leaf(m, 0x40000103, 2, 2000000, 0, 0, 0);
    leaf(m, 0x40000103, 3, 0, 0, 0, 0);
    vmodel_destroy(m);
}

Test(cpuid, xen_time_leaf_shift_is_sign_extended)
{
    struct vconfig cfg = { .viridian = 0x1, .tsc_khz = 2500000 };
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    /* 2.5e9 > 2e9: halved to 1.25e9, shift -1; 1e9/1.25e9 = 0.8 = 0xcccccccc / 2^32 */
    leaf(m, 0x40000103, 1, 0, 0, 0xcccccccc, 0xffffffff);
    /* 2.5 GHz on a 2 GHz host without TSC scaling: vtsc (bit 0) */
    leaf(m, 0x40000103, 0, 0x7, 0, 2500000, 0);
    vmodel_destroy(m);
}
