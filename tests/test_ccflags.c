/* QEMU's lazy flags computed by vsbox (emu/ccflags.c, cpustate_rflags) against
 * Unicorn's own answer (uc_reg_read of RFLAGS, its cpu_compute_eflags): for every
 * operation number with operands made up, and for real instructions at the block starts
 * where vsbox delivers interrupts. */
#include <criterion/criterion.h>
#include <string.h>
#include <unicorn/unicorn.h>
#include "emu/cpustate.h"

/* Where Unicorn 2.0.1 keeps the flag state in its saved context (QEMU's CPUX86State
 * after the context header; cpustate_verify refuses an engine laid out otherwise). */
enum { AT_EFLAGS = 136, AT_CC_DST = 144, AT_CC_SRC = 152, AT_CC_SRC2 = 160, AT_CC_OP = 168,
       AT_DF = 172 };

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Operands that reach the edges of every width: zero, one, the sign bits, all ones. */
static uint64_t operand(void)
{
    static const uint64_t edge[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                     0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffff,
                                     0x8000000000000000, 0xffffffffffffffff, 0x100, 0x10 };
    uint64_t r = next();
    switch (r % 4) {
    case 0:
        return edge[(r >> 8) % (sizeof edge / sizeof edge[0])];
    case 1:
        return next() & 0xff;
    default:
        return next();
    }
}

static uc_engine *engine(void)
{
    uc_engine *uc;
    cr_assert_eq(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), UC_ERR_OK);
    cr_assert_eq(uc_mem_map(uc, 0x1000, 0x40000, UC_PROT_ALL), UC_ERR_OK);
    return uc;
}

Test(ccflags, every_operation_number_gives_the_flags_unicorn_computes)
{
    uc_engine *uc = engine();
    uc_context *ctx;
    cr_assert_eq(uc_context_alloc(uc, &ctx), UC_ERR_OK);
    struct cpustate cs;
    cr_assert_eq(cpustate_open(&cs, uc), 0);
    uint8_t *state = (uint8_t *)ctx + CPUSTATE_CTX_HEADER;
    for (uint32_t op = 0; op <= 52; op++) {   /* CC_OP_NB is 51: past it, nothing */
        for (int i = 0; i < 3000; i++) {
            cr_assert_eq(uc_context_save(uc, ctx), UC_ERR_OK);
            uint64_t eflags = 0x202 | (next() & 0x8d5 & -(uint64_t)(i & 1)), dst = operand(),
                     src = operand(), src2 = next() % 5 == 0 ? operand() : next() & 1;
            int32_t df = (next() & 1) ? -1 : 1;
            memcpy(state + AT_EFLAGS, &eflags, 8);
            memcpy(state + AT_CC_DST, &dst, 8);
            memcpy(state + AT_CC_SRC, &src, 8);
            memcpy(state + AT_CC_SRC2, &src2, 8);
            memcpy(state + AT_CC_OP, &op, 4);
            memcpy(state + AT_DF, &df, 4);
            cr_assert_eq(uc_context_restore(uc, ctx), UC_ERR_OK);
            uint64_t want = 0;
            uc_reg_read(uc, UC_X86_REG_RFLAGS, &want);
            cpustate_load(&cs, uc);
            cr_assert_eq(cpustate_rflags(&cs), want,
                         "op %u dst 0x%llx src 0x%llx src2 0x%llx eflags 0x%llx df %d: "
                         "vsbox 0x%llx, Unicorn 0x%llx", op, (unsigned long long)dst,
                         (unsigned long long)src, (unsigned long long)src2,
                         (unsigned long long)eflags, df,
                         (unsigned long long)cpustate_rflags(&cs), (unsigned long long)want);
        }
    }
    cpustate_close(&cs);
    uc_context_free(ctx);
    uc_close(uc);
}

/* Flag-setting instructions at every width (AL/BL, AX/BX, EAX/EBX, RAX/RBX; the count
 * in CL), each ending its block with a jump to the next one. */
