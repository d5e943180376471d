/* vsbox demo: every demo's plain output is a golden file, tests/golden/demos/NAME.txt.
 *
 * How the expected text was made: each file was written out from a run and then checked
 * line by line against Xen's source before it was committed; the numbers that carry the
 * lesson are also recomputed below from Xen's own formulas and tables, independently of
 * vsbox's code, so a golden file that drifted from Xen cannot pass:
 *   - masks (params.h HVMPV_* bits, libxl hvm_set_viridian_features): base = base_freq |
 *     no_freq = 0x3; 4.22 defaults = base, freq, time_ref_count, apic_assist, crash_ctl,
 *     no_vp_limit, cpu_hotplug = bits 0,2,5,6,11,12 = 0x1865; all = 0x1fff without no_freq
 *     = 0x1ffd; [ "base", "!freq", "stimer" ] = 0x1|0x2|0x100 and stimer's silent
 *     time_ref_count (0x4) and synic (0x80) = 0x187.
 *   - CPUID 0x40000003 (cpuid_viridian_leaves): base's AccessIntrCtrlRegs, AccessHypercallMsrs,
 *     AccessVpIndex = 0x70; + AccessPartitionReferenceCounter (bit 1) and
 *     AccessFrequencyRegs (bit 11) = 0x872; all adds bits 2, 3, 9 = 0xa7e. EDX: crash
 *     (bit 10) and dynamic partitioning (bit 3) = 0x408, + SINT polling (bit 17) = 0x20408.
 *   - Xen's own leaves without viridian (4.22): max leaf base+5 (0x40000005), "XenVMMXenVMM";
 *     its time leaf EAX 0x6 (TSC reliable 2, RDTSCP 4, no vtsc), ECX 2000000 kHz.
 *   - HVM_PARAM_VIRIDIAN's rules (hvm.c): the guest's write EPERM, a second different value
 *     EEXIST, the same value ok, no base bit or bit 13 (outside 4.22's 0x1fff) EINVAL, and a
 *     guest's read EPERM from 4.6.
 *   - 4.3 -> 4.4 with viridian=1: leaf 3 0x70 -> 0x870 (84657efd added the frequency MSRs),
 *     leaf 6 0 -> 0xb (4.3 has no case 6), TSC frequency 2e9 appears; 4.5 -> 4.6 with 0x3:
 *     the MSR stays #GP, only Xen's leaf 4 gains XEN_HVM_CPUID_VCPU_ID_PRESENT (0x4 -> 0xc).
 *   - time-ref: 4.22's trc_val = ((tsc * scale) >> 64), scale = ((10000 << 32) / tsc_khz)
 *     << 32, at 2 GHz; frozen across the pause (f6a07643e1) the count resumes; before it
 *     (planted fault 8) it runs on for 45 minutes of ticks: see trc() below.
 *   - hypercall-page: viridian's page is "or eax, 0x80000000; vmcall; ret" (Intel host),
 *     HvCallNotifyLongSpinWait (0x8) answers HV_STATUS_SUCCESS.
 *   - tsc-calibration: the guest's own arithmetic on the emulator's deterministic clock,
 *     20004025 ticks * 1193182 / 11932 / 1000 = 2000372 kHz, checked below; the MSR gives
 *     tsc_khz * 1000 = 2000000000. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "support.h"

static char *demo(const char *name)
{
    const char *args[] = { "demo", name, NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "vsbox demo %s: %s", name, r.err);
    cr_expect_null(strchr(r.out, '\033'), "colour in output that is not a terminal");
    char *out = strdup(r.out);
    run_result_free(&r);
    return out;
}

static void golden(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/golden/demos/%s.txt", name);
    char *want = slurp_file(src_path(rel), NULL);
    char *got = demo(name);
    if (strcmp(want, got) != 0) {
        size_t i = 0, line = 1;
        while (want[i] && want[i] == got[i])
            line += want[i++] == '\n';
        cr_expect_fail("%s differs from the output at line %zu:\n got: %.200s\nwant: %.200s", rel,
                       line, got + i, want + i);
    }
    free(want);
    free(got);
}

/* 4.22's trc_val at tsc ticks of a 2 GHz guest. */
static unsigned long long trc(unsigned long long tsc)
{
    unsigned long long scale = ((10000ull << 32) / 2000000) << 32;
    return (unsigned long long)(((unsigned __int128)tsc * scale) >> 64);
}

