/* The local APIC's registers and rules, after Xen's vlapic.c (see lapic.h). The
 * machine side (which vCPU an IPI reaches, when the CPU takes a vector, the page's
 * MMIO) is in irq.c. */
#include <string.h>
#include "emu/lapic.h"

#define VLAPIC_VERSION 0x00050014u   /* Xen's: version 0x14, 6 LVT entries */
#define APIC_BUS_CYCLE_NS 10u
#define TIMER_MODE_MASK 0x60000u
#define TIMER_ONESHOT 0u
#define TIMER_PERIODIC 0x20000u

/* What each LVT keeps of a write (vlapic_lvt_mask): timer, thermal, PMC, LINT0, LINT1,
 * error. */
#define LVT_MASK (APIC_LVT_MASKED | 0x1000u | 0xffu)
#define LINT_MASK (LVT_MASK | APIC_DM_MASK | 0x2000u | 0x4000u | 0x8000u)
static const uint32_t lvt_mask[6] = {
    LVT_MASK | TIMER_MODE_MASK, LVT_MASK | APIC_DM_MASK, LVT_MASK | APIC_DM_MASK,
    LINT_MASK, LINT_MASK, LVT_MASK,
};

static uint32_t get(const struct lapic *l, uint32_t off)
{
    return l->reg[(off >> 4) & 63];
}

static void set(struct lapic *l, uint32_t off, uint32_t v)
{
    l->reg[(off >> 4) & 63] = v;
}

static void put_vec(struct lapic *l, uint32_t base, uint8_t v, bool on)
{
    uint32_t off = base + (uint32_t)(v / 32) * 16, bit = 1u << (v % 32);
    set(l, off, on ? get(l, off) | bit : get(l, off) & ~bit);
}

/* The highest vector set in the 256-bit ISR, TMR or IRR. Every delivery and EOI asks
 * this several times, mostly of an empty or one-bit register: read as four 64-bit words
 * (two neighbouring registers, little-endian as x86 is), half the steps of eight. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "highest() reads registers in pairs");
static int highest(const struct lapic *l, uint32_t base)
{
    uint64_t q[4];
    memcpy(q, &l->reg[(base >> 4) & 63], sizeof q);
    for (int w = 3; w >= 0; w--)
        if (q[w])
            return w * 64 + 63 - __builtin_clzll(q[w]);
    return -1;
}

static uint32_t timer_mode(const struct lapic *l)
{
    return get(l, APIC_LVTT) & TIMER_MODE_MASK;
}

static bool timer_counts(const struct lapic *l)
{
    return timer_mode(l) == TIMER_ONESHOT || timer_mode(l) == TIMER_PERIODIC;
}

static void set_tdcr(struct lapic *l, uint32_t v)
{
    v &= 0xbu;   /* only bits 0, 1 and 3 */
    set(l, APIC_TDCR, v);
    l->divisor = 1u << ((((v & 3) | ((v & 8) >> 1)) + 1) & 7);
}

/* vlapic_do_init(): INIT's state (the ID and APIC base stay). */
static void do_init(struct lapic *l)
{
    uint32_t id = get(l, APIC_ID);
    memset(l->reg, 0, sizeof l->reg);
    set(l, APIC_ID, id);
    set(l, APIC_LVR, VLAPIC_VERSION);
    set(l, APIC_DFR, 0xffffffffu);
    for (uint32_t i = 0; i < 6; i++)
        set(l, APIC_LVTT + 0x10 * i, APIC_LVT_MASKED);
    set(l, APIC_SPIV, 0xff);
    set_tdcr(l, 0);
    l->sw_disabled = true;
    l->nmi_pending = false;
    l->last_update_ns = l->next_ns = l->period_ns = 0;
    l->counting = l->armed = false;
}

void lapic_init(struct lapic *l)
{
    do_init(l);
}

