#include "cli/session.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "snapshot/snapshot.h"
#include "traces/trace.h"
#include "viridian/profile.h"
#include "viridian/save.h"
#include "viridian/visible.h"

/* Ctrl-C stops the guest where it is (emu_cancel is safe in a signal handler); the
 * command then finishes its trace and exits 130. The one piece of global state in vsbox:
 * a signal handler has no other way to find the emulator. */
static struct emu *volatile sigint_target;

static void on_sigint(int sig)
{
    (void)sig;
    if (sigint_target)
        emu_cancel(sigint_target);
}

void session_catch_sigint(struct emu *e)
{
    sigint_target = e;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = e ? on_sigint : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

static void on_event(void *ctx, uint64_t advance, const struct vevent *ev, const struct vres *res,
                     uint64_t rip)
{
    struct session *o = ctx;
    if (!o->out)
        return;
    char where[32];
    snprintf(where, sizeof where, "rip=0x%llx", (unsigned long long)rip);
    if (advance) {
        struct vevent adv = { .kind = VEV_ADVANCE, .a = { advance }, .legacy = -1 };
        o->err |= trace_write_line(o->out, &adv, NULL, NULL);
    }
    o->err |= trace_write_line(o->out, ev, res, where);
}

static void on_console(void *ctx, char c)
{
    struct session *o = ctx;
    putchar(c);
    if (c != '\n') {
        if (o->line_len < sizeof o->line - 1)
            o->line[o->line_len++] = c;
        return;
    }
    o->line[o->line_len] = '\0';
    o->line_len = 0;
    static const struct {
        const char *text;
        enum verdict v;
    } results[] = { { "SUCCESS", VERDICT_SUCCESS }, { "SKIP", VERDICT_SKIP },
                    { "FAILURE", VERDICT_FAILURE }, { "ERROR", VERDICT_ERROR } };
    const char *p = strstr(o->line, "Test result: ");
    if (!p)
        return;
    p += strlen("Test result: ");
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++)
        if (strncmp(p, results[i].text, strlen(results[i].text)) == 0)
            o->verdict = results[i].v;
}

static void on_insn(void *ctx, uint64_t rip, const char *text)
{
    (void)ctx;
    printf("  %08llx  %s\n", (unsigned long long)rip, text);
}

const char run_flags_help[] =
    "  --record FILE     write every trapped event as a trace v1 file\n"
    "  --budget N        stop the guest (exit 3) after about N guest instructions\n"
    "  --timeout S       wall-clock safety net, 1 to 86400 s (not deterministic)\n"
    "  --trace-insns     print every executed instruction, disassembled (slow)\n"
    "  --hvm-fep         Xen's hvm_fep boot option: ud2; \"xen\" forces the next instruction\n"
    "                    through the emulator (XTF tests use it; release Xen lacks it)\n";

int run_flag(struct run_flags *f, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char **slot = strcmp(a, "--record") == 0     ? &f->record
                      : strcmp(a, "--budget") == 0     ? &f->budget
                      : strcmp(a, "--timeout") == 0    ? &f->timeout
                      : strcmp(a, "--save-at") == 0    ? &f->save_at
                      : strcmp(a, "--snapshot") == 0   ? &f->snapshot
                                                       : NULL;
    if (slot) {
        if (*i + 1 >= argc) {
            fail("%s needs a value", a);
            return -1;
        }
        *slot = argv[++*i];
        return 1;
    }
    if (strcmp(a, "--trace-insns") == 0)
        return f->trace_insns = true, 1;
    if (strcmp(a, "--strict") == 0)
        return f->strict = true, 1;
    if (strcmp(a, "--hvm-fep") == 0)
        return f->hvm_fep = true, 1;
    return 0;
}

int run_flags_parse(struct run_flags *f)
{
    if (f->budget && !parse_u64(f->budget, 1, UINT64_MAX, &f->budget_ticks))
        return fail("--budget: '%s' is not an instruction count", f->budget), -1;
    if (f->timeout && !parse_u64(f->timeout, 1, 86400, &f->timeout_s))
        return fail("--timeout: '%s' is not 1 to 86400 seconds", f->timeout), -1;
    if (f->save_at && !parse_u64(f->save_at, 1, UINT64_MAX, &f->save_at_event))
        return fail("--save-at: '%s' is not an event number (1 or more)", f->save_at), -1;
    return 0;
}

