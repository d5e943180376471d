/* vsbox run: a guest image on the emulator, its traps answered by the model; with
 * --save-at, stopped right after that trapped event and saved as a snapshot. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/guests.h"
#include "cli/interrupt.h"
#include "cli/options.h"
#include "cli/session.h"
#include "cli/text.h"
#include "snapshot/snapshot.h"

int cmd_run(int argc, char **argv)
{
    struct common_flags flags = { 0 };
    struct run_flags rf = { 0 };
    const char *image = NULL, *raw = NULL, *memory = NULL, *vcpus = NULL;
    const struct opt opts[] = {
        { "--raw", "ADDR", "IMAGE is a flat binary, loaded and entered at ADDR in 64-bit mode",
          &raw, NULL, NULL },
        { "--memory", "MiB", "guest RAM, 1 to 3840 MiB (default 16, or the xl.cfg's memory)",
          &memory, NULL, NULL },
        { "--vcpus", "N", "vCPUs, 1 to 64 (default 1, or the xl.cfg's vcpus): the BSP runs\n"
          "first; the others start by VCPUOP_up or INIT/STARTUP IPIs", &vcpus, NULL, NULL },
        RUN_OPTS(&rf),
        { "--save-at", "N", "stop right after the Nth trapped event and save the guest to\n"
          "--snapshot (continue it with vsbox resume FILE)", &rf.save_at, NULL, NULL },
        { "--snapshot", "FILE", "where --save-at saves the guest", &rf.snapshot, NULL, NULL },
        COMMON_OPTS(&flags),
        { 0 },
    };
    const struct command c = {
        "run", "IMAGE [OPTIONS]",
        "Run a guest: an ELF64 or ELF32 executable, a flat binary with --raw, a bundled guest\n"
        "by name (vsbox guests lists them), or the firmware_override or kernel of --config\n"
        "FILE (an XTF test's xl.cfg runs as under Xen). The guest's 0xE9 console and Xen's\n"
        "console_io go to standard output. --record writes every trapped event as a trace that vsbox replay reproduces\n"
        "on the model alone. Ctrl-C stops the guest, keeps the record up to there, exits 130.\n"
        "Exit: 0 halted, exited 0, powered off after \"Test result: SUCCESS\" or SKIP, or saved;\n"
        "1 the guest exited non-zero, or a FAILURE or ERROR verdict; 2 bad input (or the guest\n"
        "ended before event N); 3 crashed (or SHUTDOWN_crash), out of budget or timed out;\n"
        "5 the guest needs what vsbox cannot emulate (named); 130 Ctrl-C.\n",
        "IMAGE", opts,
    };
    int p = opts_parse(&c, argc, argv, &image);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    if (run_flags_parse(&rf))
        return EXIT_BAD_INPUT;
    if (!rf.save_at != !rf.snapshot)
        return fail("run: --save-at and --snapshot go together");

    uint64_t raw_addr = 0, mib = 0;
    if (raw && !parse_u64(raw, 0, UINT64_MAX, &raw_addr))
        return fail("--raw: '%s' is not an address", raw);
    if (memory && !parse_u64(memory, 1, 3840, &mib))
        return fail("--memory: '%s' is not a size from 1 to 3840 MiB", memory);
    uint64_t nvcpus = 0;
    if (vcpus && !parse_u64(vcpus, 1, VMODEL_MAX_VCPUS, &nvcpus))
        return fail("--vcpus: '%s' is not a number from 1 to %u", vcpus, VMODEL_MAX_VCPUS);

    struct settings s;
    if (!settings_resolve(&flags, NULL, NULL, &s))
        return EXIT_BAD_INPUT;
    if (!image && s.image[0])
        image = s.image;   /* --config's firmware_override or kernel */
    if (!image)
        return fail("run: which image? (vsbox run IMAGE, a bundled guest: vsbox guests, or "
                    "--config FILE with firmware_override or kernel)");
    if (memory)
        s.memory_mib = (uint32_t)mib;
    if (vcpus)
        s.vcpus = (uint32_t)nvcpus;

    char pathbuf[1024], err[256];
    const char *path = guest_image_path(image, pathbuf, sizeof pathbuf);
    size_t len;
    uint8_t *img = path ? read_image(path, raw != NULL, s.memory_mib, &len) : NULL;
    if (!img)
        return EXIT_BAD_INPUT;

    struct session out;
    session_init(&out, &rf);
    struct emu_config cfg = {
        .model = { .host = s.host, .viridian = s.viridian, .tsc_khz = s.tsc_khz, .vcpus = s.vcpus },
        .memory_mib = s.memory_mib, .budget = rf.budget_ticks, .timeout_s = (uint32_t)rf.timeout_s,
        .trace_insns = rf.trace_insns, .hvm_fep = rf.hvm_fep, .save_at = rf.save_at_event, .sink = session_sink(&out),
        .cancel = interrupt_catch(), .name = s.name[0] ? s.name : NULL,
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
    struct output snap_out;
    if (snapshot_out_open(&snap_out, rf.snapshot)) {
        emu_destroy(e);
        return EXIT_BAD_INPUT;
    }
    if (session_record_open(&out, &s)) {
        output_discard(&snap_out);
        emu_destroy(e);
        return EXIT_BAD_INPUT;
    }

    struct emu_result res;
    interrupt_watch(e);
    emu_run(e, &res);
    interrupt_watch(NULL);
    fflush(stdout);
    int status = run_status(path, &res, rf.budget_ticks, rf.timeout_s, out.verdict);
    status = crash_status(path, emu_model(e), status);
    if (rf.save_at && res.stop != EMU_SAVE_POINT && status != EXIT_CRASHED &&
        status != EXIT_INTERRUPTED) {
        fail("%s: --save-at %llu: the guest stopped after %llu events, before the save point",
             path, (unsigned long long)rf.save_at_event, (unsigned long long)res.events);
        status = EXIT_BAD_INPUT;
    } else if (res.stop == EMU_SAVE_POINT) {
        struct snapshot *snap = calloc(1, sizeof *snap);
        if (!snap) {
            status = fail("out of memory");
        } else {
            emu_save(e, snap);
            if (snapshot_out_write(&snap_out, snap))
                status = EXIT_BAD_INPUT;
            else
                say("%s: saved after event %llu (clock %llu ticks) to %s", path,
                    (unsigned long long)res.events, (unsigned long long)res.tsc, rf.snapshot);
            free(snap);
        }
    }
    output_discard(&snap_out); /* no save point: no snapshot file */
    emu_destroy(e);
    if (session_record_close(&out, status != EXIT_BAD_INPUT))
        return EXIT_BAD_INPUT;
    return status;
}
