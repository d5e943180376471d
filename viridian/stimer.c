/* Synthetic timers, as xen/arch/x86/hvm/viridian/time.c (RELEASE-4.13.0 .. 4.22.0) runs
 * them: counts and expirations in 100 ns reference time; a timer fires when the
 * reference time reaches its expiration (Xen: set_timer(NOW() + (expiration - now) *
 * 100)), which only marks it pending; the message goes out at the next poll. */
#include "viridian/internal.h"

static int64_t ref_now(const struct vmodel *m)
{
    return (int64_t)vtime_ref_count(m);
}

/* Xen's int64_t arithmetic on guest-chosen counts wraps (two's complement, as its
 * compiler gives it); in C that must be spelled out, or it is undefined. */
static int64_t add(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

static int64_t sub(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a - (uint64_t)b);
}

static bool cfg(const struct vstimer *vs, uint64_t bit)
{
    return (vs->config & bit) != 0;
}

/* stimer_expire(): the timer callback. */
static void expire(struct vvcpu *v, unsigned x)
{
    v->stimer_pending |= 1u << x;
}

/* Xen's timers fire on their own; the model lets them fire when it next looks. */
void vstimer_fire_due(struct vmodel *m, uint32_t vcpu)
{
    struct vvcpu *v = &m->vcpu[vcpu];
    int64_t now = ref_now(m);
    for (unsigned x = 0; x < HV_STIMER_COUNT; x++) {
        struct vstimer *vs = &v->stimer[x];
        if (vs->armed && sub(vs->expiration, now) <= 0) {
            vs->armed = false;
            expire(v, x);
        }
    }
}

void vstimer_stop(struct vvcpu *v, unsigned x)
{
    struct vstimer *vs = &v->stimer[x];
    if (!vs->started)
        return;
    vs->armed = false;
    vs->started = false;
}

/* start_stimer(). */
void vstimer_start(struct vmodel *m, uint32_t vcpu, unsigned x)
{
    struct vvcpu *v = &m->vcpu[vcpu];
    struct vstimer *vs = &v->stimer[x];
    int64_t now = ref_now(m), expiration;

    if (!vs->count && m->host->stimer_zero_count) {
        /* 4.22: "VIRIDIAN STIMER started with 0 count" -> domain_crash(); the MSR and
         * load paths make it unreachable. */
        vs->config &= ~HV_STIMER_ENABLE;
        return;
    }
    if (cfg(vs, HV_STIMER_PERIODIC)) {
        /* "if the timer is lazy then we skip over any missed expirations" */
        if (!vs->started || cfg(vs, HV_STIMER_LAZY)) {
            expiration = add(now, (int64_t)vs->count);
        } else {
            uint64_t missed = 0;
            expiration = add(vs->expiration, (int64_t)vs->count);
            if (sub(expiration, now) <= 0) {
                if (!vs->count) {
                    /* Before 4.22 a periodic timer with count 0 re-arms by dividing by
                     * it (commit 8e54ad2c8c). The model stops the timer instead. */
                    vmodel_defect_hit(m, "periodic synthetic timer with count 0: Xen "
                                         "divides by zero re-arming it (fixed in 4.22)");
                    vs->config &= ~HV_STIMER_ENABLE;
                    vs->started = vs->armed = false;
                    return;
                }
                missed = (uint64_t)sub(now, expiration) / vs->count + 1;
            }
            /* "the choice of number here is a pure guess" */
            if (missed > 3)
                expiration = add(now, (int64_t)vs->count);
            else if (missed)
                expiration = add(now, (int64_t)(vs->count / missed));
        }
    } else {
        expiration = (int64_t)vs->count;
        if (sub(expiration, now) <= 0) {
            vs->expiration = expiration;
            expire(v, x);
            return;
        }
    }
    vs->expiration = expiration;
    vs->started = true;
    v->stimer_pending &= ~(1u << x);
    vs->armed = true;
}

/* poll_stimer(). */
static bool poll_one(struct vmodel *m, uint32_t vcpu, unsigned x, int64_t sim_busy)
{
    struct vvcpu *v = &m->vcpu[vcpu];
    struct vstimer *vs = &v->stimer[x];

    /* "Timer expiry may race with the timer being disabled." */
    if (!cfg(vs, HV_STIMER_ENABLE)) {
        v->stimer_pending &= ~(1u << x);
        return false;
    }
    if (!(v->stimer_pending & (1u << x)))
        return false;
    if (vkvm(m) && cfg(vs, HV_STIMER_DIRECT_MODE)) {
        /* stimer_notify_direct(): the configured vector, no message. */
        vapic_deliver(m, vcpu, (uint8_t)HV_STIMER_APIC_VECTOR(vs->config));
    } else if (!vsynic_deliver_timer_msg(m, vcpu, HV_STIMER_SINTX(vs->config), x,
                                  (uint64_t)vs->expiration, (uint64_t)ref_now(m),
                                  (int)sim_busy))
        return false;
    v->stimer_pending &= ~(1u << x);
    if (cfg(vs, HV_STIMER_PERIODIC))
        vstimer_start(m, vcpu, x);
    else
        vs->config &= ~HV_STIMER_ENABLE;
    return true;
}

uint32_t vmodel_poll(struct vmodel *m, uint32_t vcpu, int64_t sim_busy)
{
    uint32_t delivered = 0;
    if (vcpu >= m->vcpus || !m->host->synic || m->paused)
        return 0;
    if (sim_busy > 0xffff)
        sim_busy = 0xffff;
    vstimer_fire_due(m, vcpu);
    if (!m->vcpu[vcpu].stimer_pending)
        return 0;
    for (unsigned x = 0; x < HV_STIMER_COUNT; x++)
        if (poll_one(m, vcpu, x, sim_busy))
            delivered |= 1u << x;
    return delivered;
}

