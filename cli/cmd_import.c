/* vsbox import kvm: a KVM capture (trace-cmd report, ftrace, perf script text) as a
 * trace v1 with KVM's answers as the expected results (docs/kvm-import.md). The events
 * go to an unnamed temporary file first: the header needs the vCPU count, known only at
 * the end, and bad input must leave no partial output. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "traces/import_kvm.h"
#include "traces/linebuf.h"
#include "traces/trace.h"

static const char usage[] =
    "usage: vsbox import kvm FILE [-o OUT] [--pid N[,N...]] [--task NAME]\n"
    "Read a capture of Linux KVM's tracepoints - `trace-cmd report`, raw ftrace\n"
    "(trace/trace_pipe) or `perf script` text - and write it as a trace v1: kvm_msr,\n"
    "kvm_cpuid, kvm_hv_hypercall and the kvm_hv_* events a guest's access shows in,\n"
    "with KVM's answers as the expected results, for `vsbox replay` against a host.\n"
    "FILE may be - for standard input. A summary of what was kept goes to stderr.\n"
    "  -o OUT        write the trace to OUT (default: standard output)\n"
    "  --pid N,...   keep only these threads (pid or tid) or processes (tgid)\n"
    "  --task NAME   keep only threads named NAME ('NAME*': names that start so)\n"
    "Capture: trace-cmd record -e kvm:kvm_msr -e kvm:kvm_cpuid -e 'kvm:kvm_hv_*'\n"
    "         -e kvm:kvm_entry; then trace-cmd report > capture.txt\n"
    "Exit: 0 done, 2 bad input (one line naming the file and line).\n";

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
    fprintf(stderr, "vsbox: import kvm: %s: %lu lines, %lu of a kvm tracepoint\n", name,
            s->lines, s->kvm_lines);
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
            fprintf(stderr, "  thread      %s%s%ld: %lu events as vCPU %d%s\n", t->task,
                    t->task[0] ? " " : "", t->pid, t->events, t->vcpu,
                    t->guessed ? " (guessed from the order of threads)" : "");
    if (cfg.have & TRACE_HAVE_TSC_KHZ)
        fprintf(stderr, "  tsc_khz     %u, as KVM answered HV_X64_MSR_TSC_FREQUENCY\n",
                cfg.tsc_khz);
}

/* Header, then the events. */
static int write_trace(FILE *out, FILE *body, const char *name, const struct kvm_import *im)
{
    struct trace_config cfg;
    kvm_import_config(im, &cfg);
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

/* A regular file (or none yet) is replaced whole: written under a fresh name in its
 * directory, then renamed over it. Anything else (/dev/null, a pipe) is written through. */
static int save(const char *path, FILE *body, const char *name, const struct kvm_import *im)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        FILE *f = fopen(path, "w");
        if (!f)
            return fail("%s: cannot open: %s", path, strerror(errno));
        int rc = write_trace(f, body, name, im);
        if (fclose(f) || rc)
            return fail("%s: cannot write: %s", path, strerror(errno));
        return EXIT_OK;
    }
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp)
        return fail("out of memory");
    snprintf(tmp, n + 16, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return fail("%s: cannot create: %s", path, strerror(e));
    }
    /* mkstemp makes the file 0600: give it the mode the file it replaces had, or the one
     * a plain create would have given (0666 less the umask). */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 07777 : 0666 & ~mask);
    FILE *f = fdopen(fd, "w");
    int rc = f ? write_trace(f, body, name, im) : -1;
    if (!f)
        close(fd);
    if ((f && fclose(f)) || rc || rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return fail("%s: cannot write: %s", path, strerror(e));
    }
    free(tmp);
    return EXIT_OK;
}

static int import(const char *name, FILE *in, const char *out_path,
                  const struct kvm_import_opts *opts)
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
    if (out_path)
        status = save(out_path, sink.body, name, im);
    else if (write_trace(stdout, sink.body, name, im))
        status = fail("import: cannot write the output");
    else
        status = EXIT_OK;
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
    const char *file = NULL, *out = NULL;
    bool kvm = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return EXIT_OK;
        }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--pid") == 0 || strcmp(a, "--task") == 0) {
            if (i + 1 >= argc)
                return fail("import: %s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "-o") == 0)
                out = v;
            else if (strcmp(a, "--task") == 0)
                opts.task = v;
            else if (!parse_pids(v, &opts))
                return fail("import: --pid takes up to %d numbers, comma-separated, not '%s'",
                            KVM_IMPORT_MAX_PIDS, v);
            continue;
        }
        if (a[0] == '-' && a[1] != '\0')
            return fail("import: unknown option '%s' (see vsbox import --help)", a);
        if (!kvm) {
            if (strcmp(a, "kvm") != 0)
                return fail("import: unknown capture format '%s' (vsbox imports kvm)", a);
            kvm = true;
        } else if (file) {
            return fail("import: one capture at a time ('%s' and '%s')", file, a);
        } else {
            file = a;
        }
    }
    if (!kvm || !file)
        return fail("import: which capture? (vsbox import kvm FILE)");
    FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!in)
        return fail("%s: cannot open: %s", file, strerror(errno));
    struct stat st;
    if (in != stdin && fstat(fileno(in), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(in);
        return fail("%s: a directory, not a capture", file);
    }
    int status = import(file, in, out, &opts);
    if (in != stdin)
        fclose(in);
    return status;
}