struct emu_sink session_sink(struct session *s)
{
    return (struct emu_sink){ s, on_event, on_console, on_insn };
}

int session_record_open(struct session *s, const struct settings *st)
{
    if (!s->record)
        return 0;
    snprintf(s->tmp, sizeof s->tmp, "%s.tmp", s->record);
    if (!(s->out = fopen(s->tmp, "w"))) {
        fail("--record: %s: %s", s->tmp, strerror(errno));
        return -1;
    }
    struct trace_config tc;
    settings_trace_config(st, &tc);
    tc.vcpus = 1;
    tc.have |= TRACE_HAVE_MEMORY;
    tc.memory_mib = st->memory_mib;
    s->err |= trace_write_magic(s->out) | trace_write_config(s->out, &tc);
    return 0;
}

int session_record_close(struct session *s, bool keep)
{
    if (!s->out)
        return 0;
    int bad = fclose(s->out) != 0 || s->err;
    s->out = NULL;
    if (!keep || bad || rename(s->tmp, s->record) != 0) {
        remove(s->tmp);
        if (keep) {
            fail("--record: cannot write %s", s->record);
            return -1;
        }
    }
    return 0;
}

const char *guest_image_path(const char *arg, char *buf, size_t len)
{
    struct stat st;
    if (strchr(arg, '/') || stat(arg, &st) == 0)
        return arg;
    snprintf(buf, len, "%s/%s.elf", VSBOX_GUEST_DIR, arg);
    return stat(buf, &st) == 0 ? buf : arg;
}

uint8_t *read_whole(const char *path, size_t max, size_t *len, const char *what)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    /* Grow as the file does: a cap of gigabytes must not mean allocating them. */
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    bool bad = false, big = false;
    while (buf && !bad && !big) {
        if (n == cap) {
            uint8_t *more = cap > max ? NULL : realloc(buf, cap * 2);
            if (!more) {
                big = cap > max;
                if (!big) {
                    free(buf);
                    buf = NULL;
                }
                break;
            }
            buf = more;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        bad = ferror(f);
        if (got == 0 || feof(f))
            break;
    }
    fclose(f);
    if (!buf || bad || big || n > max) {
        free(buf);
        fail("%s: %s", path, !buf ? "out of memory" : bad ? "cannot read" : what);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Xen's shutdown reasons (xen/include/public/sched.h SHUTDOWN_*). */
static const char *const shutdown_reasons[] = { "poweroff", "reboot", "suspend", "crash",
                                                "watchdog", "soft_reset" };

int run_status(const char *path, const struct emu_result *res, uint64_t budget,
               uint64_t timeout_s, enum verdict verdict)
{
    switch (res->stop) {
    case EMU_SHUTDOWN:
        if (res->exit_code == 0)   /* SHUTDOWN_poweroff: the verdict the guest printed */
            return verdict == VERDICT_FAILURE || verdict == VERDICT_ERROR ? EXIT_DIVERGED : EXIT_OK;
        fprintf(stderr, "vsbox: %s: the guest shut down with SHUTDOWN_%s\n", path,
                (unsigned)res->exit_code < 6 ? shutdown_reasons[res->exit_code] : "unknown");
        return EXIT_CRASHED;
    case EMU_HALTED:
    case EMU_SAVE_POINT:
        return EXIT_OK;
    case EMU_EXITED:
        return res->exit_code == 0 ? EXIT_OK : EXIT_DIVERGED;
    case EMU_BUDGET:
        fprintf(stderr, "vsbox: %s: budget of %llu instructions exhausted (%llu run, clock %llu "
                        "ticks, %llu events)\n",
                path, (unsigned long long)budget, (unsigned long long)res->insns,
                (unsigned long long)res->tsc, (unsigned long long)res->events);
        return EXIT_CRASHED;
    case EMU_CANCELLED:
        fprintf(stderr, "vsbox: %s: interrupted after %llu events\n", path,
                (unsigned long long)res->events);
        return EXIT_INTERRUPTED;
    case EMU_TIMEOUT:
        fprintf(stderr, "vsbox: %s: stopped by --timeout after %llu s: this stop is not "
                        "deterministic\n", path, (unsigned long long)timeout_s);
        return EXIT_CRASHED;
    case EMU_UNSUPPORTED:
        fprintf(stderr, "vsbox: %s: cannot emulate this guest: %s", path, res->report);
        if (res->report[0] && res->report[strlen(res->report) - 1] != '\n')
            fputc('\n', stderr);
        return EXIT_UNSUPPORTED;
    case EMU_CRASHED:
    case EMU_ERROR:
        fprintf(stderr, "vsbox: %s: %s", path, res->report);
        if (res->report[0] && res->report[strlen(res->report) - 1] != '\n')
            fputc('\n', stderr);
        return EXIT_CRASHED;
    }
    return EXIT_CRASHED;
}

int snapshot_write_file(const char *path, const struct snapshot *snap)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fail("--snapshot: %s: %s", tmp, strerror(errno));
        return -1;
    }
    int bad = snap_write(f, snap);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        fail("--snapshot: cannot write %s", path);
        return -1;
    }
    return 0;
}

