/* The emulator traps into the model: every answer a guest gets is the model's. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "tests/emu_util.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

Test(emu, a_model_gp_with_no_idt_stops_with_exit_3_and_a_report)
{
    const char *args[] = { "run", test_guest("no_idt_gp.bin"), "--raw", "0x100000", "--viridian",
                           "base", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 3, "%s", r.err);
    cr_assert(strstr(r.err, "unhandled exception #GP (13) with no IDT loaded at RIP 0x100005\n"),
              "%s", r.err);
    cr_assert(strstr(r.err, "0x100005: rdmsr"), "the faulting instruction, disassembled: %s", r.err);
    cr_assert(strstr(r.err, "rcx    0x0000000040000022"), "registers: %s", r.err);
    run_result_free(&r);
}

Test(emu, the_same_read_with_freq_on_gets_the_frequency)
{
    /* with viridian=1 the MSR exists; the guest then exits 0 */
    const char *args[] = { "run", test_guest("no_idt_gp.bin"), "--raw", "0x100000", "--viridian",
                           "1", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
}

Test(emu, rdmsr_written_at_run_time_is_still_trapped)
{
    char rec[1024];
    snprintf(rec, sizeof rec, "%s/smc.trace", test_tmpdir());
    const char *args[] = { "run", test_guest("smc_rdmsr.bin"), "--raw", "0x100000", "--viridian",
                           "1", "--record", rec, NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "guest saw wrong values: %s", r.err);
    run_result_free(&r);
    char *trace = slurp(rec);
    /* 2e9 and 1e8: HV_X64_MSR_TSC_FREQUENCY and HV_X64_MSR_APIC_FREQUENCY at 2 GHz */
    cr_assert(strstr(trace, "rdmsr 0x40000022 -> 0x77359400  # rip=0x101000\n"), "%s", trace);
    cr_assert(strstr(trace, "rdtsc -> "), "the same address, rewritten to RDTSC: %s", trace);
    cr_assert(strstr(trace, "rdmsr 0x40000023 -> 0x5f5e100  # rip=0x101040\n"), "%s", trace);
    free(trace);
}

Test(emu, rdtsc_is_monotonic_and_two_runs_are_identical)
{
    char rec1[1024], rec2[1024];
    snprintf(rec1, sizeof rec1, "%s/a.trace", test_tmpdir());
    snprintf(rec2, sizeof rec2, "%s/b.trace", test_tmpdir());
    const char *a1[] = { "run", test_guest("rdtsc_loop.bin"), "--raw", "0x100000", "--record", rec1, NULL };
    const char *a2[] = { "run", test_guest("rdtsc_loop.bin"), "--raw", "0x100000", "--record", rec2, NULL };
    struct run_result r1 = run_vsbox(a1, NULL), r2 = run_vsbox(a2, NULL);
    cr_assert_eq(r1.status, 0, "RDTSC went backwards: %s", r1.err);
    cr_assert_str_eq(r1.out, "k");
    cr_assert_eq(r2.status, 0);
    char *t1 = slurp(rec1), *t2 = slurp(rec2);
    cr_assert_str_eq(t1, t2, "two runs recorded different traces");
    cr_assert_eq(count_lines_with(t1, "rdtsc -> "), 1001);
    free(t1);
    free(t2);
    run_result_free(&r1);
    run_result_free(&r2);
}

Test(emu, a_recorded_trace_replays_on_the_model_alone)
{
    const char *guests[] = { "windows-boot", "msr-matrix", "freq-calibrate", "param-lock" };
    for (size_t i = 0; i < sizeof guests / sizeof guests[0]; i++) {
        char rec[1024];
        snprintf(rec, sizeof rec, "%s/%s.trace", test_tmpdir(), guests[i]);
        const char *args[] = { "run", guests[i], "--viridian", "1", "--record", rec, NULL };
        struct run_result r = run_vsbox(args, NULL);
        cr_assert_eq(r.status, 0, "%s: %s%s", guests[i], r.out, r.err);
        run_result_free(&r);
        const char *rargs[] = { "replay", rec, NULL };
        r = run_vsbox(rargs, NULL);
        cr_assert_eq(r.status, 0, "%s replay: %s%s", guests[i], r.out, r.err);
        run_result_free(&r);
    }
}

