/* The viridian model: one Xen domain's HVM_PARAM_VIRIDIAN, synthetic CPUID leaves and
 * MSRs, hypercalls, SynIC and synthetic timers, reference time, and save records, as
 * the host profile's Xen release has them. No Unicorn, no I/O, no allocation after
 * create. Every vCPU of the domain lives here; the embedder names the vCPU on every
 * call. */
#ifndef VSBOX_VIRIDIAN_MODEL_H
#define VSBOX_VIRIDIAN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "viridian/event.h"
#include "viridian/profile.h"
#include "viridian/verr.h"

#define VMODEL_MAX_VCPUS 64u
#define VMODEL_TSC_KHZ_MIN 1000u
#define VMODEL_TSC_KHZ_MAX 100000000u

/* Guest-physical memory, as the embedder has it. Both return 0 on success and
 * -1 when any byte of the range is not guest RAM. Either may be NULL (no memory):
 * then the pages Xen would write (hypercall page, reference TSC page, VP assist page,
 * SIM page) are not written, hypercall parameter blocks cannot be read (Xen's copy
 * failure: HV_STATUS_INVALID_PARAMETER), and a SIM slot reads as free. */
struct vmem_ops {
    void *ctx;
    int (*read)(void *ctx, uint64_t gpa, void *buf, size_t len);
    int (*write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
};

/* APIC registers the synthetic APIC MSRs reach (xAPIC offsets). */
#define VAPIC_TASKPRI 0x080u
#define VAPIC_ICR     0x300u
#define VAPIC_ICR2    0x310u

/* The rest of the platform: what the model asks the emulator to do, or asks it about.
 * Every callback may be NULL; each says what the model does then, which is what
 * model-only replay and the fuzzers get. The model never calls back into itself from
 * a callback's return path, and calls them only from the vmodel_* call that caused
 * them (synchronously, in the order listed in each function's comment).
 *
 *   One source of truth for the APIC: with apic_read/apic_write the model keeps no
 *   copy of APIC_TASKPRI, APIC_ICR or APIC_ICR2; without them it keeps its own, with
 *   Xen's masking, and sends no IPI for an ICR write. */
struct vplatform_ops {
    void *ctx;

