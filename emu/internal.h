/* State shared by the emulator's files (docs/emulator.md describes how they fit). */
#ifndef VSBOX_EMU_INTERNAL_H
#define VSBOX_EMU_INTERNAL_H

#include <capstone/capstone.h>
#include <signal.h>
#include <unicorn/unicorn.h>
#include "emu/cpustate.h"
#include "emu/emu.h"
#include "emu/lapic.h"
#include "emu/tlb.h"
#include "emu/pit.h"
#include "emu/redirect.h"
#include "emu/xen_platform.h"

#define PLATFORM_MSRS 3u
#define IOAPIC_PINS 48u   /* Xen's VIOAPIC_NUM_PINS */

struct cpuid_leaf {
    uint32_t leaf, sub, r[4];
};

/* Bytes the guard substituted in RAM for the translator to read (site.c); they are put
 * back before the translated code runs. A block holds at most TCG's 512 instructions. */
#define SITE_MAX_PATCHES 512u
struct site_patch {
    uint8_t *at;
    uint8_t len;
    uint8_t orig[3];
};

/* An exception waiting to be delivered when Unicorn stops (deliver.c). */
enum exc_source {
    EXC_CPU,       /* raised by the CPU (QEMU or a trap vsbox emulates): a fault or trap */
    EXC_SOFT,      /* INT n, INT3, INTO: privilege-checked against the gate, EXT clear */
    EXC_ICEBP,     /* INT1: a trap like #DB, not privilege-checked */
    EXC_EXTERNAL,  /* a hardware interrupt */
};
struct exc {
    bool pending;
    uint8_t vector;
    bool has_error;
    uint32_t error;
    uint64_t rip;      /* where the handler's IRET returns */
    uint64_t insn;     /* the instruction that caused it (what a fault while
                          delivering it reports) */
    enum exc_source source;
    bool cpu_loaded;   /* e->cpu already holds the engine's state (irq.c's take): the
                          delivery need not copy it again */
};

/* Instructions in each translated block, by its start, for --budget (guard.c). */
struct icount_map {
    uint64_t *pc;
    uint32_t *n;
    uint32_t cap, used;
};

/* A SYSCALL the hook performed, for the run loop to finish (syscall.c). */
struct syscall_entry {
    bool pending;
    uint64_t rip;
    uint16_t sel;
    bool long_mode, tf;
    bool sce, sce_pending;       /* an EFER write's SCE, to set past QEMU's mask */
};

/* One vCPU besides its registers (which are Unicorn's while it runs, else ctx). */
struct vcpu {
    uc_context *ctx;
    struct lapic lapic;
    uint64_t dr[8];                          /* e->dr while it runs */
    uint64_t platform_msr[PLATFORM_MSRS];   /* e->platform_msr while it runs */
    bool up, initialised, halted;
    bool waiting;                /* a vector is pending behind IF or the STI/MOV SS shadow */
    uint64_t shadow_at;          /* the instruction in an STI shadow, run before any vector */
    bool polled;                 /* the SynIC was polled at poll_tsc after poll_events */
    uint64_t poll_tsc, poll_events;
};

struct emu {
    struct emu_config cfg;
    uc_engine *uc;
    csh cs16, cs32, cs64;
    csh cs64d;                   /* with operand details (decode.c), opened when needed */
    struct cpustate cpu;
    struct cpustate paging;      /* mmu_load's own view: the paging controls, read alone */
    struct redirect redirect;    /* a delivery from the block hook goes on without a stop */
    uint8_t *ram;
    struct mmu_tlb tlb;          /* walks remembered (mmu.c) */
    uint64_t ram_size;
    uint8_t *special;            /* the Xen toolstack's pages outside RAM (xen_platform.c) */
    uint8_t *code_pages;         /* bit per RAM page code was translated from */
    uint64_t stale[64];          /* such pages vsbox wrote: drop their translations */
    uint32_t n_stale;            /* before the guest runs again (phys_sync) */
    bool stale_overflow;
    bool sync_stop;              /* the run stopped for phys_sync */
    bool block_hooked;           /* guard.c's block hook is in place */
    struct vmodel *model;
    bool boot_long;              /* entered in 64-bit mode (raw or ELF64), else flat 32-bit */

