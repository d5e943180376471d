/* Where Unicorn 2.0.1 keeps the two flags redirect.h sets, and the checks that they are
 * there. The offsets are those of Unicorn 2.0.1's x86_64 build (include/uc_priv.h's
 * struct uc_struct, qemu/include/hw/core/cpu.h's CPUState, qemu/target/i386/cpu.h's
 * X86CPU), measured with offsetof on its source and checked here on the engine linked:
 *
 * - the host is 64-bit little-endian and the version is 2.0.1 (nothing is read before);
 * - uc->cpu's env_ptr and icount_decr_ptr point where X86CPU lays out its state and its
 *   exit counter (two pointers at fixed distances from the CPU: a wrong guess of the CPU
 *   could not satisfy both);
 * - after a run, a RIP write raises the quit flag and nothing else at its neighbour, the
 *   stop flag (before the first run uc_emu_stop raises both; after one it returns at
 *   once, so only the target's reg_write touches the engine).
 *
 * The check's RIP write is one vsbox makes before every run anyway; the flag it raises
 * is reset by the next uc_emu_start. */
#include <string.h>
#include "emu/redirect.h"

enum {
    UC_CPU = 384,                 /* struct uc_struct: CPUState *cpu */
    UC_STOP_REQUEST = 1293,       /* struct uc_struct: bool stop_request */
    UC_QUIT_REQUEST = 1294,       /* struct uc_struct: bool quit_request */
    CPU_ENV_PTR = 296,            /* CPUState: void *env_ptr */
    CPU_ICOUNT_DECR_PTR = 304,    /* CPUState: IcountDecr *icount_decr_ptr */
    X86CPU_ICOUNT_DECR = 34624,   /* X86CPU: neg.icount_decr (u32; u16 low, then high) */
    X86CPU_ENV = 34640,           /* X86CPU: CPUX86State env */
};

static uint8_t *pointer_at(const uint8_t *p)
{
    uint8_t *v;
    memcpy(&v, p, sizeof v);
    return v;
}

bool redirect_open(struct redirect *r, uc_engine *uc)
{
    *r = (struct redirect){ NULL, NULL, false };
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    return false;
#endif
    if (sizeof(void *) != 8 || uc_version(NULL, NULL) >> 8 != 0x020001)   /* 2.0.1, any extra */
        return false;
    uint8_t *u = (uint8_t *)uc, *cpu = pointer_at(u + UC_CPU);
    if (!cpu || pointer_at(cpu + CPU_ENV_PTR) != cpu + X86CPU_ENV ||
        pointer_at(cpu + CPU_ICOUNT_DECR_PTR) != cpu + X86CPU_ICOUNT_DECR)
        return false;
    uint8_t *quit = u + UC_QUIT_REQUEST, *stop = u + UC_STOP_REQUEST;
    uint8_t was = *quit, stop_was = *stop;
    *quit = 0;
    uint64_t rip = 0;
    uc_reg_read(uc, UC_X86_REG_RIP, &rip);
    uc_reg_write(uc, UC_X86_REG_RIP, &rip);
    bool ok = *quit == 1 && *stop == stop_was;
    *quit = was;
    if (ok) {
        r->quit = quit;
        r->exit_high = (int16_t *)(void *)(cpu + X86CPU_ICOUNT_DECR + 2);
    }
    return ok;
}
