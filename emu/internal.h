/* State shared by the emulator's files. */
#ifndef VSBOX_EMU_INTERNAL_H
#define VSBOX_EMU_INTERNAL_H

#include <capstone/capstone.h>
#include <unicorn/unicorn.h>
#include "emu/emu.h"
#include "emu/pit.h"

#define EMU_MAX_SITES 4096u

/* Trapped instruction kinds found by the scan. */
enum site_kind { SITE_RDMSR, SITE_WRMSR, SITE_RDTSC, SITE_RDTSCP };

struct cpuid_leaf {
    uint32_t leaf, sub, r[4];
};

struct emu {
    struct emu_config cfg;
    uc_engine *uc;
    csh cs;
    uint8_t *ram;
    uint64_t ram_size;
    struct vmodel *model;
    bool long_mode;              /* false: an ELF32 guest in protected mode */

    /* Trap sites: exact-address hooks, added when code is first translated. */
    uint64_t sites[EMU_MAX_SITES];
    uint32_t n_sites;
    bool restart;                /* a new site was hooked: stop and retranslate */

    /* Native CPUID answers for the basic and extended leaves, read once at start. */
    struct cpuid_leaf leaves[64];
    uint32_t n_leaves;

    struct pit pit;
    uint64_t last_event_tsc;     /* clock at the last recorded event */
    uint64_t blocks;             /* with --budget: executed blocks, to stop silent loops */
    uint64_t unbroken_exceptions; /* delivered since the last trapped event */
    uint64_t events;             /* trapped events since the guest started (across restores) */
    struct emu_result *res;
    bool stop;                   /* a handler ended the run (res->stop set) */
    /* Writing RIP from a hook makes Unicorn 2.0.1 drop a pending uc_emu_stop, so once a
     * run is stopping, hooks leave the new RIP here and the run loop writes it. */
    bool pc_pending;
    uint64_t pending_pc;

    /* Pages vsbox itself wrote (the model's hypercall page, exception frames), so that
     * emu_rewind puts back only those. One bit per 4 KiB page. */
    uint8_t *dirty;
    bool skip_first_scan;        /* after a rewind: the code at RIP is as it was scanned */

    /* The translation guard (guard.c): where the translator reads, and what it refused. */
    uint64_t guard_next;         /* the address after the last byte fetched */
    uint64_t guard_insn_end;     /* the end of the instruction last checked */
    unsigned guard_refused;      /* enum guard_verdict of the refused fetch */
    uint64_t guard_refused_at;

    /* DR0-DR3, DR6, DR7 as the guest last wrote them (debugreg.c); Unicorn's stay zero. */
    uint64_t dr[8];
};

/* A register as Unicorn holds it (all 64 bits). */
static inline uint64_t emu_reg(struct emu *e, int id)
{
    uint64_t v = 0;
    uc_reg_read(e->uc, id, &v);
    return v;
}

/* The legacy prefixes (groups 1-4), any number of which may precede an opcode. */
static inline bool x86_legacy_prefix(uint8_t b)
{
    switch (b) {
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
    case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
        return true;
    default:
        return false;
    }
}

static inline void mark_dirty(struct emu *e, uint64_t gpa, uint64_t len)
{
    if (!e->dirty || len == 0)
        return;
    for (uint64_t p = gpa >> 12; p <= (gpa + len - 1) >> 12 && p < e->ram_size >> 12; p++)
        e->dirty[p >> 3] |= (uint8_t)(1u << (p & 7));
}

/* emu.c */
struct vsave;
int emu_attach_model(struct emu *e, const struct vsave *s, const struct vprofile *to, char *err,
                     size_t errlen);

/* guard.c: refuse to translate what would abort Unicorn 2.0.1 (RAM is not UC_PROT_EXEC) */
int guard_install(struct emu *e, char *err, size_t errlen);
enum guard_verdict {
    GUARD_PASS,       /* Unicorn may translate it */
    GUARD_UD,         /* #UD on a CPU, and Unicorn 2.0.1 might abort: FF /3 or /5 through
                         a register, a misplaced LOCK */
    GUARD_DEBUG_REG,  /* MOV to or from DRn: vsbox executes it (debugreg.c) */
};
/* The verdict on the instruction at p (n bytes readable). */
enum guard_verdict guard_check(const uint8_t *p, size_t n, bool long_mode);

/* debugreg.c: the debug registers, which vsbox keeps as storage (no breakpoint fires) */
void debugreg_reset(struct emu *e);
/* DRn = v as a MOV to it stores it (fixed bits; DR6/DR7 keep 32 bits): for restores. */
void debugreg_set(struct emu *e, unsigned n, uint64_t v);
uint64_t debugreg_get(struct emu *e, unsigned n);  /* DRn as a MOV from it reads it */
/* Execute the MOV DRn at rip (the guard refused it): false when the run must stop. */
bool debugreg_execute(struct emu *e, uint64_t rip);

/* machine.c */
uint8_t *machine_ram(uint64_t size);  /* NULL when out of memory; munmap to free */
int machine_setup(struct emu *e, char *err, size_t errlen);  /* RAM (unless given), engine */
void machine_tables(struct emu *e);
void machine_enter(struct emu *e, uint64_t entry, bool long_mode);

/* scan.c */
int scan_install(struct emu *e, char *err, size_t errlen);
void scan_range(struct emu *e, uint64_t start, uint64_t len);

/* traps.c */
int traps_install(struct emu *e, char *err, size_t errlen);
void trap_event(struct emu *e, const struct vevent *ev, const struct vres *res, uint64_t rip);
void clock_charge(struct emu *e, unsigned kind);
void set_pc(struct emu *e, uint64_t pc);
void finish(struct emu *e, enum emu_stop why);

bool at_hypercall(const struct emu *e, uint64_t rip);
void hypercall_at(struct emu *e, uint64_t rip);

/* exception.c: deliver through the guest's IDT; false when it cannot (report + stop). */
bool raise_exception(struct emu *e, unsigned vector, bool has_error, uint32_t error,
                     uint64_t rip);
void crash_report(struct emu *e, const char *what, uint64_t rip);

/* cpuid_native.c */
int cpuid_native_probe(struct emu *e, char *err, size_t errlen);
void cpuid_native(const struct emu *e, uint32_t leaf, uint32_t sub, uint32_t r[4]);

#endif
