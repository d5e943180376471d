/* The built-in fuzzer on the correct model, and its dictionary. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "fuzz/campaign.h"
#include "tests/support.h"
#include "viridian/msr.h"

Test(fuzz, the_correct_model_passes_every_oracle_on_every_host)
{
    struct fuzz_campaign c = { .seed = 42, .max_runs = 20000, .viridian = -1 };
    cr_assert(fuzz_campaign_run(&c));
    cr_assert_not(c.found, "oracle %s: %s", fuzz_oracle_name(c.verdict.oracle), c.verdict.what);
    cr_assert_eq(c.runs, 20000);
    cr_assert_gt(c.states, 10, "only %llu distinct states", (unsigned long long)c.states);
}

Test(fuzz, generation_depends_only_on_the_seed)
{
    struct fuzz_rng a = { 9 }, b = { 9 };
    struct fuzz_case x, y;
    for (int i = 0; i < 100; i++) {
        fuzz_generate(&a, vprofile_default(), -1, &x);
        fuzz_generate(&b, vprofile_default(), -1, &y);
        cr_assert_eq(x.n, y.n);
        cr_assert_eq(memcmp(x.ev, y.ev, x.n * sizeof x.ev[0]), 0);
    }
}

Test(fuzz, every_msr_of_the_table_is_in_the_dictionary)
{
    FILE *f = fopen(src_path("fuzz/trace.dict"), "r");
    cr_assert_not_null(f);
    static char dict[16384];
    size_t n = fread(dict, 1, sizeof dict - 1, f);
    fclose(f);
    dict[n] = '\0';
    size_t rows;
    const struct vmsr_info *t = vmsr_table(&rows);
    for (size_t i = 0; i < rows; i++) {
        /* a range's first and last MSR */
        uint32_t ends[2] = { t[i].msr, t[i].msr + (t[i].count - 1) * t[i].stride };
        for (int k = 0; k < 2; k++) {
            char want[32];
            snprintf(want, sizeof want, "\"0x%x\"", ends[k]);
            cr_expect(strstr(dict, want), "%s (%s) missing from fuzz/trace.dict", want,
                      t[i].name);
        }
    }
}

Test(fuzz_cmd, a_clean_run_prints_a_summary_and_exits_0)
{
    const char *args[] = { "fuzz", "--runs", "2000", "--seed", "3", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "vsbox fuzz: model engine, 2000 runs ("), "%s", r.out);
    cr_assert(strstr(r.out, " 0 findings\n"), "%s", r.out);
    run_result_free(&r);
}

/* The same sequences as real guest code: the guest sees exactly the model's answers. */
Test(fuzz_cmd, the_emulator_engine_agrees_with_the_model, .timeout = 120)
{
    const char *args[] = { "fuzz", "--engine", "emu", "--runs", "3000", "--seed", "7", NULL };
    struct run_result r = run_vsbox(args, NULL);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "vsbox fuzz: emu engine, 3000 runs ("), "%s", r.out);
    cr_assert(strstr(r.out, " 0 findings\n"), "%s", r.out);
    run_result_free(&r);
}

Test(fuzz_cmd, bad_options_exit_2)
{
    const char *a1[] = { "fuzz", "--runs", "0", NULL };
    const char *a2[] = { "fuzz", "--host", "xen-0.1", NULL };
    const char *a3[] = { "fuzz", "--viridian", "base", NULL };
    const char *a4[] = { "fuzz", "--engine", "qemu", NULL };
    const char *const *cases[] = { a1, a2, a3, a4 };
    for (size_t i = 0; i < 4; i++) {
        struct run_result r = run_vsbox(cases[i], NULL);
        cr_assert_eq(r.status, 2, "case %zu: %s", i, r.err);
        cr_assert_eq(count_lines_with(r.err, "vsbox:"), 1, "%s", r.err);
        run_result_free(&r);
    }
}
