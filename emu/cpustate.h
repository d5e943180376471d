/* The CPU state Unicorn 2.0.1 keeps but has no call for: the hidden parts of the
 * segment registers, the translation flags derived from them (CPL, code size), and
 * the exception bookkeeping QEMU leaves behind when Unicorn hands an exception to a
 * hook instead of delivering it. vsbox delivers exceptions itself (deliver.c), so it
 * must leave that state exactly as a real delivery would (docs/emulator.md). */
#ifndef VSBOX_EMU_CPUSTATE_H
#define VSBOX_EMU_CPUSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

/* struct uc_context's header before the CPU state (size, mode, arch). */
#define CPUSTATE_CTX_HEADER 16

enum seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

/* A segment register as the CPU holds it: the selector and the descriptor cache.
 * flags is the descriptor's second dword with base and limit bits cleared
 * (type in 8-11, S 12, DPL 13-14, P 15, AVL 20, L 21, D/B 22, G 23); limit is in bytes. */
struct segcache {
    uint16_t selector;
    uint64_t base;
    uint32_t limit;
    uint32_t flags;
};

enum {
    DESC_A = 1u << 8, DESC_W = 1u << 9, DESC_R = 1u << 9, DESC_C = 1u << 10,
    DESC_CODE = 1u << 11, DESC_S = 1u << 12, DESC_P = 1u << 15, DESC_L = 1u << 21,
    DESC_B = 1u << 22, DESC_G = 1u << 23,
};
#define DESC_DPL(flags) (((flags) >> 13) & 3u)

/* The code the CPU is running, as its translator sees it. */
enum cpu_mode { MODE_REAL, MODE_VM86, MODE_PROT16, MODE_PROT32, MODE_COMPAT16, MODE_COMPAT32,
                MODE_LONG64 };

/* Code whose operands are 16-bit unless 66 says otherwise. */
static inline bool cpu_mode_16bit(enum cpu_mode m)
{
    return m == MODE_REAL || m == MODE_VM86 || m == MODE_PROT16 || m == MODE_COMPAT16;
}

struct cpustate {
    uc_context *ctx;
    uint8_t *data;       /* the saved state inside ctx */
    uc_engine *uc;       /* whose state it is */
    bool loaded;         /* data holds the engine's current state */
    bool changed;        /* a setter changed data since the last load or store */
    bool prefix;         /* only the part cpustate_load_prefix reads is current */
    uint32_t changed_end;   /* the end of the furthest byte changed since the last load */
};

/* Check that this Unicorn keeps its state where 2.0.1 does, on a scratch engine, by
 * making it hold known values and finding them. -1 with err when it does not: vsbox
 * cannot then deliver exceptions exactly and refuses to run. */
int cpustate_verify(char *err, size_t errlen);

int cpustate_open(struct cpustate *cs, uc_engine *uc);
void cpustate_close(struct cpustate *cs);

/* Read the engine's state into cs (once per stop; reads below use it), and write
 * what the setters changed back. Registers Unicorn has calls for are read and written
 * with those calls, never through here. */
void cpustate_load(struct cpustate *cs, uc_engine *uc);
/* The same for the first 568 bytes only (registers, flags, segments, descriptor
 * tables, control registers, EFER: all an interrupt's delivery reads), a tenth of the
 * copy. The first setter that changes anything loads the whole state first; the
 * exception bookkeeping past the prefix keeps its last loaded value, which between
 * deliveries is "none in flight", as in the engine. */
void cpustate_load_prefix(struct cpustate *cs, uc_engine *uc);
void cpustate_store(struct cpustate *cs, uc_engine *uc);
/* cpustate_store only when a setter changed something since the last load, and then
 * only the prefix when the changes lie in it (a delivery changes RSP, RFLAGS and at most
 * CS there; the whole copy is 5.5 KiB). Not for putting back a state the engine was made
 * to leave: that is cpustate_store's job. */
