/* The emulator's own state in a snapshot, by name, beside the registers (snapshot.c):
 * each vCPU's state and local APIC in its CPU record, and the machine's devices (HPET,
 * IO-APIC, the interrupt and schedule state, Xen's shared_info and grant table
 * settings) in the MACHINE record. Only values that differ from reset are written, and
 * a restore starts from reset, so snapshots from before a device existed restore with
 * that device as a fresh guest has it. Event channels and pages populated outside RAM
 * are not saved: emu_save_check() refuses a guest that has them rather than lose them. */
#include <stdio.h>
#include <string.h>
#include "emu/internal.h"
#include "snapshot/snapshot.h"

/* LAPIC registers by page offset: all but the read-only and computed ones. */
static const uint16_t apic_regs[] = {
    APIC_ID, APIC_TASKPRI, APIC_LDR, APIC_DFR, APIC_SPIV,
    APIC_ISR, APIC_ISR + 0x10, APIC_ISR + 0x20, APIC_ISR + 0x30, APIC_ISR + 0x40,
    APIC_ISR + 0x50, APIC_ISR + 0x60, APIC_ISR + 0x70,
    APIC_TMR, APIC_TMR + 0x10, APIC_TMR + 0x20, APIC_TMR + 0x30, APIC_TMR + 0x40,
    APIC_TMR + 0x50, APIC_TMR + 0x60, APIC_TMR + 0x70,
    APIC_IRR, APIC_IRR + 0x10, APIC_IRR + 0x20, APIC_IRR + 0x30, APIC_IRR + 0x40,
    APIC_IRR + 0x50, APIC_IRR + 0x60, APIC_IRR + 0x70,
    APIC_ESR, APIC_ICR, APIC_ICR2, APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT0, APIC_LVT1,
    APIC_LVTERR, APIC_TMICT, APIC_TDCR,
};

static void put(struct snap_cpu *c, const char *name, uint64_t v, uint64_t reset)
{
    if (v != reset)
        snap_reg_set(c, name, v);
}

static uint64_t get(const struct snap_cpu *c, const char *name, uint64_t reset)
{
    uint64_t v;
    return snap_reg_get(c, name, &v) ? v : reset;
}

void snapstate_save_vcpu(struct emu *e, uint32_t i, struct snap_cpu *c)
{
    const struct vcpu *v = &e->vcpus[i];
    struct lapic reset;
    lapic_reset(&reset, i);
    char name[32];
    for (size_t k = 0; k < sizeof apic_regs / sizeof apic_regs[0]; k++) {
        snprintf(name, sizeof name, "apic_%03x", apic_regs[k]);
        put(c, name, v->lapic.reg[apic_regs[k] >> 4], reset.reg[apic_regs[k] >> 4]);
    }
    const struct lapic *l = &v->lapic;
    put(c, "apic_flags", (uint64_t)l->counting | (uint64_t)l->armed << 1 |
                             (uint64_t)l->nmi_pending << 2, 0);
    put(c, "apic_last", l->last_update_ns, 0);
    put(c, "apic_next", l->next_ns, 0);
    put(c, "apic_period", l->period_ns, 0);
    put(c, "vcpu_state", (uint64_t)v->up | (uint64_t)v->initialised << 1 |
                             (uint64_t)v->halted << 2, i == 0 ? 3 : 0);
    /* The running vCPU's debug registers and platform MSRs are the machine's copies. */
    const uint64_t *pm = i == e->cur ? e->platform_msr : v->platform_msr;
    for (unsigned k = 0; k < PLATFORM_MSRS; k++) {
        snprintf(name, sizeof name, "pmsr%u", k);
        put(c, name, pm[k], 0);
    }
}

