/* Trap sites by substitution. Unicorn 2.0.1 can hook neither RDMSR, WRMSR, RDTSC(P)
 * nor VMCALL, and its exact-address code hooks cost every translated instruction a scan
 * of all of them (quadratic in the number of sites). But it hooks SYSCALL natively, with
 * RIP exact, and ends the translation block after it. So while the translator reads a
 * trap instruction, the guard (guard.c) lets it read a SYSCALL of the same length
 * instead:
 *     [prefixes] 0F 30/31/32/A2     ->  [prefixes] 0F 05
 *     [prefixes] 0F 01 F9/C1/D9     ->  [prefixes] 3E 0F 05
 *     [prefixes] E4-E7 ib (IN, OUT)  ->  [prefixes] 0F 05
 * and HLT, INT1 and IN/OUT through DX (one byte) read as INT3, which Unicorn hands to its
 * interrupt hook with RIP just past it. (String I/O, INS and OUTS, stays Unicorn's: it
 * calls its IN/OUT hooks per element.) The original bytes go back into RAM before the translated code
 * runs (at the translator's next fetch, or when the block is complete), so the guest
 * never sees the substitute, and when the hook runs the bytes at RIP say what the
 * instruction really was. Every site costs O(1) to set up and is found wherever the
 * code is reached: handlers, self-modified code, restarts. */
#include <string.h>
#include "emu/icount.h"
#include "emu/internal.h"
#include "emu/mmu.h"
#include "emu/phys.h"

/* Where the opcode starts: past the legacy prefixes, and REX in 64-bit code (40-4F are
 * instructions elsewhere); *opsize says whether 66 was among them. */
static size_t skip_prefixes(const uint8_t *p, size_t n, enum cpu_mode mode, bool *opsize)
{
    size_t i = 0;
    *opsize = false;
    for (; i < n && (x86_legacy_prefix(p[i]) || (mode == MODE_LONG64 && (p[i] & 0xf0) == 0x40)); i++)
        *opsize |= p[i] == 0x66;
    return i;
}

struct site site_decode(const uint8_t *p, size_t n, enum cpu_mode mode)
{
    struct site s = { SITE_NONE, 0, 0, 0, -1 };
    if (n > 15)
        n = 15;
    bool opsize;
    size_t i = skip_prefixes(p, n, mode, &opsize);
    bool code16 = cpu_mode_16bit(mode);   /* words by default, and 66 makes them dwords */
    if (i >= n)
        return s;
    s.op = (uint8_t)i;
    if (p[i] == 0xf4 || p[i] == 0xf1) {
        s.kind = p[i] == 0xf4 ? SITE_HLT : SITE_ICEBP;
        s.len = (uint8_t)(i + 1);
        return s;
    }
    if ((p[i] & 0xf4) == 0xe4) {   /* E4-E7, EC-EF */
        bool dx = p[i] & 0x08;
        if (!dx && i + 1 >= n)
            return s;
        s.kind = (p[i] & 2) ? SITE_OUT : SITE_IN;
        s.width = (p[i] & 1) ? (opsize != code16 ? 2 : 4) : 1;
        s.port = dx ? -1 : p[i + 1];
        s.len = (uint8_t)(i + (dx ? 1 : 2));
        return s;
    }
    if (p[i] != 0x0f || i + 1 >= n)
        return s;
    switch (p[i + 1]) {
    case 0x30: s.kind = SITE_WRMSR; break;
    case 0x31: s.kind = SITE_RDTSC; break;
    case 0x32: s.kind = SITE_RDMSR; break;
    case 0xa2: s.kind = SITE_CPUID; break;
    case 0x05: s.kind = SITE_SYSCALL; break;
    case 0x34: s.kind = SITE_SYSENTER; break;
    case 0x01:
        if (i + 2 >= n)
            return s;
        s.kind = p[i + 2] == 0xf9 ? SITE_RDTSCP : p[i + 2] == 0xc1 ? SITE_VMCALL
               : p[i + 2] == 0xd9 ? SITE_VMMCALL : SITE_NONE;
        s.len = (uint8_t)(i + 3);
        return s;
    default:
        return s;
    }
    s.len = (uint8_t)(i + 2);
    return s;
}

void site_restore(struct emu *e)
{
    for (uint32_t i = 0; i < e->n_patch; i++)
        memcpy(e->patch[i].at, e->patch[i].orig, e->patch[i].len);
    e->n_patch = 0;
}

void site_patch(struct emu *e, uint8_t *p, const struct site *s)
{
    static const uint8_t syscall2[2] = { 0x0f, 0x05 }, syscall3[3] = { 0x3e, 0x0f, 0x05 },
                         int3[1] = { 0xcc };
    const uint8_t *sub;
    uint8_t len;
    switch (s->kind) {
    case SITE_HLT:
    case SITE_ICEBP:
        sub = int3, len = 1;
        break;
    case SITE_IN:
    case SITE_OUT:
        if (s->port < 0)
            sub = int3, len = 1;
        else
            sub = syscall2, len = 2;
        break;
    case SITE_RDTSCP:
    case SITE_VMCALL:
    case SITE_VMMCALL:
        sub = syscall3, len = 3;
        break;
    case SITE_RDMSR:
    case SITE_WRMSR:
    case SITE_RDTSC:
    case SITE_CPUID:
    case SITE_SYSENTER:
        sub = syscall2, len = 2;
        break;
    default:
        return;
    }
    if (e->n_patch == SITE_MAX_PATCHES)
        return;  /* cannot happen: a block has at most 512 instructions */
    struct site_patch *sp = &e->patch[e->n_patch++];
    sp->at = p + s->op;
    sp->len = len;
    memcpy(sp->orig, sp->at, len);
    memcpy(sp->at, sub, len);
}

