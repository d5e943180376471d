/* Every vCPU up and reached: the BSP starts the APs with INIT and STARTUP through its
 * local APIC, then sends each AP an interrupt four ways and checks that the AP took it
 * (and that no other vCPU did):
 *   - the xAPIC ICR (MMIO at 0xFEE00300), a fixed IPI by physical APIC ID, and once more
 *     as "all but self";
 *   - HV_X64_MSR_ICR (the viridian APIC MSRs, "apic_assist" group; the handler ends with
 *     HV_X64_MSR_EOI, as Windows does);
 *   - HvCallSendSyntheticClusterIpi, fast form: vector in RDX, VP mask in R8 (hcall_ipi);
 *   - HvCallSendSyntheticClusterIpiEx, memory form with a sparse VP set (ex_processor_masks).
 * Then remote TLB flushes: the BSP remaps a 2 MiB page the APs have read through, flushes
 * their TLBs with HvCallFlushVirtualAddressSpace (a processor mask) and then
 * HvCallFlushVirtualAddressSpaceEx (a sparse VP set), and each AP must read the new frame.
 * VP_INDEX is checked per vCPU against its APIC ID (Xen: VP index n, APIC ID 2n).
 *
 * Run with `--vcpus 2` or more (up to 8) and `--viridian all`; what the host does not
 * advertise (CPUID 0x40000004 EAX) is skipped and said, not failed. The BSP prints; the
 * APs only count, so the trace stays the same from run to run. */
#include "runtime/guest.h"

const char test_title[] = "smp-ipi: IPIs by ICR, HV_X64_MSR_ICR and hypercall, remote TLB flushes, on every vCPU";

enum { HOW_MMIO, HOW_ALLBUT, HOW_MSR, HOW_HCALL, HOW_HCALL_EX, HOW_READ, HOWS };
static const char *const how_name[HOWS] = {
    "xAPIC ICR", "xAPIC ICR all-but-self", "HV_X64_MSR_ICR", "HvCallSendSyntheticClusterIpi",
    "HvCallSendSyntheticClusterIpiEx", "TLB probe",
};
#define VEC(how) (0x40u + (how))

/* The page the TLB flushes are about: linear 1 GiB, a 2 MiB page on frame A or B. */
#define PROBE_VA   0x40000000ull
#define FRAME_A    0x600000ull
#define FRAME_B    0x800000ull

static volatile uint32_t hits[SMP_MAX_CPUS][HOWS];
static volatile uint64_t seen[SMP_MAX_CPUS];       /* what the last probe read */
static volatile uint64_t vp_index[SMP_MAX_CPUS];
static volatile int vp_index_err[SMP_MAX_CPUS];
static unsigned ncpus;

static uint8_t hc_in[4096] __attribute__((aligned(4096), section(".bss.page")));

static void on_ipi(unsigned vector)
{
    unsigned how = vector - VEC(0);
    unsigned cpu = this_cpu();
    if (how == HOW_READ)
        seen[cpu] = *(volatile uint64_t *)(uintptr_t)PROBE_VA;
    hits[cpu][how]++;
    if (how == HOW_MSR)
        wrmsr_safe(HV_X64_MSR_EOI, 0);
    else
        apic_eoi();
}

static void ap_main(unsigned cpu)
{
    uint64_t v = 0;
    vp_index_err[cpu] = rdmsr_safe(HV_X64_MSR_VP_INDEX, &v);
    vp_index[cpu] = v;
}

/* Wait until `cpu` has taken `want` interrupts sent `how`; false after a long wait. */
static bool wait_hits(unsigned cpu, unsigned how, uint32_t want)
{
    for (unsigned n = 0; n < 2000000u; n++) {
        if (hits[cpu][how] >= want)
            return true;
        pause();
    }
    return false;
}

