/* The machine a guest starts on. Physical memory: RAM from 0, the Xen toolstack's
 * special pages below 4 GiB, and every other address a device callback answers
 * (devices, or all ones for nothing, as an unpopulated address under Xen). Nothing is
 * mapped executable, so the translation guard sees every instruction (guard.c).
 *
 * Unicorn 2.0.1 looks up the memory region of a guest *virtual* address, and then uses
 * that address as the physical one (mmu.c). Covering the whole 64-bit space with
 * regions keeps every virtual address valid to it, so faults come from the guest's page
 * tables as on a CPU, never from Unicorn's map; and an access past RAM reaches the
 * callback, which follows the page tables to where the guest really meant.
 *
 * Boot states: 64-bit images (flat binaries, ELF64) start in long mode on vsbox's own
 * GDT and identity page tables; ELF32 images start as Xen starts an HVM guest's
 * firmware: 32-bit flat protected mode, paging off. */
/* MAP_ANONYMOUS is not POSIX; glibc wants this to show it. */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "emu/internal.h"
#include "emu/mmio.h"
#include "emu/mmu.h"
#include "emu/phys.h"
#include "emu/xen_platform.h"

#define GDT_ADDR 0x1000u
#define PML4_ADDR 0x2000u
#define PDPT_ADDR 0x3000u
#define PD_ADDR 0x4000u      /* four page directories: 4 GiB of 2 MiB pages */
#define PRIME_ADDR 0x7000u

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

uint8_t *machine_ram(uint64_t size)
{
    /* Anonymous pages: page-aligned for uc_mem_map_ptr, zero, and backed only once
     * touched, so a 16 MiB guest that uses 100 KiB costs 100 KiB. */
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Past RAM: Unicorn hands over the address the guest used (virtual, as physical). */
static uint64_t beyond_ram(struct emu *e, uint64_t la, unsigned size, bool write, uint64_t v)
{
    struct mmu m;
    struct mmu_fault f;
    uint64_t pa = la;
    mmu_load(e, &m);
    if (mmu_paging(&m))
        mmu_walk(e, &m, la, write ? MMU_WRITE : MMU_READ, MMU_SUPERVISOR, false, &pa, &f);
    if (write) {
        phys_write(e, pa, &v, size);
        return 0;
    }
    uint64_t r = 0;
    phys_read(e, pa, &r, size);
    return r;
}

static uint64_t mmio_low_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
    struct emu *e = user;
    (void)uc;
    return beyond_ram(e, e->ram_size + off, size, false, 0);
}

static void mmio_low_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *user)
{
    struct emu *e = user;
    (void)uc;
    beyond_ram(e, e->ram_size + off, size, true, v);
}

static uint64_t mmio_high_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
    (void)uc;
    return beyond_ram(user, XEN_SPECIAL_BASE + XEN_SPECIAL_SIZE + off, size, false, 0);
}

static void mmio_high_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *user)
{
    (void)uc;
    beyond_ram(user, XEN_SPECIAL_BASE + XEN_SPECIAL_SIZE + off, size, true, v);
}

/* UC_HOOK_EDGE_GENERATED, which puts substituted bytes back before a new block runs
 * (site.c), is called only once the engine has run a block to its end: run one. */
static int prime(struct emu *e)
{
    static const uint8_t jmp[] = { 0xeb, 0x00 };   /* jmp to the next byte */
    memcpy(e->ram + PRIME_ADDR, jmp, sizeof jmp);
    uc_err err = uc_emu_start(e->uc, PRIME_ADDR, PRIME_ADDR + sizeof jmp, 0, 0);
    memset(e->ram + PRIME_ADDR, 0, sizeof jmp);
    uc_ctl_remove_cache(e->uc, PRIME_ADDR, PRIME_ADDR + 4096);  /* paging is off here */
    memset(e->code_pages, 0, (size_t)(e->ram_size >> 15) + 1);
    return err == UC_ERR_OK ? 0 : -1;
}

