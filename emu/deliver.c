/* Exception and interrupt delivery, done by vsbox because Unicorn 2.0.1 hands every
 * exception to a hook instead. It follows the SDM (vol. 3, 6.12-6.14) step by step: the
 * gate from the IDT (through the page tables), its type and privilege checks, the code
 * segment from the GDT or LDT, the stack switch (TSS RSPn or IST in 64-bit mode, SSn:ESPn
 * in 32-bit mode), the frame, and the flags. A fault while delivering is combined with
 * the first exception as the SDM's table 6-5 says (contributory + contributory, or page
 * fault + contributory or page fault, make #DF), and a fault while delivering #DF is a
 * triple fault: the CPU shuts down, and the run ends with a report (exit 3). Afterwards
 * the emulated CPU holds no exception in flight, as after a real delivery (cpustate.c). */
#include <string.h>
#include "emu/internal.h"
#include "emu/mmu.h"

static const char *const names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09", "#TS", "#NP", "#SS",
    "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

enum { EFLAGS_TF = 1u << 8, EFLAGS_IF = 1u << 9, EFLAGS_NT = 1u << 14, EFLAGS_RF = 1u << 16,
       EFLAGS_VM = 1u << 17, EFLAGS_AC = 1u << 18 };
enum { EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14 };

void deliver_report(struct emu *e, const char *what, uint64_t rip, const char *more)
{
    char *out = e->res->report;
    size_t len = sizeof e->res->report, n = 0;
    n += (size_t)snprintf(out + n, len - n, "%s at RIP 0x%llx\n", what, (unsigned long long)rip);
    uint64_t la = site_code_la(e, rip);
    const uint8_t *code = site_code(e, la, 1);
    if (code) {
        cpustate_load(&e->cpu, e->uc);
        csh cs = emu_capstone(e, cpustate_mode(&e->cpu));
        size_t avail = site_avail(e, la);
        if (!site_code(e, la, avail))
            avail = 1;
        cs_insn *insn;
        if (cs_disasm(cs, code, avail, rip, 1, &insn) == 1) {
            n += (size_t)snprintf(out + n, len - n, "  0x%llx: %s %s\n",
                                  (unsigned long long)rip, insn->mnemonic, insn->op_str);
            cs_free(insn, 1);
        }
    }
    if (more)
        n += (size_t)snprintf(out + n, len - n, "  %s\n", more);
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

/* A fault met while delivering: what it is, and in words why (for the report). */
struct dfault {
    uint8_t vector;
    uint32_t error;
    uint64_t cr2;
    char why[96];
};

static int fail(struct dfault *f, unsigned vector, uint32_t error, const char *why)
{
    f->vector = (uint8_t)vector;
    f->error = error;
    snprintf(f->why, sizeof f->why, "%s", why);
    return 1;
}

static int page_fault(struct dfault *f, const struct mmu_fault *mf, const char *what)
{
    f->vector = EXC_PF;
    f->error = mf->error;
    f->cr2 = mf->addr;
    snprintf(f->why, sizeof f->why, "and a page fault at 0x%llx %s",
             (unsigned long long)mf->addr, what);
    return 1;
}

struct desc {
    uint64_t base;
    uint32_t limit, flags;
};

static void decode_desc(const uint8_t d[8], struct desc *out)
{
    uint32_t lo, hi;
    memcpy(&lo, d, 4);
    memcpy(&hi, d + 4, 4);
    out->limit = (lo & 0xffff) | (hi & 0xf0000);
    if (hi & DESC_G)
        out->limit = out->limit << 12 | 0xfff;
    out->base = (lo >> 16) | (hi & 0xff) << 16 | (hi & 0xff000000u);
    out->flags = hi & 0x00f0ff00u;
}

/* The descriptor a selector names, from the GDT or LDT (implicit supervisor reads). */
static int read_desc(struct emu *e, const struct mmu *m, uint16_t sel, uint32_t ext,
                     struct desc *d, struct dfault *f)
{
    uc_x86_mmr t = { 0 };
    if (sel & 4)
        uc_reg_read(e->uc, UC_X86_REG_LDTR, &t);
    else
        cpustate_dtr(&e->cpu, false, &t.base, &t.limit);   /* loaded by every delivery */
    uint32_t err = (sel & 0xfffcu) + ext;
    if ((uint32_t)(sel & ~7u) + 7 > t.limit)
        return fail(f, EXC_GP, err, "and a selector past its descriptor table");
    uint8_t raw[8];
    struct mmu_fault mf;
    if (mmu_read(e, m, t.base + (sel & ~7u), raw, 8, MMU_IMPLICIT, &mf))
        return page_fault(f, &mf, "reading a descriptor");
    decode_desc(raw, d);
    return 0;
}

/* The code segment an interrupt or trap gate names (both gate sizes): not null, a code
 * segment the handler's privilege may reach, present. 0, or 1 with f filled. */
static int gate_code(struct emu *e, const struct mmu *m, uint16_t sel, uint32_t ext,
                     unsigned cpl, struct desc *cs, struct dfault *f)
{
    if ((sel & 0xfffc) == 0)
        return fail(f, EXC_GP, ext, "through a gate with a null code selector");
    if (read_desc(e, m, sel, ext, cs, f))
        return 1;
    uint32_t sel_err = (sel & 0xfffcu) + ext;
    if (!(cs->flags & DESC_S) || !(cs->flags & DESC_CODE) || DESC_DPL(cs->flags) > cpl)
        return fail(f, EXC_GP, sel_err, "through a gate whose selector is not usable code");
    if (!(cs->flags & DESC_P))
        return fail(f, EXC_NP, sel_err, "through a gate whose code segment is not present");
    return 0;
}

/* The stack pointer a 64-bit TSS holds at offset off (RSPn, ISTn). */
static int tss64_rsp(struct emu *e, const struct mmu *m, unsigned off, uint32_t ext,
                     uint64_t *rsp, struct dfault *f)
{
    uc_x86_mmr tr = { 0 };
    uc_reg_read(e->uc, UC_X86_REG_TR, &tr);
    if (off + 7 > tr.limit)
        return fail(f, EXC_TS, (tr.selector & 0xfffcu) + ext, "and a TSS too short for the stack");
    struct mmu_fault mf;
    if (mmu_read(e, m, tr.base + off, rsp, 8, MMU_IMPLICIT, &mf))
        return page_fault(f, &mf, "reading the TSS");
    return 0;
}

static uint32_t flags_after(uint64_t flags, unsigned gate_type)
{
    flags &= ~(uint64_t)(EFLAGS_TF | EFLAGS_NT | EFLAGS_RF | EFLAGS_VM);
    if ((gate_type & 1) == 0)   /* an interrupt gate (not a trap gate) clears IF */
        flags &= ~(uint64_t)EFLAGS_IF;
    return (uint32_t)flags;
}

static struct segcache code_cache(uint16_t sel, unsigned cpl, const struct desc *d)
{
    return (struct segcache){ (uint16_t)((sel & ~3u) | cpl), d->base, d->limit, d->flags | DESC_A };
}

/* CS from the gate, unless it already holds that very segment: QEMU's own IRET and far
 * jumps keep the descriptor's raw second dword (limit and base bits, A as in memory),
 * ours does not, and the difference is invisible to the guest; rewriting it would cost
 * the whole CPU-state copy that an interrupt taken inside one code segment never needs. */
static void load_cs(struct emu *e, uint16_t sel, unsigned cpl, const struct desc *d)
{
    struct segcache now = cpustate_seg(&e->cpu, SEG_CS), c = code_cache(sel, cpl, d);
    const uint32_t meaning = 0x00f0fe00u;   /* G, D/B, L, AVL, P, DPL, S, type but A */
    if (now.selector != c.selector || now.base != c.base || now.limit != c.limit ||
        ((now.flags ^ c.flags) & meaning))
        cpustate_set_seg(&e->cpu, SEG_CS, c);
}

/* Commit: RSP, RFLAGS and the hidden state through the saved CPU (one copy of its first
 * part, where all of them lie, costs less than Unicorn's register calls), then RIP.
 * From the block hook, RIP goes in the same copy and the block is left unrun inside
 * QEMU's loop (redirect.h); elsewhere through Unicorn, whose write ends the block and
 * goes on at the handler after a stop and a restart. */
static void commit(struct emu *e, uint64_t rsp, uint64_t flags, uint64_t rip)
{
    cpustate_exception_done(&e->cpu);
    cpustate_clear_irq_shadow(&e->cpu);
    cpustate_set_gpr(&e->cpu, 4, rsp);
    cpustate_set_rflags(&e->cpu, flags);
    if (e->in_run && redirect_ready(&e->redirect)) {
        cpustate_set_rip(&e->cpu, rip);
        cpustate_store_changed(&e->cpu, e->uc);
        redirect_request(&e->redirect);
        return;
    }
    cpustate_store_changed(&e->cpu, e->uc);
    uc_reg_write(e->uc, UC_X86_REG_RIP, &rip);
}

static int deliver64(struct emu *e, const struct mmu *m, const struct exc *x, struct dfault *f)
{
    /* All from the saved state, RFLAGS too (cpustate_rflags computes QEMU's lazy flags
     * as the engine would). */
    uc_x86_mmr idtr = { 0 };
    cpustate_dtr(&e->cpu, true, &idtr.base, &idtr.limit);
    uint64_t old_rsp = cpustate_gpr(&e->cpu, 4);
    uint64_t flags = cpustate_rflags(&e->cpu);
    uint64_t old_cs = cpustate_seg(&e->cpu, SEG_CS).selector;
    uint64_t old_ss = cpustate_seg(&e->cpu, SEG_SS).selector;
    unsigned cpl = cpustate_cpl(&e->cpu);
    uint32_t ext = x->source == EXC_SOFT ? 0 : 1, idt_err = x->vector * 8u + 2 + ext;
    if (idtr.limit == 0)
        return fail(f, EXC_GP, idt_err, "with no IDT loaded");
    if (x->vector * 16u + 15 > idtr.limit)
        return fail(f, EXC_GP, idt_err, "beyond the IDT's limit");
    uint8_t g[16];
    struct mmu_fault mf;
    if (mmu_read(e, m, idtr.base + x->vector * 16ull, g, 16, MMU_IMPLICIT, &mf))
        return page_fault(f, &mf, "reading the IDT");
    unsigned type = g[5] & 0x1f, dpl = (g[5] >> 5) & 3;
    if (type != 0x0e && type != 0x0f)
        return fail(f, EXC_GP, idt_err, "through an IDT entry that is not a 64-bit gate");
    if (x->source == EXC_SOFT && dpl < cpl)
        return fail(f, EXC_GP, idt_err, "through a gate its privilege level may not use");
    if (!(g[5] & 0x80))
        return fail(f, EXC_NP, idt_err, "through a gate that is not present");
    uint16_t sel = (uint16_t)(g[2] | g[3] << 8);
    uint64_t target = (uint64_t)(g[0] | g[1] << 8) | (uint64_t)(g[6] | g[7] << 8) << 16 |
                      (uint64_t)(g[8] | g[9] << 8 | g[10] << 16 | (uint32_t)g[11] << 24) << 32;
    unsigned ist = g[4] & 7;
    struct desc cs;
    if (gate_code(e, m, sel, ext, cpl, &cs, f))
        return 1;
    uint32_t sel_err = (sel & 0xfffcu) + ext;
    if (!(cs.flags & DESC_L) || (cs.flags & DESC_B))
        return fail(f, EXC_GP, sel_err, "through a gate whose code segment is not 64-bit");
    unsigned new_cpl = (cs.flags & DESC_C) ? cpl : DESC_DPL(cs.flags);

    uint64_t rsp = old_rsp;
    if (ist && tss64_rsp(e, m, 36 + 8 * (ist - 1), ext, &rsp, f))
        return 1;
    if (!ist && new_cpl != cpl && tss64_rsp(e, m, 4 + 8 * new_cpl, ext, &rsp, f))
        return 1;
    rsp &= ~15ull;
    uint64_t frame[6];
    unsigned n = 0;
    if (x->has_error)
        frame[n++] = x->error;
    frame[n++] = x->rip;
    frame[n++] = old_cs;
    frame[n++] = flags;
    frame[n++] = old_rsp;
    frame[n++] = old_ss;
    rsp -= 8ull * n;
    if (mmu_write(e, m, rsp, frame, 8ull * n, new_cpl == 3 ? MMU_USER : MMU_SUPERVISOR, &mf))
        return page_fault(f, &mf, "pushing the exception frame");

    load_cs(e, sel, new_cpl, &cs);
    /* A change of privilege loads SS with a null selector of the new CPL (SDM 6.14.4). */
    if (new_cpl != cpl)
        cpustate_set_seg(&e->cpu, SEG_SS, (struct segcache){ (uint16_t)new_cpl, 0, 0,
                                                             new_cpl << 13 });
    commit(e, rsp, flags_after(flags, type), target);
    return 0;
}


/* A task gate (32-bit protected mode, SDM vol. 3, 7.3): the CPU saves the running task
 * into its TSS, links the new TSS back to it and marks it busy, loads the whole new task
 * (CR3, flags with NT set, registers, LDT and segments) and pushes any error code on the
 * new task's stack. The IRET that ends the handler task is QEMU's own (NT set: back
 * through the link). 16-bit TSSs are not modelled. */
enum { TSS32_LINK = 0x00, TSS32_CR3 = 0x1c, TSS32_EIP = 0x20, TSS32_EFLAGS = 0x24,
       TSS32_GPR = 0x28, TSS32_SEG = 0x48, TSS32_LDT = 0x60, TSS32_MIN_LIMIT = 0x67 };
enum { CR0_TS = 1u << 3, CR0_PG = 1u << 31 };

static int load_task_seg(struct emu *e, const struct mmu *m, enum seg s, uint16_t sel,
                         bool vm86, struct dfault *f)
{
    if (vm86) {
        cpustate_set_seg(&e->cpu, s, (struct segcache){ sel, (uint64_t)sel << 4, 0xffff,
                                                        DESC_P | DESC_S | DESC_W | DESC_A | (3u << 13) });
        return 0;
    }
    if ((sel & 0xfffc) == 0) {
        if (s == SEG_CS || s == SEG_SS)
            return fail(f, EXC_TS, sel & 0xfffcu, "and a null code or stack selector in the new TSS");
        cpustate_set_seg(&e->cpu, s, (struct segcache){ sel, 0, 0, 0 });
        return 0;
    }
    struct desc d;
    if (read_desc(e, m, sel, 0, &d, f))
        return 1;
    if (!(d.flags & DESC_S) || (s == SEG_CS && !(d.flags & DESC_CODE)) ||
        (s == SEG_SS && ((d.flags & DESC_CODE) || !(d.flags & DESC_W))))
        return fail(f, EXC_TS, sel & 0xfffcu, "and a segment of the wrong type in the new TSS");
    if (!(d.flags & DESC_P))
        return fail(f, s == SEG_SS ? EXC_SS : EXC_NP, sel & 0xfffcu,
                    "and a segment in the new TSS that is not present");
    cpustate_set_seg(&e->cpu, s, (struct segcache){ sel, d.base, d.limit, d.flags | DESC_A });
    return 0;
}

static int deliver_task32(struct emu *e, const struct mmu *m, const struct exc *x,
                          uint16_t tss_sel, uint32_t ext, struct dfault *f)
{
    uint32_t err = (tss_sel & 0xfffcu) + ext;
    struct mmu_fault mf;
    if (tss_sel & 4)
        return fail(f, EXC_GP, err, "through a task gate whose TSS selector is in the LDT");
    struct desc nd;
    if (read_desc(e, m, tss_sel, ext, &nd, f))
        return 1;
    unsigned type = (nd.flags >> 8) & 0x1f;
    if (type == 0x01 || type == 0x03)
        return -1;   /* a 16-bit TSS: not modelled */
    if (type != 0x09)
        return fail(f, EXC_GP, err, "through a task gate to a TSS that is busy or not a TSS");
    if (!(nd.flags & DESC_P))
        return fail(f, EXC_NP, err, "through a task gate to a TSS that is not present");
    if (nd.limit < TSS32_MIN_LIMIT)
        return fail(f, EXC_TS, err, "through a task gate to a TSS too short for a task");
    uc_x86_mmr tr = { 0 }, gdtr = { 0 };
    uc_reg_read(e->uc, UC_X86_REG_TR, &tr);
    uc_reg_read(e->uc, UC_X86_REG_GDTR, &gdtr);
    if (!(((tr.flags >> 8) & 0xf) & 8) || tr.limit < TSS32_MIN_LIMIT)
        return -1;   /* from a 16-bit (or no) task: not modelled */

    /* The running task, into its TSS. */
    static const int gpr[8] = { UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                                UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI };
    uint32_t old[18];
    old[0] = (uint32_t)x->rip;
    old[1] = (uint32_t)emu_reg(e, UC_X86_REG_EFLAGS);
    for (int i = 0; i < 8; i++)
        old[2 + i] = (uint32_t)emu_reg(e, gpr[i]);
    for (int s = 0; s < SEG_COUNT; s++)
        old[10 + s] = cpustate_seg(&e->cpu, (enum seg)s).selector;
    if (mmu_write(e, m, (uint32_t)(tr.base + TSS32_EIP), old, 16 * 4, MMU_IMPLICIT, &mf))
        return page_fault(f, &mf, "saving the task into its TSS");

    /* The new one: read whole, then linked and marked busy. */
    uint8_t t[TSS32_MIN_LIMIT + 1];
    if (mmu_read(e, m, (uint32_t)nd.base, t, sizeof t, MMU_IMPLICIT, &mf))
        return page_fault(f, &mf, "reading the new task's TSS");
    uint16_t link = tr.selector;
    uint8_t busy;
    if (mmu_write(e, m, (uint32_t)nd.base + TSS32_LINK, &link, 2, MMU_IMPLICIT, &mf) ||
        mmu_read(e, m, gdtr.base + (tss_sel & ~7u) + 5, &busy, 1, MMU_IMPLICIT, &mf))
        return page_fault(f, &mf, "linking the new task");
    busy |= 2;
    if (mmu_write(e, m, gdtr.base + (tss_sel & ~7u) + 5, &busy, 1, MMU_IMPLICIT, &mf))
        return page_fault(f, &mf, "marking the new task busy");
    uint32_t v[18];
    memcpy(v, t + TSS32_CR3, sizeof v);   /* CR3, EIP, EFLAGS, 8 GPRs, 6 selectors, LDT */
    uint32_t cr3 = v[0], eip = v[1], eflags = v[2] | EFLAGS_NT | 2;
    bool vm86 = eflags & EFLAGS_VM;
    uint16_t ldt = (uint16_t)v[17];

    /* TR, CR0.TS and CR3 are the CPU's now, whatever the new task's segments hold. */
    uint64_t cr0 = emu_reg(e, UC_X86_REG_CR0);
    uc_x86_mmr ntr = { tss_sel, nd.base, nd.limit, (nd.flags | (2u << 8)) & 0xffff00u };
    uc_reg_write(e->uc, UC_X86_REG_TR, &ntr);
    emu_set_reg(e, UC_X86_REG_CR0, cr0 | CR0_TS);
    if (cr0 & CR0_PG)
        emu_set_reg(e, UC_X86_REG_CR3, cr3);
    struct desc ld = { 0, 0, 0 };
    if ((ldt & 0xfffc) && (ldt & 4 || read_desc(e, m, ldt, 0, &ld, f) ||
                           ((ld.flags >> 8) & 0x1f) != 0x02 || !(ld.flags & DESC_P)))
        return fail(f, EXC_TS, ldt & 0xfffcu, "and an LDT in the new TSS that is not usable");
    uc_x86_mmr ldtr = { ldt, ld.base, ld.limit, ld.flags };
    uc_reg_write(e->uc, UC_X86_REG_LDTR, &ldtr);
    for (int i = 0; i < 8; i++)
        emu_set_reg(e, gpr[i], v[3 + i]);
    emu_set_reg(e, UC_X86_REG_EFLAGS, eflags);

    /* Segments in the new task's context (its CPL is its CS RPL; the LDT is its own). */
    struct mmu nm;
    mmu_load(e, &nm);
    cpustate_load(&e->cpu, e->uc);
    unsigned cpl = vm86 ? 3 : (v[12] & 3);
    static const enum seg order[SEG_COUNT] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS };
    for (int i = 0; i < SEG_COUNT; i++)
        if (load_task_seg(e, &nm, order[i], (uint16_t)v[11 + order[i]], vm86, f))
            return 1;
    uint32_t esp = v[3 + 4];
    if (x->has_error) {
        struct segcache ss = cpustate_seg(&e->cpu, SEG_SS);
        uint32_t mask = (ss.flags & DESC_B) ? 0xffffffffu : 0xffffu;
        esp = (esp & ~mask) | ((esp - 4) & mask);
        if (mmu_write(e, &nm, (uint32_t)(ss.base + (esp & mask)), &x->error, 4,
                      cpl == 3 ? MMU_USER : MMU_SUPERVISOR, &mf))
            return page_fault(f, &mf, "pushing the error code on the new task's stack");
    }
    commit(e, esp, eflags, eip);
    return 0;
}

