/* Oracles are properties a guest could check, comparing one guest-visible facet with
 * another (an MSR's behaviour against the CPUID bit that advertises it, a frequency
 * MSR against Xen's time leaf) or with itself over time. None re-derives a rule the
 * model implements: that would only copy its bugs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz/fuzz.h"
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/msr.h"
#include "viridian/spec.h"

#define RAM_BYTES 0x2000u

struct ram {
    uint8_t b[RAM_BYTES];
};

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    struct ram *r = ctx;
    if (gpa >= RAM_BYTES || len > RAM_BYTES - gpa)
        return -1;
    memcpy(buf, r->b + gpa, len);
    return 0;
}

static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    struct ram *r = ctx;
    if (gpa >= RAM_BYTES || len > RAM_BYTES - gpa)
        return -1;
    memcpy(r->b + gpa, buf, len);
    return 0;
}

const char *fuzz_oracle_name(enum fuzz_oracle o)
{
    static const char *const names[ORACLE_COUNT] = {
        [ORACLE_NONE] = "none",
        [ORACLE_MSR_VS_CPUID] = "msr-vs-cpuid",
        [ORACLE_HOST_GROUPS] = "host-groups",
        [ORACLE_PARAM] = "param-rules",
        [ORACLE_SAVE_RESTORE] = "save-restore",
        [ORACLE_CLOCK] = "clock",
        [ORACLE_EMU_AGREES] = "emulator-agrees",
    };
    return (unsigned)o < ORACLE_COUNT ? names[o] : "?";
}

/* What the guest could see before an event. */
struct view {
    bool viridian;          /* leaf 0x40000000 says "Microsoft Hv" */
    uint32_t leaf3;         /* viridian MSR availability */
    uint32_t leaf3d;        /* feature indication (the crash MSRs) */
    uint32_t xen_base;      /* where Xen's leaves are */
    bool xen_msr_known;
    uint32_t xen_msr;
    bool tsc_khz_known;     /* Xen's time leaf is within its limit */
    uint32_t tsc_khz;
};

static void look(struct vmodel *m, uint32_t vcpu, struct view *w)
{
    uint32_t r[4];
    vmodel_cpuid(m, vcpu, 0x40000000, 0, r);
    w->viridian = r[1] == 0x7263694d && r[2] == 0x666f736f && r[3] == 0x76482074;
    vmodel_cpuid(m, vcpu, 0x40000003, 0, r);
    w->leaf3 = w->viridian ? r[0] : 0;
    w->leaf3d = w->viridian ? r[3] : 0;
    w->xen_base = w->viridian ? 0x40000100u : 0x40000000u;
    vmodel_cpuid(m, vcpu, w->xen_base, 0, r);
    bool xen = r[1] == XEN_CPUID_SIGNATURE_EBX;
    uint32_t limit = xen ? r[0] - w->xen_base : 0;
    vmodel_cpuid(m, vcpu, w->xen_base + 2, 0, r);
    w->xen_msr_known = xen && limit >= 2;
    w->xen_msr = r[1];
    vmodel_cpuid(m, vcpu, w->xen_base + 3, 0, r);
    w->tsc_khz_known = xen && limit >= 3;
    w->tsc_khz = r[2];
}

/* Everything readable without side effects, for before/after comparisons. */
#define PROBE_LEAVES 16
#define PROBE_MSRS 64
struct probe {
    uint32_t leaf[PROBE_LEAVES][4];
    struct vres msr[PROBE_MSRS];
};

/* MSRs a same-host save/restore may legitimately change: the TSC runs on for the
 * downtime, and Xen keeps SCONTROL, SIEFP and the crash parameters in no record. */
static bool probe_skips(uint32_t msr)
{
    const struct vmsr_info *row = vmsr_find(msr, NULL);
    return msr == MSR_IA32_TSC || (row && row->unsaved);
}

static const uint32_t probe_leaves[PROBE_LEAVES][2] = {
        { 0x40000000, 0 }, { 0x40000001, 0 }, { 0x40000002, 0 }, { 0x40000003, 0 },
        { 0x40000004, 0 }, { 0x40000005, 0 }, { 0x40000006, 0 }, { 0x40000007, 0 },
        { 0x40000100, 0 }, { 0x40000101, 0 }, { 0x40000102, 0 }, { 0x40000103, 0 },
        { 0x40000103, 1 }, { 0x40000103, 2 }, { 0x40000104, 0 }, { 0x40000105, 0 },
};

