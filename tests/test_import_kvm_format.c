/* traces/import_kvm_format.c: KVM's tracepoint arguments as the TP_printk formats of
 * arch/x86/kvm/trace.h print them. Each line below is written from the format string of
 * the release it names (read in the kernel sources and the patches on the kvm list,
 * docs/kvm-import.md); the values expected are read off the line by hand. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/support.h"
#include "traces/import_kvm_internal.h"

static struct kvm_args match(const char *event, const char *args)
{
    struct kvm_args a;
    cr_assert(kvm_match_args(event, strlen(event), args, strlen(args), &a), "%s: %s", event,
              args);
    return a;
}

static void no_match(const char *event, const char *args)
{
    struct kvm_args a;
    cr_expect_not(kvm_match_args(event, strlen(event), args, strlen(args), &a), "%s: %s",
                  event, args);
}

static void value(const struct kvm_args *a, enum kvm_field f, uint64_t want)
{
    cr_expect(a->has[f], "field %d missing", f);
    cr_expect_eq(a->v[f], want, "field %d: 0x%llx, want 0x%llx", f,
                 (unsigned long long)a->v[f], (unsigned long long)want);
}

Test(import_kvm_format, kvm_msr_reads_writes_and_the_faulting_forms)
{
    /* "msr_%s %x = 0x%llx%s": %s is "write" or "read", then " (#GP)" or "". */
    struct kvm_args a = match("kvm_msr", "msr_read 40000022 = 0x77359400");
    value(&a, KF_WRITE, 1); /* the alternative's index: "write|read" */
    value(&a, KF_MSR, 0x40000022);
    value(&a, KF_DATA, 0x77359400);
    value(&a, KF_GP, 1);    /* " (#GP)|": the empty one */
    a = match("kvm_msr", "msr_write 40000083 = 0xfa1001");
    value(&a, KF_WRITE, 0);
    value(&a, KF_DATA, 0xfa1001);
    /* trace_kvm_msr_read_ex(): the data printed for a faulting read is 0. */
    a = match("kvm_msr", "msr_read 1a6 = 0x0 (#GP)");
    value(&a, KF_MSR, 0x1a6);
    value(&a, KF_GP, 0);
    a = match("kvm_msr", "msr_write 1d9 = 0x4000 (#GP)");
    value(&a, KF_WRITE, 0);
    value(&a, KF_GP, 0);
    /* An excerpt re-aligned with more blanks is the same line. */
    a = match("kvm_msr", "msr_read  1a6 = 0x0    (#GP)");
    value(&a, KF_GP, 0);
    cr_expect_not(a.trailing);
    no_match("kvm_msr", "msr_read zz = 0x1");
    no_match("kvm_msr", "msr_peek 10 = 0x1");
    no_match("kvm_msr", "msr_read 10 = 0x10000000000000000"); /* wider than 64 bits */
}

Test(import_kvm_format, kvm_cpuid_in_its_three_generations)
{
    /* 5.7 on: "func %x idx %x rax %lx rbx %lx rcx %lx rdx %lx, cpuid entry %s%s" */
    struct kvm_args a = match("kvm_cpuid", "func 40000003 idx 0 rax 3fff rbx 2bf7 rcx 2 "
                                           "rdx 3ffbfe, cpuid entry found");
    value(&a, KF_LEAF, 0x40000003);
    value(&a, KF_SUBLEAF, 0);
    value(&a, KF_EAX, 0x3fff);
    value(&a, KF_EBX, 0x2bf7);
    value(&a, KF_ECX, 2);
    value(&a, KF_EDX, 0x3ffbfe);
    a = match("kvm_cpuid", "func d idx 1 rax 0 rbx 0 rcx 0 rdx 0, cpuid entry not found, "
                           "used max basic");
    value(&a, KF_SUBLEAF, 1);
    /* 4.x-5.6: no idx, "cpuid entry %s". */
    a = match("kvm_cpuid", "func 40000000 rax 40000005 rbx 7263694d rcx 666f736f rdx 76482074, "
                           "cpuid entry found");
    value(&a, KF_LEAF, 0x40000000);
    value(&a, KF_EBX, 0x7263694d);
    cr_expect_not(a.has[KF_SUBLEAF]);
    /* 2.6.32-4.8: "func %x rax %lx rbx %lx rcx %lx rdx %lx". */
    a = match("kvm_cpuid", "func 40000001 rax 31237648 rbx 0 rcx 0 rdx 0");
    value(&a, KF_EAX, 0x31237648);
    cr_expect_not(a.has[KF_SUBLEAF]);
    no_match("kvm_cpuid", "func 40000001 idx 0 rax 10040fb rbx 0 rcx 0 rdx 0,");
}

