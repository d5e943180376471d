#include "viridian/save.h"

#include <stdio.h>
#include <string.h>
#include "viridian/hvmpv.h"
#include "viridian/planted.h"
#include "viridian/internal.h"
#include "viridian/spec.h"
#include "viridian/suggest.h"

void vsynic_load_vp_assist(struct vmodel *m, uint32_t vcpu, uint64_t msr, uint8_t assist);
uint8_t vsynic_save_assist(const struct vmodel *m, uint32_t vcpu);

uint32_t vsave_domain_size(enum vsave_layout l)
{
    return l == VSAVE_4_3 ? 16 : l == VSAVE_4_5 ? 24 : 32;
}

uint32_t vsave_vcpu_size(enum vsave_layout l)
{
    /* vp_assist_msr, u8 + _pad[7]; 4.13: simp, sint[16], stimer config[4] and count[4] */
    return l <= VSAVE_4_6 ? 8 : l == VSAVE_4_7 ? 16 : 16 + 8 + 16 * 8 + 4 * 8 + 4 * 8;
}

int vsave_layout_of(uint32_t domain_size, uint32_t vcpu_size)
{
    for (int l = VSAVE_4_3; l <= VSAVE_4_13; l++)
        if (vsave_domain_size(l) == domain_size && vsave_vcpu_size(l) == vcpu_size)
            return l;
    return -1;
}

void vmodel_save(const struct vmodel *m, bool legacy, struct vsave *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->host, sizeof s->host, "%s", m->host->name);
    s->legacy = legacy ? (m->param != 0) : -1;
    s->param = legacy ? (m->param != 0) : m->param;
    s->tsc_khz = m->tsc_khz;
    s->vcpus = m->vcpus;
    s->tsc = m->tsc;
    s->incarnation = m->incarnation;
    s->freq_told = m->freq_told;
    s->layout = m->host->save;
    /* viridian_save_domain_ctxt(): "if ( !is_viridian_domain(d) ) return 0;" */
    s->records = viridian_enabled(m);
    if (!s->records)
        return;
    enum vsave_layout l = s->layout;
    s->domain.hypercall_gpa = m->hypercall_gpa;
    s->domain.guest_os_id = m->guest_os_id;
    if (l >= VSAVE_4_5)
        s->domain.time_ref_count = vtime_saved(m);
    if (l >= VSAVE_4_6)
        s->domain.reference_tsc = m->reference_tsc.msr;
    for (uint32_t i = 0; i < m->vcpus; i++) {
        const struct vvcpu *v = &m->vcpu[i];
        struct vsave_vcpu *c = &s->vcpu[i];
        c->vp_assist_msr = v->vp_assist.msr;
        c->icr = v->icr;
        c->icr2 = v->icr2;
        c->tpr = v->tpr;
        if (l >= VSAVE_4_7)
            c->apic_assist = vsynic_save_assist(m, i);
        if (l >= VSAVE_4_13) {
            c->simp_msr = v->simp.msr;
            memcpy(c->sint_msr, v->sint, sizeof c->sint_msr);
            for (unsigned x = 0; x < HV_STIMER_COUNT; x++) {
                c->stimer_config_msr[x] = v->stimer[x].config;
                c->stimer_count_msr[x] = v->stimer[x].count;
            }
        }
    }
}

uint64_t vprofile_refused_bits(const struct vprofile *host, uint64_t value)
{
    if (value == 0 || vparam_check(host, 0, value, false) == VRES_OK)
        return 0;
    if (host->param == VPARAM_BOOLEAN)
        return value & ~1ull;
    uint64_t bits = value & ~(uint64_t)host->feature_mask;
    return bits ? bits : value; /* no base bit: the whole value is refused */
}

/* _hvm_check_entry(): a strict load wants the record's exact size, a zero-extending one
 * (hvm_load_entry_zeroextend) takes a record no longer than its struct. 4.3/4.4 load
 * both records strictly; 4.5+ zero-extend VIRIDIAN_DOMAIN; 4.7+ VIRIDIAN_VCPU too. */
static const char *unloadable(enum vsave_layout src, enum vsave_layout dst, uint32_t *have,
                              uint32_t *want)
{
    uint32_t sd = vsave_domain_size(src), dd = vsave_domain_size(dst);
    uint32_t sv = vsave_vcpu_size(src), dv = vsave_vcpu_size(dst);
    if (dst == VSAVE_4_3 ? sd != dd : sd > dd) {
        *have = sd;
        *want = dd;
        return "VIRIDIAN_DOMAIN";
    }
    if (dst <= VSAVE_4_6 ? sv != dv : sv > dv) {
        *have = sv;
        *want = dv;
        return "VIRIDIAN_VCPU";
    }
    return NULL;
}

