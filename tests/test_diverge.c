/* traces/diverge.c: divergences grouped by cause, each cause a sentence that names what
 * differs (TLFS names) and what would change it. The sentences are written here by hand
 * from Xen 4.5's rules (freq gates the frequency MSRs and CPUID 0x40000003 EAX bit 11;
 * base gives bits 4-6, 0x70) and the TLFS. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "traces/diverge.h"
#include "traces/replay.h"
#include "viridian/hvmpv.h"

struct run {
    char *text;
    size_t len;
};

/* Replay lines (trace v1 events) on a model of host/viridian; report into text. */
static struct run replay(const char *host, uint64_t viridian, const char *const *lines)
{
    struct vconfig cfg = { .host = vprofile_find(host), .viridian = viridian, .vcpus = 2 };
    struct vmodel *m;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    struct diverge *d = diverge_new();
    for (unsigned i = 0; lines[i]; i++) {
        struct trace_item it;
        struct trace_error err;
        struct vres got;
        cr_assert_eq(trace_parse_event(lines[i], &it, &err), TRACE_OK, "%s", lines[i]);
        it.line = i + 1;
        if (replay_step(m, &it, &got, &err) == REPLAY_DIVERGED)
            diverge_add(d, m, &it, &got);
    }
    struct run r = { 0 };
    FILE *f = open_memstream(&r.text, &r.len);
    diverge_report(d, f, "t.trace");
    fclose(f);
    diverge_free(d);
    vmodel_destroy(m);
    return r;
}

#define LINES(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_report(const char *host, uint64_t viridian, const char *const *lines,
                          const char *want)
{
    struct run r = replay(host, viridian, lines);
    cr_expect_str_eq(r.text, want);
    free(r.text);
}

Test(diverge, a_cpuid_bit_the_capture_had_names_the_group_to_enable)
{
    expect_report("xen-4.5", HVMPV_base_freq | HVMPV_no_freq,
                  LINES("cpuid 0x40000003 0x0 -> 0x870 0x0 0x0 0x0"),
                  "t.trace: 1 divergence, by cause:\n"
                  "       1  CPUID 0x40000003 EAX bit 11 (AccessFrequencyRegs): the capture "
                  "advertised it, this config does not (enable `freq`); line 1\n");
}

Test(diverge, a_cpuid_bit_only_this_config_has_names_the_group_to_disable)
{
    expect_report("xen-4.5", HVMPV_base_freq,
                  LINES("cpuid 0x40000003 0x0 -> 0x70 0x0 0x0 0x0"),
                  "t.trace: 1 divergence, by cause:\n"
                  "       1  CPUID 0x40000003 EAX bit 11 (AccessFrequencyRegs): this config "
                  "advertises it, the capture did not (disable `freq`); line 1\n");
}

Test(diverge, a_bit_no_group_gives_says_so)
{
    /* AccessSynicRegs (bit 2): Xen 4.5 has no SynIC. */
    expect_report("xen-4.5", HVMPV_base_freq,
                  LINES("cpuid 0x40000003 0x0 -> 0x874 0x0 0x0 0x0"),
                  "t.trace: 1 divergence, by cause:\n"
                  "       1  CPUID 0x40000003 EAX bit 2 (AccessSynicRegs): the capture advertised "
                  "it, this config does not (no viridian group of xen-4.5 changes it); line 1\n");
}

Test(diverge, an_msr_we_refuse_names_the_group_that_answers_it)
{
    expect_report("xen-4.5", HVMPV_base_freq | HVMPV_no_freq,
                  LINES("rdmsr 0x40000022 -> 0x77359400", "v1 rdmsr 0x40000022 -> 0x77359400"),
                  "t.trace: 2 divergences, by cause:\n"
                  "       2  HV_X64_MSR_TSC_FREQUENCY (0x40000022) read: captured 0x77359400, we "
                  "answer #GP (enable `freq`); lines 1, 2\n");
}

Test(diverge, an_msr_the_capture_refused_names_the_group_to_disable)
{
    expect_report("xen-4.5", HVMPV_base_freq,
                  LINES("rdmsr 0x40000023 -> #GP"),
                  "t.trace: 1 divergence, by cause:\n"
                  "       1  HV_X64_MSR_APIC_FREQUENCY (0x40000023) read: the capture's "
                  "hypervisor refused it (#GP), this config answers 0x5f5e100 (disable "
                  "`freq`); line 1\n");
}

/* Xen 4.12 has no SynIC yet (4.13), and from 4.11 a write no handler takes is #GP (up to
 * 4.10 it was dropped, and only the read would diverge). */
