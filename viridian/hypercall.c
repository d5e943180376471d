/* Hypercall pages, and viridian_hypercall() as each release dispatches it:
 *   all:   HVCALL_NOTIFY_LONG_SPIN_WAIT (yield) -> success
 *   4.7+:  HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE/LIST (commit b38d426ad0)
 *   4.13+: HVCALL_SEND_IPI (commit fda96b7382)
 *   4.15+: the _EX flush and IPI calls with sparse VP sets (b4124682db, 9afa867d42)
 *   else:  HV_STATUS_INVALID_HYPERCALL_CODE ("unimplemented hypercall %04x").
 * None of them checks HVM_PARAM_VIRIDIAN: the hcall_remote_tlb_flush, hcall_ipi and
 * ex_processor_masks bits only decide what CPUID 0x40000004 recommends. */
#include "viridian/hypercall.h"

#include <string.h>
#include "viridian/internal.h"

/* The VMCALL (Intel) or VMMCALL (AMD) opcode's last byte, as the host would need. */
static uint8_t vmcall_modrm(const struct vmodel *m)
{
    return m->host->svm ? 0xd9 : 0xc1;
}

void vhypercall_page_viridian(const struct vmodel *m, uint8_t page[VHYPERCALL_PAGE_SIZE])
{
    /* orl $0x80000000, %eax marks the call as viridian rather than a Xen hypercall. */
    const uint8_t stub[9] = { 0x0d, 0x00, 0x00, 0x00, 0x80, 0x0f, 0x01, vmcall_modrm(m), 0xc3 };
    memcpy(page, stub, sizeof stub);
    memset(page + sizeof stub, 0xcc, VHYPERCALL_PAGE_SIZE - sizeof stub);
}

void vhypercall_page_write_viridian(struct vmodel *m, uint64_t gpa)
{
    uint8_t page[VHYPERCALL_PAGE_SIZE];
    if (!m->mem.write)
        return;
    vhypercall_page_viridian(m, page);
    (void)m->mem.write(m->mem.ctx, gpa, page, sizeof page);
}

/* KVM's page (kvm_hv_set_msr_pw): kvm_x86_call(patch_hypercall) - VMCALL or VMMCALL -
 * and "ret", nothing else; a frame KVM cannot write is a #GP. */
int vhypercall_page_write_kvm(struct vmodel *m, uint64_t gpa)
{
    const uint8_t stub[4] = { 0x0f, 0x01, vmcall_modrm(m), 0xc3 };
    if (!m->mem.write)
        return 0;
    return m->mem.write(m->mem.ctx, gpa, stub, sizeof stub) ? -1 : 0;
}

/* wrmsr_hypervisor_regs(): an offset into the page or a frame outside RAM is refused,
 * which up to 4.10 the caller took as "handled" (the write is dropped) and from 4.11 as
 * a #GP. */
int vhypercall_page_write_xen(struct vmodel *m, uint64_t val)
{
    int refused = m->host->wrmsr_unknown_gp ? -1 : 0;
    if (val & (VHYPERCALL_PAGE_SIZE - 1))
        return refused;
    if (!m->mem.write || !m->mem.read)
        return refused;
    uint8_t probe;
    if (m->mem.read(m->mem.ctx, val, &probe, 1) ||
        m->mem.read(m->mem.ctx, val + VHYPERCALL_PAGE_SIZE - 1, &probe, 1))
        return refused;
    /* 32-byte slots "mov $i, %eax; vmcall; ret"; bytes between slots are left as they were. */
    for (uint32_t i = 0; i < VHYPERCALL_PAGE_SIZE / 32; i++) {
        uint8_t slot[9] = { 0xb8, (uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16),
                            (uint8_t)(i >> 24), 0x0f, 0x01, vmcall_modrm(m), 0xc3 };
        if (i == __HYPERVISOR_iret) {
            const uint8_t ud2[2] = { 0x0f, 0x0b };
            (void)m->mem.write(m->mem.ctx, val + i * 32, ud2, sizeof ud2);
            continue;
        }
        (void)m->mem.write(m->mem.ctx, val + i * 32, slot, sizeof slot);
    }
    return 0;
}

/* HVM_MAX_VCPUS: the width of Xen's struct hypercall_vpmask. */
#define HVM_MAX_VCPUS 128u

#define call vcall

/* hvm_copy_from_guest_phys() of len bytes at offset off from the input GPA (always
 * 8-byte multiples). 0, or -1 for a copy failure. */
static int copy_in(struct call *c, struct vhcall_log *log, uint32_t off, void *dst, uint32_t len)
{
    uint32_t first = off / 8, n = len / 8;
    uint64_t *w = dst;
    log->read = true;
    if (first + n > VHYPERCALL_MAX_INPUT_WORDS)
        return -1;
    if (c->given) {
        if (first + n > c->given_words)
            return -1;
        memcpy(w, c->given + first, len);
    } else {
        uint8_t b[VHYPERCALL_MAX_INPUT_WORDS * 8];
        if (!c->m->mem.read || c->m->mem.read(c->m->mem.ctx, c->in_gpa + off, b, len))
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            w[i] = 0;
            for (int k = 7; k >= 0; k--)
                w[i] = w[i] << 8 | b[8 * i + (uint32_t)k];
        }
    }
    if (log->n == first) {
        memcpy(log->words + first, w, len);
        log->n = first + n;
    }
    return 0;
}