static int deliver32(struct emu *e, const struct mmu *m, const struct exc *x, struct dfault *f)
{
    uc_x86_mmr idtr = { 0 };
    uc_reg_read(e->uc, UC_X86_REG_IDTR, &idtr);
    unsigned cpl = cpustate_cpl(&e->cpu);
    uint32_t ext = x->source == EXC_SOFT ? 0 : 1, idt_err = x->vector * 8u + 2 + ext;
    if (idtr.limit == 0)
        return fail(f, EXC_GP, idt_err, "with no IDT loaded");
    if (x->vector * 8u + 7 > idtr.limit)
        return fail(f, EXC_GP, idt_err, "beyond the IDT's limit");
    uint8_t g[8];
    struct mmu_fault mf;
    if (mmu_read(e, m, (uint32_t)(idtr.base + x->vector * 8u), g, 8, MMU_IMPLICIT, &mf))
        return page_fault(f, &mf, "reading the IDT");
    unsigned type = g[5] & 0x1f, dpl = (g[5] >> 5) & 3;
    if (type == 0x05) {
        if (x->source == EXC_SOFT && dpl < cpl)
            return fail(f, EXC_GP, idt_err, "through a gate its privilege level may not use");
        if (!(g[5] & 0x80))
            return fail(f, EXC_NP, idt_err, "through a gate that is not present");
        return deliver_task32(e, m, x, (uint16_t)(g[2] | g[3] << 8), ext, f);
    }
    if (type != 0x06 && type != 0x07 && type != 0x0e && type != 0x0f)
        return fail(f, EXC_GP, idt_err, "through an IDT entry that is not a gate");
    if (x->source == EXC_SOFT && dpl < cpl)
        return fail(f, EXC_GP, idt_err, "through a gate its privilege level may not use");
    if (!(g[5] & 0x80))
        return fail(f, EXC_NP, idt_err, "through a gate that is not present");
    bool wide = type & 8;   /* a 386 gate: 32-bit frame and offset */
    uint16_t sel = (uint16_t)(g[2] | g[3] << 8);
    uint32_t target = (uint32_t)(g[0] | g[1] << 8) | (wide ? (uint32_t)(g[6] | g[7] << 8) << 16 : 0);
    struct desc cs;
    if (gate_code(e, m, sel, ext, cpl, &cs, f))
        return 1;
    uint32_t sel_err = (sel & 0xfffcu) + ext;
    uint64_t flags = cpustate_rflags(&e->cpu);
    /* From virtual-8086 mode (SDM 20.3.1.1): only to a non-conforming ring-0 handler,
     * on the ring-0 stack, with the data segments saved and then nulled. A software
     * interrupt needs IOPL 3 (vsbox models no VME). */
    bool vm86 = flags & EFLAGS_VM;
    if (vm86 && x->source == EXC_SOFT && ((flags >> 12) & 3) != 3)
        return fail(f, EXC_GP, 0, "from virtual-8086 mode with IOPL below 3");
    if (vm86 && ((cs.flags & DESC_C) || DESC_DPL(cs.flags) != 0))
        return fail(f, EXC_GP, sel_err, "from virtual-8086 mode to a handler not in ring 0");

    unsigned new_cpl = cpl, width = wide ? 4 : 2;
    struct segcache ss = cpustate_seg(&e->cpu, SEG_SS);
    uint32_t esp = (uint32_t)emu_reg(e, UC_X86_REG_RSP), old_esp = esp;
    uint16_t old_ss = ss.selector;
    bool inner = vm86 || (!(cs.flags & DESC_C) && DESC_DPL(cs.flags) < cpl);
    if (inner) {
        /* The inner stack from the TSS: SSn:ESPn of the new privilege level. */
        new_cpl = DESC_DPL(cs.flags);
        uc_x86_mmr tr = { 0 };
        uc_reg_read(e->uc, UC_X86_REG_TR, &tr);
        unsigned tshift = ((tr.flags >> 8) & 0xf) >> 3;   /* 1: a 32-bit TSS */
        unsigned index = (new_cpl * 4 + 2) << tshift;
        if (index + (4u << tshift) - 1 > tr.limit)
            return fail(f, EXC_TS, (tr.selector & 0xfffcu) + ext, "and a TSS too short for the stack");
        uint8_t t[6] = { 0 };
        if (mmu_read(e, m, (uint32_t)(tr.base + index), t, tshift ? 6 : 4, MMU_IMPLICIT, &mf))
            return page_fault(f, &mf, "reading the TSS");
        uint16_t new_ss;
        if (tshift) {
            memcpy(&esp, t, 4);
            new_ss = (uint16_t)(t[4] | t[5] << 8);
        } else {
            esp = (uint32_t)(t[0] | t[1] << 8);
            new_ss = (uint16_t)(t[2] | t[3] << 8);
        }
        if ((new_ss & 0xfffc) == 0)
            return fail(f, EXC_TS, ext, "and a null stack selector in the TSS");
        if ((new_ss & 3) != new_cpl)
            return fail(f, EXC_TS, (new_ss & 0xfffcu) + ext, "and a TSS stack selector of the wrong privilege");
        struct desc sd;
        if (read_desc(e, m, new_ss, ext, &sd, f))
            return 1;
        if (!(sd.flags & DESC_S) || (sd.flags & DESC_CODE) || !(sd.flags & DESC_W) ||
            DESC_DPL(sd.flags) != new_cpl)
            return fail(f, EXC_TS, (new_ss & 0xfffcu) + ext, "and a TSS stack segment that is not usable");
        if (!(sd.flags & DESC_P))
            return fail(f, EXC_SS, (new_ss & 0xfffcu) + ext, "and a TSS stack segment that is not present");
        ss = (struct segcache){ new_ss, sd.base, sd.limit, sd.flags | DESC_A };
    }
    uint32_t frame[10];
    unsigned n = 0;
    if (x->has_error)
        frame[n++] = x->error;
    frame[n++] = (uint32_t)x->rip;
    frame[n++] = (uint32_t)emu_reg(e, UC_X86_REG_CS);
    frame[n++] = (uint32_t)flags;
    if (inner) {
        frame[n++] = old_esp;
        frame[n++] = old_ss;
    }
    if (vm86) {
        static const int data[4] = { UC_X86_REG_ES, UC_X86_REG_DS, UC_X86_REG_FS, UC_X86_REG_GS };
        for (int i = 0; i < 4; i++)
            frame[n++] = (uint16_t)emu_reg(e, data[i]);
    }
    uint8_t bytes[40];
    for (unsigned i = 0; i < n; i++)
        memcpy(bytes + i * width, &frame[i], width);
    uint32_t sp_mask = (ss.flags & DESC_B) ? 0xffffffffu : 0xffffu;
    uint32_t new_sp = (esp - n * width) & sp_mask;
    if (mmu_write(e, m, (uint32_t)(ss.base + new_sp), bytes, n * width,
                  new_cpl == 3 ? MMU_USER : MMU_SUPERVISOR, &mf))
        return page_fault(f, &mf, "pushing the exception frame");

    if (inner)
        cpustate_set_seg(&e->cpu, SEG_SS, ss);
    load_cs(e, sel, new_cpl, &cs);
    if (vm86) {
        static const enum seg data[4] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
        for (int i = 0; i < 4; i++)
            cpustate_set_seg(&e->cpu, data[i], (struct segcache){ 0, 0, 0, 0 });
    }
    commit(e, (esp & ~sp_mask) | new_sp, flags_after(flags, type), target);
    return 0;
}

