/* The parts of the KVM importer: the prefix a tracing tool puts before an event
 * (import_kvm_line.c) and the arguments as KVM's TP_printk formats print them
 * (import_kvm_format.c). Not an API: traces/import_kvm.h is. */
#ifndef VSBOX_TRACES_IMPORT_KVM_INTERNAL_H
#define VSBOX_TRACES_IMPORT_KVM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kvm_line_kind {
    KVM_LINE_EVENT,   /* a tracepoint's line: the fields below */
    KVM_LINE_HEADER,  /* "# tracer: nop", "cpus=4", "version = 6", "CPU 2 is empty" */
    KVM_LINE_BLANK,
    KVM_LINE_OTHER,   /* anything else: prose around an excerpt, a wrapped tail */
};

/* One line cut into the fields every tool prints (all pointers into the line). */
struct kvm_line {
    const char *task;     /* "CPU 0/KVM", "qemu-system-x86"; task_len 0 when absent */
    size_t task_len;
    long pid;             /* the thread id (ftrace's PID, perf's TID); -1 when absent */
    long tgid;            /* the process, when the tool printed it; -1 otherwise */
    int cpu;              /* the physical CPU, [002]; -1 when absent */
    const char *ts;       /* "2360.123456"; ts_len 0 when absent */
    size_t ts_len;
    const char *system;   /* perf's "kvm" of "kvm:kvm_msr"; system_len 0 when absent */
    size_t system_len;
    const char *event;    /* "kvm_msr" */
    size_t event_len;
    const char *args;     /* what TP_printk printed, without leading or trailing blanks */
    size_t args_len;
};

/* trace-cmd report ("task-pid [cpu] [flags] ts: event: args"), ftrace's trace and
 * trace_pipe (the same, with optional "(tgid)" and flags), perf script ("task tid
 * [cpu] ts: sys:event: args"), and excerpts that kept only "event: args". */
enum kvm_line_kind kvm_split_line(const char *s, size_t len, struct kvm_line *out);

/* What a tracepoint's line carries for the importer. */
enum kvm_tp {
    KVM_TP_MSR,           /* kvm_msr: a guest RDMSR or WRMSR and KVM's answer */
    KVM_TP_CPUID,         /* kvm_cpuid: a guest CPUID and KVM's answer */
    KVM_TP_HYPERCALL,     /* kvm_hv_hypercall: a guest hypercall's input */
    KVM_TP_HYPERCALL_DONE,/* kvm_hv_hypercall_done: its status */
    KVM_TP_HV_MSR_WRITE,  /* kvm_hv_synic_set_msr, kvm_hv_stimer_set_*, kvm_hv_syndbg_set_msr */
    KVM_TP_HV_MSR_READ,   /* kvm_hv_syndbg_get_msr */
    KVM_TP_DETAIL,        /* kvm_hv_flush_tlb(_ex), kvm_hv_send_ipi(_ex): hypercall arguments */
    KVM_TP_VCPU,          /* no guest access, but names the vCPU (kvm_entry, kvm_hv_stimer_*) */
};

/* The values a format's conversions hold. */
enum kvm_field {
    KF_NONE, KF_WRITE, KF_MSR, KF_DATA, KF_GP, KF_LEAF, KF_SUBLEAF, KF_EAX, KF_EBX, KF_ECX,
    KF_EDX, KF_CODE, KF_FAST, KF_VAR_CNT, KF_REP_CNT, KF_REP_IDX, KF_IN, KF_OUT, KF_RESULT,
    KF_VCPU, KF_HOST, KF_TIMER, KF_CONFIG, KF_COUNT, KF_COUNT_
};

#define KVM_MAX_CONV 8

/* One way a kernel prints a tracepoint. */
struct kvm_format {
    const char *event;          /* the tracepoint */
    enum kvm_tp tp;
    const char *printk;         /* TP_printk's format string, as in arch/x86/kvm/trace.h */
    const char *alts[3];        /* what each %s may print, '|'-separated, "" allowed */
    bool prefix;                /* only the start matters (kvm_entry's rip, ...) */
    enum kvm_field fields[KVM_MAX_CONV]; /* what each conversion holds, in order */
    const char *kernels;        /* the Linux releases that print it (docs/kvm-import.md) */
};

struct kvm_args {
    const struct kvm_format *format;
    bool has[KF_COUNT_];
    uint64_t v[KF_COUNT_];      /* numbers; for %s, the index of the alternative */
    bool trailing;              /* text followed the arguments (an annotation) */
};

/* The formats of one tracepoint, newest first; NULL when it is not one the importer
 * knows (then *n is 0). */
const struct kvm_format *kvm_formats(const char *event, size_t len, size_t *n);

/* Match the arguments against the tracepoint's formats; false when none fits. */
bool kvm_match_args(const char *event, size_t event_len, const char *args, size_t len,
                    struct kvm_args *out);

/* The same with the tracepoint's formats already looked up (kvm_formats()). */
bool kvm_match_formats(const struct kvm_format *f, size_t n, const char *args, size_t len,
                       struct kvm_args *out);

/* Every format, for the documentation test. */
const struct kvm_format *kvm_format_table(size_t *n);

#endif
