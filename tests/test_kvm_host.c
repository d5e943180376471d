/* The KVM host (--host kvm --hv FLAGS). Expected values are written by hand from:
 *   QEMU target/i386/kvm/kvm.c kvm_hyperv_properties[], hyperv_fill_cpuids() and
 *     kvm_hyperv_expand_features(); target/i386/cpu.c property defaults (hv-vendor-id,
 *     hv-version-id-*, hv-spinlocks, x-hv-max-vps); kvm-cpu.c kvm_default_props;
 *   Linux arch/x86/kvm/hyperv.c (kvm_hv_{get,set}_msr_common, hv_check_msr_access,
 *     hv_check_hypercall_access, kvm_hv_hypercall) and the stage tables of
 *     tools/testing/selftests/kvm/x86/hyperv_features.c, which run with
 *     KVM_CAP_HYPERV_ENFORCE_CPUID (QEMU's hv-enforce-cpuid);
 *   the TLFS for the CPUID bit numbers. Numbers are literal on purpose. */
#include <criterion/criterion.h>
#include <string.h>
#include "tests/support.h"
#include "viridian/hypercall.h"
#include "viridian/model.h"
#include "viridian/msr.h"
#include "viridian/profile.h"
#include "viridian/spec.h"

static struct test_ram ram;

static uint64_t flags(const char *spec)
{
    uint64_t mask = 0;
    struct vspec_error err;
    cr_assert_eq(vspec_parse(vprofile_kvm(), spec, &mask, &err), VERR_OK, "%s", spec);
    return mask;
}

static struct vmodel *kvm(const char *spec)
{
    memset(&ram, 0, sizeof ram);
    struct vconfig cfg = { .host = vprofile_kvm(), .viridian = flags(spec), .vcpus = 2,
                           .mem = test_ram_ops(&ram, false) };
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK, "%s", spec);
    return m;
}

static void leaf(struct vmodel *m, uint32_t l, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    uint32_t r[4];
    vmodel_cpuid(m, 0, l, 0, r);
    cr_expect_eq(r[0], a, "0x%x EAX 0x%x want 0x%x", l, r[0], a);
    cr_expect_eq(r[1], b, "0x%x EBX 0x%x want 0x%x", l, r[1], b);
    cr_expect_eq(r[2], c, "0x%x ECX 0x%x want 0x%x", l, r[2], c);
    cr_expect_eq(r[3], d, "0x%x EDX 0x%x want 0x%x", l, r[3], d);
}

static bool rd_ok(struct vmodel *m, uint32_t msr)
{
    uint64_t v;
    return vmodel_rdmsr(m, 0, msr, &v) == 0;
}

static bool wr_ok(struct vmodel *m, uint32_t msr, uint64_t val)
{
    return vmodel_wrmsr(m, 0, msr, val) == 0;
}

/* QEMU numbers its flags in enum hyperv_feat: relaxed 0, vapic 1, time 2 ... */
Test(kvm_spec, flags_take_qemu_names_old_spellings_and_bare_names)
{
    cr_assert_eq(flags("hv-relaxed,hv-vapic,hv-time"), 0x7);
    cr_assert_eq(flags("hv_relaxed,hv_vapic,hv_time"), 0x7);
    cr_assert_eq(flags("relaxed,vapic,time"), 0x7);
    /* vpindex 5, synic 7, stimer 8, frequencies 9 */
    cr_assert_eq(flags("time,vpindex,synic,stimer,frequencies"), 0x3a4);
    /* QEMU's property setters: the last setting wins. */
    cr_assert_eq(flags("hv-relaxed,hv-relaxed=off,hv-vapic=on"), 0x2);
    char text[256];
    vspec_format(vprofile_kvm(), flags("vpindex,synic,hv-spinlocks=0x1fff"), text, sizeof text);
    cr_assert_str_eq(text, "hv-vpindex,hv-synic,hv-spinlocks=0x1fff");
    cr_assert_eq(flags(text), flags("vpindex,synic,hv-spinlocks=0x1fff"));
}