static int deliver_real(struct emu *e, const struct mmu *m, const struct exc *x, struct dfault *f)
{
    uc_x86_mmr idtr = { 0 };
    uc_reg_read(e->uc, UC_X86_REG_IDTR, &idtr);
    if (x->vector * 4u + 3 > idtr.limit)
        return fail(f, EXC_GP, 0, "beyond the interrupt vector table");
    uint8_t v[4];
    struct mmu_fault mf;
    if (mmu_read(e, m, (uint32_t)(idtr.base + x->vector * 4u), v, 4, MMU_IMPLICIT, &mf))
        return page_fault(f, &mf, "reading the interrupt vector table");
    struct segcache ss = cpustate_seg(&e->cpu, SEG_SS);
    uint64_t flags = cpustate_rflags(&e->cpu);
    uint16_t frame[3] = { (uint16_t)x->rip, (uint16_t)emu_reg(e, UC_X86_REG_CS), (uint16_t)flags };
    uint32_t sp = ((uint32_t)emu_reg(e, UC_X86_REG_RSP) - 6) & 0xffff;
    if (mmu_write(e, m, ss.base + sp, frame, 6, MMU_SUPERVISOR, &mf))
        return page_fault(f, &mf, "pushing the interrupt frame");
    uint16_t sel = (uint16_t)(v[2] | v[3] << 8);
    cpustate_set_seg(&e->cpu, SEG_CS, (struct segcache){ sel, (uint64_t)sel << 4, 0xffff,
                                                         DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_A });
    uint64_t rsp = (emu_reg(e, UC_X86_REG_RSP) & ~0xffffull) | sp;
    commit(e, rsp, flags & ~(uint64_t)(EFLAGS_IF | EFLAGS_TF | EFLAGS_AC | EFLAGS_RF),
           (uint16_t)(v[0] | v[1] << 8));
    return 0;
}

