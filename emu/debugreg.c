/* The debug registers. Unicorn 2.0.1 crashes in its own generated code once a guest arms
 * an execute breakpoint in DR7 (found by fuzz_emu), so vsbox never lets Unicorn run a
 * MOV to or from DRn: the translation guard refuses them (guard.c) and they run here,
 * against registers vsbox keeps, with the checks a CPU makes (Intel SDM vol. 2, "MOV --
 * Move to/from Debug Registers"; vol. 3, 18.2). The registers are storage only: no
 * breakpoint or watchpoint ever raises #DB. DR7.GD (general detect) does, because it
 * is about these instructions themselves, and single-stepping does (Unicorn's own). */
#include "emu/internal.h"

enum {
    DR6_FIXED1 = 0xffff0ff0u,  /* reserved bits that read as 1 */
    DR6_BITS = 0x0000e00fu,    /* B0-B3, BD, BS, BT */
    DR6_BD = 1u << 13,
    DR7_FIXED1 = 0x400u,
    DR7_RESERVED0 = 0xd800u,   /* bits 11, 12, 14, 15 (no RTM) read as 0 */
    DR7_GD = 1u << 13,
    CR4_DE = 1u << 3,
};

void debugreg_reset(struct emu *e)
{
    for (int i = 0; i < 8; i++)
        e->dr[i] = 0;
    e->dr[6] = DR6_FIXED1;
    e->dr[7] = DR7_FIXED1;
}

/* In 64-bit mode DR0-DR3 hold 64 bits; otherwise, and DR6/DR7 always, 32. */
static bool wide(struct emu *e)
{
    cpustate_load(&e->cpu, e->uc);
    return cpustate_mode(&e->cpu) == MODE_LONG64;
}

void debugreg_set(struct emu *e, unsigned n, uint64_t v)
{
    if (n >= 6 || !wide(e))
        v &= 0xffffffffu;
    if (n == 6)
        v = (v & DR6_BITS) | DR6_FIXED1;
    else if (n == 7)
        v = (v & ~(uint64_t)DR7_RESERVED0) | DR7_FIXED1;
    e->dr[n & 7] = v;
    if (n == 6) {
        uint64_t clear = DR6_FIXED1;
        uc_reg_write(e->uc, UC_X86_REG_DR6, &clear);
    }
}

/* Unicorn still raises the #DB of single-stepping (EFLAGS.TF) and of INT1, and sets
 * their status bits (BS...) in its own DR6: the guest sees them in DR6 too. */
uint64_t debugreg_get(struct emu *e, unsigned n)
{
    n &= 7;
    if (n == 6)
        return e->dr[6] | (emu_reg(e, UC_X86_REG_DR6) & DR6_BITS);
    return e->dr[n];
}

/* The general register a ModRM r/m (with REX.B) names, in the width of the mode. */
static int gpr(bool long_mode, unsigned n)
{
    static const int r64[16] = {
        UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
        UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
        UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
        UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
    };
    static const int r32[8] = {
        UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
        UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI,
    };
    return long_mode ? r64[n & 15] : r32[n & 7];
}

static void dr_raise(struct emu *e, unsigned vector, bool has_error, uint64_t rip)
{
    run_raise(e, vector, has_error, 0, rip, rip, EXC_CPU);
}

void debugreg_execute(struct emu *e, uint64_t rip)
{
    bool long_mode = wide(e);
    uint64_t la = cpustate_code_la(&e->cpu, rip);   /* wide() loaded the state */
    size_t n = site_avail(e, la), i = 0;
    const uint8_t *p = site_code(e, la, n);
    if (!p) {
        dr_raise(e, 14, true, rip);
        return;
    }
    uint8_t rex = 0;
    /* REX counts only right before the opcode; a legacy prefix after it cancels it. */
    for (; i < n; i++) {
        if (x86_legacy_prefix(p[i]))
            rex = 0;
        else if (long_mode && (p[i] & 0xf0) == 0x40)
            rex = p[i];
        else
            break;
    }
    if (i + 3 > n) { /* the guard saw 0F 21/23; only the ModRM can be past the end of RAM */
        emu_set_reg(e, UC_X86_REG_CR2, rip + n);
        run_raise(e, 14, true, 0x10, rip, rip, EXC_CPU);
        return;
    }
    bool to_dr = p[i + 1] == 0x23;
    uint8_t modrm = p[i + 2];
    unsigned dr = (modrm >> 3) & 7, r = (modrm & 7) | (rex & 1) << 3;
    uint64_t len = i + 3;

    if (cpustate_cpl(&e->cpu) != 0) {
        dr_raise(e, 13, true, rip);
        return;
    }
    if (rex & 4) { /* DR8-DR15 do not exist */
        dr_raise(e, 6, false, rip);
        return;
    }
    if (dr == 4 || dr == 5) {
        if (emu_reg(e, UC_X86_REG_CR4) & CR4_DE) {
            dr_raise(e, 6, false, rip);
            return;
        }
        dr += 2; /* without CR4.DE, DR4 and DR5 are DR6 and DR7 */
    }
    if (e->dr[7] & DR7_GD) {
        /* General detect: a fault before the access, which clears GD for the handler. */
        debugreg_set(e, 6, debugreg_get(e, 6) | DR6_BD);
        e->dr[7] &= ~(uint64_t)DR7_GD;
        dr_raise(e, 1, false, rip);
        return;
    }
    uint64_t width = long_mode ? UINT64_MAX : 0xffffffffu;
    if (to_dr) {
        uint64_t v = emu_reg(e, gpr(long_mode, r)) & width;
        if ((dr == 6 || dr == 7) && v >> 32) {
            dr_raise(e, 13, true, rip);
            return;
        }
        debugreg_set(e, dr, v);
    } else {
        uint64_t v = debugreg_get(e, dr) & width;
        uc_reg_write(e->uc, gpr(long_mode, r), &v);
    }
    emu_set_reg(e, UC_X86_REG_RIP, rip + len);
}
