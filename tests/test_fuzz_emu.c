/* fuzz/emu/engine.c, the emulator engine of vsbox fuzz, on a case it found itself. */
#include <criterion/criterion.h>
#include "fuzz/emu_engine.h"
#include "viridian/profile.h"

/* Found by `vsbox fuzz --engine emu --seed 1` at run 1215915 (2026-12-01). Xen's own
 * hypercall-page MSR puts Xen's stubs at guest page 0; a HvCallFlushVirtualAddressListEx
 * whose input block starts at GPA 0xf reads them as its processor set and fails
 * (HV_STATUS_INVALID_PARAMETER), as Xen would. The recording kept a pointer to the
 * model's log of that input, which the next hypercall (an unknown code) cleared: replayed
 * on zeros, the call succeeded, and the oracle saw the guest and the model disagree. */
Test(fuzz_emu, a_recorded_hypercall_keeps_its_own_input_block)
{
    struct fuzz_case c = { .host = vprofile_find("xen-4.17"), .viridian = 0x1b9,
                           .tsc_khz = 100000000, .vcpus = 1, .n = 3 };
    cr_assert_not_null(c.host);
    c.ev[0] = (struct vevent){ .kind = VEV_WRMSR, .a = { 0x40000200, 0 } };
    c.ev[1] = (struct vevent){ .kind = VEV_HYPERCALL, .a = { 0x458efa8f83320014ull, 0xf, 0xf } };
    c.ev[2] = (struct vevent){ .kind = VEV_HYPERCALL, .a = { 0xfee00900, 0x10009, ~0ull } };
    static struct fuzz_case shaped, rec;
    fuzz_emu_shape(&c, &shaped);
    cr_assert_eq(shaped.n, 3);
    struct fuzz_emu *f;
    char err[256];
    cr_assert_eq(fuzz_emu_create(&f, err, sizeof err), 0, "%s", err);
    static struct fuzz_verdict v;
    bool ok = fuzz_emu_check(f, &shaped, &v, &rec);
    cr_expect(ok, "event %zu: %s", v.index, v.what);
    /* and the flush's status was the failure, read from the stubs */
    int flushes = 0;
    for (size_t i = 0; i < rec.n; i++)
        if (rec.ev[i].kind == VEV_HYPERCALL && (uint16_t)rec.ev[i].a[0] == 0x14) {
            flushes++;
            cr_expect_eq(v.results[i].v[0], 5, "HvCallFlushVirtualAddressListEx: 0x%llx",
                         (unsigned long long)v.results[i].v[0]);
            cr_expect_gt(rec.ev[i].input_words, 0);
        }
    cr_expect_eq(flushes, 1);
    fuzz_emu_destroy(f);
}
