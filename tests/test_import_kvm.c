/* traces/import_kvm.c: what the importer makes of a capture's lines - the events and
 * KVM's answers, the vCPUs, what it merges, keeps as comments, skips and counts, and what
 * it refuses. The lines are written by hand from KVM's TP_printk formats; the events
 * expected are written in trace v1 by hand (docs/kvm-import.md, docs/trace-format.md). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "traces/import_kvm.h"

#define MAX_OUT 64

struct out {
    char lines[MAX_OUT][300];  /* "v1 rdmsr 0x40000022 -> 0x77359400" or "# comment" */
    char comments[MAX_OUT][300];
    unsigned line_no[MAX_OUT];
    int n;
    unsigned long emitted;
};

static bool collect(void *ctx, const struct trace_item *it)
{
    struct out *o = ctx;
    o->emitted++;
    if (o->n == MAX_OUT)
        return true;
    if (it->kind == TRACE_EVENT) {
        trace_format_line(o->lines[o->n], sizeof o->lines[0], &it->ev,
                          it->has_expect ? &it->expect : NULL, NULL);
        snprintf(o->comments[o->n], sizeof o->comments[0], "%s", it->comment);
    } else {
        snprintf(o->lines[o->n], sizeof o->lines[0], "# %s", it->comment);
    }
    o->line_no[o->n++] = it->line;
    return true;
}

struct result {
    struct out out;
    enum trace_rc rc;
    struct trace_error err;
    struct kvm_import_stats st;
    struct trace_config cfg;
};

static struct result import_opts(const char *const *lines, const struct kvm_import_opts *opts)
{
    struct result *r = calloc(1, sizeof *r);
    struct kvm_import *im = kvm_import_new(opts, collect, &r->out);
    cr_assert_not_null(im);
    unsigned n = 0;
    r->rc = TRACE_OK;
    for (; lines[n] && r->rc == TRACE_OK; n++)
        r->rc = kvm_import_line(im, lines[n], strlen(lines[n]), n + 1, &r->err);
    if (r->rc == TRACE_OK)
        r->rc = kvm_import_finish(im, &r->err);
    r->st = *kvm_import_stats(im);
    kvm_import_config(im, &r->cfg);
    kvm_import_free(im);
    struct result copy = *r;
    free(r);
    return copy;
}

static struct result import(const char *const *lines)
{
    struct kvm_import_opts none = { 0 };
    return import_opts(lines, &none);
}

static void expect_lines(const struct result *r, const char *const *want)
{
    cr_assert_eq(r->rc, TRACE_OK, "%u: %s", r->err.line, r->err.msg);
    int n = 0;
    for (; want[n]; n++) {
        cr_assert_lt(n, r->out.n, "only %d items; missing '%s'", r->out.n, want[n]);
        cr_expect_str_eq(r->out.lines[n], want[n], "item %d", n);
    }
    cr_expect_eq(r->out.n, n, "%d items, want %d (extra: '%s')", r->out.n, n,
                 r->out.n > n ? r->out.lines[n] : "");
}

#define LINES(...) ((const char *const[]){ __VA_ARGS__, NULL })

Test(import_kvm, msr_reads_and_writes_become_events_with_kvms_answers)
{
    struct result r = import(LINES(
        "  CPU 0/KVM-100 [001] .... 10.000001: kvm_msr: msr_read 40000022 = 0x77359400",
        "  CPU 0/KVM-100 [001] .... 10.000002: kvm_msr: msr_write 40000000 = 0x1040601001db0",
        "  CPU 0/KVM-100 [001] .... 10.000003: kvm_msr: msr_read 40000021 = 0x0 (#GP)",
        "  CPU 0/KVM-100 [001] .... 10.000004: kvm_msr: msr_write 40000070 = 0x0 (#GP)"));
    expect_lines(&r, LINES("rdmsr 0x40000022 -> 0x77359400",
                           "wrmsr 0x40000000 0x1040601001db0 -> ok",
                           "rdmsr 0x40000021 -> #GP",
                           "wrmsr 0x40000070 0x0 -> #GP"));
    cr_expect_eq(r.st.rdmsr, 2);
    cr_expect_eq(r.st.wrmsr, 2);
    /* Where each came from, for the reader of the trace. */
    cr_expect_str_eq(r.out.comments[0], "t=10.000001 task=CPU 0/KVM pid=100 pcpu=1 vcpu=0");
    cr_expect_eq(r.out.line_no[3], 4);
}

