/* The SynIC (xen/arch/x86/hvm/viridian/synic.c, 4.13+) and the VP assist page with its
 * APIC assist (viridian.c 4.3-4.11, synic.c 4.12+). */
#include "viridian/internal.h"

#define SINT_INVALID HV_SYNIC_SINT_COUNT /* "an out-of-range index" in vector_to_sintx */

/* viridian_synic_vcpu_init(): "all synthetic interrupts must be initially masked". */
void vsynic_vcpu_init(struct vvcpu *v)
{
    for (unsigned i = 0; i < HV_SYNIC_SINT_COUNT; i++)
        v->sint[i] = HV_SINT_MASKED;
    for (unsigned i = 0; i < 256; i++)
        v->vector_to_sintx[i] = SINT_INVALID;
}

/* viridian_synic_load_vcpu_ctxt(): every SINT with a vector >= 0x10 maps it. */
void vsynic_rebuild_vectors(struct vvcpu *v)
{
    for (unsigned i = 0; i < 256; i++)
        v->vector_to_sintx[i] = SINT_INVALID;
    for (unsigned i = 0; i < HV_SYNIC_SINT_COUNT; i++) {
        uint8_t vector = (uint8_t)(v->sint[i] & HV_SINT_VECTOR_MASK);
        if (vector >= 0x10)
            v->vector_to_sintx[vector] = (uint8_t)i;
    }
}

static uint64_t slot_gpa(const struct vvcpu *v, unsigned sintx)
{
    return vpage_gpa(&v->simp) + (uint64_t)sintx * HV_MESSAGE_SIZE;
}

/* Header bytes: 4.13 wrote its own HV_MESSAGE_HEADER (u32 type, u16 reserved, u8 flags,
 * u8 payload size); 4.14 took hyperv-tlfs.h's (u32 type, u8 payload size, u8 flags). */
static unsigned flags_at(const struct vmodel *m)
{
    return m->host->msg_hdr_4_13 ? 6 : 5;
}

static unsigned size_at(const struct vmodel *m)
{
    return m->host->msg_hdr_4_13 ? 7 : 4;
}

static bool slot_busy(const struct vmodel *m, const struct vvcpu *v, unsigned sintx)
{
    return vpage_read32(m, slot_gpa(v, sintx)) != HVMSG_NONE;
}

uint32_t vmodel_sim_busy(const struct vmodel *m, uint32_t vcpu)
{
    if (vcpu >= m->vcpus || !m->vcpu[vcpu].simp.mapped)
        return 0;
    uint32_t busy = 0;
    for (unsigned i = 0; i < HV_SYNIC_SINT_COUNT; i++)
        if (slot_busy(m, &m->vcpu[vcpu], i))
            busy |= 1u << i;
    return busy;
}

static void set_flag(struct vmodel *m, uint64_t gpa, bool pending)
{
    uint8_t flags = 0;
    (void)vpage_read(m, gpa, &flags, 1);
    flags = pending ? (uint8_t)(flags | 1) : (uint8_t)(flags & ~1);
    vpage_write(m, gpa, &flags, 1);
}

/* viridian_synic_deliver_timer_msg(): sim_busy < 0 reads the slot from memory. */
bool vsynic_deliver_timer_msg(struct vmodel *m, uint32_t vcpu, unsigned sintx, unsigned index,
                              uint64_t expiration, uint64_t delivery, int sim_busy)
{
    struct vvcpu *v = &m->vcpu[vcpu];
    uint64_t sint = v->sint[sintx];

    if (m->host->synic_eom && (v->msg_pending & (1u << sintx)))
        return false;
    if (!v->simp.mapped) {
        if (m->host->xsa472)
            vmodel_defect_hit(m, "XSA-472: a synthetic timer fired with no SIM page "
                                 "(NULL dereference in Xen, fixed in 4.21)");
        return false;
    }
    uint64_t gpa = slot_gpa(v, sintx);
    bool busy = sim_busy >= 0 ? (sim_busy >> sintx) & 1 : slot_busy(m, v, sintx);
    if (busy) {
        /* 4.15 (commit 391a8b6d20) stopped asking for an EOM. */
        if (m->host->synic_eom) {
            set_flag(m, gpa + flags_at(m), true);
            v->msg_pending |= 1u << sintx;
        }
        return false;
    }
    vpage_write32(m, gpa, HVMSG_TIMER_EXPIRED);
    set_flag(m, gpa + flags_at(m), false);
    uint8_t size = 24; /* sizeof(payload) */
    vpage_write(m, gpa + size_at(m), &size, 1);
    /* payload: u32 TimerIndex, u32 Reserved, u64 ExpirationTime, u64 DeliveryTime */
    vpage_write32(m, gpa + 16, index);
    vpage_write32(m, gpa + 20, 0);
    vpage_write64(m, gpa + 24, expiration);
    vpage_write64(m, gpa + 32, delivery);
    if (!(sint & HV_SINT_MASKED))
        vapic_deliver(m, vcpu, (uint8_t)(sint & HV_SINT_VECTOR_MASK));
    return true;
}

