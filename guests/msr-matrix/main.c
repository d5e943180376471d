/* Every viridian MSR works exactly when CPUID 0x40000003 advertises it: the idea of
 * KVM's hyperv_features selftest, applied to vsbox. */
#include "runtime/guest.h"

#define CPUID3A_TIME_REF_COUNT (1u << 1)
#define CPUID3A_APIC_ACCESS (1u << 4)
#define CPUID3A_HYPERCALL (1u << 5)
#define CPUID3A_VP_INDEX (1u << 6)
#define CPUID3A_FREQ (1u << 11)

const char test_title[] = "msr-matrix: each viridian MSR works exactly when advertised";

static const struct {
    uint32_t msr;
    const char *name;
    uint32_t bit;          /* advertising CPUID bit */
    bool read, write;      /* what Xen 4.5 gives the guest once advertised */
} msrs[] = {
    { HV_X64_MSR_GUEST_OS_ID, "GUEST_OS_ID", CPUID3A_HYPERCALL, true, true },
    { HV_X64_MSR_HYPERCALL, "HYPERCALL", CPUID3A_HYPERCALL, true, true },
    /* The TLFS makes VP_INDEX read-only; Xen 4.5 accepts a write and ignores it. */
    { HV_X64_MSR_VP_INDEX, "VP_INDEX", CPUID3A_VP_INDEX, true, true },
    { HV_X64_MSR_TIME_REF_COUNT, "TIME_REF_COUNT", CPUID3A_TIME_REF_COUNT, true, false },
    { HV_X64_MSR_TSC_FREQUENCY, "TSC_FREQUENCY", CPUID3A_FREQ, true, false },
    { HV_X64_MSR_APIC_FREQUENCY, "APIC_FREQUENCY", CPUID3A_FREQ, true, false },
    { HV_X64_MSR_EOI, "EOI", CPUID3A_APIC_ACCESS, false, true },
    { HV_X64_MSR_ICR, "ICR", CPUID3A_APIC_ACCESS, true, true },
    { HV_X64_MSR_TPR, "TPR", CPUID3A_APIC_ACCESS, true, true },
    { HV_X64_MSR_APIC_ASSIST_PAGE, "APIC_ASSIST_PAGE", CPUID3A_APIC_ACCESS, true, true },
};

/* Xen's own hypercall-page MSR, from its leaf base+2 EBX; 0 when absent. */
static uint32_t xen_msr(void)
{
    uint32_t base = xen_leaves(), r[4];
    if (!base)
        return 0;
    cpuid(base + 2, r);
    return r[1];
}

void test_main(void)
{
    uint32_t adv = viridian_msrs(), xen = xen_msr();
    printf("CPUID 0x40000003 EAX = 0x%x%s\n", adv, adv ? "" : " (no viridian)");
    if (xen >= HV_X64_MSR_GUEST_OS_ID && xen <= HV_X64_MSR_APIC_ASSIST_PAGE)
        printf("Xen's hypercall-page MSR is 0x%x (CPUID 0x%x EBX): it answers there\n", xen,
               xen_leaves() + 2);
    for (unsigned i = 0; i < sizeof msrs / sizeof msrs[0]; i++) {
        /* Without viridian, Xen's own MSR may sit on a viridian number: it works. */
        bool on = (adv & msrs[i].bit) != 0 || msrs[i].msr == xen;
        const char *why = adv & msrs[i].bit ? "yes" : msrs[i].msr == xen ? "no, Xen's MSR" : "no";
        uint64_t v = 0;
        int rd = rdmsr_safe(msrs[i].msr, &v);
        /* write back what was read (or 0): a write that changes nothing */
        int wr = msrs[i].msr == HV_X64_MSR_HYPERCALL ? wrmsr_safe(msrs[i].msr, v & ~1ull)
                                                     : wrmsr_safe(msrs[i].msr, rd ? 0 : v);
        check((rd == 0) == (on && msrs[i].read), "rdmsr %-16s %-3s (advertised: %s)",
              msrs[i].name, rd ? "#GP" : "ok", why);
        check((wr == 0) == (on && msrs[i].write), "wrmsr %-16s %-3s (advertised: %s)",
              msrs[i].name, wr ? "#GP" : "ok", why);
    }
    pass();
}
