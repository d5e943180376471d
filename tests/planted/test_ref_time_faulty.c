/* The ref-time guest is only worth running if it catches a counter that runs while the
 * domain is paused: Xen before commit f6a07643e1 ("x86/viridian: freeze time reference
 * counter when domain is paused", first in RELEASE-4.5.0). Built against a model with
 * FAULT_TRC_RUNS_PAUSED (viridian/planted.h) under the real emulator, it moves the
 * unmodified guest mid-loop as vsbox migrate does (pause, 10 ms of downtime, save,
 * restore) and checks that the guest fails and names the jump. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "emu/emu.h"
#include "snapshot/snapshot.h"
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/planted.h"

#if VSBOX_FAULT != 8
#error "test_ref_time_faulty is built only with FAULT_TRC_RUNS_PAUSED"
#endif

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

static const char *migrate_ref_time(const char *host, uint64_t viridian, struct emu_result *res)
{
    static struct console con;
    memset(&con, 0, sizeof con);
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/guests/ref-time.elf", VSBOX_BUILD_DIR);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static uint8_t image[1 << 20];
    size_t len = fread(image, 1, sizeof image, f);
    fclose(f);

    const struct vprofile *h = vprofile_find(host);
    struct emu_config cfg = { .model = { .host = h, .viridian = viridian }, .memory_mib = 16,
                              .budget = 100000000000ull, .save_at = 60,
                              .sink = { .ctx = &con, .console = put } };
    struct emu *e, *e2;
    cr_assert_eq(emu_create(&cfg, &e, err, sizeof err), 0, "%s", err);
    cr_assert_eq(emu_load(e, image, len, false, 0, err, sizeof err), 0, "%s", err);
    emu_run(e, res);
    cr_assert_eq(res->stop, EMU_SAVE_POINT, "%s", con.text);
    struct vmodel *m = emu_model(e);
    vmodel_pause(m);
    vmodel_advance(m, (uint64_t)vmodel_tsc_khz(m) * 10); /* vsbox migrate's default */
    struct snapshot *snap = calloc(1, sizeof *snap);
    emu_save(e, snap);
    cfg.save_at = 0;
    cr_assert_eq(emu_restore(&cfg, snap, h, &e2, err, sizeof err), 0, "%s", err);
    emu_destroy(e);
    emu_run(e2, res);
    emu_destroy(e2);
    free(snap);
    return con.text;
}

Test(ref_time_faulty, catches_a_counter_that_ran_while_paused)
{
    struct emu_result res;
    const char *out = migrate_ref_time("xen-4.22", HVMPV_base_freq | HVMPV_time_ref_count, &res);
    cr_assert_eq(res.stop, EMU_EXITED, "%s", out);
    cr_assert_neq(res.exit_code, 0, "the guest passed a wrong model:\n%s", out);
    cr_assert(strstr(out, "FAIL HV_X64_MSR_TIME_REF_COUNT never jumped"), "%s", out);
    cr_assert(strstr(out, "jumped forward by 1000"), "%s", out); /* 100000 units: 10 ms */
}

/* The same move without the counter (viridian base only) passes on this build: the
 * failure above is the fault, not a broken guest or harness. */
Test(ref_time_faulty, passes_where_the_fault_does_not_show)
{
    struct emu_result res;
    const char *out = migrate_ref_time("xen-4.22", HVMPV_base_freq, &res);
    cr_assert_eq(res.stop, EMU_EXITED, "%s", out);
    cr_assert_eq(res.exit_code, 0, "%s", out);
}