/* Every AP took exactly `want` interrupts sent `how`, and the BSP none. */
static void expect_all(unsigned how, uint32_t want)
{
    bool ok = hits[0][how] == 0;
    for (unsigned cpu = 1; cpu < ncpus; cpu++)
        ok &= wait_hits(cpu, how, want) && hits[cpu][how] == want;
    for (unsigned n = 0; n < 1000; n++)  /* room for a stray one to arrive */
        pause();
    for (unsigned cpu = 0; cpu < ncpus; cpu++)
        ok &= hits[cpu][how] == (cpu ? want : 0);
    printf("  %-34s", how_name[how]);
    for (unsigned cpu = 0; cpu < ncpus; cpu++)
        printf(" v%u:%u", cpu, hits[cpu][how]);
    printf("\n");
    check(ok, "%s reached every AP %u time(s), the BSP never", how_name[how], want);
}

static uint32_t ap_mask(void)
{
    return (uint32_t)((1u << ncpus) - 2);
}

static void send_by_apic(unsigned how)
{
    for (unsigned cpu = 1; cpu < ncpus; cpu++) {
        if (how == HOW_MSR) {
            /* the high half is ICR2: the xAPIC destination in bits 63:56 */
            if (wrmsr_safe(HV_X64_MSR_ICR, (uint64_t)(2 * cpu) << 56 | VEC(how)))
                fail("HV_X64_MSR_ICR: the write faulted");
        } else {
            apic_write(APIC_ICR2, (2 * cpu) << 24);
            apic_write(APIC_ICR, VEC(how));
        }
        wait_hits(cpu, how, 1);
    }
}

static uint64_t sparse_ipi_ex(unsigned how)
{
    uint64_t *in = (uint64_t *)hc_in;
    in[0] = VEC(how);                   /* vector, target VTL 0 */
    in[1] = HV_GENERIC_SET_SPARSE_4K;
    in[2] = 1;                          /* bank 0 only */
    in[3] = ap_mask();
    /* the variable header: two 8-byte units past the fixed part (TLFS: VarHeadSize) */
    return hypercall(HVCALL_SEND_IPI_EX | 1ull << 17, (uint64_t)(uintptr_t)hc_in, 0);
}

static void map_probe(uint64_t frame)
{
    *page_dir_entry(PROBE_VA) = frame | 0x83;
    /* the BSP's own TLB; the APs' are the hypercalls' business */
    __asm__ volatile("invlpg (%0)" ::"r"(PROBE_VA) : "memory");
}

/* Ask every AP to read the probe page and check it read `want`. */
static void probe(uint32_t round, uint64_t want, const char *after)
{
    apic_write(APIC_ICR, APIC_DEST_ALLBUT | VEC(HOW_READ));
    bool ok = true;
    for (unsigned cpu = 1; cpu < ncpus; cpu++)
        ok &= wait_hits(cpu, HOW_READ, round) && seen[cpu] == want;
    check(ok, "after %s every AP reads frame %c", after, want == FRAME_A ? 'A' : 'B');
}

static void tlb_flushes(uint32_t leaf4)
{
    *(volatile uint64_t *)(uintptr_t)FRAME_A = FRAME_A;
    *(volatile uint64_t *)(uintptr_t)FRAME_B = FRAME_B;
    map_probe(FRAME_A);
    probe(1, FRAME_A, "the first mapping");

    if (!(leaf4 & CPUID4A_HCALL_REMOTE_TLB_FLUSH)) {
        printf("  remote TLB flush not recommended (CPUID 0x40000004 EAX 0x%x): skipped\n", leaf4);
        return;
    }
    uint64_t *in = (uint64_t *)hc_in;
    map_probe(FRAME_B);
    in[0] = 0;                          /* address space: all */
    in[1] = 0;                          /* flags: not HV_FLUSH_ALL_PROCESSORS */
    in[2] = ap_mask();                  /* processor mask */
    uint64_t st = hypercall(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, (uint64_t)(uintptr_t)hc_in, 0);
    check((uint16_t)st == HV_STATUS_SUCCESS, "HvCallFlushVirtualAddressSpace: status 0x%x",
          (unsigned)(uint16_t)st);
    probe(2, FRAME_B, "HvCallFlushVirtualAddressSpace");

    if (!(leaf4 & CPUID4A_EX_PROCESSOR_MASKS)) {
        printf("  ex processor masks not recommended: HvCallFlushVirtualAddressSpaceEx "
               "skipped\n");
        return;
    }
    map_probe(FRAME_A);
    in[0] = 0;
    in[1] = 0;
    in[2] = HV_GENERIC_SET_SPARSE_4K;
    in[3] = 1;
    in[4] = ap_mask();
    st = hypercall(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX | 1ull << 17,
                   (uint64_t)(uintptr_t)hc_in, 0);
    check((uint16_t)st == HV_STATUS_SUCCESS, "HvCallFlushVirtualAddressSpaceEx: status 0x%x",
          (unsigned)(uint16_t)st);
    probe(3, FRAME_A, "HvCallFlushVirtualAddressSpaceEx");
}