void lapic_reset(struct lapic *l, uint32_t vcpu)
{
    memset(l, 0, sizeof *l);
    l->vcpu = vcpu;
    set(l, APIC_ID, (vcpu * 2) << 24);
    do_init(l);
}

static uint32_t ppr(const struct lapic *l)
{
    uint32_t tpr = get(l, APIC_TASKPRI);
    int isr = highest(l, APIC_ISR);
    uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr;
    return (tpr & 0xf0) >= (isrv & 0xf0) ? tpr & 0xff : isrv & 0xf0;
}

/* vlapic_get_tmcct() */
static uint32_t tmcct(const struct lapic *l, uint64_t now)
{
    uint32_t tmict = get(l, APIC_TMICT);
    if (!tmict || !l->counting)
        return 0;
    uint64_t passed = (now - l->last_update_ns) / ((uint64_t)APIC_BUS_CYCLE_NS * l->divisor);
    if (timer_mode(l) == TIMER_PERIODIC)
        passed %= tmict;
    return passed < tmict ? tmict - (uint32_t)passed : 0;
}

static uint32_t read_aligned(const struct lapic *l, uint32_t off, uint64_t now)
{
    switch (off) {
    case APIC_PROCPRI:
        return ppr(l);
    case APIC_TMCCT:
        return timer_counts(l) ? tmcct(l, now) : 0;
    case APIC_TMICT:
        return timer_counts(l) ? get(l, off) : 0;
    default:
        return get(l, off);
    }
}

uint32_t lapic_mmio_read(const struct lapic *l, uint32_t off, unsigned size, uint64_t now_ns)
{
    uint32_t align = off & 0xf;
    if (align + size > 4 || off > APIC_TDCR + 3)
        return 0;
    uint32_t v = read_aligned(l, off & ~0xfu, now_ns) >> (align * 8);
    return size == 1 ? (uint8_t)v : size == 2 ? (uint16_t)v : v;
}

/* vlapic_update_timer(): TMICT, LVTT or TDCR changed. */
static void update_timer(struct lapic *l, uint32_t lvtt, bool tmict_updated,
                         uint32_t old_divisor, uint64_t now)
{
    uint32_t mode = lvtt & TIMER_MODE_MASK;
    uint64_t period = (uint64_t)get(l, APIC_TMICT) * APIC_BUS_CYCLE_NS * old_divisor, delta = 0;
    if (tmict_updated) {
        delta = period;
    } else if (period && l->counting) {
        uint64_t passed = now - l->last_update_ns;
        if (timer_mode(l) == TIMER_PERIODIC)
            passed %= period;
        if (passed < period)
            delta = period - passed;
    }
    if (delta && (mode == TIMER_ONESHOT || mode == TIMER_PERIODIC)) {
        if (l->divisor != old_divisor) {
            period = (uint64_t)get(l, APIC_TMICT) * APIC_BUS_CYCLE_NS * l->divisor;
            delta = delta * l->divisor / old_divisor;
        }
        l->next_ns = now + delta;
        l->period_ns = mode == TIMER_PERIODIC ? period : 0;
        l->last_update_ns = now;
        l->counting = l->armed = true;
        if (!tmict_updated)
            l->last_update_ns -= period - delta;
    } else {
        l->last_update_ns = l->next_ns = l->period_ns = 0;
        l->counting = l->armed = false;
    }
}

