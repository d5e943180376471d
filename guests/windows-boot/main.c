/* The order a Windows guest touches the enlightenments while it boots, each answer
 * checked against the CPUID it was given. */
#include "runtime/guest.h"

const char test_title[] = "windows-boot: OS id, hypercall page, VP index, APIC and frequency MSRs";

#define WINDOWS_7 0x0001040601001db0ull /* vendor Microsoft, NT, 6.1, build 7600 */

void test_main(void)
{
    uint32_t r[4];
    uint64_t v;
    if (!viridian_present())
        skip("no viridian leaves: Windows would use none of this");
    uint32_t msrs = viridian_msrs();

    cpuid(0x40000002, r);
    check(r[0] == 0 && r[1] == 0, "leaf 0x40000002 is empty before the OS id (0x%x 0x%x)", r[0], r[1]);
    check(wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, WINDOWS_7) == 0, "1. set HV_X64_MSR_GUEST_OS_ID");
    cpuid(0x40000002, r);
    printf("   hypervisor version now %u.%u, build %u\n", r[1] >> 16, r[1] & 0xffff, r[0]);
    check(r[0] != 0, "leaf 0x40000002 answers once the OS id is set");
    cpuid(0x40000004, r);
    printf("   recommendations 0x%x, spin count %u\n", r[0], r[1]);

    check(hypercall_page_setup() == 0, "2. enable the hypercall page");
    check(rdmsr_safe(HV_X64_MSR_HYPERCALL, &v) == 0 && (v & 1), "   HV_X64_MSR_HYPERCALL reads back enabled");
    uint64_t status = hypercall(0x0008, 0, 0); /* HvNotifyLongSpinWait */
    check(status == 0, "   HvNotifyLongSpinWait returns HV_STATUS_SUCCESS (0x%lx)", (unsigned long)status);

    check(rdmsr_safe(HV_X64_MSR_VP_INDEX, &v) == 0 && v == 0, "3. HV_X64_MSR_VP_INDEX is 0 on the boot CPU");
    check(wrmsr_safe(HV_X64_MSR_TPR, 0x20) == 0 && rdmsr_safe(HV_X64_MSR_TPR, &v) == 0 && v == 0x20,
          "4. HV_X64_MSR_TPR takes 0x20");
    check(wrmsr_safe(HV_X64_MSR_EOI, 0) == 0, "   HV_X64_MSR_EOI accepts an end of interrupt");

    bool freq = (msrs & (1u << 11)) != 0;
    int rc = rdmsr_safe(HV_X64_MSR_TSC_FREQUENCY, &v);
    if (freq)
        check(rc == 0 && v != 0, "5. HV_X64_MSR_TSC_FREQUENCY = %lu Hz (advertised)", (unsigned long)v);
    else
        check(rc != 0, "5. HV_X64_MSR_TSC_FREQUENCY faults: not advertised, Windows calibrates");
    pass();
}
