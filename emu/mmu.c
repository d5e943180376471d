#include <string.h>
#include "emu/internal.h"
#include "emu/mmu.h"
#include "emu/phys.h"
#include "emu/cpustate.h"

enum {
    CR0_PG = 1u << 31, CR0_WP = 1u << 16,
    CR4_PSE = 1u << 4, CR4_PAE = 1u << 5, CR4_SMEP = 1u << 20, CR4_SMAP = 1u << 21,
    EFER_LMA = 1u << 10, EFER_NXE = 1u << 11,
};
enum { PTE_P = 1, PTE_RW = 2, PTE_US = 4, PTE_A = 0x20, PTE_D = 0x40, PTE_PS = 0x80 };
#define PTE_NX (1ull << 63)
/* Physical address bits above 51 and the reserved bits of 4-level and PAE entries
 * (Unicorn's CPU reports 40 physical address bits in CPUID 0x80000008). */
#define PTE_ADDR 0x000ffffffffff000ull
#define PTE_RSVD_HIGH 0x7ff0000000000000ull
#define PHYS_BITS_MASK 0x000000fffffff000ull

/* Everything besides CR3 and the address that a walk's answer depends on. */
static uint64_t mode_of(const struct mmu *m)
{
    return (m->cr0 & (CR0_PG | CR0_WP)) | (m->cr4 & (CR4_PSE | CR4_PAE | CR4_SMEP | CR4_SMAP)) |
           (m->efer & (EFER_LMA | EFER_NXE)) << 32 | (uint64_t)m->eflags_ac << 48;
}

/* Every MMIO access past RAM and every delivery loads this. The first part of QEMU's
 * state holds all of it (cpustate_load_prefix), and one copy of it costs a sixth of
 * reading the five registers (reading EFER goes through Unicorn's RDMSR, and EFLAGS
 * folds in the lazy flags, which EFLAGS.AC is not one of). Its own view, so the
 * delivery's state in e->cpu is never overwritten. */
void mmu_load(struct emu *e, struct mmu *m)
{
    cpustate_load_prefix(&e->paging, e->uc);
    mmu_from_cpu(&e->paging, m);
}

void mmu_from_cpu(const struct cpustate *cs, struct mmu *m)
{
    m->cr0 = cpustate_cr(cs, 0);
    m->cr3 = cpustate_cr(cs, 3);
    m->cr4 = cpustate_cr(cs, 4);
    m->efer = cpustate_efer(cs);
    m->eflags_ac = (cpustate_eflags(cs) & (1u << 18)) != 0;
    m->mode = mode_of(m);
}

bool mmu_paging(const struct mmu *m)
{
    return (m->cr0 & CR0_PG) != 0;
}

static uint64_t read_entry(struct emu *e, uint64_t pa, bool wide)
{
    uint64_t v = 0;
    phys_read(e, pa, &v, wide ? 8 : 4);
    return v;
}

static void write_entry(struct emu *e, uint64_t pa, uint64_t v, bool wide)
{
    phys_write(e, pa, &v, wide ? 8 : 4);
}

struct walk {
    uint64_t at[4];      /* where each entry was read */
    uint64_t val[4];
    unsigned n;
};


static uint64_t tlb_key(uint64_t la, enum mmu_access acc, enum mmu_who who)
{
    return ((la >> 12) + 1) << 4 | (uint64_t)acc << 2 | (uint64_t)who;
}

static struct mmu_tlb_entry *slot(struct emu *e, uint64_t key)
{
    /* Fibonacci hashing: the IDT, GDT, stack and APIC pages of one delivery must not share
     * a slot, whatever their addresses (low page numbers collide under a plain modulo) */
    return &e->tlb.e[(key * 0x9e3779b97f4a7c15ull) >> (64 - MMU_TLB_BITS)];
}

/* A remembered walk still right: same key, and every entry it read holds what it held.
 * The entries are in RAM (tlb_fill), whose size an emulator keeps for its life. */
static bool tlb_hit(struct emu *e, const struct mmu *m, uint64_t la, enum mmu_access acc,
                    enum mmu_who who, bool set_ad, uint64_t *pa)
{
    uint64_t key = tlb_key(la, acc, who);
    const struct mmu_tlb_entry *t = slot(e, key);
    if (t->key != key || t->cr3 != m->cr3 || t->mode != m->mode || (set_ad && !t->ad))
        return false;
    for (unsigned i = 0; i < t->n; i++) {
        uint64_t v;
        if (t->wide) {
            memcpy(&v, e->ram + t->at[i], 8);
        } else {
            uint32_t v32;
            memcpy(&v32, e->ram + t->at[i], 4);
            v = v32;
        }
        if (v != t->val[i])
            return false;
    }
    *pa = t->pa | (la & 4095);
    return true;
}

