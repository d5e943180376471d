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
 *   - determinism: a second run of the same bytes records the same events (kind,
 *     arguments, answer, RIP) and ends in the same registers; host time leaking into
 *     the guest, or state an exception left behind, makes them differ;
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

static void differ(const char *what)
{
    fprintf(stderr, "fuzz_emu: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > CODE_MAX)
        return 0;
    static struct log a, b;
    static struct snap_cpu ra, rb;
    struct emu_result resa, resb;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    if (!run(data, size, false, &a, &resa, &ra) || !run(data, size, true, &b, &resb, &rb))
        return 0;
    if (a.overflow || b.overflow)
        return 0;
    if (resa.stop != resb.stop || resa.exit_code != resb.exit_code)
        differ("the second run ended differently");
    /* Out of budget, the shorter last block may leave an event out of the second run */
    size_t common = resa.stop == EMU_BUDGET ? (a.n < b.n ? a.n : b.n) : a.n;
    if ((resa.stop != EMU_BUDGET && a.n != b.n) ||
        memcmp(a.ev, b.ev, common * sizeof a.ev[0]) != 0)
        differ("the second run recorded different events");
    /* A budget stops at the end of a block, which the listing (a hook on every
     * instruction) makes shorter; every other stop is at an exact instruction. */
    if (resa.stop != EMU_BUDGET &&
        (ra.n != rb.n || memcmp(ra.reg, rb.reg, ra.n * sizeof ra.reg[0]) != 0))
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
