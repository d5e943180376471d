/* What each trapped instruction does: ask the model, charge the clock, record the
 * event, and either write the answer back or deliver the model's exception. */
#include <string.h>
#include "emu/internal.h"
#include "viridian/planted.h"
#include "viridian/hypercall.h"
#include "viridian/xen_hypercall.h"

/* Ticks of guest time each kind of exit costs: the clock moves only at traps, so a
 * guest sees time pass exactly as often as it can observe it, whatever the host does.
 * Roughly what such exits cost on hardware at 2 GHz. */
enum { COST_CPUID, COST_MSR, COST_TSC, COST_IO, COST_HYPERCALL, COST_EXCEPTION, COST_KINDS };
static const uint32_t cost[COST_KINDS] = {
    [COST_CPUID] = 100, [COST_MSR] = 150, [COST_TSC] = 25,
    [COST_IO] = 1000, [COST_HYPERCALL] = 1200, [COST_EXCEPTION] = 300,
};

/* A 32-bit engine knows only the 32-bit names of the general registers. */
static int name(const struct emu *e, int r)
{
    if (e->long_mode)
        return r;
    switch (r) {
    case UC_X86_REG_RAX: return UC_X86_REG_EAX;
    case UC_X86_REG_RBX: return UC_X86_REG_EBX;
    case UC_X86_REG_RCX: return UC_X86_REG_ECX;
    case UC_X86_REG_RDX: return UC_X86_REG_EDX;
    case UC_X86_REG_RSI: return UC_X86_REG_ESI;
    case UC_X86_REG_RDI: return UC_X86_REG_EDI;
    case UC_X86_REG_RIP: return UC_X86_REG_EIP;
    default: return r;
    }
}

static uint64_t reg(struct emu *e, int r)
{
    uint64_t v = 0;
    uc_reg_read(e->uc, name(e, r), &v);
    return e->long_mode ? v : v & 0xffffffffu;
}

static void set(struct emu *e, int r, uint64_t v)
{
    uc_reg_write(e->uc, name(e, r), &v);
}

/* The hot traps move registers in one batch, by ids fixed per mode: each Unicorn
 * register call costs about as much as the model's whole answer. */
enum { R_AX, R_BX, R_CX, R_DX, R_IP, R_COUNT };
static const int ids64[R_COUNT] = { UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX,
                                    UC_X86_REG_RDX, UC_X86_REG_RIP };
static const int ids32[R_COUNT] = { UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX,
                                    UC_X86_REG_EDX, UC_X86_REG_EIP };

static void regs_read(struct emu *e, const int *which, uint64_t *v, int n)
{
    const int *ids = e->long_mode ? ids64 : ids32;
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
    const int *ids = e->long_mode ? ids64 : ids32;
    int mapped[R_COUNT];
    void *ptr[R_COUNT];
    for (int i = 0; i < n; i++) {
        mapped[i] = ids[which[i]];
        ptr[i] = &v[i];
    }
    uc_reg_write_batch(e->uc, mapped, ptr, n);
}

static const int abcd[4] = { R_AX, R_BX, R_CX, R_DX };
static const int ac[2] = { R_AX, R_CX };
static const int ad_ip[3] = { R_AX, R_DX, R_IP };

void finish(struct emu *e, enum emu_stop why)
{
    e->res->stop = why;
    e->stop = true;
    uc_emu_stop(e->uc);
}

/* A stop requested from an exact-address hook takes effect before the instruction runs;
 * a RIP written there would cancel the stop (Unicorn treats it as "resume elsewhere"),
 * so it waits for the run loop. Hooks must decide to stop before they move RIP. */
void set_pc(struct emu *e, uint64_t pc)
{
    if (e->stop) {
        e->pending_pc = pc;
        e->pc_pending = true;
        return;
    }
    uc_reg_write(e->uc, e->long_mode ? UC_X86_REG_RIP : UC_X86_REG_EIP, &pc);
}

void clock_charge(struct emu *e, unsigned kind)
{
    vmodel_advance(e->model, cost[kind]);
    if (e->cfg.budget && vmodel_tsc(e->model) + e->blocks > e->cfg.budget && !e->stop)
        finish(e, EMU_BUDGET);
}

