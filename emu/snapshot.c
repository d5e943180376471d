/* A running guest to and from a portable snapshot (snapshot/snapshot.h): registers by
 * name, never Unicorn's context blob, so a snapshot outlives the engine that took it. */
#include <stdlib.h>
#include <string.h>
#include "emu/internal.h"
#include "emu/mmio.h"
#include "emu/phys.h"
#include "snapshot/snapshot.h"
#include "viridian/profile.h"

/* Registers in restore order: descriptor tables and control registers before the
 * selectors that are loaded through them, selectors before the bases they reset. The
 * engine is always a 64-bit one, whatever mode the guest is in, so every register has
 * its 64-bit name. */
static const struct {
    const char *name;
    int id;
} regs[] = {
    { "cr4", UC_X86_REG_CR4 }, { "cr3", UC_X86_REG_CR3 }, { "cr0", UC_X86_REG_CR0 },
    { "cr2", UC_X86_REG_CR2 },
    { "cs", UC_X86_REG_CS }, { "ss", UC_X86_REG_SS }, { "ds", UC_X86_REG_DS },
    { "es", UC_X86_REG_ES }, { "fs", UC_X86_REG_FS }, { "gs", UC_X86_REG_GS },
    { "rax", UC_X86_REG_RAX }, { "rbx", UC_X86_REG_RBX }, { "rcx", UC_X86_REG_RCX },
    { "rdx", UC_X86_REG_RDX }, { "rsi", UC_X86_REG_RSI }, { "rdi", UC_X86_REG_RDI },
    { "rbp", UC_X86_REG_RBP }, { "rsp", UC_X86_REG_RSP },
    { "r8", UC_X86_REG_R8 },   { "r9", UC_X86_REG_R9 },   { "r10", UC_X86_REG_R10 },
    { "r11", UC_X86_REG_R11 }, { "r12", UC_X86_REG_R12 }, { "r13", UC_X86_REG_R13 },
    { "r14", UC_X86_REG_R14 }, { "r15", UC_X86_REG_R15 },
    { "rflags", UC_X86_REG_EFLAGS },
    { "mxcsr", UC_X86_REG_MXCSR },
    { "rip", UC_X86_REG_RIP },
};

/* MSRs Unicorn keeps (the ones traps.c runs against it). EFER goes first: long mode
 * must be on before CR0.PG is restored... which regs[] does next. */
static const struct {
    const char *name;
    uint32_t index;
} msrs[] = {
    { "efer", 0xc0000080 },         { "star", 0xc0000081 },      { "lstar", 0xc0000082 },
    { "cstar", 0xc0000083 },        { "sfmask", 0xc0000084 },    { "kernel_gsb", 0xc0000102 },
    { "sysenter_cs", 0x174 },       { "sysenter_sp", 0x175 },    { "sysenter_ip", 0x176 },
    { "pat", 0x277 },
};
/* FS/GS bases last: loading the selectors above resets them. */
static const struct {
    const char *name;
    uint32_t index;
} bases[] = { { "fs_base", 0xc0000100 }, { "gs_base", 0xc0000101 } };

static const char *const tables[2] = { "gdtr", "idtr" };
/* The segment registers' hidden parts (cpustate.h), by the selector's name. */
static const char *const segs[SEG_COUNT] = { "es", "cs", "ss", "ds", "fs", "gs" };
static const struct {
    const char *name;
    int id;
} sysregs[] = { { "tr", UC_X86_REG_TR }, { "ldtr", UC_X86_REG_LDTR } };

#define XMM(n) { "xmm" #n "_lo", "xmm" #n "_hi" }
static const char *const xmm_names[16][2] = {
    XMM(0), XMM(1), XMM(2),  XMM(3),  XMM(4),  XMM(5),  XMM(6),  XMM(7),
    XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15),
};

static uint64_t get_msr(uc_engine *uc, uint32_t index)
{
    uc_x86_msr m = { index, 0 };
    uc_reg_read(uc, UC_X86_REG_MSR, &m);
    return m.value;
}

