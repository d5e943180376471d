/* The machine a guest starts on: RAM owned by vsbox, a GDT, identity paging and a
 * stack for 64-bit guests, flat protected mode for 32-bit ones, and no IDT. */
/* MAP_ANONYMOUS is not POSIX; glibc wants this to show it. */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "emu/internal.h"

#define GDT_ADDR 0x1000u
#define PML4_ADDR 0x2000u
#define PDPT_ADDR 0x3000u
#define PD_ADDR 0x4000u      /* four page directories: 4 GiB of 2 MiB pages */

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

int machine_setup(struct emu *e, char *err, size_t errlen)
{
    e->ram_size = (uint64_t)e->cfg.memory_mib << 20;
    if (!e->ram && !(e->ram = machine_ram(e->ram_size))) {
        snprintf(err, errlen, "cannot allocate %u MiB of guest RAM", e->cfg.memory_mib);
        return -1;
    }
    if (!(e->dirty = calloc(1, (size_t)(e->ram_size >> 15) + 1))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (uc_open(UC_ARCH_X86, e->long_mode ? UC_MODE_64 : UC_MODE_32, &e->uc) != UC_ERR_OK ||
        uc_mem_map_ptr(e->uc, 0, e->ram_size, UC_PROT_READ | UC_PROT_WRITE, e->ram) != UC_ERR_OK) {
        snprintf(err, errlen, "Unicorn refused %u MiB of guest RAM", e->cfg.memory_mib);
        return -1;
    }
    debugreg_reset(e);
    /* Not UC_PROT_EXEC: every translation fetch goes through the guard instead. */
    return guard_install(e, err, errlen);
}

/* The tables a fresh guest starts on (a restored one brings its own memory). */
void machine_tables(struct emu *e)
{
    /* null; 0x08 64-bit code; 0x10 data; 0x18 32-bit code */
    static const uint64_t gdt[] = { 0, 0x00af9a000000ffffull, 0x00cf92000000ffffull,
                                    0x00cf9a000000ffffull };
    memcpy(e->ram + GDT_ADDR, gdt, sizeof gdt);
    if (e->long_mode) {
        put64(e->ram + PML4_ADDR, PDPT_ADDR | 0x3);
        for (uint64_t g = 0; g < 4; g++)
            put64(e->ram + PDPT_ADDR + 8 * g, (PD_ADDR + 0x1000 * g) | 0x3);
        for (uint64_t a = 0; a < e->ram_size; a += 2u << 20)
            put64(e->ram + PD_ADDR + 8 * (a >> 21), a | 0x83); /* present, writable, 2 MiB */
    }
}

void machine_enter(struct emu *e, uint64_t entry, bool long_mode)
{
    uc_engine *uc = e->uc;
    uc_x86_mmr gdtr = { 0, GDT_ADDR, 4 * 8 - 1, 0 };
    uint64_t rsp = e->ram_size - 16, zero = 0;
    uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
    if (long_mode) {
        uint64_t cr3 = PML4_ADDR, cr4 = 0x20 | 0x200 | 0x400;  /* PAE, OSFXSR, OSXMMEXCPT */
        uint64_t cr0 = 0x80010033;                          /* PG WP NE ET MP PE */
        uc_x86_msr efer = { 0xc0000080, 0x500 };            /* LME LMA */
        uc_reg_write(uc, UC_X86_REG_CR3, &cr3);
        uc_reg_write(uc, UC_X86_REG_CR4, &cr4);
        uc_reg_write(uc, UC_X86_REG_MSR, &efer);
        uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
        uint64_t cs = 0x08, ds = 0x10;
        uc_reg_write(uc, UC_X86_REG_CS, &cs);
        uc_reg_write(uc, UC_X86_REG_SS, &ds);
        uc_reg_write(uc, UC_X86_REG_DS, &ds);
        uc_reg_write(uc, UC_X86_REG_ES, &ds);
        uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
    } else {
        uint64_t cr0 = 0x33, cs = 0x18, ds = 0x10;
        uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
        uc_reg_write(uc, UC_X86_REG_CS, &cs);
        uc_reg_write(uc, UC_X86_REG_SS, &ds);
        uc_reg_write(uc, UC_X86_REG_DS, &ds);
        uc_reg_write(uc, UC_X86_REG_ES, &ds);
        uc_reg_write(uc, UC_X86_REG_ESP, &rsp);
    }
    uc_reg_write(uc, UC_X86_REG_FS, &zero);
    uc_reg_write(uc, UC_X86_REG_GS, &zero);
    uc_reg_write(uc, long_mode ? UC_X86_REG_RIP : UC_X86_REG_EIP, &entry);
}
