/* Exceptions delivered as a CPU delivers them (emu/deliver.c), each reproducer of
 * issue 14 and the delivery rules as test images that check themselves: they exit 0
 * when every step held, else the number of the step that did not. */
#include <criterion/criterion.h>
#include <string.h>
#include "tests/emu_util.h"

static void expect_pass(const char *image)
{
    struct run_result r = run_image(image, NULL);
    cr_assert_eq(r.status, 0, "%s: exit %d (the failed step)\n%s%s", image, r.status, r.out, r.err);
    run_result_free(&r);
}

/* A guest whose exception could not be delivered at all: exit 3, the report's first
 * line, and the shutdown named (with what led to it, when given). */
static void expect_shutdown(const char *image, const char *first, const char *last)
{
    struct run_result r = run_image(image, NULL);
    cr_assert_eq(r.status, 3, "%s: exit %d: %s", image, r.status, r.err);
    cr_assert(strstr(r.err, first), "%s", r.err);
    cr_assert(strstr(r.err, last ? last : "a triple fault: the CPU shut down"), "%s", r.err);
    run_result_free(&r);
}

Test(deliver, hlt_right_after_a_handler_halts)
{
    expect_pass("hlt_after_handler.bin");
}

Test(deliver, a_ud_repeated_in_place_and_one_inside_its_handler_are_each_delivered)
{
    struct run_result r = run_image("repeated_ud.bin", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.out, "uuuuuK");   /* 3 in the loop, 1 + 1 nested, then done */
    run_result_free(&r);
}

Test(deliver, a_de_repeated_in_place_never_becomes_a_double_fault)
{
    expect_pass("repeated_de.bin");
}

Test(deliver, an_idt_that_wraps_the_address_space_is_a_triple_fault_not_a_host_crash)
{
    expect_shutdown("idt_wraps.bin", "unhandled exception #UD (6) and a page fault at "
                    "0xfffffffffffffff0 reading the IDT at RIP 0x100007", NULL);
}

Test(deliver, a_data_fault_outside_ram_reports_the_faulting_instruction_and_address)
{
    expect_pass("data_fault.bin");
    struct run_result r = run_image("data_fault_no_idt.bin", NULL);
    cr_assert_eq(r.status, 3);
    /* the MOV at 0x100006, after xor (3 bytes) and inc (3 bytes) */
    cr_assert(strstr(r.err, "unhandled exception #PF (14) with no IDT loaded at RIP 0x100006\n"
                            "  0x100006: mov bl, byte ptr [0x40000000]\n"), "%s", r.err);
    cr_assert(strstr(r.err, "cr2    0x0000000040000000"), "%s", r.err);
    run_result_free(&r);
}

Test(deliver, the_last_instruction_of_ram_runs_and_the_next_fetch_faults)
{
    expect_pass("end_of_ram.bin");
}

Test(deliver, ist_and_rsp0_stacks_and_the_null_ss_of_a_privilege_change)
{
    expect_pass("exc_stacks64.bin");
}

Test(deliver, a_remembered_page_walk_still_sets_accessed_and_dirty_and_sees_a_page_go)
{
    expect_pass("walk_cache.bin");
}

Test(deliver, an_interrupt_frame_holds_the_arithmetic_flags_and_df_however_they_were_set)
{
    expect_pass("irq_flags.bin");
}

Test(deliver, an_interrupt_whose_delivery_triple_faults_ends_the_run)
{
    /* taken from inside the run (irq_take_here): the stop must hold, not resume */
    expect_shutdown("irq_triple.bin", "unhandled exception interrupt 0x40 through an IDT entry "
                    "that is not a 64-bit gate", NULL);
}

Test(deliver, two_contributory_faults_make_a_double_fault_a_benign_one_does_not)
{
    expect_pass("exc_double_fault.bin");
}

Test(deliver, a_fault_delivering_the_double_fault_shuts_the_cpu_down)
{
    expect_shutdown("exc_triple_fault.bin", "unhandled exception #GP (13) through an IDT entry "
                    "that is not a 64-bit gate at RIP 0x100017", "then #DF (8) through an IDT "
                    "entry that is not a 64-bit gate: a triple fault: the CPU shut down");
}

Test(deliver, single_step_resumes_after_a_handler_and_hlt_after_it_halts)
{
    expect_pass("exc_single_step.bin");
}

Test(deliver, protected_mode_gates_with_and_without_a_privilege_change)
{
    const char *args[] = { "run", test_guest("exc_prot32.elf"), NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "exit %d (the failed step): %s", r.status, r.err);
    run_result_free(&r);
}

/* "int 0x40" through a missing gate, run again after its second byte ran as "inc eax"
 * before an INT3: both #NPs name the INT (exit 2 when 40 was taken for a REX prefix in
 * 32-bit code). */
Test(deliver, an_int_fault_names_the_int_after_its_bytes_ran_from_the_middle)
{
    const char *args[] = { "run", test_guest("int_len32.elf"), NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "exit %d (the failed step): %s", r.status, r.err);
    run_result_free(&r);
}

Test(deliver, syscall_enters_from_star_and_lstar_and_single_steps_with_the_tf_it_leaves)
{
    struct run_result r = run_image("syscall64.bin", NULL);
    cr_assert_eq(r.status, 0, "step %d failed\n%s", r.status, r.err);
    run_result_free(&r);
}

/* RCL/RCR whose memory operand faults: the #GP frame holds the flags from before the
 * instruction (QEMU leaves them garbage there: exit 1 before vsbox mended them). */
Test(deliver, a_fault_inside_rcl_or_rcr_keeps_the_flags_before_it)
{
    expect_pass("rotc_fault_flags.bin");
}
