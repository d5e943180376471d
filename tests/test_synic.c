/* The SynIC and the synthetic timers (xen/arch/x86/hvm/viridian/synic.c and time.c,
 * RELEASE-4.13.0 .. RELEASE-4.22.0). Times are 100 ns reference units; at 2 GHz on 4.13+
 * the reference time is floor(tsc * 21474836 / 2^32), so it reaches 10000 at TSC
 * 2000001, 20000 at 4000001 and 30000 at 6000001 (worked out by hand). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/save.h"
#include "tests/support.h"

#define SIM 0x4000u


/* What the platform was asked to do. */
struct irqs {
    int n;
    uint32_t vcpu[16];
    uint8_t vector[16];
    bool apic_off;
};

static void set_irq(void *ctx, uint32_t vcpu, uint8_t vector)
{
    struct irqs *q = ctx;
    if (q->n < 16) {
        q->vcpu[q->n] = vcpu;
        q->vector[q->n++] = vector;
    }
}

static bool apic_enabled(void *ctx, uint32_t vcpu)
{
    (void)vcpu;
    return !((struct irqs *)ctx)->apic_off;
}

static struct test_ram ram;
static struct irqs irqs;

#define SYNIC_STIMER (HVMPV_base_freq | HVMPV_time_ref_count | HVMPV_synic | HVMPV_stimer)

static struct vmodel *on(const char *host, uint64_t viridian)
{
    memset(&ram, 0x5a, sizeof ram);
    memset(&irqs, 0, sizeof irqs);
    struct vconfig cfg = { .host = vprofile_find(host), .viridian = viridian, .vcpus = 2,
                           .mem = test_ram_ops(&ram, true),
                           .platform = { .ctx = &irqs, .set_irq = set_irq,
                                         .apic_enabled = apic_enabled } };
    struct vmodel *m = NULL;
    cr_assert_not_null(cfg.host, "%s", host);
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    return m;
}

static uint64_t rdm(struct vmodel *m, uint32_t msr)
{
    uint64_t v = 0xbad;
    cr_assert_eq(vmodel_rdmsr(m, 0, msr, &v), 0, "rdmsr 0x%x", msr);
    return v;
}

static void wrm(struct vmodel *m, uint32_t msr, uint64_t v)
{
    cr_assert_eq(vmodel_wrmsr(m, 0, msr, v), 0, "wrmsr 0x%x 0x%llx", msr, (unsigned long long)v);
}

static uint32_t slot32(unsigned sint, unsigned off)
{
    uint32_t v;
    memcpy(&v, ram.b + SIM + sint * 256 + off, 4);
    return v;
}

static uint64_t slot64(unsigned sint, unsigned off)
{
    uint64_t v;
    memcpy(&v, ram.b + SIM + sint * 256 + off, 8);
    return v;
}

/* SINT2 at vector 0x50, unmasked; STIMER0 periodic on SINT2 every 1 ms. */
static void periodic_timer(struct vmodel *m)
{
    wrm(m, HV_X64_MSR_SIMP, SIM | 1);
    wrm(m, HV_X64_MSR_SINT0 + 2, 0x50);
    wrm(m, HV_X64_MSR_STIMER0_COUNT, 10000);
    wrm(m, HV_X64_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | 2ull << 16);
}

Test(synic, sints_start_masked_and_refuse_vectors_below_16)
{
    struct vmodel *m = on("xen-4.13", SYNIC_STIMER);
    /* viridian_synic_vcpu_init(): "all synthetic interrupts must be initially masked" */
    for (unsigned i = 0; i < 16; i++)
        cr_assert_eq(rdm(m, HV_X64_MSR_SINT0 + i), HV_SINT_MASKED);
    /* "Vectors must be in the range 0x10-0xff inclusive" */
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_SINT0, 0x0f), -1);
    cr_assert_eq(rdm(m, HV_X64_MSR_SINT0), HV_SINT_MASKED, "unchanged");
    wrm(m, HV_X64_MSR_SINT0, 0x10 | HV_SINT_AUTO_EOI);
    cr_assert(vmodel_sint_auto_eoi(m, 0, 0x10));
    cr_assert_not(vmodel_sint_auto_eoi(m, 1, 0x10), "per vCPU");
    cr_assert_eq(rdm(m, HV_X64_MSR_SVERSION), 1);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_SVERSION, 1), -1);
    cr_assert_eq(rdm(m, HV_X64_MSR_EOM), 0);
    vmodel_destroy(m);
}

