/* The run loop. Unicorn runs the guest until something needs vsbox: a hook asks it to
 * stop and says why (an exception to deliver, a HLT, a finished run), or the guard
 * refused to let it translate an instruction. Hooks never move RIP (writing it from a
 * hook makes Unicorn 2.0.1 resume instead of stopping, which is how exceptions once got
 * lost); everything that changes where the guest runs happens here, between runs. The
 * one exception is an interrupt taken at a block start when nothing else is waiting for
 * this loop (irq_take_here), where going on at the handler is the point (redirect.h). */
#include <signal.h>
#include <string.h>
#include <time.h>
#include "emu/internal.h"
#include "emu/phys.h"

/* Every stop vsbox asks of Unicorn goes through here, so that the block hook knows one
 * is on its way: a RIP written from the hook would cancel it (irq_take_here). */
void run_stop(struct emu *e)
{
    e->stop_asked = true;
    /* A redirect's flag would drop the stop (redirect.h). Inside the delivery that asks
     * for one, the block it leaves has not left yet: the next block hook asks again. */
    if (!e->in_run)
        redirect_settle(&e->redirect);
    uc_emu_stop(e->uc);
}

void run_finish(struct emu *e, enum emu_stop why)
{
    if (e->stop)
        return;
    e->res->stop = why;
    e->stop = true;
    run_stop(e);
}

void run_raise(struct emu *e, unsigned vector, bool has_error, uint32_t error, uint64_t rip,
               uint64_t insn, enum exc_source source)
{
    if (e->exc.pending)
        return;   /* the first exception of an instruction is the one it raises */
    e->exc = (struct exc){ true, (uint8_t)vector, has_error, error, rip, insn, source, false };
    run_stop(e);
}

void emu_cancel(struct emu *e)
{
    e->cancelled = 1;
    uc_emu_stop(e->uc);
}

