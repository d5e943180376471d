#include "cli/prologue.h"

#include <string.h>
#include "cli/text.h"
#include "traces/trace.h"
#include "viridian/hvmpv.h"
#include "viridian/profile.h"

#define MAX_RESTORES 16   /* incarnations rebuilt by as many same-host restores */

void prologue_settings(const struct vsave *saved, uint32_t memory_mib, struct settings *st)
{
    *st = (struct settings){ .host = vprofile_find(saved->host), .viridian = saved->param,
                             .tsc_khz = saved->tsc_khz, .vcpus = saved->vcpus,
                             .memory_mib = memory_mib };
}

struct plan {
    struct vevent ev[8 + 32 * VMODEL_MAX_VCPUS + MAX_RESTORES];
    const char *why[8 + 32 * VMODEL_MAX_VCPUS + MAX_RESTORES];
    size_t n;
};

static void add(struct plan *p, struct vevent ev, const char *why)
{
    p->ev[p->n] = ev;
    p->why[p->n++] = why;
}

static void wrmsr(struct plan *p, uint32_t vcpu, uint32_t msr, uint64_t value, const char *why)
{
    if (value)
        add(p, (struct vevent){ .kind = VEV_WRMSR, .vcpu = vcpu, .a = { msr, value },
                                .legacy = -1 }, why);
}

static bool same_state(const struct vsave *a, const struct vsave *b)
{
    if (strcmp(a->host, b->host) != 0 || a->param != b->param || a->tsc_khz != b->tsc_khz ||
        a->vcpus != b->vcpus || a->tsc != b->tsc || a->incarnation != b->incarnation ||
        a->freq_told != b->freq_told || a->domain.time_ref_count != b->domain.time_ref_count ||
        a->domain.hypercall_gpa != b->domain.hypercall_gpa ||
        a->domain.guest_os_id != b->domain.guest_os_id ||
        a->domain.reference_tsc != b->domain.reference_tsc)
        return false;
    for (uint32_t i = 0; i < a->vcpus; i++) {
        const struct vsave_vcpu *x = &a->vcpu[i], *y = &b->vcpu[i];
        if (x->vp_assist_msr != y->vp_assist_msr || x->apic_assist != y->apic_assist ||
            x->icr != y->icr || x->icr2 != y->icr2 || x->tpr != y->tpr ||
            x->simp_msr != y->simp_msr || memcmp(x->sint_msr, y->sint_msr, sizeof x->sint_msr) ||
            memcmp(x->stimer_config_msr, y->stimer_config_msr, sizeof x->stimer_config_msr) ||
            memcmp(x->stimer_count_msr, y->stimer_count_msr, sizeof x->stimer_count_msr))
            return false;
    }
    return true;
}

