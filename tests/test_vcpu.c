/* Per-vCPU viridian state: the VP assist page and APIC assist (viridian.c 4.3-4.11,
 * synic.c 4.12+), the crash MSRs (4.9+), the APIC MSRs and which side owns the APIC,
 * and save records for every vCPU. */
#include <criterion/criterion.h>
#include <string.h>
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/save.h"
#include "viridian/visible.h"
#include "tests/support.h"

#define VPA 0x5000u


/* A stand-in for the emulator's xAPIC, to check the model keeps no copy of its own. */
struct apic {
    uint32_t reg[4][0x400 / 4];
    int eois, crashes;
    bool shutdown;
    uint64_t params[5];
};

static uint32_t apic_read(void *ctx, uint32_t vcpu, uint32_t reg)
{
    return ((struct apic *)ctx)->reg[vcpu][reg / 4];
}

static void apic_write(void *ctx, uint32_t vcpu, uint32_t reg, uint32_t val)
{
    ((struct apic *)ctx)->reg[vcpu][reg / 4] = val;
}

static void apic_eoi(void *ctx, uint32_t vcpu)
{
    (void)vcpu;
    ((struct apic *)ctx)->eois++;
}

static void crash(void *ctx, uint32_t vcpu, const uint64_t params[5], bool shutdown)
{
    struct apic *a = ctx;
    (void)vcpu;
    a->crashes++;
    a->shutdown = shutdown;
    memcpy(a->params, params, sizeof a->params);
}

static struct test_ram ram;
static struct apic apic;

static struct vmodel *on(const char *host, uint64_t viridian, bool platform)
{
    memset(&ram, 0x5a, sizeof ram);
    memset(&apic, 0, sizeof apic);
    struct vconfig cfg = { .host = vprofile_find(host), .viridian = viridian, .vcpus = 4,
                           .mem = test_ram_ops(&ram, true) };
    if (platform)
        cfg.platform = (struct vplatform_ops){ .ctx = &apic, .apic_read = apic_read,
                                               .apic_write = apic_write, .apic_eoi = apic_eoi,
                                               .crash = crash };
    struct vmodel *m = NULL;
    cr_assert_not_null(cfg.host, "%s", host);
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    return m;
}

static uint32_t page32(unsigned off)
{
    uint32_t v;
    memcpy(&v, ram.b + VPA + off, 4);
    return v;
}

Test(vp_assist, before_4_9_a_write_zeroes_only_the_first_dword)
{
    /* initialize_apic_assist(): "*(u32 *)p = 0" (4.3-4.8); clear_page() from 4.9. */
    struct vmodel *m = on("xen-4.8", 0x25, false);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_VP_ASSIST_PAGE, VPA | 1), 0);
    cr_assert_eq(page32(0), 0);
    cr_assert_eq(page32(4), 0x5a5a5a5a);
    vmodel_destroy(m);
    m = on("xen-4.9", 0x65, false);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_VP_ASSIST_PAGE, VPA | 1), 0);
    cr_assert_eq(page32(4), 0);
    cr_assert_eq(page32(4092), 0);
    vmodel_destroy(m);
}

Test(vp_assist, apic_assist_needs_its_bit_and_crashes_on_a_second_assist)
{
    /* has_viridian_apic_assist(d): the group's bit (4.7+); 4.5/4.6 never use the page. */
    struct vmodel *m = on("xen-4.6", 0x5, false);
    cr_assert_not(vmodel_apic_assist_usable(m));
    vmodel_destroy(m);
    m = on("xen-4.7", 0x5, false);
    cr_assert_not(vmodel_apic_assist_usable(m));
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_VP_ASSIST_PAGE, VPA | 1), 0);
    /* 4.7: without HVMPV_apic_assist the page is not kept */
    cr_assert_eq(vmodel_apic_assist_set(m, 0, 0x30), VAA_NOT_SET);
    vmodel_destroy(m);

    m = on("xen-4.7", 0x25, false);
    cr_assert(vmodel_apic_assist_usable(m));
    cr_assert_eq(vmodel_wrmsr(m, 1, HV_X64_MSR_VP_ASSIST_PAGE, VPA | 1), 0);
    cr_assert_eq(vmodel_apic_assist_set(m, 1, 0x0f), VAA_NOT_SET, "vector < 0x10");
    cr_assert_eq(vmodel_apic_assist_set(m, 1, 0x30), VAA_SET);
    cr_assert_eq(page32(0) & 1, 1);
    cr_assert_eq(vmodel_apic_assist_set(m, 1, 0x31), VAA_CRASH, "already pending");
    cr_assert_eq(vmodel_apic_assist_completed(m, 1), -1, "not yet processed by the guest");
    memset(ram.b + VPA, 0, 4); /* the guest clears it: it skipped the EOI */
    cr_assert_eq(vmodel_apic_assist_completed(m, 1), 0x30, "4.7-4.10 keep the vector");
    cr_assert_eq(vmodel_apic_assist_completed(m, 1), -1);
    vmodel_destroy(m);

    /* 4.11 (commit 66bf4ef048): a pending flag, no vector */
    m = on("xen-4.11", 0x65, false);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_VP_ASSIST_PAGE, VPA | 1), 0);
    cr_assert_eq(vmodel_apic_assist_set(m, 0, 0x30), VAA_SET);
    memset(ram.b + VPA, 0, 4);
    cr_assert_eq(vmodel_apic_assist_completed(m, 0), 0);
    cr_assert_eq(vmodel_apic_assist_set(m, 0, 0x30), VAA_SET);
    vmodel_apic_assist_clear(m, 0);
    cr_assert_eq(page32(0) & 1, 0);
    cr_assert_eq(vmodel_apic_assist_completed(m, 0), -1);
    vmodel_destroy(m);
}

