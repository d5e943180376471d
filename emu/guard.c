/* The translation guard. Unicorn 2.0.1 aborts the whole process ("tcg fatal error")
 * when it translates certain invalid instructions that real CPUs answer with #UD:
 *   - a far CALL or JMP through a register (FF /3, FF /5 with mod = 3), fixed in Unicorn
 *     2.1.0 (its commit a7a5d187, QEMU's 10b8eb94);
 *   - LOCK on CMP with a memory operand, on CMPS, and on the register forms of BT, BTS,
 *     BTR and BTC.
 * A survey of every one-byte, 0F, 0F38 and 0F3A opcode with each ModRM reg field, in
 * register and memory form, with no prefix, 66, F2, F3 and F0, found no others
 * (docs/emulator.md; tests/test_guard.c repeats it against this file's rule).
 *
 * The rule refused here is the architectural one, so it needs no list of Unicorn's
 * failures: FF /3 and FF /5 need a memory operand, and LOCK is allowed only on the
 * lockable instructions with a memory destination (Intel SDM vol. 2, "LOCK"); the CPU
 * raises #UD for everything else.
 *
 * One instruction Unicorn translates but cannot run is refused too: MOV to a debug
 * register that arms an execute breakpoint crashes it. MOV to and from DRn are all
 * handed to vsbox (debugreg.c), which cannot know the value at translation time.
 *
 * Unicorn offers no hook before translation, except one: a fetch from memory without
 * UC_PROT_EXEC calls UC_HOOK_MEM_FETCH_PROT for every byte the translator reads, and
 * only then (translated blocks run without it). So no guest memory is mapped
 * executable, and this hook follows the translator from instruction to instruction.
 * At each instruction it
 *   - refuses a forbidden one: the run loop then runs the guest up to that address and
 *     delivers the #UD, or executes the instruction itself (run.c);
 *   - substitutes trap instructions so that Unicorn hands them to vsbox (site.c);
 *   - refuses the first instruction of a page that holds only zeros: a guest that ran
 *     off its code would otherwise slide through empty RAM (00 00 is ADD [RAX], AL);
 *   - refuses code whose page tables map it somewhere else: Unicorn 2.0.1 would run
 *     the bytes at the virtual address instead (mmu.c);
 *   - counts the block's instructions, for a --budget in instructions. */
#include <string.h>
#include "emu/icount.h"
#include "emu/internal.h"
#include "emu/mmu.h"
#include "emu/phys.h"

enum { LEGACY_MAP = 1, MAP_0F = 2, MAP_0F38 = 3 };

/* The instructions LOCK may prefix, with the ModRM reg fields that may take it. They
 * need a memory operand, except MOV to and from CR: F0 0F 22 is AMD's encoding of
 * CR8 in 32-bit code, which Unicorn implements, so it is left to Unicorn. */
static const struct lockable {
    uint8_t map, op, regs;  /* regs: bit n set when ModRM.reg = n may be locked */
    bool any_mod;
} lockable[] = {
    { LEGACY_MAP, 0x00, 0xff, false }, { LEGACY_MAP, 0x01, 0xff, false }, /* ADD */
    { LEGACY_MAP, 0x08, 0xff, false }, { LEGACY_MAP, 0x09, 0xff, false }, /* OR */
    { LEGACY_MAP, 0x10, 0xff, false }, { LEGACY_MAP, 0x11, 0xff, false }, /* ADC */
    { LEGACY_MAP, 0x18, 0xff, false }, { LEGACY_MAP, 0x19, 0xff, false }, /* SBB */
    { LEGACY_MAP, 0x20, 0xff, false }, { LEGACY_MAP, 0x21, 0xff, false }, /* AND */
    { LEGACY_MAP, 0x28, 0xff, false }, { LEGACY_MAP, 0x29, 0xff, false }, /* SUB */
    { LEGACY_MAP, 0x30, 0xff, false }, { LEGACY_MAP, 0x31, 0xff, false }, /* XOR */
    { LEGACY_MAP, 0x80, 0x7f, false }, { LEGACY_MAP, 0x81, 0x7f, false }, /* group 1, not CMP */
    { LEGACY_MAP, 0x82, 0x7f, false }, { LEGACY_MAP, 0x83, 0x7f, false },
    { LEGACY_MAP, 0x86, 0xff, false }, { LEGACY_MAP, 0x87, 0xff, false }, /* XCHG */
    { LEGACY_MAP, 0xf6, 0x0c, false }, { LEGACY_MAP, 0xf7, 0x0c, false }, /* NOT, NEG */
    { LEGACY_MAP, 0xfe, 0x03, false }, { LEGACY_MAP, 0xff, 0x03, false }, /* INC, DEC */
    { MAP_0F, 0xab, 0xff, false }, { MAP_0F, 0xb3, 0xff, false },         /* BTS, BTR */
    { MAP_0F, 0xbb, 0xff, false }, { MAP_0F, 0xba, 0xe0, false },         /* BTC; group 8 */
    { MAP_0F, 0xb0, 0xff, false }, { MAP_0F, 0xb1, 0xff, false },         /* CMPXCHG */
    { MAP_0F, 0xc0, 0xff, false }, { MAP_0F, 0xc1, 0xff, false },         /* XADD */
    { MAP_0F, 0xc7, 0x02, false },                                        /* CMPXCHG8B/16B */
    { MAP_0F, 0x20, 0xff, true },  { MAP_0F, 0x22, 0xff, true },          /* MOV CR */
};

