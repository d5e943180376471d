/* Synthetic MSRs as Xen's viridian MSR handlers answer them at each release
 * (rdmsr/wrmsr_viridian_regs() to 4.11, guest_rdmsr/wrmsr_viridian() and
 * viridian_{synic,time}_{rd,wr}msr() from 4.12). An MSR with no handler, or whose gate
 * is closed, falls through as Xen's did: a read reaches Xen's own MSR and then #GP; a
 * write reaches Xen's own MSR and is then dropped up to 4.10 (vmx_msr_write_intercept:
 * wrmsr_hypervisor_regs() returning 0 "case 0: case 1: break;") and #GP from 4.11
 * (commit 1f1d183d49 "don't give the wrong impression of WRMSR succeeding"). */
#include "viridian/msr.h"

#include <stdio.h>
#include "viridian/planted.h"
#include "viridian/hypercall.h"
#include "viridian/internal.h"
#include "viridian/spec.h"
#include "viridian/why.h"

static int rd_guest_os_id(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)vcpu;
    (void)idx;
    *val = m->guest_os_id;
    return 0;
}

static int wr_guest_os_id(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)vcpu;
    (void)idx;
    m->guest_os_id = val;
    return 0;
}

static int rd_hypercall(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)vcpu;
    (void)idx;
    *val = m->hypercall_gpa;
    return 0;
}

/* The raw value is kept, reserved bits included; the page is (re)written on every
 * write with the enable bit set. A page outside RAM is only a warning in Xen. */
static int wr_hypercall(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)vcpu;
    (void)idx;
    m->hypercall_gpa = val;
    if (val & HV_PAGE_ENABLE)
        vhypercall_page_write_viridian(m, val & HV_PAGE_MASK);
    return 0;
}

static int rd_vp_index(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)m;
    (void)idx;
    *val = vcpu;
    return 0;
}

/* Writes are accepted and ignored: the index is the vCPU id. */
static int wr_vp_index(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)m;
    (void)vcpu;
    (void)idx;
    (void)val;
    return 0;
}

static int rd_tsc_frequency(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)vcpu;
    (void)idx;
    m->freq_told = true;
    *val = (uint64_t)m->tsc_khz * 1000ull;
    return 0;
}

static int rd_apic_frequency(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)m;
    (void)vcpu;
    (void)idx;
    *val = 1000000000ull / APIC_BUS_CYCLE_NS;
    return 0;
}

static int rd_time_ref_count(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)vcpu;
    (void)idx;
    *val = vtime_ref_count(m);
    return 0;
}

static int rd_synic(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val);
static int wr_synic(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val);

#define SYNIC_RD(name, msr)                                                           \
    static int name(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)     \
    {                                                                                 \
        return vsynic_rd(m, vcpu, msr, idx, val);                                     \
    }
#define SYNIC_WR(name, msr)                                                           \
    static int name(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)      \
    {                                                                                 \
        return vsynic_wr(m, vcpu, msr, idx, val);                                     \
    }
SYNIC_RD(rd_scontrol, HV_X64_MSR_SCONTROL)
SYNIC_WR(wr_scontrol, HV_X64_MSR_SCONTROL)
SYNIC_RD(rd_sversion, HV_X64_MSR_SVERSION)
SYNIC_RD(rd_siefp, HV_X64_MSR_SIEFP)
SYNIC_WR(wr_siefp, HV_X64_MSR_SIEFP)
SYNIC_RD(rd_simp, HV_X64_MSR_SIMP)
SYNIC_WR(wr_simp, HV_X64_MSR_SIMP)
SYNIC_RD(rd_eom, HV_X64_MSR_EOM)
SYNIC_WR(wr_eom, HV_X64_MSR_EOM)

static int rd_synic(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    return vsynic_rd(m, vcpu, HV_X64_MSR_SINT0, idx, val);
}

static int wr_synic(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    return vsynic_wr(m, vcpu, HV_X64_MSR_SINT0, idx, val);
}

static int rd_stimer_config(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    return vstimer_rd(m, vcpu, 2 * idx, val);
}

