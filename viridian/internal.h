/* State shared by the model's files; not part of the public interface. Field names
 * follow Xen's struct viridian_domain / viridian_vcpu where they mean the same. */
#ifndef VSBOX_VIRIDIAN_INTERNAL_H
#define VSBOX_VIRIDIAN_INTERNAL_H

#include "viridian/clock.h"
#include "viridian/hvkvm.h"
#include "viridian/hvmpv.h"
#include "viridian/hypercall.h"
#include "viridian/model.h"

/* A guest page Xen maps (VP assist, SIM, reference TSC): where, and whether Xen holds it. */
struct vpage {
    uint64_t msr;           /* the MSR, raw */
    bool mapped;            /* Xen has the page (enabled, and the frame is RAM) */
};

/* Xen's struct viridian_stimer. */
struct vstimer {
    uint64_t config;        /* union hv_stimer_config, as Xen keeps it */
    uint64_t count;
    int64_t expiration;     /* reference time (100 ns) it fires at */
    bool started;           /* Xen's vs->started */
    bool armed;             /* Xen's timer is set (started, not yet fired, not frozen) */
};

struct vvcpu {
    /* The APIC registers the EOI/ICR/TPR MSRs reach when the platform has no APIC. */
    uint32_t icr, icr2, tpr;
    struct vpage vp_assist;     /* HV_X64_MSR_VP_ASSIST_PAGE */
    uint8_t assist_vector;      /* 4.7-4.10: the vector whose EOI the guest may skip */
    bool assist_pending;        /* 4.11+: an assist is pending */
    uint64_t crash_param[5];    /* HV_X64_MSR_CRASH_P0..P4 (not in any save record) */

    uint64_t scontrol, siefp;   /* not in any save record either */
    struct vpage simp;
    uint64_t sint[HV_SYNIC_SINT_COUNT];
    uint8_t vector_to_sintx[256];
    uint32_t msg_pending;       /* 4.13-4.14: SINTs with a message waiting for EOM */
    struct vstimer stimer[HV_STIMER_COUNT];
    uint32_t stimer_pending;    /* Xen's vv->stimer_pending */
};

/* What the last viridian hypercall read of its input block (vmodel_hypercall_input). */
struct vhcall_log {
    uint64_t words[VHYPERCALL_MAX_INPUT_WORDS];
    uint32_t n;
    bool read;
};

/* Xen's struct viridian_time_ref_count: the frozen value, and the offset while running. */
struct vtrc {
    uint64_t val;
    int64_t off;
    bool running;           /* _TRC_running */
};

/* What KVM keeps that Xen has no place for (struct kvm_hv, partition-wide). */
struct vkvm_state {
    bool reset_requested;        /* HV_X64_MSR_RESET = 1: KVM_REQ_HV_RESET to QEMU */
    uint64_t reenlightenment_control;
    uint64_t tsc_emulation_control;
    uint64_t tsc_emulation_status;
    uint64_t invtsc_control;     /* HV_X64_MSR_TSC_INVARIANT_CONTROL */
    uint64_t syndbg[6];          /* CONTROL, STATUS, SEND, RECV, PENDING; OPTIONS */
};

struct vmodel {
    const struct vprofile *host;
    uint32_t tsc_khz;
    uint32_t vcpus;
    struct vmem_ops mem;
    struct vplatform_ops plat;
    struct vtime_scale tsc_to_ns;
    bool vtsc;              /* d->arch.vtsc: the TSC is emulated, the TSC page invalid */

    uint64_t param;         /* params[HVM_PARAM_VIRIDIAN] */
    uint64_t guest_os_id;   /* HV_X64_MSR_GUEST_OS_ID, raw */
    uint64_t hypercall_gpa; /* HV_X64_MSR_HYPERCALL, raw */
    struct vpage reference_tsc;
    struct vtrc trc;
    uint64_t tsc;           /* the virtual clock */
    uint32_t incarnation;   /* Xen bumps it on every restore; CPUID time leaf reports it */
    bool paused;
    bool freq_told;         /* the guest has read HV_X64_MSR_TSC_FREQUENCY: a later rate
                               change breaks what it was told (vsbox's, not Xen's state) */
    struct vcrash crash;
    const char *defect;     /* the first Xen defect this run would have hit, or NULL */
    struct vhcall_log hcall;
    struct vkvm_state kvm;
    struct vvcpu vcpu[VMODEL_MAX_VCPUS];
};

/* Features in force, in 4.5 mask terms. */
uint64_t vmodel_features(const struct vmodel *m);

/* The KVM host: its rules are Linux KVM's and QEMU's where they differ from Xen's. */
static inline bool vkvm(const struct vmodel *m)
{
    return m->host->hypervisor == VHV_KVM;
}

/* A KVM configuration bit (hvkvm.h KVM_FEAT_*, KVM_OPT_*). */
static inline bool kvm_flag(const struct vmodel *m, unsigned bit)
{
    return vkvm(m) && ((m->param >> bit) & 1);
}

/* The Hyper-V interface is there. Xen: HVMPV_base_freq. KVM: QEMU's hyperv_enabled(),
 * any hv-* enlightenment, hv-passthrough, or hv-spinlocks other than never-notify; then
 * KVM answers Hyper-V MSRs (vcpu->arch.hyperv_enabled). */
static inline bool viridian_enabled(const struct vmodel *m)
{
    if (vkvm(m))
        return (m->param & (KVM_HV_FEATURES | 1u << KVM_OPT_PASSTHROUGH)) ||
               (m->param >> KVM_SPINLOCKS_SHIFT) != 0;
    return (vmodel_features(m) & HVMPV_base_freq) != 0;
}

