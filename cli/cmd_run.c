/* vsbox run: a guest image on the emulator, its traps answered by the model. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "emu/emu.h"
#include "traces/trace.h"

#define MAX_IMAGE (256u << 20)

static const char usage[] =
    "usage: vsbox run IMAGE [--raw ADDR] [--viridian SPEC] [--host PROFILE] [--tsc-khz N]\n"
    "                 [--memory MiB] [--record FILE] [--trace-insns] [--budget TICKS]\n"
    "                 [--timeout SECONDS] [--config FILE]\n"
    "Run a guest: an ELF64 or ELF32 executable, a flat binary with --raw ADDR (entered\n"
    "there in 64-bit mode), or a bundled guest by name (vsbox run probe). The 0xE9\n"
    "console goes to standard output. --record writes every trapped event as a trace\n"
    "that `vsbox replay` reproduces on the model alone. --trace-insns prints every\n"
    "instruction (slow: the teaching path). --budget stops the guest once the virtual\n"
    "clock passes TICKS; --timeout is a wall-clock safety net (not deterministic).\n"
    "Exit: 0 halted or exited 0, 1 exited non-zero, 2 bad input, 3 crashed, out of\n"
    "budget or timed out.\n";

struct run_out {
    FILE *record;
    int record_err;
};

static void on_event(void *ctx, uint64_t advance, const struct vevent *ev, const struct vres *res,
                     uint64_t rip)
{
    struct run_out *o = ctx;
    if (!o->record)
        return;
    char where[32];
    snprintf(where, sizeof where, "rip=0x%llx", (unsigned long long)rip);
    if (advance) {
        struct vevent adv = { .kind = VEV_ADVANCE, .a = { advance }, .legacy = -1 };
        o->record_err |= trace_write_line(o->record, &adv, NULL, NULL);
    }
    o->record_err |= trace_write_line(o->record, ev, res, where);
}

static void on_console(void *ctx, char c)
{
    (void)ctx;
    putchar(c);
}

static void on_insn(void *ctx, uint64_t rip, const char *text)
{
    (void)ctx;
    printf("  %08llx  %s\n", (unsigned long long)rip, text);
}

/* A bundled guest by name, else the path as given. */
static const char *image_path(const char *arg, char *buf, size_t len)
{
    struct stat st;
    if (strchr(arg, '/') || stat(arg, &st) == 0)
        return arg;
    snprintf(buf, len, "%s/%s.elf", VSBOX_GUEST_DIR, arg);
    return stat(buf, &st) == 0 ? buf : arg;
}

static uint8_t *read_image(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = malloc(MAX_IMAGE + 1);
    size_t n = buf ? fread(buf, 1, MAX_IMAGE + 1, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > MAX_IMAGE) {
        free(buf);
        fail("%s: %s", path, bad ? "cannot read" : "image larger than 256 MiB");
        return NULL;
    }
    *len = n;
    return buf;
}