static void save_cpu(struct emu *e, struct snap_cpu *c)
{
    char name[32]; /* names fit the record's 11 characters; the slack quiets -Wformat-truncation */
    for (int t = 0; t < 2; t++) {
        uc_x86_mmr mmr = { 0 };
        uc_reg_read(e->uc, t ? UC_X86_REG_IDTR : UC_X86_REG_GDTR, &mmr);
        snprintf(name, sizeof name, "%s_base", tables[t]);
        snap_reg_set(c, name, mmr.base);
        snprintf(name, sizeof name, "%s_limit", tables[t]);
        snap_reg_set(c, name, mmr.limit);
    }
    for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++)
        snap_reg_set(c, msrs[i].name, get_msr(e->uc, msrs[i].index));
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
        snap_reg_set(c, regs[i].name, emu_reg(e, regs[i].id));
    for (size_t i = 0; i < 2; i++)
        snap_reg_set(c, bases[i].name, get_msr(e->uc, bases[i].index));
    for (int x = 0; x < 16; x++) {
        uint64_t v[2] = { 0, 0 };
        uc_reg_read(e->uc, UC_X86_REG_XMM0 + x, v);
        snap_reg_set(c, xmm_names[x][0], v[0]);
        snap_reg_set(c, xmm_names[x][1], v[1]);
    }
    cpustate_load(&e->cpu, e->uc);
    for (int sg = 0; sg < SEG_COUNT; sg++) {
        struct segcache sc = cpustate_seg(&e->cpu, (enum seg)sg);
        snprintf(name, sizeof name, "%s_base", segs[sg]);
        snap_reg_set(c, name, sc.base);
        snprintf(name, sizeof name, "%s_limit", segs[sg]);
        snap_reg_set(c, name, sc.limit);
        snprintf(name, sizeof name, "%s_flags", segs[sg]);
        snap_reg_set(c, name, sc.flags);
    }
    for (size_t i = 0; i < 2; i++) {
        uc_x86_mmr m = { 0 };
        uc_reg_read(e->uc, sysregs[i].id, &m);
        snprintf(name, sizeof name, "%s_sel", sysregs[i].name);
        snap_reg_set(c, name, m.selector);
        snprintf(name, sizeof name, "%s_base", sysregs[i].name);
        snap_reg_set(c, name, m.base);
        snprintf(name, sizeof name, "%s_limit", sysregs[i].name);
        snap_reg_set(c, name, m.limit);
        snprintf(name, sizeof name, "%s_flags", sysregs[i].name);
        snap_reg_set(c, name, m.flags);
    }
}

/* The emulator's own state: what a restored guest needs to continue exactly. */
static void save_machine(struct emu *e, struct snap_cpu *c)
{
    char name[32]; /* names fit the record's 11 characters; the slack quiets -Wformat-truncation */
    snap_reg_set(c, "long_mode", e->boot_long);
    snap_reg_set(c, "last_event", e->last_event_tsc);
    snap_reg_set(c, "insns", e->insns);
    for (int i = 0; i < 8; i++)
        if (i != 4 && i != 5) {
            snprintf(name, sizeof name, "dr%d", i);
            snap_reg_set(c, name, debugreg_get(e, (unsigned)i));
        }
    for (int i = 0; i < 3; i++) {
        const struct pit_channel *ch = &e->pit.ch[i];
        static const char *const f[] = { "reload", "start", "mode", "flags", "latch" };
        uint64_t v[] = { ch->reload, ch->start_tsc, ch->mode | (uint64_t)ch->access << 8,
                         (uint64_t)ch->write_hi | (uint64_t)ch->read_hi << 1 |
                             (uint64_t)ch->latched << 2 | (uint64_t)ch->loaded << 3,
                         ch->latch };
        for (int k = 0; k < 5; k++) {
            snprintf(name, sizeof name, "pit%d_%s", i, f[k]);
            snap_reg_set(c, name, v[k]);
        }
    }
}