Test(emu, the_hypercall_page_the_model_writes_runs_and_reaches_the_model)
{
    char rec[1024];
    snprintf(rec, sizeof rec, "%s/hc.trace", test_tmpdir());
    const char *args[] = { "run", "hypercall", "--viridian", "1", "--record", rec, NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    run_result_free(&r);
    char *trace = slurp(rec);
    /* RCX is the call code; the page's "orl $0x80000000, %eax" made it a viridian call */
    cr_assert(strstr(trace, "hypercall 0x8 0x0 0x0 -> 0x0"), "%s", trace);
    cr_assert(strstr(trace, "hypercall 0x1 0x0 0x0 -> 0x2"), "%s", trace);
    free(trace);
}

Test(emu, a_model_gp_reaches_the_guests_own_handler_and_it_resumes)
{
    /* msr-matrix reads HV_X64_MSR_TSC_FREQUENCY under base: #GP, fixed up, and on */
    const char *args[] = { "run", "msr-matrix", "--viridian", "base", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "ok   TSC_FREQUENCY    read #GP write #GP (advertised: no)\n"), "%s",
              r.out);
    cr_assert(strstr(r.out, "Test result: SUCCESS\n"), "%s", r.out);
    run_result_free(&r);
}

Test(emu, a_32_bit_guest_runs_in_protected_mode)
{
    const char *args[] = { "run", test_guest("elf32_hello.elf"), "--viridian", "1", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.out, "hello from 32-bit protected mode\n");
    run_result_free(&r);
}

Test(emu, budget_stops_a_guest_that_never_traps)
{
    const char *args[] = { "run", test_guest("spin.bin"), "--raw", "0x100000", "--budget", "100000",
                           NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 3);
    cr_assert(strstr(r.err, "budget of 100000 instructions exhausted"), "%s", r.err);
    run_result_free(&r);
}

/* A flat test image run with --budget N (and the instruction listing, when asked). */
static struct run_result run_budget(const char *image, const char *budget, bool listing)
{
    const char *args[] = { "run", test_guest(image), "--raw", "0x100000", "--budget", budget,
                           listing ? "--trace-insns" : NULL, NULL };
    return run_vsbox(args, NULL);
}

/* Code that stores into its own running block at every instruction (QEMU restarts each
 * store as a block of one): about 2,045 instructions. The budget counts them as run (one
 * block more at the start), not a whole block per restart (which charged ~200,000), with
 * or without the listing. */
Test(emu, a_budget_counts_self_modifying_code_as_it_runs)
{
    struct run_result r = run_budget("smc_budget.bin", "2500", false);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    r = run_budget("smc_budget.bin", "2500", true);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    r = run_budget("smc_budget.bin", "1800", false);
    cr_assert_eq(r.status, 3, "%s", r.err);
    cr_assert(strstr(r.err, "budget of 1800 instructions exhausted"), "%s", r.err);
    run_result_free(&r);
}

/* Stepped code has blocks of one instruction where the same code run plainly has a long
 * one, and an IRETQ at the long block's end returns to its start with TF set: that is no
 * restart after self-modifying code, and the budget keeps both charges. A turn is about
 * 630 instructions (201 run plainly, 201 stepped with a #DB and its IRETQ after each), so
 * 100,000 allow 160 turns; taking the plain pass for a restart allowed 236. */
Test(emu, a_budget_counts_single_stepped_code_whole)
{
    struct run_result r = run_budget("step_budget.bin", "100000", false);
    cr_assert_eq(r.status, 3, "%s", r.err);
    cr_assert(strstr(r.err, "budget of 100000 instructions exhausted"), "%s", r.err);
    size_t turns = strlen(r.out);
    cr_assert(turns >= 140 && turns <= 180, "%zu turns in a budget of 100,000", turns);
    run_result_free(&r);
}