Test(synic, the_simp_write_maps_and_clears_the_message_page)
{
    struct vmodel *m = on("xen-4.22", SYNIC_STIMER);
    wrm(m, HV_X64_MSR_SIMP, SIM | 1);
    cr_assert_eq(ram.b[SIM], 0);
    cr_assert_eq(ram.b[SIM + 4095], 0);
    cr_assert_eq(ram.b[SIM + 4096], 0x5a, "one page");
    cr_assert_eq(rdm(m, HV_X64_MSR_SIMP), SIM | 1);
    vmodel_destroy(m);
}

Test(synic, a_periodic_timer_delivers_hvmsg_timer_expired_and_raises_the_sint)
{
    struct vmodel *m = on("xen-4.22", SYNIC_STIMER);
    periodic_timer(m);
    uint64_t tsc;
    cr_assert(vmodel_stimer_next(m, 0, &tsc));
    cr_assert_eq(tsc, 2000001);
    cr_assert_not(vmodel_stimer_next(m, 1, &tsc), "vCPU 1 has no timer");
    vmodel_advance(m, 2000000);
    cr_assert_eq(vmodel_poll(m, 0, -1), 0, "one tick early");
    vmodel_advance(m, 1);
    cr_assert_eq(vmodel_poll(m, 0, -1), 1);
    /* struct hv_message in slot 2: type, payload size 24 at 4, flags 0 at 5; payload
     * TimerIndex 0, Reserved 0, ExpirationTime 10000, DeliveryTime 10000. */
    cr_assert_eq(slot32(2, 0), HVMSG_TIMER_EXPIRED);
    cr_assert_eq(ram.b[SIM + 2 * 256 + 4], 24);
    cr_assert_eq(ram.b[SIM + 2 * 256 + 5], 0);
    cr_assert_eq(slot32(2, 16), 0);
    cr_assert_eq(slot32(2, 20), 0);
    cr_assert_eq(slot64(2, 24), 10000);
    cr_assert_eq(slot64(2, 32), 10000);
    cr_assert_eq(irqs.n, 1);
    cr_assert_eq(irqs.vcpu[0], 0);
    cr_assert_eq(irqs.vector[0], 0x50);
    /* periodic: expiration + count */
    cr_assert(vmodel_stimer_next(m, 0, &tsc));
    cr_assert_eq(tsc, 4000001);
    vmodel_destroy(m);
}

Test(synic, a_busy_slot_holds_the_message_until_the_guest_frees_it)
{
    struct vmodel *m = on("xen-4.22", SYNIC_STIMER);
    periodic_timer(m);
    vmodel_advance(m, 2000001);
    cr_assert_eq(vmodel_poll(m, 0, -1), 1);
    vmodel_advance(m, 2000000); /* the second expiry, 20000 */
    /* 4.15+: the slot is still the guest's: nothing delivered, no MessagePending flag
     * ("There is no need to set message_pending as we do not require an EOM"). */
    cr_assert_eq(vmodel_poll(m, 0, -1), 0);
    cr_assert_eq(ram.b[SIM + 2 * 256 + 5], 0);
    uint64_t tsc;
    cr_assert(vmodel_stimer_next(m, 0, &tsc));
    cr_assert_eq(tsc, vmodel_tsc(m), "a message is waiting: poll again now");
    memset(ram.b + SIM + 2 * 256, 0, 4); /* the guest frees the slot */
    vmodel_advance(m, 100);
    cr_assert_eq(vmodel_poll(m, 0, -1), 1);
    cr_assert_eq(slot64(2, 24), 20000, "the expiration it missed");
    cr_assert_eq(slot64(2, 32), (uint64_t)((4000101ull * 21474836) >> 32), "delivered now");
    cr_assert_eq(irqs.n, 2);
    vmodel_destroy(m);
}

Test(synic, a_recorded_slot_state_stands_in_for_memory)
{
    struct vmodel *m = on("xen-4.22", SYNIC_STIMER);
    periodic_timer(m);
    vmodel_advance(m, 2000001);
    cr_assert_eq(vmodel_sim_busy(m, 0), 0);
    cr_assert_eq(vmodel_poll(m, 0, 1u << 2), 0, "the recording says slot 2 is held");
    cr_assert_eq(vmodel_sim_busy(m, 0), 0, "memory was not touched");
    struct vevent ev = { .kind = VEV_POLL, .a = { 0 }, .legacy = -1 };
    struct vres res;
    cr_assert(vmodel_apply(m, &ev, &res));
    cr_assert_eq(res.kind, VRES_VALUE);
    cr_assert_eq(res.v[0], 1);
    cr_assert_eq(vmodel_sim_busy(m, 0), 1u << 2);
    vmodel_destroy(m);
}

