/* vsbox import kvm end to end, on the published captures of traces/kvm/ (each names its
 * source): the events, values and counts expected are read off the captures by hand,
 * and each imported trace is replayed against a Xen profile with the divergence causes
 * expected from Xen 4.5's rules. Replay against the KVM host: tests/test_kvm_corpus.c. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tests/support.h"

static struct run_result import(const char *capture, const char *a1, const char *a2)
{
    const char *args[] = { "import", "kvm", src_path(capture), a1, a2, NULL };
    return run_vsbox(args, NULL);
}

/* The trace's events and comments, without its header and the comments' provenance. */
static void expect_items(const char *trace, const char *const *want)
{
    const char *p = strstr(trace, "\nvsbox-trace 1\n");
    cr_assert_not_null(p, "%s", trace);
    p = strchr(p + 1, '\n') + 1;
    cr_assert(strncmp(p, "config ", 7) == 0, "%s", trace);
    p = strchr(p, '\n') + 1;
    size_t i = 0;
    for (; *p; i++) {
        const char *e = strchr(p, '\n');
        size_t len = (size_t)(e - p);
        /* an event's own comment ("  # t=...") is provenance, compared elsewhere */
        const char *c = strstr(p, "  # ");
        if (c && c < e && p[0] != '#')
            len = (size_t)(c - p);
        cr_assert(want[i], "more items than expected: '%.*s'", (int)len, p);
        cr_expect(strlen(want[i]) == len && memcmp(p, want[i], len) == 0,
                  "item %zu: '%.*s', want '%s'", i, (int)len, p, want[i]);
        p = e + 1;
    }
    cr_expect_null(want[i], "missing '%s'", want[i] ? want[i] : "");
}

#define LINES(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const char synic[] = "traces/kvm/synic-kdnet-scontrol-simp.txt";

Test(cli_import, two_guests_in_one_capture_need_a_pid)
{
    struct run_result r = import(synic, NULL, NULL);
    cr_assert_eq(r.status, 2, "%s", r.err);
    /* Line 18 is process 613's first guest SynIC write (vcpu_id 0); line 32 is 656's. */
    char want[1200];
    snprintf(want, sizeof want, "vsbox: %s:32: thread 656 runs vCPU 0, which thread 613 ran "
             "(line 18): two guests in one capture? pick one with --pid 613 or --pid 656\n",
             src_path(synic));
    cr_expect_str_eq(r.err, want);
    cr_expect_str_empty(r.out);
    run_result_free(&r);
}

Test(cli_import, the_synic_capture_of_the_second_run)
{
    struct run_result r = import(synic, "--pid", "656");
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* Process 656's guest accesses of SIMP (0x40000083) and SCONTROL (0x40000080), each
     * write shown twice (kvm_hv_synic_set_msr host 0, then kvm_msr): one event each. */
    expect_items(r.out, LINES("rdmsr 0x40000083 -> 0x0",
                              "wrmsr 0x40000083 0x7fffe001 -> ok",
                              "rdmsr 0x40000080 -> 0x0",
                              "wrmsr 0x40000080 0x1 -> ok",
                              "rdmsr 0x40000083 -> 0x7fffe001",
                              "wrmsr 0x40000083 0x0 -> ok",
                              "rdmsr 0x40000083 -> 0x0",
                              "wrmsr 0x40000083 0xfa1001 -> ok",
                              "rdmsr 0x40000083 -> 0xfa1001",
                              "wrmsr 0x40000083 0xfa1000 -> ok"));
    cr_expect(strstr(r.out, "\nconfig vcpus=1\n"), "%s", r.out);
    cr_expect(strstr(r.out, "wrmsr 0x40000083 0x7fffe001 -> ok  # t=1313.156680 "
                            "task=qemu-system-x86 pid=656 pcpu=1 vcpu=0 +kvm_hv_synic_set_msr\n"),
              "%s", r.out);
    /* 46 lines; 29 of a kvm tracepoint: 10 of 613's (filtered) and 19 of 656's (4 host
     * writes, 5 guest SynIC writes merged into 5 of its 10 kvm_msr lines). */
    cr_expect(strstr(r.err, ": 46 lines, 29 of a kvm tracepoint\n"), "%s", r.err);
    cr_expect(strstr(r.err, "kept        10 events (5 rdmsr, 5 wrmsr, 0 cpuid, 0 hypercall) "
                            "on 1 vCPU\n"), "%s", r.err);
    cr_expect(strstr(r.err, "  5           merged: kvm_hv_*_msr"), "%s", r.err);
    cr_expect(strstr(r.err, "  4           skipped: the VMM's own writes"), "%s", r.err);
    cr_expect(strstr(r.err, "  10          skipped: kvm lines of other threads"), "%s", r.err);
    run_result_free(&r);
}