static void tlb_fill(struct emu *e, const struct mmu *m, uint64_t la, enum mmu_access acc,
                     enum mmu_who who, bool wide, const uint64_t *at, const uint64_t *val,
                     unsigned n, bool ad, uint64_t pa)
{
    unsigned size = wide ? 8 : 4;
    for (unsigned i = 0; i < n; i++)
        if (at[i] >= e->ram_size || e->ram_size - at[i] < size)
            return;   /* an entry outside RAM (a device): walked every time */
    uint64_t key = tlb_key(la, acc, who);
    struct mmu_tlb_entry *t = slot(e, key);
    *t = (struct mmu_tlb_entry){ .key = key, .cr3 = m->cr3, .mode = m->mode,
                                 .pa = pa & ~4095ull, .n = (uint8_t)n, .wide = wide, .ad = ad };
    memcpy(t->at, at, n * sizeof *at);
    memcpy(t->val, val, n * sizeof *val);
}

/* The permission checks of SDM vol. 3 4.6, from the rights accumulated on the walk. */
static bool allowed(const struct mmu *m, bool user_page, bool writable, bool nx,
                    enum mmu_access acc, enum mmu_who who)
{
    bool user = who == MMU_USER;
    if (user && !user_page)
        return false;
    if (acc == MMU_FETCH) {
        if (nx)
            return false;
        if (!user && user_page && (m->cr4 & CR4_SMEP))
            return false;
        return true;
    }
    if (!user && user_page && (m->cr4 & CR4_SMAP) && (who == MMU_IMPLICIT || !m->eflags_ac))
        return false;
    if (acc == MMU_WRITE && !writable && (user || (m->cr0 & CR0_WP)))
        return false;
    return true;
}

/* The walk itself, kept out of line: the remembered answer in mmu_walk is the common
 * case, and it should not pay this function's register saves. */
__attribute__((noinline))
static int walk(struct emu *e, const struct mmu *m, uint64_t la, enum mmu_access acc,
                enum mmu_who who, bool set_ad, uint64_t *pa, struct mmu_fault *f)
{
    bool nxe = m->efer & EFER_NXE;
    bool wide = (m->cr4 & CR4_PAE) != 0;
    struct walk w = { .n = 0 };
    uint64_t pdpte_at = UINT64_MAX, pdpte = 0;
    bool user_page = true, writable = true, nx = false, rsvd = false, present = true;
    uint64_t page_size = 4096, base = 0;

    uint64_t table;
    int level;
    if (m->efer & EFER_LMA) {
        table = m->cr3 & PTE_ADDR;
        level = 4;
    } else if (wide) {
        /* PAE: the four PDPTEs, which carry only P and reserved bits */
        pdpte_at = (m->cr3 & 0xffffffe0u) + ((la >> 30) & 3) * 8;
        pdpte = read_entry(e, pdpte_at, true);
        if (!(pdpte & PTE_P)) {
            present = false;
            goto fault;
        }
        if ((pdpte & 0x1e6ull) || (pdpte & ~(PHYS_BITS_MASK | 0xfffull))) {
            rsvd = true;
            goto fault;
        }
        table = pdpte & PTE_ADDR;
        level = 2;
    } else {
        table = m->cr3 & 0xfffff000u;
        level = 2;
    }