Test(synic, xen_4_13_sets_message_pending_and_waits_for_eom_with_its_own_header)
{
    struct vmodel *m = on("xen-4.13", SYNIC_STIMER);
    periodic_timer(m);
    vmodel_advance(m, 2000001);
    cr_assert_eq(vmodel_poll(m, 0, -1), 1);
    /* 4.13's HV_MESSAGE_HEADER: u32 type, u16 Reserved1, u8 flags, u8 PayloadSize */
    cr_assert_eq(ram.b[SIM + 2 * 256 + 7], 24);
    cr_assert_eq(ram.b[SIM + 2 * 256 + 4], 0);
    vmodel_advance(m, 2000000);
    cr_assert_eq(vmodel_poll(m, 0, -1), 0);
    cr_assert_eq(ram.b[SIM + 2 * 256 + 6], 1, "MessagePending");
    memset(ram.b + SIM + 2 * 256, 0, 4);
    cr_assert_eq(vmodel_poll(m, 0, -1), 0, "msg_pending: no retry before EOM");
    wrm(m, HV_X64_MSR_EOM, 0);
    cr_assert_eq(vmodel_poll(m, 0, -1), 1);
    vmodel_destroy(m);
}

Test(synic, a_one_shot_timer_fires_at_its_absolute_count_and_reads_disabled)
{
    struct vmodel *m = on("xen-4.22", SYNIC_STIMER);
    wrm(m, HV_X64_MSR_SIMP, SIM | 1);
    wrm(m, HV_X64_MSR_SINT0 + 1, 0x60 | HV_SINT_MASKED);
    wrm(m, HV_X64_MSR_STIMER0_COUNT + 2, 30000); /* STIMER1: expire at reference time 30000 */
    uint64_t config = HV_STIMER_ENABLE | 1ull << 16;
    wrm(m, HV_X64_MSR_STIMER0_CONFIG + 2, config);
    uint64_t tsc;
    cr_assert(vmodel_stimer_next(m, 0, &tsc));
    cr_assert_eq(tsc, 6000001);
    cr_assert_eq(rdm(m, HV_X64_MSR_STIMER0_CONFIG + 2), config);
    vmodel_advance(m, 6000001);
    /* "If the timer is single-shot and it has expired, make sure the enabled flag is
     * clear." */
    cr_assert_eq(rdm(m, HV_X64_MSR_STIMER0_CONFIG + 2), config & ~HV_STIMER_ENABLE);
    cr_assert_eq(vmodel_poll(m, 0, -1), 2);
    cr_assert_eq(slot32(1, 16), 1, "TimerIndex 1");
    cr_assert_eq(irqs.n, 0, "SINT1 is masked: the message only");
    cr_assert_not(vmodel_stimer_next(m, 0, &tsc));
    vmodel_destroy(m);
}

Test(synic, auto_enable_and_zero_counts)
{
    struct vmodel *m = on("xen-4.21", SYNIC_STIMER);
    /* COUNT write: "if ( !vs->count ) enable = 0; else if ( auto_enable ) enable = 1" */
    wrm(m, HV_X64_MSR_STIMER0_CONFIG, HV_STIMER_AUTO_ENABLE | 3ull << 16);
    cr_assert_eq(rdm(m, HV_X64_MSR_STIMER0_CONFIG) & HV_STIMER_ENABLE, 0);
    wrm(m, HV_X64_MSR_STIMER0_COUNT, 500000);
    cr_assert_eq(rdm(m, HV_X64_MSR_STIMER0_CONFIG) & HV_STIMER_ENABLE, HV_STIMER_ENABLE);
    /* CONFIG write with no SINT: "if ( !vs->config.sintx ) enable = 0" */
    wrm(m, HV_X64_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE);
    cr_assert_eq(rdm(m, HV_X64_MSR_STIMER0_CONFIG), 0);
    vmodel_destroy(m);
    /* A one-shot timer enabled with count 0: 4.21 starts it, expiration 0 is past, it
     * fires at once; 4.22 (8e54ad2c8c) refuses the enable. */
    static const struct { const char *host; uint32_t fired; } cases[] = {
        { "xen-4.21", 2 }, { "xen-4.22", 0 },
    };
    for (int i = 0; i < 2; i++) {
        m = on(cases[i].host, SYNIC_STIMER);
        wrm(m, HV_X64_MSR_SIMP, SIM | 1);
        wrm(m, HV_X64_MSR_SINT0 + 1, 0x60);
        wrm(m, HV_X64_MSR_STIMER0_CONFIG + 2, HV_STIMER_ENABLE | 1ull << 16);
        vmodel_advance(m, 10);
        cr_assert_eq(vmodel_poll(m, 0, -1), cases[i].fired, "%s", cases[i].host);
        vmodel_destroy(m);
    }
}

