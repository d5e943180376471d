/* Every capture of traces/kvm/ replayed against the KVM host with the QEMU flags its
 * guest had, as far as the capture shows them (each file's header says what its source
 * names). What each answer should be is read off the capture and Linux's hyperv.c /
 * QEMU's kvm.c by hand; the Xen comparisons follow Xen 4.22's viridian rules. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/support.h"

/* Import a capture (with an optional --pid) into the test's directory; the trace's path. */
static const char *imported(const char *capture, const char *pid, const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    const char *args[] = { "import", "kvm", src_path(capture), "-o", path,
                           pid ? "--pid" : NULL, pid, NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    return path;
}

static struct run_result replay(const char *path, const char *host, const char *flag,
                                const char *spec)
{
    const char *args[] = { "replay", path, "--host", host, "--causes", flag, spec, NULL };
    return run_vsbox(args, NULL);
}

/* "FILE: N events, D divergences" on standard error. */
static void expect_summary(const struct run_result *r, const char *path, unsigned events,
                           unsigned divergences)
{
    char want[1200];
    snprintf(want, sizeof want, "%s: %u event%s, %u divergence%s\n", path, events,
             events == 1 ? "" : "s", divergences, divergences == 1 ? "" : "s");
    cr_expect(strstr(r->err, want), "want '%s' in '%s'", want, r->err);
}

static const char synic[] = "traces/kvm/synic-kdnet-scontrol-simp.txt";

/* Windows 10 with KDNET on QEMU with hv-synic (which QEMU refuses without hv-vpindex): both
 * runs replay with no divergence. KVM answers SCONTROL and SIMP once the SynIC is active,
 * and a SIMP in guest RAM is taken. */
Test(kvm_corpus, the_windows_synic_capture_replays_clean_on_kvm_with_synic)
{
    const char *pids[] = { "613", "656" };
    const unsigned events[] = { 4, 10 };
    for (int i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "synic-%s.trace", pids[i]);
        const char *path = imported(synic, pids[i], name);
        struct run_result r = replay(path, "kvm", "--hv", "hv-vpindex,hv-synic");
        cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_expect_str_empty(r.out);
        expect_summary(&r, path, events[i], 0);
        run_result_free(&r);
    }
}

/* The same run against Xen 4.22 with libxl's defaults (which leave out synic): every
 * SynIC access is a #GP there (viridian_synic_rdmsr/wrmsr without HVMPV_synic), named with
 * the group that fixes it. With the synic group Xen 4.22 answers as KVM did. */
Test(kvm_corpus, the_windows_synic_capture_against_xen_names_the_synic_group)
{
    const char *path = imported(synic, "656", "synic-xen.trace");
    struct run_result r = replay(path, "xen-4.22", "--viridian", "defaults");
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    char want[2000];
    snprintf(want, sizeof want, "%s: 10 divergences, by cause:\n"
             "       4  HV_X64_MSR_SIMP (0x40000083) read: captured 0x0, we answer #GP "
             "(enable `synic`); lines 4, 8, 10, 12\n"
             "       4  HV_X64_MSR_SIMP (0x40000083) write: the capture's hypervisor took it "
             "(0x7fffe001 first), we answer #GP (enable `synic`); lines 5, 9, 11, 13\n"
             "       1  HV_X64_MSR_SCONTROL (0x40000080) read: captured 0x0, we answer #GP "
             "(enable `synic`); line 6\n"
             "       1  HV_X64_MSR_SCONTROL (0x40000080) write: the capture's hypervisor took "
             "it (0x1 first), we answer #GP (enable `synic`); line 7\n", path);
    cr_expect_str_eq(r.out, want);
    run_result_free(&r);
    r = replay(path, "xen-4.22", "--viridian", "defaults,synic");
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    run_result_free(&r);
}

/* On KVM without hv-synic the SynIC is not active: the same ten #GPs, one fix. */
Test(kvm_corpus, the_windows_synic_capture_on_kvm_without_synic_names_the_flag)
{
    const char *path = imported(synic, "656", "synic-nosynic.trace");
    struct run_result r = replay(path, "kvm", "--hv", "hv-relaxed,hv-vapic,hv-time");
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_expect_eq(count_lines_with(r.out, "we answer #GP (enable `hv-synic`"), 4, "%s", r.out);
    run_result_free(&r);
}

/* Bugzilla 220549: Windows Server 2022's EOI through HV_X64_MSR_EOI, which KVM takes once
 * Hyper-V is on (the report names no flag; hv-vapic is the one that advertises it). */