void emu_save(struct emu *e, struct snapshot *s)
{
    memset(s, 0, sizeof *s);
    const struct vprofile *host = vmodel_host(e->model);
    vmodel_save(e->model, host->param == VPARAM_BOOLEAN, &s->model);
    s->memory_mib = (uint32_t)(e->ram_size >> 20);
    s->taken_at = e->events;
    uint32_t cur = e->cur;
    for (uint32_t i = 0; i < e->n_vcpus; i++) {
        vcpu_load(e, i);
        save_cpu(e, &s->cpu[i]);
        snapstate_save_vcpu(e, i, &s->cpu[i]);
    }
    vcpu_load(e, cur);
    save_machine(e, &s->machine);
    snapstate_save_machine(e, &s->machine);
    s->ram = e->ram;
}

/* Registers come back in the order emu_save wrote them, so look at the next one first
 * (*at): a rewind per fuzz sequence must not spend its time comparing names. */
static bool next_reg(const struct snap_cpu *c, uint32_t *at, const char *name, uint64_t *v)
{
    if (*at < c->n && strncmp(c->reg[*at].name, name, sizeof c->reg[0].name) == 0) {
        *v = c->reg[(*at)++].value;
        return true;
    }
    return snap_reg_get(c, name, v);
}

static bool want(const struct snap_cpu *c, uint32_t *at, const char *name, uint64_t *v,
                 char *err, size_t len)
{
    if (next_reg(c, at, name, v))
        return true;
    snprintf(err, len, "the CPU record has no register '%s'", name);
    return false;
}

static int restore_cpu(struct emu *e, const struct snap_cpu *c, char *err, size_t len)
{
    uint64_t v, lim;
    uint32_t at = 0;
    char name[32]; /* names fit the record's 11 characters; the slack quiets -Wformat-truncation */
    for (int t = 0; t < 2; t++) {
        snprintf(name, sizeof name, "%s_base", tables[t]);
        if (!want(c, &at, name, &v, err, len))
            return -1;
        snprintf(name, sizeof name, "%s_limit", tables[t]);
        if (!want(c, &at, name, &lim, err, len))
            return -1;
        uc_x86_mmr mmr = { 0, v, (uint32_t)lim, 0 };
        uc_reg_write(e->uc, t ? UC_X86_REG_IDTR : UC_X86_REG_GDTR, &mmr);
    }
    uint64_t efer = 0;
    for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++) {
        /* a snapshot of a 32-bit guest from before vsbox kept these has none */
        if (!next_reg(c, &at, msrs[i].name, &v))
            continue;
        if (i == 0)
            efer = v;
        uc_x86_msr m = { msrs[i].index, v };
        uc_reg_write(e->uc, UC_X86_REG_MSR, &m);
    }
    uint64_t rip = 0, flags = 2;
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        if (!next_reg(c, &at, regs[i].name, &v)) {
            if (regs[i].id >= UC_X86_REG_R8 && regs[i].id <= UC_X86_REG_R15)
                continue;   /* an old 32-bit snapshot */
            snprintf(err, len, "the CPU record has no register '%s'", regs[i].name);
            return -1;
        }
        if (regs[i].id == UC_X86_REG_RIP)
            rip = v;
        else if (regs[i].id == UC_X86_REG_EFLAGS)
            flags = v;
        else if (uc_reg_write(e->uc, regs[i].id, &v) != UC_ERR_OK) {
            snprintf(err, len, "register '%s' = 0x%llx is not loadable", regs[i].name,
                     (unsigned long long)v);
            return -1;
        }
    }
    for (size_t i = 0; i < 2; i++)
        if (next_reg(c, &at, bases[i].name, &v)) {
            uc_x86_msr m = { bases[i].index, v };
            uc_reg_write(e->uc, UC_X86_REG_MSR, &m);
        }
    for (int x = 0; x < 16; x++) {
        uint64_t xv[2] = { 0, 0 };
        next_reg(c, &at, xmm_names[x][0], &xv[0]);
        next_reg(c, &at, xmm_names[x][1], &xv[1]);
        uc_reg_write(e->uc, UC_X86_REG_XMM0 + x, xv);
    }
    /* The hidden segment state, then what the CPU derives from it; a snapshot without it
     * (taken before vsbox kept it) gets the flat segments its boot mode had. */
    cpustate_load(&e->cpu, e->uc);
    cpustate_set_efer(&e->cpu, efer);
    bool lm = (efer >> 10) & 1;
    for (int sg = 0; sg < SEG_COUNT; sg++) {
        static const enum seg order[SEG_COUNT] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS, SEG_SS, SEG_CS };
        enum seg g = order[sg];
        uint64_t base, limit, fl, sel;
        snprintf(name, sizeof name, "%s_base", segs[g]);
        bool have = snap_reg_get(c, name, &base);
        snprintf(name, sizeof name, "%s_limit", segs[g]);
        have = have && snap_reg_get(c, name, &limit);
        snprintf(name, sizeof name, "%s_flags", segs[g]);
        have = have && snap_reg_get(c, name, &fl);
        snap_reg_get(c, segs[g], &sel);
        if (!have) {
            base = 0;
            limit = (sel & ~3ull) ? 0xffffffffu : 0;
            fl = !(sel & ~3ull) ? 0 : g == SEG_CS ? (lm ? 0x00a09b00u : 0x00c09b00u) : 0x00c09300u;
        }
        if (limit > 0xffffffffu || fl > 0xffffffffu) {
            snprintf(err, len, "segment %s has an impossible limit or attributes", segs[g]);
            return -1;
        }
        cpustate_set_seg(&e->cpu, g, (struct segcache){ (uint16_t)sel, base, (uint32_t)limit,
                                                        (uint32_t)fl });
    }
    cpustate_store(&e->cpu, e->uc);
    for (size_t i = 0; i < 2; i++) {
        uint64_t sel = 0, base = 0, limit = 0, fl = 0;
        snprintf(name, sizeof name, "%s_sel", sysregs[i].name);
        if (!snap_reg_get(c, name, &sel))
            continue;
        snprintf(name, sizeof name, "%s_base", sysregs[i].name);
        snap_reg_get(c, name, &base);
        snprintf(name, sizeof name, "%s_limit", sysregs[i].name);
        snap_reg_get(c, name, &limit);
        snprintf(name, sizeof name, "%s_flags", sysregs[i].name);
        snap_reg_get(c, name, &fl);
        uc_x86_mmr m = { (uint16_t)sel, base, (uint32_t)limit, (uint32_t)fl };
        uc_reg_write(e->uc, sysregs[i].id, &m);
    }
    emu_set_reg(e, UC_X86_REG_EFLAGS, flags);
    emu_set_reg(e, UC_X86_REG_RIP, rip);
    return 0;
}