void test_main(void)
{
    uint32_t r[4];
    if (!viridian_present())
        skip("no viridian leaves: run with --viridian all");
    uint32_t leaf3 = viridian_msrs();
    /* Xen leaves the recommendations (leaf 4) empty until a Windows OS id is set. */
    if (wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, 0x0001040a00004a61ull) || hypercall_page_setup())
        fail("the guest OS id or the hypercall page faulted");
    cpuid(0x40000004, r);
    uint32_t leaf4 = r[0];
    for (unsigned how = 0; how < HOWS; how++)
        irq_handler(VEC(how), on_ipi);

    ncpus = smp_boot(SMP_MAX_CPUS, ap_main);
    printf("%u vCPU(s) up\n", ncpus);
    if (ncpus < 2)
        skip("one vCPU: run with --vcpus 2 or more");

    for (unsigned cpu = 0; cpu < ncpus; cpu++) {
        if (cpu == 0)
            ap_main(0);
        if (leaf3 & CPUID3A_MSR_VP_INDEX)
            check(!vp_index_err[cpu] && vp_index[cpu] == cpu,
                  "v%u: HV_X64_MSR_VP_INDEX %lu", cpu, (unsigned long)vp_index[cpu]);
    }

    send_by_apic(HOW_MMIO);
    expect_all(HOW_MMIO, 1);
    apic_write(APIC_ICR, APIC_DEST_ALLBUT | VEC(HOW_ALLBUT));
    expect_all(HOW_ALLBUT, 1);

    if (leaf4 & CPUID4A_MSR_BASED_APIC) {
        send_by_apic(HOW_MSR);
        expect_all(HOW_MSR, 1);
    } else {
        printf("  MSR-based APIC not recommended (CPUID 0x40000004 EAX 0x%x): skipped\n", leaf4);
    }

    if (leaf4 & CPUID4A_SYNTHETIC_CLUSTER_IPI) {
        uint64_t st = hypercall(HVCALL_SEND_IPI | HV_HYPERCALL_FAST_BIT, VEC(HOW_HCALL), ap_mask());
        check((uint16_t)st == HV_STATUS_SUCCESS, "HvCallSendSyntheticClusterIpi: status 0x%x",
              (unsigned)(uint16_t)st);
        expect_all(HOW_HCALL, 1);
    } else {
        printf("  synthetic cluster IPI not recommended: skipped\n");
    }

    if ((leaf4 & CPUID4A_SYNTHETIC_CLUSTER_IPI) && (leaf4 & CPUID4A_EX_PROCESSOR_MASKS)) {
        uint64_t st = sparse_ipi_ex(HOW_HCALL_EX);
        check((uint16_t)st == HV_STATUS_SUCCESS, "HvCallSendSyntheticClusterIpiEx: status 0x%x",
              (unsigned)(uint16_t)st);
        expect_all(HOW_HCALL_EX, 1);
    } else {
        printf("  HvCallSendSyntheticClusterIpiEx not recommended: skipped\n");
    }

    tlb_flushes(leaf4);
}
