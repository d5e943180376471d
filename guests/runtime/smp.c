/* Starting APs as an HVM guest on Xen does it: INIT, then STARTUP twice, through the
 * local APIC's ICR (Xen's vlapic_init_sipi_one), into the real-mode trampoline of ap.S. */
#include "guest.h"
#include "runtime/internal.h"

#define TRAMP 0x9000u
#define STACK_SIZE 16384u
/* Pause loops the BSP waits for one AP: far more than the few hundred instructions an AP
 * takes, and than the turns the other vCPUs take meanwhile. */
#define WAIT_LOOPS 2000000u

struct tramp_params {
    uint16_t pad, gdt_limit;
    uint32_t gdt_base;
    uint64_t cr3, cr4, stack, entry;
};

extern const uint8_t ap_tramp[], ap_tramp_end[], ap_tramp_params[];

static uint8_t ap_stacks[SMP_MAX_CPUS][STACK_SIZE] __attribute__((aligned(16)));
static void (*volatile ap_fn)(unsigned cpu);
static volatile unsigned cpus_up = 1;

uint64_t *page_dir_entry(uint64_t la)
{
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    uint64_t *pml4 = (uint64_t *)(uintptr_t)(cr3 & HV_PAGE_MASK);
    uint64_t *pdpt = (uint64_t *)(uintptr_t)(pml4[0] & HV_PAGE_MASK);
    uint64_t *pd = (uint64_t *)(uintptr_t)(pdpt[(la >> 30) & 3] & HV_PAGE_MASK);
    return &pd[(la >> 21) & 511];
}

void apic_setup(void)
{
    static bool mapped;
    if (!mapped) {
        /* The 2 MiB page of 0xFEE00000, uncached. */
        *page_dir_entry(APIC_BASE) = (APIC_BASE & ~0x1fffffu) | 0x80 | 0x10 | 0x3;
        uint64_t cr3;
        __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
        mapped = true;
    }
    apic_write(APIC_SVR, 0x1ff);
}

static _Noreturn void ap_start(void)
{
    idt_load();
    apic_setup();
    unsigned cpu = this_cpu();
    __atomic_add_fetch(&cpus_up, 1, __ATOMIC_SEQ_CST);
    ap_fn(cpu);
    for (;;)
        sti_hlt();
}

static void ipi(unsigned cpu, uint32_t icr)
{
    apic_write(APIC_ICR2, (2 * cpu) << 24);
    apic_write(APIC_ICR, icr);
}

unsigned smp_boot(unsigned max, void (*fn)(unsigned cpu))
{
    if (max > SMP_MAX_CPUS)
        max = SMP_MAX_CPUS;
    apic_setup();
    ap_fn = fn;
    memcpy((void *)(uintptr_t)TRAMP, ap_tramp, (size_t)(ap_tramp_end - ap_tramp));
    struct tramp_params *p =
        (struct tramp_params *)(uintptr_t)(TRAMP + (uintptr_t)(ap_tramp_params - ap_tramp));
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    p->gdt_limit = gdtr.limit;
    p->gdt_base = (uint32_t)gdtr.base;
    __asm__ volatile("mov %%cr3, %0" : "=r"(p->cr3));
    __asm__ volatile("mov %%cr4, %0" : "=r"(p->cr4));
    p->entry = (uint64_t)(uintptr_t)ap_start;
    for (unsigned cpu = 1; cpu < max; cpu++) {
        /* the ABI's stack at a function's entry: 16-byte aligned after a call */
        p->stack = (uint64_t)(uintptr_t)(ap_stacks[cpu] + STACK_SIZE - 8);
        ipi(cpu, APIC_DM_INIT | APIC_LEVEL_ASSERT);
        ipi(cpu, APIC_DM_STARTUP | (TRAMP >> 12));
        ipi(cpu, APIC_DM_STARTUP | (TRAMP >> 12));   /* ignored by a started AP */
        unsigned n = 0;
        while (cpus_up != cpu + 1 && n++ < WAIT_LOOPS)
            pause();
        if (cpus_up != cpu + 1)
            break;
    }
    return cpus_up;
}
