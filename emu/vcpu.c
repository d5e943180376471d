/* Several vCPUs on one Unicorn engine. Unicorn 2.0.1 runs one CPU, so vsbox keeps each
 * vCPU's CPU as a saved context and swaps them at block starts: the running vCPU gets a
 * slice of VCPU_SLICE bytes of guest code run (about 10,000 instructions; each block
 * counts its size, which Unicorn hands the block hook, so the count costs one
 * subtraction per block), then the next runnable one in vCPU order runs. The schedule
 * is a function of the code run, never of host time, so an SMP run is as deterministic
 * as a single vCPU's. Guest memory, translations and the virtual clock are shared; each
 * vCPU has its own registers, local APIC, debug registers and platform MSRs.
 *
 * vCPUs start the ways Xen starts them: the BSP at boot, an AP by VCPUOP_initialise and
 * VCPUOP_up (xen_platform.c) or by INIT and STARTUP IPIs through its local APIC. */
#include <stdlib.h>
#include <string.h>
#include "emu/internal.h"

enum { VCPU_SLICE = 40000, EFLAGS_IF = 1u << 9 };

int vcpu_setup(struct emu *e, char *err, size_t errlen)
{
    uint32_t n = vmodel_vcpus(e->model);
    if (!(e->vcpus = calloc(n, sizeof *e->vcpus))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->n_vcpus = n;
    e->cur = 0;
    e->n_up = 1;
    /* The engine as uc_open left it is the CPU at power-on: what INIT resets an AP to. */
    if (uc_context_alloc(e->uc, &e->reset_ctx) || uc_context_save(e->uc, e->reset_ctx))
        goto fail;
    for (uint32_t i = 0; i < n; i++) {
        struct vcpu *v = &e->vcpus[i];
        if (uc_context_alloc(e->uc, &v->ctx) || uc_context_save(e->uc, v->ctx))
            goto fail;
        lapic_reset(&v->lapic, i);
        v->shadow_at = UINT64_MAX;
        v->up = v->initialised = i == 0;
    }
    vplatform_attach(e);
    return 0;
fail:
    snprintf(err, errlen, "Unicorn refused a CPU context");
    return -1;
}

void vcpu_free(struct emu *e)
{
    for (uint32_t i = 0; e->vcpus && i < e->n_vcpus; i++)
        if (e->vcpus[i].ctx)
            uc_context_free(e->vcpus[i].ctx);
    if (e->reset_ctx)
        uc_context_free(e->reset_ctx);
    free(e->vcpus);
    e->vcpus = NULL;
}

/* The engine's CPU becomes vCPU `to`'s; the one running is saved. */
static void switch_to(struct emu *e, uint32_t to)
{
    struct vcpu *from = &e->vcpus[e->cur], *v = &e->vcpus[to];
    if (to == e->cur)
        return;
    uc_context_save(e->uc, from->ctx);
    memcpy(from->dr, e->dr, sizeof e->dr);
    memcpy(from->platform_msr, e->platform_msr, sizeof e->platform_msr);
    uc_context_restore(e->uc, v->ctx);
    memcpy(e->dr, v->dr, sizeof e->dr);
    memcpy(e->platform_msr, v->platform_msr, sizeof e->platform_msr);
    /* A restored context keeps the old vCPU's TLB: rewriting CR3 flushes it. */
    emu_set_reg(e, UC_X86_REG_CR3, emu_reg(e, UC_X86_REG_CR3));
    e->cur = to;
    e->slice_left = VCPU_SLICE;
}

void vcpu_load(struct emu *e, uint32_t i)
{
    uint32_t slice = e->slice_left;
    switch_to(e, i);
    e->slice_left = slice;
}

/* Could vCPU i run now: up, and not asleep in HLT unless something wakes it. */
static bool runnable(struct emu *e, uint32_t i)
{
    struct vcpu *v = &e->vcpus[i];
    if (!v->up)
        return false;
    if (!v->halted)
        return true;
    if (v->lapic.nmi_pending)
        return true;
    if (lapic_pending(&v->lapic) < 0)
        return false;
    struct cpustate view = { .ctx = v->ctx, .data = (uint8_t *)v->ctx + CPUSTATE_CTX_HEADER };
    if (i == e->cur)
        return (emu_reg(e, UC_X86_REG_EFLAGS) & EFLAGS_IF) != 0;
    return (cpustate_eflags(&view) & EFLAGS_IF) != 0;
}

bool vcpu_schedule(struct emu *e)
{
    e->resched = false;
    for (uint32_t idle = 0; idle <= e->n_vcpus; idle++) {
        for (uint32_t k = 1; k <= e->n_vcpus; k++) {
            uint32_t i = (e->cur + k) % e->n_vcpus;
            if (runnable(e, i)) {
                if (i != e->cur || e->vcpus[i].halted) {
                    switch_to(e, i);
                    e->vcpus[i].halted = false;
                }
                e->slice_left = VCPU_SLICE;
                return true;
            }
        }
        /* Every vCPU is asleep: the clock jumps to the next timer, as Xen's idle
         * domain would sit until it. */
        if (!irq_sleep_to_next_timer(e))
            return false;
    }
    return false;
}

void vcpu_slice(struct emu *e, uint32_t bytes)
{
    if (bytes >= e->slice_left) {
        e->slice_left = 0;
        e->resched = true;
    } else {
        e->slice_left -= bytes;
    }
}

/* What a snapshot says is left of the running slice; a value no slice can have (a
 * crafted file: its checksum holds) is a whole slice, as an out-of-range vcpu_cur is
 * vCPU 0. */
void vcpu_resume_slice(struct emu *e, uint32_t left)
{
    e->slice_left = left && left <= VCPU_SLICE ? left : VCPU_SLICE;
}

/* A second vCPU came up: from the next stop on, block starts count a slice. */
static void went_up(struct emu *e, uint32_t id)
{
    e->vcpus[id].up = true;
    e->vcpus[id].halted = false;
    e->n_up++;
    if (!e->smp) {
        e->smp = true;
        e->smp_pending = true;
        e->slice_left = VCPU_SLICE;
        run_stop(e);   /* from a trap (a hypercall or an APIC write's block end) */
    }
}

/* Build vCPU id's CPU: from power-on, changed by fn on the engine itself (so that
 * Unicorn's own setters keep QEMU's derived state right), then saved. This runs inside
 * the running vCPU's run (a hypercall, an ICR write in the middle of a block), so fn
 * sets RIP in the saved state: Unicorn's RIP call raises a flag of its own ("the PC was
 * written") that outlives the running vCPU's state put back after it, so that QEMU left
 * the next block without putting RIP back and Unicorn's loop dropped the stop a new
 * vCPU asks for; the running vCPU went on from wherever RIP was last written
 * (tests/images/sipi_midblock). */
static void build(struct emu *e, uint32_t id, void (*fn)(struct emu *, const void *),
                  const void *arg)
{
    struct vcpu *v = &e->vcpus[id];
    uc_context_save(e->uc, e->vcpus[e->cur].ctx);
    uc_context_restore(e->uc, e->reset_ctx);
    fn(e, arg);
    uc_context_save(e->uc, v->ctx);
    uc_context_restore(e->uc, e->vcpus[e->cur].ctx);
    emu_set_reg(e, UC_X86_REG_CR3, emu_reg(e, UC_X86_REG_CR3));
    memset(v->dr, 0, sizeof v->dr);
    v->dr[6] = 0xffff0ff0u;
    v->dr[7] = 0x400u;
    memcpy(v->platform_msr, e->platform_msr, sizeof v->platform_msr);
}

/* struct vcpu_hvm_x86_32 (public/hvm/hvm_vcpu.h): eight GPRs, EIP, EFLAGS, CR0, CR3,
 * CR4, pad, EFER, then the base, limit and attributes of CS, DS, SS, ES and TR. */
static void apply_hvm32(struct emu *e, const void *arg)
{
    const uint8_t *c = arg;
    static const int gpr[8] = { UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                                UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI };
    uint32_t w[13];
    memcpy(w, c, sizeof w);
    uint64_t efer;
    memcpy(&efer, c + 56, 8);
    emu_set_reg(e, UC_X86_REG_CR4, w[12]);
    emu_set_reg(e, UC_X86_REG_CR3, w[11]);
    uc_x86_msr m = { 0xc0000080, efer };
    uc_reg_write(e->uc, UC_X86_REG_MSR, &m);
    emu_set_reg(e, UC_X86_REG_CR0, w[10]);
    for (int i = 0; i < 8; i++)
        emu_set_reg(e, gpr[i], w[i]);
    emu_set_reg(e, UC_X86_REG_EFLAGS, w[9] | 2);
    cpustate_load(&e->cpu, e->uc);
    cpustate_set_rip(&e->cpu, w[8]);   /* not Unicorn's call: build() says why */
    static const enum seg segs[4] = { SEG_CS, SEG_DS, SEG_SS, SEG_ES };
    for (int i = 0; i < 5; i++) {
        uint32_t base, limit;
        uint16_t ar;
        memcpy(&base, c + 64 + 4 * i, 4);
        memcpy(&limit, c + 84 + 4 * i, 4);
        memcpy(&ar, c + 104 + 2 * i, 2);
        /* Xen's attribute format (type, S, DPL, P in 0-7; AVL, L, D/B, G in 8-11) */
        uint32_t flags = (uint32_t)(ar & 0xff) << 8 | (uint32_t)(ar & 0xf00) << 12;
        if (i < 4) {
            cpustate_set_seg(&e->cpu, segs[i], (struct segcache){ 0, base, limit, flags });
            if (segs[i] == SEG_DS) {
                cpustate_set_seg(&e->cpu, SEG_FS, (struct segcache){ 0, base, limit, flags });
                cpustate_set_seg(&e->cpu, SEG_GS, (struct segcache){ 0, base, limit, flags });
            }
        } else {
            cpustate_store(&e->cpu, e->uc);
            uc_x86_mmr tr = { 0, base, limit, flags };
            uc_reg_write(e->uc, UC_X86_REG_TR, &tr);
        }
    }
}

/* struct vcpu_hvm_x86_64: 16 GPRs' first eight, RIP, RFLAGS, CR0, CR3, CR4, EFER; the
 * segments are flat 64-bit ones. */
static void apply_hvm64(struct emu *e, const void *arg)
{
    uint64_t w[14];
    memcpy(w, arg, sizeof w);
    static const int gpr[8] = { UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                                UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI };
    emu_set_reg(e, UC_X86_REG_CR4, w[12]);
    emu_set_reg(e, UC_X86_REG_CR3, w[11]);
    uc_x86_msr m = { 0xc0000080, w[13] };
    uc_reg_write(e->uc, UC_X86_REG_MSR, &m);
    emu_set_reg(e, UC_X86_REG_CR0, w[10]);
    for (int i = 0; i < 8; i++)
        emu_set_reg(e, gpr[i], w[i]);
    emu_set_reg(e, UC_X86_REG_EFLAGS, w[9] | 2);
    cpustate_load(&e->cpu, e->uc);
    cpustate_set_rip(&e->cpu, w[8]);
    cpustate_set_seg(&e->cpu, SEG_CS, (struct segcache){ 0, 0, 0xffffffffu, 0x00a09b00 });
    static const enum seg data[5] = { SEG_DS, SEG_SS, SEG_ES, SEG_FS, SEG_GS };
    for (int i = 0; i < 5; i++)
        cpustate_set_seg(&e->cpu, data[i], (struct segcache){ 0, 0, 0xffffffffu, 0x00c09300 });
    cpustate_set_efer(&e->cpu, w[13]);
    cpustate_store(&e->cpu, e->uc);
}

int vcpu_hvm_initialise(struct emu *e, uint32_t id, uint32_t mode, const void *regs)
{
    if (id >= e->n_vcpus)
        return -2;    /* -ENOENT */
    if (e->vcpus[id].initialised)
        return -17;   /* -EEXIST */
    if (mode > 1)
        return -22;   /* -EINVAL */
    build(e, id, mode ? apply_hvm64 : apply_hvm32, regs);
    e->vcpus[id].initialised = true;
    return 0;
}

int vcpu_hvm_up(struct emu *e, uint32_t id)
{
    if (id >= e->n_vcpus)
        return -2;
    if (!e->vcpus[id].initialised)
        return -22;
    if (!e->vcpus[id].up)
        went_up(e, id);
    return 0;
}

bool vcpu_is_up(const struct emu *e, uint32_t id)
{
    return id < e->n_vcpus && e->vcpus[id].up;
}

/* STARTUP: real mode at vector << 12 (CS = vector << 8, IP 0). */
static void apply_sipi(struct emu *e, const void *arg)
{
    uint8_t vector = *(const uint8_t *)arg;
    cpustate_load(&e->cpu, e->uc);
    cpustate_set_seg(&e->cpu, SEG_CS, (struct segcache){ (uint16_t)(vector << 8),
                                                         (uint64_t)vector << 12, 0xffff, 0x9b00 });
    cpustate_set_rip(&e->cpu, 0);
    cpustate_store(&e->cpu, e->uc);
}

/* vlapic_init_sipi_one(): INIT resets an initialised vCPU (down, its APIC as after
 * INIT); STARTUP starts one that is not initialised. Xen does neither to the sender. */
void vcpu_init_ipi(struct emu *e, uint32_t id)
{
    struct vcpu *v = &e->vcpus[id];
    if (id == e->cur || !v->initialised)
        return;
    if (v->up)
        e->n_up--;
    v->up = v->halted = v->initialised = false;
    lapic_init(&v->lapic);
}

void vcpu_startup_ipi(struct emu *e, uint32_t id, uint8_t vector)
{
    struct vcpu *v = &e->vcpus[id];
    if (id == e->cur || v->initialised)
        return;
    build(e, id, apply_sipi, &vector);
    v->initialised = true;
    went_up(e, id);
}