/* A guest that moved its TSC back can make reference time negative; a restore restarts
 * the timers from that "now" (start_stimer()), so whether a one-shot still reads as
 * expired may change, in Xen as here. */
static bool stimer_config(uint32_t msr)
{
    return msr >= HV_X64_MSR_STIMER0_CONFIG && msr <= HV_X64_MSR_STIMER3_COUNT && !(msr & 1);
}

static void probe(struct vmodel *m, bool skip_trc, bool skip_stimer, struct probe *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < PROBE_LEAVES; i++)
        vmodel_cpuid(m, 0, probe_leaves[i][0], probe_leaves[i][1], p->leaf[i]);
    /* Xen's time leaf (at either base) reports an incarnation that a restore
     * legitimately bumps; viridian leaf 3 has nothing in EDX to lose. */
    p->leaf[3][3] = 0;
    p->leaf[11][3] = 0;
    for (size_t i = 0; i < vmsr_count() && i < PROBE_MSRS; i++)
        if (!probe_skips(vmsr_at(i)) && !(skip_trc && vmsr_at(i) == HV_X64_MSR_TIME_REF_COUNT) &&
            !(skip_stimer && stimer_config(vmsr_at(i))))
            p->msr[i].kind = vmodel_rdmsr(m, 0, vmsr_at(i), &p->msr[i].v[0]) ? VRES_GP
                                                                              : VRES_VALUE;
    /* Xen 4.22's own inconsistency: a COUNT write's auto_enable turns on a timer with
     * SINTx 0, which the CONFIG write and the load refuse ("!vs->config.sintx ||
     * !vs->count"), so a save/restore switches it off. */
    if (vmodel_host(m)->stimer_zero_count)
        for (size_t i = 0; i < vmsr_count() && i < PROBE_MSRS; i++)
            if (stimer_config(vmsr_at(i)) && p->msr[i].kind == VRES_VALUE &&
                !HV_STIMER_SINTX(p->msr[i].v[0]))
                p->msr[i].v[0] &= ~HV_STIMER_ENABLE;
}

/* The first read whose answer differs, as an event with the answer from before. */
static void probe_diff(const struct probe *a, const struct probe *b, struct fuzz_verdict *v)
{
    for (int i = 0; i < PROBE_LEAVES; i++) {
        if (memcmp(a->leaf[i], b->leaf[i], sizeof a->leaf[i]) == 0)
            continue;
        v->has_probe = true;
        v->probe_ev = (struct vevent){ .kind = VEV_CPUID, .legacy = -1,
                                       .a = { probe_leaves[i][0], probe_leaves[i][1] } };
        v->probe_expect = (struct vres){ VRES_REGS, { a->leaf[i][0], a->leaf[i][1],
                                                      a->leaf[i][2], a->leaf[i][3] } };
        return;
    }
    for (size_t i = 0; i < vmsr_count() && i < PROBE_MSRS; i++) {
        if (vres_equal(&a->msr[i], &b->msr[i]))
            continue;
        v->has_probe = true;
        v->probe_ev = (struct vevent){ .kind = VEV_RDMSR, .legacy = -1, .a = { vmsr_at(i) } };
        v->probe_expect = a->msr[i];
        return;
    }
}

struct shadow {
    uint64_t param;         /* last value known to be set */
    bool late_viridian;     /* the toolstack turned viridian on after the domain ran:
                               Xen's counter was never thawed, and a save carries its old
                               frozen value (arch_domain_unpause thaws only at unpause) */
    bool locked;            /* a mask host's non-zero value: set once */
    bool tsc_known;
    bool tsc_moved;         /* the guest wrote IA32_TSC */
    uint64_t tsc;
    bool trc_known;
    uint64_t trc;
};