int machine_setup(struct emu *e, char *err, size_t errlen)
{
    e->ram_size = (uint64_t)e->cfg.memory_mib << 20;
    memset(&e->tlb, 0, sizeof e->tlb);   /* walks of RAM that may not be there again */
    if (!e->ram && !(e->ram = machine_ram(e->ram_size))) {
        snprintf(err, errlen, "cannot allocate %u MiB of guest RAM", e->cfg.memory_mib);
        return -1;
    }
    if (!e->special && !(e->special = machine_ram(XEN_SPECIAL_SIZE))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!(e->dirty = calloc(1, (size_t)(e->ram_size >> 15) + 1)) ||
        !(e->code_pages = calloc(1, (size_t)(e->ram_size >> 15) + 1))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (cpustate_verify(err, errlen))
        return -1;
    if (xen_platform_init(e)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const uint64_t high = XEN_SPECIAL_BASE + XEN_SPECIAL_SIZE;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &e->uc) != UC_ERR_OK ||
        uc_mem_map_ptr(e->uc, 0, e->ram_size, UC_PROT_READ | UC_PROT_WRITE, e->ram) != UC_ERR_OK ||
        uc_mem_map_ptr(e->uc, XEN_SPECIAL_BASE, XEN_SPECIAL_SIZE, UC_PROT_READ | UC_PROT_WRITE,
                       e->special) != UC_ERR_OK ||
        uc_mmio_map(e->uc, e->ram_size, XEN_SPECIAL_BASE - e->ram_size, mmio_low_read, e,
                    mmio_low_write, e) != UC_ERR_OK ||
        uc_mmio_map(e->uc, high, (size_t)(0 - high), mmio_high_read, e, mmio_high_write, e) !=
            UC_ERR_OK) {
        snprintf(err, errlen, "Unicorn refused %u MiB of guest RAM", e->cfg.memory_mib);
        return -1;
    }
    if (cpustate_open(&e->cpu, e->uc) || cpustate_open(&e->paging, e->uc)) {
        snprintf(err, errlen, "Unicorn refused a CPU context");
        return -1;
    }
    if (vcpu_setup(e, err, errlen))
        return -1;
    static const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
    csh *handles[3] = { &e->cs16, &e->cs32, &e->cs64 };
    for (int i = 0; i < 3; i++)
        if (cs_open(CS_ARCH_X86, modes[i], handles[i]) != CS_ERR_OK) {
            snprintf(err, errlen, "cannot open Capstone");
            return -1;
        }
    debugreg_reset(e);
    msr_platform_reset(e);
    hpet_reset(e);
    ioapic_reset(e);
    irq_reset(e);
    if (guard_install(e, err, errlen))
        return -1;
    if (prime(e)) {
        snprintf(err, errlen, "Unicorn did not run its first block");
        return -1;
    }
    /* After a run, as its check needs (redirect.c); without it deliveries from the block
     * hook take Unicorn's stop and restart, slower and the same to the guest. */
    redirect_open(&e->redirect, e->uc);
    /* Exits instead of uc_emu_start's `until`: at the end of every run Unicorn drops the
     * translation at until - 1, translating that address through the guest's page
     * tables, and a miss there leaves a page fault half-raised in the CPU (CR2, and the
     * "exception in flight" that turns the guest's next fault into #DF). With exits
     * enabled and none set, nothing is dropped; run.c sets one only to run up to an
     * instruction the guard refused. */
    if (uc_ctl_exits_enable(e->uc) != UC_ERR_OK) {
        snprintf(err, errlen, "Unicorn refused to take exits");
        return -1;
    }
    return site_install(e, err, errlen) || traps_install(e, err, errlen) ? -1 : 0;
}