Test(cli_import, the_synic_capture_replays_against_xen_with_its_causes)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/synic.trace", test_tmpdir());
    struct run_result r = import(synic, "--pid", "613");
    cr_assert_eq(r.status, 0, "%s", r.err);
    write_file(path, r.out, strlen(r.out));
    run_result_free(&r);
    const char *args[] = { "replay", path, "--host", "xen-4.12", "--viridian", "all",
                           "--causes", NULL };
    r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    /* Xen 4.12 has no SynIC (4.13 brought it) and faults a write no handler takes (4.11+):
     * each of SIMP's reads and writes is a #GP here. */
    char want[2000];
    snprintf(want, sizeof want, "%s: 4 divergences, by cause:\n"
             "       2  HV_X64_MSR_SIMP (0x40000083) read: captured 0x0, we answer #GP "
             "(vsbox's xen-4.12 has no such MSR); lines 4, 6\n"
             "       2  HV_X64_MSR_SIMP (0x40000083) write: the capture's hypervisor took it "
             "(0xfa1001 first), we answer #GP (vsbox's xen-4.12 has no such MSR); lines 5, 7\n",
             path);
    cr_expect_str_eq(r.out, want);
    run_result_free(&r);
    /* With viridian off one cause covers them all. */
    const char *off[] = { "replay", path, "--causes", NULL };
    r = run_vsbox(off, NULL);
    cr_expect(strstr(r.out, "       4  viridian is off in this config"), "%s", r.out);
    run_result_free(&r);
}