static int wr_stimer_config(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    return vstimer_wr(m, vcpu, 2 * idx, val);
}

static int rd_stimer_count(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    return vstimer_rd(m, vcpu, 2 * idx + 1, val);
}

static int wr_stimer_count(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    return vstimer_wr(m, vcpu, 2 * idx + 1, val);
}

static int rd_crash_p(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    *val = m->vcpu[vcpu].crash_param[idx];
    return 0;
}

static int wr_crash_p(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    m->vcpu[vcpu].crash_param[idx] = val;
    return 0;
}

/* "HV_CRASH_CTL_REG_CONTENTS ctl = { .u.CrashNotify = 1 }" */
static int rd_crash_ctl(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)m;
    (void)vcpu;
    (void)idx;
    *val = HV_CRASH_CTL_CRASH_NOTIFY;
    return 0;
}

static int wr_crash_ctl(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)idx;
    if (!(val & HV_CRASH_CTL_CRASH_NOTIFY))
        return 0;
    const uint64_t *p = m->vcpu[vcpu].crash_param;
    struct vcrash *c = &m->crash;
    c->notified = true;
    c->vcpu = vcpu;
    for (int i = 0; i < 5; i++)
        c->params[i] = p[i];
    /* 4.12 (commit c217412e9d): "d->shutdown_code = SHUTDOWN_crash". */
    c->shutdown = m->host->crash == VCRASH_SHUTDOWN;
    if (m->host->crash_log_guest)
        snprintf(c->log, sizeof c->log, "VIRIDIAN GUEST_CRASH: %#llx %#llx %#llx %#llx %#llx",
                 (unsigned long long)p[0], (unsigned long long)p[1], (unsigned long long)p[2],
                 (unsigned long long)p[3], (unsigned long long)p[4]);
    else
        snprintf(c->log, sizeof c->log, "VIRIDIAN CRASH: %llx %llx %llx %llx %llx",
                 (unsigned long long)p[0], (unsigned long long)p[1], (unsigned long long)p[2],
                 (unsigned long long)p[3], (unsigned long long)p[4]);
    if (m->plat.crash)
        m->plat.crash(m->plat.ctx, vcpu, c->params, c->shutdown);
    return 0;
}

static int rd_ia32_tsc(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)vcpu;
    (void)idx;
    *val = m->tsc;
    return 0;
}

static int wr_ia32_tsc(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)vcpu;
    (void)idx;
    m->tsc = val;
    return 0;
}

/* xAPIC at the architectural default, enabled; vCPU 0 is the bootstrap processor. */
static uint64_t apic_base(uint32_t vcpu)
{
    return 0xfee00000ull | (1u << 11) | (vcpu == 0 ? (1u << 8) : 0);
}

static int rd_apic_base(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)m;
    (void)idx;
    *val = apic_base(vcpu);
    return 0;
}

/* Relocating or disabling the APIC is not modelled: only the current value is taken. */
static int wr_apic_base(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)m;
    (void)idx;
    return val == apic_base(vcpu) ? 0 : -1;
}

/* One row: number (and range), name, the group whose bits it needs (gate), the group
 * whose CPUID bit advertises it, the first release with a handler, the bit, handlers. */
#define ROW(num, nm, gt, grp, rel, rd_, wr_) \
    .msr = (num), .name = (nm), .gate = (gt), .group = (grp), .since = (rel), .rd = (rd_), \
    .wr = (wr_)
/* The file of Xen's handler: xen/arch/x86/hvm/viridian/FILE from 4.12, which split
 * viridian.c; before 4.12 every handler was in xen/arch/x86/hvm/viridian.c. The
 * architectural MSRs are xen/arch/x86/hvm/hvm.c's at every release. */
#define SRC(file) .src = (file)
#define SINGLE .count = 1, .stride = 1
#define RANGE(n, step) .count = (n), .stride = (step)
#define EAX3(bit) .cpuid3a = CPUID3A_MSR_##bit
#define EDX3(bit) .cpuid3d = CPUID3D_##bit

