/* SYSCALL, which Unicorn 2.0.1 hands to a hook and never performs (its hook replaces
 * QEMU's helper). vsbox's CPU is QEMU's qemu64, an AMD model, so SYSCALL works in every
 * protected mode, as AMD's APM (vol. 3, SYSCALL) describes it: the hook saves the return
 * state and masks the flags, and the run loop, where RIP may be written, moves to the
 * entry point with the STAR selectors loaded as the flat segments the CPU assumes.
 * The single-step rule XSA-204 is about (SYSCALL traps with the TF it leaves, not the
 * one it found) then falls out: QEMU rechecks TF after the helper, and vsbox raises the
 * #DB at the entry point itself. */
#include "emu/internal.h"

enum { EFER_SCE = 1u, EFLAGS_TF = 1u << 8, EFLAGS_IF = 1u << 9, EFLAGS_RF = 1u << 16,
       EFLAGS_VM = 1u << 17 };
enum { MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082,
       MSR_CSTAR = 0xc0000083, MSR_FMASK = 0xc0000084 };

static uint64_t msr(struct emu *e, uint32_t n)
{
    uc_x86_msr m = { n, 0 };
    uc_reg_read(e->uc, UC_X86_REG_MSR, &m);
    return m.value;
}

void syscall_trap(struct emu *e, uint64_t rip, unsigned len)
{
    if (!(msr(e, MSR_EFER) & EFER_SCE)) {
        run_raise(e, 6, false, 0, rip, rip, EXC_CPU);
        return;
    }
    cpustate_load(&e->cpu, e->uc);
    enum cpu_mode mode = cpustate_mode(&e->cpu);
    if (mode == MODE_REAL || mode == MODE_VM86) {
        run_raise(e, 6, false, 0, rip, rip, EXC_CPU);
        return;
    }
    uint64_t star = msr(e, MSR_STAR), flags = emu_reg(e, UC_X86_REG_EFLAGS), next = rip + len;
    bool lma = cpustate_long_mode(&e->cpu);
    uint64_t to, new_flags;
    if (lma) {
        emu_set_reg(e, UC_X86_REG_RCX, next);
        emu_set_reg(e, UC_X86_REG_R11, flags & ~(uint64_t)EFLAGS_RF);
        to = msr(e, mode == MODE_LONG64 ? MSR_LSTAR : MSR_CSTAR);
        new_flags = flags & ~msr(e, MSR_FMASK) & ~(uint64_t)EFLAGS_RF;
    } else {
        emu_set_reg(e, UC_X86_REG_RCX, (uint32_t)next);
        to = (uint32_t)star;
        new_flags = flags & ~(uint64_t)(EFLAGS_VM | EFLAGS_IF | EFLAGS_RF);
    }
    /* TF as SYSCALL leaves it is vsbox's to act on (below), not QEMU's. */
    emu_set_reg(e, UC_X86_REG_EFLAGS, new_flags & ~(uint64_t)EFLAGS_TF);
    e->syscall.pending = true;
    e->syscall.rip = to;
    e->syscall.sel = (uint16_t)(star >> 32);
    e->syscall.long_mode = lma;
    e->syscall.tf = (new_flags & EFLAGS_TF) != 0;
    run_stop(e);
}

/* SYSENTER, which Unicorn 2.0.1 turns into a jump past itself from wherever QEMU last
 * synced RIP (its translator calls the hook-only helper without syncing it), so the
 * guard substitutes it like the other trap sites and vsbox performs it (SDM vol. 2,
 * SYSENTER; AMD's legacy mode): #GP(0) in real mode or with IA32_SYSENTER_CS[15:2]
 * clear; #UD in long mode, where AMD's CPUs (qemu64) have none; otherwise CPL 0 at
 * IA32_SYSENTER_EIP on IA32_SYSENTER_ESP, with CS from the MSR and SS after it as the
 * flat segments the CPU assumes (syscall_finish), and VM, IF and RF cleared. TF stays,
 * and traps at the entry point as after SYSCALL. */
void sysenter_trap(struct emu *e, uint64_t rip)
{
    enum { MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176 };
    cpustate_load(&e->cpu, e->uc);
    if (cpustate_long_mode(&e->cpu)) {
        run_raise(e, 6, false, 0, rip, rip, EXC_CPU);
        return;
    }
    uint64_t cs = msr(e, MSR_SYSENTER_CS);
    if (cpustate_mode(&e->cpu) == MODE_REAL || (cs & 0xfffc) == 0) {
        run_raise(e, 13, true, 0, rip, rip, EXC_CPU);
        return;
    }
    uint64_t flags = emu_reg(e, UC_X86_REG_EFLAGS);
    emu_set_reg(e, UC_X86_REG_RSP, (uint32_t)msr(e, MSR_SYSENTER_ESP));
    emu_set_reg(e, UC_X86_REG_EFLAGS,
                flags & ~(uint64_t)(EFLAGS_VM | EFLAGS_IF | EFLAGS_RF | EFLAGS_TF));
    e->syscall.pending = true;
    e->syscall.rip = (uint32_t)msr(e, MSR_SYSENTER_EIP);
    e->syscall.sel = (uint16_t)cs;
    e->syscall.long_mode = false;
    e->syscall.tf = (flags & EFLAGS_TF) != 0;
    run_stop(e);
}

/* QEMU's qemu64 model has no SYSCALL feature bit, so its WRMSR drops EFER.SCE (and its
 * SYSRET would then be #UD). vsbox's CPU has SYSCALL: a write of EFER sets SCE in the
 * CPU state directly, once the run has stopped (the WRMSR ends its block). */
void syscall_efer_written(struct emu *e, uint64_t value)
{
    e->syscall.sce = (value & EFER_SCE) != 0;
    e->syscall.sce_pending = true;
    run_stop(e);
}

bool syscall_finish(struct emu *e)
{
    if (e->syscall.sce_pending) {
        e->syscall.sce_pending = false;
        cpustate_load(&e->cpu, e->uc);
        uint64_t efer = cpustate_efer(&e->cpu);
        cpustate_set_efer(&e->cpu, e->syscall.sce ? efer | EFER_SCE : efer & ~(uint64_t)EFER_SCE);
        cpustate_store(&e->cpu, e->uc);
    }
    if (!e->syscall.pending)
        return false;
    struct syscall_entry s = e->syscall;
    e->syscall.pending = false;
    cpustate_load(&e->cpu, e->uc);
    /* CS and SS from STAR[47:32], flat, DPL 0: 64-bit code in long mode, else 32-bit. */
    uint32_t code = s.long_mode ? 0x00a09b00u : 0x00c09b00u;
    cpustate_set_seg(&e->cpu, SEG_CS, (struct segcache){ (uint16_t)(s.sel & 0xfffc), 0,
                                                         0xffffffffu, code });
    cpustate_set_seg(&e->cpu, SEG_SS, (struct segcache){ (uint16_t)((s.sel + 8) & 0xfffc), 0,
                                                         0xffffffffu, 0x00c09300u });
    cpustate_store(&e->cpu, e->uc);
    emu_set_reg(e, UC_X86_REG_RIP, s.rip);
    if (s.tf) {
        /* The single-step trap after SYSCALL, at its entry point (DR6.BS). */
        emu_set_reg(e, UC_X86_REG_EFLAGS, emu_reg(e, UC_X86_REG_EFLAGS) | EFLAGS_TF);
        debugreg_set(e, 6, debugreg_get(e, 6) | (1u << 14));
        run_raise(e, 1, false, 0, s.rip, s.rip, EXC_CPU);
    }
    return true;
}
