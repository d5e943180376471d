/* libFuzzer target: the emulator running a byte string as guest code, with the viridian
 * model behind it, for a small budget of guest instructions (loops are the common case,
 * and a large budget only makes each input slower, not the search wider). The first byte
 * picks viridian 0 or 1 (bit 0) and where the code starts (bit 4): in 64-bit mode, as
 * --raw starts it, or in 32-bit protected mode with paging off, as an ELF32 (and Xen's
 * HVM firmware) starts, where segments have bases and limits and mode changes are near.
 *
 * Whatever the bytes do (fault, loop, rewrite themselves, write MSRs), vsbox must end
 * the run cleanly with one of its stop reasons. And two oracles see what a crash-only
 * harness cannot (the bugs of issue 14 went unnoticed by one):
 *   - determinism: a second run of the same bytes, listing every instruction, records
 *     the same events (kind, arguments, answer, RIP) and ends in the same registers; host
 *     time leaking into the guest, state an exception left behind, or a listing that
 *     changes what runs makes them differ (where QEMU itself differs, a third run,
 *     plain, is the comparison: see below);
 *   - every RDTSC/RDTSCP the guest executed was trapped: the second run lists every
 *     instruction it executes (--trace-insns), and each RDTSC in that list must be an
 *     event at the same RIP, in the same order. */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "emu/emu.h"
#include "snapshot/snapshot.h"

enum { CODE_MAX = 4096, CODE_AT = 0x100000, MAX_EVENTS = 2048 };
enum { VIRIDIAN = 1, MODE32 = 0x10 };   /* the first byte's flags */

struct logged {
    int kind, res_kind;
    uint64_t a0, a1, v0, rip;
};

struct log {
    struct logged ev[MAX_EVENTS];
    size_t n;
    uint64_t tsc_rips[MAX_EVENTS];   /* RDTSC(P)s the instruction listing saw */
    size_t n_tsc;
    bool overflow;
    bool listed, repeated;           /* the listing had an instruction twice in a row */
    uint64_t last_rip;
};

static void on_event(void *ctx, uint64_t advance, const struct vevent *ev, const struct vres *res,
                     uint64_t rip)
{
    struct log *l = ctx;
    (void)advance;
    if (l->n == MAX_EVENTS) {
        l->overflow = true;
        return;
    }
    l->ev[l->n++] = (struct logged){ ev->kind, res->kind, ev->a[0], ev->a[1], res->v[0], rip };
}

static void on_console(void *ctx, char c)
{
    (void)ctx, (void)c;
}

static void on_insn(void *ctx, uint64_t rip, const char *text)
{
    struct log *l = ctx;
    l->repeated |= l->listed && rip == l->last_rip;
    l->listed = true;
    l->last_rip = rip;
    if (strncmp(text, "rdtsc", 5) == 0) {
        if (l->n_tsc == MAX_EVENTS)
            l->overflow = true;
        else
            l->tsc_rips[l->n_tsc++] = rip;
    }
}

/* The code wrapped as an ELF32 executable loaded and entered at CODE_AT: vsbox starts it
 * in flat 32-bit protected mode with paging off, as Xen starts an HVM guest's firmware. */
static size_t elf32(const uint8_t *code, size_t len, uint8_t *out)
{
    Elf32_Ehdr h = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
                     .e_entry = CODE_AT, .e_phoff = sizeof h, .e_ehsize = sizeof h,
                     .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = 1 };
    memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS32;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_ident[EI_VERSION] = EV_CURRENT;
    Elf32_Phdr ph = { .p_type = PT_LOAD, .p_offset = sizeof h + sizeof ph, .p_vaddr = CODE_AT,
                      .p_paddr = CODE_AT, .p_filesz = (Elf32_Word)len, .p_memsz = (Elf32_Word)len,
                      .p_flags = PF_R | PF_W | PF_X, .p_align = 4096 };
    memcpy(out, &h, sizeof h);
    memcpy(out + sizeof h, &ph, sizeof ph);
    memcpy(out + sizeof h + sizeof ph, code, len);
    return sizeof h + sizeof ph + len;
}