Test(cli_import, the_hotplug_capture_is_all_architectural_and_kept_as_comments)
{
    struct run_result r = import("traces/kvm/windows-hotplug-feature-control.txt", NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* 18 kvm_msr lines of MSR 0x3a on vCPUs 0-4 (QEMU's "CPU n/KVM" threads). */
    cr_expect_eq(count_lines_with(r.out, "# not modelled: "), 18);
    cr_expect(strstr(r.out, "\n# not modelled: rdmsr 0x3a -> 0x0  (t=380.398695 task=CPU 0/KVM "
                            "pid=16856 pcpu=7 vcpu=0)\n"), "%s", r.out);
    cr_expect(strstr(r.out, "\n# not modelled: v3 wrmsr 0x3a 0x40005 -> ok  (t=380.398914 "
                            "task=CPU 3/KVM pid=16859 pcpu=1 vcpu=3)\n"), "%s", r.out);
    cr_expect(strstr(r.out, "\n# not modelled: v4 rdmsr 0x3a -> 0x0  (t=453.733745 task=CPU "
                            "4/KVM pid=17500 pcpu=2 vcpu=4)\n"), "%s", r.out);
    /* Five lines carry the author's notes after the arguments. */
    cr_expect(strstr(r.err, "  5           tolerated: kvm lines with text after"), "%s", r.err);
    run_result_free(&r);
}

Test(cli_import, the_ws2012_flush_line_has_no_hypercall_to_attach_to)
{
    struct run_result r = import("traces/kvm/ws2012-flush-tlb.txt", NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    expect_items(r.out, LINES("# kvm_hv_flush_tlb: processor_mask 0x0 address_space 0x0 "
                              "flags 0x2 (its kvm_hv_hypercall is not in the capture)"));
    run_result_free(&r);
}

Test(cli_import, the_microkvm_capture_shows_the_faulting_forms)
{
    struct run_result r = import("traces/kvm/microkvm-pmu-msr-gp.txt", NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *g = " (guessed: the thread named no vCPU))";
    char first[300], last[300];
    snprintf(first, sizeof first, "# not modelled: rdmsr 0x1a6 -> #GP  (t=15326.957001 "
             "task=microkvm pid=14196 pcpu=1 vcpu=0%s\n", g);
    snprintf(last, sizeof last, "# not modelled: wrmsr 0x1d9 0x4000 -> #GP  (t=15326.973053 "
             "task=microkvm pid=14196 pcpu=1 vcpu=0%s\n", g);
    cr_expect(strstr(r.out, first), "%s", r.out);
    cr_expect(strstr(r.out, last), "%s", r.out);
    cr_expect(strstr(r.out, "# not modelled: rdmsr 0x1d9 -> 0x0  "), "%s", r.out);
    cr_expect_eq(count_lines_with(r.out, "-> #GP"), 8);
    run_result_free(&r);
}

Test(cli_import, the_perf_capture_wrapped_by_bugzilla_is_rejoined)
{
    struct run_result r = import("traces/kvm/bugzilla-220549-hv-eoi-perf.txt", NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* kvm_entry's "vcpu 0" names the thread's vCPU; the EOI write to 0x40000070. */
    expect_items(r.out, LINES("wrmsr 0x40000070 0x0 -> ok"));
    cr_expect(strstr(r.out, "wrmsr 0x40000070 0x0 -> ok  # t=17156.779273 task=CPU 0/KVM "
                            "pid=655470 pcpu=11 vcpu=0\n"), "%s", r.out);
    cr_expect(strstr(r.err, "  13          tolerated: kvm lines wrapped onto the next line"),
              "%s", r.err);
    char path[1024];
    snprintf(path, sizeof path, "%s/eoi.trace", test_tmpdir());
    write_file(path, r.out, strlen(r.out));
    run_result_free(&r);
    /* HV_X64_MSR_EOI is in Xen's base group: replays clean with viridian on. */
    const char *on[] = { "replay", path, "--viridian", "1", NULL };
    r = run_vsbox(on, NULL);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    run_result_free(&r);
}

Test(cli_import, kvms_own_cpuid_leaf_differs_from_hyper_vs)
{
    struct run_result r = import("traces/kvm/bugzilla-220549-kvm-cpuid-leaf.txt", NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    expect_items(r.out, LINES("cpuid 0x40000001 0x0 -> 0x10040fb 0x0 0x0 0x0",
                              "cpuid 0x40000001 0x0 -> 0x100c0fb 0x0 0x0 0x0"));
    char path[1024];
    snprintf(path, sizeof path, "%s/cpuid.trace", test_tmpdir());
    write_file(path, r.out, strlen(r.out));
    run_result_free(&r);
    const char *args[] = { "replay", path, "--viridian", "1", "--causes", NULL };
    r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 1);
    /* Hyper-V's interface signature "Hv#1" is 0x31237648. */
    cr_expect(strstr(r.out, "       2  CPUID 0x40000001 EAX: the capture answered 0x10040fb, "
                            "this config 0x31237648 (\"Hv#1\"); lines 4, 5\n"), "%s", r.out);
    run_result_free(&r);
}

Test(cli_import, every_capture_in_the_corpus_names_its_source)
{
    DIR *d = opendir(src_path("traces/kvm"));
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", src_path("traces/kvm"), e->d_name);
        FILE *f = fopen(path, "r");
        char head[4096] = "";
        size_t len = fread(head, 1, sizeof head - 1, f);
        head[len] = '\0';
        fclose(f);
        cr_expect(strstr(head, "https://"), "%s names no source URL", e->d_name);
        n++;
    }
    closedir(d);
    cr_expect_geq(n, 6);
}

Test(cli_import, output_goes_to_a_file_whole_or_not_at_all)
{
    char out[1024];
    snprintf(out, sizeof out, "%s/o.trace", test_tmpdir());
    struct run_result r = import("traces/kvm/ws2012-flush-tlb.txt", "-o", out);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_str_empty(r.out);
    FILE *f = fopen(out, "r");
    cr_assert_not_null(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    cr_expect(strstr(text, "\nvsbox-trace 1\nconfig vcpus=1\n# kvm_hv_flush_tlb"), "%s", text);
    run_result_free(&r);

    /* Bad input: no file appears, and no temporary is left behind. */
    char bad[1024], out2[1024];
    snprintf(bad, sizeof bad, "%s/trace.dat", test_tmpdir());
    snprintf(out2, sizeof out2, "%s/o2.trace", test_tmpdir());
    write_file(bad, "\x17\x08\x44tracing6\n", 12);
    const char *args[] = { "import", "kvm", bad, "-o", out2, NULL };
    r = run_vsbox(args, NULL);
    cr_expect_eq(r.status, 2);
    char want[1200];
    snprintf(want, sizeof want, "vsbox: %s:1: a binary file, not text: for trace-cmd's "
             "trace.dat run 'trace-cmd report FILE', for perf.data 'perf script -i FILE'\n", bad);
    cr_expect_str_eq(r.err, want);
    struct stat st;
    cr_expect_neq(stat(out2, &st), 0, "an output file was left");
    DIR *d = opendir(test_tmpdir());
    for (struct dirent *e; (e = readdir(d));)
        cr_expect_null(strstr(e->d_name, "o2.trace."), "temporary %s left", e->d_name);
    closedir(d);
    run_result_free(&r);
}

Test(cli_import, the_output_file_gets_an_ordinary_mode)
{
    /* Written under a temporary name first, but not left 0600 as mkstemp makes it: a new
     * file is 0666 less the umask, a replaced one keeps its mode. */
    char out[1024];
    snprintf(out, sizeof out, "%s/mode.trace", test_tmpdir());
    mode_t mask = umask(022);
    struct run_result r = import("traces/kvm/ws2012-flush-tlb.txt", "-o", out);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    struct stat st;
    cr_assert_eq(stat(out, &st), 0);
    cr_expect_eq(st.st_mode & 07777, 0644, "mode %o", (unsigned)(st.st_mode & 07777));
    cr_assert_eq(chmod(out, 0640), 0);
    r = import("traces/kvm/ws2012-flush-tlb.txt", "-o", out);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    cr_assert_eq(stat(out, &st), 0);
    cr_expect_eq(st.st_mode & 07777, 0640, "mode %o", (unsigned)(st.st_mode & 07777));
    umask(mask);
}

Test(cli_import, standard_input_works_like_a_file)
{
    const char *args[] = { "import", "kvm", "-", NULL };
    struct run_result r = run_vsbox(args, "q-1 [000] 1.0: kvm_msr: msr_read 40000002 = 0x0\n");
    cr_assert_eq(r.status, 0, "%s", r.err);
    expect_items(r.out, LINES("rdmsr 0x40000002 -> 0x0"));
    run_result_free(&r);
}

static void expect_usage_error(const char *const *args, const char *msg)
{
    struct run_result r = run_vsbox(args, NULL);
    cr_expect_eq(r.status, 2, "%s", args[1] ? args[1] : "");
    cr_expect(strstr(r.err, msg), "stderr: %s", r.err);
    cr_expect_eq(count_lines_with(r.err, ""), 1, "%s", r.err);
    cr_expect_str_empty(r.out);
    run_result_free(&r);
}

Test(cli_import, bad_invocations_get_one_line)
{
    expect_usage_error(LINES("import"), "which capture?");
    expect_usage_error(LINES("import", "xen", "f"), "unknown capture format 'xen'");
    expect_usage_error(LINES("import", "kvm", "/nonexistent/x"), "cannot open");
    expect_usage_error(LINES("import", "kvm", "/"), "/: is a directory");
    expect_usage_error(LINES("import", "kvm", "x", "--pid", "12a"), "--pid takes up to");
    expect_usage_error(LINES("import", "kvm", "x", "--frob"), "unknown option '--frob'");
    expect_usage_error(LINES("import", "kvm", "x", "-o"), "-o needs a value");
    expect_usage_error(LINES("import", "kvm", "/dev/null"), "no KVM tracepoint in 0 lines");
}

Test(cli_import, help_explains_the_capture)
{
    struct run_result r = run_vsbox(LINES("import", "--help"), NULL);
    cr_assert_eq(r.status, 0);
    cr_expect(strstr(r.out, "trace-cmd record -e kvm:kvm_msr"), "%s", r.out);
    run_result_free(&r);
    /* The option table's lines, the same after the format's name. */
    r = run_vsbox(LINES("import", "kvm", "--help"), NULL);
    cr_assert_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage: vsbox import kvm FILE [OPTIONS]"), "%s", r.out);
    cr_expect(strstr(r.out, "--pid N,..."), "%s", r.out);
    cr_expect(strstr(r.out, "--task NAME"), "%s", r.out);
    run_result_free(&r);
}