bool vmodel_sint_auto_eoi(const struct vmodel *m, uint32_t vcpu, uint8_t vector)
{
    if (vcpu >= m->vcpus || !m->host->synic)
        return false;
    unsigned sintx = m->vcpu[vcpu].vector_to_sintx[vector];
    return sintx < HV_SYNIC_SINT_COUNT && (m->vcpu[vcpu].sint[sintx] & HV_SINT_AUTO_EOI);
}

void vmodel_sint_ack(struct vmodel *m, uint32_t vcpu, uint8_t vector)
{
    if (vcpu >= m->vcpus || !m->host->synic_eom)
        return;
    unsigned sintx = m->vcpu[vcpu].vector_to_sintx[vector];
    if (sintx < HV_SYNIC_SINT_COUNT)
        m->vcpu[vcpu].msg_pending &= ~(1u << sintx);
}

/* The SynIC MSRs, idx the SINT number for HV_X64_MSR_SINTx. Gated by HVMPV_synic
 * (viridian_synic_rdmsr/wrmsr: "if ( !(viridian_feature_mask(d) & HVMPV_synic) )
 * return X86EMUL_EXCEPTION"); on KVM by the SynIC being active, which QEMU's hv-synic
 * asks for (KVM_CAP_HYPERV_SYNIC2): synic_{get,set}_msr "if (!synic->active ...)". */
int vsynic_rd(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint32_t idx, uint64_t *val)
{
    const struct vvcpu *v = &m->vcpu[vcpu];
    if (vkvm(m) && !kvm_flag(m, KVM_FEAT_SYNIC))
        return -1;
    switch (msr) {
    case HV_X64_MSR_SCONTROL: *val = v->scontrol; return 0;
    /* "Assume everything but the bottom bit should be zero." */
    case HV_X64_MSR_SVERSION: *val = HV_SYNIC_SVERSION; return 0;
    case HV_X64_MSR_SIEFP: *val = v->siefp; return 0;
    case HV_X64_MSR_SIMP: *val = v->simp.msr; return 0;
    case HV_X64_MSR_EOM: *val = 0; return 0;
    default: *val = v->sint[idx]; return 0;
    }
}

/* KVM clears an enabled SIEFP or SIMP page, and a page it cannot clear (not guest RAM)
 * is a #GP: "if (kvm_clear_guest(...)) { ret = 1; break; }". */
static int kvm_page_ok(struct vmodel *m, uint64_t val)
{
    if (!(val & HV_PAGE_ENABLE))
        return 0;
    if (!vpage_ram(m, val & HV_PAGE_MASK))
        return -1;
    vpage_clear(m, val & HV_PAGE_MASK);
    return 0;
}

int vsynic_wr(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint32_t idx, uint64_t val)
{
    struct vvcpu *v = &m->vcpu[vcpu];
    if (vkvm(m) && (!kvm_flag(m, KVM_FEAT_SYNIC) ||
                    ((msr == HV_X64_MSR_SIEFP || msr == HV_X64_MSR_SIMP) && kvm_page_ok(m, val))))
        return -1;
    switch (msr) {
    case HV_X64_MSR_SCONTROL:
        v->scontrol = val;
        return 0;
    case HV_X64_MSR_SIEFP:
        v->siefp = val; /* stored only: Xen maps no event flags page */
        return 0;
    case HV_X64_MSR_SIMP:
        v->simp.mapped = false;
        v->simp.msr = val;
        vpage_map(m, &v->simp, true);
        return 0;
    case HV_X64_MSR_EOM:
        if (m->host->synic_eom)
            v->msg_pending = 0;
        return 0;
    default: {
        uint8_t vector = (uint8_t)(val & HV_SINT_VECTOR_MASK);
        /* "Vectors must be in the range 0x10-0xff inclusive"; KVM takes a masked one
         * ("nested Hyper-V attempts to write default '0x10000' value on boot"). */
        if (vector < 0x10 && !(vkvm(m) && (val & HV_SINT_MASKED)))
            return -1;
        v->vector_to_sintx[v->sint[idx] & HV_SINT_VECTOR_MASK] = SINT_INVALID;
        v->vector_to_sintx[vector] = (uint8_t)idx;
        if (m->host->synic_eom && (val & HV_SINT_POLLING))
            v->msg_pending &= ~(1u << idx);
        v->sint[idx] = val;
        return 0;
    }
    }
}

/* HV_X64_MSR_VP_ASSIST_PAGE ("APIC_ASSIST" before 4.9): base, every release. */
int vsynic_rd_vp_assist(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)idx;
    *val = m->vcpu[vcpu].vp_assist.msr;
    return 0;
}

/* Put the page in place as a write or a load would (initialize_apic_assist /
 * initialize_vp_assist / viridian_map_guest_page). */
