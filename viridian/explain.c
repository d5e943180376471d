#include "viridian/explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "viridian/internal.h"
#include "viridian/spec.h"

/* The answer a copy of m with HVM_PARAM_VIRIDIAN `param` gives to ev: the same domain,
 * as if the toolstack had built it with that value. */
static bool answer(const struct vmodel *m, uint64_t param, const struct vevent *ev,
                   struct vres *res)
{
    struct vmodel *c = vmodel_clone(m);
    if (!c)
        return false;
    c->param = param;
    /* Probing has no business writing the embedder's memory (hypercall pages). */
    c->mem = (struct vmem_ops){ 0 };
    bool ok = vmodel_apply(c, ev, res);
    vmodel_destroy(c);
    return ok;
}

static bool matches(const struct vres *got, const struct vres *want, int reg, unsigned bit)
{
    if (reg < 0)
        return vres_equal(got, want);
    if (got->kind != VRES_REGS || want->kind != VRES_REGS)
        return false;
    return ((got->v[reg] >> bit) & 1) == ((want->v[reg] >> bit) & 1);
}

/* The spec text of m's groups with group g flipped: "base,freq" + ",time_ref_count". On
 * KVM the flags with g flipped along with what it needs (or what needs it), hv-spinlocks
 * kept. */
static bool flipped_param(const struct vmodel *m, int g, uint64_t *param)
{
    if (vkvm(m)) {
        uint64_t on = vhost_mask_groups(m->host, m->param);
        uint64_t spin = m->param & ~((1ull << KVM_SPINLOCKS_SHIFT) - 1);
        *param = vgroups_to_mask(vgroups_flip(m->host, on, g, !(on >> g & 1))) | spin;
        return true;
    }
    char spec[512] = "";
    size_t n = 0;
    for (int k = 0; k < VGROUP_COUNT; k++) {
        bool on = vgroup_enabled(m, k) != (k == g);
        if (!on)
            continue;
        const char *name = vgroup_info(k)->name;
        if (n + strlen(name) + 2 >= sizeof spec)
            return false;
        n += (size_t)snprintf(spec + n, sizeof spec - n, "%s%s", n ? "," : "", name);
    }
    return vspec_parse(m->host, n ? spec : "0", param, NULL) == VERR_OK;
}

bool vexplain_event(const struct vmodel *m, const struct vevent *ev, const struct vres *want,
                    int reg, unsigned bit, struct vexplain *out)
{
    struct vres res;
    *out = (struct vexplain){ .group = -1 };
    if (m->host->param == VPARAM_BOOLEAN) {
        uint64_t other = m->param ? 0 : 1;
        if ((ev->kind == VEV_CPUID && !other) || !answer(m, other, ev, &res) ||
            !matches(&res, want, reg, bit))
            return false;
        out->boolean = true;
        out->enable = other != 0;
        return true;
    }
    int best = 0;
    for (int g = 0; g < VGROUP_COUNT; g++) {
        uint64_t param;
        if (!(m->host->groups & (1ull << g)) || g == VGROUP_HV_PASSTHROUGH ||
            !flipped_param(m, g, &param) ||
            param == m->param || vparam_check(m->host, 0, param, false) != VRES_OK)
            continue;
        /* Without base the leaves at 0x40000000 are Xen's own: a bit there says nothing
         * about Hyper-V's. */
        if (ev->kind == VEV_CPUID && !vkvm(m) && !(param & HVMPV_base_freq))
            continue;
        /* Of the changes that do it, the one that changes least: on KVM switching off
         * hv-vpindex also switches off hv-synic, which needs it; hv-synic alone is the
         * answer. */
        int cost = __builtin_popcountll(param ^ m->param);
        if (answer(m, param, ev, &res) && matches(&res, want, reg, bit) &&
            (out->group < 0 || cost < best)) {
            out->group = g;
            out->enable = !vgroup_enabled(m, g);
            best = cost;
        }
    }
    return out->group >= 0;
}
