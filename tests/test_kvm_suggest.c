/* Divergence reports that name the fix on either hypervisor, and replay --suggest. The
 * expected fixes follow from the rules by hand: KVM's SynIC MSRs need hv-synic, which
 * QEMU refuses without hv-vpindex; Xen's need the synic group; the frequency MSRs are
 * Xen's freq group and QEMU's hv-frequencies (under hv-enforce-cpuid); Xen's APIC bus is
 * 100 MHz (APIC_BUS_CYCLE_NS 10) and KVM's 1 GHz, which no setting changes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "tests/support.h"

static const char *synic_trace(void)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/synic.trace", test_tmpdir());
    const char *args[] = { "import", "kvm", src_path("traces/kvm/synic-kdnet-scontrol-simp.txt"),
                           "--pid", "656", "-o", path, NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    return path;
}

/* A KVM guest (Windows' OS id) reading the frequency MSRs: 2 GHz TSC, 1 GHz APIC bus. */
static const char freq[] = "vsbox-trace 1\n"
                           "config vcpus=1\n"
                           "wrmsr 0x40000000 0x1040a00003839 -> ok\n"
                           "rdmsr 0x40000022 -> 0x77359400\n"
                           "rdmsr 0x40000023 -> 0x3b9aca00\n";

static const char *freq_trace(void)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/freq.trace", test_tmpdir());
    write_file(path, freq, strlen(freq));
    return path;
}

Test(kvm_causes, the_kvm_fix_names_what_the_flag_needs)
{
    const char *path = synic_trace();
    const char *args[] = { "replay", path, "--host", "kvm", "--hv", "hv-relaxed", "--causes",
                           NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.out, "       1  HV_X64_MSR_SCONTROL (0x40000080) read: captured 0x0, we "
                            "answer #GP (enable `hv-synic`, with the `hv-vpindex` it needs); "
                            "line 6\n"), "%s", r.out);
    run_result_free(&r);
}

Test(kvm_causes, the_frequency_msrs_name_freq_on_xen_and_hv_frequencies_on_kvm)
{
    const char *path = freq_trace();
    const char *xen[] = { "replay", path, "--viridian", "base,!freq", "--causes", NULL };
    struct run_result r = run_vsbox(xen, NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.out, "       1  HV_X64_MSR_TSC_FREQUENCY (0x40000022) read: captured "
                            "0x77359400, we answer #GP (enable `freq`); line 4\n"), "%s", r.out);
    /* Xen with freq answers 100 MHz: no group changes that. */
    cr_expect(strstr(r.out, "HV_X64_MSR_APIC_FREQUENCY (0x40000023) read: captured 0x3b9aca00, "
                            "we answer #GP (no viridian group of xen-4.22 changes it); line 5\n"),
              "%s", r.out);
    run_result_free(&r);
    const char *kvm[] = { "replay", path, "--host", "kvm", "--hv", "hv-enforce-cpuid,hv-relaxed",
                          "--causes", NULL };
    r = run_vsbox(kvm, NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.out, "       1  HV_X64_MSR_TSC_FREQUENCY (0x40000022) read: captured "
                            "0x77359400, we answer #GP (enable `hv-frequencies`); line 4\n"),
              "%s", r.out);
    cr_expect(strstr(r.out, "       1  HV_X64_MSR_APIC_FREQUENCY (0x40000023) read: captured "
                            "0x3b9aca00, we answer #GP (enable `hv-frequencies`); line 5\n"),
              "%s", r.out);
    run_result_free(&r);
}

/* replay --suggest on host; its exit status must be status and its output start with
 * the suggestion `first`, then have `then` (NULL: nothing more to check). */
static void expect_suggestion(const char *path, const char *host, int status, const char *first,
                              const char *then)
{
    const char *args[] = { "replay", path, "--suggest", "--host", host, NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, status, "%s%s", r.out, r.err);
    cr_expect(strncmp(r.out, first, strlen(first)) == 0, "want '%s' in '%s'", first, r.out);
    cr_expect(!then || strstr(r.out, then), "want '%s' in '%s'", then, r.out);
    run_result_free(&r);
}