static const struct vmsr_info table[] = {
    { SRC("hvm.c"), ROW(MSR_IA32_TSC, "IA32_TIME_STAMP_COUNTER", VMSR_ARCH, VMSR_ARCH, 3, rd_ia32_tsc,
          wr_ia32_tsc), SINGLE },
    { SRC("hvm.c"), ROW(MSR_IA32_APIC_BASE, "IA32_APIC_BASE", VMSR_ARCH, VMSR_ARCH, 3, rd_apic_base,
          wr_apic_base), SINGLE },
    { SRC("viridian.c"), ROW(HV_X64_MSR_GUEST_OS_ID, "HV_X64_MSR_GUEST_OS_ID", VGROUP_BASE, VGROUP_BASE, 3, rd_guest_os_id,
          wr_guest_os_id), EAX3(HYPERCALL), SINGLE },
    { SRC("viridian.c"), ROW(HV_X64_MSR_HYPERCALL, "HV_X64_MSR_HYPERCALL", VGROUP_BASE, VGROUP_BASE, 3, rd_hypercall, wr_hypercall),
      EAX3(HYPERCALL), SINGLE },
    { SRC("viridian.c"), ROW(HV_X64_MSR_VP_INDEX, "HV_X64_MSR_VP_INDEX", VGROUP_BASE, VGROUP_BASE, 3, rd_vp_index, wr_vp_index),
      EAX3(VP_INDEX), SINGLE },
    /* 4.13 (commit 26fba3c855) made a write an explicit #GP; before, it had no case. */
    { SRC("time.c"), ROW(HV_X64_MSR_TIME_REF_COUNT, "HV_X64_MSR_TIME_REF_COUNT", VGROUP_TIME_REF_COUNT, VGROUP_TIME_REF_COUNT, 5,
          rd_time_ref_count, NULL), EAX3(TIME_REF_COUNT), SINGLE },
    { SRC("time.c"), ROW(HV_X64_MSR_REFERENCE_TSC, "HV_X64_MSR_REFERENCE_TSC", VGROUP_REFERENCE_TSC, VGROUP_REFERENCE_TSC, 6,
          vtime_rd_reference_tsc, vtime_wr_reference_tsc), EAX3(REFERENCE_TSC), SINGLE },
    { SRC("time.c"), ROW(HV_X64_MSR_TSC_FREQUENCY, "HV_X64_MSR_TSC_FREQUENCY", VGROUP_FREQ, VGROUP_FREQ, 4,
          rd_tsc_frequency, NULL), EAX3(FREQ), SINGLE },
    { SRC("time.c"), ROW(HV_X64_MSR_APIC_FREQUENCY, "HV_X64_MSR_APIC_FREQUENCY", VGROUP_FREQ, VGROUP_FREQ, 4,
          rd_apic_frequency, NULL), EAX3(FREQ), SINGLE },
    { SRC("synic.c"), ROW(HV_X64_MSR_EOI, "HV_X64_MSR_EOI", VGROUP_BASE, VGROUP_BASE, 3, NULL, vapic_wr_eoi), EAX3(APIC_ACCESS),
      SINGLE },
    { SRC("synic.c"), ROW(HV_X64_MSR_ICR, "HV_X64_MSR_ICR", VGROUP_BASE, VGROUP_BASE, 3, vapic_rd_icr, vapic_wr_icr),
      EAX3(APIC_ACCESS), SINGLE },
    { SRC("synic.c"), ROW(HV_X64_MSR_TPR, "HV_X64_MSR_TPR", VGROUP_BASE, VGROUP_BASE, 3, vapic_rd_tpr, vapic_wr_tpr),
      EAX3(APIC_ACCESS), SINGLE },
    { SRC("synic.c"), ROW(HV_X64_MSR_VP_ASSIST_PAGE, "HV_X64_MSR_VP_ASSIST_PAGE", VGROUP_BASE, VGROUP_BASE, 3,
          vsynic_rd_vp_assist, vsynic_wr_vp_assist), EAX3(APIC_ACCESS), SINGLE },
    /* SCONTROL and SIEFP are kept but in no save record. */
    { SRC("synic.c"), ROW(HV_X64_MSR_SCONTROL, "HV_X64_MSR_SCONTROL", VGROUP_SYNIC, VGROUP_SYNIC, 13, rd_scontrol,
          wr_scontrol), EAX3(SYNIC), .unsaved = true, SINGLE },
    { SRC("synic.c"), ROW(HV_X64_MSR_SVERSION, "HV_X64_MSR_SVERSION", VGROUP_SYNIC, VGROUP_SYNIC, 13, rd_sversion, NULL),
      EAX3(SYNIC), SINGLE },
    { SRC("synic.c"), ROW(HV_X64_MSR_SIEFP, "HV_X64_MSR_SIEFP", VGROUP_SYNIC, VGROUP_SYNIC, 13, rd_siefp, wr_siefp),
      EAX3(SYNIC), .unsaved = true, SINGLE },
    { SRC("synic.c"), ROW(HV_X64_MSR_SIMP, "HV_X64_MSR_SIMP", VGROUP_SYNIC, VGROUP_SYNIC, 13, rd_simp, wr_simp),
      EAX3(SYNIC), SINGLE },
    { SRC("synic.c"), ROW(HV_X64_MSR_EOM, "HV_X64_MSR_EOM", VGROUP_SYNIC, VGROUP_SYNIC, 13, rd_eom, wr_eom), EAX3(SYNIC),
      SINGLE },
    { SRC("synic.c"), ROW(HV_X64_MSR_SINT0, "HV_X64_MSR_SINT%u", VGROUP_SYNIC, VGROUP_SYNIC, 13, rd_synic, wr_synic),
      RANGE(16, 1), EAX3(SYNIC), .value_gp = true },
    { SRC("time.c"), ROW(HV_X64_MSR_STIMER0_CONFIG, "HV_X64_MSR_STIMER%u_CONFIG", VGROUP_STIMER, VGROUP_STIMER, 13,
          rd_stimer_config, wr_stimer_config), RANGE(4, 2), EAX3(STIMER) },
    { SRC("time.c"), ROW(HV_X64_MSR_STIMER0_COUNT, "HV_X64_MSR_STIMER%u_COUNT", VGROUP_STIMER, VGROUP_STIMER, 13,
          rd_stimer_count, wr_stimer_count), RANGE(4, 2), EAX3(STIMER) },
    /* The crash MSRs answer whatever HVMPV_crash_ctl says: the bit only decides
     * CPUID3D_CRASH_MSRS (viridian.c 4.9+, commit 9c4555801f). Xen saves no parameter. */
    { SRC("viridian.c"), ROW(HV_X64_MSR_CRASH_P0, "HV_X64_MSR_CRASH_P%u", VMSR_UNGATED, VGROUP_CRASH_CTL, 9,
          rd_crash_p, wr_crash_p), RANGE(5, 1), EDX3(CRASH_MSRS), .unsaved = true },
    { SRC("viridian.c"), ROW(HV_X64_MSR_CRASH_CTL, "HV_X64_MSR_CRASH_CTL", VMSR_UNGATED, VGROUP_CRASH_CTL, 9,
          rd_crash_ctl, wr_crash_ctl), EDX3(CRASH_MSRS), SINGLE },
};

