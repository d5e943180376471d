/* What each trapped instruction does: check it as the CPU would, ask the model, charge
 * the clock, record the event, and either write the answer back or raise the model's
 * exception. Every site is the last instruction of its translation block (site.c), so
 * an exception or a stop here takes effect exactly at it. */
#include <string.h>
#include "emu/internal.h"
#include "emu/mmu.h"
#include "emu/xen_platform.h"
#include "viridian/planted.h"
#include "viridian/hypercall.h"

/* Ticks of guest time each kind of exit costs: the clock moves only at traps, so a
 * guest sees time pass exactly as often as it can observe it, whatever the host does.
 * Roughly what such exits cost on hardware at 2 GHz. */
static const uint32_t cost[COST_KINDS] = {
    [COST_CPUID] = 100, [COST_MSR] = 150, [COST_TSC] = 25,
    [COST_IO] = 1000, [COST_HYPERCALL] = 1200, [COST_EXCEPTION] = 300,
};

enum { CR4_TSD = 1u << 2, CR0_PE = 1u };

/* The hot traps move registers in one batch: each Unicorn register call costs about as
 * much as the model's whole answer. */
enum { R_AX, R_BX, R_CX, R_DX, R_COUNT };
static const int ids[R_COUNT] = { UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX,
                                  UC_X86_REG_RDX };

static void regs_read(struct emu *e, const int *which, uint64_t *v, int n)
{
    int mapped[R_COUNT];
    void *ptr[R_COUNT];
    for (int i = 0; i < n; i++) {
        mapped[i] = ids[which[i]];
        v[i] = 0;
        ptr[i] = &v[i];
    }
    uc_reg_read_batch(e->uc, mapped, ptr, n);
}

static void regs_write(struct emu *e, const int *which, uint64_t *v, int n)
{
    int mapped[R_COUNT];
    void *ptr[R_COUNT];
    for (int i = 0; i < n; i++) {
        mapped[i] = ids[which[i]];
        ptr[i] = &v[i];
    }
    uc_reg_write_batch(e->uc, mapped, ptr, n);
}

void trap_clock(struct emu *e, unsigned kind)
{
    vmodel_advance(e->model, cost[kind]);
    if (e->irq.deadline_tsc != UINT64_MAX)
        irq_clock_moved(e);
}

void trap_event(struct emu *e, const struct vevent *ev, const struct vres *res, uint64_t rip)
{
    uint64_t now = vmodel_tsc(e->model);
    if (e->cfg.sink.event)
        e->cfg.sink.event(e->cfg.sink.ctx, now - e->last_event_tsc, ev, res, rip);
    e->last_event_tsc = now;
    e->delivered = 0;
    e->res->events = ++e->events;
    if (e->cfg.save_at && e->events == e->cfg.save_at && !e->stop)
        run_finish(e, EMU_SAVE_POINT);
    else if (e->cfg.cancel && *e->cfg.cancel && !e->stop)
        run_finish(e, EMU_CANCELLED);
}

/* Architectural MSRs Unicorn keeps itself: the instruction runs against its state. */
bool emu_msr_native(uint32_t msr)
{
    static const uint32_t own[] = { 0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
                                    0xc0000100, 0xc0000101, 0xc0000102, 0x174, 0x175, 0x176,
                                    0x277 };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (own[i] == msr)
            return true;
    return false;
}

void trap_regs_read(struct emu *e, struct trap_regs *r)
{
    static const int which[5] = { UC_X86_REG_RIP, UC_X86_REG_RAX, UC_X86_REG_RCX,
                                  UC_X86_REG_RDX, UC_X86_REG_CS };
    uint64_t *v[5] = { &r->rip, &r->rax, &r->rcx, &r->rdx, &r->cs };
    *r = (struct trap_regs){ 0, 0, 0, 0, 0 };
    uc_reg_read_batch(e->uc, (int *)which, (void **)v, 5);
}

