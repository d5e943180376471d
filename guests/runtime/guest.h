/* The guest runtime's API (docs/guests.md). A guest is one file that defines
 *
 *     const char test_title[] = "what this guest checks";
 *     void test_main(void) { ...; pass(); }
 *
 * and ends in pass(), fail(...), skip(...) or error(...). Nothing from the host libc. */
#ifndef VSBOX_GUEST_H
#define VSBOX_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
/* The TLFS and Xen names and numbers, spelled once for the model and the guests. */
#include "viridian/hvmpv.h"

extern const char test_title[];
void test_main(void);

/* Results: print "Test result: ..." and leave through the exit port. */
_Noreturn void pass(void);
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Record a failure and keep going; the guest ends in FAILURE at pass(). */
void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Console (port 0xE9): %s %c %d %u %x %lx %llx %lu %llu %p %%, widths, '-' and '0'. */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintf(const char *fmt, va_list ap);
_Noreturn void exit(int code);

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
    cpuid_count(leaf, 0, r);
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* RDMSR/WRMSR that return -1 instead of dying on #GP (the exception table fixes the
 * faulting instruction up, as Linux's rdmsr_safe does). 0 on success. */
static inline int rdmsr_safe(uint32_t msr, uint64_t *val)
{
    uint32_t lo = 0, hi = 0;
    int err;
    __asm__ volatile("   movl $-1, %[err]\n"
                     "1: rdmsr\n"
                     "   xorl %[err], %[err]\n"
                     "2:\n"
                     "   .pushsection .ex_table, \"a\"\n"
                     "   .quad 1b, 2b\n"
                     "   .popsection\n"
                     : [err] "=&r"(err), "+a"(lo), "+d"(hi)
                     : "c"(msr)
                     : "memory");
    *val = (uint64_t)hi << 32 | lo;
    return err;
}

static inline int wrmsr_safe(uint32_t msr, uint64_t val)
{
    int err;
    __asm__ volatile("   movl $-1, %[err]\n"
                     "1: wrmsr\n"
                     "   xorl %[err], %[err]\n"
                     "2:\n"
                     "   .pushsection .ex_table, \"a\"\n"
                     "   .quad 1b, 2b\n"
                     "   .popsection\n"
                     : [err] "=&r"(err)
                     : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
                     : "memory");
    return err;
}

/* The vector of the last exception fixed up by the table, and its error code. */
extern volatile unsigned last_fault_vector;
extern volatile uint64_t last_fault_error;

/* Viridian: detect, set the guest OS id, install the hypercall page, call. */
bool viridian_present(void);
uint32_t viridian_msrs(void);              /* CPUID 0x40000003 EAX, 0 without viridian */
int hypercall_page_setup(void);            /* 0, or -1 when the MSR faulted */
uint64_t hypercall(uint64_t input, uint64_t in_gpa, uint64_t out_gpa);

/* Xen's own interface: its leaves (0x40000000, or 0x40000100 behind viridian), its
 * hypercall page (installed through the MSR that leaf base+2 names) and hypercalls. */
uint32_t xen_leaves(void);                 /* base of Xen's leaves, 0 when absent */
int xen_hypercall_page_setup(void);        /* 0, or -1 */
long xen_hypercall2(unsigned nr, uint64_t a1, uint64_t a2);

/* Interrupts: vectors 32-255 call fn(vector) with interrupts off, on the interrupted
 * stack; fn ends the interrupt itself (apic_eoi() or HV_X64_MSR_EOI). */
typedef void (*irq_fn)(unsigned vector);
void irq_handler(unsigned vector, irq_fn fn);

static inline void sti(void)
{
    __asm__ volatile("sti" ::: "memory");
}

static inline void cli(void)
{
    __asm__ volatile("cli" ::: "memory");
}

/* STI's shadow covers the HLT: an interrupt pending now wakes it, none slips in between. */
static inline void sti_hlt(void)
{
    __asm__ volatile("sti; hlt" ::: "memory");
}

static inline void pause(void)
{
    __asm__ volatile("pause" ::: "memory");
}

/* The local APIC (xAPIC registers at 0xFEE00000). apic_setup() maps the page into the
 * identity map vsbox starts guests with (RAM only) and software-enables the APIC on the
 * calling vCPU; smp_boot() does it on every AP. */
#define APIC_BASE  0xfee00000u
#define APIC_ID    0x020u
#define APIC_EOI   0x0b0u
#define APIC_SVR   0x0f0u
#define APIC_ICR   0x300u
#define APIC_ICR2  0x310u
#define APIC_DM_INIT    0x500u
#define APIC_DM_STARTUP 0x600u
#define APIC_LEVEL_ASSERT (1u << 14)
#define APIC_DEST_ALLBUT  (3u << 18)

void apic_setup(void);

/* The page-directory entry (a 2 MiB page) that maps la below 4 GiB in the identity map
 * vsbox starts guests with; after changing it, INVLPG or a CR3 write. */
uint64_t *page_dir_entry(uint64_t la);

static inline uint32_t apic_read(uint32_t reg)
{
    return *(volatile uint32_t *)(uintptr_t)(APIC_BASE + reg);
}

static inline void apic_write(uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)(APIC_BASE + reg) = v;
}

static inline void apic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

/* This vCPU's number. Xen gives vCPU n the APIC ID 2n (hvmloader's LAPIC_ID()). */
static inline unsigned this_cpu(void)
{
    return apic_read(APIC_ID) >> 25;
}

/* SMP: start vCPUs 1..max-1 the way an HVM guest does (INIT, STARTUP, STARTUP through
 * the ICR, a real-mode trampoline at 0x9000 that enters long mode on the BSP's tables).
 * Each AP loads the IDT, enables its APIC and calls fn(cpu) with interrupts off; when fn
 * returns it sleeps in HLT with interrupts on. Stops at the first vCPU that does not come
 * up, and returns how many vCPUs run, the BSP included. */
#define SMP_MAX_CPUS 8
unsigned smp_boot(unsigned max, void (*fn)(unsigned cpu));

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
