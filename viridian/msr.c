/* Synthetic MSRs as Xen's viridian MSR handlers answer them at each release
 * (rdmsr/wrmsr_viridian_regs() to 4.11, guest_rdmsr/wrmsr_viridian() and
 * viridian_{synic,time}_{rd,wr}msr() from 4.12). An MSR with no handler, or whose gate
 * is closed, falls through as Xen's did: a read reaches Xen's own MSR and then #GP; a
 * write reaches Xen's own MSR and is then dropped up to 4.10 (vmx_msr_write_intercept:
 * wrmsr_hypervisor_regs() returning 0 "case 0: case 1: break;") and #GP from 4.11
 * (commit 1f1d183d49 "don't give the wrong impression of WRMSR succeeding").
 *
 * On the KVM host (Linux 6.16 kvm_hv_{get,set}_msr_common): every MSR KVM has answers
 * once the Hyper-V interface is there (vcpu->arch.hyperv_enabled), whatever CPUID says,
 * unless QEMU's hv-enforce-cpuid turned KVM_CAP_HYPERV_ENFORCE_CPUID on: then
 * hv_check_msr_access() wants the row's CPUID 0x40000003 bit. Handlers that behave
 * differently on KVM say so with vkvm(). */
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
    /* KVM: "setting guest os id to zero disables hypercall page" */
    if (vkvm(m) && !val)
        m->hypercall_gpa &= ~HV_PAGE_ENABLE;
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
    if (vkvm(m)) {
        /* KVM: "if guest os id is not set hypercall should remain disabled" (the write
         * is taken and dropped); a page outside guest RAM is a #GP. */
        if (!m->guest_os_id)
            return 0;
        if ((val & HV_PAGE_ENABLE) && vhypercall_page_write_kvm(m, val & HV_PAGE_MASK))
            return -1;
        m->hypercall_gpa = val;
        return 0;
    }
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

/* Writes are accepted and ignored: the index is the vCPU id. KVM lets only the VMM set
 * it ("if (!host || new_vp_index >= KVM_MAX_VCPUS) return 1"). */
static int wr_vp_index(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)vcpu;
    (void)idx;
    (void)val;
    return vkvm(m) ? -1 : 0;
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
    (void)vcpu;
    (void)idx;
    uint32_t ns = m->host->apic_bus_cycle_ns ? m->host->apic_bus_cycle_ns : APIC_BUS_CYCLE_NS;
    *val = 1000000000ull / ns;
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

/* Xen keeps the crash parameters per vCPU; KVM per partition (kvm_hv_msr_partition_wide),
 * which the model keeps as vCPU 0's. */
static uint64_t *crash_params(struct vmodel *m, uint32_t vcpu)
{
    return m->vcpu[vkvm(m) ? 0 : vcpu].crash_param;
}

static int rd_crash_p(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    *val = crash_params(m, vcpu)[idx];
    return 0;
}

static int wr_crash_p(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    crash_params(m, vcpu)[idx] = val;
    return 0;
}

/* "HV_CRASH_CTL_REG_CONTENTS ctl = { .u.CrashNotify = 1 }"; KVM answers what QEMU
 * wrote at reset: kvm_put_msrs() "HV_X64_MSR_CRASH_CTL, HV_CRASH_CTL_NOTIFY". */
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
    const uint64_t *p = crash_params(m, vcpu);
    struct vcrash *c = &m->crash;
    c->notified = true;
    c->vcpu = vcpu;
    for (int i = 0; i < 5; i++)
        c->params[i] = p[i];
    /* 4.12 (commit c217412e9d): "d->shutdown_code = SHUTDOWN_crash". */
    c->shutdown = m->host->crash == VCRASH_SHUTDOWN;
    /* KVM: KVM_REQ_HV_CRASH -> KVM_SYSTEM_EVENT_CRASH -> QEMU's guest_panicked(), whose
     * log line this is, then -action panic=shutdown. */
    if (vkvm(m))
        snprintf(c->log, sizeof c->log, "HV crash parameters: (%#llx %#llx %#llx %#llx %#llx)",
                 (unsigned long long)p[0], (unsigned long long)p[1], (unsigned long long)p[2],
                 (unsigned long long)p[3], (unsigned long long)p[4]);
    else if (m->host->crash_log_guest)
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

