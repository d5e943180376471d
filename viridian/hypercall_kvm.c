/* The KVM host's hypercalls: Linux 6.16 kvm_hv_hypercall(), and for the calls KVM
 * passes to its VMM (KVM_EXIT_HYPERV_HCALL) QEMU 10.1's answers with no VMBus device:
 * hyperv_hcall_post_message() and hyperv_hcall_signal_event() find no connection, and
 * every other call is HV_STATUS_INVALID_HYPERCALL_CODE (kvm_hv_handle_exit's default).
 * XMM fast input (hv-xmm-input) is read as zeros: the model keeps no XMM registers. */
#include <string.h>
#include "viridian/internal.h"

struct kcall {
    struct vcall c;
    uint16_t code, var_cnt, rep_cnt, rep_idx;
    bool fast, rep;
    uint64_t result;           /* status, and reps completed in bits 43:32 */
};

static uint64_t mask_all(const struct vmodel *m)
{
    return m->vcpus >= 64 ? UINT64_MAX : (1ull << m->vcpus) - 1;
}

/* kvm_get_sparse_vp_set(): var_cnt banks after the fixed part at `off`; only bank 0 can
 * name a vCPU the model has. */
static int sparse_banks(struct kcall *k, uint32_t off, uint64_t valid, uint64_t *targets)
{
    uint64_t banks[64];
    if (k->var_cnt > 64)
        return -1;
    if (k->fast) {
        memset(banks, 0, sizeof banks); /* XMM registers: not modelled */
    } else if (k->var_cnt && vcall_read(&k->c, off, banks, k->var_cnt * 8u)) {
        return -1;
    }
    *targets = (valid & 1) && k->var_cnt ? banks[0] : 0;
    return 0;
}

/* kvm_hv_flush_tlb(). */
static uint16_t flush(struct kcall *k)
{
    struct vmodel *m = k->c.m;
    uint64_t p[4] = { 0 }, targets = 0;
    bool ex = k->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX ||
              k->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
    uint32_t fixed = ex ? 32 : 24; /* hv_tlb_flush_ex / hv_tlb_flush */
    bool all;
    if (k->fast) {
        p[0] = k->c.in_gpa;
        p[1] = k->c.out_gpa;
    } else if (vcall_read(&k->c, 0, p, fixed)) {
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    }
    if (!ex) {
        /* "Work around possible WS2012 bug ... treat processor_mask == 0 same as
         * HV_FLUSH_ALL_PROCESSORS" (commit da66761c2d93). */
        all = (p[1] & HV_FLUSH_ALL_PROCESSORS) || p[2] == 0;
        targets = p[2];
    } else {
        all = p[2] != HV_GENERIC_SET_SPARSE_4K;
        if (k->var_cnt != (uint64_t)__builtin_popcountll(p[3]))
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
        if (!all) {
            if (!k->var_cnt)
                goto done;
            if (sparse_banks(k, fixed, p[3], &targets))
                return HV_STATUS_INVALID_HYPERCALL_INPUT;
        }
        fixed += k->var_cnt * 8u;
    }
    /* The LIST forms read their GVA entries; more than the FIFO holds flushes all. */
    if ((k->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST ||
         k->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX) && k->rep_cnt <= 15 && !k->fast) {
        uint64_t entries[15];
        if (vcall_read(&k->c, fixed, entries, k->rep_cnt * 8u))
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
    }
    targets = (all ? UINT64_MAX : targets) & mask_all(m);
    if (m->plat.flush_tlb)
        m->plat.flush_tlb(m->plat.ctx, k->c.vcpu, targets);
done:
    /* "We always do full TLB flush, set 'Reps completed' = 'Rep Count'" */
    k->result = (uint64_t)k->rep_cnt << HV_HYPERCALL_REP_COMP_SHIFT;
    return HV_STATUS_SUCCESS;
}

