/* Reference time: HV_X64_MSR_TIME_REF_COUNT, the reference TSC page, and their freeze
 * and thaw around a pause, as each release computes them.
 *   4.5-4.12 (viridian.c / viridian/time.c raw_trc_val): scale_delta(tsc, tsc_to_ns) / 100
 *            + offset; the TSC page has no offset and is rewritten on load only.
 *   4.13+    (time.c trc_val, commit 5a82d598d2 "unify time sources"): the page's own
 *            arithmetic, ((tsc * scale) >> 64) + offset, and the page carries the same
 *            offset, rewritten on every thaw.
 *   KVM      (hyperv.c get_time_ref_counter): the page's arithmetic once the page is
 *            set (HV_TSC_PAGE_SET), kvmclock's nanoseconds / 100 before; the page's scale
 *            comes from kvmclock's multiplier (compute_tsc_page_parameters). */
#include "viridian/internal.h"
#include "viridian/planted.h"

/* ((10000UL << 32) / d->arch.tsc_khz) << 32: 100 ns ticks per TSC tick, << 64. KVM:
 * "tsc_to_system_mul * 2^(32+tsc_shift) / 100", kvmclock's multiplier and shift being
 * kvm_get_time_scale()'s, which computes as Xen's set_time_scale() (tsc_to_ns). */
static uint64_t tsc_scale(const struct vmodel *m)
{
    if (vkvm(m)) {
        int shift = 32 + m->tsc_to_ns.shift;
        unsigned __int128 one = shift >= 0 ? (unsigned __int128)1 << shift : 0;
        return (uint64_t)(one * m->tsc_to_ns.mul_frac / 100);
    }
    return ((10000ull << 32) / m->tsc_khz) << 32;
}

static uint64_t count_at(const struct vmodel *m, uint64_t tsc, int64_t off)
{
    if (vkvm(m) && !m->reference_tsc.mapped) /* div_u64(get_kvmclock_ns(kvm), 100) */
        return vtime_scale_delta(tsc, &m->tsc_to_ns) / 100 + (uint64_t)off;
    if (m->host->trc_hv_scale) /* hv_scale_tsc() */
        return (uint64_t)(((unsigned __int128)tsc * tsc_scale(m)) >> 64) + (uint64_t)off;
    return vtime_scale_delta(tsc, &m->tsc_to_ns) / 100 + (uint64_t)off;
}

static uint64_t live_count(const struct vmodel *m, int64_t off)
{
    return count_at(m, m->tsc, off);
}

uint64_t vtime_count_at(const struct vmodel *m, uint64_t tsc)
{
    return count_at(m, tsc, m->trc.off);
}

/* What the guest reads: the running count, or the frozen one while paused. The planted
 * fault is Xen before commit f6a07643e1: nothing froze the counter, which ran on while a
 * suspended domain waited for the toolstack to save its context. */
uint64_t vtime_ref_count(const struct vmodel *m)
{
    /* Xen's MSR read is always the live "raw + off"; only a paused domain, which cannot
     * read, has a frozen value, and that is what it sees again on thaw. */
    if (m->paused && !m->trc.running && !FAULT(FAULT_TRC_RUNS_PAUSED))
        return m->trc.val;
    return live_count(m, m->trc.off);
}

/* Xen freezes the counter on pause only where the domain has it: 4.5-4.12 arch_domain_pause
 * "if ( has_viridian_time_ref_count(d) )", 4.13+ for every viridian domain. */
bool vtime_freezes(const struct vmodel *m)
{
    if (!viridian_enabled(m))
        return false;
    return m->host->trc_hv_scale || has_feature(m, HVMPV_time_ref_count);
}

/* trc.val as a save finds it: frozen at the pause that precedes the save (a save taken
 * without one freezes now), or never frozen where the release does not freeze. */
uint64_t vtime_saved(const struct vmodel *m)
{
    return vtime_freezes(m) ? vtime_ref_count(m) : m->trc.val;
}

void vtime_freeze(struct vmodel *m)
{
    if (m->host->synic)
        vstimer_freeze(m);
    if (vtime_freezes(m) && m->trc.running) {
        m->trc.val = live_count(m, m->trc.off);
        m->trc.running = false;
    }
}

void vtime_thaw(struct vmodel *m)
{
    if (vtime_freezes(m) && !m->trc.running) {
        m->trc.off = (int64_t)(m->trc.val - live_count(m, 0));
        m->trc.running = true;
        if (m->host->ref_tsc_offset && (m->reference_tsc.msr & HV_PAGE_ENABLE))
            vtime_reference_tsc_update(m, false);
    }
    if (m->host->synic)
        vstimer_thaw(m);
}