void snapstate_restore_vcpu(struct emu *e, uint32_t i, const struct snap_cpu *c)
{
    struct vcpu *v = &e->vcpus[i];
    lapic_reset(&v->lapic, i);
    char name[32];
    for (size_t k = 0; k < sizeof apic_regs / sizeof apic_regs[0]; k++) {
        snprintf(name, sizeof name, "apic_%03x", apic_regs[k]);
        v->lapic.reg[apic_regs[k] >> 4] = (uint32_t)get(c, name, v->lapic.reg[apic_regs[k] >> 4]);
    }
    struct lapic *l = &v->lapic;
    l->sw_disabled = !(l->reg[APIC_SPIV >> 4] & 0x100);
    uint32_t tdcr = l->reg[APIC_TDCR >> 4];
    l->divisor = 1u << ((((tdcr & 3) | ((tdcr & 8) >> 1)) + 1) & 7);
    uint64_t f = get(c, "apic_flags", 0);
    l->counting = f & 1;
    l->armed = f >> 1 & 1;
    l->nmi_pending = f >> 2 & 1;
    l->last_update_ns = get(c, "apic_last", 0);
    l->next_ns = get(c, "apic_next", 0);
    l->period_ns = get(c, "apic_period", 0);
    uint64_t st = get(c, "vcpu_state", i == 0 ? 3 : 0);
    v->up = st & 1;
    v->initialised = st >> 1 & 1;
    v->halted = st >> 2 & 1;
    v->waiting = false;
    v->shadow_at = UINT64_MAX;
    v->polled = false;
    uint64_t *pm = i == e->cur ? e->platform_msr : v->platform_msr;
    for (unsigned k = 0; k < PLATFORM_MSRS; k++) {
        snprintf(name, sizeof name, "pmsr%u", k);
        pm[k] = get(c, name, pm[k]);
    }
}

void snapstate_save_machine(struct emu *e, struct snap_cpu *c)
{
    char name[32];
    put(c, "irq_active", e->irq.active, 0);
    put(c, "vcpu_cur", e->cur, 0);
    put(c, "vcpu_slice", e->smp ? e->slice_left : 0, 0);
    put(c, "hpet_config", e->hpet.config, 0);
    put(c, "hpet_status", e->hpet.status, 0);
    put(c, "hpet_count", e->hpet.counter, 0);
    put(c, "hpet_offset", e->hpet.offset, 0);
    for (int t = 0; t < 3; t++) {
        snprintf(name, sizeof name, "hpet%d_cfg", t);
        snap_reg_set(c, name, e->hpet.timer_cfg[t]);
        snprintf(name, sizeof name, "hpet%d_cmp", t);
        snap_reg_set(c, name, e->hpet.cmp[t]);
    }
    put(c, "ioapic_sel", e->ioapic.sel, 0);
    put(c, "ioapic_id", e->ioapic.id, 0);
    for (unsigned p = 0; p < IOAPIC_PINS; p++) {
        snprintf(name, sizeof name, "ioapic_r%u", p);
        put(c, name, e->ioapic.redir[p], 1u << 16);
    }
    put(c, "xen_shinfo", e->xen.shinfo_mapped ? e->xen.shinfo_gpa | 1 : 0, 0);
    put(c, "xen_flags", (uint64_t)e->xen.called | (uint64_t)e->xen.shinfo_32 << 1, 0);
    put(c, "xen_gnttab", e->xen.gnttab_version, 0);
}

void snapstate_restore_machine(struct emu *e, const struct snap_cpu *c)
{
    char name[32];
    e->irq.active = get(c, "irq_active", 0) != 0;
    uint64_t v;
    for (int t = 0; t < 3; t++) {
        snprintf(name, sizeof name, "hpet%d_cfg", t);
        if (snap_reg_get(c, name, &v))
            e->hpet.timer_cfg[t] = v;
        snprintf(name, sizeof name, "hpet%d_cmp", t);
        if (snap_reg_get(c, name, &v))
            e->hpet.cmp[t] = v;
    }
    e->hpet.config = get(c, "hpet_config", 0);
    e->hpet.status = get(c, "hpet_status", 0);
    e->hpet.counter = get(c, "hpet_count", 0);
    e->hpet.offset = get(c, "hpet_offset", 0);
    e->ioapic.sel = (uint8_t)get(c, "ioapic_sel", 0);
    e->ioapic.id = (uint32_t)get(c, "ioapic_id", 0);
    for (unsigned p = 0; p < IOAPIC_PINS; p++) {
        snprintf(name, sizeof name, "ioapic_r%u", p);
        e->ioapic.redir[p] = get(c, name, 1u << 16);
    }
    uint64_t sh = get(c, "xen_shinfo", 0);
    e->xen.shinfo_mapped = sh & 1;
    e->xen.shinfo_gpa = sh & ~1ull;
    uint64_t xf = get(c, "xen_flags", 0);
    e->xen.called = xf & 1;
    e->xen.shinfo_32 = xf >> 1 & 1;
    e->xen.gnttab_version = (uint32_t)get(c, "xen_gnttab", 0);
}

uint32_t snapstate_saved_cur(const struct snap_cpu *machine, uint32_t vcpus)
{
    uint64_t cur = get(machine, "vcpu_cur", 0);
    return cur < vcpus ? (uint32_t)cur : 0;
}

uint32_t snapstate_saved_slice(const struct snap_cpu *machine)
{
    return (uint32_t)get(machine, "vcpu_slice", 0);
}
