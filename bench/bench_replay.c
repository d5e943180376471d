/* Replay and import at disk speed: `vsbox replay` of a 10-million-event trace and
 * `vsbox import kvm` of a 5-million-line capture, each beside `wc -l` and
 * `awk 'END{print NR}'` on the same file, in one run. The files are made here (in
 * $TMPDIR, removed at the end) and read once first so that every tool reads them from
 * the page cache; each tool runs BENCH_ROUNDS times (default 5) interleaved, the fastest
 * run counts, by wall clock and by CPU time (user + system) alike. Peak memory is
 * measured on a file a tenth the size too: it must not grow
 * with the trace. Targets (issue 12): replay >= 0.15x wc -l, import >= 0.05x.
 * BENCH_KEEP=1 leaves the files in place. */
/* wait4(): the peak memory of each child, not of all children so far. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "traces/trace.h"
#include "viridian/hvmpv.h"
#include "viridian/model.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct run {
    double seconds;     /* wall clock */
    double cpu;         /* user + system: what a busy machine's other work leaves alone */
    long max_rss_kb;
};

/* argv with stdout to /dev/null; stderr too unless it fails. */
static struct run run(char *const argv[])
{
    fflush(stdout);
    fflush(stderr);
    double t = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench: fork");
        exit(2);
    }
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("bench: wait");
        exit(2);
    }
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    struct run r = { now() - t, cpu, ru.ru_maxrss };
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench: %s %s failed (status %d)\n", argv[0], argv[1], status);
        exit(2);
    }
    return r;
}

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
        exit(2);
    }
}

/* xorshift64*: the same values on every run. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

/* A trace that replays clean: a cycle of the events a Windows guest makes, half of them
 * with values that change from one round to the next (TPR, pages, hypercall buffers,
 * clock ticks, time), as a recorded guest's do; the results come from the model. */
static void make_trace(const char *path, unsigned long events)
{
    static const struct vevent cycle[] = {
        { .kind = VEV_CPUID, .a = { 0x40000003, 0 } },
        { .kind = VEV_RDMSR, .a = { HV_X64_MSR_VP_INDEX } },
        { .kind = VEV_RDMSR, .vcpu = 1, .a = { HV_X64_MSR_VP_INDEX } },
        { .kind = VEV_WRMSR, .a = { HV_X64_MSR_GUEST_OS_ID, 0x1040601001db0 } },
        { .kind = VEV_RDMSR, .a = { HV_X64_MSR_TSC_FREQUENCY } },
        { .kind = VEV_WRMSR, .vcpu = 1, .a = { HV_X64_MSR_TPR } },          /* value varies */
        { .kind = VEV_RDMSR, .vcpu = 1, .a = { HV_X64_MSR_TPR } },
        { .kind = VEV_ADVANCE },                                           /* ticks vary */
        { .kind = VEV_RDTSC },
        { .kind = VEV_HYPERCALL, .a = { HvNotifyLongSpinWait } },          /* buffers vary */
        { .kind = VEV_WRMSR, .a = { HV_X64_MSR_APIC_ASSIST_PAGE } },       /* page varies */
        { .kind = VEV_CPUID, .vcpu = 1, .a = { 0x40000000, 0 } },
        { .kind = VEV_CPUID, .a = { 0x40000001, 0 } },
        { .kind = VEV_RDMSR, .a = { MSR_IA32_TSC } },
    };
    struct vconfig cfg = { .viridian = HVMPV_base_freq, .vcpus = 2 };
    struct vmodel *m;
    check(vmodel_create(&cfg, &m) == VERR_OK, "model");
    FILE *f = fopen(path, "w");
    check(f != NULL, path);
    fputs("vsbox-trace 1\nconfig host=xen-4.5 viridian=base,freq vcpus=2\n", f);
    char line[256];
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (unsigned long i = 0; i < events; i++) {
        struct vevent ev = cycle[i % (sizeof cycle / sizeof cycle[0])];
        uint64_t r = next_random(&seed);
        if (ev.kind == VEV_WRMSR && ev.a[0] == HV_X64_MSR_TPR)
            ev.a[1] = r & 0xff;
        else if (ev.kind == VEV_ADVANCE)
            ev.a[0] = 500 + r % 5000;
        else if (ev.kind == VEV_HYPERCALL)
            ev.a[1] = (r & 0xfffff000) | 0x10000, ev.a[2] = ev.a[1] + 0x1000;
        else if (ev.kind == VEV_WRMSR && ev.a[0] == HV_X64_MSR_APIC_ASSIST_PAGE)
            ev.a[1] = (r & 0x3ffff000) | 1;
        struct vres res;
        ev.legacy = -1;
        vmodel_apply(m, &ev, &res);
        int n = trace_format_line(line, sizeof line, &ev, &res, NULL);
        line[n] = '\n';
        fwrite(line, 1, (size_t)n + 1, f);
    }
    check(fclose(f) == 0, path);
    vmodel_destroy(m);
}