static bool lock_allowed(unsigned map, uint8_t op, uint8_t modrm)
{
    for (size_t i = 0; i < sizeof lockable / sizeof lockable[0]; i++) {
        const struct lockable *l = &lockable[i];
        if (l->map == map && l->op == op)
            return (l->regs >> ((modrm >> 3) & 7) & 1) && (l->any_mod || modrm >> 6 != 3);
    }
    return false;
}

/* Legacy prefixes, and REX in long mode, come before the opcode in any number. */
static bool prefix(uint8_t b, bool long_mode)
{
    return x86_legacy_prefix(b) || (long_mode && (b & 0xf0) == 0x40);
}

enum guard_verdict guard_check(const uint8_t *p, size_t n, bool long_mode)
{
    size_t i = 0;
    bool lock = false;
    if (n > 15)
        n = 15;           /* the architectural limit; the translator gives up there too */
    for (; i < n && prefix(p[i], long_mode); i++)
        lock |= p[i] == 0xf0;
    unsigned map = LEGACY_MAP;
    if (i < n && p[i] == 0x0f) {
        map = MAP_0F;
        if (++i < n && (p[i] == 0x38 || p[i] == 0x3a)) {
            map = MAP_0F38;
            i++;
        }
    }
    if (i >= n)
        return GUARD_PASS; /* cut off by the end of RAM: Unicorn faults the fetch itself */
    /* A ModRM cut off by the end of RAM reads as a memory form: whether LOCK is allowed
     * then depends on the opcode alone, and a fetch fault comes before anything else. */
    uint8_t op = p[i], modrm = i + 1 < n ? p[i + 1] : 0, reg = (modrm >> 3) & 7;
    if (map == LEGACY_MAP && op == 0xff && modrm >> 6 == 3 && (reg == 3 || reg == 5))
        return GUARD_UD;
    if (lock && !lock_allowed(map, op, modrm))
        return GUARD_UD;
    /* MOV to or from a debug register: arming an execute breakpoint makes Unicorn 2.0.1
     * crash in its own generated code (found by fuzz_emu), so vsbox keeps the debug
     * registers itself (debugreg.c) and Unicorn never sees one. */
    if (map == MAP_0F && (op == 0x21 || op == 0x23))
        return GUARD_DEBUG_REG;
    /* MOV to CR4: QEMU 5 lets a guest set bits its CPUID does not offer (VMXE, UMIP...);
     * Xen refuses them with #GP, so vsbox executes it (crwrite.c). */
    if (map == MAP_0F && op == 0x22 && ((modrm >> 3) & 7) == 4 && i + 1 < n)
        return GUARD_CR4;
    return GUARD_PASS;
}

/* MMX and SSE instructions (QEMU's gen_sse entry: the 0F map at 10-17, 28-2F, 38, 3A,
 * 50-7F, C2-C6 and D0-FE), and whether they use XMM registers. */
static bool mmx_or_sse(const uint8_t *p, size_t n, bool long_mode, bool *xmm)
{
    size_t i = 0;
    bool mandatory = false;
    for (; i < n && prefix(p[i], long_mode); i++)
        mandatory |= p[i] == 0x66 || p[i] == 0xf2 || p[i] == 0xf3;
    if (i + 1 >= n || p[i] != 0x0f)
        return false;
    uint8_t b = p[i + 1];
    bool in = (b >= 0x10 && b <= 0x17) || (b >= 0x28 && b <= 0x2f) || b == 0x38 || b == 0x3a ||
              (b >= 0x50 && b <= 0x7f) || (b >= 0xc2 && b <= 0xc6) || (b >= 0xd0 && b <= 0xfe);
    *xmm = mandatory || b < 0x60 || b == 0xc2 || b == 0xc6;
    return in;
}

