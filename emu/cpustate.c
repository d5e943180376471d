/* Unicorn's saved context is QEMU's CPUX86State up to `retaddr`, copied whole. These
 * offsets are that structure's as Unicorn 2.0.1 builds it (qemu/target/i386/cpu.h),
 * and cpustate_verify() checks every one of them on the Unicorn actually linked
 * before vsbox relies on them: a build that lays the state out differently is
 * refused, never misread. */
#include <string.h>
#include "emu/ccflags.h"
#include "emu/cpustate.h"

enum {
    CTX_HEADER = CPUSTATE_CTX_HEADER,          /* struct uc_context: size, mode, arch, then the state */
    CTX_STATE_SIZE = 5528,    /* offsetof(CPUX86State, retaddr) */
    OFF_REGS = 0, OFF_EIP = 128, OFF_EFLAGS = 136, OFF_CC_DST = 144, OFF_CC_SRC = 152,
    OFF_CC_SRC2 = 160, OFF_CC_OP = 168,
    OFF_DF = 172, OFF_HFLAGS = 176, OFF_HFLAGS2 = 180,
    OFF_SEGS = 184, SEG_SIZE = 24, SEG_BASE = 8, SEG_LIMIT = 16, SEG_FLAGS = 20,
    OFF_GDT = 376, OFF_IDT = 400, OFF_CR = 424, OFF_EFER = 560,
    OFF_ERROR_CODE = 5352, OFF_EXCEPTION_IS_INT = 5356, OFF_EXCEPTION_NEXT_EIP = 5360,
    OFF_OLD_EXCEPTION = 5464,
    PREFIX_SIZE = OFF_EFER + 8,   /* what cpustate_load_prefix copies */
};

/* QEMU's hflags (target/i386/cpu.h HF_*), the translator's view of the mode. */
enum {
    HF_CPL = 3u, HF_INHIBIT_IRQ = 1u << 3, HF_CS32 = 1u << 4, HF_SS32 = 1u << 5,
    HF_ADDSEG = 1u << 6, HF_LMA = 1u << 14, HF_CS64 = 1u << 15,
};
/* QEMU's CC_OP_EFLAGS (the arithmetic flags evaluated, in CC_SRC), those flags, and DF
 * (kept apart as +1/-1). */
enum { CC_OP_EFLAGS = 1, CC_MASK = 0x8d5, EFLAGS_DF = 1u << 10 };
/* hflags2: HF2_GIF (set from reset), HF2_NMI (an NMI handler runs: IRET clears it) */
enum { HF2_GIF = 1u << 0, HF2_NMI = 1u << 2 };
enum { EFLAGS_VM = 1u << 17, CR0_PE = 1u };

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

int cpustate_open(struct cpustate *cs, uc_engine *uc)
{
    memset(cs, 0, sizeof *cs);
    if (uc_context_size(uc) != CTX_HEADER + CTX_STATE_SIZE || uc_context_alloc(uc, &cs->ctx))
        return -1;
    cs->data = (uint8_t *)cs->ctx + CTX_HEADER;
    cs->uc = uc;
    return 0;
}

void cpustate_close(struct cpustate *cs)
{
    if (cs->ctx)
        uc_context_free(cs->ctx);
    cs->ctx = NULL;
}

void cpustate_load(struct cpustate *cs, uc_engine *uc)
{
    uc_context_save(uc, cs->ctx);
    cs->loaded = true;
    cs->changed = cs->prefix = false;
    cs->changed_end = 0;
}

/* uc_context_save and uc_context_restore copy as many bytes as the context's header
 * says (its first field, a size_t: CPUSTATE_CTX_HEADER), from the start of QEMU's
 * state: the first `part` bytes move, and the rest of either side stays as it was. */
static void copy_part(struct cpustate *cs, uc_engine *uc, size_t part, bool save)
{
    size_t full;
    memcpy(&full, cs->ctx, sizeof full);
    memcpy(cs->ctx, &part, sizeof part);
    if (save)
        uc_context_save(uc, cs->ctx);
    else
        uc_context_restore(uc, cs->ctx);
    memcpy(cs->ctx, &full, sizeof full);
}

void cpustate_load_prefix(struct cpustate *cs, uc_engine *uc)
{
    copy_part(cs, uc, PREFIX_SIZE, true);
    cs->loaded = cs->prefix = true;
    cs->changed = false;
    cs->changed_end = 0;
}

