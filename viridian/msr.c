/* Synthetic MSRs as Xen 4.5's rdmsr_viridian_regs()/wrmsr_viridian_regs() handle them.
 * Whatever has no handler here falls to Xen's own MSR and then to #GP, as on Xen. */
#include "viridian/msr.h"

#include "viridian/planted.h"
#include "viridian/hypercall.h"
#include "viridian/internal.h"
#include "viridian/spec.h"

static int rd_guest_os_id(struct vmodel *m, uint32_t vcpu, uint64_t *val)
{
    (void)vcpu;
    *val = m->guest_os_id;
    return 0;
}

static int wr_guest_os_id(struct vmodel *m, uint32_t vcpu, uint64_t val)
{
    (void)vcpu;
    m->guest_os_id = val;
    return 0;
}

static int rd_hypercall(struct vmodel *m, uint32_t vcpu, uint64_t *val)
{
    (void)vcpu;
    *val = m->hypercall_gpa;
    return 0;
}

/* The raw value is kept, reserved bits included; the page is (re)written on every
 * write with the enable bit set. A page outside RAM is only a warning in Xen. */
static int wr_hypercall(struct vmodel *m, uint32_t vcpu, uint64_t val)
{
    (void)vcpu;
    m->hypercall_gpa = val;
    if (val & 1)
        vhypercall_page_write_viridian(m, val & 0x0ffffffffffff000ull);
    return 0;
}

static int rd_vp_index(struct vmodel *m, uint32_t vcpu, uint64_t *val)
{
    (void)m;
    *val = vcpu;
    return 0;
}

/* Writes are accepted and ignored: the index is the vCPU id. */
static int wr_ignored(struct vmodel *m, uint32_t vcpu, uint64_t val)
{
    (void)m;
    (void)vcpu;
    (void)val;
    return 0;
}

static int rd_tsc_frequency(struct vmodel *m, uint32_t vcpu, uint64_t *val)
{
    (void)vcpu;
    m->freq_told = true;
    *val = (uint64_t)m->tsc_khz * 1000ull;
    return 0;
}

static int rd_apic_frequency(struct vmodel *m, uint32_t vcpu, uint64_t *val)
{
    (void)m;
    (void)vcpu;
    *val = 1000000000ull / APIC_BUS_CYCLE_NS;
    return 0;
}

static int rd_time_ref_count(struct vmodel *m, uint32_t vcpu, uint64_t *val)
{
    (void)vcpu;
    *val = vtime_ref_count(m);
    return 0;
}

/* vlapic_EOI_set(): vsbox delivers no interrupts, so there is no ISR bit to clear. */
static int wr_eoi(struct vmodel *m, uint32_t vcpu, uint64_t val)
{
    return wr_ignored(m, vcpu, val);
}

static int rd_icr(struct vmodel *m, uint32_t vcpu, uint64_t *val)
{
    const struct vvcpu *v = &m->vcpu[vcpu];
    *val = ((uint64_t)v->icr2 << 32) | v->icr;
    return 0;
}

/* Xen clears the delivery-status bit and keeps only the destination field of ICR2. */
static int wr_icr(struct vmodel *m, uint32_t vcpu, uint64_t val)
{
    struct vvcpu *v = &m->vcpu[vcpu];
    v->icr = (uint32_t)val & ~(1u << 12);
    v->icr2 = (uint32_t)(val >> 32) & 0xff000000u;
    return 0;
}

static int rd_tpr(struct vmodel *m, uint32_t vcpu, uint64_t *val)
{
    *val = m->vcpu[vcpu].tpr;
    return 0;
}

static int wr_tpr(struct vmodel *m, uint32_t vcpu, uint64_t val)
{
    m->vcpu[vcpu].tpr = (uint8_t)val;
    return 0;
}

static int rd_apic_assist(struct vmodel *m, uint32_t vcpu, uint64_t *val)
{
    *val = m->vcpu[vcpu].apic_assist;
    return 0;
}

/* initialize_apic_assist(): Xen only zeroes the first dword of the page. */
static int wr_apic_assist(struct vmodel *m, uint32_t vcpu, uint64_t val)
{
    m->vcpu[vcpu].apic_assist = val;
    if ((val & 1) && m->mem.write) {
        static const uint8_t zero[4];
        (void)m->mem.write(m->mem.ctx, val & 0x0ffffffffffff000ull, zero, sizeof zero);
    }
    return 0;
}

static int rd_ia32_tsc(struct vmodel *m, uint32_t vcpu, uint64_t *val)
{
    (void)vcpu;
    *val = m->tsc;
    return 0;
}

static int wr_ia32_tsc(struct vmodel *m, uint32_t vcpu, uint64_t val)
{
    (void)vcpu;
    m->tsc = val;
    return 0;
}