static const struct {
    const char *name;
    uint8_t len, code[4];
} insns[] = {
    { "add", 2, { 0x00, 0xd8 } }, { "add16", 3, { 0x66, 0x01, 0xd8 } },
    { "add32", 2, { 0x01, 0xd8 } }, { "add64", 3, { 0x48, 0x01, 0xd8 } },
    { "adc", 2, { 0x10, 0xd8 } }, { "adc16", 3, { 0x66, 0x11, 0xd8 } },
    { "adc32", 2, { 0x11, 0xd8 } }, { "adc64", 3, { 0x48, 0x11, 0xd8 } },
    { "sub", 2, { 0x28, 0xd8 } }, { "sub16", 3, { 0x66, 0x29, 0xd8 } },
    { "sub32", 2, { 0x29, 0xd8 } }, { "sub64", 3, { 0x48, 0x29, 0xd8 } },
    { "sbb", 2, { 0x18, 0xd8 } }, { "sbb16", 3, { 0x66, 0x19, 0xd8 } },
    { "sbb32", 2, { 0x19, 0xd8 } }, { "sbb64", 3, { 0x48, 0x19, 0xd8 } },
    { "cmp", 2, { 0x38, 0xd8 } }, { "cmp64", 3, { 0x48, 0x39, 0xd8 } },
    { "and", 2, { 0x20, 0xd8 } }, { "or16", 3, { 0x66, 0x09, 0xd8 } },
    { "xor32", 2, { 0x31, 0xd8 } }, { "test64", 3, { 0x48, 0x85, 0xd8 } },
    { "xor self", 2, { 0x31, 0xc0 } },
    { "inc", 2, { 0xfe, 0xc0 } }, { "inc16", 3, { 0x66, 0xff, 0xc0 } },
    { "inc32", 2, { 0xff, 0xc0 } }, { "inc64", 3, { 0x48, 0xff, 0xc0 } },
    { "dec", 2, { 0xfe, 0xc8 } }, { "dec16", 3, { 0x66, 0xff, 0xc8 } },
    { "dec32", 2, { 0xff, 0xc8 } }, { "dec64", 3, { 0x48, 0xff, 0xc8 } },
    { "neg", 2, { 0xf6, 0xd8 } }, { "neg64", 3, { 0x48, 0xf7, 0xd8 } },
    { "shl cl", 2, { 0xd2, 0xe0 } }, { "shl16 cl", 3, { 0x66, 0xd3, 0xe0 } },
    { "shl32 cl", 2, { 0xd3, 0xe0 } }, { "shl64 cl", 3, { 0x48, 0xd3, 0xe0 } },
    { "shr cl", 2, { 0xd2, 0xe8 } }, { "shr64 cl", 3, { 0x48, 0xd3, 0xe8 } },
    { "sar cl", 2, { 0xd2, 0xf8 } }, { "sar16 cl", 3, { 0x66, 0xd3, 0xf8 } },
    { "sar32 cl", 2, { 0xd3, 0xf8 } }, { "sar64 cl", 3, { 0x48, 0xd3, 0xf8 } },
    { "rol cl", 2, { 0xd2, 0xc0 } }, { "ror64 cl", 3, { 0x48, 0xd3, 0xc8 } },
    { "mul", 2, { 0xf6, 0xe3 } }, { "mul16", 3, { 0x66, 0xf7, 0xe3 } },
    { "mul32", 2, { 0xf7, 0xe3 } }, { "mul64", 3, { 0x48, 0xf7, 0xe3 } },
    { "imul", 2, { 0xf6, 0xeb } }, { "imul64", 3, { 0x48, 0xf7, 0xeb } },
    { "imul32 r", 3, { 0x0f, 0xaf, 0xc3 } }, { "imul16 r", 4, { 0x66, 0x0f, 0xaf, 0xc3 } },
    { "bt32", 3, { 0x0f, 0xa3, 0xd8 } }, { "bsf32", 3, { 0x0f, 0xbc, 0xc3 } },
};
enum { N_INSNS = sizeof insns / sizeof insns[0], ROUNDS = 40, CODE = 0x1000 };

struct check {
    struct cpustate cs;
    uint64_t first;
    unsigned blocks;
    const char *name[N_INSNS * ROUNDS + 1];
    uint64_t at[N_INSNS * ROUNDS + 1];
    unsigned n;
};

/* At each block start but the first: the flags the instruction before left, as vsbox
 * reads them from the state it saves there, and as Unicorn computes them. */
static void on_block(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    (void)size;
    struct check *c = user;
    if (address == c->first)
        return;
    uint64_t want = 0;
    uc_reg_read(uc, UC_X86_REG_RFLAGS, &want);
    cpustate_load_prefix(&c->cs, uc);
    unsigned k = 0;
    while (k < c->n && c->at[k] != address)
        k++;
    cr_assert_eq(cpustate_rflags(&c->cs), want, "after %s (block 0x%llx): vsbox 0x%llx, Unicorn 0x%llx",
                 k < c->n ? c->name[k] : "?", (unsigned long long)address,
                 (unsigned long long)cpustate_rflags(&c->cs), (unsigned long long)want);
    c->blocks++;
}

static size_t put_mov(uint8_t *p, uint8_t reg, uint64_t v)
{
    p[0] = 0x48;
    p[1] = (uint8_t)(0xb8 + reg);
    memcpy(p + 2, &v, 8);
    return 10;
}

Test(ccflags, real_instructions_leave_the_flags_vsbox_reads_at_the_next_block)
{
    uc_engine *uc = engine();
    static uint8_t code[N_INSNS * ROUNDS * 40 + 16];
    static struct check c;
    memset(&c, 0, sizeof c);
    cr_assert_eq(cpustate_open(&c.cs, uc), 0);
    size_t n = 0;
    c.first = CODE;
    for (int r = 0; r < ROUNDS; r++) {
        for (unsigned i = 0; i < N_INSNS; i++) {
            n += put_mov(code + n, 0, operand());                   /* rax */
            n += put_mov(code + n, 3, operand());                   /* rbx */
            n += put_mov(code + n, 1, next() % 72);                 /* rcx: the count */
            code[n++] = (next() & 1) ? 0xf9 : 0xf8;                 /* stc / clc: a carry in */
            memcpy(code + n, insns[i].code, insns[i].len);
            n += insns[i].len;
            code[n++] = 0xeb;                                       /* jmp to the next block */
            code[n++] = 0x00;
            c.name[c.n] = insns[i].name;
            c.at[c.n++] = CODE + n;
        }
    }
    code[n++] = 0x90;
    cr_assert_eq(uc_mem_write(uc, CODE, code, n), UC_ERR_OK);
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)on_block, &c, 1, 0), UC_ERR_OK);
    cr_assert_eq(uc_emu_start(uc, CODE, CODE + n, 0, 0), UC_ERR_OK);
    cr_assert_eq(c.blocks, N_INSNS * ROUNDS, "%u blocks checked", c.blocks);
    cpustate_close(&c.cs);
    uc_close(uc);
}