static bool violation(struct fuzz_verdict *v, enum fuzz_oracle o, size_t i, const struct vres *got,
                      const struct vres *expect, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static bool violation(struct fuzz_verdict *v, enum fuzz_oracle o, size_t i, const struct vres *got,
                      const struct vres *expect, const char *fmt, ...)
{
    va_list ap;
    v->oracle = o;
    v->index = i;
    v->got = *got;
    v->has_expect = expect != NULL;
    if (expect)
        v->expect = *expect;
    va_start(ap, fmt);
    vsnprintf(v->what, sizeof v->what, fmt, ap);
    va_end(ap);
    return true;
}

/* Leaf 3 EAX bits a host can ever advertise: those of the groups its libxl knows (a
 * boolean host: the groups its 1 means). */
static uint32_t host_msr_bits(const struct vprofile *h)
{
    uint32_t bits = 0;
    uint64_t groups = h->param == VPARAM_MASK ? h->groups : vmask_groups(h->legacy_true_mask);
    for (int g = 0; g < VGROUP_FIRST_KVM; g++)
        if (groups & (1ull << g))
            bits |= vgroup_info(g)->leaf3a;
    return bits;
}

static bool check_msr(const struct vprofile *host, const struct vevent *ev,
                      const struct view *w, const struct vres *got, size_t i,
                      struct fuzz_verdict *v)
{
    bool rd = ev->kind == VEV_RDMSR;
    uint32_t msr = (uint32_t)ev->a[0];
    bool ok = got->kind != VRES_GP;
    const struct vres gp = { .kind = VRES_GP }, done = { .kind = VRES_OK };
    const struct vmsr_info *row = vmsr_find(msr, NULL);
    /* What a write the host has no handler for does: dropped up to 4.10, #GP after. */
    const struct vres *unhandled = rd || host->wrmsr_unknown_gp ? &gp : &done;

    if (w->xen_msr_known && msr == w->xen_msr) {
        const struct vres zero = { .kind = VRES_VALUE };
        if (rd && !vres_equal(got, &zero))
            return violation(v, ORACLE_MSR_VS_CPUID, i, got, &zero,
                             "Xen's MSR 0x%x (CPUID leaf 0x%x EBX) must read as 0", msr,
                             w->xen_base + 2);
        return false;
    }
    if (!row) {
        if (!vres_equal(got, unhandled))
            return violation(v, ORACLE_MSR_VS_CPUID, i, got, unhandled,
                             "MSR 0x%x is in no table and not Xen's", msr);
        return false;
    }
    if (row->group == VMSR_ARCH) {
        if (rd && !ok)
            return violation(v, ORACLE_MSR_VS_CPUID, i, got, NULL, "%s read faulted", row->name);
        return false;
    }
    char name[48];
    vmsr_name(row, msr, name, sizeof name);
    bool handled = rd ? row->rd != NULL : row->wr != NULL;
    bool present = w->viridian && vmsr_in_release(row, host);
    /* A gated MSR works exactly when CPUID advertises it; an ungated one (the crash
     * MSRs) works for every viridian guest whatever CPUID says. */
    bool advertised = row->gate == VMSR_UNGATED
                          ? present
                          : w->viridian && ((w->leaf3 & row->cpuid3a) || (w->leaf3d & row->cpuid3d));
    if (!rd && row->value_gp && !ok)
        return false; /* the value, not the MSR, was refused */
    if (ok && !(advertised && handled) && !vres_equal(got, unhandled))
        return violation(v, ORACLE_MSR_VS_CPUID, i, got, unhandled,
                         "%s %s succeeded but CPUID 0x40000003 (EAX 0x%x EDX 0x%x) does not "
                         "advertise it", name, rd ? "read" : "write", w->leaf3, w->leaf3d);
    if (!ok && advertised && handled)
        return violation(v, ORACLE_MSR_VS_CPUID, i, got, NULL,
                         "%s %s faulted though CPUID 0x40000003 (EAX 0x%x EDX 0x%x) advertises it",
                         name, rd ? "read" : "write", w->leaf3, w->leaf3d);
    if (ok && rd && msr == HV_X64_MSR_TSC_FREQUENCY && w->tsc_khz_known &&
        got->v[0] != (uint64_t)w->tsc_khz * 1000) {
        const struct vres want = { VRES_VALUE, { (uint64_t)w->tsc_khz * 1000 } };
        return violation(v, ORACLE_CLOCK, i, got, &want,
                         "HV_X64_MSR_TSC_FREQUENCY disagrees with Xen's time leaf (%u kHz)",
                         w->tsc_khz);
    }
    return false;
}

static bool check_param(const struct fuzz_case *c, const struct vprofile *host,
                        const struct vevent *ev, const struct vres *got, uint64_t now, size_t i,
                        struct shadow *s, struct fuzz_verdict *v)
{
    bool mask_host = host->param == VPARAM_MASK;
    (void)c;
    if (ev->kind == VEV_PARAM_GET) {
        /* A guest's own read is refused from 4.6 (hvm_allow_get_param()): a property of
         * the release the guest is on, which the guest can see in Xen's version leaf. */
        if (ev->from_guest && host->guest_get_eperm) {
            const struct vres want = { .kind = VRES_EPERM };
            if (!vres_equal(got, &want))
                return violation(v, ORACLE_PARAM, i, got, &want,
                                 "a guest's read of HVM_PARAM_VIRIDIAN was not refused on %s",
                                 host->name);
            return false;
        }
        const struct vres want = { VRES_VALUE, { s->param } };
        if (!vres_equal(got, &want))
            return violation(v, ORACLE_PARAM, i, got, &want,
                             "HVM_PARAM_VIRIDIAN reads 0x%llx, last set to 0x%llx",
                             (unsigned long long)got->v[0], (unsigned long long)s->param);
        return false;
    }
    uint64_t value = ev->a[0];
    if (mask_host && ev->from_guest && got->kind != VRES_EPERM) {
        const struct vres want = { .kind = VRES_EPERM };
        return violation(v, ORACLE_PARAM, i, got, &want, "a guest write was not refused");
    }
    if (mask_host && !ev->from_guest && s->locked && value != s->param &&
        got->kind != VRES_EEXIST) {
        const struct vres want = { .kind = VRES_EEXIST };
        return violation(v, ORACLE_PARAM, i, got, &want,
                         "HVM_PARAM_VIRIDIAN changed from 0x%llx once set",
                         (unsigned long long)s->param);
    }
    if (got->kind == VRES_OK && value != 0 &&
        ((value & ~(uint64_t)(mask_host ? host->feature_mask : 1)) ||
         (mask_host && !(value & HVMPV_base_freq)))) {
        const struct vres want = { .kind = VRES_EINVAL };
        return violation(v, ORACLE_PARAM, i, got, &want, "value 0x%llx accepted",
                         (unsigned long long)value);
    }
    /* Turned on late, the counter is one the domain never thawed: it reads the raw
     * count of the guest TSC, which has nothing to do with any counter seen before. */
    if (got->kind == VRES_OK && s->param == 0 && value != 0)
        s->late_viridian = true, s->trc_known = false;
    if (got->kind == VRES_OK)
        s->param = value;
    if (now != s->param) {
        const struct vres want = { .kind = got->kind == VRES_OK ? VRES_EINVAL : got->kind };
        return violation(v, ORACLE_PARAM, i, got, &want,
                         "the parameter is 0x%llx after a refused write (was 0x%llx)",
                         (unsigned long long)now, (unsigned long long)s->param);
    }
    s->locked = mask_host && s->param != 0;
    return false;
}

static bool check_clock(const struct vevent *ev, const struct vres *got, size_t i, struct shadow *s,
                        struct fuzz_verdict *v)
{
    if (ev->kind == VEV_WRMSR && ev->a[0] == MSR_IA32_TSC && got->kind == VRES_OK) {
        s->tsc_known = s->trc_known = false; /* the guest moved its own clock */
        s->tsc_moved = true;
        return false;
    }
    if (ev->kind == VEV_RDTSC) {
        if (s->tsc_known && got->v[0] < s->tsc) {
            const struct vres want = { VRES_VALUE, { s->tsc } };
            return violation(v, ORACLE_CLOCK, i, got, &want, "RDTSC went back from 0x%llx",
                             (unsigned long long)s->tsc);
        }
        s->tsc_known = true;
        s->tsc = got->v[0];
    }
    if (ev->kind == VEV_RDMSR && ev->a[0] == HV_X64_MSR_TIME_REF_COUNT && got->kind == VRES_VALUE) {
        /* Once the guest has set its own TSC, Xen's arithmetic may wrap (scale_delta()
         * shifts a 64-bit TSC left before it multiplies): no promise is left to check. */
        if (s->trc_known && !s->tsc_moved && got->v[0] < s->trc) {
            const struct vres want = { VRES_VALUE, { s->trc } };
            return violation(v, ORACLE_CLOCK, i, got, &want,
                             "HV_X64_MSR_TIME_REF_COUNT went back from 0x%llx",
                             (unsigned long long)s->trc);
        }
        s->trc_known = true;
        s->trc = got->v[0];
    }
    return false;
}

static uint64_t state_hash(struct vmodel *m)
{
    uint64_t h = 1469598103934665603ull, x;
    uint32_t r[4];
    const uint32_t leaves[] = { 0x40000000, 0x40000002, 0x40000003, 0x40000004 };
    for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
        vmodel_cpuid(m, 0, leaves[i], 0, r);
        h = (h ^ r[0] ^ ((uint64_t)r[1] << 32)) * 1099511628211ull;
    }
    h = (h ^ (uint64_t)(uintptr_t)vmodel_host(m)) * 1099511628211ull;
    h = (h ^ (vmodel_rdmsr(m, 0, HV_X64_MSR_HYPERCALL, &x) ? 2 : (x & 1))) * 1099511628211ull;
    return h;
}

