/* A running guest to and from a portable snapshot (snapshot/snapshot.h): registers by
 * name, never Unicorn's context blob, so a snapshot outlives the engine that took it. */
#include <stdlib.h>
#include <string.h>
#include "emu/internal.h"
#include "snapshot/snapshot.h"
#include "viridian/profile.h"

/* Registers in restore order: descriptor tables and control registers before the
 * selectors that are loaded through them, selectors before the bases they reset. */
static const struct {
    const char *name;
    int id64, id32;           /* 0: not in that mode */
} regs[] = {
    { "cr4", UC_X86_REG_CR4, UC_X86_REG_CR4 },
    { "cr3", UC_X86_REG_CR3, UC_X86_REG_CR3 },
    { "cr0", UC_X86_REG_CR0, UC_X86_REG_CR0 },
    { "cr2", UC_X86_REG_CR2, UC_X86_REG_CR2 },
    { "cs", UC_X86_REG_CS, UC_X86_REG_CS },
    { "ss", UC_X86_REG_SS, UC_X86_REG_SS },
    { "ds", UC_X86_REG_DS, UC_X86_REG_DS },
    { "es", UC_X86_REG_ES, UC_X86_REG_ES },
    { "fs", UC_X86_REG_FS, UC_X86_REG_FS },
    { "gs", UC_X86_REG_GS, UC_X86_REG_GS },
    { "rax", UC_X86_REG_RAX, UC_X86_REG_EAX }, { "rbx", UC_X86_REG_RBX, UC_X86_REG_EBX },
    { "rcx", UC_X86_REG_RCX, UC_X86_REG_ECX }, { "rdx", UC_X86_REG_RDX, UC_X86_REG_EDX },
    { "rsi", UC_X86_REG_RSI, UC_X86_REG_ESI }, { "rdi", UC_X86_REG_RDI, UC_X86_REG_EDI },
    { "rbp", UC_X86_REG_RBP, UC_X86_REG_EBP }, { "rsp", UC_X86_REG_RSP, UC_X86_REG_ESP },
    { "r8", UC_X86_REG_R8, 0 },   { "r9", UC_X86_REG_R9, 0 },   { "r10", UC_X86_REG_R10, 0 },
    { "r11", UC_X86_REG_R11, 0 }, { "r12", UC_X86_REG_R12, 0 }, { "r13", UC_X86_REG_R13, 0 },
    { "r14", UC_X86_REG_R14, 0 }, { "r15", UC_X86_REG_R15, 0 },
    { "rflags", UC_X86_REG_EFLAGS, UC_X86_REG_EFLAGS },
    { "mxcsr", UC_X86_REG_MXCSR, UC_X86_REG_MXCSR },
    { "rip", UC_X86_REG_RIP, UC_X86_REG_EIP },
};

