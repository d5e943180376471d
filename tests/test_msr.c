/* Synthetic MSRs per Xen 4.5 rdmsr_viridian_regs()/wrmsr_viridian_regs(), and where a
 * write with no handler goes: up to 4.10 vmx_msr_write_intercept() drops it
 * (wrmsr_hypervisor_regs() returns 0: "case 0: case 1: break;"), from 4.11 it is a #GP
 * (commit 1f1d183d49, vmx.c "Match up with the RDMSR side"), from 4.12 through
 * guest_wrmsr_viridian()'s default "return X86EMUL_EXCEPTION". */
#include <string.h>
#include "tests/model_util.h"
#include "viridian/hvmpv.h"
#include "viridian/msr.h"

static uint64_t rd(struct vmodel *m, uint32_t msr)
{
    uint64_t v = 0xbad;
    cr_assert_eq(vmodel_rdmsr(m, 0, msr, &v), 0, "rdmsr 0x%x faulted", msr);
    return v;
}

static void rd_gp(struct vmodel *m, uint32_t msr)
{
    uint64_t v;
    cr_assert_eq(vmodel_rdmsr(m, 0, msr, &v), -1, "rdmsr 0x%x did not #GP", msr);
}

static struct vmodel *on(const char *host, uint64_t viridian)
{
    struct vconfig cfg = { .host = vprofile_find(host), .viridian = viridian };
    struct vmodel *m = NULL;
    cr_assert_not_null(cfg.host);
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    return m;
}

Test(msr, without_viridian_every_synthetic_read_faults_and_writes_go_where_the_release_sends_them)
{
    const char *hosts[] = { "xen-4.5", "xen-4.10", "xen-4.11", "xen-4.22" };
    for (size_t h = 0; h < 4; h++) {
        struct vmodel *m = on(hosts[h], 0);
        bool gp = h >= 2; /* 4.11+ */
        for (size_t i = 0; i < vmsr_count(); i++) {
            uint32_t msr = vmsr_at(i);
            uint64_t v;
            if (vmsr_find(msr, NULL)->gate == VMSR_ARCH || msr == 0x40000000)
                continue;
            cr_expect_eq(vmodel_rdmsr(m, 0, msr, &v), -1, "%s: 0x%x readable", hosts[h], msr);
            cr_expect_eq(vmodel_wrmsr(m, 0, msr, 0), gp ? -1 : 0, "%s: wrmsr 0x%x", hosts[h],
                         msr);
        }
        vmodel_destroy(m);
    }
}

Test(msr, without_viridian_0x40000000_is_xens_own_msr_and_reads_zero)
{
    struct vmodel *m = model(0);
    cr_assert_eq(rd(m, 0x40000000), 0);
    /* Writing it asks for Xen's hypercall page; with no guest memory the frame is bad:
     * wrmsr_hypervisor_regs() returns 0, which 4.5 takes as handled. */
    cr_assert_eq(vmodel_wrmsr(m, 0, 0x40000000, 0x1000), 0);
    vmodel_destroy(m);
    m = on("xen-4.12", 0); /* 4.12: "return X86EMUL_EXCEPTION" for a bad frame */
    cr_assert_eq(vmodel_wrmsr(m, 0, 0x40000000, 0x1000), -1);
    vmodel_destroy(m);
}

Test(msr, with_viridian_xens_msr_moves_to_0x40000200)
{
    struct vmodel *m = model(0x1);
    cr_assert_eq(rd(m, 0x40000200), 0);
    rd_gp(m, 0x40000201);
    vmodel_destroy(m);
}

Test(msr, frequency_msrs_report_tsc_khz_and_the_apic_bus)
{
    struct vmodel *m = model(0x1);
    cr_assert_eq(rd(m, HV_X64_MSR_TSC_FREQUENCY), 2000000000ull);
    cr_assert_eq(rd(m, HV_X64_MSR_APIC_FREQUENCY), 100000000ull); /* 1e9 / 10 ns */
    vmodel_destroy(m);
}

