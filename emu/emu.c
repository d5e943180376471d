/* The emulator's life: create (config only), load (which picks the CPU mode and builds
 * the machine), run until the guest halts, exits, crashes or runs out of budget. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "emu/internal.h"
#include "viridian/save.h"

int load_probe(const uint8_t *img, size_t len, bool raw, bool *long_mode, char *err,
               size_t errlen);
int load_image(struct emu *e, const uint8_t *img, size_t len, bool raw, uint64_t raw_addr,
               uint64_t *entry, char *err, size_t errlen);

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    struct emu *e = ctx;
    if (gpa >= e->ram_size || len > e->ram_size - gpa)
        return -1;
    memcpy(buf, e->ram + gpa, len);
    return 0;
}

/* The model writes guest memory (the hypercall page): code there must be retranslated,
 * which Unicorn only does for writes it sees, so drop what it may have cached. */
static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    struct emu *e = ctx;
    if (gpa >= e->ram_size || len > e->ram_size - gpa)
        return -1;
    memcpy(e->ram + gpa, buf, len);
    mark_dirty(e, gpa, len);
    if (e->uc)
        uc_ctl_remove_cache(e->uc, gpa, gpa + len);
    return 0;
}

int emu_create(const struct emu_config *cfg, struct emu **out, char *err, size_t errlen)
{
    struct emu *e = calloc(1, sizeof *e);
    *out = NULL;
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->cfg = *cfg;
    if (!e->cfg.memory_mib)
        e->cfg.memory_mib = 16;
    if (e->cfg.memory_mib > 4096) {
        snprintf(err, errlen, "--memory %u MiB: at most 4096", e->cfg.memory_mib);
        free(e);
        return -1;
    }
    struct vconfig mc = cfg->model;
    mc.vcpus = 1;
    mc.mem = (struct vmem_ops){ e, ram_read, ram_write };
    enum verr v = vmodel_create(&mc, &e->model);
    if (v != VERR_OK) {
        snprintf(err, errlen, "%s", verr_str(v));
        free(e);
        return -1;
    }
    *out = e;
    return 0;
}

/* A model for a restored guest: the stream's records under the destination's rules
 * (to), or with to NULL a rewind of the same guest on its own host. */
int emu_attach_model(struct emu *e, const struct vsave *s, const struct vprofile *to, char *err,
                     size_t errlen)
{
    struct vmem_ops mem = { e, ram_read, ram_write };
    enum vres_kind r = to ? vmodel_restore(s, to, mem, &e->model)
                          : vmodel_rewind(s, mem, &e->model);
    if (r != VRES_OK) {
        snprintf(err, errlen, "%s refuses the snapshot's viridian state", to ? to->name : s->host);
        return -1;
    }
    return 0;
}

int emu_load(struct emu *e, const uint8_t *img, size_t len, bool raw, uint64_t raw_addr,
             char *err, size_t errlen)
{
    uint64_t entry;
    if (load_probe(img, len, raw, &e->long_mode, err, errlen) ||
        machine_setup(e, err, errlen) || (machine_tables(e), 0) || load_image(e, img, len, raw, raw_addr, &entry, err, errlen) ||
        cpuid_native_probe(e, err, errlen) || scan_install(e, err, errlen) ||
        traps_install(e, err, errlen))
        return -1;
    machine_enter(e, entry, e->long_mode);
    return 0;
}

static uint64_t pc(struct emu *e)
{
    uint64_t v = 0;
    uc_reg_read(e->uc, e->long_mode ? UC_X86_REG_RIP : UC_X86_REG_EIP, &v);
    return v;
}

static void apply_pending_pc(struct emu *e)
{
    if (e->pc_pending) {
        uint64_t v = e->pending_pc;
        uc_reg_write(e->uc, e->long_mode ? UC_X86_REG_RIP : UC_X86_REG_EIP, &v);
        e->pc_pending = false;
    }
}

