/* Interrupts: the local APIC's page, the IPIs it sends, its timer on the virtual clock,
 * and the CPU taking a vector at an instruction boundary.
 *
 * Unicorn has no way to inject an interrupt, so vsbox takes one between translation
 * blocks, as QEMU's own loop does: whatever makes a vector pending (an APIC write, a
 * timer the clock reached) asks for the next block start, where the block hook delivers
 * it through the IDT (deliver.c) when EFLAGS.IF and the STI/MOV SS shadow allow, or
 * stops the run so the run loop does it when something else must happen first. While
 * a vector waits behind IF, every block start looks for the window: QEMU ends a block
 * at STI, POPF and IRET, so the window is found at the instruction it opens at. A guest that never touches the APIC pays nothing for any of this. */
#include "emu/internal.h"

enum { EFLAGS_IF = 1u << 9, VEC_NMI = 2 };

static uint64_t now_ns(const struct emu *e)
{
    return (uint64_t)((unsigned __int128)vmodel_tsc(e->model) * 1000000u /
                      vmodel_tsc_khz(e->model));
}

static uint64_t ns_to_tsc(const struct emu *e, uint64_t ns)
{
    unsigned __int128 t = (unsigned __int128)ns * vmodel_tsc_khz(e->model) + 999999u;
    t /= 1000000u;
    return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

/* The earliest timer of any vCPU: its APIC timer or its synthetic timers. */
static void update_deadline(struct emu *e)
{
    uint64_t best = UINT64_MAX, ns, t;
    for (uint32_t i = 0; i < e->n_vcpus; i++) {
        if (lapic_timer_next(&e->vcpus[i].lapic, &ns) && ns_to_tsc(e, ns) < best)
            best = ns_to_tsc(e, ns);
        if (vplatform_stimer_next(e, i, &t) && t < best)
            best = t;
    }
    e->irq.deadline_tsc = best;
}

static void fire_lapic_timers(struct emu *e)
{
    uint64_t now = 0, due;
    bool have_now = false;   /* the clock in ns is a 128-bit division: only when armed */
    for (uint32_t i = 0; i < e->n_vcpus; i++) {
        if (!lapic_timer_next(&e->vcpus[i].lapic, &due))
            continue;
        if (!have_now) {
            now = now_ns(e);
            have_now = true;
        }
        lapic_timer_fire(&e->vcpus[i].lapic, now);
    }
}

static void fire_timers(struct emu *e)
{
    fire_lapic_timers(e);
    update_deadline(e);
}

/* Look for a vector at the next block start. Never a stop here: this may be the middle
 * of a block (an MMIO access), and a run Unicorn 2.0.1 stops there reports the block's
 * first instruction as RIP while the instructions before the access have run. */
static void kick(struct emu *e)
{
    e->irq.active = true;
    e->irq.kick = true;
    e->block_plain = false;
    /* Blocks translated from now on call the block hook; irq_service drops the older
     * ones at the next stop. */
    guard_block_hook(e);
}

void irq_reset(struct emu *e)
{
    for (uint32_t i = 0; i < e->n_vcpus; i++) {
        lapic_reset(&e->vcpus[i].lapic, i);
        e->vcpus[i].waiting = false;
        e->vcpus[i].shadow_at = UINT64_MAX;
    }
    e->irq.active = e->irq.kick = false;
    e->irq.deadline_tsc = UINT64_MAX;
}

/* vlapic_ipi(): an ICR write reaches every vCPU it names (a lowest-priority one only the
 * named vCPU whose processor priority is lowest, the first such in vCPU order). */
void irq_route(struct emu *e, uint32_t from, uint32_t lo, uint32_t hi)
{
    struct lapic *src = &e->vcpus[from].lapic;
    if (!lapic_ipi_send_ok(src, lo))
        return;
    uint32_t dm = lo & APIC_DM_MASK;
    int lowest = -1;
    for (uint32_t i = 0; i < e->n_vcpus; i++) {
        struct lapic *t = &e->vcpus[i].lapic;
        if (!lapic_match_dest(t, src, lo, hi))
            continue;
        if (dm == APIC_DM_INIT) {
            if (!(lo & APIC_INT_LEVELTRIG) || (lo & APIC_INT_ASSERT))   /* not a de-assert */
                vcpu_init_ipi(e, i);
        } else if (dm == APIC_DM_STARTUP) {
            vcpu_startup_ipi(e, i, (uint8_t)lo);
        } else if (dm == APIC_DM_LOWEST) {
            if (!t->sw_disabled && (lowest < 0 || lapic_mmio_read(t, APIC_PROCPRI, 4, 0) <
                                                   lapic_mmio_read(&e->vcpus[lowest].lapic, APIC_PROCPRI, 4, 0)))
                lowest = (int)i;
        } else {
            lapic_accept(t, lo);
        }
    }
    if (lowest >= 0)
        lapic_accept(&e->vcpus[lowest].lapic, lo);
}

/* A stop at the next block start costs a full exit from Unicorn and a restart, several
 * times a trap: only when the running vCPU may have something to take (an NMI, or any
 * vector in its IRR: take() and the APIC-assist rules decide the rest). An EOI with
 * nothing pending or an IPI to another vCPU needs none; that vCPU looks when it is
 * switched in. */
static void kick_if_pending(struct emu *e)
{
    const struct lapic *l = &vcpu_cur(e)->lapic;
    if (!e->irq.active || l->nmi_pending || lapic_highest_irr(l) >= 0)
        kick(e);
}

void irq_changed(struct emu *e)
{
    update_deadline(e);
    kick_if_pending(e);
}

uint64_t lapic_dev_read(struct emu *e, uint64_t off, unsigned size)
{
    if (!e->irq.active)
        kick(e);   /* the first APIC use turns the block hook on */
    return lapic_mmio_read(&vcpu_cur(e)->lapic, (uint32_t)off, size, now_ns(e));
}

void lapic_dev_write(struct emu *e, uint64_t off, unsigned size, uint64_t value)
{
    uint32_t lo, hi;
    switch (lapic_mmio_write(&vcpu_cur(e)->lapic, (uint32_t)off, size, (uint32_t)value,
                             now_ns(e), &lo, &hi)) {
    case LAPIC_IPI:
        irq_route(e, e->cur, lo, hi);
        break;
    case LAPIC_EOI_WRITE:
        vplatform_eoi(e, e->cur);
        break;
    case LAPIC_DONE:
        break;
    }
    /* Only the timer's registers and the software enable move a deadline; an EOI or an
     * ICR write (most APIC writes) need not look at every timer of every vCPU again. A
     * write may be 1 or 2 bytes anywhere inside a register (Xen's vlapic takes them):
     * the register is the offset's 16-byte slot. */
    uint64_t reg = off & ~0xfull;
    if (reg == APIC_LVTT || reg == APIC_TMICT || reg == APIC_TDCR || reg == APIC_SPIV)
        irq_changed(e);
    else
        kick_if_pending(e);
}

void irq_restored(struct emu *e)
{
    e->irq.kick = false;
    /* A fresh engine gets the hook, and its old blocks dropped, at the next service; a
     * rewound one keeps both (dropping every block at each rewind made the emulator
     * fuzz engine 30x slower). */
    update_deadline(e);
    if (e->irq.active || e->irq.deadline_tsc != UINT64_MAX)
        kick(e);
}

void irq_timers_changed(struct emu *e)
{
    update_deadline(e);
    if (e->irq.active || e->irq.deadline_tsc != UINT64_MAX)
        kick(e);
}

void irq_clock_moved(struct emu *e)
{
    if (vmodel_tsc(e->model) >= e->irq.deadline_tsc)
        kick(e);
}

/* Take what the APIC holds, if the CPU can now: true when a vector was delivered (or
 * delivering it ended the run: e->stop). */
static bool take(struct emu *e)
{
    /* deadline_tsc is kept at the earliest timer of every vCPU by each change to one (the
     * APIC's timer registers, the SynIC and stimer MSRs, a restore): before it no timer
     * fires and none moves, so most deliveries skip the scans of every timer. */
    bool due = vmodel_tsc(e->model) >= e->irq.deadline_tsc;
    if (due)
        fire_lapic_timers(e);
    struct vcpu *v = vcpu_cur(e);
    struct lapic *l = &v->lapic;
    int vec = vplatform_pending(e, e->cur);   /* may fire synthetic timers too */
    if (due)
        update_deadline(e);
    if (e->stop)
        return true;   /* the poll's event was the save point, or Ctrl-C */
    if (!l->nmi_pending && vec < 0) {
        v->waiting = false;
        return false;
    }
    cpustate_load_prefix(&e->cpu, e->uc);   /* all a delivery reads; a change loads the rest */
    uint64_t rip = e->in_run ? cpustate_code_ip(&e->cpu, e->in_run_rip) : cpustate_rip(&e->cpu);
    struct exc x = { .pending = true, .rip = rip, .insn = rip, .source = EXC_EXTERNAL,
                     .cpu_loaded = true };
    if (l->nmi_pending && !cpustate_nmi_blocked(&e->cpu)) {
        l->nmi_pending = false;
        cpustate_block_nmi(&e->cpu);
        cpustate_store(&e->cpu, e->uc);
        x.vector = VEC_NMI;
    } else if (vec >= 0 && (cpustate_eflags(&e->cpu) & EFLAGS_IF) &&
               !cpustate_irq_shadow(&e->cpu)) {
        if (!vplatform_ack(e, e->cur, (uint8_t)vec))
            return true;   /* the domain crashed */
        x.vector = (uint8_t)vec;
    } else {
        v->waiting = true;
        e->block_plain = false;
        /* In the STI/MOV SS shadow the next instruction runs first: QEMU gives it a
         * block of its own, whose start must not stop the run again. */
        v->shadow_at = !cpustate_irq_shadow(&e->cpu) ? UINT64_MAX
                       : e->in_run ? e->in_run_rip : cpustate_code_la(&e->cpu, rip);
        return false;
    }
    v->waiting = false;
    e->halted = false;
    deliver_exception(e, &x);
    return true;
}

bool irq_service(struct emu *e)
{
    e->irq.kick = false;
    if (!e->irq.active)
        return false;
    if (!e->irq.hooked) {
        /* From the guest's first APIC access on, every block start looks for a vector
         * (guard.c's block hook: the only place Unicorn can be stopped between two
         * instructions), and blocks translated before have no such call: drop them.
         * Guests that never touch the APIC never pay for the hook (it halves the speed
         * of a tight loop). Dropped page by page (phys_sync, run right after this):
         * Unicorn 2.0.1's whole-cache flush touches its entire 1 GiB code buffer,
         * which cost 1 GiB of RSS and up to 3 s per run. */
        e->irq.hooked = true;
        e->stale_overflow = true;
    }
    return take(e);
}

/* Inside the run the engine's RIP is where the last block that wrote it left it: a block
 * entered by a direct jump from the one before (QEMU chains them) starts with RIP still
 * at that one, which QEMU only puts right when a block exits to its loop. The block
 * hook's own address is exact: the block's linear address (QEMU keys blocks by CS base
 * + EIP). (e->paging is a scratch view: mmu_load reloads it.) */
uint64_t irq_rip(struct emu *e)
{
    if (!e->in_run)
        return emu_reg(e, UC_X86_REG_RIP);
    cpustate_load_prefix(&e->paging, e->uc);
    return cpustate_code_ip(&e->paging, e->in_run_rip);
}

/* At a block start, from inside the run (guard.c's block hook), where the CPU state is
 * consistent: take the vector there, sparing the stop and the restart of the engine
 * (half of a delivery's time). The delivery leaves the block unrun and goes on at the
 * handler (redirect.h, or a RIP written through Unicorn, which would also swallow a
 * stop asked for before it), so this is only for a plain delivery; whenever the run
 * loop has something to do first, false: the hook stops the run as before. */
bool irq_take_here(struct emu *e, uint64_t block)
{
    /* A stop already asked for must hold. Everything that needs the run loop first (a
     * finished run, an exception, SYSCALL, a vCPU switch) asks through run_stop; Ctrl-C
     * from the signal handler only sets e->cancelled, and Unicorn's --timeout thread
     * stops the run behind vsbox's back, so with a timeout every vector takes the stop.
     * Translations to drop are data, not a stop: they wait for the run loop too. */
    if (!e->irq.hooked || e->stop_asked || run_cancelled(e) || e->cfg.timeout_s || e->n_stale ||
        e->stale_overflow)
        return false;
    e->irq.kick = false;
    e->in_run = true;
    e->in_run_rip = block;
    take(e);
    e->in_run = false;
    /* The frame landed on a page with code: the run loop drops those translations
     * before anything runs (the next block start stops). */
    if (e->n_stale || e->stale_overflow)
        e->irq.kick = true;
    return true;
}

bool irq_idle(struct emu *e)
{
    /* HLT ends the STI shadow it sits in (`sti; hlt` sleeps with interrupts on), as
     * QEMU's own HLT does; vsbox's HLT is a trap, so the flag is cleared here. */
    cpustate_load(&e->cpu, e->uc);
    if (cpustate_irq_shadow(&e->cpu)) {
        cpustate_clear_irq_shadow(&e->cpu);
        cpustate_store(&e->cpu, e->uc);
    }
    if (e->smp) {
        /* Asleep: another vCPU runs, or the next timer wakes one (vcpu.c). */
        vcpu_cur(e)->halted = true;
        return vcpu_schedule(e);
    }
    if (!e->irq.active)
        return false;
    for (int i = 0; i < 2; i++) {
        if (take(e))
            return true;
        if (!(emu_reg(e, UC_X86_REG_EFLAGS) & EFLAGS_IF) && !vcpu_cur(e)->lapic.nmi_pending)
            return false;   /* HLT with interrupts off: nothing can wake it */
        /* Asleep until the next timer: the clock jumps there, as an idle vCPU's does. */
        if (!irq_sleep_to_next_timer(e))
            return false;
    }
    return take(e);
}

bool irq_window(struct emu *e, uint64_t block)
{
    struct vcpu *v = vcpu_cur(e);
    if (block == v->shadow_at) {
        v->shadow_at = UINT64_MAX;
        return false;
    }
    if (e->irq.kick)
        return true;
    if (!v->waiting)
        return false;
    if (v->lapic.nmi_pending)
        return true;
    return (emu_reg(e, UC_X86_REG_EFLAGS) & EFLAGS_IF) != 0;
}

bool irq_sleep_to_next_timer(struct emu *e)
{
    update_deadline(e);
    if (e->irq.deadline_tsc == UINT64_MAX)
        return false;
    uint64_t t = vmodel_tsc(e->model);
    if (e->irq.deadline_tsc > t)
        vmodel_advance(e->model, e->irq.deadline_tsc - t);
    fire_timers(e);
    return true;
}