/* KVM only: HV_X64_MSR_RESET reads 0; writing 1 asks QEMU to reset the machine. */
static int rd_reset(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)m;
    (void)vcpu;
    (void)idx;
    *val = 0;
    return 0;
}

static int wr_reset(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)vcpu;
    (void)idx;
    if (val == 1)
        m->kvm.reset_requested = true;
    return 0;
}

/* KVM answers the vCPU thread's CPU time in 100 ns (current_task_runtime_100ns), which
 * depends on the host; the model answers its reference time, which a vCPU that never
 * waited would have. The guest may not write it. */
static int rd_vp_runtime(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)vcpu;
    (void)idx;
    *val = vtime_ref_count(m);
    return 0;
}

static uint64_t *kvm_reg(struct vmodel *m, uint32_t msr)
{
    switch (msr) {
    case HV_X64_MSR_REENLIGHTENMENT_CONTROL: return &m->kvm.reenlightenment_control;
    case HV_X64_MSR_TSC_EMULATION_CONTROL: return &m->kvm.tsc_emulation_control;
    case HV_X64_MSR_TSC_EMULATION_STATUS: return &m->kvm.tsc_emulation_status;
    default: return &m->kvm.invtsc_control;
    }
}

#define KVM_REG(rd_, wr_, msr)                                                          \
    static int rd_(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)         \
    {                                                                                   \
        (void)vcpu;                                                                     \
        (void)idx;                                                                      \
        *val = *kvm_reg(m, msr);                                                        \
        return 0;                                                                       \
    }                                                                                   \
    static int wr_(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)          \
    {                                                                                   \
        (void)vcpu;                                                                     \
        (void)idx;                                                                      \
        return kvm_reg_write(m, msr, val);                                              \
    }

/* kvm_hv_set_msr_pw(): the status may only be cleared by the guest; the invariant TSC
 * control takes bit 0 only, and once set the guest may not clear it. */
static int kvm_reg_write(struct vmodel *m, uint32_t msr, uint64_t val)
{
    if (msr == HV_X64_MSR_TSC_EMULATION_STATUS && val)
        return -1;
    if (msr == HV_X64_MSR_TSC_INVARIANT_CONTROL &&
        ((val & ~HV_EXPOSE_INVARIANT_TSC) || (m->kvm.invtsc_control && !val)))
        return -1;
    *kvm_reg(m, msr) = val;
    return 0;
}

KVM_REG(rd_reenlightenment, wr_reenlightenment, HV_X64_MSR_REENLIGHTENMENT_CONTROL)
KVM_REG(rd_tsc_emulation_control, wr_tsc_emulation_control, HV_X64_MSR_TSC_EMULATION_CONTROL)
KVM_REG(rd_tsc_emulation_status, wr_tsc_emulation_status, HV_X64_MSR_TSC_EMULATION_STATUS)
KVM_REG(rd_invtsc_control, wr_invtsc_control, HV_X64_MSR_TSC_INVARIANT_CONTROL)

/* The synthetic debugger's MSRs answer only with hv-syndbg (kvm_hv_is_syndbg_enabled:
 * QEMU's leaf 0x40000082 AllowKernelDebugging). idx 0-4: CONTROL..PENDING_BUFFER; 5:
 * OPTIONS. */
static int rd_syndbg(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)vcpu;
    if (!kvm_flag(m, KVM_FEAT_SYNDBG))
        return -1;
    *val = m->kvm.syndbg[idx];
    return 0;
}

static int wr_syndbg(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)vcpu;
    if (!kvm_flag(m, KVM_FEAT_SYNDBG))
        return -1;
    m->kvm.syndbg[idx] = val;
    return 0;
}

static int rd_syndbg_options(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)idx;
    return rd_syndbg(m, vcpu, 5, val);
}

static int wr_syndbg_options(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)idx;
    return wr_syndbg(m, vcpu, 5, val);
}

