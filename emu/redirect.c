/* Where Unicorn 2.0.1 keeps the two flags redirect.h sets, and the checks that they are
 * there. The offsets are those of Unicorn 2.0.1's x86_64 build (include/uc_priv.h's
 * struct uc_struct, qemu/include/hw/core/cpu.h's CPUState, qemu/target/i386/cpu.h's
 * X86CPU), measured with offsetof on its source and checked here on the engine linked:
 *
 * - the version is 2.0.1 (nothing else is read before that);
 * - uc->cpu's env_ptr and icount_decr_ptr point where X86CPU lays out its state and its
 *   exit counter (two pointers at fixed distances from the CPU: a wrong guess of the CPU
 *   could not satisfy both);
 * - the memory there is the CPU state uc_context_save copies, byte for byte;
 * - a RIP write raises the quit flag (the target's reg_write does).
 *
 * The check's RIP write is one vsbox makes before every run anyway; the flags it raises
 * are reset by the next uc_emu_start. */
#include <string.h>
#include "emu/redirect.h"

enum {
    UC_CPU = 384,                 /* struct uc_struct: CPUState *cpu */
    UC_QUIT_REQUEST = 1294,       /* struct uc_struct: bool quit_request */
    CPU_ENV_PTR = 296,            /* CPUState: void *env_ptr */
    CPU_ICOUNT_DECR_PTR = 304,    /* CPUState: IcountDecr *icount_decr_ptr */
    X86CPU_ICOUNT_DECR = 34624,   /* X86CPU: neg.icount_decr (u32; u16 low, high) */
    X86CPU_ENV = 34640,           /* X86CPU: CPUX86State env */
};

static uint8_t *pointer_at(const uint8_t *p)
{
    uint8_t *v;
    memcpy(&v, p, sizeof v);
    return v;
}

bool redirect_open(struct redirect *r, uc_engine *uc, struct cpustate *cs)
{
    *r = (struct redirect){ NULL, NULL, false };
    if (uc_version(NULL, NULL) >> 8 != 0x020001)   /* 2.0.1, any extra */
        return false;
    uint8_t *u = (uint8_t *)uc, *cpu = pointer_at(u + UC_CPU);
    if (!cpu || pointer_at(cpu + CPU_ENV_PTR) != cpu + X86CPU_ENV ||
        pointer_at(cpu + CPU_ICOUNT_DECR_PTR) != cpu + X86CPU_ICOUNT_DECR)
        return false;
    cpustate_load(cs, uc);
    if (!cpustate_is(cs, cpu + X86CPU_ENV))
        return false;
    uint8_t *quit = u + UC_QUIT_REQUEST, was = *quit;
    *quit = 0;
    uint64_t rip = cpustate_rip(cs);
    uc_reg_write(uc, UC_X86_REG_RIP, &rip);
    bool ok = *quit == 1;
    *quit = was;
    if (ok) {
        r->quit = quit;
        r->exit_high = (int16_t *)(void *)(cpu + X86CPU_ICOUNT_DECR + 2);
    }
    return ok;
}
