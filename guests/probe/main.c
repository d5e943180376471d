/* The first thing to run: is there a hypervisor, who is it, what does it offer. */
#include "runtime/guest.h"

const char test_title[] = "probe: hypervisor leaves and viridian feature bits";

static void bits(const char *what, uint32_t value, const char *const names[32])
{
    printf("  %s 0x%x:", what, value);
    for (int b = 0; b < 32; b++)
        if ((value & (1u << b)) && names[b])
            printf(" %s", names[b]);
    printf("\n");
}

static void vendor(uint32_t leaf)
{
    uint32_t r[4];
    char v[13];
    cpuid(leaf, r);
    memcpy(v, &r[1], 4);
    memcpy(v + 4, &r[2], 4);
    memcpy(v + 8, &r[3], 4);
    v[12] = '\0';
    printf("  leaf 0x%x: \"%s\", max leaf 0x%x\n", leaf, v, r[0]);
}

void test_main(void)
{
    /* Bit positions of hvmpv.h's CPUID3A_* / CPUID3D_* / CPUID4A_*. */
    static const char *const msrs[32] = {
        [1] = "TIME_REF_COUNT", [2] = "SYNIC", [3] = "STIMER", [4] = "APIC_ACCESS",
        [5] = "HYPERCALL", [6] = "VP_INDEX", [9] = "REFERENCE_TSC", [11] = "FREQ",
    };
    static const char *const features[32] = {
        [3] = "CPU_DYNAMIC_PARTITIONING", [10] = "CRASH_MSRS", [17] = "SINT_POLLING",
    };
    static const char *const recs[32] = {
        [2] = "HCALL_REMOTE_TLB_FLUSH", [3] = "MSR_BASED_APIC", [5] = "RELAX_TIMER_INT",
        [10] = "SYNTHETIC_CLUSTER_IPI", [11] = "EX_PROCESSOR_MASKS",
    };
    static const char *const hw[32] = { [0] = "APIC_OVERLAY", [1] = "MSR_BITMAPS",
                                        [3] = "NESTED_PAGING" };
    uint32_t r[4];

    cpuid(1, r);
    printf("CPUID.1:ECX bit 31 (hypervisor present): %u\n", r[2] >> 31);
    if (!(r[2] >> 31))
        skip("no hypervisor bit: nothing to probe");

    vendor(0x40000000);
    if (!viridian_present()) {
        printf("viridian: off (Xen's own leaves are at 0x40000000)\n");
        cpuid(0x40000001, r);
        printf("  Xen version %u.%u\n", r[0] >> 16, r[0] & 0xffff);
        pass();
    }
    cpuid(0x40000001, r);
    printf("viridian interface: \"%c%c%c%c\"\n", r[0] & 0xff, (r[0] >> 8) & 0xff,
           (r[0] >> 16) & 0xff, r[0] >> 24);
    cpuid(0x40000003, r);
    bits("MSRs available (0x40000003 EAX)", r[0], msrs);
    bits("features (0x40000003 EDX)", r[3], features);
    cpuid(0x40000004, r);
    bits("recommendations (0x40000004 EAX), before the OS id", r[0], recs);
    /* A Windows 8 guest's id (vendor 1, NT, 6.2): the recommendations it would get. */
    if (wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, 0x0001040602002580ull) == 0) {
        cpuid(0x40000004, r);
        bits("recommendations (0x40000004 EAX) for Windows 8", r[0], recs);
        wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, 0);
    }
    cpuid(0x40000005, r);
    printf("  virtual processor limit (0x40000005 EAX) 0x%x%s\n", r[0],
           r[0] == 0xffffffffu ? ": none" : ": 64, as before Windows 8 unless told otherwise");
    cpuid(0x40000006, r);
    bits("hardware in use (0x40000006 EAX)", r[0], hw);
    vendor(0x40000100);
    cpuid(0x40000101, r);
    printf("  Xen version %u.%u, behind the viridian leaves\n", r[0] >> 16, r[0] & 0xffff);
    pass();
}