    /* Native CPUID answers for the basic and extended leaves, read once at start. */
    struct cpuid_leaf leaves[64];
    uint32_t n_leaves;

    /* Translation (guard.c, site.c). */
    uint64_t guard_next;         /* after the last byte fetched; UINT64_MAX: a block starts */
    uint64_t guard_insn_end;     /* the end of the instruction last checked */
    unsigned guard_refused;      /* enum guard_verdict of the refused fetch */
    uint64_t guard_refused_at;
    uint32_t tb_insns;           /* instructions of the block being translated */
    uint64_t guard_page;         /* the page last checked (empty, remapped) */
    uint64_t guard_tb_start;     /* the first instruction of the block being translated */
    enum cpu_mode guard_mode;    /* the mode of the block being translated */
    bool guard_paging;
    unsigned guard_cpl;
    bool guard_step;             /* EFLAGS.TF: QEMU translates one instruction per block */
    uint64_t guard_cr0, guard_cr4;
    struct site_patch patch[SITE_MAX_PATCHES];
    uint32_t n_patch;
    struct icount_map icount;    /* by icount_key(): QEMU may hold several blocks at one address */
    struct {                     /* the budget's last charge (guard.c): the block */
        uint64_t at;             /* (UINT64_MAX: none since the run started) */
        uint32_t n;              /* and its instructions */
    } charged;
    struct icount_map int_len;   /* INT n, INT3, INTO, INT1, HLT: length by the address
                                    after them (interrupts report only that) */

    /* The run (run.c). */
    struct emu_result *res;
    bool stop;                   /* finish() was called: res->stop says why */
    bool in_run;                 /* a delivery from inside the run (irq_take_here) ... */
    uint64_t in_run_rip;         /* ... at the start of this block, linear (see irq_rip) */
    bool stop_asked;             /* run_stop() since this run started */
    struct exc exc;              /* an exception to deliver once Unicorn stops */
    bool halted;                 /* the guest executed HLT */
    bool rip_fix;                /* a trap site reached after a stop: run it again */
    struct syscall_entry syscall;
    uint64_t rip_fix_to;
    uint64_t insns;              /* guest instructions executed (counted with --budget) */
    volatile sig_atomic_t cancelled;
    uint64_t delivered;          /* exceptions delivered since the last trapped event */
    uint64_t events;             /* trapped events since the guest started (across restores) */
    uint64_t last_event_tsc;     /* clock at the last recorded event */