bool fuzz_check(const struct fuzz_case *c, struct fuzz_verdict *v)
{
    struct ram ram;
    memset(ram.b, 0, sizeof ram.b);
    struct vconfig cfg = { .host = c->host, .viridian = c->viridian, .tsc_khz = c->tsc_khz,
                           .vcpus = c->vcpus, .mem = { &ram, ram_read, ram_write } };
    struct vmodel *m = NULL;
    v->oracle = ORACLE_NONE;
    v->has_probe = false;
    if (vmodel_create(&cfg, &m) != VERR_OK)
        return false;
    struct shadow s = { .param = c->viridian,
                        .locked = c->host->param == VPARAM_MASK && c->viridian != 0 };
    bool bad = false;

    for (size_t i = 0; i < c->n && !bad; i++) {
        const struct vevent *ev = &c->ev[i];
        const struct vprofile *host = vmodel_host(m);
        struct view w = { 0 };
        struct probe before, after;
        bool same_host_restore = ev->kind == VEV_MIGRATE && ev->legacy < 0 && ev->host == host;
        if (ev->kind == VEV_RDMSR || ev->kind == VEV_WRMSR || ev->kind == VEV_CPUID)
            look(m, ev->vcpu, &w);
        if (same_host_restore)
            probe(m, s.late_viridian, s.tsc_moved, &before);

        struct vres got;
        vmodel_apply(m, ev, &got);
        v->results[i] = got;

        switch (ev->kind) {
        case VEV_RDMSR:
        case VEV_WRMSR:
            bad = check_msr(host, ev, &w, &got, i, v);
            break;
        case VEV_CPUID:
            if (ev->a[0] == 0x40000003 && w.viridian && (got.v[0] & ~host_msr_bits(host)))
                bad = violation(v, ORACLE_HOST_GROUPS, i, &got, NULL,
                                "leaf 0x40000003 EAX 0x%llx advertises MSRs %s never has",
                                (unsigned long long)got.v[0], host->name);
            break;
        case VEV_PARAM_SET:
        case VEV_PARAM_GET:
            bad = check_param(c, host, ev, &got, vmodel_param(m), i, &s, v);
            break;
        case VEV_MIGRATE:
            if (same_host_restore) {
                const struct vres ok = { .kind = VRES_OK };
                probe(m, s.late_viridian, s.tsc_moved, &after);
                if (got.kind != VRES_OK)
                    bad = violation(v, ORACLE_SAVE_RESTORE, i, &got, &ok,
                                    "a same-host restore was refused");
                else if (memcmp(&before, &after, sizeof before) != 0) {
                    bad = violation(v, ORACLE_SAVE_RESTORE, i, &got, &ok,
                                    "a same-host save/restore changed what the guest sees");
                    probe_diff(&before, &after, v);
                }
            }
            if (got.kind == VRES_OK) {
                /* A counter never thawed was never frozen either: the save carries its
                 * old value (viridian_time_ref_count_freeze() only stores a running
                 * one), and the restored domain's unpause starts it from there. Xen's
                 * rule, reachable only by a late toolstack set; normal from then on. */
                if (s.late_viridian)
                    s.trc_known = s.late_viridian = false;
                if (ev->legacy >= 0)
                    s.param = (uint64_t)ev->legacy;
                s.locked = ev->host->param == VPARAM_MASK && s.param != 0;
            }
            break;
        default:
            break;
        }
        if (!bad)
            bad = check_clock(ev, &got, i, &s, v);
    }
    v->state_hash = state_hash(m);
    vmodel_destroy(m);
    return true;
}