/* A capture as `trace-cmd report` prints `trace-cmd record -e kvm` for a two-vCPU
 * Windows guest (Linux 5.17+ formats): every access between its kvm_exit and kvm_entry,
 * an interrupt delivered and its EOI written, the other kvm events such a capture holds
 * (kvm_apic_accept_irq, kvm_inj_virq, kvm_eoi) among them. 6 of the cycle's 25 lines
 * become events; the reference counter and the spin counts of the hypercalls change. */
static void make_capture(const char *path, unsigned long lines)
{
    static const struct {
        const char *event, *args; /* args: a printf format of one %d (the vCPU) or %lx */
    } cycle[] = {
        { "kvm_exit", "vcpu %d reason MSR_READ rip 0xfffff8031964a727 info1 0x0000000000000000 "
                      "info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000" },
        { "kvm_msr", "msr_read 40000020 = 0x%lx" },
        { "kvm_entry", "vcpu %d, rip 0xfffff8031964a729" },
        { "kvm_exit", "vcpu %d reason CPUID rip 0xfffff80319612f4e info1 0x0000000000000000 "
                      "info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000" },
        { "kvm_cpuid", "func 40000003 idx 0 rax 3fff rbx 2bf7 rcx 2 rdx 3ffbfe, cpuid entry "
                       "found" },
        { "kvm_entry", "vcpu %d, rip 0xfffff80319612f50" },
        { "kvm_exit", "vcpu %d reason MSR_WRITE rip 0xfffff8031964b0e1 info1 0x0000000000000000 "
                      "info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000" },
        { "kvm_hv_synic_set_msr", "vcpu_id %d msr 0x40000084 data 0x0 host 0" },
        { "kvm_msr", "msr_write 40000084 = 0x0" },
        { "kvm_entry", "vcpu %d, rip 0xfffff8031964b0e3" },
        { "kvm_exit", "vcpu %d reason VMCALL rip 0xfffff80319683c21 info1 0x0000000000000000 "
                      "info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000" },
        { "kvm_hv_hypercall", "code 0x8 fast var_cnt 0x0 rep_cnt 0x0 idx 0x0 in 0x%lx out 0x0" },
        { "kvm_hv_hypercall_done", "result 0x0" },
        { "kvm_entry", "vcpu %d, rip 0xfffff80319683c24" },
        { "kvm_exit", "vcpu %d reason EXTERNAL_INTERRUPT rip 0xfffff8031965d2a0 info1 "
                      "0x0000000000000000 info2 0x0000000000000000 intr_info 0x800000ec "
                      "error_code 0x00000000" },
        { "kvm_apic_accept_irq", "apicid %d vec 209 (Fixed|edge)" },
        { "kvm_inj_virq", "irq 209" },
        { "kvm_entry", "vcpu %d, rip 0xfffff8031965d2a0" },
        { "kvm_exit", "vcpu %d reason MSR_WRITE rip 0xfffff8031964b1f7 info1 0x0000000000000000 "
                      "info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000" },
        { "kvm_msr", "msr_write 40000070 = 0x0" },
        { "kvm_eoi", "apicid %d vector 209" },
        { "kvm_entry", "vcpu %d, rip 0xfffff8031964b1f9" },
        { "kvm_exit", "vcpu %d reason MSR_READ rip 0xfffff80319659c80 info1 0x0000000000000000 "
                      "info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000" },
        { "kvm_msr", "msr_read 40000022 = 0xb2d05e00" },
        { "kvm_entry", "vcpu %d, rip 0xfffff80319659c82" },
    };
    const size_t n = sizeof cycle / sizeof cycle[0];
    FILE *f = fopen(path, "w");
    check(f != NULL, path);
    fputs("cpus=4\n", f);
    unsigned long t = 2360123456ul;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (unsigned long i = 0; i < lines; i++, t += 7) {
        int v = (int)(i / n % 2);
        const char *fmt = cycle[i % n].args;
        char args[256], name[32];
        if (strstr(fmt, "%lx"))
            snprintf(args, sizeof args, fmt,
                     strstr(fmt, "in 0x") ? (next_random(&seed) & 0xffful) : t / 100);
        else
            snprintf(args, sizeof args, fmt, v);
        snprintf(name, sizeof name, "%s:", cycle[i % n].event);
        fprintf(f, "       CPU %d/KVM-%d  [%03d]  %lu.%06lu: %-23s%s\n", v, 3066 + v, 2 + v,
                t / 1000000, t % 1000000, name, args);
    }
    check(fclose(f) == 0, path);
}

static void cache(const char *path)
{
    FILE *f = fopen(path, "rb");
    static char buf[1 << 20];
    check(f != NULL, path);
    while (fread(buf, 1, sizeof buf, f) > 0)
        ;
    fclose(f);
}