/* kvm_hv_send_ipi(). */
static uint16_t send_ipi(struct kcall *k)
{
    struct vmodel *m = k->c.m;
    uint64_t targets = 0, vector;
    bool all = false;
    if (k->code == HVCALL_SEND_IPI) {
        if (!k->fast) {
            uint64_t p[2]; /* u32 vector, u8 target_vtl, u8 reserved[3]; u64 cpu_mask */
            if (vcall_read(&k->c, 0, p, sizeof p))
                return HV_STATUS_INVALID_HYPERCALL_INPUT;
            vector = (uint32_t)p[0];
            targets = p[1];
        } else {
            /* "'reserved' part of hv_send_ipi should be 0" */
            if (k->c.in_gpa >> 32)
                return HV_STATUS_INVALID_HYPERCALL_INPUT;
            vector = (uint32_t)k->c.in_gpa;
            targets = k->c.out_gpa;
        }
    } else {
        uint64_t p[3] = { 0 }; /* u32 vector, u32 reserved; vp_set format, valid_bank_mask */
        if (!k->fast) {
            if (vcall_read(&k->c, 0, p, sizeof p))
                return HV_STATUS_INVALID_HYPERCALL_INPUT;
        } else {
            p[0] = (uint32_t)k->c.in_gpa;
            p[1] = k->c.out_gpa;
        }
        vector = (uint32_t)p[0];
        all = p[1] == HV_GENERIC_SET_ALL;
        if (k->var_cnt != (uint64_t)__builtin_popcountll(p[2]))
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
        if (!all) {
            if (!k->var_cnt)
                return HV_STATUS_SUCCESS;
            if (sparse_banks(k, sizeof p, p[2], &targets))
                return HV_STATUS_INVALID_HYPERCALL_INPUT;
        }
    }
    if (vector < 0x10 || vector > 0xff) /* HV_IPI_LOW_VECTOR, HV_IPI_HIGH_VECTOR */
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    targets = (all ? UINT64_MAX : targets) & mask_all(m);
    for (uint32_t vp = 0; vp < m->vcpus; vp++)
        if (targets >> vp & 1)
            vapic_deliver(m, vp, (uint8_t)vector);
    return HV_STATUS_SUCCESS;
}

/* kvm_hvcall_signal_event(): KVM binds no eventfd to any connection here, so every
 * well-formed call is "HV_STATUS_INVALID_PORT_ID", which sends it on to QEMU ("maybe
 * userspace knows this conn_id") if the SynIC is active; QEMU's
 * hyperv_hcall_signal_event() then finds no handler either. KVM hands QEMU the value it
 * read for a slow call as the input, and QEMU reads it as an address again: the model
 * checks that address's alignment and stops there (INVALID_CONNECTION_ID). */
static uint16_t signal_event(struct kcall *k)
{
    uint64_t param = k->c.in_gpa;
    if (!k->fast) {
        if ((param & 7) || (param & 0xfff) + 8 > 0x1000 ||
            vcall_read(&k->c, 0, &param, sizeof param))
            return HV_STATUS_INVALID_ALIGNMENT;
    }
    if (!(param & 0xffff00000000ull) && (param & ~0xffffffull)) /* KVM_HYPERV_CONN_ID_MASK */
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    if (!kvm_flag(k->c.m, KVM_FEAT_SYNIC))
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    if (!k->fast && (param & 7))
        return HV_STATUS_INVALID_ALIGNMENT;
    if (param & 0xffff00000000ull) /* the "flag number" */
        return HV_STATUS_INVALID_PORT_ID;
    return HV_STATUS_INVALID_CONNECTION_ID;
}

/* QEMU's hyperv_hcall_post_message(): struct hyperv_post_message_input is u32
 * connection_id, u32 reserved, u32 message_type, u32 payload_size, u8 payload[240]. */
static uint16_t post_message(struct kcall *k)
{
    uint64_t head[2];
    if (k->fast)
        return HV_STATUS_INVALID_HYPERCALL_CODE;
    if (k->c.in_gpa & 7)
        return HV_STATUS_INVALID_ALIGNMENT;
    if (vcall_read(&k->c, 0, head, sizeof head))
        return 0x000b; /* HV_STATUS_INSUFFICIENT_MEMORY: the page did not map */
    if ((head[1] >> 32) > 240)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    return HV_STATUS_INVALID_CONNECTION_ID;
}

/* hv_check_hypercall_access(): with hv-enforce-cpuid, what CPUID 0x40000003 EBX and
 * 0x40000004 EAX/EBX advertise. */
static bool allowed(const struct vmodel *m, uint16_t code)
{
    uint32_t f[4] = { 0 }, e[4] = { 0 };
    if (!kvm_flag(m, KVM_OPT_ENFORCE_CPUID))
        return true;
    vkvm_cpuid(m, 0x40000003u, 0, f);
    vkvm_cpuid(m, 0x40000004u, 0, e);
    switch (code) {
    case HVCALL_NOTIFY_LONG_SPIN_WAIT:
        return e[1] && e[1] != UINT32_MAX;
    case HVCALL_POST_MESSAGE:
        return f[1] & CPUID3B_POST_MESSAGES;
    case HVCALL_SIGNAL_EVENT:
        return f[1] & CPUID3B_SIGNAL_EVENTS;
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX:
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX:
        if (!(e[0] & CPUID4A_EX_PROCESSOR_MASKS))
            return false;
        /* fall through */
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST:
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE:
        return e[0] & CPUID4A_HCALL_REMOTE_TLB_FLUSH;
    case HVCALL_SEND_IPI_EX:
        if (!(e[0] & CPUID4A_EX_PROCESSOR_MASKS))
            return false;
        /* fall through */
    case HVCALL_SEND_IPI:
        return e[0] & CPUID4A_SYNTHETIC_CLUSTER_IPI;
    default:
        /* HvExtCall*: HV_ENABLE_EXTENDED_HYPERCALLS, which QEMU never sets. */
        return !(code >= HVCALL_EXT_CALL_QUERY_CAPABILITIES && code <= HV_EXT_CALL_MAX);
    }
}

