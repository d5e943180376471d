/* vsbox replay: apply a trace to a fresh model and compare, or --fill in the results.
 * Everything for stdout is collected first, so bad input never leaves partial output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/input.h"
#include "cli/narrate.h"
#include "cli/term.h"
#include "cli/options.h"
#include "cli/replay_exec.h"
#include "cli/replay_suggest.h"
#include "cli/text.h"
#include "traces/diverge.h"
#include "traces/replay.h"
#include "traces/trace.h"
#include "viridian/visible.h"

struct replay_job {
    const char *name;
    bool fill;
    bool verbose;
    bool causes_only;   /* --causes: the report by cause, not one line per divergence */
    struct diverge *div;
    unsigned line;      /* of the event being reported on */
    uint64_t ram_size;  /* from the header's memory=, for the model's bounds checks */
    FILE *out;          /* temporary file: printed only when the whole file was good */
    FILE *head;         /* --fill: comments and blanks met before the first event */
    unsigned long events, diverged;
    bool defect_said;   /* a Xen defect this trace reaches was reported */
    bool explain;       /* --explain: every event narrated */
    struct narrator narrator;
};

static int read_error(const char *name, const struct trace_error *err)
{
    if (err->col)
        return fail("%s:%u:%u: %s", name, err->line, err->col, err->msg);
    return fail("%s:%u: %s", name, err->line, err->msg);
}