static void load_records(struct vmodel *m, const struct vsave *s)
{
    const struct vprofile *h = m->host;
    m->hypercall_gpa = s->domain.hypercall_gpa;
    m->guest_os_id = FAULT(FAULT_LOSE_OS_ID) ? 0 : s->domain.guest_os_id;
    /* viridian_load_domain_ctxt(): the counter stays frozen until the unpause. */
    m->trc.val = s->domain.time_ref_count;
    m->trc.running = false;
    m->reference_tsc.msr = h->save >= VSAVE_4_6 ? s->domain.reference_tsc : 0;
    /* KVM: QEMU writes the MSR back as the host (HV_TSC_PAGE_HOST_CHANGED); the page is
     * rewritten, not cleared, when the guest next runs (the thaw below). */
    if ((m->reference_tsc.msr & HV_PAGE_ENABLE) && !vkvm(m)) {
        if (h->ref_tsc_offset)
            vpage_map(m, &m->reference_tsc, true); /* 4.13+: mapped (cleared) here */
        else
            vtime_reference_tsc_update(m, false);  /* 4.6-4.12: rewritten here */
    }
    for (uint32_t i = 0; i < s->vcpus; i++) {
        const struct vsave_vcpu *c = &s->vcpu[i];
        struct vvcpu *v = &m->vcpu[i];
        v->icr = c->icr;
        v->icr2 = c->icr2;
        v->tpr = c->tpr;
        vsynic_load_vp_assist(m, i, c->vp_assist_msr, c->apic_assist);
        if (h->save < VSAVE_4_13)
            continue;
        v->simp.msr = c->simp_msr;
        vpage_map(m, &v->simp, !vkvm(m)); /* KVM: a host write clears nothing */
        memcpy(v->sint, c->sint_msr, sizeof v->sint);
        vsynic_rebuild_vectors(v);
        for (unsigned x = 0; x < HV_STIMER_COUNT; x++) {
            struct vstimer *vs = &v->stimer[x];
            vs->config = c->stimer_config_msr[x];
            vs->count = c->stimer_count_msr[x];
            /* 4.22: "Reject enabling with a zero sintx or count fields." */
            if (h->stimer_zero_count && (!HV_STIMER_SINTX(vs->config) || !vs->count))
                vs->config &= ~HV_STIMER_ENABLE;
        }
    }
}

enum vres_kind vmodel_restore(const struct vsave *s, const struct vprofile *to,
                              struct vmem_ops mem, struct vmodel **out)
{
    *out = NULL;
    struct vconfig cfg = { .host = to, .tsc_khz = s->tsc_khz, .vcpus = s->vcpus, .mem = mem };
    if (s->vcpus < 1 || s->vcpus > VMODEL_MAX_VCPUS || s->tsc_khz < VMODEL_TSC_KHZ_MIN ||
        s->tsc_khz > VMODEL_TSC_KHZ_MAX || s->layout > VSAVE_4_13)
        return VRES_EINVAL;
    enum vres_kind ignored;
    if (vrestore_param(s, to, s->dest_param, &cfg.viridian, &ignored) != VRES_OK)
        return VRES_REFUSED;
    uint32_t have, want;
    if (s->records && !vrestore_crosses(s, to) && unloadable(s->layout, to->save, &have, &want))
        return VRES_REFUSED;
    struct vmodel *m;
    if (vmodel_create(&cfg, &m) != VERR_OK)
        return VRES_EINVAL;
    m->tsc = FAULT(FAULT_CLOCK_RESET) ? 0 : s->tsc;
    m->incarnation = s->incarnation + 1;
    m->freq_told = s->freq_told;
    m->paused = true;
    if (s->records)
        load_records(m, s);
    else
        m->trc.running = false, m->trc.val = 0;
    vmodel_unpause(m);
    *out = m;
    return VRES_OK;
}

/* Each HVM_PARAM_VIRIDIAN bit by its Xen name, from the group table. */
static void name_bits(uint64_t bits, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (int b = 0; b < 64 && bits && n < len; b++) {
        uint64_t bit = 1ull << b;
        if (!(bits & bit))
            continue;
        const char *group = NULL;
        for (int g = 0; g < VGROUP_FIRST_KVM; g++)
            if (vgroup_info(g)->hvmpv == bit)
                group = vgroup_info(g)->name;
        if (bit == HVMPV_no_freq)
            n += (size_t)snprintf(buf + n, len - n, "%sHVMPV_no_freq (freq group switched off)",
                                  n ? ", " : "");
        else if (bit == HVMPV_base_freq)
            n += (size_t)snprintf(buf + n, len - n, "%sHVMPV_base_freq (base group)",
                                  n ? ", " : "");
        else if (group)
            n += (size_t)snprintf(buf + n, len - n, "%sHVMPV_%s (%s group)", n ? ", " : "",
                                  group, group);
        else
            continue;
        bits &= ~bit;
    }
    if (bits && n < len)
        snprintf(buf + n, len - n, "%sunknown bits 0x%llx", n ? ", " : "",
                 (unsigned long long)bits);
}

bool vrestore_crosses(const struct vsave *s, const struct vprofile *to)
{
    const struct vprofile *from = vprofile_find(s->host);
    return from && from->hypervisor != to->hypervisor;
}

