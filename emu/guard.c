/* The translation guard. Unicorn 2.0.1 aborts the whole process ("tcg fatal error")
 * when it translates a far CALL or JMP through a register (FF /3 or FF /5 with
 * mod = 3), which real CPUs answer with #UD; Unicorn fixed it in 2.1.0 (its commit
 * a7a5d187, QEMU's 10b8eb94), Debian bookworm ships 2.0.1, and a survey of every
 * one-byte, 0F, 0F38 and 0F3A opcode with each ModRM reg field, with and without
 * 66/F2/F3, found no other instruction that aborts it.
 *
 * Unicorn offers no hook before translation, except one: a fetch from memory without
 * UC_PROT_EXEC calls UC_HOOK_MEM_FETCH_PROT for every byte the translator reads, and
 * only then (translated blocks run without it). So guest RAM is mapped readable and
 * writable only, and this hook follows the translator from instruction to instruction
 * and refuses the fetch of a forbidden one. The run loop then runs the guest up to that
 * address and delivers the #UD the CPU would have raised (emu.c). */
#include "emu/internal.h"

/* Legacy prefixes, and REX in long mode, come before the opcode in any number. */
static bool prefix(const struct emu *e, uint8_t b)
{
    switch (b) {
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
    case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
        return true;
    default:
        return e->long_mode && (b & 0xf0) == 0x40;
    }
}

static bool far_branch_via_register(const struct emu *e, uint64_t addr)
{
    /* 15 bytes is the architectural limit; the translator gives up there too. */
    uint64_t end = addr + 15 < e->ram_size ? addr + 15 : e->ram_size;
    while (addr < end && prefix(e, e->ram[addr]))
        addr++;
    if (addr + 1 >= end || e->ram[addr] != 0xff)
        return false;
    uint8_t modrm = e->ram[addr + 1], reg = (modrm >> 3) & 7;
    return modrm >> 6 == 3 && (reg == 3 || reg == 5);
}

static size_t insn_length(struct emu *e, uint64_t addr)
{
    const uint8_t *code = e->ram + addr;
    size_t left = e->ram_size - addr < 15 ? (size_t)(e->ram_size - addr) : 15;
    uint64_t at = addr;
    cs_insn *insn = cs_malloc(e->cs);
    /* An instruction Capstone cannot decode ends its block (#UD), so nothing after it
     * in the same translation is an instruction start: skip the architectural limit. */
    size_t len = insn && cs_disasm_iter(e->cs, &code, &left, &at, insn) ? insn->size : 15;
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
    if (far_branch_via_register(e, addr)) {
        e->guard_refused = true;
        e->guard_refused_at = addr;
        e->guard_next = 0;
        return false;
    }
    e->guard_insn_end = addr + insn_length(e, addr);
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
