#include "cli/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "snapshot/snapshot.h"
#include "traces/trace.h"
#include "viridian/profile.h"
#include "viridian/save.h"
#include "viridian/visible.h"

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
    (void)ctx;
    putchar(c);
}

static void on_insn(void *ctx, uint64_t rip, const char *text)
{
    (void)ctx;
    printf("  %08llx  %s\n", (unsigned long long)rip, text);
}

const char run_flags_help[] =
    "  --record FILE     write every trapped event as a trace v1 file\n"
    "  --budget TICKS    stop the guest (exit 3) once the virtual clock passes TICKS\n"
    "  --timeout S       wall-clock safety net, 1 to 86400 s (not deterministic)\n"
    "  --trace-insns     print every executed instruction, disassembled (slow)\n";

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
    return 0;
}

int run_flags_parse(struct run_flags *f)
{
    if (f->budget && !parse_u64(f->budget, 1, UINT64_MAX, &f->budget_ticks))
        return fail("--budget: '%s' is not a tick count", f->budget), -1;
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

int run_status(const char *path, const struct emu_result *res, uint64_t budget,
               uint64_t timeout_s)
{
    switch (res->stop) {
    case EMU_HALTED:
    case EMU_SAVE_POINT:
        return EXIT_OK;
    case EMU_EXITED:
        return res->exit_code == 0 ? EXIT_OK : EXIT_DIVERGED;
    case EMU_BUDGET:
        fprintf(stderr, "vsbox: %s: budget of %llu ticks exhausted (clock %llu ticks, %llu blocks "
                        "of guest code, %llu events)\n",
                path, (unsigned long long)budget, (unsigned long long)res->tsc,
                (unsigned long long)res->blocks, (unsigned long long)res->events);
        return EXIT_CRASHED;
    case EMU_TIMEOUT:
        fprintf(stderr, "vsbox: %s: stopped by --timeout after %llu s: this stop is not "
                        "deterministic\n", path, (unsigned long long)timeout_s);
        return EXIT_CRASHED;
    case EMU_CRASHED:
    case EMU_ERROR:
        fprintf(stderr, "vsbox: %s: %s", path, res->report);
        if (res->report[0] && res->report[strlen(res->report) - 1] != '\n')
            fputc('\n', stderr);
        return EXIT_CRASHED;
    }
    return EXIT_CRASHED;
}

int crash_status(const char *path, const struct vmodel *m, int status)
{
    if (vmodel_defect(m))
        fprintf(stderr, "vsbox: %s: note: this run reached a defect of Xen %s: %s\n", path,
                vmodel_host(m)->name + 4, vmodel_defect(m));
    const struct vcrash *c = vmodel_crash(m);
    if (!c->notified)
        return status;
    fprintf(stderr, "vsbox: %s: the guest reported a crash on vCPU %u (HV_X64_MSR_CRASH_CTL "
            "CrashNotify): P0 0x%llx P1 0x%llx P2 0x%llx P3 0x%llx P4 0x%llx\n", path, c->vcpu,
            (unsigned long long)c->params[0], (unsigned long long)c->params[1],
            (unsigned long long)c->params[2], (unsigned long long)c->params[3],
            (unsigned long long)c->params[4]);
    fprintf(stderr, "vsbox: %s: %s logs \"%s\"%s\n", path, vmodel_host(m)->name, c->log,
            c->shutdown ? " and sets the domain's shutdown code to crash"
                        : " and nothing else (the shutdown code is set from Xen 4.12)");
    return c->shutdown && status == EXIT_OK ? EXIT_DIVERGED : status;
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
    if (why[0])
        fprintf(stderr, "vsbox: %s: note: %s\n", name, why);
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
    snap->model.dest_param = dest_param;
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
