/* vsbox migrate: run a guest on one host, save it after event N, restore it on another
 * host under that host's rules, and run on, in one command and one trace. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/guests.h"
#include "cli/interrupt.h"
#include "cli/options.h"
#include "cli/session.h"
#include "cli/text.h"
#include "snapshot/snapshot.h"
#include "traces/trace.h"
#include "viridian/profile.h"
#include "viridian/save.h"
#include "viridian/spec.h"
#include "viridian/visible.h"

/* "xen-4.4:base,freq" -> host and mask; no ":SPEC" means viridian off (xl's default). */
static bool host_spec(const char *flag, const char *arg, const struct vprofile **host,
                      uint64_t *mask)
{
    char name[64];
    const char *colon = strchr(arg, ':');
    size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
    if (n >= sizeof name) {
        fail("%s: '%s' is not PROFILE[:SPEC]", flag, arg);
        return false;
    }
    memcpy(name, arg, n);
    name[n] = 0;
    if (!(*host = vprofile_find(name))) {
        fail("%s: unknown host profile '%s' (see vsbox hosts)", flag, name);
        return false;
    }
    *mask = 0;
    struct vspec_error se;
    if (colon && vspec_parse(*host, colon + 1, mask, &se) != VERR_OK) {
        char msg[256];
        vspec_strerror(&se, msg, sizeof msg);
        fail("%s: %s", flag, msg);
        return false;
    }
    return true;
}

static void record_migrate(struct session *out, const struct vprofile *to, int legacy,
                           uint64_t downtime, bool refused)
{
    if (!out->out)
        return;
    struct vevent ev = { .kind = VEV_MIGRATE, .host = to, .legacy = legacy,
                         .a = { downtime } };
    struct vres res = { .kind = refused ? VRES_REFUSED : VRES_OK };
    out->err |= trace_write_line(out->out, &ev, &res, NULL);
}