Test(suggest, the_synic_capture_is_closest_to_vpindex_synic_on_kvm_and_synic_on_xen)
{
    const char *path = synic_trace();
    expect_suggestion(path, "kvm", 0, "closest on kvm: --hv hv-vpindex,hv-synic (0 of 10 events "
                      "still differ; ", NULL);
    expect_suggestion(path, "xen-4.22", 0, "closest on xen-4.22: --viridian base,synic (0 of 10 "
                      "events still differ; ", NULL);
    /* Xen 4.12 has no SynIC: nothing helps, the fewest groups win, and the report for that
     * configuration follows. */
    expect_suggestion(path, "xen-4.12", 1, "closest on xen-4.12: --viridian 0 (10 of 10 events "
                      "still differ; ", "      10  viridian is off in this config");
}

/* Bugzilla 220549's lines A and B differ in KVM_FEATURE_MSI_EXT_DEST_ID: no one
 * configuration answers both; the one with fewer flags wins the tie, and line 5 is left. */
Test(suggest, the_two_kvm_feature_leaves_leave_one_event)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/cpuid.trace", test_tmpdir());
    const char *imp[] = { "import", "kvm",
                          src_path("traces/kvm/bugzilla-220549-kvm-cpuid-leaf.txt"), "-o", path,
                          NULL };
    struct run_result r = run_vsbox(imp, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    expect_suggestion(path, "kvm", 1, "closest on kvm: --hv kvm-pv-unhalt (1 of 2 events still "
                      "differ; ", "(enable `kvm-msi-ext-dest-id`); line 5\n");
}

Test(suggest, bad_uses_are_one_line_and_exit_2)
{
    const char *path = freq_trace();
    const char *with_hv[] = { "replay", path, "--suggest", "--host", "kvm", "--hv", "hv-time",
                              NULL };
    struct run_result r = run_vsbox(with_hv, NULL);
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines_with(r.err, "vsbox"), 1, "%s", r.err);
    cr_expect(strstr(r.err, "leave out --viridian, --hv and --config"), "%s", r.err);
    cr_expect_str_empty(r.out);
    run_result_free(&r);
    const char *stdin_args[] = { "replay", "-", "--suggest", NULL };
    r = run_vsbox(stdin_args, freq);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "give a file, not -"), "%s", r.err);
    run_result_free(&r);
    const char *unknown[] = { "replay", path, "--suggest", "--host", "kvm-9", NULL };
    r = run_vsbox(unknown, NULL);
    cr_expect_eq(r.status, 2);
    cr_expect_str_empty(r.out);
    run_result_free(&r);
}

/* Of the flags whose removal gives the capture's answer the least change is named:
 * without hv-vpindex QEMU has no hv-synic either, but hv-synic alone is the fix. The
 * capture: QEMU with hv-vpindex only (EAX HYPERCALL 5 | VP_INDEX 6, EDX DYNAMIC
 * PARTITIONING 3). */
Test(kvm_causes, the_smallest_flag_change_is_named)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/leaf3.trace", test_tmpdir());
    const char text[] = "vsbox-trace 1\nconfig vcpus=1\ncpuid 0x40000003 0x0 -> 0x60 0x0 0x0 0x8\n";
    write_file(path, text, strlen(text));
    const char *args[] = { "replay", path, "--host", "kvm", "--hv", "hv-vpindex,hv-synic",
                           "--causes", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.out, "CPUID 0x40000003 EAX bit 2 (AccessSynicRegs): this config "
                            "advertises it, the capture did not (disable `hv-synic`); line 3\n"),
              "%s", r.out);
    cr_expect(strstr(r.out, "CPUID 0x40000003 EBX bit 4 (PostMessages): this config advertises "
                            "it, the capture did not (disable `hv-synic`); line 3\n"), "%s", r.out);
    run_result_free(&r);
}

/* --explain on the KVM host: KVM's rule and file, not Xen's. */
Test(kvm_causes, explain_names_kvms_rule_and_file)
{
    const char *path = freq_trace();
    const char *args[] = { "replay", path, "--host", "kvm", "--hv", "hv-enforce-cpuid,hv-relaxed",
                           "--explain", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.out, "HV_X64_MSR_TSC_FREQUENCY is advertised by hv-frequencies (off):"),
              "%s", r.out);
    cr_expect(strstr(r.out, "KVM_CAP_HYPERV_ENFORCE_CPUID"), "%s", r.out);
    cr_expect(strstr(r.out, "[linux: arch/x86/kvm/hyperv.c]"), "%s", r.out);
    cr_expect_null(strstr(r.out, "HVM_PARAM_VIRIDIAN"), "%s", r.out);
    run_result_free(&r);
}