enum exc_class { BENIGN, CONTRIBUTORY, PAGE_FAULT, DOUBLE_FAULT };

static enum exc_class class_of(unsigned vector, enum exc_source source)
{
    if (source != EXC_CPU)
        return BENIGN;
    if (vector == 0 || (vector >= EXC_TS && vector <= EXC_GP))
        return CONTRIBUTORY;
    return vector == EXC_PF ? PAGE_FAULT : vector == EXC_DF ? DOUBLE_FAULT : BENIGN;
}

static void name_of(char *buf, size_t len, const struct exc *x)
{
    if (x->source == EXC_SOFT)
        snprintf(buf, len, "INT 0x%02x", x->vector);
    else if (x->vector < 32 && names[x->vector])
        snprintf(buf, len, "%s (%u)", names[x->vector], x->vector);
    else
        snprintf(buf, len, "interrupt 0x%02x", x->vector);
}

bool deliver_exception(struct emu *e, const struct exc *first)
{
    struct exc x = *first;
    char what[200], chain[400];   /* written before read; not zeroed on every delivery */
    what[0] = chain[0] = '\0';
    size_t cn = 0;
    for (int attempt = 0;; attempt++) {
        struct mmu m;
        struct dfault f;
        if (attempt > 0 || !x.cpu_loaded)
            cpustate_load(&e->cpu, e->uc);
        mmu_from_cpu(&e->cpu, &m);
        enum cpu_mode mode = cpustate_mode(&e->cpu);
        int r = mode == MODE_REAL ? deliver_real(e, &m, &x, &f)
              : cpustate_long_mode(&e->cpu) ? deliver64(e, &m, &x, &f)
                                           : deliver32(e, &m, &x, &f);
        if (r == 0) {
            e->delivered++;
            return true;
        }
        char name[32];
        name_of(name, sizeof name, &x);
        if (r < 0) {
            snprintf(what, sizeof what, "exception %s through a task gate to or from a 16-bit "
                     "task, which vsbox does not model", name);
            deliver_report(e, what, first->rip, cn ? chain : NULL);
            run_finish(e, EMU_UNSUPPORTED);
            return false;
        }
        if (attempt == 0)
            snprintf(what, sizeof what, "unhandled exception %s %s", name, f.why);
        else if (cn < sizeof chain)
            cn += (size_t)snprintf(chain + cn, sizeof chain - cn, "%s%s %s", cn ? ", then " : "then ",
                                   name, f.why);
        if (class_of(x.vector, x.source) == DOUBLE_FAULT || attempt >= 3) {
            if (cn < sizeof chain)
                cn += (size_t)snprintf(chain + cn, sizeof chain - cn, "%sa triple fault: the CPU shut down",
                                       cn ? ": " : "");
            deliver_report(e, what, first->rip, chain);
            run_finish(e, EMU_CRASHED);
            return false;
        }
        enum exc_class a = class_of(x.vector, x.source), b = class_of(f.vector, EXC_CPU);
        bool df = (a == CONTRIBUTORY && b == CONTRIBUTORY) ||
                  (a == PAGE_FAULT && (b == CONTRIBUTORY || b == PAGE_FAULT));
        if (f.vector == EXC_PF)
            emu_set_reg(e, UC_X86_REG_CR2, f.cr2);
        /* The new exception reports the instruction that caused the first one. */
        x = (struct exc){ .pending = true, .vector = df ? EXC_DF : f.vector, .has_error = true,
                          .error = df ? 0 : f.error, .rip = x.insn, .insn = x.insn,
                          .source = EXC_CPU };
    }
}
