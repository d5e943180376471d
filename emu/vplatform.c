/* The viridian model's platform, as the emulator provides it: the callbacks through which
 * the model reaches the local APICs, flushes TLBs and reports a crash, and vlapic's side
 * of the viridian features, which Xen keeps in vlapic.c and which changed per release:
 * the SynIC poll before looking at the IRR (4.13+), APIC assist (4.7+: 4.7-4.8 assist
 * when no lower vector is in service, 4.9-4.10 when none is, 4.11+ also above 0x10 and
 * with the avoided EOI emulated), auto-EOI SINTs. Each rule names its release; the
 * model (viridian/synic.c) does the page and state side. */
#include "emu/internal.h"

static struct emu *from(void *ctx)
{
    return ctx;
}

/* vlapic_get_reg / vlapic_reg_write for the synthetic APIC MSRs (TPR, ICR, ICR2). */
static uint32_t apic_read(void *ctx, uint32_t vcpu, uint32_t reg)
{
    struct emu *e = from(ctx);
    return vcpu < e->n_vcpus ? lapic_mmio_read(&e->vcpus[vcpu].lapic, reg, 4, 0) : 0;
}

static void apic_write(void *ctx, uint32_t vcpu, uint32_t reg, uint32_t val)
{
    struct emu *e = from(ctx);
    if (vcpu >= e->n_vcpus)
        return;
    uint32_t lo, hi;
    if (lapic_mmio_write(&e->vcpus[vcpu].lapic, reg, 4, val, 0, &lo, &hi) == LAPIC_IPI)
        irq_route(e, vcpu, lo, hi);
    irq_changed(e);
}

static void apic_eoi(void *ctx, uint32_t vcpu)
{
    struct emu *e = from(ctx);
    if (vcpu < e->n_vcpus)
        vplatform_eoi(e, vcpu);
    irq_changed(e);
}

static bool apic_enabled(void *ctx, uint32_t vcpu)
{
    struct emu *e = from(ctx);
    return vcpu < e->n_vcpus && !e->vcpus[vcpu].lapic.sw_disabled;
}

static void set_irq(void *ctx, uint32_t vcpu, uint8_t vector)
{
    struct emu *e = from(ctx);
    if (vcpu >= e->n_vcpus)
        return;
    lapic_set_irq(&e->vcpus[vcpu].lapic, vector, false);
    irq_changed(e);
}

/* paging_flush_tlb(): the running vCPU's TLB now (rewriting CR3 drops it); the others
 * get a fresh TLB whenever they are switched in anyway. */
static void flush_tlb(void *ctx, uint32_t from_vcpu, uint64_t targets)
{
    struct emu *e = from(ctx);
    (void)from_vcpu;
    if (e->cur < 64 && (targets >> e->cur & 1))
        emu_set_reg(e, UC_X86_REG_CR3, emu_reg(e, UC_X86_REG_CR3));
}

void vplatform_attach(struct emu *e)
{
    const struct vplatform_ops ops = {
        .ctx = e, .apic_read = apic_read, .apic_write = apic_write, .apic_eoi = apic_eoi,
        .apic_enabled = apic_enabled, .set_irq = set_irq, .flush_tlb = flush_tlb,
        /* No crash callback: the model keeps the report, and the edge prints it with
         * the run's status (cli/session.c, crash_status). */
    };
    vmodel_set_platform(e->model, &ops);
}

/* vlapic_EOI_set(): from 4.11 an EOI while assisted first emulates the EOI the assist
 * avoided (viridian_apic_assist_completed), and a real one clears the assist. */
void vplatform_eoi(struct emu *e, uint32_t vcpu)
{
    struct lapic *l = &e->vcpus[vcpu].lapic;
    if (vmodel_host(e->model)->vp_assist != VASSIST_4_11) {
        lapic_eoi(l);
        return;
    }
    bool missed = vmodel_apic_assist_completed(e->model, vcpu) >= 0;
    for (;;) {
        if (lapic_highest_isr(l) < 0)
            return;
        if (!missed)
            vmodel_apic_assist_clear(e->model, vcpu);
        lapic_eoi(l);
        if (!missed)
            return;
        missed = false;
    }
}