/* kvm_hyperv_expand_features(): "Hyper-V %s requires Hyper-V %s" with the descs. */
Test(kvm_spec, a_flag_without_what_it_needs_is_refused_in_qemus_words)
{
    struct vspec_error err;
    uint64_t mask;
    char msg[256];
    cr_assert_eq(vspec_parse(vprofile_kvm(), "hv-synic", &mask, &err), VERR_HV_REQUIRES);
    vspec_strerror(&err, msg, sizeof msg);
    cr_assert_str_eq(msg, "Hyper-V synthetic interrupt controller (hv-synic) requires Hyper-V "
                          "VP_INDEX MSR (hv-vpindex)");
    cr_assert_eq(vspec_parse(vprofile_kvm(), "hv-vpindex,hv-synic,hv-stimer", &mask, &err),
                 VERR_HV_REQUIRES);
    vspec_strerror(&err, msg, sizeof msg);
    cr_assert_str_eq(msg, "Hyper-V synthetic timers (hv-stimer) requires Hyper-V clocksources "
                          "(hv-time)");
    cr_assert_eq(vspec_parse(vprofile_kvm(), "hv-relaxed,hv-bogus", &mask, &err),
                 VERR_UNKNOWN_GROUP);
    vspec_strerror(&err, msg, sizeof msg);
    cr_assert(strstr(msg, "unknown CPU flag 'hv-bogus'"), "%s", msg);
    cr_assert_eq(vspec_parse(vprofile_kvm(), "hv-spinlocks=lots", &mask, &err), VERR_HV_VALUE);
    /* Xen's group names are not QEMU's flags, and the reverse. */
    cr_assert_eq(vspec_parse(vprofile_kvm(), "base,freq", &mask, &err), VERR_UNKNOWN_GROUP);
    cr_assert_eq(vspec_parse(vprofile_default(), "hv-relaxed", &mask, &err),
                 VERR_UNKNOWN_GROUP);
}

/* hyperv_fill_cpuids() with QEMU's defaults: "Microsoft Hv", build 14393 (0x3839) of
 * 10.0, HV_HYPERCALL_AVAILABLE always, HV_CPU_DYNAMIC_PARTITIONING_AVAILABLE always,
 * spinlocks never-notify, x-hv-max-vps -1, 64 LPs; KVM's leaves behind at 0x40000100. */
Test(kvm_cpuid, relaxed_vapic_time_with_qemu_defaults)
{
    struct vmodel *m = kvm("hv-relaxed,hv-vapic,hv-time");
    leaf(m, 0x40000000, 0x40000005, 0x7263694d, 0x666f736f, 0x76482074); /* "Microsoft Hv" */
    leaf(m, 0x40000001, 0x31237648, 0, 0, 0);                            /* "Hv#1" */
    leaf(m, 0x40000002, 0x3839, 0x000a0000, 0, 0);
    /* EAX: TIME_REF_COUNT 1, APIC_ACCESS 4, HYPERCALL 5, REFERENCE_TSC 9 */
    leaf(m, 0x40000003, 0x232, 0, 0, 0x8);
    /* EAX: APIC_ACCESS_RECOMMENDED 3, RELAXED_TIMING_RECOMMENDED 5 */
    leaf(m, 0x40000004, 0x28, 0xffffffff, 0, 0);
    leaf(m, 0x40000005, 0xffffffff, 64, 0, 0);
    leaf(m, 0x40000100, 0x40000101, 0x4b4d564b, 0x564b4d56, 0x4d); /* "KVMKVMKVM" */
    vmodel_destroy(m);
}

Test(kvm_cpuid, synic_stimer_frequencies_and_the_recommendations)
{
    struct vmodel *m = kvm("hv-time,hv-vpindex,hv-synic,hv-stimer,hv-frequencies,hv-tlbflush,"
                           "hv-ipi,hv-crash,hv-reset,hv-runtime,hv-spinlocks=0x1fff");
    /* EAX: VP_RUNTIME 0, TIME_REF_COUNT 1, SYNIC 2, STIMER 3, HYPERCALL 5, VP_INDEX 6,
     * RESET 7, REFERENCE_TSC 9, FREQUENCY 11; EBX (SynIC, not kvm-only): PostMessages 4,
     * SignalEvents 5; EDX: DYNAMIC_PARTITIONING 3, FREQUENCY_MSRS 8, GUEST_CRASH_MSR 10. */
    leaf(m, 0x40000003, 0xaef, 0x30, 0, 0x508);
    /* REMOTE_TLB_FLUSH 2, CLUSTER_IPI 10, EX_PROCESSOR_MASKS 11; no vapic: no 3 */
    leaf(m, 0x40000004, 0xc04, 0x1fff, 0, 0);
    vmodel_destroy(m);
}