/* One row: number (and range), name, the group whose bits it needs (gate), the group
 * whose CPUID bit advertises it, the first release with a handler, the bit, handlers. */
#define ROW(num, nm, gt, grp, rel, rd_, wr_) \
    .msr = (num), .name = (nm), .gate = (gt), .group = (grp), .since = (rel), .rd = (rd_), \
    .wr = (wr_), .kvm = true
/* The file of Xen's handler: xen/arch/x86/hvm/viridian/FILE from 4.12, which split
 * viridian.c; before 4.12 every handler was in xen/arch/x86/hvm/viridian.c. The
 * architectural MSRs are xen/arch/x86/hvm/hvm.c's at every release. KVM's own rows have
 * none (NULL): their handlers are Linux's arch/x86/kvm/hyperv.c. */
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
    /* KVM's only. No save record of vsbox's keeps them. */
    { ROW(HV_X64_MSR_RESET, "HV_X64_MSR_RESET", VGROUP_HV_RESET, VGROUP_HV_RESET, 0, rd_reset,
          wr_reset), EAX3(RESET), SINGLE },
    { ROW(HV_X64_MSR_VP_RUNTIME, "HV_X64_MSR_VP_RUNTIME", VGROUP_HV_RUNTIME, VGROUP_HV_RUNTIME,
          0, rd_vp_runtime, NULL), EAX3(VP_RUNTIME), SINGLE },
    { ROW(HV_X64_MSR_SYNDBG_CONTROL, "HV_X64_MSR_SYNDBG_CONTROL", VGROUP_HV_SYNDBG,
          VGROUP_HV_SYNDBG, 0, rd_syndbg, wr_syndbg), RANGE(5, 1), EDX3(DEBUG_MSRS),
      .unsaved = true },
    { ROW(HV_X64_MSR_SYNDBG_OPTIONS, "HV_X64_MSR_SYNDBG_OPTIONS", VGROUP_HV_SYNDBG,
          VGROUP_HV_SYNDBG, 0, rd_syndbg_options, wr_syndbg_options), EDX3(DEBUG_MSRS),
      .unsaved = true, SINGLE },
    { ROW(HV_X64_MSR_REENLIGHTENMENT_CONTROL, "HV_X64_MSR_REENLIGHTENMENT_CONTROL",
          VGROUP_HV_REENLIGHTENMENT, VGROUP_HV_REENLIGHTENMENT, 0, rd_reenlightenment,
          wr_reenlightenment), .cpuid3a = CPUID3A_MSR_REENLIGHTENMENT, .unsaved = true, SINGLE },
    { ROW(HV_X64_MSR_TSC_EMULATION_CONTROL, "HV_X64_MSR_TSC_EMULATION_CONTROL",
          VGROUP_HV_REENLIGHTENMENT, VGROUP_HV_REENLIGHTENMENT, 0, rd_tsc_emulation_control,
          wr_tsc_emulation_control), .cpuid3a = CPUID3A_MSR_REENLIGHTENMENT, .unsaved = true,
      SINGLE },
    { ROW(HV_X64_MSR_TSC_EMULATION_STATUS, "HV_X64_MSR_TSC_EMULATION_STATUS",
          VGROUP_HV_REENLIGHTENMENT, VGROUP_HV_REENLIGHTENMENT, 0, rd_tsc_emulation_status,
          wr_tsc_emulation_status), .cpuid3a = CPUID3A_MSR_REENLIGHTENMENT, .unsaved = true,
      SINGLE },
    /* No QEMU flag sets HV_ACCESS_TSC_INVARIANT: with hv-enforce-cpuid it always #GPs. */
    { ROW(HV_X64_MSR_TSC_INVARIANT_CONTROL, "HV_X64_MSR_TSC_INVARIANT_CONTROL",
          VGROUP_HV_ENFORCE_CPUID, VGROUP_HV_ENFORCE_CPUID, 0, rd_invtsc_control,
          wr_invtsc_control), .cpuid3a = CPUID3A_TSC_INVARIANT, .unsaved = true, SINGLE },
};