int vcall_read(struct vcall *c, uint32_t off, void *dst, uint32_t len)
{
    return copy_in(c, &c->m->hcall, off, dst, len);
}

static bool fast(const struct call *c)
{
    return (c->input & HV_HYPERCALL_FAST_BIT) != 0;
}

/* vpmask_set(): bits of mask from VP vp on. 4.15-4.20 write past the 128-bit mask for a
 * high bank (XSA-475, CVE-2025-58147); 4.21 stops at its end. */
static void vpmask_set(struct call *c, unsigned vp, uint64_t mask)
{
    for (unsigned i = 0; i < 64 && mask; i++, vp++, mask >>= 1) {
        if (!(mask & 1))
            continue;
        if (vp >= HVM_MAX_VCPUS) {
            if (c->m->host->xsa475)
                vmodel_defect_hit(c->m, "XSA-475: a VP set names VP >= 128 (out-of-bounds "
                                        "write in Xen, fixed in 4.21)");
            return;
        }
        c->vpmask[vp / 64] |= 1ull << (vp % 64);
    }
}

static void vpmask_fill(struct call *c)
{
    c->vpmask[0] = c->vpmask[1] = UINT64_MAX;
}

/* The targets that exist: paging_flush_tlb() walks the domain's vCPUs. */
static uint64_t existing(const struct call *c)
{
    uint64_t all = c->m->vcpus >= 64 ? UINT64_MAX : (1ull << c->m->vcpus) - 1;
    return c->vpmask[0] & all;
}

/* hv_vpset_to_vpmask(), with the sparse banks read after the fixed part at `off`. */
static int read_vpset(struct call *c, struct vhcall_log *log, uint32_t off, uint64_t format,
                      uint64_t valid)
{
    if (format == HV_GENERIC_SET_ALL) {
        vpmask_fill(c);
        return 0;
    }
    if (format != HV_GENERIC_SET_SPARSE_4K)
        return -1;
    uint64_t banks[64];
    uint32_t nbanks = (uint32_t)__builtin_popcountll(valid);
    if (nbanks && copy_in(c, log, off, banks, nbanks * 8))
        return -1;
    unsigned k = 0;
    for (unsigned b = 0; b < 64; b++)
        if (valid & (1ull << b))
            vpmask_set(c, 64 * b, banks[k++]);
    return 0;
}

static void flush(struct call *c)
{
    if (c->m->plat.flush_tlb)
        c->m->plat.flush_tlb(c->m->plat.ctx, c->vcpu, existing(c));
}

/* send_ipi() 4.15+, and hvcall_ipi()'s for_each_vcpu loop on 4.13-4.14. */
static void send_ipi(struct call *c, uint8_t vector)
{
    uint32_t vcpus = c->m->vcpus;
    for (unsigned vp = 0; vp < HVM_MAX_VCPUS; vp++) {
        if (!(c->vpmask[vp / 64] & (1ull << (vp % 64))))
            continue;
        if (vp >= vcpus) {
            /* 4.15-4.20's for_each_vp reads d->vcpu[vp] past max_vcpus (XSA-475,
             * CVE-2025-58148); 4.13-4.14 walk the vCPUs that exist. */
            if (c->m->host->xsa475)
                vmodel_defect_hit(c->m, "XSA-475: an IPI names a vCPU that does not exist "
                                        "(out-of-bounds read in Xen, fixed in 4.21)");
            break;
        }
        vapic_deliver(c->m, vp, vector);
    }
}

/* hvcall_flush(): 0 or HV_STATUS_INVALID_PARAMETER. */
static uint16_t hvcall_flush(struct call *c, struct vhcall_log *log)
{
    uint64_t p[3]; /* address_space, flags, vcpu_mask */
    /* "These hypercalls should never use the fast-call convention." */
    if (fast(c) || copy_in(c, log, 0, p, sizeof p))
        return HV_STATUS_INVALID_PARAMETER;
    /* "It is not clear from the spec. if we are supposed to include current virtual CPU
     * in the set or not in this case, so err on the safe side." */
    if (p[1] & HV_FLUSH_ALL_PROCESSORS)
        vpmask_fill(c);
    else
        vpmask_set(c, 0, p[2]);
    flush(c);
    return HV_STATUS_SUCCESS;
}

static uint16_t hvcall_flush_ex(struct call *c, struct vhcall_log *log)
{
    uint64_t p[4]; /* address_space, flags, vpset format, valid_bank_mask */
    if (fast(c) || copy_in(c, log, 0, p, sizeof p))
        return HV_STATUS_INVALID_PARAMETER;
    if (p[1] & HV_FLUSH_ALL_PROCESSORS)
        vpmask_fill(c);
    else if (read_vpset(c, log, sizeof p, p[2], p[3]))
        return HV_STATUS_INVALID_PARAMETER;
    flush(c);
    return HV_STATUS_SUCCESS;
}