/* One run; false when vsbox could not even start it (the input is not a guest). */
static bool run(const uint8_t *data, size_t size, bool listing, struct log *log,
                struct emu_result *res, struct snap_cpu *regs)
{
    struct emu_config cfg = { .model = { .viridian = data[0] & VIRIDIAN ? 1 : 0 }, .memory_mib = 2,
                              .budget = 5000, .trace_insns = listing,
                              .sink = { log, on_event, on_console, on_insn } };
    struct emu *e;
    char err[256];
    if (emu_create(&cfg, &e, err, sizeof err))
        abort();
    static uint8_t image[sizeof(Elf32_Ehdr) + sizeof(Elf32_Phdr) + CODE_MAX];
    bool ok = size > 1 &&
              ((data[0] & MODE32) ? emu_load(e, image, elf32(data + 1, size - 1, image), false, 0,
                                             err, sizeof err)
                                  : emu_load(e, data + 1, size - 1, true, CODE_AT, err, sizeof err)) == 0;
    if (ok) {
        emu_run(e, res);
        if (res->stop == EMU_ERROR)
            abort(); /* Unicorn refused something vsbox asked of it: a vsbox bug */
        struct snapshot *s = calloc(1, sizeof *s);
        emu_save(e, s);
        *regs = s->cpu[0];
        free(s);
    }
    emu_destroy(e);
    return ok;
}

/* The same registers; against the listed run, RFLAGS' arithmetic flags aside. QEMU 5
 * evaluates the lazy flags at the start of a few instructions (RCL and RCR, SETcc of
 * some conditions) before their memory access, and when that access faults it puts back
 * the operation the flags came from but not its operands: the flags at the fault are
 * garbage, and different garbage where a hook on every instruction had synced them.
 * vsbox mends RCL/RCR's (fuzz/corpus/fuzz_emu/rcr-faults-after-evaluating-flags), not
 * SETcc's. */
static bool same_regs(const struct snap_cpu *a, const struct snap_cpu *b, bool listed)
{
    if (a->n != b->n)
        return false;
    for (uint32_t i = 0; i < a->n; i++) {
        uint64_t mask = listed && strcmp(a->reg[i].name, "rflags") == 0 ? ~0x8d5ull : ~0ull;
        if (strcmp(a->reg[i].name, b->reg[i].name) != 0 ||
            ((a->reg[i].value ^ b->reg[i].value) & mask) != 0)
            return false;
    }
    return true;
}

static void differ(const char *what)
{
    fprintf(stderr, "fuzz_emu: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > CODE_MAX)
        return 0;
    static struct log a, b, c;
    static struct snap_cpu ra, rb, rc;
    struct emu_result resa, resb, resc;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    if (!run(data, size, false, &a, &resa, &ra) || !run(data, size, true, &b, &resb, &rb))
        return 0;
    if (a.overflow || b.overflow)
        return 0;
    /* The plain run is compared with the listed one, unless the listing has an
     * instruction twice in a row: a REP iteration, a jump to itself, or QEMU's restart of
     * an instruction that stored into its own block. An instruction that evaluated the
     * lazy flags before such a store (RCR, RCL) comes back from the restart with QEMU's
     * flag state half put back, and differently where a hook on every instruction had
     * synced it (QEMU 5's imprecision, inside Unicorn 2.0.1: no real CPU restarts). Then
     * a second plain run is the comparison, exact to the last block. */
    const struct log *x = &b;
    const struct emu_result *resx = &resb;
    const struct snap_cpu *rx = &rb;
    bool listed = true;
    if (b.repeated) {
        memset(&c, 0, sizeof c);
        if (!run(data, size, false, &c, &resc, &rc) || c.overflow)
            return 0;
        x = &c, resx = &resc, rx = &rc, listed = false;
    }
    if (resa.stop != resx->stop || resa.exit_code != resx->exit_code)
        differ("the second run ended differently");
    /* Out of budget, the listed run's shorter last block may leave an event out */
    bool inexact = listed && resa.stop == EMU_BUDGET;
    size_t common = inexact ? (a.n < x->n ? a.n : x->n) : a.n;
    if ((!inexact && a.n != x->n) || memcmp(a.ev, x->ev, common * sizeof a.ev[0]) != 0)
        differ("the second run recorded different events");
    /* A budget stops at the end of a block, which the listing (a hook on every
     * instruction) makes shorter; every other stop is at an exact instruction. */
    if (!inexact && !same_regs(&ra, rx, listed))
        differ("the second run ended in different registers");
    size_t k = 0;
    for (size_t i = 0; i < b.n; i++)
        if (b.ev[i].kind == VEV_RDTSC) {
            if (k == b.n_tsc || b.tsc_rips[k] != b.ev[i].rip)
                differ("an RDTSC event at a RIP the listing did not execute one at");
            k++;
        }
    if (k != b.n_tsc)
        differ("an RDTSC executed without an event: host time reached the guest");
    return 0;
}