void trap_event(struct emu *e, const struct vevent *ev, const struct vres *res, uint64_t rip)
{
    uint64_t now = vmodel_tsc(e->model);
    if (e->cfg.sink.event)
        e->cfg.sink.event(e->cfg.sink.ctx, now - e->last_event_tsc, ev, res, rip);
    e->last_event_tsc = now;
    e->unbroken_exceptions = 0;
    e->res->events = ++e->events;
    if (e->cfg.save_at && e->events == e->cfg.save_at && !e->stop)
        finish(e, EMU_SAVE_POINT);
}

/* Architectural MSRs Unicorn keeps itself: the instruction runs natively. */
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

static void do_msr(struct emu *e, bool write, uint64_t addr, uint32_t size)
{
    /* ECX, and EDX:EAX for a write: read as one batch (ids RCX, RDX, RAX). */
    static const int cda[3] = { R_CX, R_DX, R_AX };
    uint64_t in[3];
    regs_read(e, cda, in, write ? 3 : 1);
    uint32_t msr = (uint32_t)in[0];
    if (emu_msr_native(msr))
        return;
    clock_charge(e, COST_MSR);
    struct vevent ev = { .kind = write ? VEV_WRMSR : VEV_RDMSR, .a = { msr }, .legacy = -1 };
    struct vres res;
    if (write)
        ev.a[1] = (in[1] & 0xffffffffu) << 32 | (in[2] & 0xffffffffu);
    vmodel_apply(e->model, &ev, &res);
    trap_event(e, &ev, &res, addr);
    if (res.kind == VRES_GP) {
        raise_exception(e, 13, true, 0, addr);
        return;
    }
    if (!write) {
        uint64_t out[2] = { res.v[0] & 0xffffffffu, FAULT(FAULT_EMU_DROPS_EDX) ? 0 : res.v[0] >> 32 };
        if (e->stop) {
            regs_write(e, ad_ip, out, 2);
            set_pc(e, addr + size);
            return;
        }
        uint64_t all[3] = { out[0], out[1], addr + size };
        regs_write(e, ad_ip, all, 3);
        return;
    }
    set_pc(e, addr + size);
}

static void do_tsc(struct emu *e, bool rdtscp, uint64_t addr, uint32_t size)
{
    clock_charge(e, COST_TSC);
    struct vevent ev = { .kind = VEV_RDTSC, .legacy = -1 };
    struct vres res;
    vmodel_apply(e->model, &ev, &res);
    trap_event(e, &ev, &res, addr);
    uint64_t out[2] = { res.v[0] & 0xffffffffu, res.v[0] >> 32 };
    regs_write(e, ad_ip, out, 2);
    if (rdtscp)
        set(e, UC_X86_REG_RCX, 0); /* IA32_TSC_AUX: vCPU 0 */
    set_pc(e, addr + size);
}

static void cpuid_trap(struct emu *e, uint64_t rip, bool rip_known);

/* An exact-address hook: re-decode, because the bytes may have changed since. */
void site_hit(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    struct emu *e = user;
    (void)uc;
    if (e->stop || size < 2 || addr + size > e->ram_size)
        return;
    const uint8_t *p = e->ram + addr + size;
    if (p[-2] == 0x0f && (p[-1] == 0x30 || p[-1] == 0x32))
        do_msr(e, p[-1] == 0x30, addr, size);
    else if (p[-2] == 0x0f && p[-1] == 0x31)
        do_tsc(e, false, addr, size);
    else if (size >= 3 && p[-3] == 0x0f && p[-2] == 0x01 && p[-1] == 0xf9)
        do_tsc(e, true, addr, size);
    else if (p[-2] == 0x0f && p[-1] == 0xa2) { /* hooked only when a save point is set */
        cpuid_trap(e, addr, true);
        set_pc(e, addr + size);
    }
}

