/* The emulator: Unicorn runs the guest; CPUID, RDMSR, WRMSR, RDTSC(P), VMCALL/VMMCALL
 * and port I/O trap into the viridian model (docs/emulator.md). */
#ifndef VSBOX_EMU_EMU_H
#define VSBOX_EMU_EMU_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "viridian/event.h"
#include "viridian/model.h"

struct emu_sink {
    void *ctx;
    /* A trapped event the model answered; `advance` ticks passed since the last one. */
    void (*event)(void *ctx, uint64_t advance, const struct vevent *ev, const struct vres *res,
                  uint64_t rip);
    /* A byte the guest wrote to the 0xE9 console. */
    void (*console)(void *ctx, char c);
    /* --trace-insns: one executed instruction, disassembled. */
    void (*insn)(void *ctx, uint64_t rip, const char *text);
};

struct emu_config {
    struct vconfig model;        /* host, viridian, tsc_khz, vcpus (1); mem is the emulator's */
    uint32_t memory_mib;         /* 0: 16 */
    uint64_t budget;             /* guest instructions (counted a block at a time); 0: none */
    uint32_t timeout_s;          /* wall clock safety net; 0: none */
    uint64_t save_at;            /* stop right after this trapped event (counted from the
                                    guest's start, across restores); 0: never */
    bool trace_insns;
    const char *name;            /* the guest's name (xl.cfg name=), for XenStore */
    bool hvm_fep;                /* Xen's hvm_fep boot option: the forced emulation prefix */
    struct emu_sink sink;
    const volatile sig_atomic_t *cancel; /* non-zero (Ctrl-C): stop as EMU_CANCELLED; may
                                            be NULL */
};

enum emu_stop {
    EMU_HALTED,      /* HLT */
    EMU_EXITED,      /* port 0xF4; code in exit_code */
    EMU_CRASHED,     /* unhandled exception; report filled */
    EMU_BUDGET,      /* the guest ran --budget instructions */
    EMU_TIMEOUT,     /* --timeout: stopped at a host-time-dependent point */
    EMU_ERROR,       /* Unicorn refused something; report filled */
    EMU_SAVE_POINT,  /* stopped right after event save_at: ready for emu_save */
    EMU_CANCELLED,   /* emu_cancel (Ctrl-C): stopped wherever the guest was */
    EMU_UNSUPPORTED, /* the guest needs what vsbox cannot emulate; report says what */
    EMU_SHUTDOWN,    /* Xen SCHEDOP_shutdown: reason (SHUTDOWN_poweroff 0, reboot 1,
                        crash 3...) in exit_code */
};

struct emu_result {
    enum emu_stop stop;
    int exit_code;
    uint64_t events;             /* trapped events */
    uint64_t tsc;
    uint64_t insns;              /* with a budget: guest instructions executed */
    char report[2048];           /* for EMU_CRASHED / EMU_ERROR: what, where, registers */
};

struct emu;

/* Errors are one line into err (for "vsbox: FILE: <err>"). */
int emu_create(const struct emu_config *cfg, struct emu **out, char *err, size_t errlen);
void emu_destroy(struct emu *e);

/* Load an ELF64 / ELF32 executable, or with raw a flat binary entered at raw_addr. */
int emu_load(struct emu *e, const uint8_t *image, size_t len, bool raw, uint64_t raw_addr,
             char *err, size_t errlen);

void emu_run(struct emu *e, struct emu_result *res);

/* Stop a run from a signal handler: it ends soon with EMU_CANCELLED. Only plain stores,
 * so it is safe there (Unicorn's own stop request is the same). */
void emu_cancel(struct emu *e);

struct vmodel *emu_model(struct emu *e);

/* MSRs the CPU keeps (EFER, FS/GS bases, STAR..., SYSENTER_*, PAT): RDMSR/WRMSR of them
 * run natively and never reach the model. */
bool emu_msr_native(uint32_t msr);

/* Guest RAM, for hosts that hand a guest data (the fuzzer's event tables). Writing code
 * there behind Unicorn's back is not supported. */
uint8_t *emu_ram(struct emu *e, uint64_t *size);

/* Snapshots (docs/snapshot-format.md). emu_save fills s from a guest stopped at a save
 * point (or any stop); s->ram then points at the emulator's own RAM, valid until
 * emu_destroy: write it out, never snap_free it. */
struct snapshot;
void emu_save(struct emu *e, struct snapshot *s);

/* A new emulator continuing the guest in s on host `to` (the caller has checked the
 * restore with vrestore_check). cfg gives the sink, budget and save point; memory comes
 * from the snapshot: RAM that snap_read mapped is taken over (s->ram becomes NULL),
 * any other is copied. */
int emu_restore(const struct emu_config *cfg, struct snapshot *s,
                const struct vprofile *to, struct emu **out, char *err, size_t errlen);

/* Put this emulator back to s, a snapshot it took itself whose RAM is a private copy:
 * the engine and its translations stay, the model, registers and machine state come
 * back, and of RAM only the pages vsbox wrote since (the model's writes, exception
 * frames). A guest's own stores are not tracked: rewind suits guests that keep their
 * state in pages the caller rewrites (the fuzzer's sequence guest). */
int emu_rewind(struct emu *e, const struct snapshot *s, char *err, size_t errlen);

#endif