Test(kvm_corpus, the_eoi_capture_replays_clean_with_hv_vapic)
{
    const char *path = imported("traces/kvm/bugzilla-220549-hv-eoi-perf.txt", NULL, "eoi.trace");
    struct run_result r = replay(path, "kvm", "--hv", "hv-vapic");
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_summary(&r, path, 1, 0);
    run_result_free(&r);
    /* No enlightenment at all: KVM's hyperv_enabled is false and the write faults. */
    const char *args[] = { "replay", path, "--host", "kvm", "--causes", NULL };
    r = run_vsbox(args, NULL);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.out, "       1  no hv-* flag in this config"), "%s", r.out);
    run_result_free(&r);
}

/* Bugzilla 220549's two kvm_cpuid lines of KVM's own features leaf (no Hyper-V leaves):
 * A is QEMU's kvm_default_props (0x100407b) plus KVM_FEATURE_PV_UNHALT (bit 7); B adds
 * KVM_FEATURE_MSI_EXT_DEST_ID (bit 15). Each configuration answers its own line. */
Test(kvm_corpus, the_kvm_features_leaf_capture_names_the_kvm_flags)
{
    const char *path = imported("traces/kvm/bugzilla-220549-kvm-cpuid-leaf.txt", NULL,
                                "cpuid.trace");
    struct run_result r = replay(path, "kvm", "--hv", "kvm-pv-unhalt");
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    char want[1200];
    snprintf(want, sizeof want, "%s: 1 divergence, by cause:\n"
             "       1  CPUID 0x40000001 EAX bit 15 (KVM_FEATURE_MSI_EXT_DEST_ID): the capture "
             "advertised it, this config does not (enable `kvm-msi-ext-dest-id`); line 5\n",
             path);
    cr_expect_str_eq(r.out, want);
    run_result_free(&r);
    r = replay(path, "kvm", "--hv", "kvm-pv-unhalt,kvm-msi-ext-dest-id");
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "bit 15 (KVM_FEATURE_MSI_EXT_DEST_ID): this config advertises it, "
                            "the capture did not"), "%s", r.out);
    cr_expect(strstr(r.out, "; line 4\n"), "%s", r.out);
    run_result_free(&r);
}

/* The captures with nothing the model answers (architectural MSRs, a flush line without
 * its hypercall) import to comments: replay has no event to compare on any host. */
Test(kvm_corpus, the_architectural_captures_have_nothing_to_compare)
{
    static const char *const captures[][2] = {
        { "traces/kvm/microkvm-pmu-msr-gp.txt", "0" },
        { "traces/kvm/windows-hotplug-feature-control.txt", "hv-relaxed" },
        { "traces/kvm/ws2012-flush-tlb.txt", "hv-vpindex,hv-tlbflush" },
    };
    for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++) {
        const char *path = imported(captures[i][0], NULL, "arch.trace");
        struct run_result r = replay(path, "kvm", "--hv", captures[i][1]);
        cr_expect_eq(r.status, 0, "%s: %s%s", captures[i][0], r.out, r.err);
        expect_summary(&r, path, 0, 0);
        run_result_free(&r);
    }
}

/* import kvm --hv: the header names the KVM host and the guest's flags, canonically
 * (QEMU's order), and the trace replays clean with no flag given; flags QEMU would refuse
 * are one line, exit 2 and no file. */
Test(kvm_corpus, import_with_the_guests_flags_replays_alone)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/synic-hv.trace", test_tmpdir());
    const char *imp[] = { "import", "kvm", src_path(synic), "--pid", "656", "--hv",
                          "synic,vpindex", "-o", path, NULL };
    struct run_result r = run_vsbox(imp, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    char *text = slurp_file(path, NULL);
    cr_expect(strstr(text, "\nconfig host=kvm viridian=hv-vpindex,hv-synic vcpus=1\n"), "%s",
              text);
    free(text);
    const char *args[] = { "replay", path, NULL };
    r = run_vsbox(args, NULL);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_summary(&r, path, 10, 0);
    run_result_free(&r);

    snprintf(path, sizeof path, "%s/refused.trace", test_tmpdir());
    const char *bad[] = { "import", "kvm", src_path(synic), "--pid", "656", "--hv", "synic",
                          "-o", path, NULL };
    r = run_vsbox(bad, NULL);
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines_with(r.err, ""), 1, "%s", r.err);
    cr_expect(strstr(r.err, "requires Hyper-V VP_INDEX MSR (hv-vpindex)"), "%s", r.err);
    cr_expect_null(fopen(path, "r"));
    run_result_free(&r);
}
