/* Re-execution replay: the trace is the expectation and the guest runs again. Execution
 * is deterministic (DESIGN.md), so the same image under the same header makes the same
 * events with the same answers, the clock advances included; the first event that is not
 * the trace's next one stops the guest and is reported. The trace is read as the guest
 * runs: memory does not grow with it. */
#include "cli/replay_exec.h"

#include <stdlib.h>
#include <string.h>
#include "cli/guests.h"
#include "cli/input.h"
#include "cli/session.h"
#include "cli/text.h"
#include "emu/emu.h"
#include "traces/trace.h"

struct exec_job {
    const char *name;
    struct trace_reader *r;
    struct emu *e;
    struct trace_item pending;   /* the trace's next event, read ahead */
    bool have_pending;
    bool bad;                    /* the trace stopped parsing: err says where */
    bool differ;                 /* the guest made something else */
    bool extra;                  /* the guest went on past the trace's last event */
    unsigned long matched;
    unsigned line;               /* of the differing trace event */
    char want[TRACE_MAX_LINE], got[TRACE_MAX_LINE];
    struct trace_error err;
};

/* The trace's next event into job->pending; false at its end or on a parse error. */
static bool next_event(struct exec_job *job)
{
    enum trace_rc rc;
    while ((rc = trace_reader_next(job->r, &job->pending, &job->err)) == TRACE_OK)
        if (job->pending.kind == TRACE_EVENT)
            return job->have_pending = true;
    job->bad = rc == TRACE_ERR;
    return job->have_pending = false;
}

/* The trace's event as a line without its comment, the way the recorder wrote it. */
static void format_item(const struct trace_item *it, char *buf, size_t len)
{
    struct vevent ev = it->ev;
    if (it->has_input) {
        ev.input = it->input;
        ev.input_words = it->input_words;
    }
    trace_format_line(buf, len, &ev, it->has_expect ? &it->expect : NULL, NULL);
}

static void check(struct exec_job *job, const struct vevent *ev, const struct vres *res)
{
    if (job->differ || job->bad || job->extra)
        return;
    if (!job->have_pending && !next_event(job)) {
        if (!job->bad) {
            job->extra = true;
            trace_format_line(job->got, sizeof job->got, ev, res, NULL);
        }
        emu_cancel(job->e);
        return;
    }
    job->have_pending = false;
    format_item(&job->pending, job->want, sizeof job->want);
    trace_format_line(job->got, sizeof job->got, ev, job->pending.has_expect ? res : NULL,
                      NULL);
    if (strcmp(job->want, job->got) != 0) {
        job->differ = true;
        job->line = job->pending.line;
        emu_cancel(job->e);
        return;
    }
    job->matched++;
}

static void on_event(void *ctx, uint64_t advance, const struct vevent *ev,
                     const struct vres *res, uint64_t rip)
{
    (void)rip;
    struct exec_job *job = ctx;
    if (advance) {
        struct vevent adv = { .kind = VEV_ADVANCE, .a = { advance }, .legacy = -1 };
        check(job, &adv, NULL);
    }
    check(job, ev, res);
}

static void on_console(void *ctx, char c)
{
    (void)ctx;
    (void)c; /* the guest's text is not what is compared */
}

static int trace_error(const struct exec_job *job)
{
    if (job->err.col)
        return fail("%s:%u:%u: %s", job->name, job->err.line, job->err.col, job->err.msg);
    return fail("%s:%u: %s", job->name, job->err.line, job->err.msg);
}

static int run(struct exec_job *job, const char *image, const struct common_flags *flags)
{
    /* The header is complete once the first event is read. */
    if (!next_event(job) && job->bad)
        return trace_error(job);
    const struct trace_config *h = trace_reader_config(job->r);
    struct settings s;
    if (!settings_resolve(flags, h, job->name, &s))
        return EXIT_BAD_INPUT;
    if (h->have & TRACE_HAVE_MEMORY)
        s.memory_mib = h->memory_mib;

    char pathbuf[1024], err[256];
    const char *path = guest_image_path(image, pathbuf, sizeof pathbuf);
    size_t len;
    uint8_t *img = path ? read_image(path, false, s.memory_mib, &len) : NULL;
    if (!img)
        return EXIT_BAD_INPUT;
    struct emu_config cfg = {
        .model = { .host = s.host, .viridian = s.viridian, .tsc_khz = s.tsc_khz,
                   .vcpus = s.vcpus },
        .memory_mib = s.memory_mib,
        .sink = { job, on_event, on_console, NULL },
        .name = s.name[0] ? s.name : NULL,
    };
    if (emu_create(&cfg, &job->e, err, sizeof err) ||
        emu_load(job->e, img, len, false, 0, err, sizeof err)) {
        free(img);
        return fail("%s: %s", path, err);
    }
    free(img);
    struct emu_result res;
    emu_run(job->e, &res);
    if (job->bad)
        return trace_error(job);
    char name[1024];
    esc(job->name, name, sizeof name);
    if (job->differ) {
        printf("%s:%u: the guest made '%s', the trace has '%s' (%lu events matched before)\n",
               name, job->line, job->got, job->want, job->matched);
        return EXIT_DIVERGED;
    }
    if (job->extra) {
        printf("%s: the guest went on past the trace's last event: '%s' (%lu events "
               "matched)\n", name, job->got, job->matched);
        return EXIT_DIVERGED;
    }
    if (job->have_pending || next_event(job)) {
        format_item(&job->pending, job->want, sizeof job->want);
        printf("%s:%u: the guest stopped after %lu events; the trace goes on with '%s'\n",
               name, job->pending.line, job->matched, job->want);
        return EXIT_DIVERGED;
    }
    if (job->bad)
        return trace_error(job);
    say("%s: re-ran %s: %lu events, every one as recorded", job->name, path, job->matched);
    return EXIT_OK;
}

int replay_exec(const char *trace, const char *image, const struct common_flags *flags)
{
    FILE *in = input_open(trace, 1);
    if (!in)
        return EXIT_BAD_INPUT;
    struct exec_job *job = calloc(1, sizeof *job);
    struct trace_reader *r = job ? trace_reader_new(in) : NULL;
    int status;
    if (!r) {
        status = fail("out of memory");
    } else {
        job->name = trace;
        job->r = r;
        status = run(job, image, flags);
        emu_destroy(job->e);
    }
    trace_reader_free(r);
    free(job);
    input_close(in);
    return status;
}
