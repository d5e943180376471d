#include <stdlib.h>
#include <string.h>
#include "viridian/planted.h"
#include "viridian/internal.h"
#include "viridian/spec.h"
#include "viridian/why.h"

/* tsc_set_info(): the TSC is emulated (vtsc) unless the host TSC is reliable and runs
 * at the guest's rate, natively or through TSC scaling. */
static bool needs_vtsc(const struct vprofile *h, uint32_t tsc_khz)
{
    return !(h->tsc_reliable && (tsc_khz == h->cpu_khz || h->tsc_scaling));
}

enum verr vmodel_create(const struct vconfig *cfg, struct vmodel **out)
{
    const struct vprofile *host = cfg->host ? cfg->host : vprofile_default();
    uint32_t tsc_khz = cfg->tsc_khz ? cfg->tsc_khz : host->tsc_khz;
    uint32_t vcpus = cfg->vcpus ? cfg->vcpus : 1;

    *out = NULL;
    if (tsc_khz < VMODEL_TSC_KHZ_MIN || tsc_khz > VMODEL_TSC_KHZ_MAX)
        return VERR_BAD_TSC_KHZ;
    if (vcpus > VMODEL_MAX_VCPUS)
        return VERR_BAD_VCPUS;
    /* The toolstack sets the parameter once at build, on a domain whose value is 0. */
    if (vparam_check(host, 0, cfg->viridian, false) != VRES_OK)
        return VERR_BAD_MASK;

    struct vmodel *m = calloc(1, sizeof *m);
    if (!m)
        return VERR_NO_MEMORY;
    m->host = host;
    m->tsc_khz = tsc_khz;
    m->vcpus = vcpus;
    m->mem = cfg->mem;
    m->plat = cfg->platform;
    m->tsc_to_ns = vtime_scale_for((uint64_t)tsc_khz * 1000);
    m->vtsc = needs_vtsc(host, tsc_khz);
    m->param = cfg->viridian;
    /* The domain's first unpause thaws the counter at guest time 0 (offset 0) if it has
     * one then: a parameter the toolstack sets later leaves it unthawed, as in Xen. */
    m->trc.running = vtime_freezes(m);
    for (uint32_t i = 0; i < VMODEL_MAX_VCPUS; i++)
        vsynic_vcpu_init(&m->vcpu[i]);
    *out = m;
    return VERR_OK;
}

void vmodel_destroy(struct vmodel *m)
{
    free(m);
}

const struct vprofile *vmodel_host(const struct vmodel *m) { return m->host; }
uint32_t vmodel_tsc_khz(const struct vmodel *m) { return m->tsc_khz; }
uint32_t vmodel_vcpus(const struct vmodel *m) { return m->vcpus; }
uint64_t vmodel_param(const struct vmodel *m) { return m->param; }
const struct vcrash *vmodel_crash(const struct vmodel *m) { return &m->crash; }
const char *vmodel_defect(const struct vmodel *m) { return m->defect; }
bool vmodel_paused(const struct vmodel *m) { return m->paused; }

void vmodel_set_platform(struct vmodel *m, const struct vplatform_ops *ops)
{
    m->plat = ops ? *ops : (struct vplatform_ops){ 0 };
}

void vmodel_defect_hit(struct vmodel *m, const char *what)
{
    if (!m->defect)
        m->defect = what;
}

uint64_t vmodel_features(const struct vmodel *m)
{
    if (m->host->param == VPARAM_BOOLEAN)
        return m->param ? m->host->legacy_true_mask : 0;
    return m->param;
}

bool vmodel_viridian(const struct vmodel *m)
{
    return viridian_enabled(m);
}

bool vgroup_enabled(const struct vmodel *m, int group)
{
    uint64_t f = vmodel_features(m);
    const struct vgroup_info *g = vgroup_info(group);
    if (!g || g->hypervisor != m->host->hypervisor)
        return false;
    if (vkvm(m))
        return (f & g->hvmpv) != 0;
    if (!(f & HVMPV_base_freq))
        return false;
    if (group == VGROUP_FREQ)
        return !(f & HVMPV_no_freq);
    return (f & g->hvmpv) != 0;
}