void cpustate_store(struct cpustate *cs, uc_engine *uc)
{
    /* Of a prefix only the prefix goes back, and only if changed (unchanged, it is the
     * engine's state already); its stale rest never does. */
    if (!cs->prefix)
        uc_context_restore(uc, cs->ctx);
    else if (cs->changed)
        copy_part(cs, uc, cs->changed_end, false);
    cs->changed = false;
    cs->changed_end = 0;
}

void cpustate_store_changed(struct cpustate *cs, uc_engine *uc)
{
    if (!cs->changed)
        return;
    /* The engine has not moved since the load, so changes within the prefix need only
     * the bytes up to the last one changed back: a delivery's RSP and RFLAGS lie in the
     * first 176, its CS in the first 208. */
    if (cs->changed_end <= PREFIX_SIZE) {
        copy_part(cs, uc, cs->changed_end, false);
        cs->changed = false;
        cs->changed_end = 0;
    } else {
        cpustate_store(cs, uc);
    }
}

/* A change past a prefix: the whole state first, keeping the prefix's own changes (the
 * engine has not moved since the prefix was read: deliveries read, then change, then
 * write back). */
static void whole(struct cpustate *cs)
{
    if (!cs->prefix)
        return;
    uint8_t keep[PREFIX_SIZE];
    bool changed = cs->changed;
    uint32_t end = cs->changed_end;
    memcpy(keep, cs->data, sizeof keep);
    cpustate_load(cs, cs->uc);
    memcpy(cs->data, keep, sizeof keep);
    cs->changed = changed;
    cs->changed_end = end;
}

static void mark(struct cpustate *cs, size_t end)
{
    cs->changed = true;
    if (end > cs->changed_end)
        cs->changed_end = (uint32_t)end;
}

/* A setter's write: marks the state changed only when the bytes differ. Past a prefix
 * the stale rest is read first. */
static void set32(struct cpustate *cs, size_t off, uint32_t v)
{
    if (get32(cs->data + off) != v) {
        if (off >= PREFIX_SIZE) {
            whole(cs);
            if (get32(cs->data + off) == v)
                return;
        }
        put32(cs->data + off, v);
        mark(cs, off + 4);
    }
}

static void set64(struct cpustate *cs, size_t off, uint64_t v)
{
    if (get64(cs->data + off) != v) {
        if (off >= PREFIX_SIZE) {
            whole(cs);
            if (get64(cs->data + off) == v)
                return;
        }
        put64(cs->data + off, v);
        mark(cs, off + 8);
    }
}

struct segcache cpustate_seg(const struct cpustate *cs, enum seg s)
{
    const uint8_t *p = cs->data + OFF_SEGS + SEG_SIZE * s;
    return (struct segcache){ (uint16_t)get32(p), get64(p + SEG_BASE), get32(p + SEG_LIMIT),
                              get32(p + SEG_FLAGS) };
}

/* What QEMU's cpu_x86_load_seg_cache derives, by the same rules: the code size from
 * CS (64-bit only with EFER.LMA and CS.L), CPL from SS.DPL, the stack size from SS.B,
 * and whether segment bases must be added to addresses (never in 64-bit code; always
 * in real, virtual-8086 and 16-bit code; otherwise when DS, ES or SS has a base). */
void cpustate_set_seg(struct cpustate *cs, enum seg s, struct segcache c)
{
    size_t p = OFF_SEGS + SEG_SIZE * (size_t)s;
    set32(cs, p, c.selector);
    set64(cs, p + SEG_BASE, c.base);
    set32(cs, p + SEG_LIMIT, c.limit);
    set32(cs, p + SEG_FLAGS, c.flags);

    uint32_t hf = get32(cs->data + OFF_HFLAGS);
    if (s == SEG_CS) {
        if ((hf & HF_LMA) && (c.flags & DESC_L))
            hf = (hf | HF_CS32 | HF_SS32 | HF_CS64) & ~HF_ADDSEG;
        else
            hf = (hf & ~(HF_CS32 | HF_CS64)) | ((c.flags & DESC_B) ? HF_CS32 : 0);
    }
    if (s == SEG_SS)
        hf = (hf & ~HF_CPL) | DESC_DPL(c.flags);
    uint32_t derived = (cpustate_seg(cs, SEG_SS).flags & DESC_B) ? HF_SS32 : 0;
    if (hf & HF_CS64) {
        /* 64-bit code ignores the bases of DS, ES and SS */
    } else if (!(cpustate_cr(cs, 0) & CR0_PE) || (get64(cs->data + OFF_EFLAGS) & EFLAGS_VM) ||
               !(hf & HF_CS32)) {
        derived |= HF_ADDSEG;
    } else if ((cpustate_seg(cs, SEG_DS).base | cpustate_seg(cs, SEG_ES).base |
                cpustate_seg(cs, SEG_SS).base) != 0) {
        derived |= HF_ADDSEG;
    }
    set32(cs, OFF_HFLAGS, (hf & ~(HF_SS32 | HF_ADDSEG)) | derived);
}