/* CPL as the CPU checks privileged instructions: CS.RPL, except in real mode. */
static unsigned cpl_of(struct emu *e, const struct trap_regs *r)
{
    if ((r->cs & 3) == 0)
        return 0;
    return (emu_reg(e, UC_X86_REG_CR0) & CR0_PE) ? (unsigned)(r->cs & 3) : 0;
}

static void gp0(struct emu *e, uint64_t rip)
{
    run_raise(e, 13, true, 0, rip, rip, EXC_CPU);
}

static void do_msr(struct emu *e, bool write, const struct trap_regs *r)
{
    uint64_t rip = r->rip;
    if (cpl_of(e, r) != 0) {
        gp0(e, rip);
        return;
    }
    uint32_t msr = (uint32_t)r->rcx;
    uint64_t value = (r->rdx & 0xffffffffu) << 32 | (r->rax & 0xffffffffu);
    if (emu_msr_native(msr)) {
        uc_x86_msr m = { msr, value };
        if (write) {
            uc_reg_write(e->uc, UC_X86_REG_MSR, &m);
            if (msr == 0xc0000080)
                syscall_efer_written(e, value);
        } else {
            uc_reg_read(e->uc, UC_X86_REG_MSR, &m);
            uint64_t out[2] = { m.value & 0xffffffffu, m.value >> 32 };
            static const int ad[2] = { R_AX, R_DX };
            regs_write(e, ad, out, 2);
        }
        return;
    }
    bool gp;
    if (msr_platform(e, msr, write, &value, &gp)) {
        if (gp) {
            gp0(e, rip);
        } else if (!write) {
            uint64_t out[2] = { value & 0xffffffffu, value >> 32 };
            static const int ad[2] = { R_AX, R_DX };
            regs_write(e, ad, out, 2);
        }
        return;
    }
    trap_clock(e, COST_MSR);
    struct vevent ev = { .kind = write ? VEV_WRMSR : VEV_RDMSR, .vcpu = e->cur, .a = { msr, value },
                         .legacy = -1 };
    struct vres res;
    vmodel_apply(e->model, &ev, &res);
    trap_event(e, &ev, &res, rip);
    if (res.kind == VRES_GP) {
        gp0(e, rip);
        return;
    }
    if (!write) {
        uint64_t out[2] = { res.v[0] & 0xffffffffu, FAULT(FAULT_EMU_DROPS_EDX) ? 0 : res.v[0] >> 32 };
        static const int ad[2] = { R_AX, R_DX };
        regs_write(e, ad, out, 2);
    } else if ((msr >= 0x40000080u && msr <= 0x400000bfu) || msr == 0x40000021u) {
        /* SynIC and synthetic timer MSRs move a deadline; so may HV_X64_MSR_REFERENCE_TSC
         * on KVM, where enabling the page rebases the reference count timers run on */
        irq_timers_changed(e);
    }
}

static void do_tsc(struct emu *e, bool rdtscp, const struct trap_regs *r)
{
    uint64_t rip = r->rip;
    if (cpl_of(e, r) != 0 && (emu_reg(e, UC_X86_REG_CR4) & CR4_TSD)) {
        gp0(e, rip);
        return;
    }
    if (rdtscp) {
        uint32_t r[4];
        cpuid_native(e, 0x80000001u, 0, r);
        if (!(r[3] & (1u << 27))) {   /* CPUID.80000001H:EDX.RDTSCP */
            run_raise(e, 6, false, 0, rip, rip, EXC_CPU);
            return;
        }
    }
    trap_clock(e, COST_TSC);
    struct vevent ev = { .kind = VEV_RDTSC, .vcpu = e->cur, .legacy = -1 };
    struct vres res;
    vmodel_apply(e->model, &ev, &res);
    trap_event(e, &ev, &res, rip);
    uint64_t out[3] = { res.v[0] & 0xffffffffu, res.v[0] >> 32, 0 /* IA32_TSC_AUX: vCPU 0 */ };
    static const int adc[3] = { R_AX, R_DX, R_CX };
    regs_write(e, adc, out, rdtscp ? 3 : 2);
}