/* The SDM orders the checks of an MMX or SSE instruction as: CR0.EM, then (SSE)
 * CR4.OSFXSR, both #UD, before CR0.TS's #NM. QEMU 5 checks TS first, and Unicorn
 * keeps its OSFXSR translation flag set whatever CR4 says, so the guard raises these
 * #UDs itself. */
enum guard_verdict guard_fpu_order(const uint8_t *p, size_t n, bool long_mode, uint64_t cr0,
                                   uint64_t cr4)
{
    enum { CR0_EM = 1u << 2, CR0_TS = 1u << 3, CR4_OSFXSR = 1u << 9 };
    bool xmm;
    if (!mmx_or_sse(p, n, long_mode, &xmm))
        return GUARD_PASS;
    if (xmm && !(cr4 & CR4_OSFXSR))
        return GUARD_UD;
    return (cr0 & CR0_TS) && (cr0 & CR0_EM) ? GUARD_UD : GUARD_PASS;
}

/* The instruction's length, or 0 when Capstone 4 cannot decode it. Such bytes are no
 * instruction of Unicorn's CPU either (it implements nothing Capstone 4 does not know)
 * but QEMU 5 may still translate them as something else -- 8F /6 as a POP, where a CPU
 * raises #UD (or, on AMD, reads an XOP prefix) -- and then its idea of where the next
 * instruction starts is not the guard's: the guard raises the #UD a CPU raises. */
static size_t insn_length(csh cs, const uint8_t *code, size_t avail)
{
    size_t left = avail;
    uint64_t at = 0;
    const uint8_t *p = code;
    cs_insn *insn = cs_malloc(cs);
    size_t len = insn && cs_disasm_iter(cs, &p, &left, &at, insn) ? insn->size : 0;
    cs_free(insn, 1);
    return len;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    static const uint8_t zero[4096];
    return memcmp(p, zero, n) == 0;
}

/* Whether code at la can be fetched, as the CPU's fetch would find it: the page tables
 * allow it (else the CPU raises #PF), it maps to RAM at its own address (Unicorn 2.0.1
 * cannot run it anywhere else), and the page holds more than zeros. Once per page. */
static enum guard_verdict fetchable(struct emu *e, uint64_t la)
{
    uint64_t page = la & ~4095ull;
    if (page == e->guard_page)
        return GUARD_PASS;
    uint64_t pa = la;
    if (e->guard_paging) {
        struct mmu m;
        struct mmu_fault f;
        mmu_load(e, &m);
        if (mmu_walk(e, &m, la, MMU_FETCH, e->guard_cpl == 3 ? MMU_USER : MMU_SUPERVISOR,
                          false, &pa, &f))
            return GUARD_FAULT;
        if (la < e->ram_size && (pa & ~4095ull) != page)
            return GUARD_REMAPPED;
    }
    uint8_t *p = la < e->ram_size ? e->ram + page : phys_ram(e, pa & ~4095ull, 4096);
    if (!p)
        return GUARD_NO_RAM;
    if (all_zero(p, 4096))
        return GUARD_EMPTY;
    e->guard_page = page;
    return GUARD_PASS;
}

static bool refuse(struct emu *e, enum guard_verdict v, uint64_t addr)
{
    site_restore(e);
    e->guard_refused = v;
    e->guard_refused_at = addr;
    e->guard_next = UINT64_MAX;   /* no address: the next fetch starts a block */
    e->tb_insns = 0;
    return false;
}

/* A fetch the CPU cannot make: as the block's first instruction Unicorn raises the
 * fault itself, exactly; later in a block it would raise it at the block's start (QEMU
 * 5 translates ahead), so the block must end before it. */
static bool cannot_fetch(struct emu *e, enum guard_verdict v, uint64_t addr, bool first)
{
    if (!first)
        return refuse(e, GUARD_FAULT_AHEAD, addr);
    return v == GUARD_FAULT ? true : refuse(e, v, addr);
}