/* xAPIC at the architectural default, enabled; vCPU 0 is the bootstrap processor. */
static uint64_t apic_base(uint32_t vcpu)
{
    return 0xfee00000ull | (1u << 11) | (vcpu == 0 ? (1u << 8) : 0);
}

static int rd_apic_base(struct vmodel *m, uint32_t vcpu, uint64_t *val)
{
    (void)m;
    *val = apic_base(vcpu);
    return 0;
}

/* Relocating or disabling the APIC is not modelled: only the current value is taken. */
static int wr_apic_base(struct vmodel *m, uint32_t vcpu, uint64_t val)
{
    (void)m;
    return val == apic_base(vcpu) ? 0 : -1;
}

static const struct vmsr_info table[] = {
    { MSR_IA32_TSC, "IA32_TIME_STAMP_COUNTER", VMSR_ARCH, 0, rd_ia32_tsc, wr_ia32_tsc },
    { MSR_IA32_APIC_BASE, "IA32_APIC_BASE", VMSR_ARCH, 0, rd_apic_base, wr_apic_base },
    { HV_X64_MSR_GUEST_OS_ID, "HV_X64_MSR_GUEST_OS_ID", VGROUP_BASE, CPUID3A_MSR_HYPERCALL,
      rd_guest_os_id, wr_guest_os_id },
    { HV_X64_MSR_HYPERCALL, "HV_X64_MSR_HYPERCALL", VGROUP_BASE, CPUID3A_MSR_HYPERCALL,
      rd_hypercall, wr_hypercall },
    { HV_X64_MSR_VP_INDEX, "HV_X64_MSR_VP_INDEX", VGROUP_BASE, CPUID3A_MSR_VP_INDEX,
      rd_vp_index, wr_ignored },
    { HV_X64_MSR_TIME_REF_COUNT, "HV_X64_MSR_TIME_REF_COUNT", VGROUP_TIME_REF_COUNT,
      CPUID3A_MSR_TIME_REF_COUNT, rd_time_ref_count, NULL },
    { HV_X64_MSR_TSC_FREQUENCY, "HV_X64_MSR_TSC_FREQUENCY", VGROUP_FREQ, CPUID3A_MSR_FREQ,
      rd_tsc_frequency, NULL },
    { HV_X64_MSR_APIC_FREQUENCY, "HV_X64_MSR_APIC_FREQUENCY", VGROUP_FREQ, CPUID3A_MSR_FREQ,
      rd_apic_frequency, NULL },
    { HV_X64_MSR_EOI, "HV_X64_MSR_EOI", VGROUP_BASE, CPUID3A_MSR_APIC_ACCESS, NULL, wr_eoi },
    { HV_X64_MSR_ICR, "HV_X64_MSR_ICR", VGROUP_BASE, CPUID3A_MSR_APIC_ACCESS, rd_icr, wr_icr },
    { HV_X64_MSR_TPR, "HV_X64_MSR_TPR", VGROUP_BASE, CPUID3A_MSR_APIC_ACCESS, rd_tpr, wr_tpr },
    { HV_X64_MSR_APIC_ASSIST_PAGE, "HV_X64_MSR_APIC_ASSIST_PAGE", VGROUP_BASE,
      CPUID3A_MSR_APIC_ACCESS, rd_apic_assist, wr_apic_assist },
};

const struct vmsr_info *vmsr_table(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

const struct vmsr_info *vmsr_find(uint32_t msr)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].msr == msr)
            return &table[i];
    return NULL;
}

uint32_t vmodel_xen_msr_base(const struct vmodel *m)
{
    return viridian_enabled(m) ? 0x40000200u : 0x40000000u;
}

static const struct vmsr_info *live_row(const struct vmodel *m, uint32_t msr)
{
    const struct vmsr_info *row = vmsr_find(msr);
    if (FAULT(FAULT_FREQ_UNGATED) && row && row->group == VGROUP_FREQ && viridian_enabled(m))
        return row;
    if (row && row->group != VMSR_ARCH && !vgroup_enabled(m, row->group))
        return NULL;
    return row;
}

int vmodel_rdmsr(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint64_t *val)
{
    const struct vmsr_info *row = live_row(m, msr);
    if (row && row->rd)
        return row->rd(m, vcpu, val);
    if (msr == vmodel_xen_msr_base(m)) {
        *val = 0; /* "Write hypercall page MSR. Read as zero." */
        return 0;
    }
    return -1;
}

int vmodel_wrmsr(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint64_t val)
{
    const struct vmsr_info *row = live_row(m, msr);
    if (row && row->wr)
        return row->wr(m, vcpu, val);
    if (msr == vmodel_xen_msr_base(m))
        return vhypercall_page_write_xen(m, val);
    return -1;
}