    /* vlapic_get_reg(vcpu, reg) for reg VAPIC_TASKPRI, VAPIC_ICR, VAPIC_ICR2. */
    uint32_t (*apic_read)(void *ctx, uint32_t vcpu, uint32_t reg);
    /* vlapic_reg_write(vcpu, reg, val): the xAPIC's own write, with its masking (ICR2
     * keeps bits 31:24; ICR drops delivery status, bit 12, and sends the IPI it
     * describes; TASKPRI keeps bits 7:0). HV_X64_MSR_ICR writes ICR2 then ICR. */
    void (*apic_write)(void *ctx, uint32_t vcpu, uint32_t reg, uint32_t val);
    /* vlapic_EOI_set(vcpu): HV_X64_MSR_EOI. NULL: nothing happens (no ISR to clear). */
    void (*apic_eoi)(void *ctx, uint32_t vcpu);
    /* vlapic_enabled(vcpu): asked before a SINT or IPI delivery on Xen 4.18+ (profile
     * irq_needs_apic). NULL: every local APIC is enabled. */
    bool (*apic_enabled)(void *ctx, uint32_t vcpu);
    /* vlapic_set_irq(vcpu, vector, edge): raise a fixed interrupt on a vCPU, from the
     * IPI hypercalls and from a synthetic timer's SINT. NULL: nothing is raised (the
     * results still say which vCPUs and vectors were named). */
    void (*set_irq)(void *ctx, uint32_t vcpu, uint8_t vector);
    /* paging_flush_tlb(): flush the TLBs of the vCPUs in targets (bit n: vCPU n; only
     * vCPUs that exist), asked by `from`. Never fails here: a flush is never busy in a
     * single-threaded emulator, so Xen 4.12+'s HVM_HCALL_preempted never happens. */
    void (*flush_tlb)(void *ctx, uint32_t from, uint64_t targets);
    /* HV_X64_MSR_CRASH_CTL with CrashNotify: the guest reported a bugcheck. shutdown:
     * this release also sets the domain's shutdown code to crash (4.12+), so the run's
     * end is a crash whatever the guest does next. The model keeps the report too
     * (vmodel_crash()). */
    void (*crash)(void *ctx, uint32_t vcpu, const uint64_t params[5], bool shutdown);
};

struct vconfig {
    const struct vprofile *host;   /* NULL: vprofile_default() */
    uint64_t viridian;             /* HVM_PARAM_VIRIDIAN as the toolstack sets it at build; 0: off */
    uint32_t tsc_khz;              /* 0: the host's default */
    uint32_t vcpus;                /* 0: 1 */
    struct vmem_ops mem;
    struct vplatform_ops platform;
};

struct vmodel;

/* Validates the config against the host (VERR_BAD_MASK, VERR_BAD_TSC_KHZ, ...). */
enum verr vmodel_create(const struct vconfig *cfg, struct vmodel **out);
void vmodel_destroy(struct vmodel *m);

const struct vprofile *vmodel_host(const struct vmodel *m);
uint32_t vmodel_tsc_khz(const struct vmodel *m);
uint32_t vmodel_vcpus(const struct vmodel *m);
uint64_t vmodel_param(const struct vmodel *m);
/* The features in force, as a mask in 4.5 terms (a boolean host's 1 expanded); on the
 * KVM host its configuration value (hvkvm.h). */
uint64_t vmodel_features(const struct vmodel *m);
/* Whether the guest sees the Hyper-V interface at all (Xen: HVMPV_base_freq; KVM: QEMU's
 * hyperv_enabled()). */
bool vmodel_viridian(const struct vmodel *m);
/* Replace the platform callbacks (a restored model starts with none). */
void vmodel_set_platform(struct vmodel *m, const struct vplatform_ops *ops);

/* Apply one event. Events naming a vCPU >= vcpus are refused with VRES_NONE and
 * a false return; every other event returns true with its result. */
bool vmodel_apply(struct vmodel *m, const struct vevent *ev, struct vres *res);

/* The individual operations, for callers that want no event struct. */
void vmodel_cpuid(struct vmodel *m, uint32_t vcpu, uint32_t leaf, uint32_t subleaf,
                  uint32_t regs[4]);
/* 0 on success, -1 for #GP. */
int vmodel_rdmsr(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint64_t *val);
int vmodel_wrmsr(struct vmodel *m, uint32_t vcpu, uint32_t msr, uint64_t val);
/* Viridian hypercall in the 64-bit convention (the emulator turns the 32-bit one,
 * EDX:EAX / EBX:ECX / EDI:ESI, into it); *rax is the output value (status in bits
 * 15:0, reps completed in 43:32); -1 for #UD (no viridian). Effects, in order: memory
 * reads of the parameter block, then set_irq for each target (IPI calls, lowest vCPU
 * first) or flush_tlb once (flush calls). */
int vmodel_hypercall(struct vmodel *m, uint32_t vcpu, uint64_t rcx, uint64_t rdx,
                     uint64_t r8, uint64_t *rax);
enum vres_kind vmodel_param_set(struct vmodel *m, uint64_t value, bool from_guest);
/* Whether a VMCALL/VMMCALL with this RAX is the model's vmodel_hypercall(): on Xen when
 * EAX bit 31 is set (the viridian page's "orl $0x80000000, %eax"; the rest are Xen's own
 * hypercalls); on KVM every one (kvm_emulate_hypercall: Hyper-V's, or KVM's own). */
bool vmodel_hypercall_owns(const struct vmodel *m, uint64_t rax);

/* The leaves vmodel_cpuid() answers: the hypervisor range 0x40000000-0x4fffffff. */
static inline bool vmodel_cpuid_owns(uint32_t leaf)
{
    return (leaf & 0xf0000000u) == 0x40000000u;
}

/* --- Synthetic timers and the SynIC (Xen 4.13+) ---
 * A timer fires when the reference time (HV_X64_MSR_TIME_REF_COUNT) reaches its
 * expiration; Xen then marks it pending and delivers its message the next time the
 * vCPU looks for interrupts (vlapic_has_pending_irq -> viridian_synic_poll). The
 * emulator does the same: when vmodel_stimer_next() says a deadline has come, or when
 * a message is still waiting for its slot, it calls vmodel_poll() (or applies a
 * VEV_POLL event, which is what it records) at an instruction boundary of that vCPU. */

/* The TSC at which this vCPU's next timer fires, or the current TSC when a message is
 * already waiting; false when nothing is armed or waiting. */
bool vmodel_stimer_next(const struct vmodel *m, uint32_t vcpu, uint64_t *tsc);
/* The SIM slots the guest still holds (bit n: slot n's message type is not
 * HVMSG_NONE), read from guest memory now: what a VEV_POLL event records, because the
 * guest frees a slot with a plain store no trace can see. 0 without a SIM page. */
uint32_t vmodel_sim_busy(const struct vmodel *m, uint32_t vcpu);
/* viridian_synic_poll(): deliver every due timer's HVMSG_TIMER_EXPIRED message into the
 * SIM page (slot = the timer's SINT) and raise the SINT's vector through set_irq unless
 * masked. sim_busy: as vmodel_sim_busy() returned it, or -1 to read memory now.
 * Returns the timers whose message was delivered (bit n: STIMERn). */
uint32_t vmodel_poll(struct vmodel *m, uint32_t vcpu, int64_t sim_busy);
/* vlapic's questions about SINT vectors: is this vector an auto-EOI SINT (not set in
 * the ISR on acknowledge), and the acknowledge itself (4.13-4.14 clear the SINT's
 * message-pending state there: viridian_synic_ack_sint). */
bool vmodel_sint_auto_eoi(const struct vmodel *m, uint32_t vcpu, uint8_t vector);
void vmodel_sint_ack(struct vmodel *m, uint32_t vcpu, uint8_t vector);

/* --- APIC assist (Xen 4.7+), for the emulator's vLAPIC ---
 * Xen's vlapic calls these (vlapic.c); which checks it makes first is its own and
 * changed per release, but the viridian side is here:
 *   vlapic_ack_pending_irq(): when vmodel_apic_assist_usable() and the vector is
 *     edge-triggered and, 4.7-4.8: no lower vector is in service; 4.9-4.10: nothing is
 *     in service; 4.11+: nothing is in service and vector > 0x10 -> apic_assist_set.
 *   vlapic_has_pending_irq(): first apic_assist_completed (4.7-4.10: clear that vector
 *     from the ISR; 4.11+: emulate an EOI with vlapic_EOI_set); then if a vector is in
 *     service that the pending one does not beat -> apic_assist_clear.
 *   vlapic_EOI_set() (4.11+): a real EOI while assisted -> apic_assist_clear. */
bool vmodel_apic_assist_usable(const struct vmodel *m);
enum vassist_result { VAA_NOT_SET, VAA_SET, VAA_CRASH /* domain_crash() */ };
enum vassist_result vmodel_apic_assist_set(struct vmodel *m, uint32_t vcpu, uint8_t vector);
/* -1: no EOI avoided; else the vector (4.7-4.10) or 0 (4.11+ keeps no vector). */
int vmodel_apic_assist_completed(struct vmodel *m, uint32_t vcpu);
void vmodel_apic_assist_clear(struct vmodel *m, uint32_t vcpu);

/* --- Crash MSRs --- */
struct vcrash {
    bool notified;          /* a CrashNotify write happened */
    bool shutdown;          /* ... and set the crash shutdown code (4.12+) */
    uint32_t vcpu;
    uint64_t params[5];
    char log[160];          /* Xen's log line for it */
};
const struct vcrash *vmodel_crash(const struct vmodel *m);

/* The first Xen defect this run reached (an XSA the release still had: where Xen
 * would have crashed the host, vsbox goes on as the fixed release does), or NULL. */
const char *vmodel_defect(const struct vmodel *m);

/* --- Time --- */
/* Virtual clock, in TSC ticks at tsc_khz. */
uint64_t vmodel_tsc(const struct vmodel *m);
void vmodel_advance(struct vmodel *m, uint64_t ticks);
void vmodel_set_tsc(struct vmodel *m, uint64_t tsc);
/* arch_domain_pause/unpause: freeze the reference counter and stop the synthetic timers
 * (Xen's time_ref_count_freeze / viridian_time_domain_freeze); unpause thaws them, and
 * from 4.13 rewrites the reference TSC page with the counter's offset. A save is taken
 * paused; a restore ends unpaused. */
void vmodel_pause(struct vmodel *m);
void vmodel_unpause(struct vmodel *m);
bool vmodel_paused(const struct vmodel *m);

/* Save this domain and restore it on host `to`, as a migration would: the domain is
 * paused, the clock runs on for `downtime` ticks while the toolstack waits for the
 * context (Xen's guest TSC does not stop), the stream carries HVM_PARAM_VIRIDIAN (legacy
 * < 0) or only the boolean pre-4.5 Xen wrote (legacy 0/1) and the viridian records, and
 * the destination applies its own rules. VRES_REFUSED leaves the model as it was. */
enum vres_kind vmodel_migrate(struct vmodel *m, const struct vprofile *to, int legacy,
                              uint64_t downtime);

/* An independent copy with the same state (a save immediately restored on the same
 * host, without the incarnation bump a migration makes). NULL when out of memory. */
struct vmodel *vmodel_clone(const struct vmodel *m);

#endif
