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

int vhypercall_page_write_xen(struct vmodel *m, uint64_t val)
{
    if (val & (VHYPERCALL_PAGE_SIZE - 1))
        return -1;
    if (!m->mem.write || !m->mem.read)
        return -1;
    uint8_t probe;
    if (m->mem.read(m->mem.ctx, val, &probe, 1) ||
        m->mem.read(m->mem.ctx, val + VHYPERCALL_PAGE_SIZE - 1, &probe, 1))
        return -1;
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

/* viridian_hypercall(), 64-bit mode: RCX is the input value, RDX/R8 the parameter
 * GPAs. Xen 4.5 knows one call, HvNotifyLongSpinWait (it yields the vCPU). */
int vmodel_hypercall(struct vmodel *m, uint32_t vcpu, uint64_t rcx, uint64_t rdx, uint64_t r8,
                     uint64_t *rax)
{
    (void)vcpu;
    (void)rdx;
    (void)r8;
    /* Without viridian there is no hypercall page and VMCALL from the guest is not a
     * viridian call: vsbox reports #UD, what the guest sees on hardware without it. */
    if (!viridian_enabled(m))
        return -1;
    uint16_t code = (uint16_t)rcx;
    uint16_t status = code == HvNotifyLongSpinWait ? HV_STATUS_SUCCESS
                                                   : HV_STATUS_INVALID_HYPERCALL_CODE;
    *rax = status; /* rep_complete stays 0: Xen 4.5 has no rep hypercalls */
    return 0;
}