/* Without any enlightenment QEMU adds no Hyper-V leaves: KVM's own are at 0x40000000;
 * kvm=off removes them too. */
Test(kvm_cpuid, no_hv_flag_leaves_kvms_own_leaves_at_the_base)
{
    struct vmodel *m = kvm("0");
    leaf(m, 0x40000000, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);
    vmodel_destroy(m);
    m = kvm("hv-relaxed,kvm=off");
    leaf(m, 0x40000100, 0, 0, 0, 0);
    leaf(m, 0x40000001, 0x31237648, 0, 0, 0);
    vmodel_destroy(m);
}

/* hv-passthrough copies KVM's kvm_get_hv_cpuid(): "Linux KVM Hv", spinlocks 0xfff. */
Test(kvm_cpuid, passthrough_takes_kvms_identification)
{
    struct vmodel *m = kvm("hv-passthrough");
    uint32_t r[4];
    vmodel_cpuid(m, 0, 0x40000000, 0, r);
    cr_assert_eq(r[1], 0x756e694c); /* "Linu" */
    vmodel_cpuid(m, 0, 0x40000004, 0, r);
    cr_assert_eq(r[1], 0xfff);
    /* hv-syndbg is not among the flags passthrough enables (QEMU skips it). */
    vmodel_cpuid(m, 0, 0x40000003, 0, r);
    cr_assert_eq(r[3] & (1u << 11), 0);
    cr_assert_eq(r[0] & 0x2aff, 0x2aff);
    vmodel_destroy(m);
}

/* Without hv-enforce-cpuid KVM answers every Hyper-V MSR it has once the interface is
 * there (vcpu->arch.hyperv_enabled), whatever CPUID says; Xen gates each by its group. */
Test(kvm_msr, without_enforce_cpuid_every_msr_answers_once_hyperv_is_on)
{
    struct vmodel *m = kvm("hv-relaxed");
    uint64_t v;
    cr_assert_eq(vmodel_rdmsr(m, 0, 0x40000022, &v), 0); /* HV_X64_MSR_TSC_FREQUENCY */
    cr_assert_eq(v, 2000000000ull);                       /* virtual_tsc_khz * 1000 */
    cr_assert_eq(vmodel_rdmsr(m, 0, 0x40000023, &v), 0); /* APIC_FREQUENCY: 1 ns bus */
    cr_assert_eq(v, 1000000000ull);
    cr_assert(rd_ok(m, 0x40000020));                     /* TIME_REF_COUNT */
    cr_assert(rd_ok(m, 0x40000003));                     /* RESET, no hv-reset */
    cr_assert(rd_ok(m, 0x40000100));                     /* CRASH_P0, no hv-crash */
    cr_assert(rd_ok(m, 0x40000106));                     /* REENLIGHTENMENT_CONTROL */
    /* Read-only MSRs: "if (!host) return 1" on a guest write. */
    cr_assert_not(wr_ok(m, 0x40000002, 1));              /* VP_INDEX */
    cr_assert_not(wr_ok(m, 0x40000022, 1));              /* TSC_FREQUENCY */
    cr_assert_not(wr_ok(m, 0x40000010, 1));              /* VP_RUNTIME */
    /* The SynIC's MSRs need the SynIC active (KVM_CAP_HYPERV_SYNIC2, hv-synic). */
    cr_assert_not(rd_ok(m, 0x40000084));                 /* EOM */
    cr_assert_not(wr_ok(m, 0x400000b0, 0));              /* STIMER0_CONFIG */
    /* The synthetic debugger's need hv-syndbg. */
    cr_assert_not(rd_ok(m, 0x400000f2));                 /* SYNDBG_STATUS */
    vmodel_destroy(m);

    /* No Hyper-V at all: every synthetic MSR faults. */
    m = kvm("0");
    cr_assert_not(rd_ok(m, 0x40000000));
    cr_assert_not(wr_ok(m, 0x40000000, 0x1040a00003839ull));
    vmodel_destroy(m);

    /* The same guest on Xen 4.22 with base only: no TSC_FREQUENCY (freq is off). */
    struct vconfig cfg = { .host = vprofile_default(), .viridian = 0 };
    cr_assert_eq(vspec_parse(vprofile_default(), "base,!freq", &cfg.viridian, NULL), VERR_OK);
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    cr_assert_not(rd_ok(m, 0x40000022));
    cr_assert_not(rd_ok(m, 0x40000003));
    vmodel_destroy(m);
}