Test(import_kvm, the_tsc_frequency_kvm_told_the_guest_goes_into_the_header)
{
    /* 3 GHz: HV_X64_MSR_TSC_FREQUENCY is in Hz, tsc_khz in kHz. */
    struct result r = import(LINES("q-7 [000] 1.0: kvm_msr: msr_read 40000022 = 0xb2d05e00"));
    cr_assert_eq(r.rc, TRACE_OK);
    cr_expect(r.cfg.have & TRACE_HAVE_TSC_KHZ);
    cr_expect_eq(r.cfg.tsc_khz, 3000000);
    r = import(LINES("q-7 [000] 1.0: kvm_msr: msr_read 40000022 = 0x0 (#GP)"));
    cr_expect_not(r.cfg.have & TRACE_HAVE_TSC_KHZ);
}

Test(import_kvm, cpuid_of_every_generation_gives_the_four_registers)
{
    struct result r = import(LINES(
        "q-7 [000] 1.0: kvm_cpuid: func 40000003 idx 0 rax 3fff rbx 2bf7 rcx 2 rdx 3ffbfe, "
        "cpuid entry found",
        "q-7 [000] 1.1: kvm_cpuid: func 40000004 idx 0 rax 40d2c rbx ffffffff rcx 0 rdx 0, "
        "cpuid entry found",
        "q-7 [000] 1.2: kvm_cpuid: func 40000000 rax 40000005 rbx 7263694d rcx 666f736f "
        "rdx 76482074, cpuid entry found",
        "q-7 [000] 1.3: kvm_cpuid: func 40000001 rax 31237648 rbx 0 rcx 0 rdx 0"));
    expect_lines(&r, LINES("cpuid 0x40000003 0x0 -> 0x3fff 0x2bf7 0x2 0x3ffbfe",
                           "cpuid 0x40000004 0x0 -> 0x40d2c 0xffffffff 0x0 0x0",
                           "cpuid 0x40000000 0x0 -> 0x40000005 0x7263694d 0x666f736f 0x76482074",
                           "cpuid 0x40000001 0x0 -> 0x31237648 0x0 0x0 0x0"));
    cr_expect(strstr(r.out.comments[2], "no subleaf before Linux 5.7"), "%s", r.out.comments[2]);
}

Test(import_kvm, what_vsbox_does_not_model_is_kept_as_a_comment)
{
    struct result r = import(LINES(
        "q-7 [000] 1.0: kvm_msr: msr_read 1a6 = 0x0 (#GP)",
        "q-7 [000] 1.1: kvm_cpuid: func 1 idx 0 rax a06d1 rbx 2100800 rcx f6fab223 "
        "rdx f8bfbff, cpuid entry found",
        "q-7 [000] 1.2: kvm_msr: msr_read 10 = 0x1234"));
    cr_assert_eq(r.rc, TRACE_OK);
    cr_assert_eq(r.out.n, 3);
    cr_expect(strncmp(r.out.lines[0], "# not modelled: rdmsr 0x1a6 -> #GP  (t=1.0 ", 43) == 0,
              "%s", r.out.lines[0]);
    cr_expect(strncmp(r.out.lines[1], "# not modelled: cpuid 0x1 0x0 -> 0xa06d1 0x2100800 "
                      "0xf6fab223 0xf8bfbff  (", 71) == 0, "%s", r.out.lines[1]);
    /* IA32_TIME_STAMP_COUNTER is in the model's table: an event. */
    cr_expect_str_eq(r.out.lines[2], "rdmsr 0x10 -> 0x1234");
    cr_expect_eq(r.st.not_modelled, 2);
}

Test(import_kvm, a_hypercall_takes_its_status_from_kvm_hv_hypercall_done)
{
    /* The TLFS hypercall input value: code | fast << 16 | var_cnt << 17 | rep_cnt << 32 |
     * rep_idx << 48. 0x14 | 2 << 17 | 3 << 32 | 1 << 48 = 0x0001000300040014. */
    struct result r = import(LINES(
        "CPU 1/KVM-8 [002] d..1 5.0: kvm_hv_hypercall: code 0x14 slow var_cnt 0x2 rep_cnt 0x3 "
        "idx 0x1 in 0x7ffe0000 out 0x0",
        "CPU 1/KVM-8 [002] d..1 5.0: kvm_hv_flush_tlb_ex: valid_bank_mask 0x1 format 0x1 "
        "address_space 0x0 flags 0x3",
        "CPU 1/KVM-8 [002] d..1 5.1: kvm_hv_hypercall_done: result 0x0",
        "CPU 1/KVM-8 [002] d..1 5.2: kvm_hv_hypercall: code 0x8 fast var_cnt 0x0 rep_cnt 0x0 "
        "idx 0x0 in 0x0 out 0x0",
        "CPU 1/KVM-8 [002] d..1 5.3: kvm_hv_hypercall_done: result 0x2"));
    expect_lines(&r, LINES("v1 hypercall 0x1000300040014 0x7ffe0000 0x0 -> 0x0",
                           "v1 hypercall 0x10008 0x0 0x0 -> 0x2"));
    cr_expect(strstr(r.out.comments[0], "kvm_hv_flush_tlb_ex: valid_bank_mask 0x1 format 0x1 "
                                        "address_space 0x0 flags 0x3"), "%s", r.out.comments[0]);
    cr_expect_eq(r.st.details, 1);
    cr_expect_eq(r.cfg.vcpus, 2);
}

