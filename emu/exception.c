/* Unicorn does not deliver exceptions through the guest's IDT, so vsbox does, the way
 * the CPU would: 64-bit gates with SS, RSP, RFLAGS, CS, RIP and the error code pushed,
 * or 32-bit gates with EFLAGS, CS, EIP and the error code. Without a usable gate, or
 * when delivery itself fails (a double fault), the run stops with a report. */
#include <string.h>
#include "emu/internal.h"

#define MAX_UNBROKEN_EXCEPTIONS 100000u

static const char *const names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS", "#NP", "#SS",
    "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void crash_report(struct emu *e, const char *what, uint64_t rip)
{
    char *out = e->res->report;
    size_t len = sizeof e->res->report, n = 0;
    n += (size_t)snprintf(out + n, len - n, "%s at RIP 0x%llx\n", what, (unsigned long long)rip);
    if (rip < e->ram_size) {
        cs_insn *insn;
        size_t avail = e->ram_size - rip < 16 ? (size_t)(e->ram_size - rip) : 16;
        if (cs_disasm(e->cs, e->ram + rip, avail, rip, 1, &insn) == 1) {
            n += (size_t)snprintf(out + n, len - n, "  0x%llx: %s %s\n",
                                  (unsigned long long)rip, insn->mnemonic, insn->op_str);
            cs_free(insn, 1);
        }
    }
    static const struct {
        const char *name;
        int id;
    } regs[] = {
        { "rax", UC_X86_REG_RAX }, { "rbx", UC_X86_REG_RBX }, { "rcx", UC_X86_REG_RCX },
        { "rdx", UC_X86_REG_RDX }, { "rsi", UC_X86_REG_RSI }, { "rdi", UC_X86_REG_RDI },
        { "rbp", UC_X86_REG_RBP }, { "rsp", UC_X86_REG_RSP }, { "r8", UC_X86_REG_R8 },
        { "r9", UC_X86_REG_R9 },   { "r10", UC_X86_REG_R10 }, { "r11", UC_X86_REG_R11 },
        { "rflags", UC_X86_REG_EFLAGS }, { "cr0", UC_X86_REG_CR0 }, { "cr2", UC_X86_REG_CR2 },
        { "cr3", UC_X86_REG_CR3 },
    };
    for (size_t i = 0; i < sizeof regs / sizeof regs[0] && n < len; i++)
        n += (size_t)snprintf(out + n, len - n, "  %-6s 0x%016llx%s", regs[i].name,
                              (unsigned long long)emu_reg(e, regs[i].id), i % 4 == 3 ? "\n" : "");
}

static bool unhandled(struct emu *e, unsigned vector, uint64_t rip, const char *why)
{
    char what[160];
    snprintf(what, sizeof what, "unhandled exception %s (%u) %s", vector < 32 && names[vector] ? names[vector] : "#??",
             vector, why);
    crash_report(e, what, rip);
    e->res->stop = EMU_CRASHED;
    e->stop = true;
    uc_emu_stop(e->uc);
    return false;
}

static bool push(struct emu *e, uint64_t *sp, uint64_t v, unsigned width)
{
    *sp -= width;
    if (*sp >= e->ram_size || width > e->ram_size - *sp)
        return false;
    memcpy(e->ram + *sp, &v, width);
    mark_dirty(e, *sp, width);
    return true;
}

bool raise_exception(struct emu *e, unsigned vector, bool has_error, uint32_t error, uint64_t rip)
{
    uc_x86_mmr idtr = { 0 };
    uc_reg_read(e->uc, UC_X86_REG_IDTR, &idtr);
    unsigned gate_size = e->long_mode ? 16 : 8;

    if (++e->unbroken_exceptions > MAX_UNBROKEN_EXCEPTIONS)
        return unhandled(e, vector, rip, "in an exception storm (the handler keeps faulting)");
    if (idtr.limit == 0)
        return unhandled(e, vector, rip, "with no IDT loaded");
    if ((uint64_t)vector * gate_size + gate_size - 1 > idtr.limit ||
        idtr.base + (uint64_t)vector * gate_size + gate_size > e->ram_size)
        return unhandled(e, vector, rip, "beyond the IDT");
    const uint8_t *g = e->ram + idtr.base + (uint64_t)vector * gate_size;
    uint8_t type = g[5];
    uint16_t selector = (uint16_t)(g[2] | g[3] << 8);
    uint64_t target = (uint64_t)g[0] | (uint64_t)g[1] << 8 | (uint64_t)g[6] << 16 |
                      (uint64_t)g[7] << 24;
    if (e->long_mode)
        target |= (uint64_t)(g[8] | g[9] << 8 | g[10] << 16 | (uint32_t)g[11] << 24) << 32;
    if (!(type & 0x80) || ((type & 0x0e) != 0x0e))
        return unhandled(e, vector, rip, "through a gate that is not present");

    uint64_t flags = emu_reg(e, UC_X86_REG_EFLAGS), cs = emu_reg(e, UC_X86_REG_CS);
    bool ok;
    uint64_t sp;
    if (e->long_mode) {
        uint64_t rsp = emu_reg(e, UC_X86_REG_RSP);
        sp = rsp & ~15ull;
        ok = push(e, &sp, emu_reg(e, UC_X86_REG_SS), 8) && push(e, &sp, rsp, 8) &&
             push(e, &sp, flags, 8) && push(e, &sp, cs, 8) && push(e, &sp, rip, 8) &&
             (!has_error || push(e, &sp, error, 8));
    } else {
        sp = emu_reg(e, UC_X86_REG_ESP) & 0xffffffffu;
        ok = push(e, &sp, flags, 4) && push(e, &sp, cs, 4) && push(e, &sp, rip, 4) &&
             (!has_error || push(e, &sp, error, 4));
    }
    if (!ok)
        return unhandled(e, vector, rip, "and a double fault pushing the frame (stack outside RAM)");

    /* An interrupt gate clears IF; both clear TF, NT and RF. */
    flags &= ~((1u << 8) | (1u << 14) | (1u << 16));
    if ((type & 0x0f) == 0x0e)
        flags &= ~(1u << 9);
    uc_reg_write(e->uc, e->long_mode ? UC_X86_REG_RSP : UC_X86_REG_ESP, &sp);
    uc_reg_write(e->uc, UC_X86_REG_EFLAGS, &flags);
    if (selector != (uint16_t)cs) {
        uint64_t sel = selector;
        uc_reg_write(e->uc, UC_X86_REG_CS, &sel);
    }
    set_pc(e, target);
    e->restart = true;
    return true;
}