Test(import_kvm_format, kvm_hv_hypercall_before_and_after_var_cnt_and_its_result)
{
    /* 5.17 on: "code 0x%x %s var_cnt 0x%x rep_cnt 0x%x idx 0x%x in 0x%llx out 0x%llx" */
    struct kvm_args a = match("kvm_hv_hypercall", "code 0x14 slow var_cnt 0x2 rep_cnt 0x3 "
                                                  "idx 0x1 in 0x7ffe0000 out 0x0");
    value(&a, KF_CODE, 0x14);
    value(&a, KF_FAST, 1); /* "fast|slow" */
    value(&a, KF_VAR_CNT, 2);
    value(&a, KF_REP_CNT, 3);
    value(&a, KF_REP_IDX, 1);
    value(&a, KF_IN, 0x7ffe0000);
    value(&a, KF_OUT, 0);
    /* until 5.16: "code 0x%x %s cnt 0x%x idx 0x%x in 0x%llx out 0x%llx" */
    a = match("kvm_hv_hypercall", "code 0x8 fast cnt 0x0 idx 0x0 in 0x0 out 0x0");
    value(&a, KF_CODE, 8);
    value(&a, KF_FAST, 0);
    cr_expect_not(a.has[KF_VAR_CNT]);
    a = match("kvm_hv_hypercall_done", "result 0x2");
    value(&a, KF_RESULT, 2);
}

Test(import_kvm_format, the_hyper_v_msr_events_with_their_vcpu_and_host_flag)
{
    struct kvm_args a = match("kvm_hv_synic_set_msr", "vcpu_id 0 msr 0x40000083 data 0xfa1001 "
                                                      "host 0");
    value(&a, KF_VCPU, 0);
    value(&a, KF_MSR, 0x40000083);
    value(&a, KF_DATA, 0xfa1001);
    value(&a, KF_HOST, 0);
    a = match("kvm_hv_stimer_set_config", "vcpu_id 3 timer 2 config 0x30003 host 0");
    value(&a, KF_VCPU, 3);
    value(&a, KF_TIMER, 2);
    value(&a, KF_CONFIG, 0x30003);
    a = match("kvm_hv_stimer_set_count", "vcpu_id 1 timer 0 count 100000 host 1");
    value(&a, KF_COUNT, 100000); /* %llu: decimal */
    value(&a, KF_HOST, 1);
    a = match("kvm_hv_syndbg_get_msr", "vcpu_id 0 vp_index 0 msr 0x400000f4 data 0x1");
    value(&a, KF_MSR, 0x400000f4);
    value(&a, KF_DATA, 1);
}

Test(import_kvm_format, flush_and_ipi_arguments_with_and_without_l2)
{
    match("kvm_hv_flush_tlb", "processor_mask 0x0 address_space 0x0 flags 0x2");
    match("kvm_hv_flush_tlb", "processor_mask 0x3 address_space 0x1234000 flags 0x0 (L2)");
    match("kvm_hv_flush_tlb_ex", "valid_bank_mask 0x1 format 0x1 address_space 0x0 flags 0x3");
    match("kvm_hv_send_ipi", "vector f3 processor_mask 0xe");
    match("kvm_hv_send_ipi_ex", "vector f3 format 1 valid_bank_mask 0x1");
    no_match("kvm_hv_send_ipi", "vector f3");
}

Test(import_kvm_format, kvm_entry_and_kvm_exit_give_the_vcpu_whatever_follows)
{
    struct kvm_args a = match("kvm_entry", "vcpu 1, rip 0xffffffff8100007d");
    value(&a, KF_VCPU, 1);
    a = match("kvm_entry", "vcpu 7");
    value(&a, KF_VCPU, 7);
    a = match("kvm_exit", "vcpu 1 reason MSR_READ rip 0xffffffff81000130 info1 0x0");
    value(&a, KF_VCPU, 1);
    /* Before 4.8 kvm_exit named no vCPU. */
    no_match("kvm_exit", "reason MSR_WRITE rip 0xfffff80653f32daf info 0 0");
    /* The VMX preemption timer prints its vcpu_id in hex. */
    a = match("kvm_hv_timer_state", "vcpu_id a hv_timer 1");
    value(&a, KF_VCPU, 10);
}

Test(import_kvm_format, text_after_the_arguments_is_an_annotation)
{
    struct kvm_args a = match("kvm_msr", "msr_read 3a = 0x0        <debug_before_write>");
    cr_expect(a.trailing);
    value(&a, KF_DATA, 0);
    /* but not glued to a number */
    no_match("kvm_msr", "msr_read 3a = 0x0x");
}

Test(import_kvm_format, unknown_tracepoints_have_no_formats)
{
    size_t n = 99;
    cr_assert_null(kvm_formats("kvm_fpu", 7, &n));
    cr_assert_eq(n, 0);
    cr_assert_not_null(kvm_formats("kvm_cpuid", 9, &n));
    cr_assert_eq(n, 3);
    no_match("kvm_fpu", "load");
}

/* Every format row names its releases, and docs/kvm-import.md shows every format string. */
Test(import_kvm_format, every_format_is_dated_and_documented)
{
    FILE *f = fopen(src_path("docs/kvm-import.md"), "r");
    cr_assert_not_null(f);
    static char doc[1 << 17];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = '\0';
    fclose(f);
    size_t rows;
    const struct kvm_format *t = kvm_format_table(&rows);
    cr_assert_gt(rows, 20);
    for (size_t i = 0; i < rows; i++) {
        cr_expect(t[i].kernels && t[i].kernels[0], "%s: no releases", t[i].event);
        cr_expect(strstr(doc, t[i].printk), "docs/kvm-import.md lacks \"%s\" (%s)", t[i].printk,
                  t[i].event);
        cr_expect(strstr(doc, t[i].event), "docs/kvm-import.md lacks %s", t[i].event);
    }
}