Test(msr, frequency_msrs_fault_when_no_freq_is_set)
{
    struct vmodel *m = model(HVMPV_base_freq | HVMPV_no_freq);
    rd_gp(m, HV_X64_MSR_TSC_FREQUENCY);
    rd_gp(m, HV_X64_MSR_APIC_FREQUENCY);
    vmodel_destroy(m);
}

Test(msr, frequency_msrs_have_no_write_case)
{
    /* 4.5: dropped; the value stays tsc_khz * 1000. */
    struct vmodel *m = model(0x1);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_TSC_FREQUENCY, 1), 0);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_APIC_FREQUENCY, 1), 0);
    cr_assert_eq(rd(m, HV_X64_MSR_TSC_FREQUENCY), 2000000000ull);
    vmodel_destroy(m);
    /* 4.11+: #GP. */
    m = on("xen-4.11", 0x1);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_TSC_FREQUENCY, 1), -1);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_APIC_FREQUENCY, 1), -1);
    vmodel_destroy(m);
}

Test(msr, time_ref_count_faults_on_a_host_without_the_group)
{
    struct vmodel *m = model(0x1);
    rd_gp(m, HV_X64_MSR_TIME_REF_COUNT);
    vmodel_destroy(m);
}

Test(msr, guest_os_id_and_hypercall_keep_the_raw_value)
{
    struct vmodel *m = model(0x1);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_GUEST_OS_ID, 0xfedcba9876543210ull), 0);
    cr_assert_eq(rd(m, HV_X64_MSR_GUEST_OS_ID), 0xfedcba9876543210ull);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_HYPERCALL, 0x12345ffeull), 0);
    cr_assert_eq(rd(m, HV_X64_MSR_HYPERCALL), 0x12345ffeull);
    vmodel_destroy(m);
}

Test(msr, vp_index_is_the_vcpu_number_and_ignores_writes)
{
    struct vconfig cfg = { .viridian = 0x1, .vcpus = 4 };
    struct vmodel *m = NULL;
    uint64_t v;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    cr_assert_eq(vmodel_wrmsr(m, 3, HV_X64_MSR_VP_INDEX, 7), 0);
    cr_assert_eq(vmodel_rdmsr(m, 3, HV_X64_MSR_VP_INDEX, &v), 0);
    cr_assert_eq(v, 3);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_VP_INDEX, &v), 0);
    cr_assert_eq(v, 0);
    vmodel_destroy(m);
}

Test(msr, eoi_is_write_only)
{
    struct vmodel *m = model(0x1);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_EOI, 0), 0);
    rd_gp(m, HV_X64_MSR_EOI);
    vmodel_destroy(m);
}

Test(msr, icr_drops_delivery_status_and_keeps_only_the_destination)
{
    struct vmodel *m = model(0x1);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_ICR, 0x123456789abcdef0ull), 0);
    cr_assert_eq(rd(m, HV_X64_MSR_ICR), 0x120000009abccef0ull);
    vmodel_destroy(m);
}

Test(msr, tpr_keeps_eight_bits)
{
    struct vmodel *m = model(0x1);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_TPR, 0x1ff), 0);
    cr_assert_eq(rd(m, HV_X64_MSR_TPR), 0xff);
    vmodel_destroy(m);
}

Test(msr, apic_state_is_per_vcpu)
{
    struct vconfig cfg = { .viridian = 0x1, .vcpus = 2 };
    struct vmodel *m = NULL;
    uint64_t v;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    vmodel_wrmsr(m, 1, HV_X64_MSR_TPR, 0x40);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TPR, &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(vmodel_rdmsr(m, 1, HV_X64_MSR_TPR, &v), 0);
    cr_assert_eq(v, 0x40);
    vmodel_destroy(m);
}

