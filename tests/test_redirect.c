/* emu/redirect.c on the Unicorn linked: it finds the engine's flags, a redirect from a
 * block hook leaves that block unrun and goes on at the new RIP within one
 * uc_emu_start, and a stop after it holds once the flag is taken back. Two controls
 * show what each flag is for, on the engine itself: without the quit flag QEMU puts
 * RIP back and the block runs; without taking it back, Unicorn's loop drops a stop. */
#include <criterion/criterion.h>
#include <string.h>
#include <unicorn/unicorn.h>
#include "emu/cpustate.h"
#include "emu/redirect.h"

/* 0x1000: mov eax, 1; jmp 0x1010   0x1010: mov ebx, 2; hlt   0x1020: mov ecx, 3; hlt */
static const uint8_t code_a[] = { 0xb8, 0x01, 0, 0, 0, 0xeb, 0x09 };
static const uint8_t code_b[] = { 0xbb, 0x02, 0, 0, 0, 0xf4 };
static const uint8_t code_c[] = { 0xb9, 0x03, 0, 0, 0, 0xf4 };

struct probe {
    struct cpustate cs;
    struct redirect r;
    bool quit_flag;     /* set both flags (false: only the exit request) */
    bool settle;        /* take the flag back at 0x1020's hook */
    bool stop;          /* and stop there */
    int seen_b, seen_c;
};

static void on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    struct probe *p = user;
    (void)size;
    if (addr == 0x1010 && p->seen_b++ == 0) {
        cpustate_load_prefix(&p->cs, uc);
        cpustate_set_rip(&p->cs, 0x1020);
        cpustate_store_changed(&p->cs, uc);
        if (p->quit_flag) {
            redirect_request(&p->r);
        } else {
            *p->r.exit_high = -1;
        }
    } else if (addr == 0x1020) {
        p->seen_c++;
        if (p->settle)
            redirect_settle(&p->r);
        if (p->stop)
            uc_emu_stop(uc);
    }
}

struct regs {
    uint64_t rax, rbx, rcx, rip;
};

static struct regs run(struct probe *p)
{
    uc_engine *uc;
    cr_assert_eq(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), UC_ERR_OK);
    cr_assert_eq(uc_mem_map(uc, 0, 0x2000, UC_PROT_ALL), UC_ERR_OK);
    cr_assert_eq(uc_mem_write(uc, 0x1000, code_a, sizeof code_a), UC_ERR_OK);
    cr_assert_eq(uc_mem_write(uc, 0x1010, code_b, sizeof code_b), UC_ERR_OK);
    cr_assert_eq(uc_mem_write(uc, 0x1020, code_c, sizeof code_c), UC_ERR_OK);
    cr_assert_eq(cpustate_open(&p->cs, uc), 0);
    /* redirect_open checks the flags after a run, as vsbox does after its first block:
     * a NOP elsewhere, up to the address after it */
    static const uint8_t nop = 0x90;
    cr_assert_eq(uc_mem_write(uc, 0x1030, &nop, 1), UC_ERR_OK);
    cr_assert_eq(uc_emu_start(uc, 0x1030, 0x1031, 0, 0), UC_ERR_OK);
    cr_assert(redirect_open(&p->r, uc), "the flags of this Unicorn were not found");
    uint64_t rax = 0;
    uc_reg_write(uc, UC_X86_REG_RAX, &rax);
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)on_block, p, 1, 0), UC_ERR_OK);
    cr_assert_eq(uc_emu_start(uc, 0x1000, 0, 0, 0), UC_ERR_OK);
    struct regs r;
    uc_reg_read(uc, UC_X86_REG_RAX, &r.rax);
    uc_reg_read(uc, UC_X86_REG_RBX, &r.rbx);
    uc_reg_read(uc, UC_X86_REG_RCX, &r.rcx);
    uc_reg_read(uc, UC_X86_REG_RIP, &r.rip);
    cpustate_close(&p->cs);
    uc_close(uc);
    return r;
}

Test(redirect, the_block_is_left_unrun_and_the_run_goes_on_at_the_new_rip)
{
    struct probe p = { .quit_flag = true, .settle = true };
    struct regs r = run(&p);
    cr_expect_eq(r.rax, 1);
    cr_expect_eq(r.rbx, 0, "the redirected block ran");
    cr_expect_eq(r.rcx, 3, "the new RIP did not run");
    cr_expect_eq(p.seen_b, 1);
    cr_expect_eq(p.seen_c, 1);
    cr_expect_eq(r.rip, 0x1026);
}

Test(redirect, a_stop_after_it_holds_once_the_flag_is_taken_back)
{
    struct probe p = { .quit_flag = true, .settle = true, .stop = true };
    struct regs r = run(&p);
    cr_expect_eq(r.rcx, 0);
    cr_expect_eq(r.rip, 0x1020);
    cr_expect_eq(p.seen_c, 1, "the stop was dropped and the block's hook ran again");
}

Test(redirect, control_without_taking_the_flag_back_unicorn_drops_the_stop)
{
    struct probe p = { .quit_flag = true, .settle = false, .stop = true };
    struct regs r = run(&p);
    /* Unicorn's loop saw the flag, cancelled the stop and entered the block again: its
     * hook ran twice (the second stop held, the flag being cleared by then). */
    cr_expect_eq(p.seen_c, 2);
    cr_expect_eq(r.rip, 0x1020);
}

Test(redirect, control_without_the_quit_flag_qemu_puts_rip_back)
{
    struct probe p = { .quit_flag = false, .settle = true };
    struct regs r = run(&p);
    /* QEMU restored RIP to the block's start: the block ran after all, its hook twice. */
    cr_expect_eq(p.seen_b, 2);
    cr_expect_eq(r.rbx, 2);
    cr_expect_eq(r.rcx, 0);
    cr_expect_eq(r.rip, 0x1016);
}