Test(vp_assist, the_pending_assist_travels_in_the_vcpu_record_and_the_page_is_mapped_again)
{
    struct vmodel *m = on("xen-4.22", 0x1865, false);
    cr_assert_eq(vmodel_wrmsr(m, 2, HV_X64_MSR_VP_ASSIST_PAGE, VPA | 1), 0);
    cr_assert_eq(vmodel_apic_assist_set(m, 2, 0x30), VAA_SET);
    struct vsave s;
    vmodel_save(m, false, &s);
    cr_assert_eq(s.vcpu[2].vp_assist_msr, VPA | 1);
    cr_assert_eq(s.vcpu[2].apic_assist, 1);
    memset(ram.b + VPA, 0x77, 16);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.22"), -1, 0), VRES_OK);
    /* viridian_synic_load_vcpu_ctxt(): viridian_map_guest_page() clears the page */
    cr_assert_eq(page32(0), 0);
    cr_assert_eq(page32(12), 0);
    memset(ram.b + VPA, 0, 4);
    cr_assert_eq(vmodel_apic_assist_completed(m, 2), 0, "still pending after the restore");
    vmodel_destroy(m);
}

Test(apic_msrs, with_the_platforms_apic_the_model_keeps_no_copy)
{
    struct vmodel *m = on("xen-4.22", 0x1, true);
    uint64_t v;
    cr_assert_eq(vmodel_wrmsr(m, 3, HV_X64_MSR_TPR, 0x1ff), 0);
    cr_assert_eq(apic.reg[3][0x80 / 4], 0x1ff, "the xAPIC's write applies its own masking");
    apic.reg[3][0x80 / 4] = 0x40;
    cr_assert_eq(vmodel_rdmsr(m, 3, HV_X64_MSR_TPR, &v), 0);
    cr_assert_eq(v, 0x40, "read from the xAPIC, not a copy");
    cr_assert_eq(vmodel_wrmsr(m, 1, HV_X64_MSR_ICR, 0x0300000000004051ull), 0);
    cr_assert_eq(apic.reg[1][0x310 / 4], 0x03000000, "ICR2 first");
    cr_assert_eq(apic.reg[1][0x300 / 4], 0x4051, "then ICR, which sends the IPI");
    cr_assert_eq(vmodel_wrmsr(m, 1, HV_X64_MSR_EOI, 0), 0);
    cr_assert_eq(apic.eois, 1);
    vmodel_destroy(m);
    /* Without one: Xen's masks on the model's own copies. */
    m = on("xen-4.22", 0x1, false);
    cr_assert_eq(vmodel_wrmsr(m, 3, HV_X64_MSR_TPR, 0x1ff), 0);
    cr_assert_eq(vmodel_rdmsr(m, 3, HV_X64_MSR_TPR, &v), 0);
    cr_assert_eq(v, 0xff);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_TPR, &v), 0);
    cr_assert_eq(v, 0, "per vCPU");
    vmodel_destroy(m);
}

