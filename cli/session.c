#include "cli/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/input.h"
#include "cli/narrate.h"
#include "cli/text.h"
#include "snapshot/snapshot.h"
#include "traces/trace.h"
#include "viridian/profile.h"
#include "viridian/save.h"
#include "viridian/visible.h"

/* --explain: the event as the model answered it. The model has applied it already, which
 * changes no rule's reason but a parameter write's (guests only make those through
 * HVMOP, which Xen refuses them from 4.5 whatever the value). */
static void session_explain(struct session *o, const struct vevent *ev, const struct vres *res,
                            uint64_t rip)
{
    const struct vmodel *m = emu_model(o->emu);
    struct vwhy why;
    vmodel_why(m, ev, &why);
    o->explain->ram = emu_ram(o->emu, &o->explain->ram_size);
    if (o->console == o->explain->out)
        fflush(o->console);
    narrate_event(o->explain, m, ev, &why, res, rip);
}

static void on_event(void *ctx, uint64_t advance, const struct vevent *ev, const struct vres *res,
                     uint64_t rip)
{
    struct session *o = ctx;
    if (o->explain && o->emu)
        session_explain(o, ev, res, rip);
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

static void console_line_end(struct session *s)
{
    fwrite(s->line, 1, s->line_len, s->console);
    s->line_len = 0;
}

/* With --trace-insns the console is held a line at a time, so that an instruction line
 * never lands inside the guest's own text ("Test result: SUCCESS" stays one line). */
/* "Test result: X" ends a guest's run (XTF, vsbox's guests): remember the verdict. */
static void watch_verdict(struct session *s, char c)
{
    static const struct {
        const char *text;
        enum verdict v;
    } results[] = { { "Test result: SUCCESS", VERDICT_SUCCESS }, { "Test result: SKIP", VERDICT_SKIP },
                    { "Test result: FAILURE", VERDICT_FAILURE }, { "Test result: ERROR", VERDICT_ERROR } };
    if (c != '\n') {
        if (s->result_len < sizeof s->result - 1)
            s->result[s->result_len++] = c;
        return;
    }
    s->result[s->result_len] = '\0';
    s->result_len = 0;
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++)
        if (strncmp(s->result, results[i].text, strlen(results[i].text)) == 0)
            s->verdict = results[i].v;
}

static void on_console(void *ctx, char c)
{
    struct session *s = ctx;
    watch_verdict(s, c);
    if (!s->trace_insns) {
        fputc(c, s->console);
        return;
    }
    s->line[s->line_len++] = c;
    if (c == '\n' || s->line_len == sizeof s->line)
        console_line_end(s);
}

static void on_insn(void *ctx, uint64_t rip, const char *text)
{
    struct session *s = ctx;
    fprintf(s->console, "  %08llx  %s\n", (unsigned long long)rip, text);
}

int run_flags_parse(struct run_flags *f)
{
    if (f->budget && !parse_u64(f->budget, 1, UINT64_MAX, &f->budget_ticks))
        return fail("--budget: '%s' is not an instruction count", f->budget), -1;
    if (f->timeout && !parse_u64(f->timeout, 1, 86400, &f->timeout_s))
        return fail("--timeout: '%s' is not 1 to 86400 seconds", f->timeout), -1;
    if (f->save_at && !parse_u64(f->save_at, 1, UINT64_MAX, &f->save_at_event))
        return fail("--save-at: '%s' is not an event number (1 or more)", f->save_at), -1;
    if (f->snapshot && f->record && strcmp(f->snapshot, f->record) == 0)
        return fail("--record and --snapshot name the same file '%s'", f->record), -1;
    return 0;
}

void session_init(struct session *s, const struct run_flags *rf)
{
    *s = (struct session){ .record = rf->record, .trace_insns = rf->trace_insns };
    /* The trace owns standard output when it goes there: the guest's text moves aside. */
    s->console = rf->record && strcmp(rf->record, "-") == 0 ? stderr : stdout;
    if (rf->explain) {
        narrate_open(&s->narrator, s->console);
        s->explain = &s->narrator;
    }
}

void session_attach(struct session *s, struct emu *e)
{
    s->emu = e;
}

struct emu_sink session_sink(struct session *s)
{
    return (struct emu_sink){ s, on_event, on_console, on_insn };
}