bool prologue_write(FILE *out, const char *file, uint64_t taken_at, const struct vsave *saved,
                    uint32_t memory_mib, const struct vprofile *to,
                    const struct vmodel *restored, int *err)
{
    const struct vprofile *src = vprofile_find(saved->host);
    struct plan p = { .n = 0 };
    if (saved->tsc)
        add(&p, (struct vevent){ .kind = VEV_ADVANCE, .a = { saved->tsc }, .legacy = -1 },
            "saved state: the clock");
    wrmsr(&p, 0, HV_X64_MSR_GUEST_OS_ID, saved->domain.guest_os_id,
          "saved state: HV_X64_MSR_GUEST_OS_ID");
    wrmsr(&p, 0, HV_X64_MSR_HYPERCALL, saved->domain.hypercall_gpa,
          "saved state: HV_X64_MSR_HYPERCALL");
    for (uint32_t v = 0; v < saved->vcpus && v < VMODEL_MAX_VCPUS; v++) {
        const struct vsave_vcpu *c = &saved->vcpu[v];
        wrmsr(&p, v, HV_X64_MSR_ICR, (uint64_t)c->icr2 << 32 | c->icr, "saved state: HV_X64_MSR_ICR");
        wrmsr(&p, v, HV_X64_MSR_TPR, c->tpr, "saved state: HV_X64_MSR_TPR");
        wrmsr(&p, v, HV_X64_MSR_VP_ASSIST_PAGE, c->vp_assist_msr,
              "saved state: HV_X64_MSR_VP_ASSIST_PAGE");
        /* 4.13+ records: the SynIC page and SINTs, then each timer's count before its
         * config, so that enabling it finds the count (the pending APIC assist has no
         * event: vlapic sets it; a saved one leaves the rebuild inexact). */
        wrmsr(&p, v, HV_X64_MSR_SIMP, c->simp_msr, "saved state: HV_X64_MSR_SIMP");
        for (uint32_t x = 0; x < 16; x++)
            if (c->sint_msr[x] != HV_SINT_MASKED && c->sint_msr[x] != 0)
                add(&p, (struct vevent){ .kind = VEV_WRMSR, .vcpu = v,
                                         .a = { HV_X64_MSR_SINT0 + x, c->sint_msr[x] },
                                         .legacy = -1 }, "saved state: a SINT");
        for (uint32_t x = 0; x < 4; x++) {
            wrmsr(&p, v, HV_X64_MSR_STIMER0_COUNT + 2 * x, c->stimer_count_msr[x],
                  "saved state: a synthetic timer's count");
            wrmsr(&p, v, HV_X64_MSR_STIMER0_CONFIG + 2 * x, c->stimer_config_msr[x],
                  "saved state: a synthetic timer's config");
        }
    }
    wrmsr(&p, 0, HV_X64_MSR_REFERENCE_TSC, saved->domain.reference_tsc,
          "saved state: HV_X64_MSR_REFERENCE_TSC");
    if (saved->freq_told)
        add(&p, (struct vevent){ .kind = VEV_RDMSR, .a = { HV_X64_MSR_TSC_FREQUENCY },
                                 .legacy = -1 }, "saved state: the guest was told its TSC rate");
    for (uint32_t i = 0; i < saved->incarnation && i < MAX_RESTORES; i++)
        add(&p, (struct vevent){ .kind = VEV_MIGRATE, .host = src, .legacy = saved->legacy },
            "saved state: an earlier restore (Xen's TSC incarnation)");
    add(&p, (struct vevent){ .kind = VEV_MIGRATE, .host = to, .legacy = saved->legacy },
        "the restore: the guest runs on from here");

    /* Apply them as replay will, and compare with what the emulator restored. */
    uint64_t ram = (uint64_t)memory_mib << 20;
    struct settings st;
    prologue_settings(saved, memory_mib, &st);
    struct vconfig cfg = { .host = src, .viridian = saved->param, .tsc_khz = saved->tsc_khz,
                           .vcpus = saved->vcpus, .mem = settings_trace_ram(&ram) };
    struct vmodel *m = NULL;
    struct vres res[sizeof p.ev / sizeof p.ev[0]];
    bool built = src && saved->incarnation <= MAX_RESTORES && vmodel_create(&cfg, &m) == VERR_OK;
    bool same = false;
    for (size_t i = 0; built && i < p.n; i++)
        vmodel_apply(m, &p.ev[i], &res[i]);
    if (built) {
        struct vsave want, got;
        vmodel_save(restored, false, &want);
        vmodel_save(m, false, &got);
        same = same_state(&want, &got);
    }
    vmodel_destroy(m);

    char name[1024];
    file = esc(file, name, sizeof name); /* a comment holds no control characters */
    if (!built) {
        *err |= fprintf(out, "# resumed from %s (taken after event %llu); no events rebuild the "
                        "state saved there, so this trace replays only from that snapshot\n",
                        file, (unsigned long long)taken_at) < 0;
        return false;
    }
    *err |= fprintf(out, "# resumed from %s, taken after event %llu: the events marked 'saved "
                    "state' rebuild\n# the model as it was saved, 'the restore' moves it to %s, "
                    "and the guest's own events follow\n", file, (unsigned long long)taken_at,
                    to->name) < 0;
    if (!same)
        *err |= fprintf(out, "# but the restore changed what no event can (the TSC rate): "
                        "time-derived results may diverge\n") < 0;
    for (size_t i = 0; i < p.n; i++)
        *err |= trace_write_line(out, &p.ev[i], res[i].kind == VRES_NONE ? NULL : &res[i],
                                 p.why[i]);
    return same;
}