static long file_mb(const char *path)
{
    FILE *f = fopen(path, "rb");
    check(f != NULL, path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n >> 20;
}

/* Best of rounds for each command, interleaved so that a busy moment hits all alike. */
static void best_of(char **cmds[], size_t n, int rounds, struct run best[])
{
    for (size_t k = 0; k < n; k++)
        best[k] = (struct run){ 1e30, 1e30, 0 };
    for (int r = 0; r < rounds; r++)
        for (size_t k = 0; k < n; k++) {
            struct run x = run(cmds[k]);
            if (x.seconds < best[k].seconds)
                best[k].seconds = x.seconds;
            if (x.cpu < best[k].cpu)
                best[k].cpu = x.cpu;
            if (x.max_rss_kb > best[k].max_rss_kb)
                best[k].max_rss_kb = x.max_rss_kb;
        }
}

/* Both clocks: wall time is what a user waits for, but on a machine other work keeps
 * busy it punishes the longer runs most; CPU time (user + system) does not. */
static void report(const char *title, const char *path, unsigned long lines, struct run b[3],
                   double target)
{
    printf("%s: %s, %lu lines, %ld MB             wall      cpu\n", title, path, lines,
           file_mb(path));
    printf("  %-26s %8.3f s %6.3f s\n", "wc -l", b[0].seconds, b[0].cpu);
    printf("  %-26s %8.3f s %6.3f s   %.2fx wc -l\n", "awk 'END{print NR}'", b[1].seconds,
           b[1].cpu, b[0].seconds / b[1].seconds);
    printf("  %-26s %8.3f s %6.3f s   %.3fx wc -l wall, %.3fx cpu (target >= %.2fx); "
           "%.2fx awk; %.1fM lines/s\n",
           title, b[2].seconds, b[2].cpu, b[0].seconds / b[2].seconds, b[0].cpu / b[2].cpu,
           target, b[1].seconds / b[2].seconds, (double)lines / b[2].seconds / 1e6);
}

int main(int argc, char **argv)
{
    unsigned long events = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000000ul;
    unsigned long capture_lines = events / 2;
    int rounds = getenv("BENCH_ROUNDS") ? atoi(getenv("BENCH_ROUNDS")) : 5;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char big[512], small[512], cap[512], capsmall[512];
    snprintf(big, sizeof big, "%s/vsbox-bench-%d.trace", tmp, (int)getpid());
    snprintf(small, sizeof small, "%s/vsbox-bench-%d-small.trace", tmp, (int)getpid());
    snprintf(cap, sizeof cap, "%s/vsbox-bench-%d.txt", tmp, (int)getpid());
    snprintf(capsmall, sizeof capsmall, "%s/vsbox-bench-%d-small.txt", tmp, (int)getpid());
    fprintf(stderr, "bench: writing %lu events and %lu capture lines to %s ...\n", events,
            capture_lines, tmp);
    make_trace(big, events);
    make_trace(small, events / 10);
    make_capture(cap, capture_lines);
    make_capture(capsmall, capture_lines / 10);
    cache(big);
    cache(cap);

    char *wc[] = { "wc", "-l", big, NULL }, *awk[] = { "awk", "END{print NR}", big, NULL };
    char *rep[] = { VSBOX_BINARY, "replay", big, NULL };
    char *rep_small[] = { VSBOX_BINARY, "replay", small, NULL };
    char **replay_cmds[] = { wc, awk, rep };
    struct run b[3];
    best_of(replay_cmds, 3, rounds, b);
    struct run small_run = run(rep_small);
    report("vsbox replay", big, events + 2, b, 0.15);
    printf("  peak memory %ld KB at %lu events, %ld KB at %lu\n\n", small_run.max_rss_kb,
           events / 10, b[2].max_rss_kb, events);
    double replay_ratio = b[0].seconds / b[2].seconds, replay_cpu = b[0].cpu / b[2].cpu;

    char *cwc[] = { "wc", "-l", cap, NULL }, *cawk[] = { "awk", "END{print NR}", cap, NULL };
    char *imp[] = { VSBOX_BINARY, "import", "kvm", cap, "-o", "/dev/null", NULL };
    char *imp_small[] = { VSBOX_BINARY, "import", "kvm", capsmall, "-o", "/dev/null", NULL };
    char **import_cmds[] = { cwc, cawk, imp };
    best_of(import_cmds, 3, rounds, b);
    small_run = run(imp_small);
    report("vsbox import kvm", cap, capture_lines + 1, b, 0.05);
    printf("  peak memory %ld KB at %lu lines, %ld KB at %lu\n\n", small_run.max_rss_kb,
           capture_lines / 10, b[2].max_rss_kb, capture_lines);
    printf("ratios: replay %.3fx wc -l (cpu %.3fx; >= 0.15), import kvm %.3fx wc -l "
           "(cpu %.3fx; >= 0.05)\n",
           replay_ratio, replay_cpu, b[0].seconds / b[2].seconds, b[0].cpu / b[2].cpu);
    if (!getenv("BENCH_KEEP")) {
        remove(big);
        remove(small);
        remove(cap);
        remove(capsmall);
    }
    return 0;
}
