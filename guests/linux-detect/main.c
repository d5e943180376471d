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
    printf("  hypercalls: %s\n", features & (1u << 5) ? "yes, via the hypercall page" : "no");
    printf("  VP index:   %s\n", features & (1u << 6) ? "read from HV_X64_MSR_VP_INDEX" : "assume APIC id");
    printf("  APIC MSRs:  %s\n", features & (1u << 4) ? "EOI/ICR/TPR through synthetic MSRs" : "memory-mapped APIC");
    printf("  clocksource: %s\n", features & (1u << 1) ? "hyperv_clocksource (TIME_REF_COUNT)" : "tsc");
    uint64_t hz;
    if ((features & (1u << 11)) && rdmsr_safe(HV_X64_MSR_TSC_FREQUENCY, &hz) == 0) {
        printf("  TSC: %lu kHz from HV_X64_MSR_TSC_FREQUENCY, no calibration\n", (unsigned long)(hz / 1000));
        check(hz != 0, "the frequency MSR gives a rate");
    } else {
        printf("  TSC: no frequency MSR; Linux would calibrate against the PIT\n");
        check(rdmsr_safe(HV_X64_MSR_TSC_FREQUENCY, &hz) != 0, "reading it anyway faults");
    }
    pass();
}
