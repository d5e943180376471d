/* Oracle 6 can fire: built with the emulator's RDMSR planted to hand the guest EDX = 0
 * (-DVSBOX_FAULT=7), the emulator engine must find it, minimise it, and write a
 * reproducer on which the correct model disagrees with what the guest saw. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "fuzz/campaign.h"
#include "fuzz/emu_engine.h"
#include "tests/support.h"

Test(planted_emu, the_emulator_engine_finds_a_guest_seeing_other_than_the_model, .timeout = 120)
{
    struct fuzz_emu_engine *g = fuzz_emu_engine_new();
    struct fuzz_campaign c = { .seed = 1, .max_runs = 20000, .viridian = -1,
                               .check = fuzz_emu_engine_check,
                               .minimize = fuzz_emu_engine_minimize, .engine = g };
    cr_assert(fuzz_campaign_run(&c));
    fuzz_emu_engine_free(g);
    cr_assert(c.found, "not found in %llu runs", (unsigned long long)c.runs);
    cr_assert_eq(c.verdict.oracle, ORACLE_EMU_AGREES, "caught by %s: %s",
                 fuzz_oracle_name(c.verdict.oracle), c.verdict.what);
    cr_assert_leq(c.finding.n, 6, "minimised to %zu lines", c.finding.n);

    char path[1024];
    snprintf(path, sizeof path, "%s/repro.trace", test_tmpdir());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fuzz_write_reproducer(f, &c.finding, &c.verdict), 0);
    cr_assert_eq(fclose(f), 0);
    const char *args[] = { "replay", path, NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 1, "the correct model should disagree with the guest:\n%s%s", r.out,
                 r.err);
    cr_assert(strstr(r.out, "expected ") && strstr(r.out, ", got "), "%s", r.out);
    run_result_free(&r);
}
