/* vsbox migrate: run a guest on one host, save it after event N, restore it on another
 * host under that host's rules, and run on, in one command and one trace. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/session.h"
#include "snapshot/snapshot.h"
#include "traces/trace.h"
#include "viridian/profile.h"
#include "viridian/save.h"
#include "viridian/spec.h"
#include "viridian/visible.h"

#define MAX_IMAGE (256u << 20)

static const char usage[] =
    "usage: vsbox migrate IMAGE --from PROFILE[:SPEC] --to PROFILE[:SPEC] --at N\n"
    "                     [--downtime TICKS] [--strict] [--record FILE] [--raw ADDR]\n"
    "                     [--memory MiB] [--budget TICKS] [--timeout S] [--trace-insns]\n"
    "Run IMAGE on the source host with viridian SPEC, pause it right after trapped event\n"
    "N (the reference counter freezes), let the clock run for the downtime while the\n"
    "toolstack collects the context (default 10 ms of guest time: the guest TSC does not\n"
    "stop for a pause), restore it on the destination the way its toolstack would (the\n"
    "destination's SPEC is its own config: a different non-zero value is refused, as\n"
    "Xen's EEXIST; a release that cannot load the records refuses them), report everything\n"
    "the guest could see change, and run on. --record writes one trace with a `migrate`\n"
    "event at the switch, which `vsbox replay` reproduces.\n"
    "  vsbox migrate migration --from xen-4.3:1 --to xen-4.4:1 --at 40   (the old bug)\n"
    "  vsbox migrate migration --from xen-4.5:1 --to xen-4.5:1 --at 40   (the seed's fix)\n"
    "  vsbox migrate ref-time --from xen-4.21:defaults --to xen-4.22 --at 12\n"
    "Exit: as vsbox run; 4 when the destination refuses the guest (or --strict and\n"
    "something changed).\n";

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
    for (int i = 1; i < argc; i++) {
        int c = run_flag(&rf, argc, argv, &i);
        if (c < 0)
            return EXIT_BAD_INPUT;
        if (c)
            continue;
        const char *a = argv[i];
        const char **slot = strcmp(a, "--from") == 0     ? &from
                          : strcmp(a, "--to") == 0       ? &to_arg
                          : strcmp(a, "--at") == 0       ? &at
                          : strcmp(a, "--raw") == 0      ? &raw
                          : strcmp(a, "--memory") == 0   ? &memory
                          : strcmp(a, "--downtime") == 0 ? &down
                                                         : NULL;
        if (slot) {
            if (i + 1 >= argc)
                return fail("migrate: %s needs a value", a);
            *slot = argv[++i];
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s%s", usage, run_flags_help);
            return EXIT_OK;
        } else if (a[0] == '-') {
            return fail("migrate: unknown option '%s' (see vsbox migrate --help)", a);
        } else if (image) {
            return fail("migrate: one image at a time ('%s' and '%s')", image, a);
        } else {
            image = a;
        }
    }
    if (!image || !from || !to_arg || !at)
        return fail("migrate: needs IMAGE, --from PROFILE[:SPEC], --to PROFILE[:SPEC] and --at N");
    if (rf.save_at || rf.snapshot)
        return fail("migrate: --at is the save point; use vsbox run --save-at to keep a file");
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
    uint8_t *img = read_whole(path, MAX_IMAGE, &len, "image larger than 256 MiB");
    if (!img)
        return EXIT_BAD_INPUT;

    struct session out = { .record = rf.record };
    struct emu_config cfg = {
        .model = { .host = src, .viridian = src_mask }, .memory_mib = (uint32_t)mib,
        .budget = rf.budget_ticks, .timeout_s = (uint32_t)rf.timeout_s,
        .trace_insns = rf.trace_insns, .save_at = n, .sink = session_sink(&out),
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
    struct settings st = { .host = src, .viridian = src_mask,
                           .tsc_khz = vmodel_tsc_khz(emu_model(e)), .vcpus = 1,
                           .memory_mib = (uint32_t)mib };
    if (session_record_open(&out, &st)) {
        emu_destroy(e);
        return EXIT_BAD_INPUT;
    }

    struct emu_result res;
    emu_run(e, &res);
    fflush(stdout);
    int status = run_status(path, &res, rf.budget_ticks, rf.timeout_s);
    struct snapshot *snap = NULL;
    struct emu *e2 = NULL;
    if (res.stop != EMU_SAVE_POINT) {
        if (status != EXIT_CRASHED)
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
    fprintf(stderr, "vsbox: %s: migrating after event %llu: %s -> %s\n", path,
            (unsigned long long)n, src->name, dst->name);
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
    emu_run(e2, &res);
    fflush(stdout);
    status = run_status(path, &res, rf.budget_ticks, rf.timeout_s);
    /* Xen's shutdown code is the domain's, not the stream's: only the last host counts. */
    status = crash_status(path, emu_model(e2), status);
out:
    free(snap);
    emu_destroy(e);
    emu_destroy(e2);
    if (session_record_close(&out, true))
        return EXIT_BAD_INPUT;
    return status;
}
