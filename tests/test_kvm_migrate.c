/* Moving a guest between Xen and KVM (vsbox migrate, snapshot + resume): what it would
 * see change, named. Expected values by hand: Xen 4.22's libxl defaults advertise CPUID
 * 0x40000003 EAX 0x872 (TIME_REF_COUNT 1, APIC_ACCESS 4, HYPERCALL 5, VP_INDEX 6,
 * FREQUENCY 11) and EDX 0x408 (DYNAMIC_PARTITIONING 3, GUEST_CRASH_MSR 10); the closest
 * QEMU set needs hv-time for the counter, which also brings REFERENCE_TSC (bit 9, QEMU's
 * hv-time property), and hv-frequencies adds EDX FREQUENCY_MSRS (bit 8). KVM's own
 * leaves ("KVMKVMKVM") sit at 0x40000100, where Xen's were. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "tests/support.h"

static void expect_change(const char *err, const char *what)
{
    char want[512];
    snprintf(want, sizeof want, "guest-visible change: %s\n", what);
    cr_expect(strstr(err, want), "want '%s' in:\n%s", want, err);
}

Test(kvm_migrate, xen_defaults_to_kvm_names_the_hypervisor_and_every_leaf)
{
    const char *args[] = { "migrate", "ref-time", "--from", "xen-4.22:defaults", "--to", "kvm",
                           "--at", "60", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.err, "note: kvm is another hypervisor: the guest runs there with "
                            "hv-relaxed,hv-vapic,hv-time,hv-crash,hv-vpindex,hv-frequencies,"
                            "hv-enforce-cpuid (the configuration closest to what it saw)"),
              "%s", r.err);
    expect_change(r.err, "the hypervisor's own leaves at 0x40000100 are KVM's now "
                         "(\"XenVMMXenVMM\" -> \"KVMKVMKVM\"; host xen-4.22 -> kvm)");
    expect_change(r.err, "CPUID 0x40000003 EAX changed 0x872 -> 0xa72");
    expect_change(r.err, "CPUID 0x40000003 EDX changed 0x408 -> 0x508");
    expect_change(r.err, "HV_X64_MSR_REFERENCE_TSC appeared");
    /* The reference counter stays one clock across the move. */
    cr_expect(strstr(r.out, "Test result: SUCCESS"), "%s", r.out);
    run_result_free(&r);
}

/* The destination's own flags decide (QEMU applies no stream value to CPUID): without
 * hv-time the counter the guest used is gone, and the guest says so. */
Test(kvm_migrate, the_destinations_own_flags_decide)
{
    const char *args[] = { "migrate", "ref-time", "--from", "xen-4.22:defaults", "--to",
                           "kvm:hv-relaxed,hv-enforce-cpuid", "--at", "60", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_expect_neq(r.status, 0, "%s%s", r.out, r.err);
    expect_change(r.err, "HV_X64_MSR_TIME_REF_COUNT disappeared");
    run_result_free(&r);
}

/* Back from KVM to Xen: KVM's own MSRs (answered without hv-enforce-cpuid whatever the
 * flags) are not Xen's. */
Test(kvm_migrate, kvm_to_xen_names_kvms_own_msrs)
{
    const char *args[] = { "migrate", "ref-time", "--from", "kvm:hv-relaxed,hv-vapic,hv-time,"
                           "hv-vpindex", "--to", "xen-4.22", "--at", "60", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_change(r.err, "the hypervisor's own leaves at 0x40000100 are Xen's now "
                         "(\"KVMKVMKVM\" -> \"XenVMMXenVMM\"; host kvm -> xen-4.22)");
    expect_change(r.err, "HV_X64_MSR_RESET disappeared");
    expect_change(r.err, "HV_X64_MSR_VP_RUNTIME disappeared");
    expect_change(r.err, "HV_X64_MSR_REENLIGHTENMENT_CONTROL disappeared");
    /* The SynIC was never active on the source: its MSRs are no change. */
    cr_expect_null(strstr(r.err, "HV_X64_MSR_SINT15"), "%s", r.err);
    run_result_free(&r);
}

Test(kvm_migrate, a_xen_snapshot_resumes_on_kvm_with_the_changes_named)
{
    char snap[1024];
    snprintf(snap, sizeof snap, "%s/rt.snap", test_tmpdir());
    const char *save[] = { "run", "ref-time", "--viridian", "defaults", "--save-at", "60",
                           "--snapshot", snap, NULL };
    struct run_result r = run_vsbox(save, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    run_result_free(&r);
    const char *resume[] = { "resume", snap, "--host", "kvm", "--hv", "hv-vpindex,hv-time",
                             NULL };
    r = run_vsbox(resume, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.err, "the guest runs there with hv-time,hv-vpindex (its own "
                            "configuration)"), "%s", r.err);
    expect_change(r.err, "CPUID 0x40000003 EAX changed 0x872 -> 0x262");
    run_result_free(&r);
    const char *strict[] = { "resume", snap, "--host", "kvm", "--hv", "hv-vpindex,hv-time",
                             "--strict", NULL };
    r = run_vsbox(strict, NULL);
    cr_expect_eq(r.status, 4, "%s%s", r.out, r.err);
    run_result_free(&r);
    const char *wrong[] = { "resume", snap, "--host", "kvm", "--viridian", "base", NULL };
    r = run_vsbox(wrong, NULL);
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines_with(r.err, "vsbox"), 1, "%s", r.err);
    run_result_free(&r);
}
