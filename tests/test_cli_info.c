/* vsbox cpuid / msrs / --config, end to end. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "tests/support.h"

Test(cpuid_cmd, base_gives_leaf3_eax_0x70)
{
    const char *args[] = { "cpuid", "--viridian", "base", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strncmp(r.out, "vsbox-trace 1\n", 14) == 0);
    cr_assert(strstr(r.out, "\ncpuid 0x40000003 0x0 -> 0x70 0x0 0x0 0x0"), "%s", r.out);
    run_result_free(&r);
}

Test(cpuid_cmd, boolean_1_gives_leaf3_eax_0x872)
{
    /* RELEASE-4.5.0: defaults = base, freq, time_ref_count (libxl_dom.c). */
    const char *args[] = { "cpuid", "--viridian", "1", "--host", "xen-4.5", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "\ncpuid 0x40000003 0x0 -> 0x872 0x0 0x0 0x0"), "%s", r.out);
    cr_assert(strstr(r.out, "\ncpuid 0x40000100 0x0 -> 0x40000104 0x566e6558 0x65584d4d 0x4d4d566e"),
              "%s", r.out);
    run_result_free(&r);
}

Test(cpuid_cmd, output_is_a_trace_that_replays_clean)
{
    const char *specs[] = { "0", "base", "1", "all,!freq", "[ \"defaults\" ]" };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        const char *args[] = { "cpuid", "--viridian", specs[i], "--guest-os-id", "0x1040601001db0",
                               NULL };
        struct run_result r = run_vsbox(args, NULL);
        cr_assert_eq(r.status, 0, "%s: %s", specs[i], r.err);
        const char *rargs[] = { "replay", "-", NULL };
        struct run_result again = run_vsbox(rargs, r.out);
        cr_assert_eq(again.status, 0, "%s:\n%s%s", specs[i], again.out, again.err);
        run_result_free(&again);
        run_result_free(&r);
    }
}

Test(cpuid_cmd, without_viridian_only_xens_leaves_are_printed)
{
    /* The default host is the newest release: XEN_CPUID_MAX_NUM_LEAVES is 5 from 4.10. */
    const char *args[] = { "cpuid", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "config host=xen-4.22 "), "%s", r.out);
    cr_assert(strstr(r.out, "\ncpuid 0x40000000 0x0 -> 0x40000005 0x566e6558"), "%s", r.out);
    cr_assert_null(strstr(r.out, "0x40000006"));
    run_result_free(&r);
}