Test(import_kvm, before_5_15_a_hypercall_has_no_status_to_compare)
{
    /* The old format: "code 0x%x %s cnt 0x%x idx 0x%x in 0x%llx out 0x%llx". */
    struct result r = import(LINES(
        "q-7 [000] 1.0: kvm_hv_hypercall: code 0x2 slow cnt 0x0 idx 0x0 in 0x1000 out 0x0",
        "q-7 [000] 1.1: kvm_msr: msr_read 40000002 = 0x0"));
    expect_lines(&r, LINES("hypercall 0x2 0x1000 0x0", "rdmsr 0x40000002 -> 0x0"));
    cr_expect_eq(r.st.no_result, 1);
}

Test(import_kvm, a_synic_write_and_its_kvm_msr_line_are_one_event)
{
    struct result r = import(LINES(
        "q-613 [000] .... 1121.080722: kvm_hv_synic_set_msr: vcpu_id 0 msr 0x40000083 data 0x0 "
        "host 1",
        "q-613 [001] .... 1165.185255: kvm_hv_synic_set_msr: vcpu_id 0 msr 0x40000083 "
        "data 0xfa1001 host 0",
        "q-613 [001] .... 1165.185255: kvm_msr: msr_write 40000083 = 0xfa1001",
        "q-613 [001] .... 1165.185300: kvm_hv_synic_set_msr: vcpu_id 0 msr 0x40000080 data 0x1 "
        "host 0",
        "q-613 [001] .... 1165.185301: kvm_msr: msr_write 40000080 = 0x1 (#GP)"));
    expect_lines(&r, LINES("wrmsr 0x40000083 0xfa1001 -> ok", "wrmsr 0x40000080 0x1 -> #GP"));
    cr_expect(strstr(r.out.comments[0], "+kvm_hv_synic_set_msr"), "%s", r.out.comments[0]);
    cr_expect_eq(r.st.merged, 2);
    cr_expect_eq(r.st.host_writes, 1);
}

Test(import_kvm, a_hyper_v_msr_write_without_its_kvm_msr_line_has_no_answer)
{
    /* Captured with -e 'kvm:kvm_hv_*' alone: the write is there, its outcome is not. */
    struct result r = import(LINES(
        "q-5 [000] 1.0: kvm_hv_stimer_set_config: vcpu_id 2 timer 1 config 0x30003 host 0",
        "q-5 [000] 1.1: kvm_hv_stimer_set_count: vcpu_id 2 timer 1 count 100000 host 0",
        "q-5 [000] 1.2: kvm_hv_syndbg_get_msr: vcpu_id 2 vp_index 2 msr 0x400000f4 data 0x7"));
    /* HV_X64_MSR_STIMER1_CONFIG 0x400000b2, STIMER1_COUNT 0x400000b3; count 100000 = 0x186a0 */
    expect_lines(&r, LINES("v2 wrmsr 0x400000b2 0x30003", "v2 wrmsr 0x400000b3 0x186a0",
                           "v2 rdmsr 0x400000f4 -> 0x7"));
}

Test(import_kvm, the_vcpu_comes_from_qemus_thread_name_kvm_entry_or_vcpu_id)
{
    struct result r = import(LINES(
        "CPU 3/KVM-13 [000] 1.0: kvm_msr: msr_read 40000002 = 0x3",
        "qemu-kvm-21 [001] 1.1: kvm_entry: vcpu 2",
        "qemu-kvm-21 [001] 1.2: kvm_msr: msr_read 40000002 = 0x2",
        "qemu-kvm-22 [002] 1.3: kvm_hv_synic_set_msr: vcpu_id 1 msr 0x40000084 data 0x0 host 0",
        "qemu-kvm-22 [002] 1.4: kvm_msr: msr_write 40000084 = 0x0"));
    expect_lines(&r, LINES("v3 rdmsr 0x40000002 -> 0x3", "v2 rdmsr 0x40000002 -> 0x2",
                           "v1 wrmsr 0x40000084 0x0 -> ok"));
    cr_expect_eq(r.cfg.vcpus, 4);
    cr_expect_eq(r.st.guessed, 0);
}