/* viridian_synic_poll() from vlapic_has_pending_irq(): a due timer's message goes into
 * the SIM page now, recorded as a poll event (what replay applies). Polled once per
 * clock reading and trapped event: a message waiting for its slot is retried after
 * each trap (the guest frees a slot with a plain store, then writes EOM or traps). */
static void poll(struct emu *e, uint32_t vcpu)
{
    struct vcpu *v = &e->vcpus[vcpu];
    uint64_t t, now = vmodel_tsc(e->model);
    /* Before the earliest timer of any vCPU (irq.c keeps it) none of these is due. */
    if (now < e->irq.deadline_tsc || !vmodel_stimer_next(e->model, vcpu, &t) || t > now)
        return;
    if (v->polled && v->poll_tsc == now && v->poll_events == e->events)
        return;
    struct vevent ev = { .kind = VEV_POLL, .vcpu = vcpu,
                         .a = { vmodel_sim_busy(e->model, vcpu) }, .legacy = -1 };
    struct vres res;
    vmodel_apply(e->model, &ev, &res);
    trap_event(e, &ev, &res, irq_rip(e));
    v->polled = true;
    v->poll_tsc = now;
    v->poll_events = e->events;
}

int vplatform_pending(struct emu *e, uint32_t vcpu)
{
    struct lapic *l = &e->vcpus[vcpu].lapic;
    if (l->sw_disabled)
        return -1;
    poll(e, vcpu);
    int irr = lapic_highest_irr(l);
    if (irr < 0)
        return -1;
    enum vassist_kind kind = vmodel_host(e->model)->vp_assist;
    int isr;
    if (kind == VASSIST_4_11) {
        if (vmodel_apic_assist_completed(e->model, vcpu) >= 0)
            vplatform_eoi(e, vcpu);
        isr = lapic_highest_isr(l);
        if (isr >= 0 && (irr & 0xf0) <= (isr & 0xf0)) {
            vmodel_apic_assist_clear(e->model, vcpu);
            return -1;
        }
    } else {
        /* 4.7-4.10: the vector an assist let go leaves the ISR here */
        int done = vmodel_apic_assist_completed(e->model, vcpu);
        if (done > 0)
            lapic_isr_clear(l, (uint8_t)done);
        isr = lapic_highest_isr(l);
        bool blocked = isr >= 0 && (isr & 0xf0) >= (irr & 0xf0);
        /* Abort the assist: 4.9-4.10 whenever a vector is in service, 4.7-4.8 only when
         * it holds this one back. */
        if (kind != VASSIST_DWORD && (blocked || (kind == VASSIST_4_9 && isr >= 0)))
            vmodel_apic_assist_clear(e->model, vcpu);
        if (blocked)
            return -1;
    }
    return lapic_pending(l);   /* and the TPR, which Xen checks as the CPU would */
}

bool vplatform_ack(struct emu *e, uint32_t vcpu, uint8_t vector)
{
    struct lapic *l = &e->vcpus[vcpu].lapic;
    enum vassist_kind kind = vmodel_host(e->model)->vp_assist;
    if (vmodel_apic_assist_usable(e->model) && !lapic_tmr(l, vector)) {
        int isr = kind == VASSIST_4_7 ? lapic_lowest_isr(l) : lapic_highest_isr(l);
        bool use = kind == VASSIST_4_11 ? isr < 0 && vector > 0x10
                 : kind == VASSIST_4_9 ? isr < 0
                                       : !(isr >= 0 && isr < vector);
        if (use && vmodel_apic_assist_set(e->model, vcpu, vector) == VAA_CRASH) {
            /* viridian_apic_assist_set(): "already an assist pending" -> domain_crash */
            deliver_report(e, "Xen crashed the domain: an APIC assist was set while one was "
                           "still pending (viridian_apic_assist_set)",
                           irq_rip(e), NULL);
            run_finish(e, EMU_CRASHED);
            return false;
        }
    }
    lapic_ack(l, vector, vmodel_sint_auto_eoi(e->model, vcpu, vector));
    vmodel_sint_ack(e->model, vcpu, vector);
    return true;
}

bool vplatform_stimer_next(struct emu *e, uint32_t vcpu, uint64_t *tsc)
{
    return vmodel_stimer_next(e->model, vcpu, tsc);
}