Test(cpuid_cmd, the_default_host_is_the_newest_release)
{
    const char *args[] = { "cpuid", "--viridian", "defaults", "--guest-os-id", "0x1040601001db0",
                           NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* 4.22 libxl_x86.c "Enable defaults": base freq time_ref_count apic_assist crash_ctl
     * no_vp_limit cpu_hotplug; viridian.c: leaf 3 EDX CPUID3D_CPU_DYNAMIC_PARTITIONING |
     * CPUID3D_CRASH_MSRS, leaf 5 EAX -1, leaf 2 build 0x1772 version 6.0. */
    cr_assert(strstr(r.out, "\ncpuid 0x40000003 0x0 -> 0x872 0x0 0x0 0x408"), "%s", r.out);
    cr_assert(strstr(r.out, "\ncpuid 0x40000005 0x0 -> 0xffffffff 0x0 0x0 0x0"), "%s", r.out);
    cr_assert(strstr(r.out, "\ncpuid 0x40000002 0x0 -> 0x1772 0x60000 0x0 0x0"), "%s", r.out);
    run_result_free(&r);
}

Test(cpuid_cmd, an_unknown_group_exits_2_in_one_line)
{
    const char *args[] = { "cpuid", "--viridian", "base,turbo", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert_str_eq(r.err, "vsbox: --viridian: unknown viridian enlightenment 'turbo'\n");
    cr_assert_str_empty(r.out);
    run_result_free(&r);
}

Test(cpuid_cmd, an_unknown_host_exits_2)
{
    const char *args[] = { "cpuid", "--host", "xen-9.9", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "unknown host profile 'xen-9.9'"), "%s", r.err);
    run_result_free(&r);
}

Test(cpuid_cmd, absurd_tsc_khz_exits_2)
{
    const char *args[] = { "cpuid", "--tsc-khz", "99999999999999999999", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--tsc-khz"), "%s", r.err);
    run_result_free(&r);
}

Test(msrs_cmd, every_msr_is_annotated_and_gated_by_its_group)
{
    const char *args[] = { "msrs", "--viridian", "all,!freq", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "rdmsr 0x40000022 -> #GP  # HV_X64_MSR_TSC_FREQUENCY, group freq, "
                            "Xen 4.4+\n"), "%s", r.out);
    cr_assert(strstr(r.out, "rdmsr 0x40000002 -> 0x0  # HV_X64_MSR_VP_INDEX, group base, "
                            "Xen 4.3+\n"), "%s", r.out);
    cr_assert(strstr(r.out, "rdmsr 0x40000070 -> #GP  # HV_X64_MSR_EOI, group base, Xen 4.3+, "
                            "write-only\n"), "%s", r.out);
    cr_assert(strstr(r.out, "rdmsr 0x400000b7 -> 0x0  # HV_X64_MSR_STIMER3_COUNT, group stimer, "
                            "Xen 4.13+\n"), "%s", r.out);
    cr_assert(strstr(r.out, "rdmsr 0x40000105 -> 0x8000000000000000  # HV_X64_MSR_CRASH_CTL, "
                            "no group (crash_ctl only advertises it), Xen 4.9+\n"), "%s", r.out);
    const char *rargs[] = { "replay", "-", NULL };
    struct run_result again = run_vsbox(rargs, r.out);
    cr_assert_eq(again.status, 0, "%s%s", again.out, again.err);
    run_result_free(&again);
    run_result_free(&r);
}

/* Issue 15: the labels `vsbox msrs` prints are names --viridian takes. */
Test(msrs_cmd, every_group_label_is_a_name_viridian_accepts)
{
    const char *args[] = { "msrs", "--viridian", "all", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    for (const char *p = strstr(r.out, ", group "); p; p = strstr(p + 1, ", group ")) {
        char name[40] = "";
        sscanf(p + 8, "%39[a-z_]", name);
        const char *spec[] = { "msrs", "--viridian", "base", NULL, NULL };
        char full[64];
        snprintf(full, sizeof full, "base,%s", name);
        spec[2] = full;
        struct run_result g = run_vsbox(spec, NULL);
        cr_expect_eq(g.status, 0, "--viridian %s: %s", full, g.err);
        run_result_free(&g);
    }
    run_result_free(&r);
}

Test(msrs_cmd, freq_group_shows_the_frequencies)
{
    const char *args[] = { "msrs", "--viridian", "defaults", "--tsc-khz", "3000000", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "rdmsr 0x40000022 -> 0xb2d05e00  #"), "%s", r.out); /* 3e9 */
    cr_assert(strstr(r.out, "rdmsr 0x40000023 -> 0x5f5e100  #"), "%s", r.out);
    run_result_free(&r);
}

Test(config_flag, xl_cfg_viridian_list_sets_the_mask)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/guest.cfg", test_tmpdir());
    const char cfg[] = "# an HVM guest\nbuilder = \"hvm\"\nname = \"win7\"\nmemory = 2048\n"
                       "vcpus = 2\nviridian = [ \"all\", \"!freq\" ]\n"
                       "disk = [ 'phy:/dev/vg/win7,hda,w' ]\n";
    write_file(path, cfg, sizeof cfg - 1);
    const char *args[] = { "cpuid", "--config", path, "--verbose", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* all,!freq on 4.22: TIME_REF_COUNT SYNIC STIMER APIC HYPERCALL VP_INDEX REFERENCE_TSC;
     * EDX CPU_DYNAMIC_PARTITIONING CRASH_MSRS SINT_POLLING */
    cr_assert(strstr(r.out, "\ncpuid 0x40000003 0x0 -> 0x27e 0x0 0x0 0x20408"), "%s", r.out);
    cr_assert(strstr(r.out, "vcpus=2"), "%s", r.out);
    cr_assert(strstr(r.err, "disk"), "--verbose lists ignored keys: %s", r.err);
    run_result_free(&r);
}

Test(config_flag, xl_cfg_syntax_error_names_file_line_and_column)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/broken.cfg", test_tmpdir());
    const char cfg[] = "name = \"x\"\nmemory 512\n";
    write_file(path, cfg, sizeof cfg - 1);
    const char *args[] = { "cpuid", "--config", path, NULL };
    struct run_result r = run_vsbox(args, NULL);
    char prefix[1200];
    snprintf(prefix, sizeof prefix, "vsbox: %s:2:", path);
    cr_assert_eq(r.status, 2);
    cr_assert(strncmp(r.err, prefix, strlen(prefix)) == 0, "%s", r.err);
    cr_assert_str_empty(r.out);
    run_result_free(&r);
}

Test(cli, every_subcommand_has_help)
{
    const char *cmds[] = { "replay", "cpuid", "msrs" };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        const char *args[] = { cmds[i], "--help", NULL };
        struct run_result r = run_vsbox(args, NULL);
        cr_assert_eq(r.status, 0, "%s --help", cmds[i]);
        cr_assert(strstr(r.out, "usage: vsbox"), "%s --help: %s", cmds[i], r.out);
        run_result_free(&r);
    }
}

Test(cli, an_unknown_command_exits_2)
{
    const char *args[] = { "frobnicate", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "unknown command 'frobnicate'"), "%s", r.err);
    run_result_free(&r);
}