static void has(const char *out, const char *text)
{
    cr_expect(strstr(out, text), "missing: %s", text);
}

Test(demo, the_list_names_every_demo_with_a_line_each)
{
    const char *args[] = { "demo", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0);
    static const char *const names[] = { "enlightenments", "feature-mask", "migration-bug",
                                         "time-ref", "hypercall-page", "tsc-calibration",
                                         "synic-timer", "xen-vs-kvm" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_expect_eq(count_lines_with(r.out, names[i]), 1, "%s", names[i]);
    run_result_free(&r);
}

Test(demo, an_unknown_demo_is_one_line_and_exit_2)
{
    const char *args[] = { "demo", "nope", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines_with(r.err, "nope"), 1);
    run_result_free(&r);
}

Test(demo, enlightenments)
{
    golden("enlightenments");
    char *out = demo("enlightenments");
    has(out, "HVM_PARAM_VIRIDIAN 0x3\n");
    has(out, "HVM_PARAM_VIRIDIAN 0x1865\n");
    has(out, "HVM_PARAM_VIRIDIAN 0x1ffd\n");
    has(out, "eax=0x40000005 ebx=0x566e6558 ecx=0x65584d4d edx=0x4d4d566e  \"XenVMMXenVMM\"");
    has(out, "eax=0x6 ebx=0x0 ecx=0x1e8480 edx=0x0");
    has(out, "eax=0x70 ebx=0x0 ecx=0x0 edx=0x0");
    has(out, "eax=0x872 ebx=0x0 ecx=0x0 edx=0x408");
    has(out, "eax=0xa7e ebx=0x0 ecx=0x0 edx=0x20408");
    has(out, "0x77359400 (2000000000)");
    has(out, "[xen/arch/x86/hvm/viridian/time.c]");
    free(out);
}

Test(demo, feature_mask)
{
    golden("feature-mask");
    char *out = demo("feature-mask");
    has(out, "HVM_PARAM_VIRIDIAN = 0x187.");
    has(out, "eax=0x7e ebx=0x0 ecx=0x0 edx=0x20000");
    has(out, "libxl: base group not enabled");
    has(out, "libxl: freq group both enabled and disabled");
    has(out, "libxl: unknown viridian enlightenment 'turbo'");
    const char *order[] = { "sees   ok", "sees   -EPERM", "sees   -EEXIST", "sees   ok",
                            "sees   -EPERM", "sees   -EINVAL", "sees   -EINVAL" };
    const char *p = out;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        p = strstr(p, order[i]);
        cr_assert_not_null(p, "rule %zu (%s) not in order", i, order[i]);
        p++;
    }
    free(out);
}

Test(demo, migration_bug)
{
    golden("migration-bug");
    char *out = demo("migration-bug");
    has(out, "CHANGE CPUID 0x40000003 EAX changed 0x70 -> 0x870");
    has(out, "CHANGE CPUID 0x40000006 EAX changed 0x0 -> 0xb");
    has(out, "CHANGE HV_X64_MSR_TSC_FREQUENCY appeared");
    has(out, "CPUID 0x40000104 EAX (Xen's HVM features) changed 0x4 -> 0xc");
    /* With the mask the frequency MSR is refused before and after the move. */
    const char *masked = strstr(out, "The same move with the feature mask");
    cr_assert_not_null(masked);
    cr_expect_eq(count_lines_with(masked, "sees   #GP"), 2);
    cr_expect_null(strstr(masked, "appeared"));
    free(out);
}

