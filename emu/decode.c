/* Decoding an instruction with its operands (Capstone with details), for the few places
 * where vsbox must know what an instruction addresses or where it branches, to raise
 * the exception a CPU raises and QEMU 5 does not:
 *   - a stack-segment access to a non-canonical address is #SS(0), not QEMU's #GP(0);
 *   - a branch through Xen's forced emulation prefix to a non-canonical target faults
 *     at the branch (Xen's emulator fetches the destination first, since XSA-170). */
#include <string.h>
#include "emu/internal.h"
#include "emu/mmu.h"

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static int uc_id(x86_reg r)
{
    static const struct {
        x86_reg cs;
        int uc;
    } map[] = {
        { X86_REG_RAX, UC_X86_REG_RAX }, { X86_REG_RBX, UC_X86_REG_RBX },
        { X86_REG_RCX, UC_X86_REG_RCX }, { X86_REG_RDX, UC_X86_REG_RDX },
        { X86_REG_RSI, UC_X86_REG_RSI }, { X86_REG_RDI, UC_X86_REG_RDI },
        { X86_REG_RBP, UC_X86_REG_RBP }, { X86_REG_RSP, UC_X86_REG_RSP },
        { X86_REG_R8, UC_X86_REG_R8 },   { X86_REG_R9, UC_X86_REG_R9 },
        { X86_REG_R10, UC_X86_REG_R10 }, { X86_REG_R11, UC_X86_REG_R11 },
        { X86_REG_R12, UC_X86_REG_R12 }, { X86_REG_R13, UC_X86_REG_R13 },
        { X86_REG_R14, UC_X86_REG_R14 }, { X86_REG_R15, UC_X86_REG_R15 },
        { X86_REG_RIP, UC_X86_REG_RIP },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].cs == r)
            return map[i].uc;
    return -1;
}

/* The decoded instruction at rip (64-bit code), or NULL. Free with cs_free(insn, 1). */
static cs_insn *decode64(struct emu *e, uint64_t rip)
{
    if (!e->cs64d) {
        if (cs_open(CS_ARCH_X86, CS_MODE_64, &e->cs64d) != CS_ERR_OK)
            return NULL;
        cs_option(e->cs64d, CS_OPT_DETAIL, CS_OPT_ON);
    }
    size_t n = site_avail(e, rip);
    const uint8_t *p = site_code(e, rip, n);
    cs_insn *insn;
    if (!p || cs_disasm(e->cs64d, p, n, rip, 1, &insn) != 1)
        return NULL;
    return insn;
}

/* A memory operand's address; *stack when its segment is SS (in 64-bit code the ES, CS,
 * SS and DS prefixes are ignored, so that is: based on RSP or RBP, and not FS or GS). */
static bool mem_address(struct emu *e, const cs_insn *insn, const cs_x86_op *op, uint64_t *ea,
                        bool *stack)
{
    const x86_op_mem *m = &op->mem;
    uint64_t a = (uint64_t)m->disp;
    if (m->base != X86_REG_INVALID) {
        int id = uc_id(m->base);
        if (id < 0)
            return false;   /* a 32-bit address: it wraps, and is always canonical */
        a += id == UC_X86_REG_RIP ? insn->address + insn->size : emu_reg(e, id);
    }
    if (m->index != X86_REG_INVALID) {
        int id = uc_id(m->index);
        if (id < 0)
            return false;
        a += emu_reg(e, id) * (uint64_t)m->scale;
    }
    *stack = m->segment != X86_REG_FS && m->segment != X86_REG_GS &&
             (m->base == X86_REG_RSP || m->base == X86_REG_RBP);
    *ea = a;
    return true;
}

bool decode_stack_fault(struct emu *e, uint64_t rip)
{
    cs_insn *insn = decode64(e, rip);
    if (!insn)
        return false;
    bool ss = false;
    const cs_x86 *x = &insn->detail->x86;
    for (unsigned i = 0; i < x->op_count && !ss; i++) {
        uint64_t ea;
        bool stack;
        if (x->operands[i].type == X86_OP_MEM && mem_address(e, insn, &x->operands[i], &ea, &stack))
            ss = stack && !canonical(ea) && (x->operands[i].mem.segment != X86_REG_FS &&
                                             x->operands[i].mem.segment != X86_REG_GS);
    }
    /* The implicit stack of PUSH, POP, CALL, RET...: RSP itself gone non-canonical */
    for (unsigned i = 0; i < insn->detail->regs_read_count && !ss; i++)
        if (insn->detail->regs_read[i] == X86_REG_RSP)
            ss = !canonical(emu_reg(e, UC_X86_REG_RSP) - 8) || !canonical(emu_reg(e, UC_X86_REG_RSP));
    cs_free(insn, 1);
    return ss;
}

bool decode_branch_target(struct emu *e, uint64_t rip, uint64_t *target)
{
    cs_insn *insn = decode64(e, rip);
    if (!insn)
        return false;
    bool branch = insn->id == X86_INS_JMP || insn->id == X86_INS_CALL || insn->id == X86_INS_RET;
    bool known = false;
    const cs_x86 *x = &insn->detail->x86;
    if (branch && insn->id == X86_INS_RET) {
        struct mmu m;
        struct mmu_fault f;
        mmu_load(e, &m);
        known = mmu_read(e, &m, emu_reg(e, UC_X86_REG_RSP), target, 8, MMU_SUPERVISOR, &f) == 0;
    } else if (branch && x->op_count == 1) {
        const cs_x86_op *op = &x->operands[0];
        if (op->type == X86_OP_IMM) {
            *target = (uint64_t)op->imm;
            known = true;
        } else if (op->type == X86_OP_REG && uc_id(op->reg) >= 0) {
            *target = emu_reg(e, uc_id(op->reg));
            known = true;
        } else if (op->type == X86_OP_MEM) {
            uint64_t ea;
            bool stack;
            struct mmu m;
            struct mmu_fault f;
            mmu_load(e, &m);
            known = mem_address(e, insn, op, &ea, &stack) && op->size == 8 &&
                    mmu_read(e, &m, ea, target, 8, MMU_SUPERVISOR, &f) == 0;
        }
    }
    cs_free(insn, 1);
    return known;
}

bool decode_canonical(uint64_t a)
{
    return canonical(a);
}