int session_record_open(struct session *s, const struct settings *st)
{
    if (!s->record)
        return 0;
    if (output_open(&s->rec, "--record", s->record))
        return -1;
    s->out = s->rec.f;
    struct trace_config tc;
    settings_trace_config(st, &tc);
    tc.have |= TRACE_HAVE_MEMORY;
    tc.memory_mib = st->memory_mib;
    s->err |= trace_write_magic(s->out) | trace_write_config(s->out, &tc);
    return 0;
}

int session_record_close(struct session *s, bool keep)
{
    if (s->line_len)
        console_line_end(s);
    if (s->explain)
        narrate_close(s->explain);
    s->explain = NULL;
    fflush(s->console);
    if (!s->out)
        return 0;
    s->out = NULL;
    if (!keep) {
        output_discard(&s->rec);
        return 0;
    }
    if (s->err && !ferror(s->rec.f)) {
        output_discard(&s->rec);
        return fail("--record: %s: cannot write", s->record), -1;
    }
    return output_commit(&s->rec, "--record");
}

uint8_t *read_image(const char *path, bool raw, uint32_t ram_mib, size_t *len)
{
    FILE *f = input_open(path, 0);
    if (!f)
        return NULL;
    /* The first bytes decide how much may follow: an ELF up to 256 MiB, a flat image up
     * to the guest's RAM, and anything else nothing at all (so /dev/zero costs 4 bytes). */
    uint8_t head[4];
    size_t got = fread(head, 1, sizeof head, f), rest_len = 0;
    bool elf = got == 4 && memcmp(head, "\177ELF", 4) == 0, bad = ferror(f);
    if (bad || (!raw && !elf && got)) { /* an empty file is the loader's to name */
        input_close(f);
        fail("%s: %s", path, bad ? "cannot read" : "not an ELF executable (a flat binary "
                                                   "needs --raw ADDR)");
        return NULL;
    }
    char too_big[96];
    size_t max = raw ? (size_t)ram_mib << 20 : 256u << 20;
    snprintf(too_big, sizeof too_big, raw ? "a flat image larger than the guest's %u MiB of RAM"
                                          : "image larger than 256 MiB", ram_mib);
    uint8_t *rest = input_read_all(f, path, max - got, too_big, &rest_len);
    input_close(f);
    uint8_t *img = rest ? realloc(rest, rest_len + got ? rest_len + got : 1) : NULL;
    if (!img) {
        if (rest)
            fail("out of memory");
        free(rest);
        return NULL;
    }
    memmove(img + got, img, rest_len);
    memcpy(img, head, got);
    *len = rest_len + got;
    if (raw && elf)
        say("%s: note: this is an ELF executable; --raw loads its bytes as flat code (leave "
            "--raw out to load it as ELF)", path);
    return img;
}

/* Xen's shutdown reasons (xen/include/public/sched.h SHUTDOWN_*). */
static const char *const shutdown_reasons[] = { "poweroff", "reboot", "suspend", "crash",
                                                "watchdog", "soft_reset" };

int run_status(const char *path, const struct emu_result *res, uint64_t budget,
               uint64_t timeout_s, enum verdict verdict)
{
    char name[1024];
    switch (res->stop) {
    case EMU_SHUTDOWN:
        if (res->exit_code == 0)   /* SHUTDOWN_poweroff: the verdict the guest printed */
            return verdict == VERDICT_FAILURE || verdict == VERDICT_ERROR ? EXIT_DIVERGED : EXIT_OK;
        say("%s: the guest shut down with SHUTDOWN_%s", path,
            (unsigned)res->exit_code < 6 ? shutdown_reasons[res->exit_code] : "unknown");
        return EXIT_CRASHED;
    case EMU_UNSUPPORTED:
        fprintf(stderr, "vsbox: %s: cannot emulate this guest: %s", esc(path, name, sizeof name),
                res->report);
        if (res->report[0] && res->report[strlen(res->report) - 1] != '\n')
            fputc('\n', stderr);
        return EXIT_UNSUPPORTED;
    case EMU_HALTED:
    case EMU_SAVE_POINT:
        return EXIT_OK;
    case EMU_EXITED:
        if (res->exit_code == 0)
            return EXIT_OK;
        say("%s: guest exited with code %d", path, res->exit_code);
        return EXIT_DIVERGED;
    case EMU_BUDGET:
        say("%s: budget of %llu instructions exhausted (%llu run, clock %llu ticks, %llu events)",
            path, (unsigned long long)budget, (unsigned long long)res->insns,
            (unsigned long long)res->tsc, (unsigned long long)res->events);
        return EXIT_CRASHED;
    case EMU_TIMEOUT:
        say("%s: stopped by --timeout after %llu s: this stop is not deterministic", path,
            (unsigned long long)timeout_s);
        return EXIT_CRASHED;
    case EMU_CANCELLED:
        say("%s: interrupted after event %llu (clock %llu ticks)", path,
            (unsigned long long)res->events, (unsigned long long)res->tsc);
        return EXIT_INTERRUPTED;
    case EMU_CRASHED:
    case EMU_ERROR: {
        fprintf(stderr, "vsbox: %s: %s", esc(path, name, sizeof name), res->report);
        if (res->report[0] && res->report[strlen(res->report) - 1] != '\n')
            fputc('\n', stderr);
        return EXIT_CRASHED;
    }
    }
    return EXIT_CRASHED;
}