enum vres_kind vrestore_param(const struct vsave *s, const struct vprofile *to,
                              uint64_t dest_param, uint64_t *param, enum vres_kind *ignored)
{
    *param = dest_param;
    *ignored = VRES_OK;
    if (to->restore == VRESTORE_QEMU || vrestore_crosses(s, to)) {
        /* QEMU (and any move between hypervisors) applies no stream value: the
         * destination's own configuration decides, and when it names none, QEMU's
         * destination runs with the source's -cpu flags, and a move between hypervisors
         * with the configuration closest to what the guest saw. */
        const struct vprofile *from = vprofile_find(s->host);
        if (!dest_param && s->param)
            *param = vrestore_crosses(s, to)
                         ? vsuggest_equivalent(from, s->param, to)
                         : s->param;
        return vparam_check(to, 0, *param, false) == VRES_OK ? VRES_OK : VRES_EINVAL;
    }
    if (s->param == 0) /* Xen writes no chunk / param entry for 0 */
        return VRES_OK;
    uint64_t value = to->restore == VRESTORE_BOOL ? 1 : s->param;
    enum vres_kind r = vparam_check(to, dest_param, value, false);
    if (r == VRES_OK)
        *param = value;
    else if (to->restore == VRESTORE_V2)
        return r;
    else
        *ignored = r;
    return VRES_OK;
}

enum vres_kind vrestore_check(const struct vsave *s, const struct vprofile *to,
                              uint64_t dest_param, char *why, size_t len)
{
    char names[512];
    uint64_t param;
    enum vres_kind ignored;
    why[0] = 0;
    enum vres_kind r = vrestore_param(s, to, dest_param, &param, &ignored);
    /* libxl sets the destination's own value at domain build, before the stream's. */
    if (r == VRES_EEXIST || ignored == VRES_EEXIST)
        snprintf(why, len, "the destination was built with HVM_PARAM_VIRIDIAN 0x%llx; the "
                 "stream's 0x%llx may not replace it (EEXIST)", (unsigned long long)dest_param,
                 (unsigned long long)s->param);
    else if (r != VRES_OK && (to->restore == VRESTORE_QEMU || vrestore_crosses(s, to)))
        snprintf(why, len, "%s does not take the configuration 0x%llx", to->name,
                 (unsigned long long)param);
    else if (r != VRES_OK || ignored != VRES_OK) {
        name_bits(vprofile_refused_bits(to, s->param), names, sizeof names);
        snprintf(why, len, "%s refuses HVM_PARAM_VIRIDIAN 0x%llx from the stream: %s not in "
                 "its feature mask 0x%x", to->name, (unsigned long long)s->param, names,
                 to->feature_mask);
    }
    if (r != VRES_OK)
        return r == VRES_EEXIST ? VRES_EEXIST : VRES_REFUSED;
    if (ignored != VRES_OK) {
        /* xc_domain_restore() does not look at the result: the domain runs on with what
         * the destination's own config set, or without viridian. */
        size_t n = strlen(why);
        snprintf(why + n, len - n, "; %s's restore (xc_domain_restore) ignores the failure "
                 "and the guest runs with 0x%llx", to->name, (unsigned long long)param);
    } else if (to->restore == VRESTORE_BOOL && s->param > 1) {
        snprintf(why, len, "%s's restore (xc_domain_restore) sets HVM_PARAM_VIRIDIAN to 1 "
                 "for the stream's 0x%llx", to->name, (unsigned long long)s->param);
    }
    if (vrestore_crosses(s, to)) {
        char text[512];
        vspec_format(to, param, text, sizeof text);
        snprintf(why, len, "%s is another hypervisor: the guest runs there with %s (%s), "
                 "%s", to->name, text, dest_param ? "its own configuration"
                                                  : "the configuration closest to what it saw",
                 "and the viridian MSRs' values carried over");
        return VRES_OK;
    }
    uint32_t have, want;
    const char *rec = s->records && s->layout <= VSAVE_4_13 && to->restore != VRESTORE_QEMU
                          ? unloadable(s->layout, to->save, &have, &want) : NULL;
    if (rec) {
        snprintf(why, len, "%s cannot load the stream's %s record: %u bytes where its "
                 "hvm_viridian_%s_context has %u (\"HVM restore mismatch\"; Xen supports "
                 "migration to newer releases only)", to->name, rec, have,
                 strcmp(rec, "VIRIDIAN_DOMAIN") == 0 ? "domain" : "vcpu", want);
        return VRES_REFUSED;
    }
    return VRES_OK;
}

enum vres_kind vmodel_rewind(const struct vsave *s, struct vmem_ops mem, struct vmodel **out)
{
    const struct vprofile *host = vprofile_find(s->host);
    enum vres_kind r = host ? vmodel_restore(s, host, mem, out) : VRES_EINVAL;
    if (r == VRES_OK)
        (*out)->incarnation = s->incarnation;
    return r;
}