Test(synic, a_periodic_timer_with_count_zero_is_a_defect_before_4_22)
{
    struct vmodel *m = on("xen-4.21", SYNIC_STIMER);
    wrm(m, HV_X64_MSR_SIMP, SIM | 1);
    wrm(m, HV_X64_MSR_SINT0 + 1, 0x60);
    wrm(m, HV_X64_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | 1ull << 16);
    vmodel_advance(m, 10);
    cr_assert_eq(vmodel_poll(m, 0, -1), 1, "expiration = now + 0: due at once");
    cr_assert_not_null(vmodel_defect(m), "the re-arm divides by the zero count");
    cr_assert(strstr(vmodel_defect(m), "divides by zero"));
    vmodel_destroy(m);
}

Test(synic, a_timer_with_no_sim_page_is_xsa_472_until_4_21)
{
    static const struct { const char *host; bool defect; } cases[] = {
        { "xen-4.20", true }, { "xen-4.21", false },
    };
    for (int i = 0; i < 2; i++) {
        struct vmodel *m = on(cases[i].host, SYNIC_STIMER);
        wrm(m, HV_X64_MSR_SINT0 + 1, 0x60);
        wrm(m, HV_X64_MSR_STIMER0_COUNT, 10000);
        wrm(m, HV_X64_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | 1ull << 16 | HV_STIMER_PERIODIC);
        vmodel_advance(m, 2000001);
        cr_assert_eq(vmodel_poll(m, 0, -1), 0);
        cr_assert_eq(vmodel_defect(m) != NULL, cases[i].defect, "%s", cases[i].host);
        if (cases[i].defect)
            cr_assert(strstr(vmodel_defect(m), "XSA-472"));
        vmodel_destroy(m);
    }
}

Test(synic, from_4_18_a_disabled_local_apic_gets_no_sint)
{
    static const struct { const char *host; int irqs; } cases[] = {
        { "xen-4.17", 1 }, { "xen-4.18", 0 },
    };
    for (int i = 0; i < 2; i++) {
        struct vmodel *m = on(cases[i].host, SYNIC_STIMER);
        irqs.apic_off = true;
        periodic_timer(m);
        vmodel_advance(m, 2000001);
        cr_assert_eq(vmodel_poll(m, 0, -1), 1, "%s: the message is written", cases[i].host);
        cr_assert_eq(irqs.n, cases[i].irqs, "%s (commit 831419f829)", cases[i].host);
        vmodel_destroy(m);
    }
}

Test(synic, timers_and_sints_survive_a_save_and_restart_from_now)
{
    struct vmodel *m = on("xen-4.22", SYNIC_STIMER);
    periodic_timer(m);
    vmodel_advance(m, 1000000);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.22"), -1, 2000000000ull), VRES_OK);
    /* viridian_time_load_vcpu_ctxt() keeps config and count; the thaw starts the periodic
     * timer afresh: expiration = now + count, now = the frozen reference time. */
    cr_assert_eq(rdm(m, HV_X64_MSR_STIMER0_COUNT), 10000);
    cr_assert_eq(rdm(m, HV_X64_MSR_SINT0 + 2), 0x50);
    cr_assert_eq(rdm(m, HV_X64_MSR_SIMP), SIM | 1);
    uint64_t tsc, now = vmodel_tsc(m);
    cr_assert(vmodel_stimer_next(m, 0, &tsc));
    cr_assert_gt(tsc, now);
    cr_assert_leq(tsc - now, 2000001, "one period from the restore, not from before it");
    vmodel_destroy(m);
}

Test(synic, scontrol_and_siefp_are_in_no_save_record)
{
    struct vmodel *m = on("xen-4.22", SYNIC_STIMER);
    wrm(m, HV_X64_MSR_SCONTROL, 1);
    wrm(m, HV_X64_MSR_SIEFP, 0x6001);
    cr_assert_eq(vmodel_migrate(m, vprofile_find("xen-4.22"), -1, 0), VRES_OK);
    cr_assert_eq(rdm(m, HV_X64_MSR_SCONTROL), 0);
    cr_assert_eq(rdm(m, HV_X64_MSR_SIEFP), 0);
    vmodel_destroy(m);
}

Test(synic, no_synic_before_4_13)
{
    struct vmodel *m = on("xen-4.12", 0x7d);
    uint64_t v, tsc;
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_SINT0, &v), -1);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_STIMER0_CONFIG, &v), -1);
    cr_assert_not(vmodel_stimer_next(m, 0, &tsc));
    cr_assert_eq(vmodel_poll(m, 0, -1), 0);
    vmodel_destroy(m);
}
