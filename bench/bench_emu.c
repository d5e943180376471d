/* Emulator speed, as ratios against bare Unicorn measured side by side in one run:
 *   a loop that never traps: vsbox (all its hooks installed) vs Unicorn with no hooks;
 *   a RDMSR loop: vsbox's trap into the model vs a bare exact-address code hook that
 *     writes RAX/RDX/RIP (the floor for a trap on Unicorn 2.0.1);
 *   a CPUID loop: vsbox vs a bare UC_HOOK_INSN CPUID hook.
 * Each case runs 7 times interleaved; the fastest run counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>
#include "emu/emu.h"

#define BASE 0x100000u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* mov ecx, MSR; mov esi, N; l: <body>; dec esi; jnz l; hlt */
static size_t loop_code(uint8_t *out, uint32_t n, const uint8_t *body, size_t body_len,
                        uint32_t ecx)
{
    size_t k = 0;
    out[k++] = 0xb9; /* mov ecx, imm32 */
    memcpy(out + k, &ecx, 4);
    k += 4;
    out[k++] = 0xbe; /* mov esi, imm32: CPUID and RDMSR leave ESI alone */
    memcpy(out + k, &n, 4);
    k += 4;
    size_t top = k;
    memcpy(out + k, body, body_len);
    k += body_len;
    out[k++] = 0xff; out[k++] = 0xce;          /* dec esi */
    out[k++] = 0x75;                            /* jnz top */
    out[k] = (uint8_t)(top - (k + 1));
    k++;
    out[k++] = 0xf4;                            /* hlt */
    return k;
}

static double run_vsbox(const uint8_t *code, size_t len, const char *viridian_unused)
{
    (void)viridian_unused;
    struct emu_config cfg = { .model = { .viridian = 1 }, .memory_mib = 32 };
    struct emu *e;
    char err[256];
    struct emu_result res;
    if (emu_create(&cfg, &e, err, sizeof err) || emu_load(e, code, len, true, BASE, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        exit(2);
    }
    double t = now();
    emu_run(e, &res);
    t = now() - t;
    if (res.stop != EMU_HALTED) {
        fprintf(stderr, "bench: guest did not halt (%d): %s\n", res.stop, res.report);
        exit(2);
    }
    emu_destroy(e);
    return t;
}

static uint64_t msr_site;

/* The floor for a trap: a hook that reads its inputs and writes its outputs with
 * Unicorn's batch calls, and does nothing else. */
static void bare_msr(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    (void)user;
    uint64_t ecx = 0, v[3] = { ecx, 0, addr + size };
    int out_ids[3] = { UC_X86_REG_RAX, UC_X86_REG_RDX, UC_X86_REG_RIP };
    void *out[3] = { &v[0], &v[1], &v[2] };
    uc_reg_read(uc, UC_X86_REG_RCX, &ecx);
    v[0] = ecx & 1; /* depend on the input, as a real handler would */
    uc_reg_write_batch(uc, out_ids, out, 3);
}

static int bare_cpuid(uc_engine *uc, void *user)
{
    (void)user;
    uint64_t in[2] = { 0 }, v[4];
    int in_ids[2] = { UC_X86_REG_RAX, UC_X86_REG_RCX };
    int out_ids[4] = { UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX };
    void *inp[2] = { &in[0], &in[1] }, *out[4] = { &v[0], &v[1], &v[2], &v[3] };
    uc_reg_read_batch(uc, in_ids, inp, 2);
    v[0] = (uint32_t)in[0] + 6;
    v[1] = 0x7263694d;
    v[2] = 0x666f736f + (uint32_t)in[1];
    v[3] = 0x76482074;
    uc_reg_write_batch(uc, out_ids, out, 4);
    return 1;
}

enum bare_kind { BARE_NONE, BARE_MSR, BARE_CPUID };

static double run_bare(const uint8_t *code, size_t len, enum bare_kind kind)
{
    uc_engine *uc;
    uc_hook h;
    uint8_t *ram = aligned_alloc(4096, 16u << 20);
    memset(ram, 0, 16u << 20);
    memcpy(ram + BASE, code, len);
    uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
    uc_mem_map_ptr(uc, 0, 16u << 20, UC_PROT_ALL, ram);
    if (kind == BARE_MSR)
        uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)bare_msr, NULL, msr_site, msr_site);
    if (kind == BARE_CPUID)
        uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)bare_cpuid, NULL, 1, 0, UC_X86_INS_CPUID);
    uint64_t rsp = (16u << 20) - 16;
    uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
    double t = now();
    uc_err err = uc_emu_start(uc, BASE, UINT64_MAX, 0, 0);
    t = now() - t;
    if (err) {
        fprintf(stderr, "bench: bare Unicorn: %s\n", uc_strerror(err));
        exit(2);
    }
    uc_close(uc);
    free(ram);
    return t;
}