void site_note_length(struct emu *e, const uint8_t *p, size_t n, uint64_t la, size_t len)
{
    /* Prefixes as the block's mode reads them (40-4F are INC/DEC outside 64-bit code),
     * and only the instruction's own bytes. */
    bool opsize;
    size_t i = skip_prefixes(p, n < len ? n : len, e->guard_mode, &opsize);
    if (i < n && i < len && (p[i] == 0xcc || p[i] == 0xcd || p[i] == 0xce || p[i] == 0xf1 || p[i] == 0xf4 ||
                  (p[i] & 0xfc) == 0xec))
        icount_put(&e->int_len, la + len, (uint32_t)len);
}

uint8_t *site_code(struct emu *e, uint64_t la, size_t n)
{
    if (la < e->ram_size)
        return la + n <= e->ram_size ? e->ram + la : NULL;
    /* Past RAM Unicorn reads code through the device callback, which follows the page
     * tables (machine.c): so does this, when the bytes sit in one page. */
    struct mmu m;
    struct mmu_fault f;
    uint64_t pa;
    if ((la & 4095) + n > 4096)
        return NULL;
    mmu_load(e, &m);
    if (mmu_walk(e, &m, la, MMU_FETCH, MMU_SUPERVISOR, false, &pa, &f))
        return NULL;
    return phys_ram(e, pa, n);
}

/* Where the code at ip is, and its mode. Flat code needs no look at the CPU: while every
 * block the guard translated had CS base 0 and 32- or 64-bit operands (guard.c sets
 * odd_code otherwise), the one that trapped had too, and a site decodes as in 64-bit
 * code (REX cannot precede a site in 32-bit code: 40-4F are instructions there). */
static uint64_t code_at(struct emu *e, uint64_t ip, enum cpu_mode *mode)
{
    *mode = MODE_LONG64;
    if (!e->odd_code)
        return ip;
    cpustate_load_prefix(&e->paging, e->uc);
    *mode = cpustate_mode(&e->paging);
    return cpustate_code_la(&e->paging, ip);
}

uint64_t site_code_la(struct emu *e, uint64_t ip)
{
    enum cpu_mode mode;
    return code_at(e, ip, &mode);
}

size_t site_avail(const struct emu *e, uint64_t la)
{
    if (la >= e->ram_size)
        return 15;
    return e->ram_size - la < 15 ? (size_t)(e->ram_size - la) : 15;
}

/* The SYSCALL every substituted site became: the bytes at RIP say what it was. */
static void on_syscall(uc_engine *uc, void *user)
{
    struct emu *e = user;
    (void)uc;
    struct trap_regs r;
    trap_regs_read(e, &r);
    uint64_t rip = r.rip;
    site_restore(e);
    enum cpu_mode mode;
    uint64_t la = code_at(e, rip, &mode);
    size_t n = site_avail(e, la);
    const uint8_t *p = site_code(e, la, n);
    struct site s = p ? site_decode(p, n, mode) : (struct site){ SITE_NONE, 0, 0, 0, -1 };
    if (s.kind == SITE_NONE || s.kind == SITE_HLT || s.kind == SITE_ICEBP ||
        ((s.kind == SITE_IN || s.kind == SITE_OUT) && s.port < 0)) {
        /* A SYSCALL where RAM holds none and no site was substituted: the guest's code
         * changed under a translation, which Unicorn prevents. Stop rather than guess. */
        deliver_report(e, "a trap site whose bytes changed under its translation", rip, NULL);
        run_finish(e, EMU_CRASHED);
        return;
    }
    if (e->stop) {
        /* Stopping already (the rest of a block runs after a stop request): this
         * instruction has not happened; it runs when the guest is resumed. */
        e->rip_fix = true;
        e->rip_fix_to = rip;
        return;
    }
    trap_site(e, &s, &r);
}

/* The length of the software interrupt (INT n, INT3, INTO) or substituted HLT/INT1
 * that ends at linear address la, prefixes included, as the guard measured it. */
static uint64_t soft_int_len(struct emu *e, uint64_t la, unsigned vector)
{
    uint32_t len = icount_get(&e->int_len, la);
    if (len)
        return len;
    const uint8_t *p = la >= 2 ? site_code(e, la - 2, 2) : NULL;
    return p && p[0] == 0xcd && p[1] == vector ? 2 : 1;
}