/* hyperv_features.c's MSR stages (KVM_CAP_HYPERV_ENFORCE_CPUID): each MSR faults until
 * its CPUID bit is set, which here is the QEMU flag that sets it. */
Test(kvm_msr, enforce_cpuid_follows_the_selftest_stages)
{
    struct vmodel *m = kvm("hv-enforce-cpuid,hv-relaxed");
    cr_assert(wr_ok(m, 0x40000000, 0x8100ull << 48)); /* GUEST_OS_ID: HYPERCALL_AVAILABLE */
    cr_assert(rd_ok(m, 0x40000001));
    cr_assert_not(rd_ok(m, 0x40000010));  /* stage 5: VP_RUNTIME */
    cr_assert_not(rd_ok(m, 0x40000020));  /* stage 8: TIME_REF_COUNT */
    cr_assert_not(rd_ok(m, 0x40000002));  /* stage 11: VP_INDEX */
    cr_assert_not(rd_ok(m, 0x40000003));  /* stage 14: RESET */
    cr_assert_not(rd_ok(m, 0x40000021));  /* stage 17: REFERENCE_TSC */
    cr_assert_not(rd_ok(m, 0x40000070) || wr_ok(m, 0x40000070, 1)); /* stage 29: EOI */
    cr_assert_not(rd_ok(m, 0x40000022));  /* stage 31: TSC_FREQUENCY */
    cr_assert_not(rd_ok(m, 0x40000106));  /* stage 34: REENLIGHTENMENT_CONTROL */
    cr_assert_not(rd_ok(m, 0x40000100));  /* stage 38: CRASH_P0 */
    cr_assert_not(rd_ok(m, 0x40000118));  /* stage 44: TSC_INVARIANT_CONTROL */
    vmodel_destroy(m);

    m = kvm("hv-enforce-cpuid,hv-runtime,hv-time,hv-vpindex,hv-reset,hv-vapic,hv-frequencies,"
            "hv-reenlightenment,hv-crash,hv-synic,hv-stimer");
    cr_assert(rd_ok(m, 0x40000010));              /* stage 6 */
    cr_assert_not(wr_ok(m, 0x40000010, 1));       /* stage 7: read only */
    cr_assert(rd_ok(m, 0x40000020));              /* stage 9 */
    cr_assert_not(wr_ok(m, 0x40000020, 1));       /* stage 10 */
    cr_assert(rd_ok(m, 0x40000002));              /* stage 12 */
    cr_assert_not(wr_ok(m, 0x40000002, 1));       /* stage 13 */
    cr_assert(rd_ok(m, 0x40000003));              /* stage 15 */
    cr_assert(wr_ok(m, 0x40000003, 0));           /* stage 16 */
    cr_assert(rd_ok(m, 0x40000021));              /* stage 18 */
    cr_assert(wr_ok(m, 0x40000021, 0));           /* stage 19 */
    cr_assert(rd_ok(m, 0x40000084));              /* stage 22: EOM */
    cr_assert(wr_ok(m, 0x40000084, 0));           /* stage 23 */
    cr_assert(rd_ok(m, 0x400000b0));              /* stage 25: STIMER0_CONFIG */
    cr_assert(wr_ok(m, 0x400000b0, 0));           /* stage 26 */
    cr_assert_not(wr_ok(m, 0x400000b0, 1u << 12)); /* stage 27: direct mode, no bit */
    cr_assert(wr_ok(m, 0x40000070, 1));           /* stage 30: EOI */
    cr_assert(rd_ok(m, 0x40000022));              /* stage 32 */
    cr_assert_not(wr_ok(m, 0x40000022, 1));       /* stage 33 */
    cr_assert(rd_ok(m, 0x40000106));              /* stage 35 */
    cr_assert(wr_ok(m, 0x40000106, 1));           /* stage 36 */
    cr_assert_not(wr_ok(m, 0x40000108, 1));       /* stage 37: status takes only 0 */
    cr_assert(rd_ok(m, 0x40000100));              /* stage 39 */
    cr_assert(wr_ok(m, 0x40000100, 1));           /* stage 40 */
    cr_assert_not(rd_ok(m, 0x40000118));          /* no QEMU flag sets TSC_INVARIANT */
    vmodel_destroy(m);

    m = kvm("hv-enforce-cpuid,hv-vpindex,hv-time,hv-synic,hv-stimer,hv-stimer-direct");
    cr_assert(wr_ok(m, 0x400000b0, 1u << 12));    /* stage 28 */
    vmodel_destroy(m);

    /* Stages 46-47 without enforcement (the MSR answers): only bit 0 may be written. */
    m = kvm("hv-relaxed");
    cr_assert_not(wr_ok(m, 0x40000118, 0xdeadbeef));
    cr_assert(wr_ok(m, 0x40000118, 1));
    vmodel_destroy(m);
}

