/* A bugcheck reported through the crash MSRs, as Windows does it (KeBugCheckEx with the
 * Hyper-V crash enlightenment): if CPUID 0x40000003 EDX says GuestCrashMsrsAvailable,
 * read HV_X64_MSR_CRASH_CTL for the supported actions, write the bugcheck code and its
 * four parameters to HV_X64_MSR_CRASH_P0-P4, then CrashNotify to HV_X64_MSR_CRASH_CTL.
 *
 * Xen (viridian.c, then viridian/viridian.c) keeps P0-P4 per vCPU and answers CTL reads
 * with CrashNotify; a CrashNotify write is logged ("VIRIDIAN CRASH: ..."), and from 4.12
 * (commit c217412e9d) also sets the domain's shutdown code to crash, so however the guest
 * then stops, the toolstack sees a crash: vsbox reports the parameters and exits 1. On
 * 4.9-4.11 it only logs. The guest itself passes: it checks only that the MSRs behave. */
#include "runtime/guest.h"

const char test_title[] = "crash: a bugcheck reported through HV_X64_MSR_CRASH_CTL";

/* DRIVER_IRQL_NOT_LESS_OR_EQUAL: address, IRQL, access, the faulting instruction. */
static const uint64_t bugcheck[5] = {
    0xd1, 0xfffff80012345000ull, 2, 0, 0xfffff80001234567ull,
};

void test_main(void)
{
    uint32_t r[4];
    if (!viridian_present())
        skip("no viridian leaves: Windows would not use the crash MSRs");
    cpuid(0x40000003, r);
    if (!(r[3] & CPUID3D_CRASH_MSRS))
        skip("CPUID 0x40000003 EDX 0x%x: no GuestCrashMsrsAvailable, Windows would not "
             "report through the crash MSRs", r[3]);

    uint64_t ctl = 0, v = 0;
    check(rdmsr_safe(HV_X64_MSR_CRASH_CTL, &ctl) == 0, "HV_X64_MSR_CRASH_CTL reads");
    check(ctl & HV_CRASH_CTL_CRASH_NOTIFY, "HV_X64_MSR_CRASH_CTL offers CrashNotify (0x%lx)",
          (unsigned long)ctl);
    for (unsigned i = 0; i < 5; i++) {
        if (wrmsr_safe(HV_X64_MSR_CRASH_P0 + i, bugcheck[i]))
            fail("HV_X64_MSR_CRASH_P%u: the write faulted", i);
        int rc = rdmsr_safe(HV_X64_MSR_CRASH_P0 + i, &v);
        check(rc == 0 && v == bugcheck[i], "HV_X64_MSR_CRASH_P%u = 0x%lx", i, (unsigned long)v);
    }
    printf("bugcheck 0x%lx (0x%lx, 0x%lx, 0x%lx, 0x%lx): CrashNotify\n",
           (unsigned long)bugcheck[0], (unsigned long)bugcheck[1], (unsigned long)bugcheck[2],
           (unsigned long)bugcheck[3], (unsigned long)bugcheck[4]);
    check(wrmsr_safe(HV_X64_MSR_CRASH_CTL, HV_CRASH_CTL_CRASH_NOTIFY) == 0,
          "HV_X64_MSR_CRASH_CTL takes CrashNotify");
    pass();
}
