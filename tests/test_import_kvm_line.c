/* traces/import_kvm_line.c: the prefix each tracing tool prints before a tracepoint's
 * arguments. The lines are written by hand in each tool's layout (trace-cmd report,
 * ftrace trace/trace_pipe with 4, 5 and 7 flag columns and record-tgid, perf script)
 * and as excerpts in bug reports cut them; the fields expected are read off the line. */
#include <criterion/criterion.h>
#include <string.h>
#include "traces/import_kvm_internal.h"

static struct kvm_line split(const char *s, enum kvm_line_kind want)
{
    struct kvm_line l;
    cr_assert_eq(kvm_split_line(s, strlen(s), &l), want, "%s", s);
    return l;
}

static void field(const char *got, size_t len, const char *want, const char *what)
{
    cr_expect_eq(len, strlen(want), "%s: '%.*s', want '%s'", what, (int)len, got ? got : "",
                 want);
    if (len == strlen(want) && len)
        cr_expect(memcmp(got, want, len) == 0, "%s: '%.*s', want '%s'", what, (int)len, got,
                  want);
}

static void expect(const char *line, const char *task, long pid, long tgid, int cpu,
                   const char *ts, const char *event, const char *args)
{
    struct kvm_line l = split(line, KVM_LINE_EVENT);
    field(l.task, l.task_len, task, "task");
    cr_expect_eq(l.pid, pid, "pid %ld in %s", l.pid, line);
    cr_expect_eq(l.tgid, tgid, "tgid %ld in %s", l.tgid, line);
    cr_expect_eq(l.cpu, cpu, "cpu %d in %s", l.cpu, line);
    field(l.ts, l.ts_len, ts, "timestamp");
    field(l.event, l.event_len, event, "event");
    field(l.args, l.args_len, args, "args");
}

Test(import_kvm_line, trace_cmd_report_names_task_pid_cpu_and_time)
{
    expect("       CPU 0/KVM-3066  [002]  2360.123456: kvm_msr:              msr_read 40000020 "
           "= 0x123", "CPU 0/KVM", 3066, -1, 2, "2360.123456", "kvm_msr",
           "msr_read 40000020 = 0x123");
    /* trace-cmd report -l adds the latency flags between the CPU and the time. */
    expect("  qemu-kvm-1234  [001] d..1  1234.567890123: kvm_cpuid: func 40000000 rax 40000005 "
           "rbx 7263694d rcx 666f736f rdx 76482074", "qemu-kvm", 1234, -1, 1, "1234.567890123",
           "kvm_cpuid", "func 40000000 rax 40000005 rbx 7263694d rcx 666f736f rdx 76482074");
}

Test(import_kvm_line, ftrace_flags_of_four_five_and_seven_columns_are_skipped)
{
    expect("  qemu-system-x86-613   [000] .N..  1121.095592: kvm_hv_synic_set_msr: vcpu_id 0 "
           "msr 0x40000083 data 0x0 host 1", "qemu-system-x86", 613, -1, 0, "1121.095592",
           "kvm_hv_synic_set_msr", "vcpu_id 0 msr 0x40000083 data 0x0 host 1");
    expect(" qemu-system-x86-8397    [002] d....  1404.389509: kvm_msr: msr_read c0000080 = "
           "0xd01", "qemu-system-x86", 8397, -1, 2, "1404.389509", "kvm_msr",
           "msr_read c0000080 = 0xd01");
    expect("   CPU 4/KVM-17500   [002] .......   453.733745: kvm_msr: msr_read 3a = 0x0",
           "CPU 4/KVM", 17500, -1, 2, "453.733745", "kvm_msr", "msr_read 3a = 0x0");
}

Test(import_kvm_line, record_tgid_adds_the_process_in_parentheses)
{
    expect("     CPU 1/KVM-3067    (   3050) [003] d..2.  2360.2: kvm_msr: msr_write 40000070 "
           "= 0x0", "CPU 1/KVM", 3067, 3050, 3, "2360.2", "kvm_msr", "msr_write 40000070 = 0x0");
    expect("          <...>-3068    (-------) [001] ....  99.5: kvm_entry: vcpu 2", "<...>",
           3068, -1, 1, "99.5", "kvm_entry", "vcpu 2");
}

