/* The msr-matrix guest is only worth running if it catches a wrong model. This file
 * is built against a model with one planted fault (viridian/planted.h), swapped in under
 * the real emulator, and checks that the unmodified guest fails and names the MSR. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "emu/emu.h"
#include "viridian/planted.h"
#include "viridian/hvmpv.h"

struct console {
    char text[8192];
    size_t len;
};

static void put(void *ctx, char c)
{
    struct console *con = ctx;
    if (con->len + 1 < sizeof con->text)
        con->text[con->len++] = c;
}

static const char *run_matrix(uint64_t viridian, struct emu_result *res)
{
    static struct console con;
    memset(&con, 0, sizeof con);
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/guests/msr-matrix.elf", VSBOX_BUILD_DIR);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static uint8_t image[1 << 20];
    size_t len = fread(image, 1, sizeof image, f);
    fclose(f);

    struct emu_config cfg = { .model = { .viridian = viridian }, .memory_mib = 16,
                              .budget = 100000000000ull, .sink = { .ctx = &con, .console = put } };
    struct emu *e;
    cr_assert_eq(emu_create(&cfg, &e, err, sizeof err), 0, "%s", err);
    cr_assert_eq(emu_load(e, image, len, false, 0, err, sizeof err), 0, "%s", err);
    emu_run(e, res);
    emu_destroy(e);
    return con.text;
}

#if VSBOX_FAULT == 1 /* FAULT_FREQ_UNGATED (an enum: the preprocessor needs the number) */
/* The frequency MSRs answer although leaf 3 does not advertise them. */
Test(msr_matrix_faulty, catches_frequency_msrs_that_ignore_no_freq)
{
    struct emu_result res;
    const char *out = run_matrix(HVMPV_base_freq | HVMPV_no_freq, &res);
    cr_assert_eq(res.stop, EMU_EXITED, "%s", out);
    cr_assert_neq(res.exit_code, 0, "the guest passed a wrong model:\n%s", out);
    cr_assert(strstr(out, "FAIL TSC_FREQUENCY    read ok  write #GP (advertised: no)"), "%s",
              out);
    cr_assert(strstr(out, "FAIL APIC_FREQUENCY   read ok  write #GP (advertised: no)"), "%s",
              out);
    cr_assert(strstr(out, "Test result: FAILURE"), "%s", out);
}
#elif VSBOX_FAULT == 5 /* FAULT_ADVERTISE_TRC */
/* Leaf 3 advertises HV_X64_MSR_TIME_REF_COUNT, whose group is off. */
Test(msr_matrix_faulty, catches_an_advertised_msr_that_faults)
{
    struct emu_result res;
    const char *out = run_matrix(HVMPV_base_freq, &res);
    cr_assert_eq(res.stop, EMU_EXITED, "%s", out);
    cr_assert_neq(res.exit_code, 0, "the guest passed a wrong model:\n%s", out);
    cr_assert(strstr(out, "FAIL TIME_REF_COUNT   read #GP write #GP (advertised: yes)"), "%s",
              out);
}
#else
#error "test_msr_matrix_faulty is built only with a planted MSR fault"
#endif

/* The same guest on the same build passes with the fault's trigger off: the failure
 * above is the fault, not a broken guest. */
Test(msr_matrix_faulty, passes_where_the_fault_does_not_show)
{
    struct emu_result res;
    const char *out = run_matrix(0, &res); /* no viridian: no leaf 3 to lie in */
    cr_assert_eq(res.stop, EMU_EXITED, "%s", out);
    cr_assert_eq(res.exit_code, 0, "%s", out);
}