unsigned cpustate_cpl(const struct cpustate *cs)
{
    return get32(cs->data + OFF_HFLAGS) & HF_CPL;
}

enum cpu_mode cpustate_mode(const struct cpustate *cs)
{
    uint32_t hf = get32(cs->data + OFF_HFLAGS);
    if (!(cpustate_cr(cs, 0) & CR0_PE))
        return MODE_REAL;
    if (get64(cs->data + OFF_EFLAGS) & EFLAGS_VM)
        return MODE_VM86;
    if (hf & HF_LMA)
        return (hf & HF_CS64) ? MODE_LONG64 : (hf & HF_CS32) ? MODE_COMPAT32 : MODE_COMPAT16;
    return (hf & HF_CS32) ? MODE_PROT32 : MODE_PROT16;
}

bool cpustate_long_mode(const struct cpustate *cs)
{
    return get32(cs->data + OFF_HFLAGS) & HF_LMA;
}

uint64_t cpustate_cr(const struct cpustate *cs, unsigned n)
{
    return n < 5 ? get64(cs->data + OFF_CR + 8 * n) : 0;
}

void cpustate_set_efer(struct cpustate *cs, uint64_t efer)
{
    set64(cs, OFF_EFER, efer);
    uint32_t hf = get32(cs->data + OFF_HFLAGS);
    hf = (efer & (1u << 10)) ? hf | HF_LMA : hf & ~(HF_LMA | HF_CS64);
    set32(cs, OFF_HFLAGS, hf);
}

uint32_t cpustate_error_code(const struct cpustate *cs)
{
    return get32(cs->data + OFF_ERROR_CODE);
}

bool cpustate_exception_is_int(const struct cpustate *cs)
{
    return get32(cs->data + OFF_EXCEPTION_IS_INT) != 0;
}

uint64_t cpustate_exception_next_ip(const struct cpustate *cs)
{
    return get64(cs->data + OFF_EXCEPTION_NEXT_EIP);
}

/* QEMU's x86_cpu_do_interrupt ends a delivery with old_exception = -1; without it the
 * next contributory fault becomes #DF (excp_helper.c check_exception). */
void cpustate_exception_done(struct cpustate *cs)
{
    set32(cs, OFF_OLD_EXCEPTION, 0xffffffffu);
}

bool cpustate_irq_shadow(const struct cpustate *cs)
{
    return get32(cs->data + OFF_HFLAGS) & HF_INHIBIT_IRQ;
}

void cpustate_clear_irq_shadow(struct cpustate *cs)
{
    set32(cs, OFF_HFLAGS, get32(cs->data + OFF_HFLAGS) & ~HF_INHIBIT_IRQ);
}

uint64_t cpustate_efer(const struct cpustate *cs)
{
    return get64(cs->data + OFF_EFER);
}

uint64_t cpustate_eflags(const struct cpustate *cs)
{
    return get64(cs->data + OFF_EFLAGS);
}

/* QEMU keeps the arithmetic flags apart while it runs (CC_OP and its operands) and DF
 * as +1/-1; this is its cpu_compute_eflags(), which leaves the saved EFLAGS' own
 * arithmetic bits out (between runs they are there too, and agree). */
uint64_t cpustate_rflags(const struct cpustate *cs)
{
    uint64_t f = get64(cs->data + OFF_EFLAGS) & ~(uint64_t)(CC_MASK | EFLAGS_DF);
    f |= cc_compute_all(get32(cs->data + OFF_CC_OP), get64(cs->data + OFF_CC_DST),
                        get64(cs->data + OFF_CC_SRC), get64(cs->data + OFF_CC_SRC2));
    if (get32(cs->data + OFF_DF) == 0xffffffffu)
        f |= EFLAGS_DF;
    return (uint32_t)f;
}

/* cpu_load_eflags(env, flags, -1), as a write of EFLAGS through Unicorn does: the
 * arithmetic flags in CC_SRC with CC_OP_EFLAGS, DF as +1/-1, and the value (as a C int,
 * so sign-extended) with bit 1 set. */