Test(import_kvm, a_thread_that_names_its_vcpu_later_gets_it_for_earlier_events)
{
    /* The first event waits (in a bounded window) until kvm_entry says vCPU 5. */
    struct result r = import(LINES("qemu-kvm-21 [001] 1.0: kvm_msr: msr_read 40000002 = 0x5",
                                   "qemu-kvm-21 [001] 1.1: kvm_entry: vcpu 5, rip 0xfff0"));
    expect_lines(&r, LINES("v5 rdmsr 0x40000002 -> 0x5"));
    cr_expect_eq(r.st.guessed, 0);
}

Test(import_kvm, threads_that_never_name_a_vcpu_get_numbers_in_order_and_say_so)
{
    struct result r = import(LINES("qemu-kvm-21 [001] 1.0: kvm_msr: msr_read 40000002 = 0x0",
                                   "qemu-kvm-22 [001] 1.1: kvm_msr: msr_read 40000002 = 0x1"));
    expect_lines(&r, LINES("rdmsr 0x40000002 -> 0x0", "v1 rdmsr 0x40000002 -> 0x1"));
    cr_expect_eq(r.st.guessed, 2);
    cr_expect(strstr(r.out.comments[1], "guessed"), "%s", r.out.comments[1]);
}

Test(import_kvm, two_processes_running_one_vcpu_are_two_guests_and_an_error)
{
    struct result r = import(LINES(
        "q-613 [000] 1.0: kvm_hv_synic_set_msr: vcpu_id 0 msr 0x40000083 data 0x1 host 0",
        "q-613 [000] 1.1: kvm_msr: msr_write 40000083 = 0x1",
        "q-656 [001] 2.0: kvm_hv_synic_set_msr: vcpu_id 0 msr 0x40000083 data 0x1 host 0"));
    cr_assert_eq(r.rc, TRACE_ERR);
    cr_expect_eq(r.err.line, 3);
    cr_expect_str_eq(r.err.msg, "thread 656 runs vCPU 0, which thread 613 ran (line 1): two "
                                "guests in one capture? pick one with --pid 613 or --pid 656");
}

Test(import_kvm, pid_and_task_pick_one_guest)
{
    const char *const *lines = LINES(
        "q-613 [000] 1.0: kvm_msr: msr_read 40000002 = 0x0",
        "  CPU 0/KVM-700  (   690) [001] 2.0: kvm_msr: msr_read 40000002 = 0x0",
        "q-656 [001] 3.0: kvm_msr: msr_read 40000001 = 0x0");
    struct kvm_import_opts o = { .pids = { 656 }, .npids = 1 };
    struct result r = import_opts(lines, &o);
    expect_lines(&r, LINES("rdmsr 0x40000001 -> 0x0"));
    cr_expect_eq(r.st.filtered, 2);
    o = (struct kvm_import_opts){ .pids = { 690 }, .npids = 1 }; /* the tgid */
    r = import_opts(lines, &o);
    expect_lines(&r, LINES("rdmsr 0x40000002 -> 0x0"));
    o = (struct kvm_import_opts){ .task = "CPU *" };
    r = import_opts(lines, &o);
    expect_lines(&r, LINES("rdmsr 0x40000002 -> 0x0"));
    o = (struct kvm_import_opts){ .task = "q" };
    r = import_opts(lines, &o);
    cr_expect_eq(r.out.n, 2);
}

Test(import_kvm, noise_is_counted_not_fatal)
{
    struct result r = import(LINES(
        "# tracer: nop",
        "cpus=2",
        "Some prose about the bug.",
        "",
        "q-7 [000] 1.0: sched_switch: prev_comm=q prev_pid=7",
        "q-7 [000] 1.1: kvm_exit: vcpu 0 reason MSR_READ rip 0x1",
        "q-7 [000] 1.2: kvm_fpu: load",
        "q-7 [000] 1.3: kvm_msr: msr_read zz = 0x1",
        "q-7 [000] 1.4: kvm_msr: msr_read 40000002 = 0x0   <- an annotation",
        "q-7 [000] 1.5: kvm_msr:",
        "q-7 [000] 1.6: kvm_cpuid: func 40000000 idx 0 rax 40000005 rbx 7263694d"));
    expect_lines(&r, LINES("rdmsr 0x40000002 -> 0x0"));
    cr_expect_eq(r.st.lines, 11);
    cr_expect_eq(r.st.headers, 2);
    cr_expect_eq(r.st.other_lines, 2);
    cr_expect_eq(r.st.other_events, 1);
    cr_expect_eq(r.st.kvm_other, 2);
    cr_expect_eq(r.st.malformed, 2);  /* "zz", and the cpuid cut short of its registers */
    cr_expect_eq(r.st.annotated, 1);
    cr_expect_eq(r.st.cut, 1);
}