/* HvSendSyntheticClusterIpi: fast (vector in the input GPA's low half, mask in the
 * output GPA) or memory {u32 vector; u8 target_vtl; u8 reserved_zero[3]; u64 mask}. */
static uint16_t hvcall_ipi(struct call *c, struct vhcall_log *log)
{
    uint64_t vector, mask;
    if (fast(c)) {
        if (c->in_gpa >> 32)
            return HV_STATUS_INVALID_PARAMETER;
        vector = c->in_gpa;
        mask = c->out_gpa;
    } else {
        uint64_t p[2];
        if (copy_in(c, log, 0, p, sizeof p))
            return HV_STATUS_INVALID_PARAMETER;
        if (p[0] >> 32) /* target_vtl, reserved_zero[3] */
            return HV_STATUS_INVALID_PARAMETER;
        vector = p[0];
        mask = p[1];
    }
    if (vector < 0x10 || vector > 0xff)
        return HV_STATUS_INVALID_PARAMETER;
    vpmask_set(c, 0, mask);
    send_ipi(c, (uint8_t)vector);
    return HV_STATUS_SUCCESS;
}

static uint16_t hvcall_ipi_ex(struct call *c, struct vhcall_log *log)
{
    uint64_t p[3]; /* vector | vtl | reserved, vpset format, valid_bank_mask */
    if (fast(c) || copy_in(c, log, 0, p, sizeof p))
        return HV_STATUS_INVALID_PARAMETER;
    if (p[0] >> 32)
        return HV_STATUS_INVALID_PARAMETER;
    uint32_t vector = (uint32_t)p[0];
    if (vector < 0x10 || vector > 0xff)
        return HV_STATUS_INVALID_PARAMETER;
    if (read_vpset(c, log, sizeof p, p[1], p[2]))
        return HV_STATUS_INVALID_PARAMETER;
    send_ipi(c, (uint8_t)vector);
    return HV_STATUS_SUCCESS;
}

int vmodel_hypercall_with(struct vmodel *m, uint32_t vcpu, uint64_t rcx, uint64_t rdx,
                          uint64_t r8, const uint64_t *given, uint32_t given_words,
                          uint64_t *rax)
{
    /* Without viridian there is no hypercall page and VMCALL from the guest is not a
     * viridian call: vsbox reports #UD, what the guest sees on hardware without it. */
    if (vkvm(m))
        return vkvm_hypercall(m, vcpu, rcx, rdx, r8, given, given_words, rax);
    if (!viridian_enabled(m))
        return -1;
    const struct vprofile *h = m->host;
    struct vhcall_log *log = &m->hcall;
    struct call c = { m, vcpu, rcx, rdx, r8, given, given_words, { 0, 0 } };
    uint16_t status;
    uint64_t reps = 0;
    memset(log, 0, sizeof *log);

    switch ((uint16_t)rcx) {
    case HVCALL_NOTIFY_LONG_SPIN_WAIT:
        status = HV_STATUS_SUCCESS;
        break;
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE:
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST:
        if (!h->hcall_flush)
            goto unknown;
        status = hvcall_flush(&c, log);
        break;
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX:
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX:
        if (!h->hcall_ex)
            goto unknown;
        status = hvcall_flush_ex(&c, log);
        break;
    case HVCALL_SEND_IPI:
        if (!h->hcall_ipi)
            goto unknown;
        status = hvcall_ipi(&c, log);
        break;
    case HVCALL_SEND_IPI_EX:
        if (!h->hcall_ex)
            goto unknown;
        status = hvcall_ipi_ex(&c, log);
        break;
    default:
    unknown:
        status = HV_STATUS_INVALID_HYPERCALL_CODE;
        break;
    }
    /* "output.rep_complete = input.rep_count" for a completed flush. */
    if (status == HV_STATUS_SUCCESS &&
        ((uint16_t)rcx == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE ||
         (uint16_t)rcx == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST ||
         (uint16_t)rcx == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX ||
         (uint16_t)rcx == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX))
        reps = HV_HYPERCALL_REP_COUNT(rcx);
    *rax = status | reps << HV_HYPERCALL_REP_COMP_SHIFT;
    return 0;
}

bool vmodel_hypercall_owns(const struct vmodel *m, uint64_t rax)
{
    return vkvm(m) || (rax & 0x80000000u);
}

int vmodel_hypercall(struct vmodel *m, uint32_t vcpu, uint64_t rcx, uint64_t rdx, uint64_t r8,
                     uint64_t *rax)
{
    return vmodel_hypercall_with(m, vcpu, rcx, rdx, r8, NULL, 0, rax);
}

const uint64_t *vmodel_hypercall_input(const struct vmodel *m, uint32_t *n)
{
    const struct vhcall_log *log = &m->hcall;
    *n = log->n;
    return log->read ? log->words : NULL;
}