struct result {
    const char *name;
    uint32_t n;
    double vsbox, bare;
};

static void measure(struct result *r, const uint8_t *code, size_t len, enum bare_kind kind)
{
    r->vsbox = r->bare = 1e9;
    for (int i = 0; i < 7; i++) {
        double b = run_bare(code, len, kind), v = run_vsbox(code, len, NULL);
        if (getenv("BENCH_VERBOSE"))
            fprintf(stderr, "  run %d: bare %.1f ms, vsbox %.1f ms\n", i, b * 1e3, v * 1e3);
        if (b < r->bare)
            r->bare = b;
        if (v < r->vsbox)
            r->vsbox = v;
    }
}

/* N distinct RDTSC sites in a row, each run once: the cost of setting up a trap site
 * (translation, substitution) at N sites, per site. */
static double sites_per_site(uint32_t n)
{
    size_t len = 2 * (size_t)n + 1;
    uint8_t *code = malloc(len);
    for (uint32_t i = 0; i < n; i++)
        code[2 * i] = 0x0f, code[2 * i + 1] = 0x31;
    code[len - 1] = 0xf4;
    double best = 1e9;
    for (int i = 0; i < 5; i++) {
        double t = run_vsbox(code, len, NULL);
        if (t < best)
            best = t;
    }
    free(code);
    return best / n;
}

/* N #UD exceptions, each delivered through the guest's IDT and returned from: the cost
 * of one exception at N. The IDT is built into the image at BASE + 0x1000. */
static double exceptions_per_exception(uint32_t n)
{
    static uint8_t code[0x2000];
    memset(code, 0x90, sizeof code);
    size_t k = 0;
    static const uint8_t lidt[] = { 0x0f, 0x01, 0x1d };           /* lidt [rip + d32] */
    memcpy(code + k, lidt, 3);
    k += 3;
    int32_t d = (int32_t)(0xff0 - (k + 4));
    memcpy(code + k, &d, 4);
    k += 4;
    code[k++] = 0xb9;                                               /* mov ecx, n */
    memcpy(code + k, &n, 4);
    k += 4;
    size_t top = k;
    code[k++] = 0x0f, code[k++] = 0x0b;                             /* ud2 */
    code[k++] = 0xff, code[k++] = 0xc9;                             /* dec ecx */
    code[k++] = 0x75, code[k] = (uint8_t)(top - (k + 1)), k++;      /* jnz top */
    code[k++] = 0xf4;                                               /* hlt */
    uint64_t handler = BASE + 0x100;
    static const uint8_t h[] = { 0x48, 0x83, 0x04, 0x24, 0x02, 0x48, 0xcf }; /* add [rsp],2; iretq */
    memcpy(code + 0x100, h, sizeof h);
    uint16_t limit = 4095;
    uint64_t idt = BASE + 0x1000;
    memcpy(code + 0xff0, &limit, 2);
    memcpy(code + 0xff2, &idt, 8);
    uint8_t *g = code + 0x1000 + 6 * 16;                            /* gate 6 */
    memset(g, 0, 16);
    g[0] = (uint8_t)handler, g[1] = (uint8_t)(handler >> 8), g[2] = 0x08, g[3] = 0;
    g[4] = 0, g[5] = 0x8e, g[6] = (uint8_t)(handler >> 16), g[7] = (uint8_t)(handler >> 24);
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        double t = run_vsbox(code, sizeof code, NULL);
        if (t < best)
            best = t;
    }
    return best / n;
}

