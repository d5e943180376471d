/* HV_X64_MSR_EOI, _ICR and _TPR: shortcuts into the local APIC. With the platform's
 * APIC callbacks they are its registers (one source of truth); without them the model
 * keeps Xen's masked copies: 4.3-4.11 wrmsr_viridian_regs() "eax &= ~(1 << 12);
 * edx &= 0xff000000;" and "(uint8_t)val", 4.12+ vlapic_reg_write() with the same masks.
 * KVM (kvm_hv_vapic_msr_write -> kvm_lapic_msr_write): "Bits 63:32 are reserved in all
 * other registers" than the ICR, whose 64 bits it keeps but the busy bit. */
#include "viridian/internal.h"

int vapic_wr_eoi(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)idx;
    if (vkvm(m) && (val >> 32))
        return -1;
    if (m->plat.apic_eoi)
        m->plat.apic_eoi(m->plat.ctx, vcpu); /* vlapic_EOI_set() */
    return 0;
}

static uint32_t reg(const struct vmodel *m, uint32_t vcpu, uint32_t r)
{
    if (m->plat.apic_read)
        return m->plat.apic_read(m->plat.ctx, vcpu, r);
    const struct vvcpu *v = &m->vcpu[vcpu];
    return r == VAPIC_ICR ? v->icr : r == VAPIC_ICR2 ? v->icr2 : v->tpr;
}

int vapic_rd_icr(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)idx;
    *val = (uint64_t)reg(m, vcpu, VAPIC_ICR2) << 32 | reg(m, vcpu, VAPIC_ICR);
    return 0;
}

int vapic_wr_icr(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)idx;
    if (m->plat.apic_write) {
        m->plat.apic_write(m->plat.ctx, vcpu, VAPIC_ICR2, (uint32_t)(val >> 32));
        m->plat.apic_write(m->plat.ctx, vcpu, VAPIC_ICR, (uint32_t)val);
        return 0;
    }
    struct vvcpu *v = &m->vcpu[vcpu];
    v->icr2 = (uint32_t)(val >> 32) & (vkvm(m) ? 0xffffffffu : 0xff000000u);
    v->icr = (uint32_t)val & ~(1u << 12);
    return 0;
}

int vapic_rd_tpr(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)idx;
    *val = reg(m, vcpu, VAPIC_TASKPRI);
    return 0;
}

int vapic_wr_tpr(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)idx;
    if (vkvm(m) && (val >> 32))
        return -1;
    if (m->plat.apic_write)
        m->plat.apic_write(m->plat.ctx, vcpu, VAPIC_TASKPRI, (uint32_t)val);
    else
        m->vcpu[vcpu].tpr = (uint8_t)val;
    return 0;
}

/* vlapic_set_irq(), skipping a disabled local APIC from 4.18 (commit 831419f829). */
void vapic_deliver(struct vmodel *m, uint32_t vcpu, uint8_t vector)
{
    if (m->host->irq_needs_apic && m->plat.apic_enabled &&
        !m->plat.apic_enabled(m->plat.ctx, vcpu))
        return;
    if (m->plat.set_irq)
        m->plat.set_irq(m->plat.ctx, vcpu, vector);
}