/* CPUID: the model's leaves are events, the rest Unicorn's CPU model (read once). */
static void cpuid_trap(struct emu *e, uint64_t rip, bool rip_known)
{
    uint64_t in[2], out[4];
    regs_read(e, ac, in, 2);
    uint32_t leaf = (uint32_t)in[0], sub = (uint32_t)in[1];
    uint32_t r[4];
    clock_charge(e, COST_CPUID);
    if (vmodel_cpuid_owns(leaf)) {
        struct vevent ev = { .kind = VEV_CPUID, .a = { leaf, sub }, .legacy = -1 };
        struct vres res;
        vmodel_apply(e->model, &ev, &res);
        /* RIP is only needed for the record: skip the read when nobody listens. */
        if (!rip_known && e->cfg.sink.event)
            rip = reg(e, UC_X86_REG_RIP);
        trap_event(e, &ev, &res, rip);
        for (int i = 0; i < 4; i++)
            r[i] = (uint32_t)res.v[i];
    } else {
        cpuid_native(e, leaf, sub, r);
    }
    for (int i = 0; i < 4; i++)
        out[i] = r[i];
    regs_write(e, abcd, out, 4);
}

/* The fast path. A stop asked for here lets the rest of the block run, which is fine
 * for a run that ends; save points need the exact stop of a CPUID site (site_hit). */
static int on_cpuid(uc_engine *uc, void *user)
{
    struct emu *e = user;
    (void)uc;
    if (e->stop)
        return 1;
    cpuid_trap(e, 0, false);
    return 1; /* skip Unicorn's own CPUID */
}

static void hypercall_viridian(struct emu *e, uint64_t rip, uint32_t len)
{
    uint64_t in, gin, gout;
    if (e->long_mode) {
        in = reg(e, UC_X86_REG_RCX);
        gin = reg(e, UC_X86_REG_RDX);
        gout = reg(e, UC_X86_REG_R8);
    } else { /* the 32-bit convention: EDX:EAX, EBX:ECX, EDI:ESI */
        in = reg(e, UC_X86_REG_RDX) << 32 | (reg(e, UC_X86_REG_RAX) & 0x7fffffffu);
        gin = reg(e, UC_X86_REG_RBX) << 32 | reg(e, UC_X86_REG_RCX);
        gout = reg(e, UC_X86_REG_RDI) << 32 | reg(e, UC_X86_REG_RSI);
    }
    struct vevent ev = { .kind = VEV_HYPERCALL, .a = { in, gin, gout }, .legacy = -1 };
    struct vres res;
    vmodel_apply(e->model, &ev, &res);
    /* The input block it read goes into the record (`in=`): replay has no guest memory. */
    ev.input = vmodel_hypercall_input(e->model, &ev.input_words);
    trap_event(e, &ev, &res, rip);
    if (res.kind == VRES_UD) {
        raise_exception(e, 6, false, 0, rip);
        return;
    }
    if (e->long_mode) {
        set(e, UC_X86_REG_RAX, res.v[0]);
    } else {
        set(e, UC_X86_REG_RAX, res.v[0] & 0xffffffffu);
        set(e, UC_X86_REG_RDX, res.v[0] >> 32);
    }
    set_pc(e, rip + len);
}

static void hypercall_xen(struct emu *e, uint64_t rip, uint32_t len)
{
    uint64_t rax;
    struct vevent ev;
    bool param = vmodel_xen_hypercall(e->model, 0, reg(e, UC_X86_REG_RAX) & 0xffffffffu,
                                      reg(e, e->long_mode ? UC_X86_REG_RDI : UC_X86_REG_RBX),
                                      reg(e, e->long_mode ? UC_X86_REG_RSI : UC_X86_REG_RCX),
                                      &rax, &ev);
    if (param) {
        struct vres res = { .kind = VRES_VALUE, .v = { vmodel_param(e->model) } };
        if (ev.kind == VEV_PARAM_GET && rax != 0) /* 4.6+: a guest's read is EPERM */
            res = (struct vres){ .kind = VRES_EPERM };
        if (ev.kind == VEV_PARAM_SET)
            res = (struct vres){ .kind = rax == 0 ? VRES_OK
                                         : rax == (uint64_t)-1 ? VRES_EPERM
                                         : rax == (uint64_t)-17 ? VRES_EEXIST : VRES_EINVAL };
        trap_event(e, &ev, &res, rip);
    }
    set(e, UC_X86_REG_RAX, e->long_mode ? rax : rax & 0xffffffffu);
    set_pc(e, rip + len);
}

bool at_hypercall(const struct emu *e, uint64_t rip)
{
    const uint8_t *p = rip + 3 <= e->ram_size ? e->ram + rip : NULL;
    return p && p[0] == 0x0f && p[1] == 0x01 && (p[2] == 0xc1 || p[2] == 0xd9);
}