void cpustate_set_rflags(struct cpustate *cs, uint64_t flags)
{
    set64(cs, OFF_CC_SRC, flags & CC_MASK);
    set32(cs, OFF_CC_OP, CC_OP_EFLAGS);
    set32(cs, OFF_DF, (flags & EFLAGS_DF) ? 0xffffffffu : 1u);
    set64(cs, OFF_EFLAGS, (uint64_t)(int64_t)(int32_t)(uint32_t)flags | 2);
}

void cpustate_flags_evaluated(struct cpustate *cs)
{
    set32(cs, OFF_CC_OP, CC_OP_EFLAGS);
}

void cpustate_set_gpr(struct cpustate *cs, unsigned n, uint64_t v)
{
    if (n < 16)
        set64(cs, OFF_REGS + 8 * n, v);
}

uint64_t cpustate_rip(const struct cpustate *cs)
{
    return get64(cs->data + OFF_EIP);
}

void cpustate_set_rip(struct cpustate *cs, uint64_t rip)
{
    set64(cs, OFF_EIP, rip);
}

uint64_t cpustate_gpr(const struct cpustate *cs, unsigned n)
{
    return n < 16 ? get64(cs->data + OFF_REGS + 8 * n) : 0;
}

void cpustate_dtr(const struct cpustate *cs, bool idt, uint64_t *base, uint32_t *limit)
{
    const uint8_t *p = cs->data + (idt ? OFF_IDT : OFF_GDT);
    *base = get64(p + SEG_BASE);
    *limit = get32(p + SEG_LIMIT);
}

/* An address in code: 64 bits wide in 64-bit code, else wrapping at 4 GiB. */
static uint64_t code_width(const struct cpustate *cs, uint64_t a)
{
    return cpustate_mode(cs) == MODE_LONG64 ? a : a & 0xffffffffu;
}

uint64_t cpustate_code_la(const struct cpustate *cs, uint64_t ip)
{
    return code_width(cs, cpustate_seg(cs, SEG_CS).base + ip);
}

uint64_t cpustate_code_ip(const struct cpustate *cs, uint64_t la)
{
    return code_width(cs, la - cpustate_seg(cs, SEG_CS).base);
}

bool cpustate_nmi_blocked(const struct cpustate *cs)
{
    return get32(cs->data + OFF_HFLAGS2) & HF2_NMI;
}

void cpustate_block_nmi(struct cpustate *cs)
{
    set32(cs, OFF_HFLAGS2, get32(cs->data + OFF_HFLAGS2) | HF2_NMI);
}

/* The check: a scratch engine holds known values in registers Unicorn has calls for
 * (they must appear at the offsets above), then takes a #GP with a known error code
 * and a software interrupt (the exception bookkeeping must appear where expected). */
struct probe {
    struct cpustate cs;
    int step;
    bool ok;
};

static void probe_intr(uc_engine *uc, uint32_t intno, void *user)
{
    struct probe *p = user;
    cpustate_load(&p->cs, uc);
    const uint8_t *d = p->cs.data;
    if (p->step == 0)   /* mov ds, ax with selector 0x1234 past the GDT limit: #GP(0x1234) */
        p->ok = intno == 13 && get32(d + OFF_ERROR_CODE) == 0x1234 &&
                get32(d + OFF_OLD_EXCEPTION) == 13 && get32(d + OFF_EXCEPTION_IS_INT) == 0;
    else                /* int 0x21 at 0x1004: a software interrupt, next at 0x1006 */
        p->ok = p->ok && intno == 0x21 && get32(d + OFF_EXCEPTION_IS_INT) == 1 &&
                get64(d + OFF_EXCEPTION_NEXT_EIP) == 0x1006 &&
                get32(d + OFF_OLD_EXCEPTION) == 0xffffffffu;
    if (p->step == 0) {
        cpustate_exception_done(&p->cs);
        cpustate_store(&p->cs, uc);
    }
    p->step++;
    uc_emu_stop(uc);
}