int cmd_migrate(int argc, char **argv)
{
    struct run_flags rf = { 0 };
    const char *image = NULL, *from = NULL, *to_arg = NULL, *at = NULL, *raw = NULL,
               *memory = NULL, *down = NULL;
    const struct opt opts[] = {
        { "--from", "PROFILE[:SPEC]", "the source host and its viridian SPEC (none: off, as xl)",
          &from, NULL, NULL },
        { "--to", "PROFILE[:SPEC]", "the destination host; SPEC is its own config (a different\n"
          "non-zero value is refused, as Xen's EEXIST)", &to_arg, NULL, NULL },
        { "--at", "N", "save right after trapped event N (counted from the guest's start)", &at,
          NULL, NULL },
        { "--strict", NULL, "any change the guest could see exits 4 before it runs on", NULL,
          &rf.strict, NULL },
        { "--raw", "ADDR", "IMAGE is a flat binary, loaded and entered at ADDR in 64-bit mode",
          &raw, NULL, NULL },
        { "--memory", "MiB", "guest RAM, 1 to 4096 MiB (default 16)", &memory, NULL, NULL },
        { "--downtime", "TICKS", "guest TSC ticks the paused domain waits for its save (default\n"
          "10 ms' worth: the guest TSC runs on, the reference counter is frozen)", &down, NULL,
          NULL },
        RUN_OPTS(&rf),
        { 0 },
    };
    const struct command c = {
        "migrate", "IMAGE --from PROFILE[:SPEC] --to PROFILE[:SPEC] --at N [OPTIONS]",
        "Run IMAGE on the source host, pause it right after trapped event N (the reference\n"
        "counter freezes), let the clock run for the downtime while the toolstack collects the\n"
        "context, save it, restore it on the destination the way its toolstack would (its\n"
        "mask, its restore code, its record layouts), report everything the guest could see\n"
        "change, and run on. --record writes one trace with a `migrate` event at the switch,\n"
        "which vsbox replay reproduces.\n"
        "  vsbox migrate migration --from xen-4.3:1 --to xen-4.4:1 --at 40   (the old bug)\n"
        "  vsbox migrate migration --from xen-4.5:1 --to xen-4.5:1 --at 40   (the seed's fix)\n"
        "  vsbox migrate ref-time --from xen-4.21:defaults --to xen-4.22 --at 60\n"
        "Exit: as vsbox run; 4 when the destination refuses the guest (or --strict and\n"
        "something changed).\n",
        "IMAGE", opts,
    };
    int p = opts_parse(&c, argc, argv, &image);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    if (!image || !from || !to_arg || !at)
        return fail("migrate: needs IMAGE, --from PROFILE[:SPEC], --to PROFILE[:SPEC] and --at N");
    if (run_flags_parse(&rf))
        return EXIT_BAD_INPUT;
    uint64_t n, raw_addr = 0, mib = 16, src_mask, dst_mask, downtime = 0;
    const struct vprofile *src, *dst;
    if (!parse_u64(at, 1, UINT64_MAX, &n))
        return fail("--at: '%s' is not an event number (1 or more)", at);
    if (raw && !parse_u64(raw, 0, UINT64_MAX, &raw_addr))
        return fail("--raw: '%s' is not an address", raw);
    if (memory && !parse_u64(memory, 1, 4096, &mib))
        return fail("--memory: '%s' is not a size from 1 to 4096 MiB", memory);
    /* At most a day at the fastest rate the model takes: far beyond any real downtime. */
    if (down && !parse_u64(down, 0, 86400ull * VMODEL_TSC_KHZ_MAX * 1000, &downtime))
        return fail("--downtime: '%s' is not a tick count (0 to a day of ticks)", down);
    if (!host_spec("--from", from, &src, &src_mask) || !host_spec("--to", to_arg, &dst, &dst_mask))
        return EXIT_BAD_INPUT;

    char pathbuf[1024], err[256];
    const char *path = guest_image_path(image, pathbuf, sizeof pathbuf);
    size_t len;
    uint8_t *img = path ? read_image(path, raw != NULL, (uint32_t)mib, &len) : NULL;
    if (!img)
        return EXIT_BAD_INPUT;

    struct session out;
    session_init(&out, &rf);
    struct emu_config cfg = {
        .model = { .host = src, .viridian = src_mask }, .memory_mib = (uint32_t)mib,
        .budget = rf.budget_ticks, .timeout_s = (uint32_t)rf.timeout_s,
        .trace_insns = rf.trace_insns, .hvm_fep = rf.hvm_fep, .save_at = n, .sink = session_sink(&out),
        .cancel = interrupt_catch(),
    };
    struct emu *e = NULL;
    if (emu_create(&cfg, &e, err, sizeof err) ||
        emu_load(e, img, len, raw != NULL, raw_addr, err, sizeof err)) {
        fail("%s: %s", path, err);
        emu_destroy(e);
        free(img);
        return EXIT_BAD_INPUT;
    }
    free(img);
    session_attach(&out, e);
    struct settings st = { .host = src, .viridian = src_mask,
                           .tsc_khz = vmodel_tsc_khz(emu_model(e)), .vcpus = 1,
                           .memory_mib = (uint32_t)mib };
    if (session_record_open(&out, &st)) {
        emu_destroy(e);
        return EXIT_BAD_INPUT;
    }

    struct emu_result res;
    interrupt_watch(e);
    emu_run(e, &res);
    interrupt_watch(NULL);
    fflush(stdout);
    int status = run_status(path, &res, rf.budget_ticks, rf.timeout_s, out.verdict);
    struct snapshot *snap = NULL;
    struct emu *e2 = NULL;
    if (res.stop != EMU_SAVE_POINT) {
        if (status != EXIT_CRASHED && status != EXIT_INTERRUPTED)
            status = fail("%s: --at %llu: the guest stopped after %llu events, before the "
                          "migration", path, (unsigned long long)n, (unsigned long long)res.events);
        goto out;
    }
    if (!(snap = calloc(1, sizeof *snap))) {
        status = fail("out of memory");
        goto out;
    }
    /* arch_domain_pause(): the counter freezes; what the guest saw last is now. Then the
     * toolstack takes its time, and the guest TSC runs on (hvm_get_guest_tsc() does not
     * stop for a pause) until the context is collected. */
    struct vmodel *m = emu_model(e);
    if (!down)
        downtime = (uint64_t)vmodel_tsc_khz(m) * 10; /* 10 ms */
    vmodel_pause(m);
    struct vvisible before;
    vmodel_visible(m, &before);
    vmodel_advance(m, downtime);
    emu_save(e, snap);
    /* The downtime belongs to the migrate event: the next event's advance starts after it. */
    uint64_t last;
    if (snap_reg_get(&snap->machine, "last_event", &last))
        snap_reg_set(&snap->machine, "last_event", last + downtime);
    say("%s: migrating after event %llu: %s -> %s", path, (unsigned long long)n, src->name,
        dst->name);
    cfg.save_at = 0;
    char why[512];
    bool refused = vrestore_check(&snap->model, dst, dst_mask, why, sizeof why) != VRES_OK;
    status = session_restore(path, snap, dst, dst_mask, 0, rf.strict, &before, &cfg, &e2);
    /* --strict stops after a restore the host accepted: the trace still says ok. */
    record_migrate(&out, dst, snap->model.legacy, downtime, refused);
    if (status != EXIT_OK)
        goto out;
    emu_destroy(e); /* after the restore: the snapshot's RAM was this emulator's */
    e = NULL;
    session_attach(&out, e2);
    interrupt_watch(e2);
    emu_run(e2, &res);
    interrupt_watch(NULL);
    fflush(stdout);
    status = run_status(path, &res, rf.budget_ticks, rf.timeout_s, out.verdict);
    /* Xen's shutdown code is the domain's, not the stream's: only the last host counts. */
    status = crash_status(path, emu_model(e2), status);
out:
    free(snap);
    emu_destroy(e);
    emu_destroy(e2);
    if (session_record_close(&out, status != EXIT_BAD_INPUT))
        return EXIT_BAD_INPUT;
    return status;
}
