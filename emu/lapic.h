/* One vCPU's local APIC in xAPIC mode, as Xen's vlapic.c has it (RELEASE-4.22.0): the
 * register page, IRR/ISR/TMR, the processor priority, the error register, the timer
 * on a 100 MHz bus (APIC_BUS_CYCLE_NS 10), and the ICR as a request for the machine to
 * route. No Unicorn and no clock of its own: every call that needs the time is given
 * guest time in nanoseconds. IA32_APIC_BASE stays the viridian model's (enabled, at
 * 0xfee00000, BSP on vCPU 0), so the page is always there. */
#ifndef VSBOX_EMU_LAPIC_H
#define VSBOX_EMU_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_BASE 0xfee00000ull

/* Register offsets (xAPIC MMIO), with the names of Xen's apicdef.h. */
enum {
    APIC_ID = 0x20, APIC_LVR = 0x30, APIC_TASKPRI = 0x80, APIC_ARBPRI = 0x90,
    APIC_PROCPRI = 0xa0, APIC_EOI = 0xb0, APIC_LDR = 0xd0, APIC_DFR = 0xe0,
    APIC_SPIV = 0xf0, APIC_ISR = 0x100, APIC_TMR = 0x180, APIC_IRR = 0x200,
    APIC_ESR = 0x280, APIC_CMCI = 0x2f0, APIC_ICR = 0x300, APIC_ICR2 = 0x310,
    APIC_LVTT = 0x320, APIC_LVTTHMR = 0x330, APIC_LVTPC = 0x340, APIC_LVT0 = 0x350,
    APIC_LVT1 = 0x360, APIC_LVTERR = 0x370, APIC_TMICT = 0x380, APIC_TMCCT = 0x390,
    APIC_TDCR = 0x3e0,
};

/* ICR fields */
enum {
    APIC_DM_MASK = 0x700, APIC_DM_FIXED = 0x000, APIC_DM_LOWEST = 0x100,
    APIC_DM_SMI = 0x200, APIC_DM_REMRD = 0x300, APIC_DM_NMI = 0x400,
    APIC_DM_INIT = 0x500, APIC_DM_STARTUP = 0x600,
    APIC_DEST_LOGICAL = 0x800, APIC_INT_ASSERT = 0x4000, APIC_INT_LEVELTRIG = 0x8000,
    APIC_SHORT_MASK = 0xc0000, APIC_DEST_NOSHORT = 0, APIC_DEST_SELF = 0x40000,
    APIC_DEST_ALLINC = 0x80000, APIC_DEST_ALLBUT = 0xc0000,
    APIC_LVT_MASKED = 0x10000,
    APIC_ESR_SENDILL = 0x20, APIC_ESR_RECVILL = 0x40,
};

struct lapic {
    uint32_t reg[64];          /* the page's registers, by offset / 16 */
    uint32_t vcpu;
    bool sw_disabled;          /* SPIV bit 8 clear */
    bool nmi_pending;
    uint32_t divisor;          /* TDCR decoded: 1..128 */
    /* The timer: last_update is Xen's timer_last_update, counting its "non-zero"
     * (guest time 0 is a real time here); armed: next_ns is when it fires next;
     * period 0 for one-shot. */
    uint64_t last_update_ns, next_ns, period_ns;
    bool counting, armed;
};

/* vlapic_reset(): power-on state, ID vcpu*2 as Xen gives it. */
void lapic_reset(struct lapic *l, uint32_t vcpu);
/* vlapic_do_init(): what an INIT IPI leaves (ID kept). */
void lapic_init(struct lapic *l);

/* MMIO at offset off (any size that fits one 32-bit register, as Xen allows). */
uint32_t lapic_mmio_read(const struct lapic *l, uint32_t off, unsigned size, uint64_t now_ns);
/* What a write asks of the machine: an ICR write's IPI to route (icr_lo and icr_hi then
 * hold it; only the machine knows every vCPU), or an EOI (vlapic_EOI_set, which the
 * machine runs because Xen's checks APIC assist first: irq.c). */
enum lapic_write { LAPIC_DONE, LAPIC_IPI, LAPIC_EOI_WRITE };
enum lapic_write lapic_mmio_write(struct lapic *l, uint32_t off, unsigned size, uint32_t val,
                                  uint64_t now_ns, uint32_t *icr_lo, uint32_t *icr_hi);

/* Routing an ICR: does this APIC take it (vlapic_match_dest)? */
bool lapic_match_dest(const struct lapic *target, const struct lapic *source,
                      uint32_t icr_lo, uint32_t icr_hi);
/* vlapic_ipi()'s checks on the sender: a fixed or lowest-priority IPI with a vector
 * below 16 is a send error and goes nowhere (false). */
bool lapic_ipi_send_ok(struct lapic *source, uint32_t icr_lo);
/* vlapic_accept_irq() for fixed, lowest-priority and NMI (INIT and SIPI are the
 * machine's: they reset a vCPU). */
void lapic_accept(struct lapic *l, uint32_t icr_lo);

/* vlapic_set_irq(): a vector below 16 is a receive error. */
void lapic_set_irq(struct lapic *l, uint8_t vector, bool level);
/* vlapic_has_pending_irq(): the vector the CPU would take now, or -1. */
int lapic_pending(const struct lapic *l);
/* vlapic_ack_pending_irq(): the CPU took it. auto_eoi: not set in the ISR (a SynIC
 * auto-EOI SINT). */
void lapic_ack(struct lapic *l, uint8_t vector, bool auto_eoi);
/* The highest in-service vector is done (vlapic_EOI_set's ISR step); returns it, or -1. */
int lapic_eoi(struct lapic *l);
/* The highest vector in the ISR / IRR, or -1; one vector's bits (APIC assist's paths). */
int lapic_highest_isr(const struct lapic *l);
int lapic_lowest_isr(const struct lapic *l);
int lapic_highest_irr(const struct lapic *l);
bool lapic_tmr(const struct lapic *l, uint8_t vector);
void lapic_isr_clear(struct lapic *l, uint8_t vector);

/* The timer: when it fires next (false: not armed), and firing it at now_ns (sets the
 * LVTT vector pending unless masked; a periodic timer re-arms). */
bool lapic_timer_next(const struct lapic *l, uint64_t *ns);
void lapic_timer_fire(struct lapic *l, uint64_t now_ns);

#endif
