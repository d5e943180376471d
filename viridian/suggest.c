#include "viridian/suggest.h"

#include <stdbool.h>
#include "viridian/hvkvm.h"
#include "viridian/model.h"
#include "viridian/msr.h"
#include "viridian/spec.h"

/* hv-passthrough is a mode, not a set of groups (it changes the identification too): the
 * search leaves it alone. */
static bool searched(const struct vprofile *host, int g)
{
    return (host->groups >> g & 1) && g != VGROUP_HV_PASSTHROUGH;
}

static uint64_t param_of(const struct vprofile *host, uint64_t groups, uint32_t spinlocks)
{
    uint64_t p = vgroups_to_mask(groups);
    if (host->hypervisor == VHV_KVM)
        p |= (uint64_t)(spinlocks ^ HYPERV_SPINLOCK_NEVER_NOTIFY) << KVM_SPINLOCKS_SHIFT;
    return p;
}

struct search {
    const struct vprofile *host;
    uint32_t spinlocks;
    vsuggest_score_fn score;
    void *ctx;
    uint64_t groups;           /* the best so far */
    unsigned long best;
    unsigned evaluations;
    bool any;
};

/* Score a group set; keep it when it is better, or as good with fewer groups. */
static bool consider(struct search *s, uint64_t groups)
{
    uint64_t p = param_of(s->host, groups, s->spinlocks);
    struct vmodel *m;
    struct vconfig cfg = { .host = s->host, .viridian = p };
    if (vmodel_create(&cfg, &m) != VERR_OK)
        return false; /* a set the host refuses (Xen: base missing; KVM: a dependency) */
    vmodel_destroy(m);
    s->evaluations++;
    unsigned long sc = s->score(s->ctx, p, s->any ? s->best : ~0ul);
    /* Ties go to the value naming fewer groups, libxl's implied ones included (stimer
     * brings synic and time_ref_count), so "base,synic" beats "base,stimer" for a
     * SynIC-only guest. */
    uint64_t was = param_of(s->host, s->groups, s->spinlocks);
    if (s->any && (sc > s->best ||
                   (sc == s->best && __builtin_popcountll(vhost_mask_groups(s->host, p)) >=
                                         __builtin_popcountll(vhost_mask_groups(s->host, was)))))
        return false;
    s->groups = groups;
    s->best = sc;
    s->any = true;
    return true;
}

void vsuggest(const struct vprofile *host, uint32_t spinlocks, vsuggest_score_fn score,
              void *ctx, struct vsuggestion *out)
{
    struct search s = { host, spinlocks, score, ctx, 0, 0, 0, false };
    if (host->param == VPARAM_BOOLEAN) {
        /* Xen 4.3/4.4: viridian is 0 or 1, nothing else to search. */
        unsigned long off = score(ctx, 0, ~0ul), on = score(ctx, 1, off);
        *out = (struct vsuggestion){ on < off, on < off ? on : off, 2 };
        return;
    }
    uint64_t all = 0;
    for (int g = 0; g < VGROUP_COUNT; g++)
        if (searched(host, g))
            all = vgroups_flip(host, all, g, true);
    consider(&s, 0);
    consider(&s, host->default_groups);
    consider(&s, all);
    for (int pass = 0; pass <= VGROUP_COUNT; pass++) {
        bool changed = false;
        for (int g = 0; g < VGROUP_COUNT; g++) {
            if (!searched(host, g))
                continue;
            bool on = s.groups >> g & 1;
            uint64_t next = vgroups_flip(host, s.groups, g, !on);
            if (next != s.groups && consider(&s, next))
                changed = true;
        }
        if (!changed)
            break;
    }
    *out = (struct vsuggestion){ param_of(host, s.groups, spinlocks), s.best, s.evaluations };
}

/* What a guest sees of the Hyper-V interface, bit by bit. */
struct view {
    uint32_t leaf[3][4];       /* 0x40000003-5 */
    uint64_t msrs;             /* bit i: the i-th synthetic MSR (vmsr_at) answers a read */
};

static void view_of(const struct vprofile *host, uint64_t param, struct view *v)
{
    struct vmodel *m;
    struct vconfig cfg = { .host = host, .viridian = param };
    *v = (struct view){ 0 };
    if (vmodel_create(&cfg, &m) != VERR_OK)
        return;
    /* A Windows guest's OS id: Xen shows leaf 4 only to Vista or later. */
    vmodel_wrmsr(m, 0, 0x40000000u, 0x1040a00003839ull);
    for (uint32_t i = 0; i < 3; i++)
        vmodel_cpuid(m, 0, 0x40000003u + i, 0, v->leaf[i]);
    size_t n = vmsr_count();
    for (size_t i = 0, k = 0; i < n && k < 64; i++) {
        uint32_t msr = vmsr_at(i);
        uint64_t val;
        if (vmsr_find(msr, NULL)->gate == VMSR_ARCH)
            continue;
        if (vmodel_rdmsr(m, 0, msr, &val) == 0)
            v->msrs |= 1ull << k;
        k++;
    }
    vmodel_destroy(m);
}

struct equivalent {
    const struct vprofile *to;
    struct view want;
};

static unsigned long view_score(void *ctx, uint64_t param, unsigned long bound)
{
    const struct equivalent *e = ctx;
    struct view v;
    (void)bound;
    view_of(e->to, param, &v);
    /* Something the guest had and loses costs twice what a new one costs: a guest uses
     * what it saw, and only may use what appears. */
    unsigned long d = 2ul * (unsigned long)__builtin_popcountll(e->want.msrs & ~v.msrs) +
                      (unsigned long)__builtin_popcountll(v.msrs & ~e->want.msrs);
    for (int i = 0; i < 3; i++)
        for (int r = 0; r < 4; r++)
            if (!(i == 1 && r == 1) && !(i == 2)) /* spinlocks and limits: not flags */
                d += 2ul * (unsigned long)__builtin_popcount(e->want.leaf[i][r] & ~v.leaf[i][r]) +
                     (unsigned long)__builtin_popcount(v.leaf[i][r] & ~e->want.leaf[i][r]);
    return d;
}

uint64_t vsuggest_equivalent(const struct vprofile *from, uint64_t param,
                             const struct vprofile *to)
{
    struct equivalent e = { to, { { { 0 } }, 0 } };
    struct vsuggestion s;
    view_of(from, param, &e.want);
    vsuggest(to, HYPERV_SPINLOCK_NEVER_NOTIFY, view_score, &e, &s);
    return s.param;
}