/* CPUID: the model's leaves are events, the rest Unicorn's CPU model (read once). */
static void cpuid_trap(struct emu *e, uint64_t rip, bool rip_known)
{
    static const int ac[2] = { R_AX, R_CX }, abcd[4] = { R_AX, R_BX, R_CX, R_DX };
    uint64_t in[2], out[4];
    regs_read(e, ac, in, 2);
    uint32_t leaf = (uint32_t)in[0], sub = (uint32_t)in[1];
    uint32_t r[4];
    trap_clock(e, COST_CPUID);
    if (vmodel_cpuid_owns(leaf)) {
        struct vevent ev = { .kind = VEV_CPUID, .vcpu = e->cur, .a = { leaf, sub }, .legacy = -1 };
        struct vres res;
        vmodel_apply(e->model, &ev, &res);
        /* RIP is only needed for the record: skip the read when nobody listens. */
        if (!rip_known && e->cfg.sink.event)
            rip = emu_reg(e, UC_X86_REG_RIP);
        trap_event(e, &ev, &res, rip);
        for (int i = 0; i < 4; i++)
            r[i] = (uint32_t)res.v[i];
    } else {
        cpuid_native(e, leaf, sub, r);
        if (leaf == 1)   /* the initial APIC ID: vCPU n's is 2n, as Xen numbers them */
            r[1] = (r[1] & 0x00ffffffu) | (e->cur * 2) << 24;
        if (leaf == 0x80000001u)   /* SYSCALL: emulated (syscall.c), so advertised */
            r[3] |= 1u << 11;
    }
    for (int i = 0; i < 4; i++)
        out[i] = r[i];
    regs_write(e, abcd, out, 4);
}

/* The fast path: a CPUID Unicorn translated as itself (no save point is set, so no
 * stop needs to be exact at it). */
static int on_cpuid(uc_engine *uc, void *user)
{
    struct emu *e = user;
    (void)uc;
    if (!e->stop)
        cpuid_trap(e, 0, false);
    return 1; /* skip Unicorn's own CPUID */
}

static void hypercall_viridian(struct emu *e, uint64_t rip, bool wide)
{
    uint64_t in, gin, gout;
    if (wide) {
        in = emu_reg(e, UC_X86_REG_RCX);
        gin = emu_reg(e, UC_X86_REG_RDX);
        gout = emu_reg(e, UC_X86_REG_R8);
    } else { /* the 32-bit convention: EDX:EAX, EBX:ECX, EDI:ESI */
        in = (emu_reg(e, UC_X86_REG_RDX) & 0xffffffffu) << 32 | (emu_reg(e, UC_X86_REG_RAX) & 0x7fffffffu);
        gin = (emu_reg(e, UC_X86_REG_RBX) & 0xffffffffu) << 32 | (emu_reg(e, UC_X86_REG_RCX) & 0xffffffffu);
        gout = (emu_reg(e, UC_X86_REG_RDI) & 0xffffffffu) << 32 | (emu_reg(e, UC_X86_REG_RSI) & 0xffffffffu);
    }
    struct vevent ev = { .kind = VEV_HYPERCALL, .vcpu = e->cur, .a = { in, gin, gout }, .legacy = -1 };
    struct vres res;
    vmodel_apply(e->model, &ev, &res);
    /* The input block it read goes into the record (`in=`): replay has no guest memory. */
    ev.input = vmodel_hypercall_input(e->model, &ev.input_words);
    trap_event(e, &ev, &res, rip);
    if (res.kind == VRES_UD) {
        run_raise(e, 6, false, 0, rip, rip, EXC_CPU);
        return;
    }
    if (wide) {
        emu_set_reg(e, UC_X86_REG_RAX, res.v[0]);
    } else {
        emu_set_reg(e, UC_X86_REG_RAX, res.v[0] & 0xffffffffu);
        emu_set_reg(e, UC_X86_REG_RDX, res.v[0] >> 32);
    }
}