/* An HVM_PARAM_VIRIDIAN feature of a Xen domain (never true on the KVM host). */
static inline bool has_feature(const struct vmodel *m, uint32_t hvmpv)
{
    return !vkvm(m) && (vmodel_features(m) & hvmpv) != 0;
}

/* Whether a group's bits are in force (see spec.h enum vgroup). */
bool vgroup_enabled(const struct vmodel *m, int group);

/* The host's HVM_PARAM_VIRIDIAN rules for a toolstack write (Xen's do_hvm_op). */
enum vres_kind vparam_check(const struct vprofile *host, uint64_t current, uint64_t value,
                            bool from_guest);

/* Note a Xen defect this run would have hit (the first one is kept). */
void vmodel_defect_hit(struct vmodel *m, const char *what);

/* Guest pages (page.c): Xen's viridian_map_guest_page() and friends. */
bool vpage_ram(const struct vmodel *m, uint64_t gpa);
void vpage_map(struct vmodel *m, struct vpage *p, bool clear);
void vpage_clear(struct vmodel *m, uint64_t gpa);
int vpage_read(const struct vmodel *m, uint64_t gpa, void *buf, size_t len);
void vpage_write(struct vmodel *m, uint64_t gpa, const void *buf, size_t len);
uint32_t vpage_read32(const struct vmodel *m, uint64_t gpa);
void vpage_write32(struct vmodel *m, uint64_t gpa, uint32_t v);
void vpage_write64(struct vmodel *m, uint64_t gpa, uint64_t v);
static inline uint64_t vpage_gpa(const struct vpage *p)
{
    return p->msr & HV_PAGE_MASK;
}

/* Time (time.c). */
uint64_t vtime_ref_count(const struct vmodel *m);
uint64_t vtime_count_at(const struct vmodel *m, uint64_t tsc);   /* running, at that TSC */
uint64_t vtime_saved(const struct vmodel *m);
bool vtime_freezes(const struct vmodel *m);
void vtime_freeze(struct vmodel *m);
void vtime_thaw(struct vmodel *m);
void vtime_reference_tsc_update(struct vmodel *m, bool initialize);
int vtime_rd_reference_tsc(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val);
int vtime_wr_reference_tsc(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val);

/* Synthetic timers (stimer.c). */
void vstimer_start(struct vmodel *m, uint32_t vcpu, unsigned x);
void vstimer_stop(struct vvcpu *v, unsigned x);
void vstimer_fire_due(struct vmodel *m, uint32_t vcpu);
void vstimer_freeze(struct vmodel *m);
void vstimer_thaw(struct vmodel *m);
int vstimer_rd(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val);
int vstimer_wr(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val);

/* SynIC and VP assist (synic.c). */
int vsynic_rd(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint32_t idx, uint64_t *val);
int vsynic_wr(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint32_t idx, uint64_t val);
int vsynic_rd_vp_assist(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val);
int vsynic_wr_vp_assist(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val);
void vsynic_load_vp_assist(struct vmodel *m, uint32_t vcpu, uint64_t msr, uint8_t assist);
uint8_t vsynic_save_assist(const struct vmodel *m, uint32_t vcpu);
void vsynic_vcpu_init(struct vvcpu *v);
void vsynic_rebuild_vectors(struct vvcpu *v);
bool vsynic_deliver_timer_msg(struct vmodel *m, uint32_t vcpu, unsigned sintx, unsigned index,
                              uint64_t expiration, uint64_t delivery, int sim_busy);

/* The local APIC behind the MSRs (apic.c). */
void vapic_deliver(struct vmodel *m, uint32_t vcpu, uint8_t vector);
int vapic_wr_eoi(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val);
int vapic_rd_icr(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val);
int vapic_wr_icr(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val);
int vapic_rd_tpr(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val);
int vapic_wr_tpr(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val);

/* KVM's leaves (cpuid_kvm.c): the Hyper-V ones as QEMU's hyperv_fill_cpuids() builds
 * them, and KVM's own. */
void vkvm_cpuid(const struct vmodel *m, uint32_t leaf, uint32_t sub, uint32_t r[4]);
/* KVM's hv_check_msr_access() with KVM_CAP_HYPERV_ENFORCE_CPUID: CPUID 0x40000003 bits. */
bool vkvm_cpuid_allows(const struct vmodel *m, uint32_t eax_bits, uint32_t edx_bits);
/* One hypercall in progress (hypercall.c): its registers and where its input comes from. */
struct vcall {
    struct vmodel *m;
    uint32_t vcpu;
    uint64_t input, in_gpa, out_gpa;
    const uint64_t *given;      /* recorded input words (replay), or NULL: memory */
    uint32_t given_words;
    uint64_t vpmask[2];         /* Xen's struct hypercall_vpmask (HVM_MAX_VCPUS bits) */
};
/* Read len bytes (a multiple of 8) at offset off of the input block, noting them for the
 * record; 0, or -1 for a copy failure. */
int vcall_read(struct vcall *c, uint32_t off, void *dst, uint32_t len);

/* KVM's hypercalls (hypercall_kvm.c). */
int vkvm_hypercall(struct vmodel *m, uint32_t vcpu, uint64_t rcx, uint64_t rdx, uint64_t r8,
                   const uint64_t *given, uint32_t given_words, uint64_t *rax);

/* Hypercall pages (hypercall.c). */
void vhypercall_page_write_viridian(struct vmodel *m, uint64_t gpa);
/* KVM's Hyper-V hypercall page: 0, or -1 for #GP (not guest RAM). */
int vhypercall_page_write_kvm(struct vmodel *m, uint64_t gpa);
/* Xen's own HVM hypercall page (a write of Xen's MSR): 0, or -1 for #GP. */
int vhypercall_page_write_xen(struct vmodel *m, uint64_t val);

#endif