/* MSRs Unicorn keeps (the ones traps.c lets run natively). EFER goes first: long mode
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
    if (e->long_mode)
        for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++)
            snap_reg_set(c, msrs[i].name, get_msr(e->uc, msrs[i].index));
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        int id = e->long_mode ? regs[i].id64 : regs[i].id32;
        if (id)
            snap_reg_set(c, regs[i].name, e->long_mode ? emu_reg(e, id)
                                                       : emu_reg(e, id) & 0xffffffffu);
    }
    if (e->long_mode)
        for (size_t i = 0; i < 2; i++)
            snap_reg_set(c, bases[i].name, get_msr(e->uc, bases[i].index));
    for (int x = 0; x < (e->long_mode ? 16 : 8); x++) {
        uint64_t v[2] = { 0, 0 };
        uc_reg_read(e->uc, UC_X86_REG_XMM0 + x, v);
        snap_reg_set(c, xmm_names[x][0], v[0]);
        snap_reg_set(c, xmm_names[x][1], v[1]);
    }
}

/* The emulator's own state: what a restored guest needs to continue exactly. */
static void save_machine(struct emu *e, struct snap_cpu *c)
{
    char name[32]; /* names fit the record's 11 characters; the slack quiets -Wformat-truncation */
    snap_reg_set(c, "long_mode", e->long_mode);
    snap_reg_set(c, "last_event", e->last_event_tsc);
    snap_reg_set(c, "blocks", e->blocks);
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
    save_cpu(e, &s->cpu[0]);
    save_machine(e, &s->machine);
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
    if (e->long_mode)
        for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++) {
            if (!want(c, &at, msrs[i].name, &v, err, len))
                return -1;
            uc_x86_msr m = { msrs[i].index, v };
            uc_reg_write(e->uc, UC_X86_REG_MSR, &m);
        }
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        int id = e->long_mode ? regs[i].id64 : regs[i].id32;
        if (!id)
            continue;
        if (!want(c, &at, regs[i].name, &v, err, len))
            return -1;
        if (uc_reg_write(e->uc, id, &v) != UC_ERR_OK) {
            snprintf(err, len, "register '%s' = 0x%llx is not loadable", regs[i].name,
                     (unsigned long long)v);
            return -1;
        }
    }
    if (e->long_mode)
        for (size_t i = 0; i < 2; i++) {
            if (!want(c, &at, bases[i].name, &v, err, len))
                return -1;
            uc_x86_msr m = { bases[i].index, v };
            uc_reg_write(e->uc, UC_X86_REG_MSR, &m);
        }
    for (int x = 0; x < (e->long_mode ? 16 : 8); x++) {
        uint64_t xv[2] = { 0, 0 };
        next_reg(c, &at, xmm_names[x][0], &xv[0]);
        next_reg(c, &at, xmm_names[x][1], &xv[1]);
        uc_reg_write(e->uc, UC_X86_REG_XMM0 + x, xv);
    }
    return 0;
}

static void restore_machine(struct emu *e, const struct snap_cpu *c)
{
    char name[32]; /* names fit the record's 11 characters; the slack quiets -Wformat-truncation */
    uint64_t v;
    if (snap_reg_get(c, "last_event", &v))
        e->last_event_tsc = v;
    if (snap_reg_get(c, "blocks", &v))
        e->blocks = v;
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

int emu_restore(const struct emu_config *cfg, struct snapshot *s,
                const struct vprofile *to, struct emu **out, char *err, size_t errlen)
{
    *out = NULL;
    uint64_t lm = 1;
    snap_reg_get(&s->machine, "long_mode", &lm);
    if (s->model.vcpus != 1) {
        snprintf(err, errlen, "the emulator runs one vCPU; this snapshot has %u",
                 s->model.vcpus);
        return -1;
    }
    struct emu *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->cfg = *cfg;
    e->cfg.memory_mib = s->memory_mib;
    e->long_mode = lm != 0;
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
    /* The model after guest RAM: its load writes pages (the reference TSC page, 4.6+). */
    if (machine_setup(e, err, errlen) || emu_attach_model(e, &s->model, to, err, errlen)) {
        emu_destroy(e);
        return -1;
    }
    if (cpuid_native_probe(e, err, errlen) || scan_install(e, err, errlen) ||
        traps_install(e, err, errlen) || restore_cpu(e, &s->cpu[0], err, errlen)) {
        emu_destroy(e);
        return -1;
    }
    restore_machine(e, &s->machine);
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
            if (e->dirty[q >> 3] & (1u << (q & 7))) {
                memcpy(e->ram + (q << 12), s->ram + (q << 12), 4096);
                uc_ctl_remove_cache(e->uc, q << 12, (q + 1) << 12);
            }
        e->dirty[p >> 3] = 0;
    }
    if (restore_cpu(e, &s->cpu[0], err, errlen))
        return -1;
    memset(&e->pit, 0, sizeof e->pit);
    restore_machine(e, &s->machine);
    e->events = s->taken_at;
    e->stop = e->pc_pending = false;
    e->unbroken_exceptions = 0;
    e->skip_first_scan = true;
    return 0;
}