int crash_status(const char *path, const struct vmodel *m, int status)
{
    if (vmodel_defect(m))
        say("%s: note: this run reached a defect of Xen %s: %s", path, vmodel_host(m)->name + 4,
            vmodel_defect(m));
    const struct vcrash *c = vmodel_crash(m);
    if (!c->notified)
        return status;
    say("%s: the guest reported a crash on vCPU %u (HV_X64_MSR_CRASH_CTL CrashNotify): P0 0x%llx "
        "P1 0x%llx P2 0x%llx P3 0x%llx P4 0x%llx", path, c->vcpu,
        (unsigned long long)c->params[0], (unsigned long long)c->params[1],
        (unsigned long long)c->params[2], (unsigned long long)c->params[3],
        (unsigned long long)c->params[4]);
    say("%s: %s logs \"%s\"%s", path, vmodel_host(m)->name, c->log,
        c->shutdown ? " and sets the domain's shutdown code to crash"
                    : " and nothing else (the shutdown code is set from Xen 4.12)");
    return c->shutdown && status == EXIT_OK ? EXIT_DIVERGED : status;
}

int snapshot_out_open(struct output *o, const char *path)
{
    *o = (struct output){ 0 };
    return path ? output_open(o, "--snapshot", path) : 0;
}

int snapshot_out_write(struct output *o, const struct snapshot *snap)
{
    /* A write error is the stream's (ENOSPC...): the commit reports it with its cause. */
    if (snap_write(o->f, snap) != 0 && !ferror(o->f)) {
        output_discard(o);
        return fail("--snapshot: %s: cannot write", o->name), -1;
    }
    return output_commit(o, "--snapshot");
}

struct snapshot *snapshot_read_file(const char *path)
{
    FILE *f = input_open(path, 0);
    if (!f)
        return NULL;
    struct snapshot *snap = calloc(1, sizeof *snap);
    struct snap_error err;
    if (!snap) {
        input_close(f);
        fail("out of memory");
        return NULL;
    }
    int rc = snap_read_file(f, snap, &err);
    input_close(f);
    if (rc) {
        free(snap);
        fail("%s: %s", path, err.msg);
        return NULL;
    }
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

static void report(void *ctx, enum vdiff_kind kind, const char *what)
{
    say("%s: %s: %s", (const char *)ctx, kind == VDIFF_CHANGE ? "guest-visible change" : "note",
        what);
}

int session_restore(const char *name, struct snapshot *snap, const struct vprofile *to,
                    uint64_t dest_param, uint32_t tsc_khz, bool strict,
                    const struct vvisible *before, const struct emu_config *cfg,
                    struct emu **out)
{
    char why[512], err[256];
    *out = NULL;
    if (vrestore_check(&snap->model, to, dest_param, why, sizeof why) != VRES_OK) {
        say("%s: restore refused: %s", name, why);
        return EXIT_INCOMPATIBLE;
    }
    if (why[0])
        say("%s: note: %s", name, why);
    /* One comparison for resume and migrate alike: what the guest saw last against what
     * it sees restored. A migration passes what it saw at the pause; otherwise it is the
     * snapshot on its own host, nothing moved. */
    struct vvisible seen, now;
    if (!before) {
        struct vmodel *src;
        if (vmodel_rewind(&snap->model, (struct vmem_ops){ 0 }, &src) != VRES_OK)
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
    unsigned changes = vvisible_diff(before, &now, report, (void *)name);
    if (strict && changes) {
        say("%s: --strict: %u guest-visible change%s on restore", name, changes,
            changes == 1 ? "" : "s");
        emu_destroy(*out);
        *out = NULL;
        return EXIT_INCOMPATIBLE;
    }
    return EXIT_OK;
}