Test(demo, time_ref_beside_the_jump_bug)
{
    golden("time-ref");
    char *out = demo("time-ref");
    unsigned long long second = 2000000000ull, pause = 45ull * 60 * second;
    unsigned long long at1 = trc(second), after = trc(second + pause);
    unsigned long long later = trc(2 * second + pause);
    char line[256];
    /* Fixed: resumes at the frozen count, then one more second. Bug: the pause counted. */
    snprintf(line, sizeof line, "  %-40s %14llu %18llu", "rdmsr TIME_REF_COUNT after 1 s", at1,
             at1);
    has(out, line);
    snprintf(line, sizeof line, "  %-40s %14llu %18llu", "rdmsr TIME_REF_COUNT right after", at1,
             after);
    has(out, line);
    snprintf(line, sizeof line, "  %-40s %14llu %18llu", "rdmsr TIME_REF_COUNT 1 s later",
             at1 + later - after, later);
    has(out, line);
    snprintf(line, sizeof line, "HV_X64_MSR_TIME_REF_COUNT jumped forward by %llu", after - at1);
    has(out, line);
    cr_expect_eq(at1, 9999999ull);
    free(out);
}

Test(demo, hypercall_page)
{
    golden("hypercall-page");
    char *out = demo("hypercall-page");
    has(out, "0x200000  0d 00 00 00 80           or eax, 0x80000000");
    has(out, "0x200005  0f 01 c1                 vmcall");
    has(out, "0x200008  c3                       ret");
    has(out, "rax=0x0: HV_STATUS_SUCCESS");
    free(out);
}

Test(demo, tsc_calibration)
{
    golden("tsc-calibration");
    char *out = demo("tsc-calibration");
    cr_expect_eq(20004025ull * 1193182 / 11932 / 1000, 2000372ull);
    has(out, "= 2000372 kHz");
    has(out, "HV_X64_MSR_TSC_FREQUENCY: #GP (freq group off)");
    has(out, "0x77359400 (2000000000)");
    free(out);
}

Test(demo, synic_timer)
{
    golden("synic-timer");
    char *out = demo("synic-timer");
    /* STIMER0_COUNT 0x2710: 1 ms in the TLFS's 100 ns units; config 0x20003: enabled,
     * periodic, SINT 2 (bits 16-19); SINT2 0x50: the vector, unmasked. */
    has(out, "wrmsr 0x400000b1 0x2710");
    has(out, "wrmsr 0x400000b0 0x20003");
    has(out, "wrmsr 0x40000092 0x50");
    cr_expect_eq(count_lines_with(out, "between instructions   (poll 0x0)"), 5, "%s", out);
    has(out, "5 interrupts, 5 messages");
    cr_expect_eq(count_lines_with(out, "expires one period after"), 4, "%s", out);
    cr_expect_eq(count_lines_with(out, "FAIL"), 0, "%s", out);
    free(out);
}

Test(demo, xen_vs_kvm)
{
    golden("xen-vs-kvm");
    char *out = demo("xen-vs-kvm");
    /* KVM_CPUID_SIGNATURE "KVMKVMKVM\0\0\0" (Linux kvm_para.h), moved to 0x40000100 */
    has(out, "ebx=0x4b4d564b ecx=0x564b4d56 edx=0x4d");
    /* HV_X64_MSR_RESET: no handler in Xen's viridian code; KVM's kvm_hv_get_msr_pw reads 0 */
    has(out, "HV_X64_MSR_RESET: no Xen release has a handler for it");
    has(out, "sees   0x0 (0)");
    /* one second at 2 GHz is 10,000,000 units of 100 ns (Xen's scaling may round one
     * down), and the same value after the move: the counter is carried, not restarted */
    const char *line = strstr(out, "sees   0x98967f (9999999)") ? "sees   0x98967f (9999999)"
                                                               : "sees   0x989680 (10000000)";
    cr_expect_eq(count_lines_with(out, line), 2, "%s", out);
    has(out, "CHANGE the hypervisor's own leaves at 0x40000100 are KVM's now");
    free(out);
}

/* Colour for a person only: on a terminal (script(1) gives vsbox a pseudo-terminal) the
 * narration is coloured, and NO_COLOR turns it off there too. */
static bool coloured(const char *env)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s script -qec '%s demo feature-mask' /dev/null", env,
             VSBOX_BINARY);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    static char out[1 << 16];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    cr_assert_eq(pclose(p), 0, "%s", cmd);
    cr_assert(strstr(out, "feature-mask"), "%s printed nothing", cmd);
    return strstr(out, "\033[") != NULL;
}

Test(demo, colour_on_a_terminal_and_never_with_no_color)
{
    cr_expect(coloured("env -u NO_COLOR"));
    cr_expect_not(coloured("env NO_COLOR=1"));
}
