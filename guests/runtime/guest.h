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

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
