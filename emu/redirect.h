/* Going on at another RIP from the block hook without leaving Unicorn's execution loop.
 *
 * Unicorn 2.0.1's only way to move RIP from a hook is uc_reg_write, which also asks the
 * engine to stop: QEMU's cpu_exec returns to Unicorn's loop, which sees the RIP write
 * and enters cpu_exec again. For an interrupt taken at a block start that exit and
 * re-entry was a fifth of the delivery (bench/README.md). QEMU itself has a cheaper way
 * out of a block that has not run yet: the exit request every block checks first, after
 * Unicorn's block hook. Set from the hook, together with Unicorn's "RIP was written"
 * flag (without it QEMU puts RIP back to the block's start), the block is left unrun
 * and cpu_exec's own loop goes on at the RIP in the CPU state.
 *
 * Neither flag has a call in 2.0.1's API, so this finds them where Unicorn 2.0.1 keeps
 * them and checks, on the engine it is given, that they are there before it says yes:
 * any other engine gets redirect_ready() false and the uc_reg_write way. */
#ifndef VSBOX_EMU_REDIRECT_H
#define VSBOX_EMU_REDIRECT_H

#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

struct redirect {
    uint8_t *quit;          /* uc_struct.quit_request: "the PC was written, keep it" */
    int16_t *exit_high;     /* the high half of QEMU's icount_decr: negative = exit */
    bool pending;           /* requested, and the quit flag not yet taken back */
};

/* Find and check the flags on uc, after its first run. false (and r unusable) on any
 * engine that does not keep them as 2.0.1 does. */
bool redirect_open(struct redirect *r, uc_engine *uc);

static inline bool redirect_ready(const struct redirect *r)
{
    return r->quit != NULL;
}

/* From a block hook, after the new RIP and state are in the engine: leave this block
 * unrun and go on at that RIP. */
static inline void redirect_request(struct redirect *r)
{
    *r->quit = 1;
    *r->exit_high = -1;
    r->pending = true;
}

/* Take the quit flag back once the block it leaves has left (before, QEMU would put RIP
 * back to that block's start): at the next block hook, and before a stop asked outside
 * the delivery (while the flag is set, Unicorn's loop drops a stop, and a block a stop
 * leaves keeps a stale RIP). true when it was set: a stop asked in between (a signal
 * handler's, or one asked during the delivery) was dropped, and must be asked again. */
static inline bool redirect_settle(struct redirect *r)
{
    if (!r->pending)
        return false;
    *r->quit = 0;
    r->pending = false;
    return true;
}

#endif
