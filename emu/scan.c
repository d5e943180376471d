/* Trap sites are found when code is first translated: each new translation block is
 * disassembled, every RDMSR/WRMSR/RDTSC/RDTSCP in it gets an exact-address hook, and
 * the block is dropped and the run restarted so it is retranslated with the hook (the
 * stop takes effect before the block executes). Code that never traps runs hook-free;
 * self-modifying code is retranslated by Unicorn and so scanned again. */
#include <string.h>
#include "emu/internal.h"

void site_hit(uc_engine *uc, uint64_t addr, uint32_t size, void *user);

static bool hooked(const struct emu *e, uint64_t addr)
{
    for (uint32_t i = 0; i < e->n_sites; i++)
        if (e->sites[i] == addr)
            return true;
    return false;
}

static bool trap_insn(const struct emu *e, unsigned id)
{
    /* CPUID has a native hook; with a save point it also gets an exact one, because
     * only there can the run stop precisely after it. */
    return id == X86_INS_RDMSR || id == X86_INS_WRMSR || id == X86_INS_RDTSC ||
           id == X86_INS_RDTSCP || (id == X86_INS_CPUID && e->cfg.save_at);
}

static void add_site(struct emu *e, uint64_t addr)
{
    uc_hook h;
    if (hooked(e, addr) || e->n_sites == EMU_MAX_SITES)
        return;
    if (uc_hook_add(e->uc, &h, UC_HOOK_CODE, (void *)site_hit, e, addr, addr) != UC_ERR_OK)
        return;
    e->sites[e->n_sites++] = addr;
    e->restart = true;
}

void scan_range(struct emu *e, uint64_t start, uint64_t len)
{
    if (start >= e->ram_size)
        return;
    if (len > e->ram_size - start)
        len = e->ram_size - start;
    cs_insn *insn = cs_malloc(e->cs);
    const uint8_t *code = e->ram + start;
    size_t left = (size_t)len;
    uint64_t addr = start;
    while (left > 0) {
        if (!cs_disasm_iter(e->cs, &code, &left, &addr, insn)) {
            code++; /* data or a half instruction: resynchronise a byte later */
            left--;
            addr++;
            continue;
        }
        if (trap_insn(e, insn->id))
            add_site(e, insn->address);
    }
    cs_free(insn, 1);
}

static void on_new_block(uc_engine *uc, uc_tb *tb, uc_tb *prev, void *user)
{
    struct emu *e = user;
    (void)prev;
    bool before = e->restart;
    e->restart = false;
    scan_range(e, tb->pc, tb->size);
    if (e->restart) {
        uc_ctl_remove_cache(uc, tb->pc, tb->pc + tb->size);
        uc_emu_stop(uc);
    }
    e->restart |= before;
}

int scan_install(struct emu *e, char *err, size_t errlen)
{
    uc_hook h;
    if (cs_open(CS_ARCH_X86, e->long_mode ? CS_MODE_64 : CS_MODE_32, &e->cs) != CS_ERR_OK) {
        snprintf(err, errlen, "cannot open Capstone");
        return -1;
    }
    cs_option(e->cs, CS_OPT_DETAIL, CS_OPT_OFF);
    if (uc_hook_add(e->uc, &h, UC_HOOK_EDGE_GENERATED, (void *)on_new_block, e, 1, 0)) {
        snprintf(err, errlen, "this Unicorn has no UC_HOOK_EDGE_GENERATED");
        return -1;
    }
    return 0;
}