/* kvm_hv_setup_tsc_page(): the sequence goes to 0 while KVM writes scale and offset,
 * then to the old one + 1 (0 and 0xFFFFFFFF become 1); nothing else of the page is
 * touched. A page KVM cannot read is HV_TSC_PAGE_BROKEN: left alone, the MSR counts. */
static void kvm_tsc_page(struct vmodel *m)
{
    struct vpage *rt = &m->reference_tsc;
    uint64_t gpa = vpage_gpa(rt);
    rt->mapped = false;
    if (!(rt->msr & HV_PAGE_ENABLE) || !vpage_ram(m, gpa))
        return;
    uint32_t seq = vpage_read32(m, gpa + HV_REF_TSC_SEQUENCE) + 1;
    if (seq == 0 || seq == 0xffffffffu)
        seq = 1;
    vpage_write64(m, gpa + HV_REF_TSC_SCALE, tsc_scale(m));
    vpage_write64(m, gpa + HV_REF_TSC_OFFSET, (uint64_t)m->trc.off);
    vpage_write32(m, gpa + HV_REF_TSC_SEQUENCE, seq);
    rt->mapped = true;
}

/* update_reference_tsc(d, initialize). */
void vtime_reference_tsc_update(struct vmodel *m, bool initialize)
{
    struct vpage *rt = &m->reference_tsc;
    uint64_t gpa = vpage_gpa(rt);

    if (vkvm(m)) {
        kvm_tsc_page(m);
        return;
    }
    if (m->host->ref_tsc_offset) {
        /* 4.13+ uses the page viridian_map_guest_page() took; 4.13-4.20 dereference it
         * even when the frame was bad (XSA-472, CVE-2025-27466). */
        if (!rt->mapped) {
            if (m->host->xsa472)
                vmodel_defect_hit(m, "XSA-472: update_reference_tsc() with no page mapped "
                                     "(NULL dereference in Xen, fixed in 4.21)");
            return;
        }
    } else if (!vpage_ram(m, gpa)) {
        return; /* "Bad GMFN": get_page_from_gfn() failed */
    }
    if (initialize)
        vpage_clear(m, gpa);

    /* "This enlightenment must be disabled if the host TSC is not invariant ... also
     * disabled if vtsc is true": sequence 0, which Windows takes as invalid. */
    if (!m->host->tsc_reliable || m->vtsc) {
        vpage_write32(m, gpa + HV_REF_TSC_SEQUENCE, 0);
        return;
    }
    vpage_write64(m, gpa + HV_REF_TSC_SCALE, tsc_scale(m));
    if (m->host->ref_tsc_offset)
        vpage_write64(m, gpa + HV_REF_TSC_OFFSET, (uint64_t)m->trc.off);
    uint32_t seq = vpage_read32(m, gpa + HV_REF_TSC_SEQUENCE) + 1;
    /* Before 4.14 both 0 and 0xFFFFFFFF count as invalid; commit c9d9b5f4c9 ("drop a
     * wrong invalid value") keeps only 0. */
    if (seq == 0 || (seq == 0xffffffffu && !m->host->ref_tsc_seq_all_ones))
        seq = 1;
    vpage_write32(m, gpa + HV_REF_TSC_SEQUENCE, seq);
}

int vtime_rd_reference_tsc(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t *val)
{
    (void)vcpu;
    (void)idx;
    *val = m->reference_tsc.msr;
    return 0;
}

int vtime_wr_reference_tsc(struct vmodel *m, uint32_t vcpu, uint32_t idx, uint64_t val)
{
    (void)vcpu;
    (void)idx;
    struct vpage *rt = &m->reference_tsc;
    if (vkvm(m)) {
        /* The counter keeps its value across the switch of formula (KVM's masterclock
         * update computes the page's offset from kvmclock). */
        uint64_t now = vtime_ref_count(m);
        rt->msr = val;
        kvm_tsc_page(m);
        if (m->trc.running)
            m->trc.off = (int64_t)(now - count_at(m, m->tsc, 0));
        if (rt->mapped)
            vpage_write64(m, vpage_gpa(rt) + HV_REF_TSC_OFFSET, (uint64_t)m->trc.off);
        return 0;
    }
    rt->mapped = false;
    rt->msr = val;
    if (val & HV_PAGE_ENABLE) {
        if (m->host->ref_tsc_offset)
            vpage_map(m, rt, true);
        vtime_reference_tsc_update(m, true);
    }
    return 0;
}
