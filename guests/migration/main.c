/* What a guest can see must not change under it while it runs, wherever it runs: it
 * looks at the viridian leaves, the frequency MSR and the clock once, then again and
 * again (run it with `vsbox migrate` and move it mid-loop). The seed patch's reason to
 * exist: a boolean viridian=1 guest moved from Xen 4.3 to 4.4 saw the frequency MSRs
 * appear under it. */
#include "runtime/guest.h"

#define ROUNDS 50

const char test_title[] = "migration: the viridian interface never changes under a running guest";

struct view {
    uint32_t vendor, msrs, hints;  /* 0x40000000 EBX, 0x40000003 EAX, 0x40000004 EAX */
    int freq_rc;                   /* rdmsr_safe(HV_X64_MSR_TSC_FREQUENCY) */
    uint64_t freq;
};

static void look(struct view *v)
{
    uint32_t r[4];
    cpuid(0x40000000, r);
    v->vendor = r[1];
    v->msrs = v->hints = 0;
    if (v->vendor == 0x7263694d) { /* "Micr": else 0x40000003 is one of Xen's leaves */
        cpuid(0x40000003, r);
        v->msrs = r[0];
        cpuid(0x40000004, r);
        v->hints = r[0];
    }
    v->freq = 0;
    v->freq_rc = rdmsr_safe(HV_X64_MSR_TSC_FREQUENCY, &v->freq);
}

void test_main(void)
{
    struct view first, now;
    look(&first);
    if (first.vendor == 0x7263694d)
        printf("at start: CPUID 0x40000003 EAX 0x%x, ", first.msrs);
    else
        printf("at start: no viridian leaves, ");
    printf("HV_X64_MSR_TSC_FREQUENCY %s", first.freq_rc ? "#GP\n" : "");
    if (!first.freq_rc)
        printf("%lu kHz\n", (unsigned long)(first.freq / 1000));
    uint64_t last_tsc = rdtsc();
    bool vendor_ok = true, msrs_ok = true, hints_ok = true, freq_ok = true, tsc_ok = true;
    for (int i = 1; i <= ROUNDS; i++) {
        look(&now);
        uint64_t tsc = rdtsc();
        if (now.vendor != first.vendor && vendor_ok) {
            printf("round %d: CPUID 0x40000000 EBX 0x%x -> 0x%x: another hypervisor\n", i,
                   first.vendor, now.vendor);
            vendor_ok = false;
        }
        if (now.msrs != first.msrs && msrs_ok) {
            printf("round %d: CPUID 0x40000003 EAX 0x%x -> 0x%x: the MSRs I may use changed\n",
                   i, first.msrs, now.msrs);
            msrs_ok = false;
        }
        if (now.hints != first.hints && hints_ok) {
            printf("round %d: CPUID 0x40000004 EAX 0x%x -> 0x%x\n", i, first.hints, now.hints);
            hints_ok = false;
        }
        if ((now.freq_rc != first.freq_rc || now.freq != first.freq) && freq_ok) {
            printf("round %d: HV_X64_MSR_TSC_FREQUENCY %s -> %s\n", i,
                   first.freq_rc ? "#GP" : "readable", now.freq_rc ? "#GP" : "readable");
            freq_ok = false;
        }
        if (tsc < last_tsc && tsc_ok) {
            printf("round %d: the TSC went back 0x%lx -> 0x%lx\n", i, (unsigned long)last_tsc,
                   (unsigned long)tsc);
            tsc_ok = false;
        }
        last_tsc = tsc;
    }
    check(vendor_ok, "the hypervisor vendor stayed the same");
    check(msrs_ok, "the MSRs advertised in CPUID 0x40000003 stayed the same");
    check(hints_ok, "the recommendations in CPUID 0x40000004 stayed the same");
    check(freq_ok, "HV_X64_MSR_TSC_FREQUENCY stayed as it was");
    check(tsc_ok, "the TSC never went back");
    pass();
}