    for (; level >= 1; level--) {
        unsigned shift = wide ? 12 + 9 * (unsigned)(level - 1) : 12 + 10 * (unsigned)(level - 1);
        uint64_t index = (la >> shift) & (wide ? 0x1ff : 0x3ff);
        uint64_t at = table + index * (wide ? 8 : 4);
        uint64_t v = read_entry(e, at, wide);
        w.at[w.n] = at;
        w.val[w.n++] = v;
        if (!(v & PTE_P)) {
            present = false;
            goto fault;
        }
        if (wide) {
            if ((v & PTE_RSVD_HIGH) || (!nxe && (v & PTE_NX)) || (v & PTE_ADDR & ~PHYS_BITS_MASK) ||
                (level == 4 && (v & PTE_PS))) {
                rsvd = true;
                goto fault;
            }
            nx |= nxe && (v & PTE_NX);
        }
        user_page &= (v & PTE_US) != 0;
        writable &= (v & PTE_RW) != 0;
        bool large = (level == 2 && (v & PTE_PS) && (wide || (m->cr4 & CR4_PSE))) ||
                     (level == 3 && (v & PTE_PS));
        if (large) {
            page_size = 1ull << shift;
            if (wide) {
                /* the large page's own reserved bits: 12 up to its alignment (bit 12 is PAT) */
                if (v & (page_size - 1) & ~0x1fffull) {
                    rsvd = true;
                    goto fault;
                }
                base = v & PTE_ADDR & ~(page_size - 1);
            } else {
                /* 4 MiB: bits 31-22, and PSE-36's bits 39-32 from 20-13 */
                base = (v & 0xffc00000u) | ((v >> 13) & 0xff) << 32;
            }
            break;
        }
        if (level == 1) {
            base = v & (wide ? PTE_ADDR : 0xfffff000u);
            break;
        }
        table = v & (wide ? PTE_ADDR : 0xfffff000u);
    }
    if (!allowed(m, user_page, writable, nx, acc, who))
        goto fault;
    bool ad = true;
    for (unsigned i = 0; i < w.n; i++) {
        uint64_t v = w.val[i] | PTE_A;
        if (i + 1 == w.n && acc == MMU_WRITE)
            v |= PTE_D;
        if (v != w.val[i] && set_ad) {
            write_entry(e, w.at[i], v, wide);
            w.val[i] = v;
        }
        ad &= v == w.val[i];
    }
    *pa = base | (la & (page_size - 1));
    /* the PAE PDPTE first (it has no accessed bit), then the walk's own entries */
    uint64_t at[5], val[5];
    unsigned n = 0;
    if (pdpte_at != UINT64_MAX) {
        at[n] = pdpte_at;
        val[n++] = pdpte;
    }
    for (unsigned i = 0; i < w.n; i++) {
        at[n] = w.at[i];
        val[n++] = w.val[i];
    }
    tlb_fill(e, m, la, acc, who, wide, at, val, n, ad, *pa);
    return 0;

fault:
    f->addr = la;
    f->error = (present ? PF_P : 0) | (rsvd ? PF_RSVD | PF_P : 0) |
               (acc == MMU_WRITE ? PF_W : 0) | (who == MMU_USER ? PF_U : 0) |
               (acc == MMU_FETCH && ((nxe && wide) || (m->cr4 & CR4_SMEP)) ? PF_ID : 0);
    return -1;
}

int mmu_walk(struct emu *e, const struct mmu *m, uint64_t la, enum mmu_access acc,
             enum mmu_who who, bool set_ad, uint64_t *pa, struct mmu_fault *f)
{
    if (!mmu_paging(m)) {
        *pa = (m->efer & EFER_LMA) ? la : la & 0xffffffffu;
        return 0;
    }
    if (tlb_hit(e, m, la, acc, who, set_ad, pa))
        return 0;
    return walk(e, m, la, acc, who, set_ad, pa, f);
}

/* Where an access to la lands once allowed: Unicorn 2.0.1 walks the page tables only to
 * check them and then uses la itself as the physical address (its excp_helper.c,
 * "identity map guest virtual address"), so vsbox does the same for RAM addresses; past
 * RAM, its device callback resolves the address through the tables (machine.c). */
static uint64_t target(const struct emu *e, uint64_t la, uint64_t pa)
{
    return la < e->ram_size ? la : pa;
}

static int copy(struct emu *e, const struct mmu *m, uint64_t la, void *buf, size_t len,
                enum mmu_who who, struct mmu_fault *f, bool write)
{
    /* A write across pages is checked on every page before any byte lands, so a frame
     * that faults halfway leaves memory as it was (within one page the walk that allows
     * the write is that check). */
    bool one_page = len == 0 || (la >> 12) == ((la + len - 1) >> 12);
    for (int pass = write && !one_page ? 0 : 1; pass < 2; pass++) {
        uint8_t *b = buf;
        uint64_t at = la;
        size_t left = len;
        while (left > 0) {
            size_t chunk = 4096 - (at & 4095);
            if (chunk > left)
                chunk = left;
            uint64_t pa;
            if (mmu_walk(e, m, at, write ? MMU_WRITE : MMU_READ, who, pass == 1, &pa, f))
                return -1;
            if (pass == 1 && write)
                phys_write(e, target(e, at, pa), b, chunk);
            else if (pass == 1)
                phys_read(e, target(e, at, pa), b, chunk);
            at += chunk;
            b += chunk;
            left -= chunk;
        }
    }
    return 0;
}

int mmu_read(struct emu *e, const struct mmu *m, uint64_t la, void *buf, size_t len,
             enum mmu_who who, struct mmu_fault *f)
{
    return copy(e, m, la, buf, len, who, f, false);
}

int mmu_write(struct emu *e, const struct mmu *m, uint64_t la, const void *buf, size_t len,
              enum mmu_who who, struct mmu_fault *f)
{
    return copy(e, m, la, (void *)buf, len, who, f, true);
}

int mmu_copy_from_guest(struct emu *e, uint64_t la, void *buf, size_t len)
{
    struct mmu m;
    struct mmu_fault f;
    mmu_load(e, &m);
    return mmu_read(e, &m, la, buf, len, MMU_SUPERVISOR, &f);
}

int mmu_copy_to_guest(struct emu *e, uint64_t la, const void *buf, size_t len)
{
    struct mmu m;
    struct mmu_fault f;
    mmu_load(e, &m);
    return mmu_write(e, &m, la, buf, len, MMU_SUPERVISOR, &f);
}