Test(emu, timeout_stops_it_and_says_so)
{
    const char *args[] = { "run", test_guest("spin.bin"), "--raw", "0x100000", "--timeout", "1", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 3);
    cr_assert(strstr(r.err, "not deterministic"), "%s", r.err);
    run_result_free(&r);
}

/* A budget running out inside a trap that moves RIP must still stop the guest: on
 * Unicorn 2.0.1 a RIP written from a hook cancels a pending stop, so an RDMSR loop used
 * to run on for ever. */
Test(emu, a_budget_stops_a_loop_of_traps, .timeout = 30)
{
    static const struct {
        const char *name;
        unsigned char code[16];
        size_t len;
    } loops[] = {
        { "rdmsr", { 0xb9, 0x73, 0x00, 0x00, 0x40, 0x0f, 0x32, 0xeb, 0xfc }, 9 },
        { "rdtsc", { 0x0f, 0x31, 0xeb, 0xfc }, 4 },
        { "cpuid", { 0xb8, 0x00, 0x00, 0x00, 0x40, 0x0f, 0xa2, 0xeb, 0xf7 }, 9 },
        { "gp", { 0xb9, 0x22, 0x00, 0x00, 0x40, 0x0f, 0x32, 0xeb, 0xfc }, 9 }, /* no IDT: exit 3 */
    };
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.bin", test_tmpdir(), loops[i].name);
        write_file(path, loops[i].code, loops[i].len);
        const char *args[] = { "run", path, "--raw", "0x100000", "--viridian", "base",
                               "--budget", "100000", NULL };
        struct run_result r = run_vsbox(args, NULL);
        cr_expect_eq(r.status, 3, "%s loop: %s", loops[i].name, r.err);
        run_result_free(&r);
    }
}

Test(emu, far_branches_through_a_register_raise_ud_instead_of_aborting_unicorn)
{
    /* Unicorn 2.0.1 aborts translating FF /3 and FF /5 with mod = 3 (emu/guard.c) */
    const char *args[] = { "run", test_guest("far_branch_ud.bin"), "--raw", "0x100000", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "the guest's #UD handler saw the wrong faults: %s", r.err);
    run_result_free(&r);
}

Test(emu, a_far_branch_through_a_register_with_no_idt_is_a_reported_ud)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/ffd8.bin", test_tmpdir());
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite("\x90\x90\xff\xd8", 1, 4, f); /* nop; nop; call far through eax */
    fclose(f);
    const char *args[] = { "run", path, "--raw", "0x100000", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 3, "%s", r.err);
    cr_assert(strstr(r.err, "unhandled exception #UD (6) with no IDT loaded at RIP 0x100002\n"),
              "%s", r.err);
    run_result_free(&r);
}

Test(emu, debug_registers_are_vsbox_s_and_fault_like_a_cpu)
{
    /* Arming an execute breakpoint crashes Unicorn 2.0.1 (emu/debugreg.c); the guest
     * exits with the number of the first step that did not hold. */
    const char *args[] = { "run", test_guest("debug_regs.bin"), "--raw", "0x100000", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "a debug register step failed: %s", r.err);
    run_result_free(&r);
}

Test(emu, debug_registers_survive_a_snapshot)
{
    char snap[1024];
    snprintf(snap, sizeof snap, "%s/debug_regs.snap", test_tmpdir());
    const char *save[] = { "run", test_guest("debug_regs.bin"), "--raw", "0x100000",
                           "--save-at", "1", "--snapshot", snap, NULL };
    struct run_result r = run_vsbox(save, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    /* After the save point the guest checks DR0 and DR7 against what it wrote. */
    const char *resume[] = { "resume", snap, NULL };
    r = run_vsbox(resume, NULL);
    cr_assert_eq(r.status, 0, "DR0 or DR7 changed across the snapshot: %s", r.err);
    run_result_free(&r);
}