#define MAX_SNAPSHOT ((size_t)SNAP_MAX_MEMORY_MIB * (1u << 20) + (64u << 20))

struct snapshot *snapshot_read_file(const char *path)
{
    size_t len;
    uint8_t *buf = read_whole(path, MAX_SNAPSHOT, &len, "larger than any snapshot can be");
    if (!buf)
        return NULL;
    struct snapshot *snap = calloc(1, sizeof *snap);
    struct snap_error err;
    if (!snap) {
        free(buf);
        fail("out of memory");
        return NULL;
    }
    if (snap_read(buf, len, snap, &err)) {
        free(buf);
        free(snap);
        fail("%s: %s", path, err.msg);
        return NULL;
    }
    free(buf);
    if (!vprofile_find(snap->model.host)) {
        fail("%s: record 1 (HEADER): unknown source host profile '%s' (see vsbox hosts)", path,
             snap->model.host);
        snapshot_free_file(snap);
        return NULL;
    }
    return snap;
}

void snapshot_free_file(struct snapshot *snap)
{
    if (snap)
        snap_free(snap);
    free(snap);
}

struct report {
    const char *name;
    unsigned changes;
};

static void report(void *ctx, enum vdiff_kind kind, const char *what)
{
    struct report *r = ctx;
    fprintf(stderr, "vsbox: %s: %s: %s\n", r->name,
            kind == VDIFF_CHANGE ? "guest-visible change" : "note", what);
}

int session_restore(const char *name, struct snapshot *snap, const struct vprofile *to,
                    uint64_t dest_param, uint32_t tsc_khz, bool strict,
                    const struct vvisible *before, const struct emu_config *cfg,
                    struct emu **out)
{
    char why[512], err[256];
    *out = NULL;
    if (vrestore_check(&snap->model, to, dest_param, why, sizeof why) != VRES_OK) {
        fprintf(stderr, "vsbox: %s: restore refused: %s\n", name, why);
        return EXIT_INCOMPATIBLE;
    }
    struct vvisible seen, now;
    if (!before) {
        struct vmodel *src;
        if (vmodel_restore(&snap->model, vprofile_find(snap->model.host), (struct vmem_ops){ 0 },
                           &src) != VRES_OK)
            return fail("%s: the snapshot's own host refuses its viridian state", name);
        vmodel_visible(src, &seen);
        vmodel_destroy(src);
        before = &seen;
    }
    if (tsc_khz)
        snap->model.tsc_khz = tsc_khz;
    if (emu_restore(cfg, snap, to, out, err, sizeof err))
        return fail("%s: %s", name, err);
    vmodel_visible(emu_model(*out), &now);
    struct report r = { name, 0 };
    r.changes = vvisible_diff(before, &now, report, &r);
    if (strict && r.changes) {
        fprintf(stderr, "vsbox: %s: --strict: %u guest-visible change%s on restore\n", name,
                r.changes, r.changes == 1 ? "" : "s");
        emu_destroy(*out);
        *out = NULL;
        return EXIT_INCOMPATIBLE;
    }
    return EXIT_OK;
}