/* VMCALL and VMMCALL: the model's when it says so (on Xen EAX bit 31, which the
 * viridian hypercall page sets); the rest are Xen's own (xen_platform.c). */
static void hypercall(struct emu *e, uint64_t rip)
{
    trap_clock(e, COST_HYPERCALL);
    cpustate_load(&e->cpu, e->uc);
    bool wide = cpustate_mode(&e->cpu) == MODE_LONG64;
    if (vmodel_hypercall_owns(e->model, emu_reg(e, UC_X86_REG_RAX)))
        hypercall_viridian(e, rip, wide);
    else
        xen_hypercall(e, rip, wide, cpustate_cpl(&e->cpu));
}

/* The ports vsbox answers: the 0xE9 console, the 0xF4 exit, the PIT. */
static void io_out(struct emu *e, uint32_t port, uint32_t value)
{
    trap_clock(e, COST_IO);
    if (port == 0xe9 && e->cfg.sink.console)
        e->cfg.sink.console(e->cfg.sink.ctx, (char)value);
    else if (port == 0xf4) {
        e->res->exit_code = (int)(value & 0xff);
        run_finish(e, EMU_EXITED);
    } else if (port >= 0x40 && port <= 0x43)
        pit_write(&e->pit, (uint16_t)port, (uint8_t)value, vmodel_tsc(e->model),
                  vmodel_tsc_khz(e->model));
}

static uint32_t io_in(struct emu *e, uint32_t port)
{
    trap_clock(e, COST_IO);
    if (port >= 0x40 && port <= 0x43)
        return pit_read(&e->pit, (uint16_t)port, vmodel_tsc(e->model), vmodel_tsc_khz(e->model));
    if (port == 0xe9)
        return 0xe9; /* the Bochs debug port answers its own number */
    return 0xffffffffu;
}

/* Port I/O above IOPL (and in virtual-8086 mode) needs the TSS's I/O permission bitmap
 * to clear every port it touches (SDM vol. 1, 19.5.2). */
static bool io_allowed(struct emu *e, const struct trap_regs *r, uint32_t port, unsigned width)
{
    uint64_t flags = emu_reg(e, UC_X86_REG_EFLAGS);
    unsigned iopl = (flags >> 12) & 3;
    bool vm86 = flags & (1u << 17);
    if (!vm86 && cpl_of(e, r) <= iopl)
        return true;
    uc_x86_mmr tr = { 0 };
    uc_reg_read(e->uc, UC_X86_REG_TR, &tr);
    if (tr.limit < 0x67)
        return false;
    struct mmu m;
    struct mmu_fault f;
    uint16_t base;
    uint16_t bits;
    mmu_load(e, &m);
    if (mmu_read(e, &m, tr.base + 0x66, &base, 2, MMU_IMPLICIT, &f) ||
        (uint32_t)base + port / 8 + 1 > tr.limit ||
        mmu_read(e, &m, tr.base + base + port / 8, &bits, 2, MMU_IMPLICIT, &f))
        return false;
    return ((bits >> (port & 7)) & ((1u << width) - 1)) == 0;
}

static void do_io(struct emu *e, const struct site *s, const struct trap_regs *r)
{
    uint32_t port = s->port >= 0 ? (uint32_t)s->port : (uint32_t)(r->rdx & 0xffff);
    if (!io_allowed(e, r, port, s->width)) {
        gp0(e, r->rip);
        return;
    }
    uint32_t mask = s->width == 4 ? 0xffffffffu : (1u << (8 * s->width)) - 1;
    if (s->kind == SITE_OUT) {
        io_out(e, port, (uint32_t)r->rax & mask);
        return;
    }
    uint32_t v = io_in(e, port) & mask;
    /* IN to EAX clears the upper half of RAX; to AL or AX it keeps the rest */
    uint64_t rax = s->width == 4 ? v : (r->rax & ~(uint64_t)mask) | v;
    emu_set_reg(e, UC_X86_REG_RAX, rax);
}