/* RCL or RCR with a memory operand (C0, C1, D0-D3 /2 or /3, mod not 3). QEMU 5's
 * translator evaluates the lazy flags into CC_SRC at the start of these, before the
 * access; when the access faults it puts CC_OP back to the operation the flags came
 * from, but not the operands CC_SRC held, so the flags the fault sees are garbage (a
 * fuzz finding; QEMU 7.2 still does it). CC_SRC holds them right: they only need
 * CC_OP_EFLAGS (tests/images/rotc_fault_flags.asm). */
static bool rotc_mem(const uint8_t *p, size_t n, enum cpu_mode mode)
{
    bool opsize;
    size_t i = skip_prefixes(p, n, mode, &opsize);
    if (i + 1 >= n || (p[i] != 0xc0 && p[i] != 0xc1 && (p[i] & 0xfc) != 0xd0))
        return false;
    unsigned reg = (p[i + 1] >> 3) & 7;
    return (reg == 2 || reg == 3) && (p[i + 1] >> 6) != 3;
}

/* Every exception QEMU raises comes here with its vector only; the rest of it (error
 * code, software or not) is in the CPU state. vsbox delivers it once Unicorn stops. */
static void on_interrupt(uc_engine *uc, uint32_t intno, void *user)
{
    struct emu *e = user;
    (void)uc;
    uint64_t rip = emu_reg(e, UC_X86_REG_RIP);
    site_restore(e);
    cpustate_load(&e->cpu, e->uc);
    bool is_int = cpustate_exception_is_int(&e->cpu);
    uint64_t la = cpustate_code_la(&e->cpu, rip);   /* where the code is (CS base + RIP) */
    if (!is_int && (intno == 12 || intno == 13 || intno == 14 || intno == 17)) {
        /* a fault of a memory access: inside RCL/RCR, QEMU's flags need mending */
        size_t n = site_avail(e, la);
        const uint8_t *p = site_code(e, la, n);
        if (p && rotc_mem(p, n, cpustate_mode(&e->cpu))) {
            cpustate_flags_evaluated(&e->cpu);
            cpustate_store(&e->cpu, e->uc);
        }
    }
    if (is_int && intno == 3) {
        /* INT3 where HLT or INT1 was substituted (RIP is past the one byte) */
        const uint8_t *p = la >= 1 ? site_code(e, la - 1, 1) : NULL;
        if (p && (*p == 0xf4 || *p == 0xf1 || (*p & 0xf4) == 0xe4)) {
            /* HLT, INT1 or IN/OUT through DX, substituted: decode it where it starts */
            uint64_t len = soft_int_len(e, la, 0);
            const uint8_t *start = site_code(e, la - len, len);
            struct site s = start ? site_decode(start, len, cpustate_mode(&e->cpu))
                                  : (struct site){ SITE_NONE, 0, 0, 0, -1 };
            if (e->stop) {
                e->rip_fix = true;
                e->rip_fix_to = rip - len;
                return;
            }
            struct trap_regs r;
            trap_regs_read(e, &r);
            r.rip = rip - len;
            trap_site(e, &s, &r);
            return;
        }
    }
    if (e->stop) {
        /* A fault re-faults when the guest resumes; a software interrupt must run again */
        if (is_int) {
            e->rip_fix = true;
            e->rip_fix_to = rip - soft_int_len(e, la, intno);
        }
        return;
    }
    bool has_error = !is_int && (intno == 8 || (intno >= 10 && intno <= 14) || intno == 17 ||
                                 intno == 21);
    /* QEMU raises #GP for every non-canonical address; through SS the CPU raises #SS. */
    if (intno == 13 && !is_int && cpustate_error_code(&e->cpu) == 0 &&
        cpustate_mode(&e->cpu) == MODE_LONG64 && decode_stack_fault(e, rip))
        intno = 12;
    run_raise(e, intno, has_error, has_error ? cpustate_error_code(&e->cpu) : 0, rip,
              is_int ? rip - soft_int_len(e, la, intno) : rip, is_int ? EXC_SOFT : EXC_CPU);
}

/* #UD: Unicorn stops after this hook whatever it answers, with RIP at the instruction. */
static bool on_invalid(uc_engine *uc, void *user)
{
    struct emu *e = user;
    (void)uc;
    site_restore(e);
    uint64_t rip = emu_reg(e, UC_X86_REG_RIP);
    if (!e->stop)
        run_raise(e, 6, false, 0, rip, rip, EXC_CPU);
    return true;
}

int site_install(struct emu *e, char *err, size_t errlen)
{
    uc_hook h;
    uc_err r = uc_hook_add(e->uc, &h, UC_HOOK_INSN, (void *)on_syscall, e, 1, 0,
                           UC_X86_INS_SYSCALL);
    r = r ? r : uc_hook_add(e->uc, &h, UC_HOOK_INTR, (void *)on_interrupt, e, 1, 0);
    r = r ? r : uc_hook_add(e->uc, &h, UC_HOOK_INSN_INVALID, (void *)on_invalid, e, 1, 0);
    if (r) {
        snprintf(err, errlen, "Unicorn refused a trap hook: %s", uc_strerror(r));
        return -1;
    }
    return 0;
}
