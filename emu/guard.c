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
 * only then (translated blocks run without it). So guest RAM is mapped readable and
 * writable only, and this hook follows the translator from instruction to instruction
 * and refuses the fetch of a forbidden one. The run loop then runs the guest up to that
 * address and delivers the #UD, or executes the instruction itself (emu.c). */
#include <string.h>
#include "emu/internal.h"

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
    return GUARD_PASS;
}

/* Bytes a ModRM (with its SIB and displacement) takes, 32/64-bit addressing. */
static size_t modrm_length(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 1;
    uint8_t mod = p[0] >> 6, rm = p[0] & 7;
    size_t len = 1;
    if (mod == 3)
        return len;
    if (rm == 4) {
        len++;
        if (mod == 0 && n > 1 && (p[1] & 7) == 5)
            return len + 4;
    }
    return len + (mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 5) ? 4 : 0);
}

/* The length of an instruction Capstone 4 does not know but the translator may (newer
 * 0F-map instructions such as RDPKRU, 0F 01 EE, which fuzz_emu used to step past the
 * guard). The two- and three-byte maps take a ModRM, and an imm8 for the few opcodes
 * below and all of 0F 3A. An unknown one-byte opcode is #UD and ends the block. */
static size_t unknown_length(const uint8_t *p, size_t n, bool long_mode)
{
    size_t i = 0;
    while (i < n && prefix(p[i], long_mode))
        i++;
    if (i + 1 >= n || p[i] != 0x0f)
        return i + 1;
    uint8_t op = p[i + 1];
    size_t imm = 0;
    i += 2;
    if (op == 0x38 || op == 0x3a) {
        imm = op == 0x3a;
        i++;
    } else {
        static const uint8_t with_imm8[] = { 0x70, 0x71, 0x72, 0x73, 0xa4, 0xac,
                                             0xba, 0xc2, 0xc4, 0xc5, 0xc6 };
        imm = memchr(with_imm8, op, sizeof with_imm8) != NULL;
    }
    return i + (i < n ? modrm_length(p + i, n - i) : 1) + imm;
}

static size_t insn_length(struct emu *e, uint64_t addr, size_t avail)
{
    const uint8_t *code = e->ram + addr;
    size_t left = avail;
    uint64_t at = addr;
    cs_insn *insn = cs_malloc(e->cs);
    size_t len = insn && cs_disasm_iter(e->cs, &code, &left, &at, insn)
                     ? insn->size
                     : unknown_length(e->ram + addr, avail, e->long_mode);
    cs_free(insn, 1);
    return len;
}

static bool on_fetch(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
                     void *user)
{
    struct emu *e = user;
    (void)uc, (void)type, (void)value;
    if (addr >= e->ram_size)
        return false;
    /* A fetch that does not continue the last one starts a new translation block. */
    if (addr != e->guard_next)
        e->guard_insn_end = addr;
    e->guard_next = addr + (uint64_t)size;
    if (addr < e->guard_insn_end)
        return true;          /* the rest of an instruction already checked */
    size_t avail = e->ram_size - addr < 15 ? (size_t)(e->ram_size - addr) : 15;
    enum guard_verdict v = guard_check(e->ram + addr, avail, e->long_mode);
    if (v != GUARD_PASS) {
        e->guard_refused = v;
        e->guard_refused_at = addr;
        e->guard_next = 0;
        return false;
    }
    e->guard_insn_end = addr + insn_length(e, addr, avail);
    return true;
}

int guard_install(struct emu *e, char *err, size_t errlen)
{
    uc_hook h;
    if (uc_hook_add(e->uc, &h, UC_HOOK_MEM_FETCH_PROT, (void *)on_fetch, e, 1, 0) != UC_ERR_OK) {
        snprintf(err, errlen, "Unicorn refused the translation guard hook");
        return -1;
    }
    return 0;
}