static bool xmm_capable(uint16_t code)
{
    return code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST ||
           code == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE ||
           code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX ||
           code == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX || code == HVCALL_SEND_IPI_EX;
}

static uint16_t dispatch(struct kcall *k)
{
    struct vmodel *m = k->c.m;
    switch (k->code) {
    case HVCALL_NOTIFY_LONG_SPIN_WAIT:
        return k->rep || k->var_cnt ? HV_STATUS_INVALID_HYPERCALL_INPUT : HV_STATUS_SUCCESS;
    case HVCALL_SIGNAL_EVENT:
        return k->rep || k->var_cnt ? HV_STATUS_INVALID_HYPERCALL_INPUT : signal_event(k);
    case HVCALL_POST_MESSAGE:
        /* "don't bother userspace if it has no way to handle it" */
        if (k->rep || k->var_cnt || !kvm_flag(m, KVM_FEAT_SYNIC))
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
        return post_message(k);
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST:
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX:
        if ((k->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST && k->var_cnt) || !k->rep_cnt ||
            k->rep_idx)
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
        return flush(k);
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE:
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX:
        if ((k->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE && k->var_cnt) || k->rep)
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
        return flush(k);
    case HVCALL_SEND_IPI:
    case HVCALL_SEND_IPI_EX:
        if ((k->code == HVCALL_SEND_IPI && k->var_cnt) || k->rep)
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
        return send_ipi(k);
    case HVCALL_POST_DEBUG_DATA:
    case HVCALL_RETRIEVE_DEBUG_DATA:
    case HVCALL_RESET_DEBUG_SESSION:
        if (k->code != HVCALL_RESET_DEBUG_SESSION && k->fast)
            return HV_STATUS_INVALID_PARAMETER;
        if (!kvm_flag(m, KVM_FEAT_SYNDBG))
            return HV_STATUS_INVALID_HYPERCALL_CODE;
        if (!(m->kvm.syndbg[5] & (1u << 2))) /* HV_X64_SYNDBG_OPTION_USE_HCALLS */
            return HV_STATUS_OPERATION_DENIED;
        return HV_STATUS_INVALID_HYPERCALL_CODE; /* QEMU with no synthetic debugger */
    default:
        if (k->code >= HVCALL_EXT_CALL_QUERY_CAPABILITIES && k->code <= HV_EXT_CALL_MAX)
            return k->fast ? HV_STATUS_INVALID_PARAMETER : HV_STATUS_INVALID_HYPERCALL_CODE;
        return HV_STATUS_INVALID_HYPERCALL_CODE;
    }
}

int vkvm_hypercall(struct vmodel *m, uint32_t vcpu, uint64_t rcx, uint64_t rdx, uint64_t r8,
                   const uint64_t *given, uint32_t given_words, uint64_t *rax)
{
    memset(&m->hcall, 0, sizeof m->hcall);
    /* kvm_hv_hypercall_enabled(): without the interface or a guest OS id a VMCALL is
     * KVM's own hypercall, which knows no such number (the model cannot see RAX's). */
    if (!viridian_enabled(m) || !m->guest_os_id) {
        *rax = (uint64_t)-(int64_t)KVM_ENOSYS;
        return 0;
    }
    struct kcall k = {
        .c = { m, vcpu, rcx, rdx, r8, given, given_words, { 0, 0 } },
        .code = (uint16_t)rcx,
        .var_cnt = (uint16_t)((rcx & HV_HYPERCALL_VARHEAD_MASK) >> HV_HYPERCALL_VARHEAD_SHIFT),
        .fast = (rcx & HV_HYPERCALL_FAST_BIT) != 0,
        .rep_cnt = (uint16_t)HV_HYPERCALL_REP_COUNT(rcx),
        .rep_idx = (uint16_t)HV_HYPERCALL_REP_START(rcx),
    };
    k.rep = k.rep_cnt || k.rep_idx;
    uint16_t status;
    if (!allowed(m, k.code)) {
        status = HV_STATUS_ACCESS_DENIED;
    } else if (rcx & HV_HYPERCALL_RSVD_MASK) {
        status = HV_STATUS_INVALID_HYPERCALL_INPUT;
    } else if (k.fast && xmm_capable(k.code) && kvm_flag(m, KVM_OPT_ENFORCE_CPUID) &&
               !kvm_flag(m, KVM_FEAT_XMM_INPUT)) {
        return -1; /* "kvm_queue_exception(vcpu, UD_VECTOR)" */
    } else {
        status = dispatch(&k);
    }
    *rax = status | (status == HV_STATUS_SUCCESS ? k.result : 0);
    return 0;
}