enum lapic_write lapic_mmio_write(struct lapic *l, uint32_t off, unsigned size, uint32_t val,
                                  uint64_t now_ns, uint32_t *icr_lo, uint32_t *icr_hi)
{
    uint32_t align = off & 0xf;
    off &= ~0xfu;
    if (align + size > 4 || off > APIC_TDCR)
        return LAPIC_DONE;
    if (size < 4) {
        uint32_t shift = align * 8, mask = (size == 1 ? 0xffu : 0xffffu) << shift;
        val = (read_aligned(l, off, now_ns) & ~mask) | ((val << shift) & mask);
    }
    switch (off) {
    case APIC_ID:
        set(l, off, val);
        break;
    case APIC_TASKPRI:
        set(l, off, val & 0xff);
        break;
    case APIC_EOI:
        return LAPIC_EOI_WRITE;
    case APIC_LDR:
        set(l, off, val & 0xff000000u);
        break;
    case APIC_DFR:
        set(l, off, val | 0x0fffffffu);
        break;
    case APIC_SPIV:
        set(l, off, val & 0x3ff);
        l->sw_disabled = !(val & 0x100);
        if (l->sw_disabled)
            for (uint32_t i = 0; i < 6; i++)
                set(l, APIC_LVTT + 0x10 * i, get(l, APIC_LVTT + 0x10 * i) | APIC_LVT_MASKED);
        break;
    case APIC_ICR:
        val &= ~(1u << 12);   /* delivery status: always idle */
        set(l, off, val);
        *icr_lo = val;
        *icr_hi = get(l, APIC_ICR2);
        return LAPIC_IPI;
    case APIC_ICR2:
        set(l, off, val & 0xff000000u);
        break;
    case APIC_LVTT:
        if ((timer_mode(l) == 0x40000u) != ((val & TIMER_MODE_MASK) == 0x40000u))
            set(l, APIC_TMICT, 0);
        update_timer(l, val, false, l->divisor, now_ns);
        /* fall through */
    case APIC_LVTTHMR:
    case APIC_LVTPC:
    case APIC_LVT0:
    case APIC_LVT1:
    case APIC_LVTERR:
        if (l->sw_disabled)
            val |= APIC_LVT_MASKED;
        set(l, off, val & lvt_mask[(off - APIC_LVTT) >> 4]);
        break;
    case APIC_TMICT:
        if (!timer_counts(l))
            break;
        set(l, off, val);
        update_timer(l, get(l, APIC_LVTT), true, l->divisor, now_ns);
        break;
    case APIC_TDCR: {
        uint32_t old = l->divisor;
        set_tdcr(l, val);
        update_timer(l, get(l, APIC_LVTT), false, old, now_ns);
        break;
    }
    default:
        break;   /* read-only or reserved: Xen drops the write (ESR among them) */
    }
    return LAPIC_DONE;
}

/* vlapic_error(): an error sets its ESR bit once; LVTERR (unmasked) raises its vector,
 * and an illegal LVTERR vector is folded in as a receive error rather than raised,
 * which is the XSA-462 fix (before it, Xen recursed into a lock it held). */
static void error(struct lapic *l, uint32_t mask)
{
    uint32_t esr = get(l, APIC_ESR);
    if ((esr & mask) == mask)
        return;
    uint32_t lvterr = get(l, APIC_LVTERR);
    bool inject = false;
    if (!(lvterr & APIC_LVT_MASKED)) {
        if ((lvterr & 0xff) >= 16)
            inject = true;
        else
            mask |= APIC_ESR_RECVILL;
    }
    set(l, APIC_ESR, esr | mask);
    if (inject)
        lapic_set_irq(l, (uint8_t)lvterr, false);
}

void lapic_set_irq(struct lapic *l, uint8_t vector, bool level)
{
    if (vector < 16) {
        error(l, APIC_ESR_RECVILL);
        return;
    }
    put_vec(l, APIC_TMR, vector, level);
    put_vec(l, APIC_IRR, vector, true);
}

static bool match_logical(const struct lapic *l, uint32_t mda)
{
    uint32_t id = get(l, APIC_LDR) >> 24;
    mda &= 0xff;
    switch (get(l, APIC_DFR)) {
    case 0xffffffffu:   /* flat */
        return (id & mda) != 0;
    case 0x0fffffffu:   /* cluster */
        return (id >> 4) == (mda >> 4) && (id & mda & 0xf);
    default:
        return false;
    }
}

