/* The guest side: IDT, exception reports and fixups, console, results. */
#include "guest.h"

#define PORT_CONSOLE 0xe9
#define PORT_EXIT 0xf4

struct frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

struct idt_gate {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
};

extern const uint64_t isr_table[20];
extern const uint8_t irq_stubs[];
extern const uint64_t __start_ex_table[], __stop_ex_table[];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_fn irq_handlers[256];
static bool failed;

volatile unsigned last_fault_vector;
volatile uint64_t last_fault_error;

static const char *const vector_names[20] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF(9)",
    "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM",
};

void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

_Noreturn void exit(int code)
{
    outb(PORT_EXIT, (uint8_t)code);
    for (;;)
        __asm__ volatile("hlt");
}

/* An exception: fixed up when the table names the instruction, fatal otherwise. */
void exception_handler(struct frame *f)
{
    if (f->vector >= 32) {
        irq_fn fn = irq_handlers[f->vector];
        if (!fn) {
            printf("unexpected interrupt vector 0x%lx at rip 0x%lx\n", (unsigned long)f->vector,
                   (unsigned long)f->rip);
            printf("Test result: ERROR\n");
            exit(3);
        }
        fn((unsigned)f->vector);
        return;
    }
    for (const uint64_t *e = __start_ex_table; e < __stop_ex_table; e += 2) {
        if (e[0] == f->rip) {
            last_fault_vector = (unsigned)f->vector;
            last_fault_error = f->error;
            f->rip = e[1];
            return;
        }
    }
    printf("unexpected exception %s (vector %lu) error 0x%lx at rip 0x%lx\n",
           f->vector < 20 ? vector_names[f->vector] : "?", (unsigned long)f->vector,
           (unsigned long)f->error, (unsigned long)f->rip);
    printf("Test result: ERROR\n");
    exit(3);
}

static void gate(unsigned v, uint64_t a)
{
    idt[v] = (struct idt_gate){ .off0 = (uint16_t)a, .sel = 0x08, .type = 0x8e,
                                .off1 = (uint16_t)(a >> 16), .off2 = (uint32_t)(a >> 32) };
}

void irq_handler(unsigned vector, irq_fn fn)
{
    if (vector < 32 || vector > 255)
        error("irq_handler: vector %u is not an interrupt vector", vector);
    irq_handlers[vector] = fn;
}

/* Vectors 20-31 are reserved and stay not-present. Every vCPU loads the same IDT. */
void idt_load(void)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" ::"m"(idtr));
}

static void idt_setup(void)
{
    for (unsigned v = 0; v < 20; v++)
        gate(v, isr_table[v]);
    for (unsigned v = 32; v < 256; v++)
        gate(v, (uint64_t)(uintptr_t)(irq_stubs + 16 * (v - 32)));
    idt_load();
}

static void finish(const char *result, int code)
{
    printf("Test result: %s\n", result);
    exit(code);
}

_Noreturn void pass(void)
{
    if (failed)
        finish("FAILURE", 1);
    finish("SUCCESS", 0);
    __builtin_unreachable();
}

static _Noreturn void end_with(const char *result, int code, const char *fmt, va_list ap)
{
    vprintf(fmt, ap);
    printf("\n");
    finish(result, code);
    __builtin_unreachable();
}

_Noreturn void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    end_with("FAILURE", 1, fmt, ap);
}

_Noreturn void skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    end_with("SKIP", 0, fmt, ap);
}

_Noreturn void error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    end_with("ERROR", 2, fmt, ap);
}

void check(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  %s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!ok)
        failed = true;
}

void runtime_main(void)
{
    idt_setup();
    printf("--- %s ---\n", test_title);
    test_main();
    pass();
}

/* ---- console ---- */

static void putc_console(char c)
{
    outb(PORT_CONSOLE, (uint8_t)c);
}

static void put_number(unsigned long long v, unsigned base, int width, char pad, bool neg)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        buf[n++] = '-';
    while (width-- > n)
        putc_console(pad);
    while (n)
        putc_console(buf[--n]);
}

void vprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc_console(*fmt);
            continue;
        }
        char pad = ' ';
        int width = 0, longs = 0;
        bool left = false;
        if (*++fmt == '-')
            left = true, fmt++;
        if (*fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            longs++, fmt++;
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            int len = (int)strlen(s);
            while (!left && width-- > len)
                putc_console(' ');
            while (*s)
                putc_console(*s++);
            while (left && width-- > len)
                putc_console(' ');
            break;
        }
        case 'c':
            putc_console((char)va_arg(ap, int));
            break;
        case 'd': {
            long long v = longs ? va_arg(ap, long long) : va_arg(ap, int);
            put_number(v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, 10, width,
                       pad, v < 0);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
            put_number(v, *fmt == 'x' ? 16 : 10, width, pad, false);
            break;
        }
        case 'p':
            putc_console('0');
            putc_console('x');
            put_number((uintptr_t)va_arg(ap, void *), 16, width, pad, false);
            break;
        case '%':
            putc_console('%');
            break;
        default:
            putc_console('%');
            putc_console(*fmt);
            break;
        }
    }
}

void printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}