Test(crash, the_msrs_arrive_in_4_9_and_answer_whatever_crash_ctl_says)
{
    uint64_t v;
    struct vmodel *m = on("xen-4.8", 0x25, true);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_CRASH_P0, &v), -1);
    vmodel_destroy(m);
    /* base only: CPUID3D_CRASH_MSRS is clear, the MSRs work all the same */
    m = on("xen-4.22", 0x3, true);
    uint32_t r[4];
    vmodel_cpuid(m, 0, 0x40000003, 0, r);
    cr_assert_eq(r[3] & CPUID3D_CRASH_MSRS, 0);
    cr_assert_eq(vmodel_wrmsr(m, 1, HV_X64_MSR_CRASH_P0 + 4, 0x1234), 0);
    cr_assert_eq(vmodel_rdmsr(m, 1, HV_X64_MSR_CRASH_P0 + 4, &v), 0);
    cr_assert_eq(v, 0x1234);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_CRASH_P0 + 4, &v), 0);
    cr_assert_eq(v, 0, "crash_param[] is per vCPU");
    /* "HV_CRASH_CTL_REG_CONTENTS ctl = { .u.CrashNotify = 1 }" */
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_CRASH_CTL, &v), 0);
    cr_assert_eq(v, HV_CRASH_CTL_CRASH_NOTIFY);
    cr_assert_eq(vmodel_wrmsr(m, 1, HV_X64_MSR_CRASH_CTL, 0), 0);
    cr_assert_not(vmodel_crash(m)->notified, "no CrashNotify, nothing");
    vmodel_destroy(m);
}

Test(crash, crash_notify_logs_before_4_12_and_sets_the_shutdown_code_after)
{
    static const struct { const char *host; bool shutdown; const char *log; } cases[] = {
        { "xen-4.11", false, "VIRIDIAN CRASH: 1e 1 2 3 4" },
        { "xen-4.12", true, "VIRIDIAN CRASH: 1e 1 2 3 4" },
        /* 4.20: "VIRIDIAN GUEST_CRASH: %#lx %#lx %#lx %#lx %#lx" */
        { "xen-4.20", true, "VIRIDIAN GUEST_CRASH: 0x1e 0x1 0x2 0x3 0x4" },
    };
    for (int i = 0; i < 3; i++) {
        struct vmodel *m = on(cases[i].host, 0x65, true);
        const uint64_t p[5] = { 0x1e, 1, 2, 3, 4 };
        for (int k = 0; k < 5; k++)
            cr_assert_eq(vmodel_wrmsr(m, 2, HV_X64_MSR_CRASH_P0 + (uint32_t)k, p[k]), 0);
        cr_assert_eq(vmodel_wrmsr(m, 2, HV_X64_MSR_CRASH_CTL, HV_CRASH_CTL_CRASH_NOTIFY), 0);
        const struct vcrash *c = vmodel_crash(m);
        cr_assert(c->notified);
        cr_assert_eq(c->vcpu, 2);
        cr_assert_eq(c->shutdown, cases[i].shutdown, "%s", cases[i].host);
        cr_assert_str_eq(c->log, cases[i].log);
        cr_assert_eq(apic.crashes, 1);
        cr_assert_eq(apic.shutdown, cases[i].shutdown);
        cr_assert_eq(apic.params[0], 0x1e);
        vmodel_destroy(m);
    }
}

Test(crash, the_parameters_are_in_no_save_record)
{
    struct vmodel *m = on("xen-4.22", 0x1865, false);
    struct vvisible a, b;
    uint64_t v;
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_CRASH_P0, 0x9), 0);
    vmodel_visible(m, &a);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.22"), -1, 0), VRES_OK);
    vmodel_visible(m, &b);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_CRASH_P0, &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(vvisible_diff(&a, &b, NULL, NULL), 1, "HV_X64_MSR_CRASH_P0 lost its value");
    vmodel_destroy(m);
}

Test(save, every_vcpu_has_its_record)
{
    struct vmodel *m = on("xen-4.22", 0x1ffd, false);
    for (uint32_t i = 0; i < 4; i++) {
        cr_assert_eq(vmodel_wrmsr(m, i, HV_X64_MSR_SINT0 + i, 0x40 + i), 0);
        cr_assert_eq(vmodel_wrmsr(m, i, HV_X64_MSR_STIMER0_COUNT + 2 * i, 1000 + i), 0);
    }
    struct vsave s;
    vmodel_save(m, false, &s);
    cr_assert_eq(s.vcpus, 4);
    for (uint32_t i = 0; i < 4; i++) {
        cr_assert_eq(s.vcpu[i].sint_msr[i], 0x40 + i);
        cr_assert_eq(s.vcpu[i].stimer_count_msr[i], 1000 + i);
    }
    struct vmodel *r;
    cr_assert_eq(vmodel_restore(&s, vprofile_find("xen-4.22"), (struct vmem_ops){ 0 }, &r),
                 VRES_OK);
    uint64_t v;
    for (uint32_t i = 0; i < 4; i++) {
        cr_assert_eq(vmodel_rdmsr(r, i, HV_X64_MSR_SINT0 + i, &v), 0);
        cr_assert_eq(v, 0x40 + i);
        cr_assert_eq(vmodel_rdmsr(r, i, HV_X64_MSR_VP_INDEX, &v), 0);
        cr_assert_eq(v, i);
    }
    vmodel_destroy(r);
    vmodel_destroy(m);
}