static void vp_assist_map(struct vmodel *m, struct vvcpu *v)
{
    struct vpage *p = &v->vp_assist;
    p->mapped = false;
    if (!(p->msr & HV_PAGE_ENABLE) || !vpage_ram(m, vpage_gpa(p)))
        return;
    switch (m->host->vp_assist) {
    case VASSIST_DWORD:
        /* "We don't yet make use of the APIC assist page ... do just enough to keep
         * windows happy": the first dword is zeroed, the page is not kept. */
        vpage_write32(m, vpage_gpa(p), 0);
        break;
    case VASSIST_4_7:
        vpage_write32(m, vpage_gpa(p), 0);
        p->mapped = has_feature(m, HVMPV_apic_assist);
        break;
    case VASSIST_4_9:
    case VASSIST_4_11:
        vpage_clear(m, vpage_gpa(p));
        p->mapped = true;
        break;
    }
}

int vsynic_wr_vp_assist(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)idx;
    struct vvcpu *v = &m->vcpu[vcpu];
    /* KVM: a frame that is not guest RAM is a #GP (kvm_is_error_hva). */
    if (vkvm(m) && (val & HV_PAGE_ENABLE) && !vpage_ram(m, val & HV_PAGE_MASK))
        return -1;
    v->vp_assist.msr = val; /* teardown_vp_assist() first: "release any previous mapping" */
    vp_assist_map(m, v);
    return 0;
}

/* viridian_load_vcpu_ctxt / viridian_synic_load_vcpu_ctxt: 4.3-4.6 only store the MSR;
 * 4.7+ map the page again, 4.9+ clearing it. */
void vsynic_load_vp_assist(struct vmodel *m, uint32_t vcpu, uint64_t msr, uint8_t assist)
{
    struct vvcpu *v = &m->vcpu[vcpu];
    v->vp_assist.msr = msr;
    v->vp_assist.mapped = false;
    if (m->host->vp_assist != VASSIST_DWORD)
        vp_assist_map(m, v);
    if (m->host->vp_assist == VASSIST_4_11)
        v->assist_pending = assist != 0;
    else
        v->assist_vector = assist;
}

uint8_t vsynic_save_assist(const struct vmodel *m, uint32_t vcpu)
{
    const struct vvcpu *v = &m->vcpu[vcpu];
    return m->host->vp_assist == VASSIST_4_11 ? v->assist_pending : v->assist_vector;
}

bool vmodel_apic_assist_usable(const struct vmodel *m)
{
    /* has_viridian_apic_assist(d) */
    return m->host->vp_assist != VASSIST_DWORD && has_feature(m, HVMPV_apic_assist);
}

/* viridian_start_apic_assist() (4.7-4.10) / viridian_apic_assist_set() (4.11+). */
enum vassist_result vmodel_apic_assist_set(struct vmodel *m, uint32_t vcpu, uint8_t vector)
{
    if (vcpu >= m->vcpus || m->host->vp_assist == VASSIST_DWORD)
        return VAA_NOT_SET;
    struct vvcpu *v = &m->vcpu[vcpu];
    if (!v->vp_assist.mapped)
        return VAA_NOT_SET;
    uint64_t gpa = vpage_gpa(&v->vp_assist);
    if (m->host->vp_assist == VASSIST_4_11) {
        /* "If there is already an assist pending then something has gone wrong" */
        if (v->assist_pending)
            return VAA_CRASH;
        v->assist_pending = true;
    } else {
        if (vector < 0x10)
            return VAA_NOT_SET;
        if (v->assist_vector)
            return VAA_CRASH;
        v->assist_vector = vector;
    }
    vpage_write32(m, gpa, vpage_read32(m, gpa) | 1u);
    return VAA_SET;
}

int vmodel_apic_assist_completed(struct vmodel *m, uint32_t vcpu)
{
    if (vcpu >= m->vcpus || m->host->vp_assist == VASSIST_DWORD)
        return -1;
    struct vvcpu *v = &m->vcpu[vcpu];
    if (!v->vp_assist.mapped)
        return -1;
    bool bit = vpage_read32(m, vpage_gpa(&v->vp_assist)) & 1u;
    if (m->host->vp_assist == VASSIST_4_11) {
        if (!v->assist_pending || bit)
            return -1;
        v->assist_pending = false; /* "An EOI has been avoided" */
        return 0;
    }
    if (bit || !v->assist_vector)
        return -1; /* "Interrupt not yet processed by the guest." */
    int vector = v->assist_vector;
    v->assist_vector = 0;
    return vector;
}

void vmodel_apic_assist_clear(struct vmodel *m, uint32_t vcpu)
{
    if (vcpu >= m->vcpus || m->host->vp_assist == VASSIST_DWORD)
        return;
    struct vvcpu *v = &m->vcpu[vcpu];
    if (!v->vp_assist.mapped)
        return;
    uint64_t gpa = vpage_gpa(&v->vp_assist);
    vpage_write32(m, gpa, vpage_read32(m, gpa) & ~1u);
    v->assist_pending = false;
    v->assist_vector = 0;
}