enum vrule vparam_rule(const struct vprofile *host, uint64_t current, uint64_t value,
                       bool from_guest)
{
    if (host->param == VPARAM_HV_FLAGS) {
        /* QEMU takes its -cpu flags once, before the guest runs; a guest has no way to
         * change them, and kvm_hyperv_expand_features() refuses a flag whose
         * dependency is missing. */
        int g, needs;
        if (from_guest)
            return VRULE_PARAM_GUEST;
        if (value == current)
            return VRULE_PARAM_TAKEN;
        if (current != 0)
            return VRULE_PARAM_SET_ONCE;
        uint64_t low = value & ((1ull << KVM_SPINLOCKS_SHIFT) - 1);
        return (low & ~(uint64_t)host->feature_mask) || !vkvm_config_ok(value, &g, &needs)
                   ? VRULE_PARAM_BAD_MASK : VRULE_PARAM_TAKEN;
    }
    if (host->param == VPARAM_BOOLEAN) {
        /* Xen 4.3/4.4 do_hvm_op: "if ( a.value > 1 ) rc = -EINVAL", nothing else. */
        (void)current;
        (void)from_guest;
        return value > 1 ? VRULE_PARAM_BOOLEAN : VRULE_PARAM_TAKEN;
    }
    /* 4.5 do_hvm_op, 4.6+ hvm_allow_set_param(): the guest may not set it (EPERM); set
     * once by the tools (EEXIST), then hvm_set_param(): "(value & ~HVMPV_feature_mask)
     * || !(value & HVMPV_base_freq)" is EINVAL. */
    if (from_guest && !FAULT(FAULT_GUEST_MAY_WRITE))
        return VRULE_PARAM_GUEST;
    if (value != current) {
        if (current != 0 && !FAULT(FAULT_NO_EEXIST))
            return VRULE_PARAM_SET_ONCE;
        if ((value & ~(uint64_t)host->feature_mask) || !(value & HVMPV_base_freq))
            return VRULE_PARAM_BAD_MASK;
    }
    return VRULE_PARAM_TAKEN;
}

enum vres_kind vparam_check(const struct vprofile *host, uint64_t current, uint64_t value,
                            bool from_guest)
{
    switch (vparam_rule(host, current, value, from_guest)) {
    case VRULE_PARAM_GUEST:
        return VRES_EPERM;
    case VRULE_PARAM_SET_ONCE:
        return VRES_EEXIST;
    case VRULE_PARAM_BAD_MASK:
    case VRULE_PARAM_BOOLEAN:
        return VRES_EINVAL;
    default:
        return VRES_OK;
    }
}

enum vres_kind vmodel_param_set(struct vmodel *m, uint64_t value, bool from_guest)
{
    enum vres_kind r = vparam_check(m->host, m->param, value, from_guest);
    if (r == VRES_OK)
        m->param = value;
    return r;
}

uint64_t vmodel_tsc(const struct vmodel *m)
{
    return m->tsc;
}

void vmodel_advance(struct vmodel *m, uint64_t ticks)
{
    /* Saturate: time seen by the guest never goes back, even for absurd inputs. */
    m->tsc = ticks > UINT64_MAX - m->tsc ? UINT64_MAX : m->tsc + ticks;
}

void vmodel_set_tsc(struct vmodel *m, uint64_t tsc)
{
    m->tsc = tsc;
}

void vmodel_pause(struct vmodel *m)
{
    if (m->paused)
        return;
    m->paused = true;
    vtime_freeze(m);
}

void vmodel_unpause(struct vmodel *m)
{
    if (!m->paused)
        return;
    m->paused = false;
    vtime_thaw(m);
}

struct vmodel *vmodel_clone(const struct vmodel *m)
{
    struct vmodel *c = malloc(sizeof *c);
    if (c)
        memcpy(c, m, sizeof *c);
    return c;
}