Test(import_kvm, a_line_wrapped_by_mail_or_a_bug_tracker_is_rejoined)
{
    struct result r = import(LINES(
        "      CPU 0/KVM  655470 [011] 17156.779273:                        kvm:kvm_msr:",
        "msr_write 40000070 = 0x0",
        "   A@1451335: kvm:kvm_cpuid: func 40000001 idx 0 rax 10040fb rbx 0 rcx 0 rdx 0,",
        "cpuid entry found"));
    expect_lines(&r, LINES("wrmsr 0x40000070 0x0 -> ok",
                           "cpuid 0x40000001 0x0 -> 0x10040fb 0x0 0x0 0x0"));
    cr_expect_eq(r.st.rejoined, 2);
    cr_expect_eq(r.out.line_no[1], 3);
}

Test(import_kvm, hypercall_arguments_without_their_hypercall_are_a_comment)
{
    struct result r = import(LINES(
        " kvm_hv_flush_tlb: processor_mask 0x0 address_space 0x0 flags 0x2"));
    expect_lines(&r, LINES("# kvm_hv_flush_tlb: processor_mask 0x0 address_space 0x0 flags 0x2 "
                           "(its kvm_hv_hypercall is not in the capture)"));
    cr_expect_eq(r.st.orphans, 1);
}

Test(import_kvm, vcpus_beyond_trace_v1s_limit_are_left_out_and_counted)
{
    struct result r = import(LINES(
        "q-7 [000] 1.0: kvm_hv_synic_set_msr: vcpu_id 64 msr 0x40000084 data 0x0 host 0",
        "q-8 [000] 1.1: kvm_hv_synic_set_msr: vcpu_id 63 msr 0x40000084 data 0x0 host 0"));
    expect_lines(&r, LINES("v63 wrmsr 0x40000084 0x0"));
    cr_expect_eq(r.st.big_vcpu, 1);
}

Test(import_kvm, binary_captures_are_refused_with_the_command_that_reads_them)
{
    static const char dat[] = "\x17\x08\x44tracing6\0\0\0";
    struct kvm_import_opts none = { 0 };
    struct out o = { 0 };
    struct trace_error err;
    struct kvm_import *im = kvm_import_new(&none, collect, &o);
    cr_assert_eq(kvm_import_line(im, dat, sizeof dat - 1, 1, &err), TRACE_ERR);
    cr_expect(strstr(err.msg, "trace-cmd report"), "%s", err.msg);
    kvm_import_free(im);
    im = kvm_import_new(&none, collect, &o);
    cr_assert_eq(kvm_import_line(im, "PERFILE2h\0", 10, 1, &err), TRACE_ERR);
    cr_expect(strstr(err.msg, "perf script"), "%s", err.msg);
    kvm_import_free(im);
}

Test(import_kvm, a_file_with_no_kvm_event_is_an_error_at_its_end)
{
    struct result r = import(LINES("hello", "world"));
    cr_assert_eq(r.rc, TRACE_ERR);
    cr_expect_eq(r.err.line, 2);
    cr_expect(strstr(r.err.msg, "no KVM tracepoint in 2 lines"), "%s", r.err.msg);
}

Test(import_kvm, memory_stays_bounded_when_nothing_completes)
{
    /* 5000 hypercalls with no kvm_hv_hypercall_done: the window (1024) lets the oldest go
     * out as they are, in order; every one comes out. */
    static char lines[5000][120];
    static const char *ptrs[5001];
    for (int i = 0; i < 5000; i++) {
        snprintf(lines[i], sizeof lines[i], "q-7 [000] %d.0: kvm_hv_hypercall: code 0x%x slow "
                 "cnt 0x0 idx 0x0 in 0x0 out 0x0", i, i % 0x100);
        ptrs[i] = lines[i];
    }
    struct result r = import(ptrs);
    cr_assert_eq(r.rc, TRACE_OK, "%s", r.err.msg);
    cr_expect_eq(r.out.emitted, 5000);
    cr_expect_eq(r.st.hypercall, 5000);
    cr_expect_str_eq(r.out.lines[1], "hypercall 0x1 0x0 0x0");
}