void trap_site(struct emu *e, const struct site *s, const struct trap_regs *r)
{
    uint64_t rip = r->rip;
    switch (s->kind) {
    case SITE_RDMSR:
    case SITE_WRMSR:
        do_msr(e, s->kind == SITE_WRMSR, r);
        return;
    case SITE_RDTSC:
    case SITE_RDTSCP:
        do_tsc(e, s->kind == SITE_RDTSCP, r);
        return;
    case SITE_CPUID:
        /* CPUID faulting (MSR_INTEL_MISC_FEATURES_ENABLES): #GP(0) outside ring 0 */
        if (msr_platform_cpuid_faulting(e) && cpl_of(e, r) != 0) {
            gp0(e, rip);
            return;
        }
        cpuid_trap(e, rip, true);
        return;
    case SITE_VMCALL:
    case SITE_VMMCALL:
        hypercall(e, rip);
        return;
    case SITE_SYSCALL:
        syscall_trap(e, rip, s->len);
        return;
    case SITE_SYSENTER:
        sysenter_trap(e, rip);
        return;
    case SITE_HLT:
        if (cpl_of(e, r) != 0) {
            gp0(e, rip);
            return;
        }
        e->halted = true;
        run_stop(e);
        return;
    case SITE_ICEBP:
        run_raise(e, 1, false, 0, rip + s->len, rip, EXC_ICEBP);
        return;
    case SITE_IN:
    case SITE_OUT:
        do_io(e, s, r);
        return;
    case SITE_NONE:
        return;
    }
}

/* String I/O (INS, OUTS), which Unicorn runs itself, port by port. */
static void on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user)
{
    struct emu *e = user;
    (void)uc;
    (void)size;
    if (!e->stop)
        io_out(e, port, value);
}

static uint32_t on_in(uc_engine *uc, uint32_t port, int size, void *user)
{
    struct emu *e = user;
    (void)uc;
    (void)size;
    return io_in(e, port);
}

static void on_insn(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    struct emu *e = user;
    (void)uc;
    cs_insn *insn;
    char text[160] = "(undecodable)";
    const uint8_t *p = site_code(e, addr, size);
    cpustate_load(&e->cpu, e->uc);
    if (p && cs_disasm(emu_capstone(e, cpustate_mode(&e->cpu)), p, size, addr, 1, &insn) == 1) {
        snprintf(text, sizeof text, "%.31s %.120s", insn->mnemonic, insn->op_str);
        cs_free(insn, 1);
    }
    e->cfg.sink.insn(e->cfg.sink.ctx, addr, text);
}

int traps_install(struct emu *e, char *err, size_t errlen)
{
    uc_hook h;
    uc_err r = uc_hook_add(e->uc, &h, UC_HOOK_INSN, (void *)on_cpuid, e, 1, 0, UC_X86_INS_CPUID);
    r = r ? r : uc_hook_add(e->uc, &h, UC_HOOK_INSN, (void *)on_out, e, 1, 0, UC_X86_INS_OUT);
    r = r ? r : uc_hook_add(e->uc, &h, UC_HOOK_INSN, (void *)on_in, e, 1, 0, UC_X86_INS_IN);
    /* The only hook over every instruction, and only when asked: the teaching path. */
    if (!r && e->cfg.trace_insns && e->cfg.sink.insn)
        r = uc_hook_add(e->uc, &h, UC_HOOK_CODE, (void *)on_insn, e, 1, 0);
    if (r) {
        snprintf(err, errlen, "Unicorn refused a hook: %s", uc_strerror(r));
        return -1;
    }
    return 0;
}
