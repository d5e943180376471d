/* vsbox report TRACE -o out.html: one self-contained page (no network: the data, style and
 * script are inline) showing the trace's events over virtual time, one lane per vCPU,
 * coloured by outcome, with migrations and save points marked and every event's details
 * (the model's answer and why) on hover and click. The trace is replayed on the model
 * first, whole, so bad input leaves no file behind. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/input.h"
#include "cli/options.h"
#include "cli/output.h"
#include "cli/report_page.h"
#include "cli/text.h"
#include "traces/replay.h"
#include "traces/trace.h"
#include "viridian/why.h"

struct rep_event {
    unsigned line;
    uint32_t vcpu;
    uint64_t t;                 /* virtual time: TSC ticks since the trace began */
    const char *outcome;        /* ok, gp, refused, diverged, mark */
    char text[160], got[128], want[128], why[320];
};

struct report {
    struct rep_event *ev;
    size_t n, cap;
    uint32_t vcpus;
    char header[320];
};

static struct rep_event *push(struct report *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        struct rep_event *p = realloc(r->ev, cap * sizeof *p);
        if (!p)
            return NULL;
        r->ev = p;
        r->cap = cap;
    }
    struct rep_event *e = &r->ev[r->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static const char *outcome(const struct vevent *ev, const struct vres *got, enum replay_rc rc)
{
    if (rc == REPLAY_DIVERGED)
        return "diverged";
    if (ev->kind == VEV_MIGRATE)
        return got->kind == VRES_OK ? "migrate" : "refused";
    switch (got->kind) {
    case VRES_GP:
        return "gp";
    case VRES_UD:
    case VRES_EPERM:
    case VRES_EEXIST:
    case VRES_EINVAL:
    case VRES_REFUSED:
        return "refused";
    default:
        return "ok";
    }
}

static int read_trace(const char *name, FILE *in, struct report *r)
{
    struct trace_reader *rd = trace_reader_new(in);
    if (!rd)
        return fail("out of memory");
    struct vmodel *m = NULL;
    struct trace_item it;
    struct trace_error err;
    enum trace_rc rc;
    uint64_t t = 0;
    int status = EXIT_OK;
    while ((rc = trace_reader_next(rd, &it, &err)) == TRACE_OK) {
        if (it.kind == TRACE_COMMENT && strstr(it.comment, "resumed from")) {
            struct rep_event *e = push(r);
            if (!e) {
                status = fail("out of memory");
                break;
            }
            *e = (struct rep_event){ .line = it.line, .t = t, .outcome = "save" };
            text_escape(e->text, sizeof e->text, it.comment);
            continue;
        }
        if (it.kind != TRACE_EVENT)
            continue;
        if (!m) {
            struct settings s;
            struct common_flags none = { 0 };
            uint64_t ram = 0;
            struct vmem_ops mem = { 0 };
            const struct trace_config *h = trace_reader_config(rd);
            if (!settings_resolve(&none, h, name, &s)) {
                status = EXIT_BAD_INPUT;
                break;
            }
            if (h->have & TRACE_HAVE_MEMORY) {
                ram = (uint64_t)h->memory_mib << 20;
                mem = settings_trace_ram(&ram);
            }
            if (!(m = settings_model(&s, mem))) {
                status = EXIT_BAD_INPUT;
                break;
            }
            struct trace_config tc;
            settings_trace_config(&s, &tc);
            trace_format_config(r->header, sizeof r->header, &tc);
            r->vcpus = s.vcpus ? s.vcpus : 1;
        }
        struct vwhy why;
        struct vres got = { .kind = VRES_NONE };
        vmodel_why(m, &it.ev, &why);
        enum replay_rc step = replay_step(m, &it, &got, &err);
        if (step == REPLAY_INVALID)
            break;
        if (it.ev.kind == VEV_ADVANCE) {
            t += it.ev.a[0];
            continue;
        }
        struct rep_event *e = push(r);
        if (!e) {
            status = fail("out of memory");
            break;
        }
        e->line = it.line;
        e->vcpu = it.ev.vcpu;
        e->t = t;
        e->outcome = outcome(&it.ev, &got, step);
        struct vevent ev = it.ev;
        if (it.has_input) {
            ev.input = it.input;
            ev.input_words = it.input_words;
        }
        trace_format_event(e->text, sizeof e->text, &ev);
        trace_format_result(e->got, sizeof e->got, &got);
        if (it.has_expect)
            trace_format_result(e->want, sizeof e->want, &it.expect);
        snprintf(e->why, sizeof e->why, "%s%s%s%s", vrule_info(why.rule)->text,
                 why.src[0] ? " [" : "", why.src, why.src[0] ? "]" : "");
    }
    /* A read error, or an event the model cannot take (REPLAY_INVALID: err says why). */
    if (status == EXIT_OK && rc != TRACE_EOF)
        status = err.col ? fail("%s:%u:%u: %s", name, err.line, err.col, err.msg)
                         : fail("%s:%u: %s", name, err.line, err.msg);
    if (status == EXIT_OK && !m)
        status = fail("%s: no events to show", name);
    vmodel_destroy(m);
    trace_reader_free(rd);
    return status;
}

/* A JSON string: quotes, backslashes and control characters escaped, and '<' too, so
 * that no text can close the <script> element it sits in. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == '<' || c == '>' || c == '&')
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void write_page(FILE *f, const char *name, const struct report *r)
{
    char safe[1024];
    text_escape(safe, sizeof safe, name);
    fputs(report_page_head, f);
    fputs("{\"name\":", f);
    json_str(f, safe);
    fputs(",\"header\":", f);
    json_str(f, r->header);
    fprintf(f, ",\"vcpus\":%u,\"events\":[", r->vcpus);
    for (size_t i = 0; i < r->n; i++) {
        const struct rep_event *e = &r->ev[i];
        fprintf(f, "%s\n{\"line\":%u,\"v\":%u,\"t\":%llu,\"o\":", i ? "," : "", e->line, e->vcpu,
                (unsigned long long)e->t);
        json_str(f, e->outcome);
        fputs(",\"ev\":", f);
        json_str(f, e->text);
        fputs(",\"got\":", f);
        json_str(f, e->got);
        fputs(",\"want\":", f);
        json_str(f, e->want);
        fputs(",\"why\":", f);
        json_str(f, e->why);
        fputc('}', f);
    }
    fputs("]}", f);
    fputs(report_page_tail, f);
}

int cmd_report(int argc, char **argv)
{
    const char *file = NULL, *out = NULL;
    const struct opt opts[] = {
        { "-o", "OUT", "the HTML file to write ('-': standard output)", &out, NULL, "--output" },
        { 0 },
    };
    const struct command c = {
        "report", "TRACE -o OUT.html",
        "Write one self-contained HTML page (no network) showing a trace's events over\n"
        "virtual time, one lane per vCPU, coloured by outcome (ok, #GP, refused, diverged),\n"
        "with migrations and save points marked; hover or click an event for its details and\n"
        "the model's reason. The trace is replayed on the model from its header first.\n"
        "Exit: 0 written, 2 bad input (one line naming the file and line; no file written).\n",
        "TRACE", opts,
    };
    int p = opts_parse(&c, argc, argv, &file);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    if (!file || !out)
        return fail("report: needs TRACE and -o OUT.html");
    FILE *in = input_open(file, 1);
    if (!in)
        return EXIT_BAD_INPUT;
    struct report r = { 0 };
    int status = read_trace(file, in, &r);
    input_close(in);
    if (status == EXIT_OK) {
        struct output o;
        if (output_open(&o, "-o", out)) {
            status = EXIT_BAD_INPUT;
        } else {
            write_page(o.f, file, &r);
            if (output_commit(&o, "-o"))
                status = EXIT_BAD_INPUT;
        }
    }
    free(r.ev);
    return status;
}
