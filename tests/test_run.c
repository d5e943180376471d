/* The run loop (emu/run.c): a budget in guest instructions, a guest that runs off its
 * code stopped at the first empty page, and Ctrl-C. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/emu_util.h"

Test(run, a_guest_that_falls_off_its_code_stops_at_the_first_empty_page)
{
    struct run_result r = run_image("slide.bin", NULL);
    cr_assert_eq(r.status, 3);
    cr_assert(strstr(r.err, "the guest ran into empty memory (the page at 0x101000 holds only "
                            "zeros: nothing was loaded or written there)"), "%s", r.err);
    run_result_free(&r);
}

Test(run, the_budget_counts_guest_instructions)
{
    /* spin.bin is one `jmp .` : a block of one instruction, counted each time round */
    const char *extra[] = { "--budget", "1000000", NULL };
    struct run_result r = run_image("spin.bin", extra);
    cr_assert_eq(r.status, 3);
    unsigned long long ran = 0;
    const char *p = strstr(r.err, "budget of 1000000 instructions exhausted (");
    cr_assert_not_null(p, "%s", r.err);
    cr_assert_eq(sscanf(p, "budget of 1000000 instructions exhausted (%llu run", &ran), 1);
    cr_assert(ran >= 1000000 && ran <= 1000000 + 512, "ran %llu", ran);
    run_result_free(&r);
}

static bool has_entry(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    bool any = false;
    while (d && !any && (de = readdir(d)))
        any = de->d_name[0] != '.';
    if (d)
        closedir(d);
    return any;
}

Test(run, ctrl_c_ends_the_run_with_130_and_keeps_the_trace_so_far)
{
    char trace[1024], dir[600];
    snprintf(dir, sizeof dir, "%s", test_tmpdir());
    snprintf(trace, sizeof trace, "%s/int.trace", dir);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(126);
        execl(VSBOX_BINARY, "vsbox", "run", test_guest("events_then_spin.bin"), "--raw",
              "0x100000", "--record", trace, (char *)NULL);
        _exit(127);
    }
    /* vsbox opens its record (under a temporary name) just before it runs the guest:
     * once the folder has an entry, give it a moment more. */
    const struct timespec tick = { 0, 20000000 }, settle = { 0, 300000000 };
    for (int i = 0; i < 500 && !has_entry(dir); i++)
        nanosleep(&tick, NULL);
    nanosleep(&settle, NULL);
    kill(pid, SIGINT);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status), "vsbox died of a signal");
    cr_assert_eq(WEXITSTATUS(status), 130);
    char *t = slurp_file(trace, NULL);
    cr_assert_not_null(t, "the trace was lost");
    cr_assert_eq(count_lines_with(t, "rdtsc -> "), 10, "%s", t);
    free(t);
}

/* irq_storm never stops the run on its own: each vector is delivered from the block hook,
 * which must not swallow a stop asked for meanwhile. SIGINT (if asked) a second after the
 * start, well into the storm; a run still going 30 s later is killed and fails the test
 * (a hang here must not hang the suite). *status as waitpid gives it. */
static void storm(const char *const *extra, bool interrupt, int *status)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        signal(SIGINT, SIG_DFL);
        const char *argv[12] = { "vsbox", "run", test_guest("irq_storm.bin"), "--raw", "0x100000" };
        int n = 5;
        for (int i = 0; extra && extra[i] && n < 11; i++)
            argv[n++] = extra[i];
        execv(VSBOX_BINARY, (char *const *)argv);
        _exit(127);
    }
    struct timespec tick = { 0, 100 * 1000000L };
    for (int i = 0; i < 300; i++) {
        if (i == 10 && interrupt)
            kill(pid, SIGINT);
        if (waitpid(pid, status, WNOHANG) == pid)
            return;
        nanosleep(&tick, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, status, 0);
    cr_assert_fail("the run did not end within 30 s");
}

Test(run, ctrl_c_ends_a_run_whose_interrupts_are_all_taken_inside_it)
{
    int status;
    storm(NULL, true, &status);
    cr_assert(WIFEXITED(status), "vsbox died of a signal");
    cr_assert_eq(WEXITSTATUS(status), 130);
}

Test(run, a_timeout_ends_a_run_whose_interrupts_never_stop)
{
    const char *extra[] = { "--timeout", "1", NULL };
    int status;
    storm(extra, false, &status);
    cr_assert(WIFEXITED(status), "vsbox died of a signal");
    cr_assert_eq(WEXITSTATUS(status), 3, "a timed-out run exits 3");
}