Test(import_kvm_line, perf_script_has_a_blank_before_the_thread_and_a_system_prefix)
{
    struct kvm_line l;
    expect("      CPU 0/KVM  655470 [011] 17156.779273:                        kvm:kvm_msr: "
           "msr_write 40000070 = 0x0", "CPU 0/KVM", 655470, -1, 11, "17156.779273", "kvm_msr",
           "msr_write 40000070 = 0x0");
    l = split(" qemu-system-x86  5530 [002]  7426.226009: kvm:kvm_entry: vcpu 0",
              KVM_LINE_EVENT);
    field(l.system, l.system_len, "kvm", "system");
    /* perf script -F comm,pid,tid,...: "pid/tid", the thread is what runs a vCPU. */
    expect("  qemu-system-x86 5529/5530 [002]  7426.226009: kvm:kvm_exit: vcpu 0 reason HLT",
           "qemu-system-x86", 5530, 5529, 2, "7426.226009", "kvm_exit", "vcpu 0 reason HLT");
}

Test(import_kvm_line, excerpts_without_the_prefix_still_name_the_event)
{
    expect(" kvm_hv_flush_tlb: processor_mask 0x0 address_space 0x0 flags 0x2", "", -1, -1, -1,
           "", "kvm_hv_flush_tlb", "processor_mask 0x0 address_space 0x0 flags 0x2");
    expect("kvm_msr: msr_read  1a6 = 0x0    (#GP)", "", -1, -1, -1, "", "kvm_msr",
           "msr_read  1a6 = 0x0    (#GP)");
    expect("   A@1451335: kvm:kvm_cpuid: func 40000001 idx 0 rax 10040fb", "", -1, -1, -1, "",
           "kvm_cpuid", "func 40000001 idx 0 rax 10040fb");
}

Test(import_kvm_line, an_event_cut_after_its_name_has_no_arguments)
{
    struct kvm_line l = split("      CPU 0/KVM  655470 [011] 17156.779273:            "
                              "            kvm:kvm_msr:", KVM_LINE_EVENT);
    field(l.event, l.event_len, "kvm_msr", "event");
    cr_assert_eq(l.args_len, 0);
}

Test(import_kvm_line, other_subsystems_keep_their_system_name)
{
    struct kvm_line l = split("          <idle>-0     [000]  2360.1: sched:sched_switch: "
                              "prev_comm=swapper", KVM_LINE_EVENT);
    field(l.system, l.system_len, "sched", "system");
    field(l.event, l.event_len, "sched_switch", "event");
}

Test(import_kvm_line, header_lines_of_each_tool_are_headers)
{
    const char *headers[] = {
        "# tracer: nop",
        "#           TASK-PID     CPU#  ||||   TIMESTAMP  FUNCTION",
        "#              | |         |   ||||      |         |",
        "cpus=4",
        "version = 6",
        "CPU 2 is empty",
        "CPU 0 data recorded at offset=0x577000",
        "# ========",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        split(headers[i], KVM_LINE_HEADER);
}

Test(import_kvm_line, prose_blank_lines_and_a_wrapped_tail_are_not_events)
{
    split("Choose Windows DebugEntry", KVM_LINE_OTHER);
    split("msr_write 40000070 = 0x0", KVM_LINE_OTHER);
    split("cpuid entry found", KVM_LINE_OTHER);
    split("   \t ", KVM_LINE_BLANK);
    split("", KVM_LINE_BLANK);
    /* "kvmfoo:" and "kvm_MSR:" are not tracepoint names. */
    split("kvmfoo: msr_read 1 = 0x0", KVM_LINE_OTHER);
    split("kvm_MSR: msr_read 1 = 0x0", KVM_LINE_OTHER);
}

Test(import_kvm_line, a_carriage_return_and_trailing_blanks_are_not_arguments)
{
    expect("  q-1 [000] 1.5: kvm_msr: msr_read 10 = 0x5  \r", "q", 1, -1, 0, "1.5", "kvm_msr",
           "msr_read 10 = 0x5");
}