static uint64_t pc(struct emu *e)
{
    return emu_reg(e, UC_X86_REG_RIP);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void crash(struct emu *e, const char *what, uint64_t rip)
{
    deliver_report(e, what, rip, NULL);
    run_finish(e, EMU_CRASHED);
}

/* The guard refused to translate the instruction at rip (guard.c): act as the CPU. */
static void refused(struct emu *e, uint64_t rip)
{
    char what[200];
    switch ((enum guard_verdict)e->guard_refused) {
    case GUARD_UD:
        run_raise(e, 6, false, 0, rip, rip, EXC_CPU);
        return;
    case GUARD_DEBUG_REG:
        debugreg_execute(e, rip);
        return;
    case GUARD_CR4:
        crwrite_cr4(e, rip);
        return;
    case GUARD_FEP:
        /* hvm_ud_intercept(): past the prefix, RF clear, RIP truncated outside 64-bit
         * code; the instruction after it then runs as any other. */
        cpustate_load(&e->cpu, e->uc);
        emu_set_reg(e, UC_X86_REG_EFLAGS, emu_reg(e, UC_X86_REG_EFLAGS) & ~(1ull << 16));
        if (cpustate_mode(&e->cpu) != MODE_LONG64) {
            emu_set_reg(e, UC_X86_REG_RIP, (uint32_t)(rip + 5));
            return;
        }
        emu_set_reg(e, UC_X86_REG_RIP, rip + 5);
        /* Xen's emulator fetches a branch's destination before it branches (XSA-170):
         * a non-canonical one faults at the branch. */
        uint64_t target;
        if (decode_branch_target(e, rip + 5, &target) && !decode_canonical(target))
            run_raise(e, 13, true, 0, rip + 5, rip + 5, EXC_CPU);
        return;
    case GUARD_EMPTY:
        snprintf(what, sizeof what, "the guest ran into empty memory (the page at 0x%llx holds "
                 "only zeros: nothing was loaded or written there)",
                 (unsigned long long)(rip & ~4095ull));
        crash(e, what, rip);
        return;
    case GUARD_REMAPPED:
        deliver_report(e, "the guest runs code through page tables that map it elsewhere, "
                       "which Unicorn 2.0.1 cannot do (it runs every page at its own address)",
                       rip, NULL);
        run_finish(e, EMU_UNSUPPORTED);
        return;
    case GUARD_WRAP:
        deliver_report(e, "the guest runs an instruction across the 4 GiB wrap of 32-bit "
                       "code, which QEMU 5 (Unicorn 2.0.1) fetches from past 4 GiB", rip, NULL);
        run_finish(e, EMU_UNSUPPORTED);
        return;
    case GUARD_NO_RAM:
        crash(e, "the guest runs code where there is no RAM", rip);
        return;
    case GUARD_FAULT:
    case GUARD_FAULT_AHEAD:
    case GUARD_PASS:
        return;   /* run again: the block starts here, and the CPU raises the fault */
    }
}

void emu_run(struct emu *e, struct emu_result *res)
{
    memset(res, 0, sizeof *res);
    res->events = e->events;
    e->res = res;
    e->stop = false;
    double start = seconds();
    uint64_t until = UINT64_MAX, from = UINT64_MAX;
    unsigned spins = 0;
    for (;;) {
        if (run_cancelled(e)) {
            run_finish(e, EMU_CANCELLED);
            break;
        }
        if (e->cfg.budget && e->insns >= e->cfg.budget) {
            run_finish(e, EMU_BUDGET);
            break;
        }
        uint64_t timeout_us = 0;
        if (e->cfg.timeout_s) {
            double left = e->cfg.timeout_s - (seconds() - start);
            if (left <= 0) {
                run_finish(e, EMU_TIMEOUT);
                break;
            }
            timeout_us = (uint64_t)(left * 1e6) + 1;
        }
        if (e->smp_pending) {
            /* A second vCPU is up: block starts count slices from here, and blocks
             * translated before have no such call. */
            e->smp_pending = false;
            guard_block_hook(e);
            e->stale_overflow = true;   /* phys_sync below; see irq_service */
        }
        if (e->resched && !vcpu_schedule(e)) {
            run_finish(e, EMU_HALTED);
            break;
        }
        if (irq_service(e)) {
            if (e->stop)
                break;
            spins = 0;
        }
        phys_sync(e);
        e->guard_refused = GUARD_PASS;
        e->guard_next = UINT64_MAX;   /* no address: the next fetch starts a block */
        e->halted = e->rip_fix = e->sync_stop = false;
        e->exc.pending = false;
        uint64_t rip = pc(e), ran_until = until;
        e->stop_asked = false;
        redirect_settle(&e->redirect);   /* one a run ended with: Unicorn resets the flag */
        e->block_plain = false;   /* the first block start looks at everything */
        e->charged.at = UINT64_MAX;   /* no block charged in this run yet */
        e->charged.n = 0;
        if (until != UINT64_MAX)
            uc_ctl_set_exits(e->uc, &until, 1);
        uc_err err = uc_emu_start(e->uc, rip, 0, timeout_us, 0);
        if (until != UINT64_MAX)
            uc_ctl_set_exits(e->uc, NULL, 0);
        until = UINT64_MAX;
        site_restore(e);
        if (e->rip_fix)
            emu_set_reg(e, UC_X86_REG_RIP, e->rip_fix_to);
        if (syscall_finish(e))
            spins = 0;
        if (e->exc.pending && !e->stop) {
            if (!deliver_exception(e, &e->exc))
                break;
            spins = 0;
            continue;
        }
        if (e->stop)
            break;
        if (e->halted) {
            if (irq_idle(e)) {   /* woken by an interrupt: on from its handler */
                if (e->stop)
                    break;
                spins = 0;
                continue;
            }
            run_finish(e, EMU_HALTED);
            break;
        }
        uint64_t now = pc(e);
        if (err == UC_ERR_FETCH_PROT && e->guard_refused != GUARD_PASS) {
            if (site_code_la(e, now) != e->guard_refused_at) {
                /* Run up to it first. Refused again on the way there: the address is
                 * inside an instruction the guard measured wrongly; stop rather than risk
                 * Unicorn's abort. */
                if (ran_until == e->guard_refused_at && from == now) {
                    char what[160];
                    snprintf(what, sizeof what, "the translation guard lost track of the "
                             "instructions before 0x%llx (verdict %u)",
                             (unsigned long long)e->guard_refused_at, e->guard_refused);
                    crash(e, what, now);
                    break;
                }
                until = e->guard_refused_at;
                from = now;
                continue;
            }
            refused(e, now);
            if (e->exc.pending && !e->stop && !deliver_exception(e, &e->exc))
                break;
            if (e->stop)
                break;
            spins = 0;
            continue;
        }
        if (err != UC_ERR_OK) {
            char what[160];
            snprintf(what, sizeof what, "Unicorn stopped: %s", uc_strerror(err));
            crash(e, what, now);
            break;
        }
        if (e->cfg.timeout_s && seconds() - start >= e->cfg.timeout_s) {
            run_finish(e, EMU_TIMEOUT);
            break;
        }
        if (now == ran_until || e->sync_stop || e->irq.kick || e->resched) {
            spins = 0;
            continue;   /* the guard's run-to point, stale code, a vector, a slice's end */
        }
        /* Nothing asked for this stop. Resume, unless it makes no progress at all. */
        if (++spins > 1000) {
            crash(e, "the emulator made no progress", now);
            break;
        }
    }
    res->tsc = vmodel_tsc(e->model);
    res->insns = e->insns;
}