Test(diverge, an_msr_the_model_does_not_have_is_named_from_the_tlfs)
{
    expect_report("xen-4.12", HVMPV_base_freq,
                  LINES("wrmsr 0x40000083 0xfa1001 -> ok", "rdmsr 0x40000083 -> 0xfa1001",
                        "wrmsr 0x40000083 0xfa1000 -> ok"),
                  "t.trace: 3 divergences, by cause:\n"
                  "       2  HV_X64_MSR_SIMP (0x40000083) write: the capture's hypervisor took "
                  "it (0xfa1001 first), we answer #GP (vsbox's xen-4.12 has no such MSR); "
                  "lines 1, 3\n"
                  "       1  HV_X64_MSR_SIMP (0x40000083) read: captured 0xfa1001, we answer #GP "
                  "(vsbox's xen-4.12 has no such MSR); line 2\n");
}

Test(diverge, values_that_differ_say_what_the_value_is)
{
    expect_report("xen-4.5", HVMPV_base_freq,
                  LINES("v1 rdmsr 0x40000002 -> 0x0", "rdmsr 0x40000023 -> 0x3b9aca00",
                        "rdmsr 0x10 -> 0x5"),
                  "t.trace: 3 divergences, by cause:\n"
                  "       1  HV_X64_MSR_VP_INDEX (0x40000002) read: captured 0x0, this config "
                  "0x1: the vCPU's number; line 1\n"
                  "       1  HV_X64_MSR_APIC_FREQUENCY (0x40000023) read: captured 0x3b9aca00, "
                  "this config 0x5f5e100 Hz; line 2\n"
                  "       1  IA32_TIME_STAMP_COUNTER (0x10) read: captured 0x5, this config 0x0: "
                  "it follows the clock, and a replay's clock is not the capture's; line 3\n");
}

Test(diverge, a_hypercall_status_is_named_from_the_tlfs)
{
    expect_report("xen-4.5", HVMPV_base_freq,
                  LINES("hypercall 0x10008 0x0 0x0 -> 0x2"),
                  "t.trace: 1 divergence, by cause:\n"
                  "       1  hypercall 0x0008 (HvCallNotifyLongSpinWait): the capture's status "
                  "HV_STATUS_INVALID_HYPERCALL_CODE, this config's HV_STATUS_SUCCESS (no "
                  "viridian group of xen-4.5 changes it); line 1\n");
}

Test(diverge, with_viridian_off_one_cause_covers_every_hyper_v_access)
{
    expect_report("xen-4.5", 0,
                  LINES("cpuid 0x40000000 0x0 -> 0x40000006 0x7263694d 0x666f736f 0x76482074",
                        "rdmsr 0x40000002 -> 0x0", "hypercall 0x8 0x0 0x0 -> 0x0"),
                  "t.trace: 3 divergences, by cause:\n"
                  "       3  viridian is off in this config: no Hyper-V leaves, MSRs or "
                  "hypercalls (try --viridian all); lines 1, 2, 3\n");
}

Test(diverge, a_boolean_host_is_told_to_turn_viridian_itself)
{
    expect_report("xen-4.4", 1, LINES("rdmsr 0x40000022 -> #GP"),
                  "t.trace: 1 divergence, by cause:\n"
                  "       1  HV_X64_MSR_TSC_FREQUENCY (0x40000022) read: the capture's "
                  "hypervisor refused it (#GP), this config answers 0x77359400 (viridian=0: "
                  "xen-4.4 takes only 0 or 1); line 1\n");
}

Test(diverge, causes_come_most_frequent_first_with_four_lines_shown)
{
    struct run r = replay("xen-4.5", HVMPV_base_freq,
                          LINES("rdmsr 0x40000083 -> 0x0", "rdmsr 0x40000080 -> 0x0",
                                "rdmsr 0x40000080 -> 0x0", "rdmsr 0x40000080 -> 0x0",
                                "rdmsr 0x40000080 -> 0x0", "rdmsr 0x40000080 -> 0x0",
                                "rdmsr 0x40000080 -> 0x0"));
    const char *scontrol = strstr(r.text, "HV_X64_MSR_SCONTROL");
    const char *simp = strstr(r.text, "HV_X64_MSR_SIMP");
    cr_assert(scontrol && simp && scontrol < simp, "%s", r.text);
    cr_expect(strstr(r.text, "       6  HV_X64_MSR_SCONTROL"), "%s", r.text);
    cr_expect(strstr(r.text, "lines 2, 3, 4, 5 and 2 more\n"), "%s", r.text);
    free(r.text);
}

Test(diverge, the_table_of_causes_is_bounded)
{
    static char lines[80][64];
    static const char *ptrs[81];
    for (int i = 0; i < 80; i++) {
        snprintf(lines[i], sizeof lines[i], "rdmsr 0x%x -> 0x0", 0x40001000 + i);
        ptrs[i] = lines[i];
    }
    struct run r = replay("xen-4.5", HVMPV_base_freq, ptrs);
    cr_expect(strstr(r.text, "t.trace: 80 divergences, by cause:\n"), "%s", r.text);
    cr_expect(strstr(r.text, "      16  of more kinds than this report holds\n"), "%s", r.text);
    free(r.text);
}

Test(diverge, no_divergence_no_report)
{
    expect_report("xen-4.5", HVMPV_base_freq, LINES("rdmsr 0x40000002 -> 0x0"), "");
}