static const char *const syndbg_names[] = { "CONTROL", "STATUS", "SEND_BUFFER", "RECV_BUFFER",
                                            "PENDING_BUFFER" };

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
    uint32_t i = (msr - row->msr) / row->stride;
    if (row->count == 1)
        snprintf(buf, len, "%s", row->name);
    else if (row->msr == HV_X64_MSR_SYNDBG_CONTROL)
        snprintf(buf, len, "HV_X64_MSR_SYNDBG_%s", syndbg_names[i < 5 ? i : 0]);
    else
        snprintf(buf, len, row->name, i);
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

int vmsr_kvm_flag(const struct vmsr_info *row)
{
    for (int g = VGROUP_FIRST_KVM; g < VGROUP_COUNT; g++) {
        const struct vgroup_info *gi = vgroup_info(g);
        if ((gi->leaf3a & row->cpuid3a) || (gi->leaf3d & row->cpuid3d))
            return g;
    }
    return -1;
}

bool vmsr_in_release(const struct vmsr_info *row, const struct vprofile *host)
{
    if (host->hypervisor == VHV_KVM)
        return row->kvm;
    return row->since && (host->xen_major > 4 || host->xen_minor >= row->since);
}

uint32_t vmodel_xen_msr_base(const struct vmodel *m)
{
    if (vkvm(m))
        return 0;
    return viridian_enabled(m) ? 0x40000200u : 0x40000000u;
}

static bool xen_msr(const struct vmodel *m, uint32_t msr)
{
    return !vkvm(m) && msr == vmodel_xen_msr_base(m);
}

void vmsr_source(const struct vmsr_info *row, const struct vprofile *host, char *buf,
                 size_t len)
{
    if (host->hypervisor == VHV_KVM || !row->src)
        snprintf(buf, len, "linux: arch/x86/kvm/hyperv.c");
    else if (row->gate == VMSR_ARCH)
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
        *rule = xen_msr(m, msr) ? VRULE_MSR_XEN : VRULE_MSR_NONE;
        return NULL;
    }
    if (row->gate == VMSR_ARCH) {
        *rule = VRULE_MSR_ARCH;
        return row;
    }
    if (!viridian_enabled(m)) {
        *rule = xen_msr(m, msr) ? VRULE_MSR_XEN : VRULE_MSR_VIRIDIAN_OFF;
        return NULL;
    }
    if (!vmsr_in_release(row, m->host)) {
        *rule = VRULE_MSR_NOT_YET;
        return NULL;
    }
    if (vkvm(m)) {
        /* KVM answers what it has; with hv-enforce-cpuid only what CPUID advertises. */
        if (!kvm_flag(m, KVM_OPT_ENFORCE_CPUID)) {
            *rule = VRULE_MSR_KVM;
            return row;
        }
        bool open = vkvm_cpuid_allows(m, row->cpuid3a, row->cpuid3d);
        *rule = open ? VRULE_MSR_KVM_ENFORCED : VRULE_MSR_KVM_REFUSED;
        return open ? row : NULL;
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

/* KVM's handlers that fault for the partition's state, not the value: the SynIC's
 * registers while it is not active (synic_{get,set}_msr), a synthetic timer's write
 * without it (stimer_set_config/count), the debugger's without hv-syndbg. */
static bool kvm_row_active(const struct vmodel *m, const struct vmsr_info *row, bool write)
{
    if (row->gate == VGROUP_SYNIC || (row->gate == VGROUP_STIMER && write))
        return kvm_flag(m, KVM_FEAT_SYNIC);
    if (row->gate == VGROUP_HV_SYNDBG)
        return kvm_flag(m, KVM_FEAT_SYNDBG);
    return true;
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
        return !vkvm(m) || kvm_row_active(m, row, write);
    return xen_msr(m, msr);
}

int vmodel_rdmsr(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint64_t *val)
{
    uint32_t idx = 0;
    const struct vmsr_info *row = live_row(m, msr, &idx, NULL);
    if (row && row->rd)
        return row->rd(m, vcpu, idx, val);
    if (xen_msr(m, msr)) {
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
    if (xen_msr(m, msr))
        return vhypercall_page_write_xen(m, val);
    return m->host->wrmsr_unknown_gp ? -1 : 0;
}