static void restore_machine(struct emu *e, const struct snap_cpu *c)
{
    char name[32]; /* names fit the record's 11 characters; the slack quiets -Wformat-truncation */
    uint64_t v;
    if (snap_reg_get(c, "last_event", &v))
        e->last_event_tsc = v;
    if (snap_reg_get(c, "insns", &v))
        e->insns = v;
    /* The debug registers (debugreg.c), from reset when a snapshot has none; the same
     * fixed bits as a MOV to them, so no snapshot can arm what the guest could not. */
    debugreg_reset(e);
    for (unsigned i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "dr%u", i);
        if (i != 4 && i != 5 && snap_reg_get(c, name, &v))
            debugreg_set(e, i, v);
    }
    for (int i = 0; i < 3; i++) {
        struct pit_channel *ch = &e->pit.ch[i];
        uint64_t f[5] = { 0 };
        static const char *const n[] = { "reload", "start", "mode", "flags", "latch" };
        for (int k = 0; k < 5; k++) {
            snprintf(name, sizeof name, "pit%d_%s", i, n[k]);
            snap_reg_get(c, name, &f[k]);
        }
        *ch = (struct pit_channel){
            .reload = (uint16_t)f[0], .start_tsc = f[1], .mode = (uint8_t)f[2],
            .access = (uint8_t)(f[2] >> 8), .write_hi = f[3] & 1, .read_hi = f[3] >> 1 & 1,
            .latched = f[3] >> 2 & 1, .loaded = f[3] >> 3 & 1, .latch = (uint16_t)f[4],
        };
    }
}

/* Every vCPU's registers and state, then the machine's, then the one that was running
 * runs again, with the rest of its slice. */
