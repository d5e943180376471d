/* MOV to CR4, executed by vsbox: QEMU 5 accepts any bit its translator knows, while a
 * CPU (and Xen, for an HVM guest: hvm_cr4_guest_valid_bits) refuses with #GP(0) every
 * bit the guest's CPUID does not offer. The rest is Unicorn's: writing CR4 through it
 * updates the translation flags and flushes the TLB as the instruction would. */
#include "emu/internal.h"

enum {
    CR4_VME = 1u << 0, CR4_PVI = 1u << 1, CR4_TSD = 1u << 2, CR4_DE = 1u << 3,
    CR4_PSE = 1u << 4, CR4_PAE = 1u << 5, CR4_MCE = 1u << 6, CR4_PGE = 1u << 7,
    CR4_PCE = 1u << 8, CR4_OSFXSR = 1u << 9, CR4_OSXMMEXCPT = 1u << 10, CR4_UMIP = 1u << 11,
    CR4_VMXE = 1u << 13, CR4_SMXE = 1u << 14, CR4_FSGSBASE = 1u << 16, CR4_PCIDE = 1u << 17,
    CR4_OSXSAVE = 1u << 18, CR4_SMEP = 1u << 20, CR4_SMAP = 1u << 21, CR4_PKE = 1u << 22,
};

/* Which CR4 bits the guest's CPUID offers (the SDM's conditions for each bit). */
static uint64_t valid_bits(const struct emu *e)
{
    uint32_t l1[4], l7[4];
    cpuid_native(e, 1, 0, l1);
    cpuid_native(e, 7, 0, l7);
    uint64_t v = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE |
                 CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (l1[3] & (1u << 1))   /* VME */
        v |= CR4_VME | CR4_PVI;
    if (l1[2] & (1u << 5))
        v |= CR4_VMXE;
    if (l1[2] & (1u << 6))
        v |= CR4_SMXE;
    if (l1[2] & (1u << 17))
        v |= CR4_PCIDE;
    if (l1[2] & (1u << 26))
        v |= CR4_OSXSAVE;
    if (l7[1] & (1u << 0))
        v |= CR4_FSGSBASE;
    if (l7[1] & (1u << 7))
        v |= CR4_SMEP;
    if (l7[1] & (1u << 20))
        v |= CR4_SMAP;
    if (l7[2] & (1u << 2))
        v |= CR4_UMIP;
    if (l7[2] & (1u << 3))
        v |= CR4_PKE;
    return v;
}

static int gpr_id(unsigned n)
{
    static const int r[16] = {
        UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
        UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
        UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
        UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
    };
    return r[n & 15];
}

void crwrite_cr4(struct emu *e, uint64_t rip)
{
    cpustate_load(&e->cpu, e->uc);
    bool long_mode = cpustate_mode(&e->cpu) == MODE_LONG64;
    uint64_t la = cpustate_code_la(&e->cpu, rip);
    size_t n = site_avail(e, la), i = 0;
    const uint8_t *p = site_code(e, la, n);
    uint8_t rex = 0;
    for (; p && i < n; i++) {
        if (x86_legacy_prefix(p[i]))
            rex = 0;
        else if (long_mode && (p[i] & 0xf0) == 0x40)
            rex = p[i];
        else
            break;
    }
    if (!p || i + 3 > n) {
        run_raise(e, 6, false, 0, rip, rip, EXC_CPU);
        return;
    }
    uint8_t modrm = p[i + 2];
    if (cpustate_cpl(&e->cpu) != 0) {
        run_raise(e, 13, true, 0, rip, rip, EXC_CPU);
        return;
    }
    uint64_t v = emu_reg(e, gpr_id((modrm & 7) | (rex & 1) << 3));
    if (!long_mode)
        v &= 0xffffffffu;
    /* Reserved bits; and in long mode PAE may not be cleared (SDM "MOV to/from CR") */
    if ((v & ~valid_bits(e)) || (cpustate_long_mode(&e->cpu) && !(v & CR4_PAE))) {
        run_raise(e, 13, true, 0, rip, rip, EXC_CPU);
        return;
    }
    emu_set_reg(e, UC_X86_REG_CR4, v);
    emu_set_reg(e, UC_X86_REG_RIP, rip + i + 3);
}
