/* The translation guard (emu/guard.c): the rule itself, and a survey against the real
 * Unicorn that every instruction form which aborts it is one the guard refuses. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "emu/internal.h"

static enum guard_verdict verdict(const char *bytes, size_t n)
{
    return guard_check((const uint8_t *)bytes, n, true);
}

static bool refuses(const char *bytes, size_t n)
{
    return verdict(bytes, n) == GUARD_UD;
}

Test(guard, far_call_and_jmp_need_a_memory_operand)
{
    cr_assert(refuses("\xff\xd8", 2), "call far through eax");
    cr_assert(refuses("\xff\xe8", 2), "jmp far through eax");
    cr_assert(refuses("\x48\xff\xe8", 3), "with REX.W");
    cr_assert(refuses("\x66\xf2\xff\xdf", 4), "after prefixes, any register");
    cr_assert_not(refuses("\xff\x18", 2), "call far [rax] is fine");
    cr_assert_not(refuses("\xff\x28", 2), "jmp far [rax] is fine");
    cr_assert_not(refuses("\xff\xd0", 2), "call rax is fine");
    cr_assert_not(refuses("\xff\xe0", 2), "jmp rax is fine");
}

Test(guard, lock_only_on_lockable_instructions_with_a_memory_destination)
{
    cr_assert_not(refuses("\xf0\x01\x00", 3), "lock add [rax], eax");
    cr_assert_not(refuses("\xf0\x48\x0f\xc1\x00", 5), "lock xadd [rax], rax");
    cr_assert_not(refuses("\xf0\x0f\xc7\x08", 4), "lock cmpxchg8b [rax]");
    cr_assert_not(refuses("\xf0\x0f\xba\x28\x01", 5), "lock bts [rax], 1");
    cr_assert_not(refuses("\xf0\xf7\x18", 3), "lock neg [rax]");
    cr_assert_not(refuses("\xf0\x0f\x22\xc0", 4), "AMD's lock mov cr0 (CR8) stays Unicorn's");
    cr_assert(refuses("\xf0\x01\xc0", 3), "lock add eax, eax: register destination");
    cr_assert(refuses("\xf0\x39\x00", 3), "lock cmp [rax], eax: CMP is not lockable");
    cr_assert(refuses("\xf0\x81\x38\x01\x00\x00\x00", 7), "lock cmp [rax], 1 (group 1 /7)");
    cr_assert(refuses("\xf0\xf0\xa6", 3), "lock lock cmpsb (found by fuzz_emu)");
    cr_assert(refuses("\xf0\x0f\xa3\xc0", 4), "lock bt eax, eax");
    cr_assert(refuses("\xf0\x0f\xba\xe0\x01", 5), "lock bt eax, 1");
    cr_assert(refuses("\xf0\x90", 2), "lock nop");
    cr_assert(refuses("\xf0\x0f\x38\x00\x00", 5), "lock on the 0F38 map");
    cr_assert(refuses("\xf0\xa6", 2), "LOCK CMPSB cut off at its end: the opcode decides");
    cr_assert_not(refuses("\xf0", 1), "a LOCK cut off by the end of RAM is a fetch fault");
}

Test(guard, debug_register_moves_are_left_to_vsbox)
{
    cr_assert_eq(verdict("\x0f\x23\xf8", 3), GUARD_DEBUG_REG, "mov dr7, rax");
    cr_assert_eq(verdict("\x0f\x23\x6c", 3), GUARD_DEBUG_REG, "mov dr5, rsp (ModRM.mod ignored)");
    cr_assert_eq(verdict("\x0f\x21\xc0", 3), GUARD_DEBUG_REG, "mov rax, dr0");
    cr_assert_eq(verdict("\x66\x44\x0f\x23\xc0", 5), GUARD_DEBUG_REG, "prefixes, REX.R");
    cr_assert_eq(verdict("\xf0\x0f\x23\xf8", 4), GUARD_UD, "LOCK comes first: #UD");
    cr_assert_eq(verdict("\x0f\x22\xc0", 3), GUARD_PASS, "mov cr0, rax stays Unicorn's");
    cr_assert_eq(verdict("\x0f\x20\xc0", 3), GUARD_PASS, "mov rax, cr0 stays Unicorn's");
}

/* Unicorn 2.0.1 in a child: 0 when it translated and ran `count` instructions (0: to
 * the end of the code), else the signal that killed it. */
static int unicorn_run(uc_engine *uc, const uint8_t *code, size_t n, size_t count)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2); /* Unicorn prints "tcg fatal error" before it aborts */
        uint64_t rsp = 0x8000, rax = 0x2000;
        uc_mem_write(uc, 0x1000, code, n);
        uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
        uc_reg_write(uc, UC_X86_REG_RAX, &rax);
        uc_emu_start(uc, 0x1000, 0x1000 + n, 0, count);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* Form number i of a survey: prefixes x map x opcode x (eight register forms, one with
 * memory), then zero bytes and HLT. Returns the length. */
