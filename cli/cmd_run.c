/* vsbox run: a guest image on the emulator, its traps answered by the model; with
 * --save-at, stopped right after that trapped event and saved as a snapshot. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/session.h"
#include "snapshot/snapshot.h"

#define MAX_IMAGE (256u << 20)

static const char usage[] =
    "usage: vsbox run IMAGE [--raw ADDR] [--viridian SPEC] [--host PROFILE] [--tsc-khz N]\n"
    "                 [--memory MiB] [--record FILE] [--trace-insns] [--budget TICKS]\n"
    "                 [--timeout SECONDS] [--config FILE] [--save-at N --snapshot FILE]\n"
    "Run a guest: an ELF64 or ELF32 executable, a flat binary with --raw ADDR (entered\n"
    "there in 64-bit mode), or a bundled guest by name (vsbox run probe). The 0xE9\n"
    "console goes to standard output. --record writes every trapped event as a trace\n"
    "that `vsbox replay` reproduces on the model alone. --trace-insns prints every\n"
    "instruction (slow: the teaching path). --budget stops the guest once the virtual\n"
    "clock passes TICKS; --timeout is a wall-clock safety net (not deterministic).\n"
    "--save-at N --snapshot FILE stops right after the Nth trapped event and saves the\n"
    "guest (continue it with vsbox resume FILE).\n"
    "Exit: 0 halted, exited 0 or saved; 1 exited non-zero; 2 bad input (or the guest\n"
    "ended before event N); 3 crashed, out of budget or timed out.\n";

int cmd_run(int argc, char **argv)
{
    struct common_flags flags = { 0 };
    struct run_flags rf = { 0 };
    const char *image = NULL, *raw = NULL, *memory = NULL;
    for (int i = 1; i < argc; i++) {
        int c = common_flag(&flags, argc, argv, &i);
        if (c == 0)
            c = run_flag(&rf, argc, argv, &i);
        if (c < 0)
            return EXIT_BAD_INPUT;
        if (c)
            continue;
        const char *a = argv[i];
        const char **slot = strcmp(a, "--raw") == 0 ? &raw : strcmp(a, "--memory") == 0 ? &memory
                                                                                      : NULL;
        if (slot) {
            if (i + 1 >= argc)
                return fail("run: %s needs a value", a);
            *slot = argv[++i];
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s%s%s", usage, run_flags_help, common_flags_help);
            return EXIT_OK;
        } else if (a[0] == '-') {
            return fail("run: unknown option '%s' (see vsbox run --help)", a);
        } else if (image) {
            return fail("run: one image at a time ('%s' and '%s')", image, a);
        } else {
            image = a;
        }
    }
    if (!image)
        return fail("run: which image? (vsbox run IMAGE, or a bundled guest: probe, msr-matrix, ...)");
    if (run_flags_parse(&rf))
        return EXIT_BAD_INPUT;
    if (!rf.save_at != !rf.snapshot)
        return fail("run: --save-at and --snapshot go together");
    if (rf.strict)
        return fail("run: --strict belongs to resume and migrate");

    uint64_t raw_addr = 0, mib = 0;
    if (raw && !parse_u64(raw, 0, UINT64_MAX, &raw_addr))
        return fail("--raw: '%s' is not an address", raw);
    if (memory && !parse_u64(memory, 1, 4096, &mib))
        return fail("--memory: '%s' is not a size from 1 to 4096 MiB", memory);

    struct settings s;
    if (!settings_resolve(&flags, NULL, NULL, &s))
        return EXIT_BAD_INPUT;
    if (memory)
        s.memory_mib = (uint32_t)mib;

    char pathbuf[1024], err[256];
    const char *path = guest_image_path(image, pathbuf, sizeof pathbuf);
    size_t len;
    uint8_t *img = read_whole(path, MAX_IMAGE, &len, "image larger than 256 MiB");
    if (!img)
        return EXIT_BAD_INPUT;

    struct session out = { .record = rf.record };
    struct emu_config cfg = {
        .model = { .host = s.host, .viridian = s.viridian, .tsc_khz = s.tsc_khz },
        .memory_mib = s.memory_mib, .budget = rf.budget_ticks, .timeout_s = (uint32_t)rf.timeout_s,
        .trace_insns = rf.trace_insns, .save_at = rf.save_at_event, .sink = session_sink(&out),
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
    if (session_record_open(&out, &s)) {
        emu_destroy(e);
        return EXIT_BAD_INPUT;
    }

    struct emu_result res;
    emu_run(e, &res);
    fflush(stdout);
    int status = run_status(path, &res, rf.budget_ticks, rf.timeout_s);
    status = crash_status(path, emu_model(e), status);
    if (rf.save_at && res.stop != EMU_SAVE_POINT && status != EXIT_CRASHED) {
        fail("%s: --save-at %llu: the guest stopped after %llu events, before the save point",
             path, (unsigned long long)rf.save_at_event, (unsigned long long)res.events);
        status = EXIT_BAD_INPUT;
    } else if (res.stop == EMU_SAVE_POINT) {
        struct snapshot *snap = calloc(1, sizeof *snap);
        if (!snap) {
            status = fail("out of memory");
        } else {
            emu_save(e, snap);
            if (snapshot_write_file(rf.snapshot, snap))
                status = EXIT_BAD_INPUT;
            else
                fprintf(stderr, "vsbox: %s: saved after event %llu (clock %llu ticks) to %s\n",
                        path, (unsigned long long)res.events, (unsigned long long)res.tsc,
                        rf.snapshot);
            free(snap);
        }
    }
    emu_destroy(e);
    if (session_record_close(&out, true))
        return EXIT_BAD_INPUT;
    return status;
}