void cpustate_store_changed(struct cpustate *cs, uc_engine *uc);

struct segcache cpustate_seg(const struct cpustate *cs, enum seg s);
/* Load a segment's cache and update what the CPU derives from it (CPL from SS, code
 * size from CS, whether segment bases must be added) as a real load would. */
void cpustate_set_seg(struct cpustate *cs, enum seg s, struct segcache c);
unsigned cpustate_cpl(const struct cpustate *cs);
enum cpu_mode cpustate_mode(const struct cpustate *cs);
bool cpustate_long_mode(const struct cpustate *cs);   /* EFER.LMA */
uint64_t cpustate_cr(const struct cpustate *cs, unsigned n);
/* EFER with its read-only LMA bit, and the long-mode flag derived from it: how a boot
 * state that is not Unicorn's own 64-bit default is set up. */
void cpustate_set_efer(struct cpustate *cs, uint64_t efer);

/* The error code and kind of the exception QEMU raised last, for the hook that got
 * only its vector; and the bookkeeping that would turn the next fault into #DF. */
uint32_t cpustate_error_code(const struct cpustate *cs);
bool cpustate_exception_is_int(const struct cpustate *cs);
uint64_t cpustate_exception_next_ip(const struct cpustate *cs);
/* As after a delivered exception: no exception in flight. */
void cpustate_exception_done(struct cpustate *cs);
/* Interrupts blocked for one instruction after STI or MOV SS (the interrupt shadow). */
bool cpustate_irq_shadow(const struct cpustate *cs);
void cpustate_clear_irq_shadow(struct cpustate *cs);
/* NMIs are held off from an NMI's delivery until the next IRET (QEMU clears the flag
 * in its IRET). */
bool cpustate_nmi_blocked(const struct cpustate *cs);
/* EFLAGS as saved (the system bits; a context saved between runs holds them all). */
uint64_t cpustate_eflags(const struct cpustate *cs);
uint64_t cpustate_efer(const struct cpustate *cs);
/* As saved: RIP, general register n (0 RAX ... 4 RSP ... 15 R15), and the GDTR or IDTR
 * base and limit, for a delivery that already holds the state (no single-register calls). */
uint64_t cpustate_rip(const struct cpustate *cs);
/* RFLAGS whole, as uc_reg_read would give it, between runs or inside one (where QEMU
 * still holds the arithmetic flags as the operation that set them: ccflags.h). */
uint64_t cpustate_rflags(const struct cpustate *cs);
uint64_t cpustate_gpr(const struct cpustate *cs, unsigned n);
/* Setters for the frame a delivery leaves: general register n, and RFLAGS as a write of
 * EFLAGS through Unicorn leaves them (RIP is the engine's call: writing it is what ends
 * the block). */
void cpustate_set_gpr(struct cpustate *cs, unsigned n, uint64_t v);
/* RIP in the saved state, for a write-back that redirect.h makes the engine go on at
 * (elsewhere RIP is the engine's call). */
void cpustate_set_rip(struct cpustate *cs, uint64_t rip);
void cpustate_set_rflags(struct cpustate *cs, uint64_t flags);
/* QEMU put the arithmetic flags, evaluated, in CC_SRC but left CC_OP as the operation
 * they came from (a fault inside RCL/RCR: site.c): the flags are CC_SRC's. */
void cpustate_flags_evaluated(struct cpustate *cs);
void cpustate_dtr(const struct cpustate *cs, bool idt, uint64_t *base, uint32_t *limit);
/* Between an instruction pointer and the linear address of the code, as QEMU keys its
 * translation blocks (CS base + EIP; wrapping at 4 GiB outside 64-bit code). */
uint64_t cpustate_code_la(const struct cpustate *cs, uint64_t ip);
uint64_t cpustate_code_ip(const struct cpustate *cs, uint64_t la);
void cpustate_block_nmi(struct cpustate *cs);

#endif