static bool on_fetch(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
                     void *user)
{
    struct emu *e = user;
    (void)uc, (void)type, (void)value;
    /* A new translation block: after one was completed (on_block_done), refused, or a run
     * began; or the translator starting its block over (a full buffer). Within a block
     * the fetches follow the code, except that an operand crossing a page is read as two
     * aligned loads, the first from before it: those fall inside the instruction. The
     * mode is the CPU's at that moment. */
    if (e->guard_next == UINT64_MAX || addr < e->guard_tb_start) {
        e->guard_insn_end = e->guard_tb_start = addr;
        e->guard_page = UINT64_MAX;
        cpustate_load(&e->cpu, e->uc);
        e->guard_mode = cpustate_mode(&e->cpu);
        e->guard_paging = cpustate_cr(&e->cpu, 0) >> 31;
        e->guard_cr0 = cpustate_cr(&e->cpu, 0);
        e->guard_cr4 = cpustate_cr(&e->cpu, 4);
        e->guard_cpl = cpustate_cpl(&e->cpu);
        e->guard_step = (cpustate_eflags(&e->cpu) >> 8) & 1;
        e->tb_insns = 0;
        /* QEMU keys a block by CS base and mode too, so while no block has had a base
         * or 16-bit operands, none that traps has (site_code_la) */
        if (cpustate_seg(&e->cpu, SEG_CS).base || cpu_mode_16bit(e->guard_mode))
            e->odd_code = true;
    }
    e->guard_next = addr + (uint64_t)size;
    if (addr < e->guard_insn_end)
        return true;          /* the rest of an instruction already checked */
    /* A new instruction: the translator is past every byte substituted before it. */
    site_restore(e);
    bool first = addr == e->guard_tb_start;
    enum guard_verdict v = fetchable(e, addr);
    if (v != GUARD_PASS && v != GUARD_EMPTY)
        return cannot_fetch(e, v, addr, first);
    if (v == GUARD_EMPTY)
        return refuse(e, v, addr);
    /* Outside 64-bit code the linear address wraps at 4 GiB, and QEMU 5 fetches the
     * bytes of an instruction across that boundary from past it. */
    if (e->guard_mode != MODE_LONG64 && addr + 15 > (1ull << 32) && addr < (1ull << 32))
        return refuse(e, GUARD_WRAP, addr);
    size_t n = 15;
    if (addr < e->ram_size && e->ram_size - addr < n)
        n = (size_t)(e->ram_size - addr);
    if (addr >= e->ram_size && 4096 - (addr & 4095) < n)
        n = (size_t)(4096 - (addr & 4095));
    uint8_t *p = site_code(e, addr, n);
    if (!p)
        return cannot_fetch(e, GUARD_NO_RAM, addr, first);
    bool long_mode = e->guard_mode == MODE_LONG64;
    /* Xen's forced emulation prefix (ud2; "xen"), with hvm_fep on the Xen command line:
     * Xen emulates the next instruction, which here means running it. */
    static const uint8_t fep[5] = { 0x0f, 0x0b, 'x', 'e', 'n' };
    if (e->cfg.hvm_fep && n >= 5 && memcmp(p, fep, 5) == 0)
        return refuse(e, GUARD_FEP, addr);
    if ((v = guard_check(p, n, long_mode)) != GUARD_PASS ||
        (v = guard_fpu_order(p, n, long_mode, e->guard_cr0, e->guard_cr4)) != GUARD_PASS)
        return refuse(e, v, addr);
    csh cs = emu_capstone(e, e->guard_mode);
    size_t len = insn_length(cs, p, n);
    if (len == 0) {
        /* Undecodable. Cut short by the end of what is readable, the fetch faults (at
         * the block's start, as the CPU's would); otherwise the CPU raises #UD. */
        if (n < 15 && addr + n < (1ull << 48))
            return cannot_fetch(e, GUARD_FAULT, addr, first);
        return refuse(e, GUARD_UD, addr);
    }
    uint64_t last = addr + len - 1;
    if ((last & ~4095ull) != (addr & ~4095ull)) {
        /* The instruction runs into the next page: that page must be fetchable too. */
        v = fetchable(e, last);
        if (v != GUARD_PASS && v != GUARD_EMPTY)
            return cannot_fetch(e, v, addr, first);
        e->guard_page = addr & ~4095ull;
    }
    e->guard_insn_end = addr + len;
    e->tb_insns++;
    site_note_length(e, p, n, addr, len);
    phys_mark_code(e, addr);
    struct site s = site_decode(p, n, e->guard_mode);
    /* CPUID runs natively unless a stop must be exact at it, or it may fault */
    if (s.kind != SITE_NONE && s.kind != SITE_SYSCALL &&
        (s.kind != SITE_CPUID || e->cfg.save_at || msr_platform_cpuid_faulting(e)))
        site_patch(e, p, &s);
    return true;
}

/* A block is complete (and about to run for the first time): its substituted bytes go
 * back, and its instruction count is kept for the budget. */