#define NROWS (sizeof table / sizeof table[0])

const struct vmsr_info *vmsr_table(size_t *n)
{
    *n = NROWS;
    return table;
}

const struct vmsr_info *vmsr_find(uint32_t msr, uint32_t *idx)
{
    for (size_t i = 0; i < NROWS; i++) {
        const struct vmsr_info *r = &table[i];
        if (msr < r->msr)
            continue;
        uint32_t off = msr - r->msr;
        if (off % r->stride == 0 && off / r->stride < r->count) {
            if (idx)
                *idx = off / r->stride;
            return r;
        }
    }
    return NULL;
}

void vmsr_name(const struct vmsr_info *row, uint32_t msr, char *buf, size_t len)
{
    if (row->count == 1)
        snprintf(buf, len, "%s", row->name);
    else
        snprintf(buf, len, row->name, (msr - row->msr) / row->stride);
}

size_t vmsr_count(void)
{
    size_t n = 0;
    for (size_t i = 0; i < NROWS; i++)
        n += table[i].count;
    return n;
}

uint32_t vmsr_at(size_t k)
{
    for (size_t i = 0; i < NROWS; i++) {
        if (k < table[i].count)
            return table[i].msr + (uint32_t)k * table[i].stride;
        k -= table[i].count;
    }
    return 0;
}