static int restore_vcpus(struct emu *e, const struct snapshot *s, char *err, size_t errlen)
{
    uint32_t n = e->n_vcpus;
    e->n_up = 0;
    for (uint32_t i = 0; i < n; i++) {
        vcpu_load(e, i);
        if (restore_cpu(e, &s->cpu[i], err, errlen))
            return -1;
        snapstate_restore_vcpu(e, i, &s->cpu[i]);
        e->n_up += e->vcpus[i].up;
    }
    vcpu_load(e, snapstate_saved_cur(&s->machine, n));
    restore_machine(e, &s->machine);
    snapstate_restore_machine(e, &s->machine);
    e->smp = e->n_up > 1;
    e->smp_pending = e->smp && !e->block_hooked;
    e->resched = false;
    if (e->smp)
        vcpu_resume_slice(e, snapstate_saved_slice(&s->machine));
    irq_restored(e);
    return 0;
}

int emu_restore(const struct emu_config *cfg, struct snapshot *s,
                const struct vprofile *to, struct emu **out, char *err, size_t errlen)
{
    *out = NULL;
    uint64_t lm = 1;
    snap_reg_get(&s->machine, "long_mode", &lm);
    struct emu *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->cfg = *cfg;
    e->cfg.memory_mib = s->memory_mib;
    e->boot_long = lm != 0;
    e->events = s->taken_at;
    e->ram_size = (uint64_t)s->memory_mib << 20;
    if (s->ram_mapped) {
        /* snap_read's RAM is already what an emulator maps: take it, copy nothing. */
        e->ram = s->ram;
        s->ram = NULL;
        s->ram_mapped = false;
    } else if ((e->ram = machine_ram(e->ram_size))) {
        /* Someone else's RAM (a live emulator's, in migrate): copy what is not zero. */
        static const uint8_t zero[SNAP_PAGE];
        for (uint64_t off = 0; off < e->ram_size; off += SNAP_PAGE)
            if (memcmp(s->ram + off, zero, SNAP_PAGE) != 0)
                memcpy(e->ram + off, s->ram + off, SNAP_PAGE);
    }
    if (!e->ram) {
        snprintf(err, errlen, "cannot allocate %u MiB of guest RAM", s->memory_mib);
        emu_destroy(e);
        return -1;
    }
    /* The model once guest RAM is in place (its load writes pages: the reference TSC
     * page, 4.6+) and before the machine, which sizes its vCPUs from it. */
    if (emu_attach_model(e, &s->model, to, err, errlen) || machine_setup(e, err, errlen)) {
        emu_destroy(e);
        return -1;
    }
    if (cpuid_native_probe(e, err, errlen) || restore_vcpus(e, s, err, errlen)) {
        emu_destroy(e);
        return -1;
    }
    *out = e;
    return 0;
}

int emu_rewind(struct emu *e, const struct snapshot *s, char *err, size_t errlen)
{
    if ((uint64_t)s->memory_mib << 20 != e->ram_size || s->ram == e->ram) {
        snprintf(err, errlen, "rewind needs a snapshot of this guest with its own RAM copy");
        return -1;
    }
    struct vmodel *old = e->model;
    e->model = NULL;
    if (emu_attach_model(e, &s->model, NULL, err, errlen)) {
        e->model = old;
        return -1;
    }
    vmodel_destroy(old);
    uint64_t pages = e->ram_size >> 12;
    for (uint64_t p = 0; p < pages; p += 8) {
        if (!e->dirty[p >> 3])
            continue;
        for (uint64_t q = p; q < p + 8 && q < pages; q++)
            if (e->dirty[q >> 3] & (1u << (q & 7)))
                phys_write(e, q << 12, s->ram + (q << 12), 4096);
        e->dirty[p >> 3] = 0;
    }
    memset(&e->pit, 0, sizeof e->pit);
    hpet_reset(e);
    ioapic_reset(e);
    if (restore_vcpus(e, s, err, errlen))
        return -1;
    e->events = s->taken_at;
    e->stop = false;
    e->delivered = 0;
    return 0;
}