Test(msr, unknown_msrs_in_and_out_of_the_range_fault)
{
    struct vmodel *m = model(0x1);
    rd_gp(m, 0x40000003);
    rd_gp(m, 0x40000021);
    rd_gp(m, 0x400000ff);
    rd_gp(m, 0x12345678);
    cr_assert_eq(vmodel_wrmsr(m, 0, 0x40000003, 0), 0, "4.5 drops it");
    vmodel_destroy(m);
    m = on("xen-4.22", 0x1);
    rd_gp(m, 0x40000003);
    cr_assert_eq(vmodel_wrmsr(m, 0, 0x40000003, 0), -1, "4.22 faults");
    vmodel_destroy(m);
}

Test(msr, ia32_tsc_is_the_virtual_clock)
{
    struct vmodel *m = model(0);
    cr_assert_eq(rd(m, 0x10), 0);
    vmodel_advance(m, 12345);
    cr_assert_eq(rd(m, 0x10), 12345);
    cr_assert_eq(vmodel_wrmsr(m, 0, 0x10, 1000000), 0);
    cr_assert_eq(vmodel_tsc(m), 1000000);
    vmodel_destroy(m);
}

Test(msr, apic_base_is_the_default_xapic_with_bsp_on_vcpu0)
{
    struct vconfig cfg = { .vcpus = 2 };
    struct vmodel *m = NULL;
    uint64_t v;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    cr_assert_eq(vmodel_rdmsr(m, 0, 0x1b, &v), 0);
    cr_assert_eq(v, 0xfee00900);
    cr_assert_eq(vmodel_rdmsr(m, 1, 0x1b, &v), 0);
    cr_assert_eq(v, 0xfee00800);
    cr_assert_eq(vmodel_wrmsr(m, 0, 0x1b, 0xfee00900), 0);
    cr_assert_eq(vmodel_wrmsr(m, 0, 0x1b, 0xfec00900), -1);
    vmodel_destroy(m);
}

Test(msr, ranges_name_each_msr)
{
    uint32_t idx;
    char name[48];
    const struct vmsr_info *r = vmsr_find(0x4000009f, &idx);
    cr_assert_not_null(r);
    cr_assert_eq(idx, 15);
    vmsr_name(r, 0x4000009f, name, sizeof name);
    cr_assert_str_eq(name, "HV_X64_MSR_SINT15");
    r = vmsr_find(HV_X64_MSR_STIMER0_COUNT + 6, &idx);
    vmsr_name(r, HV_X64_MSR_STIMER0_COUNT + 6, name, sizeof name);
    cr_assert_str_eq(name, "HV_X64_MSR_STIMER3_COUNT");
    cr_assert_null(vmsr_find(0x400000b8, NULL));
    cr_assert_null(vmsr_find(0x40000109, NULL));
    /* HV_X64_MSR_REENLIGHTENMENT_CONTROL is KVM's (hyperv.c kvm_hv_msr_partition_wide), in
     * no Xen release. */
    r = vmsr_find(0x40000106, NULL);
    cr_assert_not_null(r);
    cr_assert_not(vmsr_in_release(r, vprofile_default()));
    cr_assert(vmsr_in_release(r, vprofile_kvm()));
}

Test(msr, table_names_follow_the_tlfs)
{
    cr_assert_str_eq(vmsr_find(0x40000022, NULL)->name, "HV_X64_MSR_TSC_FREQUENCY");
    cr_assert_str_eq(vmsr_find(0x40000001, NULL)->name, "HV_X64_MSR_HYPERCALL");
    /* HV_X64_MSR_RESET (0x40000003): KVM's only, Xen has no handler. */
    cr_assert_str_eq(vmsr_find(0x40000003, NULL)->name, "HV_X64_MSR_RESET");
    cr_assert_not(vmsr_in_release(vmsr_find(0x40000003, NULL), vprofile_of(4, 22)));
    cr_assert_null(vmsr_find(0x40000004, NULL));
}