int cpustate_verify(char *err, size_t errlen)
{
    static const uint8_t code[] = { 0x8e, 0xd8, 0x90, 0x90, 0xcd, 0x21, 0xf4 };
    uc_engine *uc;
    struct probe p = { .ok = false };
    bool ok = false;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK)
        goto out;
    if (cpustate_open(&p.cs, uc) == 0 && uc_mem_map(uc, 0, 0x2000, UC_PROT_ALL) == UC_ERR_OK &&
        uc_mem_write(uc, 0x1000, code, sizeof code) == UC_ERR_OK) {
        uint64_t rax = 0x1234, r15 = 0x0123456789abcdefull, cr4 = 0x20, rip = 0x1000;
        uc_x86_mmr gdtr = { 0, 0x0a00, 0x17, 0 }, idtr = { 0, 0x0c00, 0xfff, 0 };
        uc_x86_msr efer = { 0xc0000080, 0x500 };
        uint64_t rflags = 0x643;   /* DF, IF, ZF, CF */
        uc_reg_write(uc, UC_X86_REG_EFLAGS, &rflags);
        uc_reg_write(uc, UC_X86_REG_RAX, &rax);
        uc_reg_write(uc, UC_X86_REG_R15, &r15);
        uc_reg_write(uc, UC_X86_REG_RIP, &rip);
        uc_reg_write(uc, UC_X86_REG_CR4, &cr4);
        uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
        uc_reg_write(uc, UC_X86_REG_IDTR, &idtr);
        uc_reg_write(uc, UC_X86_REG_MSR, &efer);
        cpustate_load(&p.cs, uc);
        const uint8_t *d = p.cs.data;
        ok = get64(d + OFF_REGS) == rax && get64(d + OFF_REGS + 15 * 8) == r15 &&
             get64(d + OFF_EIP) == rip && cpustate_rflags(&p.cs) == rflags && get64(d + OFF_GDT + SEG_BASE) == 0x0a00 &&
             get32(d + OFF_GDT + SEG_LIMIT) == 0x17 && get64(d + OFF_IDT + SEG_BASE) == 0x0c00 &&
             get32(d + OFF_IDT + SEG_LIMIT) == 0xfff && cpustate_cr(&p.cs, 4) == cr4 &&
             (get64(d + OFF_EFER) & 0x500) == 0x500 &&
             (get32(d + OFF_HFLAGS2) & (HF2_GIF | HF2_NMI)) == HF2_GIF && cpustate_mode(&p.cs) == MODE_LONG64 &&
             cpustate_cpl(&p.cs) == 0 && get32(d + OFF_OLD_EXCEPTION) == 0xffffffffu;
        /* the prefix: the same first bytes, and nothing past them touched */
        uint8_t first[PREFIX_SIZE];
        memcpy(first, d, sizeof first);
        put32(p.cs.data + PREFIX_SIZE, 0x5a5a5a5au);
        cpustate_load_prefix(&p.cs, uc);
        ok = ok && memcmp(first, p.cs.data, sizeof first) == 0 &&
             get32(p.cs.data + PREFIX_SIZE) == 0x5a5a5a5au &&
             uc_context_size(uc) == CTX_HEADER + CTX_STATE_SIZE;
        /* a prefix written back: its changes land as Unicorn's register calls would
         * have made them, and its stale rest does not go back */
        cpustate_load(&p.cs, uc);
        uint32_t rest = get32(p.cs.data + PREFIX_SIZE);
        cpustate_load_prefix(&p.cs, uc);
        put32(p.cs.data + PREFIX_SIZE, ~rest);
        cpustate_set_gpr(&p.cs, 3, 0x0badc0de5eedf00dull);
        cpustate_set_rflags(&p.cs, 0x603);   /* DF, IF, CF */
        cpustate_store(&p.cs, uc);
        uint64_t rbx = 0, flags = 0;
        uc_reg_read(uc, UC_X86_REG_RBX, &rbx);
        uc_reg_read(uc, UC_X86_REG_RFLAGS, &flags);
        cpustate_load(&p.cs, uc);
        ok = ok && rbx == 0x0badc0de5eedf00dull && flags == 0x603 && cpustate_rflags(&p.cs) == 0x603 &&
             get32(p.cs.data + PREFIX_SIZE) == rest;
        uc_hook h;
        if (ok && uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)probe_intr, &p, 1, 0) == UC_ERR_OK) {
            uc_emu_start(uc, 0x1000, 0x1007, 0, 0);     /* stops in the #GP */
            uc_emu_start(uc, 0x1004, 0x1007, 0, 0);     /* stops in the int 0x21 */
            ok = p.step == 2 && p.ok;
        } else {
            ok = false;
        }
    }
    cpustate_close(&p.cs);
    uc_close(uc);
out:
    if (!ok) {
        unsigned major, minor;
        uc_version(&major, &minor);
        snprintf(err, errlen, "this Unicorn (%u.%u) keeps its CPU state differently from "
                 "Unicorn 2.0.1: vsbox cannot deliver exceptions exactly on it", major, minor);
    }
    return ok ? 0 : -1;
}