int main(int argc, char **argv)
{
    uint32_t scale = argc > 1 ? (uint32_t)atoi(argv[1]) : 1;
    uint8_t code[64];
    struct result loop = { "loop, no traps", 80000000u * scale, 0, 0 };
    struct result msr = { "RDMSR HV_X64_MSR_VP_INDEX", 1000000u * scale, 0, 0 };
    struct result cpuid = { "CPUID 0x40000000", 1000000u * scale, 0, 0 };

    static const uint8_t add[] = { 0x48, 0x01, 0xf0 };           /* add rax, rsi */
    size_t len = loop_code(code, loop.n, add, sizeof add, 0);
    measure(&loop, code, len, BARE_NONE);

    static const uint8_t rdmsr[] = { 0x0f, 0x32 };
    len = loop_code(code, msr.n, rdmsr, sizeof rdmsr, 0x40000002);
    msr_site = BASE + 10;
    measure(&msr, code, len, BARE_MSR);

    static const uint8_t cpuid_body[] = { 0xb8, 0x00, 0x00, 0x00, 0x40, 0x0f, 0xa2 }; /* mov eax; cpuid */
    len = loop_code(code, cpuid.n, cpuid_body, sizeof cpuid_body, 0);
    measure(&cpuid, code, len, BARE_CPUID);

    printf("vsbox emulator speed (best of 7, side by side with bare Unicorn %d.%d.%d)\n",
           UC_VERSION_MAJOR, UC_VERSION_MINOR, UC_VERSION_PATCH);
    printf("%-28s %12s %12s %10s  %s\n", "case", "vsbox ns/op", "bare ns/op", "ratio", "target");
    printf("%-28s %12.2f %12.2f %9.2fx  %s\n", loop.name, loop.vsbox / loop.n * 1e9,
           loop.bare / loop.n * 1e9, loop.bare / loop.vsbox, ">= 0.95x of bare speed");
    printf("%-28s %12.1f %12.1f %9.2fx  %s\n", msr.name, msr.vsbox / msr.n * 1e9,
           msr.bare / msr.n * 1e9, msr.vsbox / msr.bare, "<= 1.50x the bare hook's cost");
    printf("%-28s %12.1f %12.1f %9.2fx  %s\n", cpuid.name, cpuid.vsbox / cpuid.n * 1e9,
           cpuid.bare / cpuid.n * 1e9, cpuid.vsbox / cpuid.bare, "<= 1.50x the bare hook's cost");

    /* Linear growth: the cost per site and per exception at 100x the count, against the
     * cost at the smallest count. */
    double s1 = sites_per_site(1000), s2 = sites_per_site(10000), s3 = sites_per_site(100000);
    printf("\ntrap sites set up, run once each      us/site   ratio to 1,000 sites  (target: ~1, linear)\n");
    printf("%-36s %9.2f %9.2fx\n", "1,000 distinct RDTSC sites", s1 * 1e6, 1.0);
    printf("%-36s %9.2f %9.2fx\n", "10,000 distinct RDTSC sites", s2 * 1e6, s2 / s1);
    printf("%-36s %9.2f %9.2fx\n", "100,000 distinct RDTSC sites", s3 * 1e6, s3 / s1);
    double x1 = exceptions_per_exception(10000), x2 = exceptions_per_exception(100000),
           x3 = exceptions_per_exception(1000000 * scale);
    printf("\n#UD delivered through the IDT        us/exc    ratio to 10,000        (target: ~1, linear)\n");
    printf("%-36s %9.2f %9.2fx\n", "10,000 exceptions", x1 * 1e6, 1.0);
    printf("%-36s %9.2f %9.2fx\n", "100,000 exceptions", x2 * 1e6, x2 / x1);
    printf("%-36s %9.2f %9.2fx\n", "1,000,000 exceptions", x3 * 1e6, x3 / x1);
    return 0;
}
