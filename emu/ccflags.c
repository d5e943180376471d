/* While QEMU runs guest code it keeps the arithmetic flags unevaluated: the last
 * flag-setting operation (CC_OP) and its operands (CC_DST, CC_SRC, CC_SRC2) stand for
 * them, and they are computed only when something reads them. A delivery inside a run
 * must push them; asking Unicorn costs a register call (a sixteenth of a delivery), so
 * vsbox computes them from the saved state the delivery already holds, by the rules of
 * the x86 flags in QEMU's encoding. tests/test_ccflags.c compares this with Unicorn's
 * own answer for every operation. */
#include "emu/ccflags.h"

enum { CC_C = 0x1, CC_P = 0x4, CC_A = 0x10, CC_Z = 0x40, CC_S = 0x80, CC_O = 0x800 };

/* QEMU's CCOp numbers (target/i386/cpu.h): families of four widths (8, 16, 32, 64
 * bits) from MUL to BMILG, then single operations. */
enum {
    OP_EFLAGS = 1, OP_MUL = 2, OP_ADD = 6, OP_ADC = 10, OP_SUB = 14, OP_SBB = 18,
    OP_LOGIC = 22, OP_INC = 26, OP_DEC = 30, OP_SHL = 34, OP_SAR = 38, OP_BMILG = 42,
    OP_ADCX = 46, OP_ADOX = 47, OP_ADCOX = 48, OP_CLR = 49, OP_POPCNT = 50,
};

/* PF: an even number of ones in the result's low byte. */
static uint32_t parity(uint64_t v)
{
    return __builtin_parity((unsigned)(v & 0xff)) ? 0 : CC_P;
}

uint32_t cc_compute_all(uint32_t op, uint64_t dst, uint64_t src1, uint64_t src2)
{
    switch (op) {
    case OP_EFLAGS:
        return (uint32_t)src1;
    case OP_CLR:
        return CC_Z | CC_P;
    case OP_POPCNT:
        return src1 ? 0 : CC_Z;
    case OP_ADCX:
        return (uint32_t)((src1 & ~(uint64_t)CC_C) | (dst * CC_C));
    case OP_ADOX:
        return (uint32_t)((src1 & ~(uint64_t)CC_O) | (src2 * CC_O));
    case OP_ADCOX:
        return (uint32_t)((src1 & ~(uint64_t)(CC_C | CC_O)) | (dst * CC_C) | (src2 * CC_O));
    }
    if (op < OP_MUL || op >= OP_ADCX)
        return 0;
    unsigned family = op - (op - OP_MUL) % 4, bits = 8u << ((op - OP_MUL) % 4);
    uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1, sign = 1ull << (bits - 1);
    /* the operands as the operation's width holds them */
    uint64_t d = dst & mask, s1 = src1 & mask, s3 = src2 & mask;
    uint32_t cf = 0, af = 0, of = 0;
    uint32_t pf = parity(d), zf = d == 0 ? CC_Z : 0, sf = (d & sign) ? CC_S : 0;
    uint64_t a, b;
    switch (family) {
    case OP_MUL:   /* CC_SRC: the high half, whole (QEMU does not truncate it) */
        cf = src1 != 0;
        of = cf ? CC_O : 0;
        break;
    case OP_ADD:   /* CC_SRC: the first operand; the second is implied */
    case OP_ADC:   /* and CC_SRC2 the carry in */
        b = (d - s1 - (family == OP_ADC ? s3 : 0)) & mask;
        cf = family == OP_ADC && s3 ? d <= s1 : d < s1;
        af = (d ^ s1 ^ b) & CC_A;
        of = ((~(s1 ^ b) & (s1 ^ d)) & sign) ? CC_O : 0;
        break;
    case OP_SUB:   /* CC_SRC: the second operand; the first is implied */
    case OP_SBB:
        a = (d + s1 + (family == OP_SBB ? s3 : 0)) & mask;
        cf = family == OP_SBB && s3 ? a <= s1 : a < s1;
        af = (d ^ a ^ s1) & CC_A;
        of = (((a ^ s1) & (a ^ d)) & sign) ? CC_O : 0;
        break;
    case OP_LOGIC:   /* CF, AF and OF clear */
        break;
    case OP_INC:   /* CC_SRC: the carry flag from before, which INC and DEC keep */
    case OP_DEC:
        cf = (uint32_t)s1;
        a = (family == OP_INC ? d - 1 : d + 1) & mask;
        af = (d ^ a ^ 1) & CC_A;
        of = d == (family == OP_INC ? sign : sign - 1) ? CC_O : 0;
        break;
    case OP_SHL:   /* CC_SRC: the value shifted one place less */
        cf = (s1 >> (bits - 1)) & CC_C;
        of = ((s1 ^ d) & sign) ? CC_O : 0;
        break;
    case OP_SAR:   /* (SHR too) CC_SRC: the value shifted one place less */
        cf = s1 & 1;
        of = ((s1 ^ d) & sign) ? CC_O : 0;
        break;
    case OP_BMILG: /* ANDN, BLSI and the like: CF from the source, no PF */
        cf = s1 == 0;
        pf = 0;
        break;
    }
    return cf | pf | af | zf | sf | of;
}
