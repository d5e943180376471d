/* Every viridian MSR works exactly when CPUID 0x40000003 advertises it: the idea of
 * KVM's hyperv_features selftest, applied to vsbox. Two kinds of exception, both Xen's:
 * the crash MSRs answer for every viridian guest whatever CPUID says (Xen gates only
 * CPUID3D_CRASH_MSRS), and a write Xen has no handler for is dropped silently up to
 * 4.10 where 4.11 and later raise #GP. */
#include "runtime/guest.h"

const char test_title[] = "msr-matrix: each viridian MSR works exactly when advertised";

enum { EAX, EDX };

static const struct {
    uint32_t msr, count, stride;
    const char *name;
    int reg;               /* CPUID 0x40000003 register of the advertising bit */
    uint32_t bit;
    bool read, write;      /* what Xen gives the guest once advertised */
    bool ungated;          /* answered whatever CPUID says, from Xen 4.9 (they came then) */
} msrs[] = {
    { HV_X64_MSR_GUEST_OS_ID, 1, 1, "GUEST_OS_ID", EAX, CPUID3A_MSR_HYPERCALL, true, true, false },
    { HV_X64_MSR_HYPERCALL, 1, 1, "HYPERCALL", EAX, CPUID3A_MSR_HYPERCALL, true, true, false },
    /* The TLFS makes VP_INDEX read-only; Xen accepts a write and ignores it. */
    { HV_X64_MSR_VP_INDEX, 1, 1, "VP_INDEX", EAX, CPUID3A_MSR_VP_INDEX, true, true, false },
    { HV_X64_MSR_TIME_REF_COUNT, 1, 1, "TIME_REF_COUNT", EAX, CPUID3A_MSR_TIME_REF_COUNT, true,
      false, false },
    { HV_X64_MSR_REFERENCE_TSC, 1, 1, "REFERENCE_TSC", EAX, CPUID3A_MSR_REFERENCE_TSC, true,
      true, false },
    { HV_X64_MSR_TSC_FREQUENCY, 1, 1, "TSC_FREQUENCY", EAX, CPUID3A_MSR_FREQ, true, false, false },
    { HV_X64_MSR_APIC_FREQUENCY, 1, 1, "APIC_FREQUENCY", EAX, CPUID3A_MSR_FREQ, true, false,
      false },
    { HV_X64_MSR_EOI, 1, 1, "EOI", EAX, CPUID3A_MSR_APIC_ACCESS, false, true, false },
    { HV_X64_MSR_ICR, 1, 1, "ICR", EAX, CPUID3A_MSR_APIC_ACCESS, true, true, false },
    { HV_X64_MSR_TPR, 1, 1, "TPR", EAX, CPUID3A_MSR_APIC_ACCESS, true, true, false },
    { HV_X64_MSR_VP_ASSIST_PAGE, 1, 1, "VP_ASSIST_PAGE", EAX, CPUID3A_MSR_APIC_ACCESS, true, true,
      false },
    { HV_X64_MSR_SCONTROL, 1, 1, "SCONTROL", EAX, CPUID3A_MSR_SYNIC, true, true, false },
    { HV_X64_MSR_SVERSION, 1, 1, "SVERSION", EAX, CPUID3A_MSR_SYNIC, true, false, false },
    { HV_X64_MSR_SIEFP, 1, 1, "SIEFP", EAX, CPUID3A_MSR_SYNIC, true, true, false },
    { HV_X64_MSR_SIMP, 1, 1, "SIMP", EAX, CPUID3A_MSR_SYNIC, true, true, false },
    { HV_X64_MSR_EOM, 1, 1, "EOM", EAX, CPUID3A_MSR_SYNIC, true, true, false },
    { HV_X64_MSR_SINT0, 16, 1, "SINT0-15", EAX, CPUID3A_MSR_SYNIC, true, true, false },
    { HV_X64_MSR_STIMER0_CONFIG, 4, 2, "STIMER0-3_CONFIG", EAX, CPUID3A_MSR_STIMER, true, true,
      false },
    { HV_X64_MSR_STIMER0_COUNT, 4, 2, "STIMER0-3_COUNT", EAX, CPUID3A_MSR_STIMER, true, true,
      false },
    { HV_X64_MSR_CRASH_P0, 5, 1, "CRASH_P0-4", EDX, CPUID3D_CRASH_MSRS, true, true, true },
    { HV_X64_MSR_CRASH_CTL, 1, 1, "CRASH_CTL", EDX, CPUID3D_CRASH_MSRS, true, true, true },
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

/* A write that changes nothing the guest keeps: what was read, with the few values a
 * write-back would turn into something (the hypercall page, a crash report, a SINT
 * vector below 0x10) made harmless. */
static uint64_t harmless(uint32_t msr, uint64_t v, int rd)
{
    if (rd)
        return 0;
    if (msr == HV_X64_MSR_HYPERCALL)
        return v & ~1ull;
    if (msr == HV_X64_MSR_CRASH_CTL)
        return 0;
    if (msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15 && (v & 0xff) < 0x10)
        return v | 0x10;
    return v;
}

/* "ok", "#GP", or "3/16" when only some of a range answered. */
static void outcome(char out[8], uint32_t worked, uint32_t n)
{
    if (worked == n || worked == 0) {
        memcpy(out, worked ? "ok" : "#GP", worked ? 3 : 4);
        return;
    }
    out[0] = (char)('0' + worked / 10);
    out[1] = (char)('0' + worked % 10);
    out[2] = '/';
    out[3] = (char)('0' + n / 10);
    out[4] = (char)('0' + n % 10);
    out[5] = 0;
}

void test_main(void)
{
    uint32_t r[4], xen = xen_msr();
    bool viridian = viridian_present();
    cpuid(xen_leaves() + 1, r);
    bool crash_msrs = viridian && r[0] >= (4u << 16 | 9); /* Xen's version, leaf base+1 */
    uint32_t adv[2] = { 0, 0 };
    if (viridian) {
        cpuid(0x40000003, r);
        adv[EAX] = r[0];
        adv[EDX] = r[3];
    }
    printf("CPUID 0x40000003 EAX = 0x%x EDX = 0x%x%s\n", adv[EAX], adv[EDX],
           viridian ? "" : " (no viridian)");
    if (xen >= HV_X64_MSR_GUEST_OS_ID && xen <= HV_X64_MSR_CRASH_CTL)
        printf("Xen's hypercall-page MSR is 0x%x (CPUID 0x%x EBX): it answers there\n", xen,
               xen_leaves() + 2);
    for (unsigned i = 0; i < sizeof msrs / sizeof msrs[0]; i++) {
        bool advertised = (adv[msrs[i].reg] & msrs[i].bit) != 0;
        uint32_t n = msrs[i].count, reads = 0, writes = 0, want_reads = 0, want_writes = 0;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t msr = msrs[i].msr + k * msrs[i].stride;
            /* Without viridian, Xen's own MSR may sit on a viridian number: it works. */
            bool on = advertised || msr == xen || (msrs[i].ungated && crash_msrs);
            uint64_t v = 0;
            int rd = rdmsr_safe(msr, &v);
            int wr = wrmsr_safe(msr, harmless(msr, v, rd));
            reads += rd == 0;
            writes += wr == 0;
            want_reads += on && (msrs[i].read || msr == xen);
            want_writes += on && (msrs[i].write || msr == xen);
        }
        const char *why = advertised ? "yes"
                          : msrs[i].msr == xen ? "no, Xen's MSR"
                          : msrs[i].ungated && crash_msrs ? "no, answered anyway: Xen gates only CPUID"
                                                        : "no";
        char rd[8], wr[8];
        outcome(rd, reads, n);
        outcome(wr, writes, n);
        /* A write Xen has no handler for: #GP from 4.11, dropped before; both are fine. */
        check(reads == want_reads && writes >= want_writes, "%-16s read %-3s write %-3s%s "
              "(advertised: %s)", msrs[i].name, rd, wr, writes > want_writes ? " (dropped)" : "",
              why);
    }
    pass();
}