/* VMCALL and VMMCALL are invalid instructions to Unicorn: hypercalls. EAX bit 31
 * marks a viridian call (the viridian hypercall page sets it); the rest are Xen's. */
void hypercall_at(struct emu *e, uint64_t rip)
{
    clock_charge(e, COST_HYPERCALL);
    if (reg(e, UC_X86_REG_RAX) & 0x80000000u)
        hypercall_viridian(e, rip, 3);
    else
        hypercall_xen(e, rip, 3);
}

static bool on_invalid(uc_engine *uc, void *user)
{
    struct emu *e = user;
    (void)uc;
    uint64_t rip = reg(e, UC_X86_REG_RIP);
    if (e->stop)
        return false;
    /* Unicorn leaves uc_emu_start after this hook whatever it returns: resume at the
     * RIP set here rather than take the return for a HLT. */
    e->restart = true;
    if (at_hypercall(e, rip)) {
        hypercall_at(e, rip);
        return true;
    }
    return raise_exception(e, 6, false, 0, rip);
}

static void on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user)
{
    struct emu *e = user;
    (void)uc;
    (void)size;
    /* uc_emu_stop lets the rest of the block run: the first exit is the guest's. */
    if (e->stop)
        return;
    clock_charge(e, COST_IO);
    if (port == 0xe9 && e->cfg.sink.console)
        e->cfg.sink.console(e->cfg.sink.ctx, (char)value);
    else if (port == 0xf4) {
        e->res->exit_code = (int)(value & 0xff);
        finish(e, EMU_EXITED);
    } else if (port >= 0x40 && port <= 0x43)
        pit_write(&e->pit, (uint16_t)port, (uint8_t)value, vmodel_tsc(e->model),
                  vmodel_tsc_khz(e->model));
}

static uint32_t on_in(uc_engine *uc, uint32_t port, int size, void *user)
{
    struct emu *e = user;
    (void)uc;
    (void)size;
    clock_charge(e, COST_IO);
    if (port >= 0x40 && port <= 0x43)
        return pit_read(&e->pit, (uint16_t)port, vmodel_tsc(e->model), vmodel_tsc_khz(e->model));
    if (port == 0xe9)
        return 0xe9; /* the Bochs debug port answers its own number */
    return 0xff;
}

/* Faults Unicorn raises itself (#UD, #DE, #BP, ...) go through the guest's IDT. */
static void on_interrupt(uc_engine *uc, uint32_t intno, void *user)
{
    struct emu *e = user;
    (void)uc;
    if (e->stop)
        return;
    clock_charge(e, COST_EXCEPTION);
    bool has_error = intno == 8 || (intno >= 10 && intno <= 14) || intno == 17;
    raise_exception(e, intno, has_error, 0, reg(e, UC_X86_REG_RIP));
}

static void on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    struct emu *e = user;
    (void)addr;
    (void)size;
    if (++e->blocks + vmodel_tsc(e->model) > e->cfg.budget && !e->stop) {
        e->res->stop = EMU_BUDGET;
        e->stop = true;
        uc_emu_stop(uc);
    }
}

static void on_insn(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    struct emu *e = user;
    (void)uc;
    cs_insn *insn;
    char text[160] = "(undecodable)";
    if (addr < e->ram_size && cs_disasm(e->cs, e->ram + addr, size, addr, 1, &insn) == 1) {
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
    r = r ? r : uc_hook_add(e->uc, &h, UC_HOOK_INSN_INVALID, (void *)on_invalid, e, 1, 0);
    r = r ? r : uc_hook_add(e->uc, &h, UC_HOOK_INTR, (void *)on_interrupt, e, 1, 0);
    if (!r && e->cfg.budget)
        r = uc_hook_add(e->uc, &h, UC_HOOK_BLOCK, (void *)on_block, e, 1, 0);
    /* The only hook over every instruction, and only when asked: the teaching path. */
    if (!r && e->cfg.trace_insns && e->cfg.sink.insn)
        r = uc_hook_add(e->uc, &h, UC_HOOK_CODE, (void *)on_insn, e, 1, 0);
    if (r) {
        snprintf(err, errlen, "Unicorn refused a hook: %s", uc_strerror(r));
        return -1;
    }
    return 0;
}