static uint64_t hcall(struct vmodel *m, uint64_t control)
{
    uint64_t rax = 0xbad;
    cr_assert_eq(vmodel_hypercall(m, 0, control, 0x1000, 0x2000, &rax), 0, "0x%llx",
                 (unsigned long long)control);
    return rax & 0xffff;
}

static struct vmodel *kvm_guest(const char *spec)
{
    struct vmodel *m = kvm(spec);
    cr_assert(wr_ok(m, 0x40000000, 0x8100ull << 48)); /* HYPERV_LINUX_OS_ID */
    return m;
}

/* hyperv_features.c's hypercall stages, zeroed input at a page-aligned GPA. */
Test(kvm_hcall, enforce_cpuid_follows_the_selftest_stages)
{
    struct vmodel *m = kvm_guest("hv-enforce-cpuid,hv-relaxed");
    cr_assert_eq(hcall(m, 0xbeef), 0x0002);   /* stage 0: INVALID_HYPERCALL_CODE */
    cr_assert_eq(hcall(m, 0x005c), 0x0006);   /* stage 1: PostMessage, ACCESS_DENIED */
    cr_assert_eq(hcall(m, 0x005d), 0x0006);   /* stage 3: SignalEvent */
    cr_assert_eq(hcall(m, 0x0002), 0x0006);   /* stage 8: flush */
    cr_assert_eq(hcall(m, 0x0013), 0x0006);   /* stage 10: flush _EX */
    cr_assert_eq(hcall(m, 0x000b), 0x0006);   /* stage 12: IPI */
    cr_assert_eq(hcall(m, 0x0008), 0x0006);   /* stage 15: long spin wait, no spinlocks */
    cr_assert_eq(hcall(m, 0x8001), 0x0006);   /* stage 19: HvExtCallQueryCapabilities */
    vmodel_destroy(m);

    m = kvm_guest("hv-enforce-cpuid,hv-vpindex,hv-tlbflush,hv-ipi,hv-spinlocks=0x1fff");
    cr_assert_eq(hcall(m, 0x0002), 0x0000);   /* stage 9: SUCCESS */
    cr_assert_eq(hcall(m, 0x0013), 0x0000);   /* stage 11 */
    cr_assert_eq(hcall(m, 0x000b), 0x0003);   /* stage 13: vector 0, INVALID_INPUT */
    cr_assert_eq(hcall(m, 0x0015), 0x0000);   /* stage 14: empty sparse set */
    cr_assert_eq(hcall(m, 0x0008), 0x0000);   /* stage 16 */
    uint64_t rax;                             /* stage 17: XMM fast input, no bit: #UD */
    cr_assert_eq(vmodel_hypercall(m, 0, 0x0002 | 1ull << 16, 0, 0, &rax), -1);
    vmodel_destroy(m);

    m = kvm_guest("hv-enforce-cpuid,hv-vpindex,hv-tlbflush,hv-xmm-input");
    cr_assert_eq(hcall(m, 0x0002 | 1ull << 16), 0x0000); /* stage 18 */
    vmodel_destroy(m);

    /* hv-synic sets PostMessages and SignalEvents; with the SynIC active KVM hands both to
     * QEMU, which has no connection (no VMBus): INVALID_CONNECTION_ID, not ACCESS_DENIED. */
    m = kvm_guest("hv-enforce-cpuid,hv-vpindex,hv-synic");
    cr_assert_neq(hcall(m, 0x005c), 0x0006);
    cr_assert_neq(hcall(m, 0x005d), 0x0006);
    vmodel_destroy(m);
}