/* Unicorn ends uc_emu_start on HLT with RIP just past it. */
static bool halted_before(const struct emu *e, uint64_t rip)
{
    if (rip == 0 || rip > e->ram_size)
        return false;
    cs_insn *insn;
    bool hlt = false;
    if (cs_disasm(e->cs, e->ram + rip - 1, 1, rip - 1, 1, &insn) == 1) {
        hlt = insn->id == X86_INS_HLT;
        cs_free(insn, 1);
    }
    return hlt;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void emu_run(struct emu *e, struct emu_result *res)
{
    memset(res, 0, sizeof *res);
    res->events = e->events;
    e->res = res;
    e->stop = false;
    double start = seconds();
    uint64_t rip = pc(e), until = UINT64_MAX;
    unsigned spins = 0;
    /* The first block of a run is never announced as new: scan where it starts. */
    if (!e->skip_first_scan)
        scan_range(e, rip, 4096);
    e->skip_first_scan = false;
    for (;;) {
        if (e->cfg.cancel && *e->cfg.cancel) {
            res->stop = EMU_CANCELLED;
            break;
        }
        e->restart = false;
        uint64_t timeout_us = 0;
        if (e->cfg.timeout_s) {
            double left = e->cfg.timeout_s - (seconds() - start);
            if (left <= 0) {
                res->stop = EMU_TIMEOUT;
                break;
            }
            timeout_us = (uint64_t)(left * 1e6) + 1;
        }
        e->guard_refused = GUARD_PASS;
        uint64_t from = rip, ran_until = until;
        uc_err err = uc_emu_start(e->uc, rip, until, timeout_us, 0);
        until = UINT64_MAX;
        apply_pending_pc(e);
        rip = pc(e);
        if (e->stop)
            break;
        if (err == UC_ERR_FETCH_PROT && e->guard_refused != GUARD_PASS) {
            /* An instruction Unicorn must not translate (guard.c): run up to it, then
             * raise the #UD a CPU raises for it, or execute it here. */
            if (rip != e->guard_refused_at) {
                /* Refused again on the way there: the address is inside an instruction
                 * the guard measured wrongly. Stop, rather than risk Unicorn's abort. */
                if (ran_until == e->guard_refused_at && from == rip) {
                    char what[120];
                    snprintf(what, sizeof what, "the translation guard lost track of the "
                             "instructions before 0x%llx", (unsigned long long)e->guard_refused_at);
                    crash_report(e, what, rip);
                    res->stop = EMU_CRASHED;
                    break;
                }
                until = e->guard_refused_at;
                continue;
            }
            bool go = e->guard_refused == GUARD_DEBUG_REG ? debugreg_execute(e, rip)
                                                          : raise_exception(e, 6, false, 0, rip);
            if (!go)
                break;
            rip = pc(e);
            continue;
        }
        if (err != UC_ERR_OK) {
            bool fetch = err == UC_ERR_FETCH_UNMAPPED || err == UC_ERR_FETCH_PROT;
            bool mem = fetch || err == UC_ERR_READ_UNMAPPED || err == UC_ERR_WRITE_UNMAPPED;
            /* Outside RAM there is nothing to page in: the guest takes a #PF. */
            if (mem && raise_exception(e, 14, true, fetch ? 0x10 : 0, rip)) {
                rip = pc(e);
                continue;
            }
            if (!e->stop) {
                char what[160];
                snprintf(what, sizeof what, "Unicorn stopped: %s", uc_strerror(err));
                crash_report(e, what, rip);
                res->stop = EMU_CRASHED;
            }
            break;
        }
        if (e->restart) {
            spins = 0;
            continue;
        }
        if (e->cfg.timeout_s && seconds() - start >= e->cfg.timeout_s) {
            res->stop = EMU_TIMEOUT;
            break;
        }
        if (halted_before(e, rip)) {
            res->stop = EMU_HALTED;
            break;
        }
        /* Unicorn sometimes returns on a VMCALL with the hook not called (a stop still
         * pending swallows the exception): the call is ours to make. Any other early
         * return resumes where it stopped, unless it makes no progress at all. */
        if (at_hypercall(e, rip)) {
            hypercall_at(e, rip);
            apply_pending_pc(e);
            if (e->stop)
                break;
            rip = pc(e);
            spins = 0;
            continue;
        }
        if (++spins > 1000) {
            crash_report(e, "the emulator made no progress", rip);
            res->stop = EMU_CRASHED;
            break;
        }
    }
    res->tsc = vmodel_tsc(e->model);
    res->blocks = e->blocks;
}

struct vmodel *emu_model(struct emu *e)
{
    return e->model;
}

uint8_t *emu_ram(struct emu *e, uint64_t *size)
{
    *size = e->ram_size;
    return e->ram;
}

void emu_destroy(struct emu *e)
{
    if (!e)
        return;
    if (e->uc)
        uc_close(e->uc);
    if (e->cs)
        cs_close(&e->cs);
    vmodel_destroy(e->model);
    if (e->ram)
        munmap(e->ram, (size_t)e->ram_size);
    free(e->dirty);
    free(e);
}