int cmd_run(int argc, char **argv)
{
    struct common_flags flags = { 0 };
    const char *image = NULL, *record = NULL, *raw = NULL, *memory = NULL, *budget = NULL,
               *timeout = NULL;
    bool trace_insns = false;
    for (int i = 1; i < argc; i++) {
        int c = common_flag(&flags, argc, argv, &i);
        if (c < 0)
            return EXIT_BAD_INPUT;
        if (c)
            continue;
        const char *a = argv[i];
        const char **slot = strcmp(a, "--record") == 0    ? &record
                          : strcmp(a, "--raw") == 0       ? &raw
                          : strcmp(a, "--memory") == 0    ? &memory
                          : strcmp(a, "--budget") == 0    ? &budget
                          : strcmp(a, "--timeout") == 0   ? &timeout
                                                          : NULL;
        if (slot) {
            if (i + 1 >= argc)
                return fail("run: %s needs a value", a);
            *slot = argv[++i];
        } else if (strcmp(a, "--trace-insns") == 0) {
            trace_insns = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s%s", usage, common_flags_help);
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

    uint64_t raw_addr = 0, mib = 0, ticks = 0, secs = 0;
    if (raw && !parse_u64(raw, 0, UINT64_MAX, &raw_addr))
        return fail("--raw: '%s' is not an address", raw);
    if (memory && !parse_u64(memory, 1, 4096, &mib))
        return fail("--memory: '%s' is not a size from 1 to 4096 MiB", memory);
    if (budget && !parse_u64(budget, 1, UINT64_MAX, &ticks))
        return fail("--budget: '%s' is not a tick count", budget);
    if (timeout && !parse_u64(timeout, 1, 86400, &secs))
        return fail("--timeout: '%s' is not 1 to 86400 seconds", timeout);

    struct settings s;
    if (!settings_resolve(&flags, NULL, NULL, &s))
        return EXIT_BAD_INPUT;
    if (memory)
        s.memory_mib = (uint32_t)mib;

    char pathbuf[1024];
    const char *path = image_path(image, pathbuf, sizeof pathbuf);
    size_t len;
    uint8_t *img = read_image(path, &len);
    if (!img)
        return EXIT_BAD_INPUT;

    struct run_out out = { 0 };
    char tmp[4096], err[256];
    struct emu_config cfg = {
        .model = { .host = s.host, .viridian = s.viridian, .tsc_khz = s.tsc_khz },
        .memory_mib = s.memory_mib, .budget = ticks, .timeout_s = (uint32_t)secs,
        .trace_insns = trace_insns,
        .sink = { &out, on_event, on_console, on_insn },
    };
    struct emu *e = NULL;
    if (emu_create(&cfg, &e, err, sizeof err) || emu_load(e, img, len, raw != NULL, raw_addr, err,
                                                          sizeof err)) {
        fail("%s: %s", path, err);
        emu_destroy(e);
        free(img);
        return EXIT_BAD_INPUT;
    }
    free(img);
    if (record) {
        snprintf(tmp, sizeof tmp, "%s.tmp", record);
        if (!(out.record = fopen(tmp, "w"))) {
            emu_destroy(e);
            return fail("--record: %s: %s", tmp, strerror(errno));
        }
        struct trace_config tc;
        settings_trace_config(&s, &tc);
        tc.vcpus = 1;
        tc.have |= TRACE_HAVE_MEMORY;
        tc.memory_mib = s.memory_mib;
        out.record_err |= trace_write_magic(out.record) | trace_write_config(out.record, &tc);
    }

    struct emu_result res;
    emu_run(e, &res);
    fflush(stdout);
    emu_destroy(e);

    if (out.record) {
        if (fclose(out.record) != 0 || out.record_err || rename(tmp, record) != 0) {
            remove(tmp);
            return fail("--record: cannot write %s", record);
        }
    }
    switch (res.stop) {
    case EMU_HALTED:
        return EXIT_OK;
    case EMU_EXITED:
        return res.exit_code == 0 ? EXIT_OK : EXIT_DIVERGED;
    case EMU_BUDGET:
        fprintf(stderr, "vsbox: %s: budget of %llu ticks exhausted (clock %llu ticks, %llu blocks "
                        "of guest code, %llu events)\n",
                path, (unsigned long long)ticks, (unsigned long long)res.tsc,
                (unsigned long long)res.blocks, (unsigned long long)res.events);
        return EXIT_CRASHED;
    case EMU_TIMEOUT:
        fprintf(stderr, "vsbox: %s: stopped by --timeout after %llu s: this stop is not "
                        "deterministic\n", path, (unsigned long long)secs);
        return EXIT_CRASHED;
    case EMU_CRASHED:
    case EMU_ERROR:
        fprintf(stderr, "vsbox: %s: %s", path, res.report);
        if (res.report[0] && res.report[strlen(res.report) - 1] != '\n')
            fputc('\n', stderr);
        return EXIT_CRASHED;
    }
    return EXIT_CRASHED;
}
