/* vsbox resume: a snapshot restored, on its own host or another, and run on. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/interrupt.h"
#include "cli/options.h"
#include "cli/prologue.h"
#include "cli/session.h"
#include "cli/text.h"
#include "snapshot/snapshot.h"
#include "viridian/profile.h"
#include "viridian/spec.h"

int cmd_resume(int argc, char **argv)
{
    struct run_flags rf = { 0 };
    const char *file = NULL, *host = NULL, *viridian = NULL, *hv = NULL, *tsc_khz = NULL;
    const struct opt opts[] = {
        { "--host", "PROFILE", "restore on this host profile, under its rules (default: the\n"
          "snapshot's own host)", &host, NULL, NULL },
        { "--viridian", "SPEC", "the destination's own viridian config: a different non-zero\n"
          "value is refused, as Xen's EEXIST", &viridian, NULL, NULL },
        { "--hv", "FLAGS", "with --host kvm: the destination's QEMU CPU flags (none: the ones\n"
          "closest to what the guest saw on Xen)", &hv, NULL, NULL },
        { "--tsc-khz", "N", "a destination that does not keep the guest's TSC rate: run on at\n"
          "N kHz", &tsc_khz, NULL, NULL },
        { "--strict", NULL, "any change the guest could see exits 4 before it runs on", NULL,
          &rf.strict, NULL },
        RUN_OPTS(&rf),
        { "--save-at", "N", "stop again right after trapped event N and save to --snapshot;\n"
          "N counts from the start of the guest (as 'taken after event' in\n"
          "vsbox snapshot info does), not from the resume", &rf.save_at, NULL, NULL },
        { "--snapshot", "FILE", "where --save-at saves the guest", &rf.snapshot, NULL, NULL },
        { 0 },
    };
    const struct command c = {
        "resume", "FILE [OPTIONS]",
        "Restore a snapshot and continue the guest. Restored on another host, it follows that\n"
        "host's rules: a mask with bits the host lacks is refused, and a legacy boolean\n"
        "stream means what the host says it means. Everything the guest could see change\n"
        "between the save and the restore is reported by name. --record writes a trace that\n"
        "replays alone: it starts with the events that rebuild the saved state.\n"
        "Exit: as vsbox run, and 4 when the restore is refused (or --strict).\n",
        "FILE", opts,
    };
    int p = opts_parse(&c, argc, argv, &file);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    if (!file)
        return fail("resume: which snapshot? (vsbox resume FILE)");
    if (run_flags_parse(&rf))
        return EXIT_BAD_INPUT;
    if (!rf.save_at != !rf.snapshot)
        return fail("resume: --save-at and --snapshot go together");
    uint64_t khz = 0;
    if (tsc_khz && !parse_u64(tsc_khz, VMODEL_TSC_KHZ_MIN, VMODEL_TSC_KHZ_MAX, &khz))
        return fail("--tsc-khz: '%s' is not %u to %u kHz", tsc_khz, VMODEL_TSC_KHZ_MIN,
                    VMODEL_TSC_KHZ_MAX);
    if (host && !vprofile_find(host))
        return fail("--host: unknown host profile '%s' (see vsbox hosts)", host);

    struct snapshot *snap = snapshot_read_file(file);
    if (!snap)
        return EXIT_BAD_INPUT;
    const struct vprofile *to = vprofile_find(host ? host : snap->model.host);
    uint64_t dest = 0, taken_at = snap->taken_at;
    const char *flag = "--viridian";
    if (hv || (viridian && to->hypervisor == VHV_KVM)) {
        const char *why = viridian ? "--viridian: host kvm takes QEMU's CPU flags: use --hv"
                          : to->hypervisor != VHV_KVM ? "--hv: only with --host kvm"
                                                      : NULL;
        if (why) {
            snapshot_free_file(snap);
            return fail("%s", why);
        }
        viridian = hv;
        flag = "--hv";
    }
    if (viridian) {
        struct vspec_error se;
        char msg[256];
        if (vspec_parse(to, viridian, &dest, &se) != VERR_OK) {
            vspec_strerror(&se, msg, sizeof msg);
            snapshot_free_file(snap);
            return fail("%s: %s", flag, msg);
        }
    }
    if (rf.save_at && rf.save_at_event <= taken_at) {
        snapshot_free_file(snap);
        return fail("--save-at %llu: the snapshot was taken after event %llu already (--save-at "
                    "counts from the start of the guest)", (unsigned long long)rf.save_at_event,
                    (unsigned long long)taken_at);
    }

    struct session out;
    session_init(&out, &rf);
    struct emu_config cfg = {
        .budget = rf.budget_ticks, .timeout_s = (uint32_t)rf.timeout_s,
        .trace_insns = rf.trace_insns, .hvm_fep = rf.hvm_fep, .save_at = rf.save_at_event, .sink = session_sink(&out),
        .cancel = interrupt_catch(),
    };
    struct vsave saved = snap->model; /* as saved: the restore may change the rate */
    uint32_t memory_mib = snap->memory_mib;
    struct emu *e;
    int status = session_restore(file, snap, to, dest, (uint32_t)khz, rf.strict, NULL, &cfg, &e);
    snapshot_free_file(snap);
    if (status != EXIT_OK)
        return status;
    session_attach(&out, e);
    struct settings st;
    prologue_settings(&saved, memory_mib, &st);
    struct output snap_out;
    if (snapshot_out_open(&snap_out, rf.snapshot)) {
        emu_destroy(e);
        return EXIT_BAD_INPUT;
    }
    if (session_record_open(&out, &st)) {
        output_discard(&snap_out);
        emu_destroy(e);
        return EXIT_BAD_INPUT;
    }
    if (out.out && !prologue_write(out.out, file, taken_at, &saved, memory_mib, to, emu_model(e),
                                   &out.err))
        say("%s: --record: no events rebuild the restored state exactly (the TSC rate "
            "changed): time-derived results in the trace may not replay", file);

    struct emu_result res;
    interrupt_watch(e);
    emu_run(e, &res);
    interrupt_watch(NULL);
    fflush(stdout);
    status = run_status(file, &res, rf.budget_ticks, rf.timeout_s, out.verdict);
    status = crash_status(file, emu_model(e), status);
    if (res.stop == EMU_SAVE_POINT) {
        struct snapshot *next = calloc(1, sizeof *next);
        if (!next) {
            status = fail("out of memory");
        } else {
            emu_save(e, next);
            if (snapshot_out_write(&snap_out, next))
                status = EXIT_BAD_INPUT;
            free(next);
        }
    } else if (rf.save_at && status != EXIT_CRASHED && status != EXIT_INTERRUPTED) {
        status = fail("%s: --save-at %llu: the guest stopped after %llu events, before the save "
                      "point", file, (unsigned long long)rf.save_at_event,
                      (unsigned long long)res.events);
    }
    output_discard(&snap_out); /* no save point: no snapshot file */
    emu_destroy(e);
    if (session_record_close(&out, status != EXIT_BAD_INPUT))
        return EXIT_BAD_INPUT;
    return status;
}
