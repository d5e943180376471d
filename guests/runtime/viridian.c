/* Finding the hypervisor and calling it, as a Windows or Linux guest does. */
#include "guest.h"

/* The hypervisor writes its stub here; identity paging makes the address a GPA. */
static uint8_t hypercall_page[4096] __attribute__((aligned(4096), section(".bss.page")));

static uint8_t xen_page[4096] __attribute__((aligned(4096), section(".bss.page")));

uint32_t xen_leaves(void)
{
    uint32_t r[4];
    for (uint32_t base = 0x40000000; base <= 0x40000100; base += 0x100) {
        cpuid(base, r);
        if (r[1] == 0x566e6558 && r[2] == 0x65584d4d && r[3] == 0x4d4d566e)
            return base;
    }
    return 0;
}

int xen_hypercall_page_setup(void)
{
    uint32_t r[4], base = xen_leaves();
    if (!base)
        return -1;
    cpuid(base + 2, r);
    return wrmsr_safe(r[1], (uint64_t)(uintptr_t)xen_page);
}

long xen_hypercall2(unsigned nr, uint64_t a1, uint64_t a2)
{
    long rax;
    __asm__ volatile("call *%[entry]"
                     : "=a"(rax), "+D"(a1), "+S"(a2)
                     : [entry] "r"(xen_page + nr * 32)
                     : "memory", "rcx", "rdx", "r8", "r9", "r10", "r11");
    return rax;
}

bool viridian_present(void)
{
    uint32_t r[4];
    cpuid(1, r);
    if (!(r[2] & (1u << 31)))
        return false;
    cpuid(0x40000000, r);
    return r[1] == 0x7263694d && r[2] == 0x666f736f && r[3] == 0x76482074;
}

uint32_t viridian_msrs(void)
{
    uint32_t r[4];
    if (!viridian_present())
        return 0;
    cpuid(0x40000003, r);
    return r[0];
}

int hypercall_page_setup(void)
{
    uint64_t gpa = (uint64_t)(uintptr_t)hypercall_page;
    return wrmsr_safe(HV_X64_MSR_HYPERCALL, gpa | 1);
}

uint64_t hypercall(uint64_t input, uint64_t in_gpa, uint64_t out_gpa)
{
    uint64_t rax;
    register uint64_t r8 __asm__("r8") = out_gpa;
    __asm__ volatile("call *%[page]"
                     : "=a"(rax), "+c"(input), "+d"(in_gpa), "+r"(r8)
                     : [page] "r"(hypercall_page)
                     : "memory", "r9", "r10", "r11");
    return rax;
}