/* Everything written to a temporary file so far, appended to out. */
static bool copy_out(FILE *from, FILE *out)
{
    char buf[1 << 16];
    size_t n;
    if (fflush(from) || fseek(from, 0, SEEK_SET))
        return false;
    while ((n = fread(buf, 1, sizeof buf, from)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            return false;
    return !ferror(from);
}

/* --fill: the header as the model was built, then what preceded the first event. */
static void fill_header(struct replay_job *job, const struct settings *s)
{
    struct trace_config cfg;
    settings_trace_config(s, &cfg);
    if (job->ram_size) {
        cfg.have |= TRACE_HAVE_MEMORY;
        cfg.memory_mib = (uint32_t)(job->ram_size >> 20);
    }
    trace_write_magic(job->out);
    copy_out(job->head, job->out);
    trace_write_config(job->out, &cfg);
}

/* The model for the header as read so far (it is complete at the first event). */
static struct vmodel *start(struct replay_job *job, const struct trace_reader *r,
                            const struct common_flags *flags)
{
    struct settings s;
    struct vmodel *m;
    const struct trace_config *h = trace_reader_config(r);
    struct vmem_ops mem = { 0 };
    if (!settings_resolve(flags, h, job->name, &s))
        return NULL;
    if (h->have & TRACE_HAVE_MEMORY) {
        job->ram_size = (uint64_t)h->memory_mib << 20;
        mem = settings_trace_ram(&job->ram_size);
    }
    if ((m = settings_model(&s, mem)) && job->fill)
        fill_header(job, &s);
    return m;
}

static void report_change(void *ctx, enum vdiff_kind kind, const char *what)
{
    struct replay_job *job = ctx;
    const char *tag = kind == VDIFF_CHANGE ? "migrate" : "migrate note";
    if (job->fill)
        fprintf(job->out, "# %s: %s\n", tag, what);
    else if (job->verbose)
        say("%s:%u: %s: %s", job->name, job->line, tag, what);
}

static void emit(struct replay_job *job, const struct vmodel *m, const struct trace_item *it,
                 const struct vres *got, enum replay_rc rc)
{
    char want[128], have[128];
    if (rc == REPLAY_DIVERGED) {
        trace_format_result(want, sizeof want, &it->expect);
        trace_format_result(have, sizeof have, got);
        char name[1024];
        if (!job->causes_only)
            fprintf(job->fill ? stderr : job->out, "%s:%u: expected %s, got %s\n",
                    esc(job->name, name, sizeof name), it->line, want, have);
        diverge_add(job->div, m, it, got);
        job->diverged++;
    }
    if (!job->fill)
        return;
    switch (it->kind) {
    case TRACE_BLANK:
        fputc('\n', job->events ? job->out : job->head);
        break;
    case TRACE_COMMENT:
        fprintf(job->events ? job->out : job->head, "# %s\n", it->comment);
        break;
    case TRACE_EVENT: {
        struct vevent ev = it->ev;
        if (it->has_input) {
            ev.input = it->input;
            ev.input_words = it->input_words;
        }
        trace_write_line(job->out, &ev, got->kind == VRES_NONE ? NULL : got,
                         it->comment[0] ? it->comment : NULL);
        break;
    }
    }
}

/* --explain: the event narrated (cli/narrate.h), and the trace's own answer where it
 * differs. */
static void explain(struct replay_job *job, const struct vmodel *m, const struct trace_item *it,
                    const struct vwhy *why, const struct vres *got, enum replay_rc rc)
{
    char name[1024], want[128];
    struct vevent ev = it->ev;
    if (it->has_input) {
        ev.input = it->input;
        ev.input_words = it->input_words;
    }
    fprintf(job->out, "%s:%u:\n", esc(job->name, name, sizeof name), it->line);
    narrate_event(&job->narrator, m, &ev, why, got, 0);
    if (rc == REPLAY_DIVERGED) {
        trace_format_result(want, sizeof want, &it->expect);
        fprintf(job->out, "  trace  expected %s: this model answers differently\n", want);
    }
}

static int run(struct replay_job *job, FILE *in, const struct common_flags *flags)
{
    struct trace_reader *r = trace_reader_new(in);
    if (!r)
        return fail("out of memory");
    struct vmodel *m = NULL;
    int status = EXIT_BAD_INPUT;
    struct trace_item it;
    struct trace_error err;
    enum trace_rc rc;

    struct progress prog;
    char shown[256];
    progress_begin(&prog, esc(job->name, shown, sizeof shown));
    while ((rc = trace_reader_next(r, &it, &err)) == TRACE_OK) {
        progress_update(&prog, job->events, 0, "events");
        if (!m && it.kind == TRACE_EVENT && !(m = start(job, r, flags)))
            goto out;
        struct vres got = { .kind = VRES_NONE };
        enum replay_rc step = REPLAY_MATCH;
        struct vvisible before, after;
        bool migrate = it.kind == TRACE_EVENT && it.ev.kind == VEV_MIGRATE;
        if (migrate)
            vmodel_visible(m, &before);
        struct vwhy why;
        if (it.kind == TRACE_EVENT && job->explain)
            vmodel_why(m, &it.ev, &why);
        if (it.kind == TRACE_EVENT) {
            step = replay_step(m, &it, &got, &err);
            if (step == REPLAY_INVALID) {
                read_error(job->name, &err);
                goto out;
            }
            job->events++;
            if (vmodel_defect(m) && !job->defect_said) {
                fprintf(stderr, "vsbox: %s:%u: note: this reaches a defect of Xen %s: %s\n",
                        job->name, it.line, vmodel_host(m)->name + 4, vmodel_defect(m));
                job->defect_said = true;
            }
        }
        if (it.kind == TRACE_EVENT && job->explain)
            explain(job, m, &it, &why, &got, step);
        emit(job, m, &it, &got, step);
        if (migrate && got.kind == VRES_OK) {
            vmodel_visible(m, &after);
            job->line = it.line;
            vvisible_diff(&before, &after, report_change, job);
        }
    }
    if (rc == TRACE_ERR) {
        read_error(job->name, &err);
        goto out;
    }
    /* No events: the header must still be usable. */
    if (!m && !(m = start(job, r, flags)))
        goto out;
    char name[1024];
    diverge_report(job->div, job->fill ? stderr : job->out, esc(job->name, name, sizeof name));
    status = job->diverged ? EXIT_DIVERGED : EXIT_OK;
out:
    progress_end(&prog);
    vmodel_destroy(m);
    trace_reader_free(r);
    return status;
}

int cmd_replay(int argc, char **argv)
{
    struct common_flags flags = { 0 };
    struct replay_job job = { 0 };
    bool suggest = false;
    const char *image = NULL;
    const struct opt opts[] = {
        { "--fill", NULL, "print the trace back with every result computed", NULL, &job.fill,
          NULL },
        { "--causes", NULL, "print only the divergences grouped by cause", NULL,
          &job.causes_only, NULL },
        { "--explain", NULL, "narrate every event: what the model decided and why (group,\n"
          "mask bit, Xen source file) and what the guest saw", NULL, &job.explain, NULL },
        { "--suggest", NULL, "name the --viridian or --hv set of the host that comes closest\n"
          "to the trace, then its divergences by cause", NULL, &suggest, NULL },
        { "--image", "IMAGE", "re-run IMAGE (a file or a bundled guest) on the emulator and\n"
          "check it makes the trace's events with the trace's answers", &image, NULL, NULL },
        COMMON_OPTS(&flags),
        { 0 },
    };
    const struct command c = {
        "replay", "FILE [OPTIONS]",
        "Apply every event of a trace v1 to a fresh model built from its header (flags\n"
        "override the header) and compare each '-> RESULT'. Prints FILE:LINE: expected X,\n"
        "got Y per divergence. FILE may be - for standard input. After each migrate, what\n"
        "the guest could see change is written as comments by --fill, and to standard error\n"
        "with --verbose. Divergences are also grouped by cause, with the viridian group that\n"
        "would give the trace's answer. --suggest first searches the host's groups (or\n"
        "QEMU's flags) for the set that leaves the fewest events differing. --image re-runs\n"
        "the guest that was recorded instead of the model alone: the first event it makes\n"
        "differently is reported as FILE:LINE.\n"
        "Exit: 0 all results match, 1 some diverge, 2 the file cannot be read or parsed.\n",
        "FILE", opts,
    };
    int p = opts_parse(&c, argc, argv, &job.name);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    job.verbose = flags.verbose;
    if (!job.name)
        return fail("replay: which trace? (vsbox replay FILE)");
    if (image) {
        if (suggest || job.fill || job.causes_only || job.explain)
            return fail("replay --image: re-runs the guest: leave out --suggest, --fill, "
                        "--causes and --explain");
        return replay_exec(job.name, image, &flags);
    }
    char spec[512];
    if (suggest) {
        const struct vprofile *host;
        int st = replay_suggest(job.name, &flags, spec, sizeof spec, &host);
        if (st != EXIT_OK)
            return st;
        if (fflush(stdout) != 0)
            return fail("replay: standard output: cannot write");
        /* The report below is the suggested configuration's. */
        flags.host = host->name;
        if (host->hypervisor == VHV_KVM)
            flags.hv = spec;
        else
            flags.viridian = spec;
        job.causes_only = true;
    }

    FILE *in = input_open(job.name, 1);
    if (!in)
        return EXIT_BAD_INPUT;
    /* Files, not memory: a replay's output (--fill, divergences) grows with the trace. */
    job.out = tmpfile();
    job.head = tmpfile();
    job.div = diverge_new();
    if (!job.out || !job.head || !job.div) {
        if (job.out)
            fclose(job.out);
        if (job.head)
            fclose(job.head);
        diverge_free(job.div);
        input_close(in);
        return fail("out of memory or no temporary file");
    }
    if (job.explain && job.fill)
        return input_close(in), fclose(job.out), fclose(job.head), diverge_free(job.div),
               fail("replay: --explain and --fill each print the trace their own way: one at a time");
    narrate_open(&job.narrator, job.out);
    job.narrator.color = term_color(stdout);
    int status = run(&job, in, &flags);
    narrate_close(&job.narrator);
    input_close(in);
    if (status != EXIT_BAD_INPUT) {
        errno = 0;
        if (!copy_out(job.out, stdout) || fflush(stdout) != 0 || ferror(stdout))
            status = fail("replay: standard output: cannot write: %s",
                          strerror(errno ? errno : EIO));
        else
            say("%s: %lu event%s, %lu divergence%s", job.name, job.events,
                job.events == 1 ? "" : "s", job.diverged, job.diverged == 1 ? "" : "s");
    }
    fclose(job.out);
    fclose(job.head);
    diverge_free(job.div);
    return status;
}
