/* `vsbox import kvm`: a capture of Linux KVM's tracepoints - `trace-cmd report`, raw
 * ftrace text (trace_pipe) or `perf script` - turned into trace v1 events with KVM's
 * answers as their expected results (docs/kvm-import.md). The importer takes one line at
 * a time, keeps a bounded window of events still waiting for a part that comes later
 * (kvm_hv_hypercall_done, a kvm_msr write after kvm_hv_synic_set_msr), and never
 * allocates per line. */
#ifndef VSBOX_TRACES_IMPORT_KVM_H
#define VSBOX_TRACES_IMPORT_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "traces/trace.h"

#define KVM_IMPORT_MAX_PIDS 16

struct kvm_import_opts {
    long pids[KVM_IMPORT_MAX_PIDS]; /* keep threads with these pids, tids or tgids */
    size_t npids;                   /* 0: every thread */
    const char *task;               /* keep threads of this name ("name*": prefix); NULL: all */
};

/* What became of the lines, for the closing summary. */
struct kvm_import_stats {
    unsigned long lines;
    unsigned long kvm_lines;     /* lines of a kvm tracepoint */
    unsigned long rdmsr, wrmsr, cpuid, hypercall;  /* trace v1 events written */
    unsigned long not_modelled;  /* MSRs and CPUID leaves vsbox does not model: comments */
    unsigned long merged;        /* kvm_hv_*_msr events that described a kvm_msr access */
    unsigned long details;       /* flush/IPI arguments added to their hypercall */
    unsigned long host_writes;   /* kvm_hv_* "host 1": the VMM's writes, not the guest's */
    unsigned long kvm_other;     /* kvm events with no guest access in them (kvm_entry, ...) */
    unsigned long other_events;  /* events of other subsystems */
    unsigned long headers;       /* ftrace, trace-cmd and perf header lines */
    unsigned long other_lines;   /* text that is neither */
    unsigned long cut;           /* kvm events cut short (no arguments) */
    unsigned long rejoined;      /* ... whose arguments were the next line (wrapped mail) */
    unsigned long malformed;     /* kvm events whose arguments match no known format */
    unsigned long annotated;     /* kvm events with text after their arguments */
    unsigned long filtered;      /* left out by --pid or --task */
    unsigned long guessed;       /* events whose vCPU comes from thread order alone */
    unsigned long orphans;       /* hypercall results or arguments without their hypercall */
    unsigned long no_result;     /* hypercalls with no kvm_hv_hypercall_done (before 5.15) */
    unsigned long big_vcpu;      /* events of vCPUs beyond trace v1's 63 */
};

/* One thread the capture's events came from. */
struct kvm_import_thread {
    char task[32];
    long pid;          /* -1: the line did not say */
    int vcpu;          /* -1: none yet */
    bool guessed;      /* the vCPU number comes from the order the threads appeared in */
    unsigned long events;
};

struct kvm_import;

/* Called for each item of the output in capture order: events, and whole-line comments
 * for what vsbox does not model. Returns false to stop (a write error). */
typedef bool (*kvm_emit_fn)(void *ctx, const struct trace_item *item);

/* NULL when out of memory. */
struct kvm_import *kvm_import_new(const struct kvm_import_opts *opts, kvm_emit_fn emit,
                                  void *ctx);
void kvm_import_free(struct kvm_import *im);

/* One line of the capture, without its line end. TRACE_ERR for what is really an error
 * (a binary file, a second guest with no --pid, a write error), with err->line = line. */
enum trace_rc kvm_import_line(struct kvm_import *im, const char *text, size_t len,
                              unsigned line, struct trace_error *err);

/* The end of the capture: emits what was still waiting. TRACE_ERR when the capture held
 * no kvm event at all, or on a write error. */
enum trace_rc kvm_import_finish(struct kvm_import *im, struct trace_error *err);

const struct kvm_import_stats *kvm_import_stats(const struct kvm_import *im);
/* The trace header the events need: vcpus (highest vCPU + 1), and the guest TSC
 * frequency when the capture read HV_X64_MSR_TSC_FREQUENCY. */
void kvm_import_config(const struct kvm_import *im, struct trace_config *cfg);
/* The i-th thread seen, NULL past the end. */
const struct kvm_import_thread *kvm_import_thread(const struct kvm_import *im, size_t i);

#endif