static void on_block_done(uc_engine *uc, uc_tb *tb, uc_tb *prev, void *user)
{
    struct emu *e = user;
    (void)uc, (void)prev;
    site_restore(e);
    if (e->cfg.budget && e->tb_insns)
        icount_put(&e->icount, icount_key(tb->pc, tb->size),
                   e->tb_insns | (e->guard_step ? ICOUNT_STEPPED : 0));
    e->tb_insns = 0;
    e->guard_next = UINT64_MAX;   /* no address: the next fetch starts a block */
}

/* The block hook's work beyond the slice count: --budget counts every block's
 * instructions; when the APIC has something (irq.c), stop here, before the block runs,
 * the one point where a stop leaves RIP exact. */
static void __attribute__((noinline)) on_block_slow(struct emu *e, uint64_t addr, uint32_t size)
{
    /* The block after a redirect (redirect.h): it happened, take its flag back, and ask
     * again for a stop Unicorn's loop dropped in between (one asked while the delivery
     * ran, or Ctrl-C's). */
    if (redirect_settle(&e->redirect) && (e->stop_asked || run_cancelled(e)))
        run_stop(e);
    if (e->cfg.budget) {
        uint32_t got = icount_get(&e->icount, icount_key(addr, size));
        uint32_t n = got & ~ICOUNT_STEPPED;
        n = n ? n : size;   /* an unknown block: its bytes bound its instructions */
        /* A block is charged at its start, whole. A store into the block that is running
         * (code that rewrites itself) makes QEMU abandon it and run the storing
         * instruction again as a block of one instruction; charged whole, a guest that
         * rewrote the next instruction at every step used up the budget 100 times too
         * fast (a fuzz finding). A block of one instruction at the very address of the
         * block charged last, which was longer, is that restart at its first instruction,
         * and the longer one ran nothing. Nothing else makes one there: single-stepping
         * does (TF), but such blocks are marked; a jump back into the middle of a block,
         * or a restart further in, keeps its charge (once per block rewritten, at most). */
        if (n == 1 && !(got & ICOUNT_STEPPED) && addr == e->charged.at && e->charged.n > 1)
            e->insns -= e->charged.n;
        e->charged.at = addr;
        e->charged.n = n;
        e->insns += n;
        if (e->insns >= e->cfg.budget && !e->stop)
            run_finish(e, EMU_BUDGET);
    }
    if (e->smp) {
        vcpu_slice(e, size);
        if (e->resched) {
            run_stop(e);
            return;
        }
    }
    if ((e->irq.kick || vcpu_cur(e)->waiting) && irq_window(e, addr) && !irq_take_here(e, addr)) {
        e->irq.kick = true;
        run_stop(e);
    }
    /* Anything that makes the count alone wrong clears block_plain: a kick, a vector
     * left waiting, a redirect's flag, and every run's start (a vCPU switch, a restore,
     * the budget). One vCPU has no slice: its count only passes the time, so that a
     * guest that uses the APIC pays the fast path too. */
    e->block_plain = !e->cfg.budget && !e->irq.kick && !vcpu_cur(e)->waiting &&
                     !e->redirect.pending;
    if (!e->smp)
        e->slice_left = UINT32_MAX;
}

/* Every block start once a second vCPU is up, the APIC is used, or with --budget. The
 * common case goes first and costs a few instructions: on a 2-instruction loop the hook
 * runs once per 2 guest instructions (bench_smp.c). So a slice is measured in bytes of
 * code run, which Unicorn hands the hook, rather than in instructions, which would need
 * a lookup per block. */
static void on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    struct emu *e = user;
    (void)uc;
    if (e->block_plain && size < e->slice_left) {
        e->slice_left -= size;
        return;
    }
    on_block_slow(e, addr, size);
}

void guard_block_hook(struct emu *e)
{
    uc_hook h;
    if (!e->block_hooked &&
        uc_hook_add(e->uc, &h, UC_HOOK_BLOCK, (void *)on_block, e, 1, 0) == UC_ERR_OK)
        e->block_hooked = true;
}

int guard_install(struct emu *e, char *err, size_t errlen)
{
    uc_hook h;
    uc_err r = uc_hook_add(e->uc, &h, UC_HOOK_MEM_FETCH_PROT, (void *)on_fetch, e, 1, 0);
    r = r ? r : uc_hook_add(e->uc, &h, UC_HOOK_EDGE_GENERATED, (void *)on_block_done, e, 1, 0);
    if (!r && e->cfg.budget) {
        r = uc_hook_add(e->uc, &h, UC_HOOK_BLOCK, (void *)on_block, e, 1, 0);
        e->block_hooked = !r;
    }
    if (r) {
        snprintf(err, errlen, "Unicorn refused the translation guard's hooks: %s", uc_strerror(r));
        return -1;
    }
    return 0;
}