/* The tables a fresh 64-bit guest starts on (a restored one brings its own memory). */
void machine_tables(struct emu *e)
{
    /* null; 0x08 64-bit code; 0x10 data; 0x18 32-bit code */
    static const uint64_t gdt[] = { 0, 0x00af9a000000ffffull, 0x00cf92000000ffffull,
                                    0x00cf9a000000ffffull };
    memcpy(e->ram + GDT_ADDR, gdt, sizeof gdt);
    if (e->boot_long) {
        put64(e->ram + PML4_ADDR, PDPT_ADDR | 0x3);
        for (uint64_t g = 0; g < 4; g++)
            put64(e->ram + PDPT_ADDR + 8 * g, (PD_ADDR + 0x1000 * g) | 0x3);
        for (uint64_t a = 0; a < e->ram_size; a += 2u << 20)
            put64(e->ram + PD_ADDR + 8 * (a >> 21), a | 0x83); /* present, writable, 2 MiB */
    }
}

static struct segcache flat(uint16_t sel, uint32_t flags)
{
    return (struct segcache){ sel, 0, 0xffffffffu, flags };
}

void machine_enter(struct emu *e, uint64_t entry, bool long_mode)
{
    uc_engine *uc = e->uc;
    uc_x86_mmr gdtr = { 0, GDT_ADDR, 4 * 8 - 1, 0 };
    uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
    /* The segment flags are those of the GDT entries above: 64-bit code (L), 32-bit code
     * (D), data (B); all present, DPL 0, accessed. */
    const uint32_t code64 = 0x00a09b00, code32 = 0x00c09b00, data = 0x00c09300;
    if (long_mode) {
        uint64_t cr3 = PML4_ADDR, cr4 = 0x20 | 0x200 | 0x400;  /* PAE, OSFXSR, OSXMMEXCPT */
        uint64_t cr0 = 0x80010033;                          /* PG WP NE ET MP PE */
        uc_x86_msr efer = { 0xc0000080, 0x500 };            /* LME LMA */
        emu_set_reg(e, UC_X86_REG_CR3, cr3);
        emu_set_reg(e, UC_X86_REG_CR4, cr4);
        uc_reg_write(uc, UC_X86_REG_MSR, &efer);
        emu_set_reg(e, UC_X86_REG_CR0, cr0);
        cpustate_load(&e->cpu, uc);
        cpustate_set_efer(&e->cpu, 0x500);
        cpustate_set_seg(&e->cpu, SEG_CS, flat(0x08, code64));
    } else {
        /* Xen's HVM vCPU at firmware entry (libxenguest vcpu_hvm): CR0 = PE | ET, flat
         * 32-bit code and data (attributes 0xc9b, 0xc93), no paging, EFER 0. */
        emu_set_reg(e, UC_X86_REG_CR0, 0x11);
        emu_set_reg(e, UC_X86_REG_CR4, 0);
        cpustate_load(&e->cpu, uc);
        cpustate_set_efer(&e->cpu, 0);
        cpustate_set_seg(&e->cpu, SEG_CS, flat(0x18, code32));
    }
    cpustate_set_seg(&e->cpu, SEG_SS, flat(0x10, data));
    cpustate_set_seg(&e->cpu, SEG_DS, flat(0x10, data));
    cpustate_set_seg(&e->cpu, SEG_ES, flat(0x10, data));
    cpustate_set_seg(&e->cpu, SEG_FS, (struct segcache){ 0, 0, 0, 0 });
    cpustate_set_seg(&e->cpu, SEG_GS, (struct segcache){ 0, 0, 0, 0 });
    cpustate_store(&e->cpu, uc);
    uc_x86_mmr tr = { 0, 0, 0x67, 0x8b00 };   /* a busy 32-bit TSS, as Xen leaves it */
    uc_reg_write(uc, UC_X86_REG_TR, &tr);
    emu_set_reg(e, UC_X86_REG_RSP, e->ram_size - 16);
    emu_set_reg(e, UC_X86_REG_EFLAGS, 0x2);
    emu_set_reg(e, UC_X86_REG_CR2, 0);
    emu_set_reg(e, UC_X86_REG_RIP, entry);
}
