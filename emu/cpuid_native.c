/* Unicorn's own CPU model answers the basic and extended leaves. vsbox reads them once
 * on a scratch engine and serves them from a table with CPUID.1:ECX[31] set, so a
 * guest can tell it runs under a hypervisor and every answer is deterministic. */
#include <string.h>
#include "emu/internal.h"

static int probe(uc_engine *uc, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    static const uint8_t code[] = { 0x0f, 0xa2, 0xf4 }; /* cpuid; hlt */
    uint64_t a = leaf, c = sub, zero = 0;
    if (uc_mem_write(uc, 0x1000, code, sizeof code) || uc_reg_write(uc, UC_X86_REG_RAX, &a) ||
        uc_reg_write(uc, UC_X86_REG_RCX, &c) || uc_reg_write(uc, UC_X86_REG_RBX, &zero) ||
        uc_reg_write(uc, UC_X86_REG_RDX, &zero) || uc_emu_start(uc, 0x1000, 0x1003, 0, 0))
        return -1;
    const int regs[4] = { UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX };
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        uc_reg_read(uc, regs[i], &v);
        r[i] = (uint32_t)v;
    }
    return 0;
}

static void add(struct emu *e, uint32_t leaf, uint32_t sub, const uint32_t r[4])
{
    if (e->n_leaves < sizeof e->leaves / sizeof e->leaves[0])
        e->leaves[e->n_leaves++] = (struct cpuid_leaf){ leaf, sub, { r[0], r[1], r[2], r[3] } };
}

int cpuid_native_probe(struct emu *e, char *err, size_t errlen)
{
    uc_engine *uc;
    uint32_t r[4];
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) || uc_mem_map(uc, 0, 0x2000, UC_PROT_ALL)) {
        snprintf(err, errlen, "cannot start Unicorn to read its CPU model");
        return -1;
    }
    int rc = 0;
    static const uint32_t bases[] = { 0, 0x80000000u };
    for (size_t b = 0; b < 2 && !rc; b++) {
        uint32_t base = bases[b];
        rc = probe(uc, base, 0, r);
        uint32_t max = r[0] < base + 24 ? r[0] : base + 24;
        for (uint32_t leaf = base; leaf <= max && !rc; leaf++)
            for (uint32_t sub = 0; sub < (leaf == 4 || leaf == 7 || leaf == 0xb ? 3u : 1u) && !rc;
                 sub++) {
                rc = probe(uc, leaf, sub, r);
                if (leaf == 1)
                    r[2] |= 1u << 31; /* the hypervisor-present bit */
                add(e, leaf, sub, r);
            }
    }
    uc_close(uc);
    if (rc)
        snprintf(err, errlen, "cannot read Unicorn's CPUID");
    return rc;
}

void cpuid_native(const struct emu *e, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    const struct cpuid_leaf *best = NULL;
    for (uint32_t i = 0; i < e->n_leaves; i++)
        if (e->leaves[i].leaf == leaf && (e->leaves[i].sub == sub || !best))
            best = &e->leaves[i];
    if (best && (best->leaf != 4 && best->leaf != 7 && best->leaf != 0xb ? true : best->sub == sub)) {
        memcpy(r, best->r, 4 * sizeof r[0]);
        return;
    }
    memset(r, 0, 4 * sizeof r[0]);
}
