/* vsbox import kvm: a KVM capture (trace-cmd report, ftrace, perf script text) as a
 * trace v1 with KVM's answers as the expected results (docs/kvm-import.md). The events
 * go to an unnamed temporary file first: the header needs the vCPU count, known only at
 * the end, and bad input must leave no partial output. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/input.h"
#include "cli/options.h"
#include "cli/output.h"
#include "cli/text.h"
#include "traces/import_kvm.h"
#include "traces/linebuf.h"
#include "traces/trace.h"
#include "viridian/profile.h"
#include "viridian/spec.h"

/* A longer line is not a tracepoint's: it is read in part and counted as other text. */
#define IMPORT_MAX_LINE 65536u

struct sink {
    FILE *body;
};

static bool emit(void *ctx, const struct trace_item *it)
{
    struct sink *s = ctx;
    if (it->kind == TRACE_EVENT)
        return trace_write_line(s->body, &it->ev, it->has_expect ? &it->expect : NULL,
                                it->comment) == 0;
    return trace_write_comment(s->body, it->comment) == 0;
}

static bool parse_pids(const char *arg, struct kvm_import_opts *o)
{
    char buf[256];
    if (strlen(arg) >= sizeof buf)
        return false;
    strcpy(buf, arg);
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        uint64_t v;
        if (o->npids == KVM_IMPORT_MAX_PIDS || !parse_u64(p, 0, 0x7fffffff, &v))
            return false;
        o->pids[o->npids++] = (long)v;
    }
    return o->npids > 0;
}

static void summary(const char *name, const struct kvm_import *im)
{
    const struct kvm_import_stats *s = kvm_import_stats(im);
    struct trace_config cfg;
    kvm_import_config(im, &cfg);
    unsigned long events = s->rdmsr + s->wrmsr + s->cpuid + s->hypercall;
    char nb[1024];
    fprintf(stderr, "vsbox: import kvm: %s: %lu lines, %lu of a kvm tracepoint\n",
            esc(name, nb, sizeof nb), s->lines, s->kvm_lines);
    fprintf(stderr, "  kept        %lu events (%lu rdmsr, %lu wrmsr, %lu cpuid, %lu hypercall) "
            "on %u vCPU%s\n", events, s->rdmsr, s->wrmsr, s->cpuid, s->hypercall, cfg.vcpus,
            cfg.vcpus == 1 ? "" : "s");
    const struct {
        unsigned long n;
        const char *what;
    } lines[] = {
        { s->not_modelled, "as comments: MSRs and CPUID leaves vsbox does not model" },
        { s->merged, "merged: kvm_hv_*_msr lines that showed a kvm_msr access again" },
        { s->details, "merged: flush and IPI arguments, into their hypercall's comment" },
        { s->no_result, "hypercalls without kvm_hv_hypercall_done (kernels before 5.15)" },
        { s->guessed, "events whose vCPU is only the order their thread appeared in" },
        { s->host_writes, "skipped: the VMM's own writes (kvm_hv_* 'host 1')" },
        { s->kvm_other, "skipped: kvm events with no guest access in them" },
        { s->other_events, "skipped: events of other subsystems" },
        { s->filtered, "skipped: kvm lines of other threads (--pid, --task)" },
        { s->headers, "skipped: header lines" },
        { s->other_lines, "skipped: other text and blank lines" },
        { s->rejoined, "tolerated: kvm lines wrapped onto the next line, rejoined" },
        { s->cut, "tolerated: kvm lines cut short (no arguments)" },
        { s->malformed, "tolerated: kvm lines whose arguments match no known format" },
        { s->annotated, "tolerated: kvm lines with text after their arguments" },
        { s->orphans, "tolerated: hypercall results or arguments without their hypercall" },
        { s->big_vcpu, "tolerated: events of vCPUs beyond 63 (trace v1's limit), left out" },
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (lines[i].n)
            fprintf(stderr, "  %-10lu  %s\n", lines[i].n, lines[i].what);
    const struct kvm_import_thread *t;
    for (size_t i = 0; (t = kvm_import_thread(im, i)) && i < 8; i++)
        if (t->events)
            fprintf(stderr, "  thread      %s%s%ld: %lu events as vCPU %d%s\n",
                    esc(t->task, nb, sizeof nb), t->task[0] ? " " : "", t->pid, t->events, t->vcpu,
                    t->guessed ? " (guessed from the order of threads)" : "");
    if (cfg.have & TRACE_HAVE_TSC_KHZ)
        fprintf(stderr, "  tsc_khz     %u, as KVM answered HV_X64_MSR_TSC_FREQUENCY\n",
                cfg.tsc_khz);
}

/* Header, then the events. hv: the KVM host's flags the capture's guest had (--hv,
 * canonical), or NULL: the header names no host. */
static int write_trace(FILE *out, FILE *body, const char *name, const struct kvm_import *im,
                       const char *hv)
{
    struct trace_config cfg;
    kvm_import_config(im, &cfg);
    if (hv) {
        cfg.have |= TRACE_HAVE_HOST | TRACE_HAVE_VIRIDIAN;
        cfg.host = vprofile_kvm();
        snprintf(cfg.viridian, sizeof cfg.viridian, "%s", hv);
    }
    char note[600];
    snprintf(note, sizeof note, "Imported by vsbox import kvm from %s: KVM's answers are the "
             "expected results.", name);
    if (trace_write_comment(out, note) || trace_write_magic(out) ||
        trace_write_config(out, &cfg) || fflush(body) || fseek(body, 0, SEEK_SET))
        return -1;
    static char buf[1 << 20];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, body)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            return -1;
    return ferror(body) || fflush(out) ? -1 : 0;
}

