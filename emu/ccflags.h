/* QEMU's lazy condition codes, computed as Unicorn 2.0.1 computes them. */
#ifndef VSBOX_EMU_CCFLAGS_H
#define VSBOX_EMU_CCFLAGS_H

#include <stdint.h>

/* The arithmetic flags (CF, PF, AF, ZF, SF, OF) that QEMU's operation `op` (its CCOp
 * number) with operands CC_DST, CC_SRC and CC_SRC2 stands for: helper_cc_compute_all
 * in target/i386/cc_helper.c. 0 for an operation QEMU does not define. */
uint32_t cc_compute_all(uint32_t op, uint64_t dst, uint64_t src1, uint64_t src2);

#endif