/* The first TSC at which the reference time reaches expiration. */
static uint64_t tsc_when(const struct vmodel *m, int64_t expiration)
{
    /* Search a bounded window: the counter's arithmetic wraps far beyond it. */
    uint64_t lo = m->tsc, hi = lo > UINT64_MAX - (1ull << 60) ? UINT64_MAX : lo + (1ull << 60);
    if (sub((int64_t)vtime_count_at(m, hi), expiration) < 0)
        return UINT64_MAX;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (sub((int64_t)vtime_count_at(m, mid), expiration) >= 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

bool vmodel_stimer_next(const struct vmodel *m, uint32_t vcpu, uint64_t *tsc)
{
    if (vcpu >= m->vcpus || !m->host->synic || m->paused)
        return false;
    const struct vvcpu *v = &m->vcpu[vcpu];
    bool any = false;
    uint64_t best = UINT64_MAX;
    for (unsigned x = 0; x < HV_STIMER_COUNT; x++) {
        const struct vstimer *vs = &v->stimer[x];
        if ((v->stimer_pending & (1u << x)) && cfg(vs, HV_STIMER_ENABLE)) {
            *tsc = m->tsc;
            return true;
        }
        if (vs->armed) {
            uint64_t t = tsc_when(m, vs->expiration);
            if (t != UINT64_MAX && t < best)
                best = t;
            any = any || t != UINT64_MAX;
        }
    }
    if (any)
        *tsc = best;
    return any;
}

/* time_vcpu_freeze / time_vcpu_thaw: only for domains with HVMPV_stimer. */
void vstimer_freeze(struct vmodel *m)
{
    if (!has_feature(m, HVMPV_stimer))
        return;
    for (uint32_t i = 0; i < m->vcpus; i++) {
        vstimer_fire_due(m, i);
        for (unsigned x = 0; x < HV_STIMER_COUNT; x++)
            m->vcpu[i].stimer[x].armed = false; /* stop_timer(); started stays */
    }
}

void vstimer_thaw(struct vmodel *m)
{
    if (!has_feature(m, HVMPV_stimer))
        return;
    for (uint32_t i = 0; i < m->vcpus; i++)
        for (unsigned x = 0; x < HV_STIMER_COUNT; x++)
            if (cfg(&m->vcpu[i].stimer[x], HV_STIMER_ENABLE))
                vstimer_start(m, i, x);
}

/* HV_X64_MSR_STIMERn_CONFIG (idx 2n) and _COUNT (idx 2n+1). */
int vstimer_rd(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    struct vvcpu *v = &m->vcpu[vcpu];
    unsigned x = idx / 2;
    if (idx & 1) {
        *val = v->stimer[x].count;
        return 0;
    }
    /* "If the timer is single-shot and it has expired, make sure the enabled flag is
     * clear." */
    vstimer_fire_due(m, vcpu);
    uint64_t config = v->stimer[x].config;
    if (!(config & HV_STIMER_PERIODIC) && (v->stimer_pending & (1u << x)))
        config &= ~HV_STIMER_ENABLE;
    *val = config;
    return 0;
}

/* KVM's stimer_set_config/count: a guest write needs the SynIC active, and a direct-mode
 * timer needs HV_STIMER_DIRECT_MODE_AVAILABLE under hv-enforce-cpuid. */
static bool kvm_refuses(const struct vmodel *m, uint32_t idx, uint64_t val)
{
    if (!kvm_flag(m, KVM_FEAT_SYNIC))
        return true;
    return !(idx & 1) && (val & HV_STIMER_DIRECT_MODE) &&
           kvm_flag(m, KVM_OPT_ENFORCE_CPUID) && !kvm_flag(m, KVM_FEAT_STIMER_DIRECT);
}

int vstimer_wr(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    struct vvcpu *v = &m->vcpu[vcpu];
    unsigned x = idx / 2;
    struct vstimer *vs = &v->stimer[x];

    if (vkvm(m) && kvm_refuses(m, idx, val))
        return -1;
    vstimer_fire_due(m, vcpu);
    bool was_enabled = cfg(vs, HV_STIMER_ENABLE);
    vstimer_stop(v, x);
    if (idx & 1) {
        vs->count = val;
        if (!vs->count)
            vs->config &= ~HV_STIMER_ENABLE;
        else if (cfg(vs, HV_STIMER_AUTO_ENABLE))
            vs->config |= HV_STIMER_ENABLE;
    } else if (vkvm(m)) {
        /* "if (old_config.enable && !new_config.direct_mode && new_config.sintx == 0)
         * new_config.enable = 0". */
        vs->config = val;
        if (was_enabled && !(val & HV_STIMER_DIRECT_MODE) && !HV_STIMER_SINTX(val))
            vs->config &= ~HV_STIMER_ENABLE;
        if (!vs->count)
            return 0; /* enabled, but kvm_hv_process_stimers() starts nothing */
    } else {
        vs->config = val;
        /* 4.22 (commit 8e54ad2c8c) also refuses a zero count here. */
        if (!HV_STIMER_SINTX(vs->config) || (m->host->stimer_zero_count && !vs->count))
            vs->config &= ~HV_STIMER_ENABLE;
    }
    if (cfg(vs, HV_STIMER_ENABLE))
        vstimer_start(m, vcpu, x);
    return 0;
}