bool vmsr_in_release(const struct vmsr_info *row, const struct vprofile *host)
{
    return host->xen_major > 4 || host->xen_minor >= row->since;
}

uint32_t vmodel_xen_msr_base(const struct vmodel *m)
{
    return viridian_enabled(m) ? 0x40000200u : 0x40000000u;
}

void vmsr_source(const struct vmsr_info *row, const struct vprofile *host, char *buf,
                 size_t len)
{
    if (row->gate == VMSR_ARCH)
        snprintf(buf, len, "xen/arch/x86/hvm/%s", row->src);
    else if (host->xen_major == 4 && host->xen_minor < 12)
        snprintf(buf, len, "xen/arch/x86/hvm/viridian.c");
    else
        snprintf(buf, len, "xen/arch/x86/hvm/viridian/%s", row->src);
}

/* The row that answers msr for this domain now, and the rule that decided it
 * (viridian/why.h): the one place the gates are applied. */
static const struct vmsr_info *live_row(const struct vmodel *m, uint32_t msr, uint32_t *idx,
                                        enum vrule *rule)
{
    enum vrule unused;
    if (!rule)
        rule = &unused;
    const struct vmsr_info *row = vmsr_find(msr, idx);
    if (!row) {
        *rule = msr == vmodel_xen_msr_base(m) ? VRULE_MSR_XEN : VRULE_MSR_NONE;
        return NULL;
    }
    if (row->gate == VMSR_ARCH) {
        *rule = VRULE_MSR_ARCH;
        return row;
    }
    if (!viridian_enabled(m)) {
        *rule = msr == vmodel_xen_msr_base(m) ? VRULE_MSR_XEN : VRULE_MSR_VIRIDIAN_OFF;
        return NULL;
    }
    if (!vmsr_in_release(row, m->host)) {
        *rule = VRULE_MSR_NOT_YET;
        return NULL;
    }
    if (FAULT(FAULT_FREQ_UNGATED) && row->gate == VGROUP_FREQ) {
        *rule = VRULE_MSR_GATE_OPEN;
        return row;
    }
    if (row->gate == VMSR_UNGATED) {
        *rule = VRULE_MSR_UNGATED;
        return row;
    }
    if (!vgroup_enabled(m, row->gate)) {
        *rule = VRULE_MSR_GATE_CLOSED;
        return NULL;
    }
    *rule = VRULE_MSR_GATE_OPEN;
    return row;
}

enum vrule vmodel_msr_rule(const struct vmodel *m, uint32_t msr)
{
    enum vrule rule;
    live_row(m, msr, NULL, &rule);
    return rule;
}

bool vmodel_msr_handled(const struct vmodel *m, uint32_t msr, bool write)
{
    const struct vmsr_info *row = live_row(m, msr, NULL, NULL);
    if (row && (write ? row->wr != NULL : row->rd != NULL))
        return true;
    return msr == vmodel_xen_msr_base(m);
}

int vmodel_rdmsr(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint64_t *val)
{
    uint32_t idx = 0;
    const struct vmsr_info *row = live_row(m, msr, &idx, NULL);
    if (row && row->rd)
        return row->rd(m, vcpu, idx, val);
    if (msr == vmodel_xen_msr_base(m)) {
        *val = 0; /* "Write hypercall page MSR. Read as zero." */
        return 0;
    }
    return -1;
}

int vmodel_wrmsr(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint64_t val)
{
    uint32_t idx = 0;
    const struct vmsr_info *row = live_row(m, msr, &idx, NULL);
    if (row && row->wr)
        return row->wr(m, vcpu, idx, val);
    if (msr == vmodel_xen_msr_base(m))
        return vhypercall_page_write_xen(m, val);
    return m->host->wrmsr_unknown_gp ? -1 : 0;
}
