/* vsbox resume: a snapshot restored, on its own host or another, and run on. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/session.h"
#include "snapshot/snapshot.h"
#include "viridian/profile.h"
#include "viridian/spec.h"

static const char usage[] =
    "usage: vsbox resume FILE [--host PROFILE] [--viridian SPEC] [--tsc-khz N] [--strict]\n"
    "                    [--record FILE] [--budget TICKS] [--timeout S] [--trace-insns]\n"
    "                    [--save-at N --snapshot FILE]\n"
    "Restore a snapshot and continue the guest. --host restores it on another host\n"
    "profile, under that host's rules: a mask with bits the host lacks is refused, and a\n"
    "legacy boolean stream means what the host says it means. --viridian is the\n"
    "destination's own config (a different non-zero value is refused, as Xen's EEXIST);\n"
    "--tsc-khz a destination that does not keep the guest's TSC rate. Everything the guest\n"
    "could see change is reported by name; --strict makes any change exit 4.\n"
    "Exit: as vsbox run, and 4 when the restore is refused (or --strict).\n";

int cmd_resume(int argc, char **argv)
{
    struct common_flags flags = { 0 };
    struct run_flags rf = { 0 };
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        int c = common_flag(&flags, argc, argv, &i);
        if (c == 0)
            c = run_flag(&rf, argc, argv, &i);
        if (c < 0)
            return EXIT_BAD_INPUT;
        if (c)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s%s", usage, run_flags_help);
            return EXIT_OK;
        } else if (a[0] == '-' && a[1]) {
            return fail("resume: unknown option '%s' (see vsbox resume --help)", a);
        } else if (file) {
            return fail("resume: one snapshot at a time ('%s' and '%s')", file, a);
        }
        file = a;
    }
    if (!file)
        return fail("resume: which snapshot? (vsbox resume FILE)");
    if (flags.config)
        return fail("resume: --config is for building a guest; the snapshot carries its own");
    if (run_flags_parse(&rf))
        return EXIT_BAD_INPUT;
    if (!rf.save_at != !rf.snapshot)
        return fail("resume: --save-at and --snapshot go together");
    uint64_t khz = 0;
    if (flags.tsc_khz && !parse_u64(flags.tsc_khz, VMODEL_TSC_KHZ_MIN, VMODEL_TSC_KHZ_MAX, &khz))
        return fail("--tsc-khz: '%s' is not %u to %u kHz", flags.tsc_khz, VMODEL_TSC_KHZ_MIN,
                    VMODEL_TSC_KHZ_MAX);

    struct snapshot *snap = snapshot_read_file(file);
    if (!snap)
        return EXIT_BAD_INPUT;
    const struct vprofile *to = flags.host ? vprofile_find(flags.host)
                                           : vprofile_find(snap->model.host);
    if (!to) {
        snapshot_free_file(snap);
        return fail("--host: unknown host profile '%s' (see vsbox hosts)", flags.host);
    }
    uint64_t dest = 0;
    if (flags.viridian) {
        struct vspec_error se;
        char msg[256];
        if (vspec_parse(to, flags.viridian, &dest, &se) != VERR_OK) {
            vspec_strerror(&se, msg, sizeof msg);
            snapshot_free_file(snap);
            return fail("--viridian: %s", msg);
        }
    }
    if (rf.save_at && rf.save_at_event <= snap->taken_at) {
        snapshot_free_file(snap);
        return fail("--save-at %llu: the snapshot was taken after event %llu already",
                    (unsigned long long)rf.save_at_event, (unsigned long long)snap->taken_at);
    }

    struct session out = { .record = rf.record };
    struct emu_config cfg = {
        .budget = rf.budget_ticks, .timeout_s = (uint32_t)rf.timeout_s,
        .trace_insns = rf.trace_insns, .save_at = rf.save_at_event, .sink = session_sink(&out),
    };
    struct emu *e;
    int status = session_restore(file, snap, to, dest, (uint32_t)khz, rf.strict, NULL, &cfg, &e);
    if (status != EXIT_OK) {
        snapshot_free_file(snap);
        return status;
    }
    struct vmodel *m = emu_model(e);
    struct settings st = { .host = to, .viridian = vmodel_param(m), .tsc_khz = vmodel_tsc_khz(m),
                           .vcpus = 1, .memory_mib = snap->memory_mib };
    snapshot_free_file(snap);
    if (session_record_open(&out, &st)) {
        emu_destroy(e);
        return EXIT_BAD_INPUT;
    }
    if (out.out)
        fprintf(out.out, "# resumed from %s: these events continue that guest\n", file);

    struct emu_result res;
    emu_run(e, &res);
    fflush(stdout);
    status = run_status(file, &res, rf.budget_ticks, rf.timeout_s);
    status = crash_status(file, emu_model(e), status);
    if (res.stop == EMU_SAVE_POINT) {
        struct snapshot *next = calloc(1, sizeof *next);
        if (!next) {
            status = fail("out of memory");
        } else {
            emu_save(e, next);
            if (snapshot_write_file(rf.snapshot, next))
                status = EXIT_BAD_INPUT;
            free(next);
        }
    } else if (rf.save_at && status != EXIT_CRASHED) {
        status = fail("%s: --save-at %llu: the guest stopped after %llu events, before the save "
                      "point", file, (unsigned long long)rf.save_at_event,
                      (unsigned long long)res.events);
    }
    emu_destroy(e);
    if (session_record_close(&out, true))
        return EXIT_BAD_INPUT;
    return status;
}
