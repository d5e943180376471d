/* The choices Linux's Hyper-V platform code makes from these leaves (ms_hyperv_init_platform):
 * which MSRs it will use, and whether it trusts the TSC frequency MSR or calibrates. */
#include "runtime/guest.h"

const char test_title[] = "linux-detect: what Linux would decide from the viridian leaves";

void test_main(void)
{
    uint32_t r[4];
    if (!viridian_present()) {
        printf("hypervisor: not Hyper-V compatible; Linux would use Xen's own interfaces\n");
        pass();
    }
    cpuid(0x40000003, r);
    uint32_t features = r[0];
    printf("Hyper-V: features 0x%x\n", features);
    printf("  hypercalls: %s\n",
           features & CPUID3A_MSR_HYPERCALL ? "yes, via the hypercall page" : "no");
    printf("  VP index:   %s\n",
           features & CPUID3A_MSR_VP_INDEX ? "read from HV_X64_MSR_VP_INDEX" : "assume APIC id");
    printf("  APIC MSRs:  %s\n", features & CPUID3A_MSR_APIC_ACCESS
                                    ? "EOI/ICR/TPR through synthetic MSRs" : "memory-mapped APIC");
    /* hyperv_init_clocksource(): the TSC page when offered, else the counter MSR. */
    printf("  clocksource: %s\n",
           features & CPUID3A_MSR_REFERENCE_TSC    ? "hyperv_clocksource_tsc_page (REFERENCE_TSC)"
           : features & CPUID3A_MSR_TIME_REF_COUNT ? "hyperv_clocksource_msr (TIME_REF_COUNT)"
                                                   : "tsc");
    printf("  stimer:     %s\n", features & CPUID3A_MSR_STIMER
                                    ? "synthetic timers as clockevents" : "the local APIC timer");
    uint64_t hz;
    if ((features & CPUID3A_MSR_FREQ) && rdmsr_safe(HV_X64_MSR_TSC_FREQUENCY, &hz) == 0) {
        printf("  TSC: %lu kHz from HV_X64_MSR_TSC_FREQUENCY, no calibration\n", (unsigned long)(hz / 1000));
        check(hz != 0, "the frequency MSR gives a rate");
    } else {
        printf("  TSC: no frequency MSR; Linux would calibrate against the PIT\n");
        check(rdmsr_safe(HV_X64_MSR_TSC_FREQUENCY, &hz) != 0, "reading it anyway faults");
    }
    pass();
}