static size_t survey_form(const uint8_t *const *prefixes, size_t i, uint8_t code[32])
{
    static const uint8_t escape2[] = { 0, 0, 0x38, 0x3a };
    unsigned form = i % 9, op = i / 9 % 256, m = (unsigned)(i / (9 * 256) % 4);
    size_t n = 0;
    for (const uint8_t *b = prefixes[i / (9 * 256 * 4)]; *b; b++)
        code[n++] = *b;
    if (m >= 1)
        code[n++] = 0x0f;
    if (m >= 2)
        code[n++] = escape2[m];
    code[n++] = (uint8_t)op;
    /* ModRM: the register form with each reg field, then a memory form */
    code[n++] = form < 8 ? (uint8_t)(0xc0 | form << 3) : 0x00;
    memset(code + n, 0, 8);
    n += 8;
    code[n++] = 0xf4;
    return n;
}

/* Every form translated and run from a fresh Unicorn state, with as few forks as
 * possible: a child runs form after form, each from the same saved registers, zeroed
 * memory and its code translated anew, until one kills it; the form it was on is in
 * shared memory. (One fork per form took the survey close to CTest's limit under ASan.) */
static void survey(uc_mode mode, const uint8_t *const *prefixes, size_t n_prefixes)
{
    enum { RAM = 0x10000 };
    static const uint8_t zero[RAM];
    uc_engine *uc;
    uc_context *ctx;
    cr_assert_eq(uc_open(UC_ARCH_X86, mode, &uc), UC_ERR_OK);
    cr_assert_eq(uc_mem_map(uc, 0, RAM, UC_PROT_ALL), UC_ERR_OK);
    uint64_t rsp = 0x8000, rax = 0x2000;
    uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
    uc_reg_write(uc, UC_X86_REG_RAX, &rax);
    cr_assert_eq(uc_context_alloc(uc, &ctx), UC_ERR_OK);
    cr_assert_eq(uc_context_save(uc, ctx), UC_ERR_OK);
    volatile size_t *at = mmap(NULL, sizeof *at, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq((void *)at, MAP_FAILED);
    size_t total = n_prefixes * 4 * 256 * 9;
    unsigned aborts = 0;
    for (size_t next = 0; next < total;) {
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 2); /* Unicorn prints "tcg fatal error" before it aborts */
            for (size_t i = next; i < total; i++) {
                uint8_t code[32];
                size_t n = survey_form(prefixes, i, code);
                *at = i;
                uc_context_restore(uc, ctx);
                uc_mem_write(uc, 0, zero, RAM);
                uc_mem_write(uc, 0x1000, code, n);
                uc_ctl_remove_cache(uc, 0x1000, 0x1000 + n); /* translate it afresh */
                uc_emu_start(uc, 0x1000, 0x1000 + n, 0, 1);
            }
            _exit(0);
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status))
            break;
        size_t i = *at;
        if (WTERMSIG(status) == SIGABRT) {
            uint8_t code[32];
            size_t n = survey_form(prefixes, i, code);
            aborts++;
            cr_expect(guard_check(code, n, mode == UC_MODE_64) != GUARD_PASS,
                      "Unicorn aborts on %02x %02x %02x %02x %02x but the guard "
                      "lets it through", code[0], code[1], code[2], code[3], code[4]);
        }
        next = i + 1;
    }
    munmap((void *)at, sizeof *at);
    uc_context_free(ctx);
    uc_close(uc);
    cr_assert_gt(aborts, 0, "this Unicorn aborts on nothing: is it newer than 2.0.1?");
}

Test(guard, every_form_that_aborts_unicorn_64_is_refused, .timeout = 600)
{
    static const uint8_t none[] = { 0 }, lock[] = { 0xf0, 0 }, osize_lock[] = { 0x66, 0xf0, 0 },
                         rep[] = { 0xf3, 0 }, rex_lock[] = { 0x48, 0xf0, 0 };
    const uint8_t *prefixes[] = { none, lock, osize_lock, rep, rex_lock };
    survey(UC_MODE_64, prefixes, 5);
}

Test(guard, every_form_that_aborts_unicorn_32_is_refused, .timeout = 600)
{
    static const uint8_t none[] = { 0 }, lock[] = { 0xf0, 0 };
    const uint8_t *prefixes[] = { none, lock };
    survey(UC_MODE_32, prefixes, 2);
}

/* Why the guard takes MOV DRn from Unicorn: arming an execute breakpoint (DR7.L0 with
 * RW0 = 00) crashes it in its generated code on the next instructions. If this starts
 * to pass, Unicorn was fixed and debugreg.c may hand breakpoints back to it. */
Test(guard, unicorn_crashes_once_an_execute_breakpoint_is_armed)
{
    static const uint8_t code[] = {
        0x48, 0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00, /* mov rax, 1 */
        0x0f, 0x23, 0xf8,                         /* mov dr7, rax */
        0x88, 0x03, 0x90, 0x90, 0xf4,             /* mov [rbx], al; nop; nop; hlt */
    };
    uc_engine *uc;
    cr_assert_eq(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), UC_ERR_OK);
    cr_assert_eq(uc_mem_map(uc, 0, 0x10000, UC_PROT_ALL), UC_ERR_OK);
    int sig = unicorn_run(uc, code, sizeof code - 1, 0);
    uc_close(uc);
    cr_assert_neq(sig, 0, "Unicorn ran an armed execute breakpoint: is it newer than 2.0.1?");
}