/* kvm_hv_hypercall_enabled(): without a guest OS id a VMCALL is KVM's own hypercall, and
 * the hypercall MSR keeps no page ("hypercall should remain disabled"). */
Test(kvm_hcall, no_guest_os_id_no_hyperv_hypercalls)
{
    struct vmodel *m = kvm("hv-relaxed");
    uint64_t rax = 0, v = 1;
    cr_assert_eq(vmodel_hypercall(m, 0, 0x0008, 0, 0, &rax), 0);
    cr_assert_eq(rax, (uint64_t)-1000); /* -KVM_ENOSYS */
    cr_assert(wr_ok(m, 0x40000001, 0x3001));
    cr_assert_eq(vmodel_rdmsr(m, 0, 0x40000001, &v), 0);
    cr_assert_eq(v, 0);
    vmodel_destroy(m);
}

/* The command line: bad flags are one line and exit 2; vsbox hosts and msrs show the
 * KVM rows. */
Test(kvm_cli, bad_flags_are_one_line_and_exit_2)
{
    static const char *const bad[][8] = {
        { "cpuid", "--host", "kvm", "--hv", "hv-relaxed,hv-bogus", NULL },
        { "cpuid", "--host", "kvm", "--hv", "hv-stimer", NULL },
        { "cpuid", "--host", "kvm", "--hv", "hv-spinlocks=-1", NULL },
        { "cpuid", "--host", "kvm", "--viridian", "all", NULL },
        { "cpuid", "--hv", "hv-relaxed", NULL },
        { "fuzz", "--host", "kvm", "--runs", "10", NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct run_result r = run_vsbox(bad[i], NULL);
        cr_expect_eq(r.status, 2, "%s %s: %s", bad[i][0], bad[i][4], r.err);
        cr_expect_eq(count_lines_with(r.err, "vsbox"), 1, "%s", r.err);
        cr_expect_eq(count_lines_with(r.err, ""), 1, "%s", r.err);
        cr_expect_str_empty(r.out);
        run_result_free(&r);
    }
}

Test(kvm_cli, hosts_and_msrs_show_the_kvm_rows)
{
    const char *hosts[] = { "hosts", NULL };
    struct run_result r = run_vsbox(hosts, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* hv-stimer needs hv-time and hv-synic (kvm_hyperv_properties .dependencies). */
    cr_expect(strstr(r.out, "\nhv-stimer                  8    yes         hv-time,hv-synic"),
              "%s", r.out);
    run_result_free(&r);
    const char *msrs[] = { "msrs", "--host", "kvm", "--hv", "hv-vpindex,hv-synic", NULL };
    r = run_vsbox(msrs, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "rdmsr 0x40000003 -> 0x0  # HV_X64_MSR_RESET, flag hv-reset, KVM\n"),
              "%s", r.out);
    cr_expect(strstr(r.out, "rdmsr 0x40000083 -> 0x0  # HV_X64_MSR_SIMP, flag hv-synic, KVM\n"),
              "%s", r.out);
    /* Xen's own hypercall-page MSR is not KVM's. */
    cr_expect_null(strstr(r.out, "Xen hypercall page MSR"), "%s", r.out);
    run_result_free(&r);
}