/* The trace to out_path ("-": standard output) through cli/output.c: a file appears
 * whole or not at all, /dev/null and pipes are written in place. */
static int save(const char *out_path, FILE *body, const char *name, const struct kvm_import *im,
                const char *hv)
{
    struct output o;
    if (output_open(&o, "-o", out_path) != 0)
        return EXIT_BAD_INPUT;
    if (write_trace(o.f, body, name, im, hv) != 0 && !ferror(o.f)) {
        int e = errno;
        output_discard(&o);
        return fail("import: cannot read back the temporary file: %s", strerror(e));
    }
    /* A failed write to o is reported here, once. */
    return output_commit(&o, "-o") != 0 ? EXIT_BAD_INPUT : EXIT_OK;
}

static int import(const char *name, FILE *in, const char *out_path,
                  const struct kvm_import_opts *opts, const char *hv)
{
    struct sink sink = { tmpfile() };
    struct linebuf *lb = malloc(sizeof *lb);
    /* A line per event: stdio's 4 KiB buffer made a write call per forty of them (glibc
     * takes a size only with a buffer). */
    char *bodybuf = malloc(1u << 20);
    if (sink.body && bodybuf)
        setvbuf(sink.body, bodybuf, _IOFBF, 1u << 20);
    struct kvm_import *im = sink.body ? kvm_import_new(opts, emit, &sink) : NULL;
    int status = EXIT_BAD_INPUT;
    struct trace_error err = { 0 };
    if (!sink.body || !lb || !im) {
        status = fail("out of memory or no temporary file");
        goto out;
    }
    linebuf_init(lb, in, IMPORT_MAX_LINE);
    unsigned line = 0;
    for (;;) {
        char *text;
        size_t len;
        bool whole;
        int got = linebuf_next(lb, &text, &len, &whole);
        if (got < 0) {
            status = fail("%s:%u: read error: %s", name, line + 1, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        if (line == UINT_MAX - 1) {
            status = fail("%s: more than %u lines", name, UINT_MAX - 1);
            goto out;
        }
        if (kvm_import_line(im, text, len, ++line, &err))
            goto bad;
        if (!whole && linebuf_skip_rest(lb)) {
            status = fail("%s:%u: read error: %s", name, line, strerror(errno));
            goto out;
        }
    }
    if (kvm_import_finish(im, &err))
        goto bad;
    status = save(out_path ? out_path : "-", sink.body, name, im, hv);
    if (status == EXIT_OK)
        summary(name, im);
    goto out;
bad:
    status = fail("%s:%u: %s", name, err.line, err.msg);
out:
    kvm_import_free(im);
    free(lb);
    if (sink.body)
        fclose(sink.body);
    free(bodybuf);
    return status;
}

int cmd_import(int argc, char **argv)
{
    struct kvm_import_opts opts = { 0 };
    const char *file = NULL, *out = NULL, *pids = NULL, *hv = NULL;
    bool explain = false;
    const struct opt table[] = {
        { "-o", "OUT", "write the trace to OUT (default: standard output)", &out, NULL,
          "--output" },
        { "--pid", "N,...", "keep only these threads (pid or tid) or processes (tgid)", &pids,
          NULL, NULL },
        { "--task", "NAME", "keep only threads named NAME ('NAME*': names that start so)",
          &opts.task, NULL, NULL },
        { "--hv", "FLAGS", "the QEMU CPU flags the capture's guest had: the header then says\n"
          "host=kvm with them, and the trace replays against them alone", &hv, NULL, NULL },
        { "--explain", NULL, "then narrate the trace written to -o as vsbox replay --explain\n"
          "does: each event, what this host's model decides and why, KVM's answer", NULL,
          &explain, NULL },
        { 0 },
    };
    const struct command c = {
        "import kvm", "FILE [OPTIONS]",
        "Read a capture of Linux KVM's tracepoints - `trace-cmd report`, raw ftrace\n"
        "(trace/trace_pipe) or `perf script` text - and write it as a trace v1: kvm_msr,\n"
        "kvm_cpuid, kvm_hv_hypercall and the kvm_hv_* events a guest's access shows in,\n"
        "with KVM's answers as the expected results, for `vsbox replay` against a host.\n"
        "FILE may be - for standard input. A summary of what was kept goes to stderr.\n"
        "Capture: trace-cmd record -e kvm:kvm_msr -e kvm:kvm_cpuid -e 'kvm:kvm_hv_*'\n"
        "         -e kvm:kvm_entry; then trace-cmd report > capture.txt\n"
        "Exit: 0 done, 2 bad input (one line naming the file and line).\n",
        "FILE", table,
    };
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        opts_help(stdout, &c);
        return EXIT_OK;
    }
    if (argc < 2)
        return fail("import: which capture? (vsbox import kvm FILE)");
    if (strcmp(argv[1], "kvm") != 0)
        return fail("import: unknown capture format '%s' (vsbox imports kvm)", argv[1]);
    int p = opts_parse(&c, argc - 1, argv + 1, &file);
    if (p != OPTS_OK)
        return p == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    if (pids && !parse_pids(pids, &opts))
        return fail("import: --pid takes up to %d numbers, comma-separated, not '%s'",
                    KVM_IMPORT_MAX_PIDS, pids);
    if (!file)
        return fail("import: which capture? (vsbox import kvm FILE)");
    char hv_text[512];
    if (hv) {
        uint64_t mask;
        struct vspec_error se;
        if (vspec_parse(vprofile_kvm(), hv, &mask, &se) != VERR_OK) {
            char msg[256];
            vspec_strerror(&se, msg, sizeof msg);
            return fail("--hv: %s", msg);
        }
        vspec_format(vprofile_kvm(), mask, hv_text, sizeof hv_text);
        hv = hv_text;
    }
    if (explain && (!out || strcmp(out, "-") == 0))
        return fail("import: --explain narrates the trace written to -o OUT: name the file");
    FILE *in = input_open(file, 1);
    if (!in)
        return EXIT_BAD_INPUT;
    int status = import(file, in, out, &opts, hv);
    input_close(in);
    if (status != EXIT_OK || !explain)
        return status;
    char *args[] = { "replay", (char *)out, "--explain", NULL };
    return cmd_replay(3, args);
}