    struct pit pit;
    struct {                     /* hpet.c */
        uint64_t config, status, counter, offset;
        uint64_t timer_cfg[3], cmp[3];
    } hpet;
    struct {                     /* ioapic.c */
        uint8_t sel;
        uint32_t id;
        uint64_t redir[IOAPIC_PINS];
    } ioapic;
    struct {
        bool active;             /* the guest used the APIC: interrupts are looked for */
        bool hooked;             /* ... and every block start checks for a window */
        bool kick;               /* something became pending: stop at the block's end */
        uint64_t deadline_tsc;   /* the next timer's (any vCPU's), or UINT64_MAX */
    } irq;
    /* vCPUs (vcpu.c): the one running is cur; the others wait as saved contexts. */
    struct vcpu *vcpus;
    uint32_t n_vcpus, cur, n_up;
    uc_context *reset_ctx;       /* the CPU at power-on, for INIT and VCPUOP_initialise */
    bool smp;                    /* more than one vCPU has run: block starts count slices */
    bool smp_pending;            /* ... from the next stop on */
    bool resched;                /* the running vCPU's slice is over */
    uint32_t slice_left;         /* bytes of code the running vCPU may still run */
    bool block_plain;            /* the block hook need only count the slice (guard.c) */
    bool odd_code;               /* the guard translated code with a CS base or 16-bit
                                  * operands: a trap looks at CS (site.c) */
    uint64_t platform_msr[PLATFORM_MSRS]; /* msr_platform.c, in its table's order */
    struct {
        uint64_t shinfo_gpa;     /* where the guest mapped Xen's shared_info */
        bool shinfo_mapped;
        bool called;             /* the guest has made a hypercall ... */
        bool shinfo_32;          /* ... the first one from 32-bit code */
        struct xen_port *ports;  /* event channels (xen_evtchn.c) */
        uint32_t gnttab_version;
        uint8_t *ballooned;      /* bit per RAM page given back to Xen */
        struct {                 /* pages populated outside RAM (populate_physmap) */
            uint64_t gfn;
            uint8_t *page;
        } extra[16];
        unsigned n_extra;
    } xen;
    /* Pages vsbox itself wrote (the model's pages, exception frames), so that
     * emu_rewind puts back only those. One bit per 4 KiB page. */
    uint8_t *dirty;
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

static inline void emu_set_reg(struct emu *e, int id, uint64_t v)
{
    uc_reg_write(e->uc, id, &v);
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
    if (!e->dirty || len == 0 || gpa >= e->ram_size)
        return;
    for (uint64_t p = gpa >> 12; p <= (gpa + len - 1) >> 12 && p < e->ram_size >> 12; p++)
        e->dirty[p >> 3] |= (uint8_t)(1u << (p & 7));
}

/* emu.c */
struct vsave;
int emu_attach_model(struct emu *e, const struct vsave *s, const struct vprofile *to, char *err,
                     size_t errlen);
csh emu_capstone(struct emu *e, enum cpu_mode m);

/* machine.c */
uint8_t *machine_ram(uint64_t size);  /* NULL when out of memory; munmap to free */
int machine_setup(struct emu *e, char *err, size_t errlen);  /* RAM (unless given), engine */
void machine_tables(struct emu *e);
void machine_enter(struct emu *e, uint64_t entry, bool long_mode);

/* guard.c: the translator's view, one instruction at a time (see the file) */
int guard_install(struct emu *e, char *err, size_t errlen);
/* From now on every block start is seen (the budget, interrupt windows). */
void guard_block_hook(struct emu *e);
enum guard_verdict {
    GUARD_PASS,       /* Unicorn may translate it */
    GUARD_UD,         /* #UD on a CPU, and Unicorn 2.0.1 might abort: FF /3 or /5 through
                         a register, a misplaced LOCK */
    GUARD_DEBUG_REG,  /* MOV to or from DRn: vsbox executes it (debugreg.c) */
    GUARD_EMPTY,      /* the first instruction of a page of zeros: the guest ran off its code */
    GUARD_REMAPPED,   /* code whose page tables map it elsewhere (Unicorn 2.0.1 cannot) */
    GUARD_NO_RAM,     /* code where there is no RAM (a device, or nothing) */
    GUARD_FAULT,      /* a fetch the page tables refuse: #PF */
    GUARD_FAULT_AHEAD,/* such a fetch after the first instruction of a block: end it there */
    GUARD_CR4,        /* MOV to CR4: vsbox checks it against the CPUID (crwrite.c) */
    GUARD_FEP,        /* Xen's forced emulation prefix, with --hvm-fep */
    GUARD_WRAP,       /* an instruction at the 4 GiB wrap of 32-bit code */
};
/* The verdict on the instruction at p (n bytes readable). */
enum guard_verdict guard_check(const uint8_t *p, size_t n, bool long_mode);
/* GUARD_UD where an MMX/SSE instruction must raise #UD before CR0.TS's #NM. */
enum guard_verdict guard_fpu_order(const uint8_t *p, size_t n, bool long_mode, uint64_t cr0,
                                   uint64_t cr4);

/* decode.c: what a 64-bit instruction addresses, for the faults QEMU 5 gets wrong */
bool decode_stack_fault(struct emu *e, uint64_t rip);   /* a non-canonical SS access */
bool decode_branch_target(struct emu *e, uint64_t rip, uint64_t *target);
bool decode_canonical(uint64_t a);

/* crwrite.c: execute the MOV to CR4 at rip with Xen's checks. */
void crwrite_cr4(struct emu *e, uint64_t rip);

/* site.c: trap instructions substituted so that Unicorn hands them to vsbox */
enum site_kind {
    SITE_NONE, SITE_RDMSR, SITE_WRMSR, SITE_RDTSC, SITE_RDTSCP, SITE_VMCALL, SITE_VMMCALL,
    SITE_CPUID, SITE_SYSCALL, SITE_HLT, SITE_ICEBP,
    SITE_IN, SITE_OUT,           /* port I/O, imm8 (E4-E7) or DX (EC-EF) forms */
    SITE_SYSENTER,               /* Unicorn 2.0.1 skips it, from a RIP it never synced */
};
struct site {
    enum site_kind kind;
    uint8_t len;       /* the whole instruction, prefixes included */
    uint8_t op;        /* offset of the opcode (after the prefixes) */
    uint8_t width;     /* IN/OUT: bytes moved (1, 2 or 4) */
    int16_t port;      /* IN/OUT: the imm8 port, -1 for DX */
};
struct site site_decode(const uint8_t *p, size_t n, enum cpu_mode mode);
/* At translation: put the substitute for s (at p, guest address la) in place. */
void site_patch(struct emu *e, uint8_t *p, const struct site *s);
/* Put every substituted byte back (before the translated code runs). */
void site_restore(struct emu *e);
/* At translation: remember how long an instruction Unicorn reports by its end is. */
void site_note_length(struct emu *e, const uint8_t *p, size_t n, uint64_t la, size_t len);
int site_install(struct emu *e, char *err, size_t errlen);
/* Where Unicorn reads the code at linear address la: RAM at la itself (Unicorn 2.0.1
 * maps every page to its own address), or for addresses past RAM where the page tables
 * say. NULL when neither has n readable bytes. */
uint8_t *site_code(struct emu *e, uint64_t la, size_t n);
/* The linear address of the code at instruction pointer ip (see site.c). */
uint64_t site_code_la(struct emu *e, uint64_t ip);
/* Bytes an instruction at la may take for a decode: 15, fewer where RAM ends. */
size_t site_avail(const struct emu *e, uint64_t la);

/* traps.c: what each trapped instruction does */
int traps_install(struct emu *e, char *err, size_t errlen);
/* The registers every trap reads, in one batch (each Unicorn call costs about as much
 * as the model's whole answer). */
struct trap_regs {
    uint64_t rip, rax, rcx, rdx, cs;
};
void trap_regs_read(struct emu *e, struct trap_regs *r);
void trap_site(struct emu *e, const struct site *s, const struct trap_regs *r);
void trap_event(struct emu *e, const struct vevent *ev, const struct vres *res, uint64_t rip);
void trap_clock(struct emu *e, unsigned kind);
enum { COST_CPUID, COST_MSR, COST_TSC, COST_IO, COST_HYPERCALL, COST_EXCEPTION, COST_KINDS };

/* run.c */
void run_stop(struct emu *e);                 /* ask Unicorn to stop: never uc_emu_stop */
/* Ctrl-C: emu_cancel, or the caller's flag the signal handler sets. */
static inline bool run_cancelled(const struct emu *e)
{
    return e->cancelled || (e->cfg.cancel && *e->cfg.cancel);
}
void run_finish(struct emu *e, enum emu_stop why);
/* An exception for the run loop to deliver once Unicorn stops. */
void run_raise(struct emu *e, unsigned vector, bool has_error, uint32_t error, uint64_t rip,
               uint64_t insn, enum exc_source source);

/* syscall.c: SYSCALL, performed in two halves (the hook, then the run loop) */
void syscall_trap(struct emu *e, uint64_t rip, unsigned len);
void sysenter_trap(struct emu *e, uint64_t rip);
bool syscall_finish(struct emu *e);
void syscall_efer_written(struct emu *e, uint64_t value);

/* irq.c: the local APIC on the bus, its timer on the clock, vectors taken between runs */
void irq_reset(struct emu *e);
uint64_t lapic_dev_read(struct emu *e, uint64_t off, unsigned size);
void lapic_dev_write(struct emu *e, uint64_t off, unsigned size, uint64_t value);
void irq_clock_moved(struct emu *e);        /* a timer may be due: stop at the block's end */
bool irq_service(struct emu *e);            /* at a boundary: deliver what the CPU can take */
bool irq_idle(struct emu *e);               /* HLT: sleep until a vector comes; false: never */
bool irq_window(struct emu *e, uint64_t block); /* a waiting vector could be taken here */
bool irq_take_here(struct emu *e, uint64_t block); /* the same, from the block hook: false to stop */
uint64_t irq_rip(struct emu *e);            /* where the vCPU is, as a delivery sees it */
bool irq_sleep_to_next_timer(struct emu *e); /* every vCPU sleeps: the clock jumps; false: none */
void irq_route(struct emu *e, uint32_t from, uint32_t icr_lo, uint32_t icr_hi);
void irq_changed(struct emu *e);            /* an APIC or timer changed: look again */
void irq_timers_changed(struct emu *e);     /* the model's timers may have moved */

/* snapstate.c: the emulator's own state in a snapshot (vCPUs, APICs, devices) */
struct snap_cpu;
void snapstate_save_vcpu(struct emu *e, uint32_t i, struct snap_cpu *c);
void snapstate_restore_vcpu(struct emu *e, uint32_t i, const struct snap_cpu *c);
void snapstate_save_machine(struct emu *e, struct snap_cpu *c);
void snapstate_restore_machine(struct emu *e, const struct snap_cpu *c);
uint32_t snapstate_saved_cur(const struct snap_cpu *machine, uint32_t vcpus);
uint32_t snapstate_saved_slice(const struct snap_cpu *machine);
void irq_restored(struct emu *e);           /* after a restore: timers, hooks as saved */

/* vplatform.c: the model's platform callbacks, and vlapic's viridian side */
void vplatform_attach(struct emu *e);
void vplatform_eoi(struct emu *e, uint32_t vcpu);          /* vlapic_EOI_set */
int vplatform_pending(struct emu *e, uint32_t vcpu);       /* vlapic_has_pending_irq */
bool vplatform_ack(struct emu *e, uint32_t vcpu, uint8_t vector); /* false: domain crashed */
bool vplatform_stimer_next(struct emu *e, uint32_t vcpu, uint64_t *tsc);

/* vcpu.c: the vCPUs and their schedule */
int vcpu_setup(struct emu *e, char *err, size_t errlen);
void vcpu_free(struct emu *e);
void vcpu_load(struct emu *e, uint32_t i);  /* vCPU i's CPU into the engine (saves, restores) */
bool vcpu_schedule(struct emu *e);          /* run the next runnable vCPU; false: none ever */
void vcpu_slice(struct emu *e, uint32_t bytes);
void vcpu_resume_slice(struct emu *e, uint32_t left);   /* from a snapshot */
int vcpu_hvm_initialise(struct emu *e, uint32_t id, uint32_t mode, const void *regs);
int vcpu_hvm_up(struct emu *e, uint32_t id);
bool vcpu_is_up(const struct emu *e, uint32_t id);
void vcpu_init_ipi(struct emu *e, uint32_t id);
void vcpu_startup_ipi(struct emu *e, uint32_t id, uint8_t vector);
static inline struct vcpu *vcpu_cur(struct emu *e)
{
    return &e->vcpus[e->cur];
}

/* deliver.c: through the guest's IDT as the CPU would, or a report and a stop */
bool deliver_exception(struct emu *e, const struct exc *x);
/* The crash report: what happened, at rip (disassembled), an optional second line, the
 * registers. */
void deliver_report(struct emu *e, const char *what, uint64_t rip, const char *more);

/* debugreg.c: the debug registers, which vsbox keeps as storage (no breakpoint fires) */
void debugreg_reset(struct emu *e);
/* DRn = v as a MOV to it stores it (fixed bits; DR6/DR7 keep 32 bits): for restores. */
void debugreg_set(struct emu *e, unsigned n, uint64_t v);
uint64_t debugreg_get(struct emu *e, unsigned n);  /* DRn as a MOV from it reads it */
/* Execute the MOV DRn at rip (the guard refused it). */
void debugreg_execute(struct emu *e, uint64_t rip);

/* msr_platform.c: true when the MSR is one of Xen's platform MSRs (then *gp or the
 * value read / written). */
bool msr_platform(struct emu *e, uint32_t msr, bool write, uint64_t *value, bool *gp);
void msr_platform_reset(struct emu *e);
bool msr_platform_cpuid_faulting(const struct emu *e);

/* cpuid_native.c */
int cpuid_native_probe(struct emu *e, char *err, size_t errlen);
void cpuid_native(const struct emu *e, uint32_t leaf, uint32_t sub, uint32_t r[4]);

#endif
