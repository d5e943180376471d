#include "viridian/save.h"

#include <stdio.h>
#include <string.h>
#include "viridian/hvmpv.h"
#include "viridian/planted.h"
#include "viridian/internal.h"

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
    /* viridian_time_ref_count_freeze() */
    s->domain.time_ref_count = vtime_ref_count(m);
    s->domain.hypercall_gpa = m->hypercall_gpa;
    s->domain.guest_os_id = m->guest_os_id;
    for (uint32_t i = 0; i < m->vcpus; i++)
        s->vcpu[i] = (struct vsave_vcpu){ m->vcpu[i].apic_assist, m->vcpu[i].icr,
                                          m->vcpu[i].icr2, m->vcpu[i].tpr };
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

enum vres_kind vmodel_restore(const struct vsave *s, const struct vprofile *to,
                              struct vmem_ops mem, struct vmodel **out)
{
    *out = NULL;
    struct vconfig cfg = { .host = to, .tsc_khz = s->tsc_khz, .vcpus = s->vcpus, .mem = mem };
    if (s->vcpus < 1 || s->vcpus > VMODEL_MAX_VCPUS || s->tsc_khz < VMODEL_TSC_KHZ_MIN ||
        s->tsc_khz > VMODEL_TSC_KHZ_MAX)
        return VRES_EINVAL;
    /* xc_domain_restore(): "if (pagebuf.viridian != 0) xc_hvm_param_set(...)" */
    if (s->param != 0 && vparam_check(to, 0, s->param, false) != VRES_OK)
        return VRES_REFUSED;
    cfg.viridian = s->param;
    struct vmodel *m;
    if (vmodel_create(&cfg, &m) != VERR_OK)
        return VRES_EINVAL;
    m->tsc = FAULT(FAULT_CLOCK_RESET) ? 0 : s->tsc;
    m->incarnation = s->incarnation + 1;
    m->freq_told = s->freq_told;
    m->hypercall_gpa = s->domain.hypercall_gpa;
    m->guest_os_id = FAULT(FAULT_LOSE_OS_ID) ? 0 : s->domain.guest_os_id;
    /* viridian_time_ref_count_thaw(): continue from the frozen value. */
    m->trc.off = 0;
    m->trc.off = (int64_t)(s->domain.time_ref_count - vtime_ref_count(m));
    for (uint32_t i = 0; i < s->vcpus; i++) {
        m->vcpu[i].apic_assist = s->vcpu[i].apic_assist;
        m->vcpu[i].icr = s->vcpu[i].icr;
        m->vcpu[i].icr2 = s->vcpu[i].icr2;
        m->vcpu[i].tpr = s->vcpu[i].tpr;
    }
    *out = m;
    return VRES_OK;
}

/* Each HVM_PARAM_VIRIDIAN bit by its Xen name and what it means to a user. */
static const struct {
    uint64_t bit;
    const char *name, *meaning;
} param_bits[] = {
    { HVMPV_base_freq, "HVMPV_base_freq", "base group" },
    { HVMPV_no_freq, "HVMPV_no_freq", "freq group switched off" },
    { HVMPV_time_ref_count, "HVMPV_time_ref_count", "time_ref_count group" },
};

static void name_bits(uint64_t bits, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof param_bits / sizeof param_bits[0] && n < len; i++)
        if (bits & param_bits[i].bit) {
            n += (size_t)snprintf(buf + n, len - n, "%s%s (%s)", n ? ", " : "",
                                  param_bits[i].name, param_bits[i].meaning);
            bits &= ~param_bits[i].bit;
        }
    if (bits && n < len)
        snprintf(buf + n, len - n, "%sunknown bits 0x%llx", n ? ", " : "",
                 (unsigned long long)bits);
}

enum vres_kind vrestore_check(const struct vsave *s, const struct vprofile *to,
                              uint64_t dest_param, char *why, size_t len)
{
    char names[192];
    uint64_t bits = vprofile_refused_bits(to, s->param);
    if (bits) {
        name_bits(bits, names, sizeof names);
        if (to->param == VPARAM_BOOLEAN)
            snprintf(why, len, "%s takes HVM_PARAM_VIRIDIAN only as a boolean; the %s stream "
                     "carries 0x%llx: %s", to->name, s->legacy >= 0 ? "legacy" : "mask",
                     (unsigned long long)s->param, names);
        else
            snprintf(why, len, "%s refuses HVM_PARAM_VIRIDIAN 0x%llx from the stream: %s not in "
                     "its feature mask 0x%x", to->name, (unsigned long long)s->param, names,
                     to->feature_mask);
        return VRES_REFUSED;
    }
    /* libxl sets the destination's own value at domain build, before the stream's. */
    if (dest_param && s->param && vparam_check(to, dest_param, s->param, false) == VRES_EEXIST) {
        snprintf(why, len, "the destination was built with HVM_PARAM_VIRIDIAN 0x%llx; the "
                 "stream's 0x%llx may not replace it (EEXIST)", (unsigned long long)dest_param,
                 (unsigned long long)s->param);
        return VRES_EEXIST;
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