bool lapic_match_dest(const struct lapic *target, const struct lapic *source,
                      uint32_t icr_lo, uint32_t icr_hi)
{
    uint32_t dest = icr_hi >> 24;
    switch (icr_lo & APIC_SHORT_MASK) {
    case APIC_DEST_NOSHORT:
        if (icr_lo & APIC_DEST_LOGICAL)
            return match_logical(target, dest);
        return dest == 0xff || dest == get(target, APIC_ID) >> 24;
    case APIC_DEST_SELF:
        return target == source;
    case APIC_DEST_ALLINC:
        return true;
    default:
        return target != source;
    }
}

bool lapic_ipi_send_ok(struct lapic *source, uint32_t icr_lo)
{
    uint32_t dm = icr_lo & APIC_DM_MASK;
    if ((dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST) && (icr_lo & 0xff) < 16) {
        error(source, APIC_ESR_SENDILL);
        return false;
    }
    return true;
}

void lapic_accept(struct lapic *l, uint32_t icr_lo)
{
    switch (icr_lo & APIC_DM_MASK) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        if (!l->sw_disabled)
            lapic_set_irq(l, (uint8_t)icr_lo, false);
        break;
    case APIC_DM_NMI:
        l->nmi_pending = true;
        break;
    default:
        break;   /* SMI and remote read: Xen ignores them */
    }
}

int lapic_pending(const struct lapic *l)
{
    if (l->sw_disabled)
        return -1;
    int irr = highest(l, APIC_IRR);
    if (irr < 0)
        return -1;
    int isr = highest(l, APIC_ISR);
    if (isr >= 0 && (irr & 0xf0) <= (isr & 0xf0))
        return -1;
    /* The TPR holds back what is not above it (the CPU's side of PPR). */
    if ((uint32_t)(irr & 0xf0) <= (get(l, APIC_TASKPRI) & 0xf0))
        return -1;
    return irr;
}

void lapic_ack(struct lapic *l, uint8_t vector, bool auto_eoi)
{
    if (!auto_eoi)
        put_vec(l, APIC_ISR, vector, true);
    put_vec(l, APIC_IRR, vector, false);
}

int lapic_eoi(struct lapic *l)
{
    int v = highest(l, APIC_ISR);
    if (v >= 0)
        put_vec(l, APIC_ISR, (uint8_t)v, false);
    return v;
}

int lapic_highest_isr(const struct lapic *l)
{
    return highest(l, APIC_ISR);
}

int lapic_lowest_isr(const struct lapic *l)
{
    for (int w = 0; w < 8; w++) {
        uint32_t x = get(l, APIC_ISR + (uint32_t)w * 16);
        if (x)
            return w * 32 + __builtin_ctz(x);
    }
    return -1;
}

int lapic_highest_irr(const struct lapic *l)
{
    return highest(l, APIC_IRR);
}

bool lapic_tmr(const struct lapic *l, uint8_t vector)
{
    return get(l, APIC_TMR + (uint32_t)(vector / 32) * 16) >> (vector % 32) & 1;
}

void lapic_isr_clear(struct lapic *l, uint8_t vector)
{
    put_vec(l, APIC_ISR, vector, false);
}

bool lapic_timer_next(const struct lapic *l, uint64_t *ns)
{
    if (!l->armed)
        return false;
    *ns = l->next_ns;
    return true;
}

void lapic_timer_fire(struct lapic *l, uint64_t now_ns)
{
    if (!l->armed || now_ns < l->next_ns)
        return;
    uint32_t lvtt = get(l, APIC_LVTT);
    if (!(lvtt & APIC_LVT_MASKED) && !l->sw_disabled)
        lapic_set_irq(l, (uint8_t)lvtt, false);
    if (l->period_ns) {
        /* Ticks missed while nobody looked are dropped: one interrupt, the next period
         * from the last due tick. */
        uint64_t due = l->next_ns + (now_ns - l->next_ns) / l->period_ns * l->period_ns;
        l->last_update_ns = due;
        l->next_ns = due + l->period_ns;
    } else {
        l->armed = false;   /* one-shot: TMCCT reads 0 from here (it keeps counting past) */
    }
}
