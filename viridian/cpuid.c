/* CPUID leaves 0x40000000+ as cpuid_viridian_leaves() and cpuid_hypervisor_leaves()
 * answer them at each release (viridian.c, traps.c / cpuid.c, time.c
 * cpuid_time_leaf). Which bits each group advertises is the group table's
 * (viridian/spec.c); what differs between releases is the profile's. The KVM host's
 * leaves are QEMU's (cpuid_kvm.c). */
#include "viridian/planted.h"
#include "viridian/internal.h"
#include "viridian/msr.h"
#include "viridian/spec.h"
#include "viridian/why.h"
#include "viridian/xen_hypercall.h"

static void viridian_leaf(const struct vmodel *m, uint32_t idx, uint32_t r[4])
{
    const struct vprofile *h = m->host;
    /* guest_os_id.fields.os: bits 40-47 */
    uint32_t os = (uint32_t)(m->guest_os_id >> 40) & 0xff;

    switch (idx) {
    case 0:
        r[0] = 0x40000006;  /* maximum leaf */
        r[1] = 0x7263694d;  /* "Microsoft Hv" */
        r[2] = 0x666f736f;
        r[3] = 0x76482074;
        break;
    case 1:
        r[0] = 0x31237648;  /* "Hv#1" */
        break;
    case 2:
        /* Hypervisor version, only once the guest has told us its own. Xen's own version
         * until 4.8; from 4.9 Windows Server 2008's ("viridian_build = 0x1772"). */
        if (m->guest_os_id == 0)
            break;
        if (h->leaf2_ws2008) {
            r[0] = VIRIDIAN_BUILD;
            r[1] = VIRIDIAN_MAJOR << 16 | VIRIDIAN_MINOR;
        } else {
            r[0] = 1;
            r[1] = (h->xen_major << 16) | h->xen_minor;
        }
        break;
    case 3:
        for (int g = 0; g < VGROUP_COUNT; g++)
            if (vgroup_enabled(m, g)) {
                r[0] |= vgroup_info(g)->leaf3a;
                r[3] |= vgroup_info(g)->leaf3d;
            }
        if (FAULT(FAULT_ADVERTISE_TRC))
            r[0] |= CPUID3A_MSR_TIME_REF_COUNT;
        break;
    case 4:
        /* Recommendations only for guests that identify as OS type >= 4 (Vista+). */
        if (m->guest_os_id == 0 || os < 4)
            break;
        r[0] = CPUID4A_RELAX_TIMER_INT | (h->apic_reg_virt ? 0 : CPUID4A_MSR_BASED_APIC);
        for (int g = 0; g < VGROUP_COUNT; g++)
            if (vgroup_enabled(m, g))
                r[0] |= vgroup_info(g)->leaf4a;
        r[1] = VIRIDIAN_SPINLOCK_RETRY_COUNT;
        break;
    case 5:
        for (int g = 0; g < VGROUP_COUNT; g++)
            if (vgroup_enabled(m, g) && vgroup_info(g)->leaf5_no_limit)
                r[0] = 0xffffffffu;
        break;
    case 6:
        r[0] = h->leaf6_eax;
        break;
    default:
        break;
    }
}

/* Xen's time leaf (cpuid_time_leaf). vtsc_offset is the system time at domain build,
 * which on vsbox's timeline is guest time 0. */
static void xen_time_leaf(const struct vmodel *m, uint32_t sub, uint32_t r[4])
{
    switch (sub) {
    case 0:
        r[0] = (m->vtsc ? 1u : 0u) | (m->host->tsc_reliable ? 2u : 0u) | 4u; /* RDTSCP */
        r[1] = 0;                                 /* tsc_mode: default */
        r[2] = m->tsc_khz;
        r[3] = m->incarnation;
        break;
    case 1:
        r[2] = m->tsc_to_ns.mul_frac;
        r[3] = (uint32_t)(int32_t)(int8_t)m->tsc_to_ns.shift;
        break;
    case 2:
        r[0] = m->host->cpu_khz;
        break;
    default:
        break;
    }
}

static void xen_leaf(const struct vmodel *m, uint32_t vcpu, uint32_t base, uint32_t idx,
                     uint32_t sub, uint32_t r[4])
{
    const struct vprofile *h = m->host;
    switch (idx) {
    case 0:
        r[0] = base + h->xen_leaf_limit;
        r[1] = XEN_CPUID_SIGNATURE_EBX;
        r[2] = XEN_CPUID_SIGNATURE_ECX;
        r[3] = XEN_CPUID_SIGNATURE_EDX;
        break;
    case 1:
        r[0] = (h->xen_major << 16) | h->xen_minor;
        break;
    case 2:
        r[0] = 1;           /* hypercall transfer pages */
        r[1] = vmodel_xen_msr_base(m);
        break;
    case 3:
        xen_time_leaf(m, sub, r);
        break;
    case 4: /* HVM hypervisor leaf */
        if (sub != 0)
            break;
        r[0] = h->xen_leaf4 | (h->apic_reg_virt ? XEN_HVM_CPUID_APIC_ACCESS_VIRT : 0);
        if (h->xen_leaf4 & XEN_HVM_CPUID_VCPU_ID_PRESENT)
            r[1] = vcpu;
        if (h->xen_leaf4 & XEN_HVM_CPUID_DOMID_PRESENT)
            r[2] = VSBOX_DOMID;
        break;
    default: /* 5: PV-specific parameters, nothing for HVM */
        break;
    }
}

/* Who answers a leaf: the viridian leaves take 0x40000000-6 when viridian is on, and
 * Xen's own leaves move out of their way to 0x40000100. */
static uint32_t xen_base(const struct vmodel *m)
{
    return viridian_enabled(m) ? 0x40000100u : 0x40000000u;
}

enum vrule vmodel_cpuid_rule(const struct vmodel *m, uint32_t leaf)
{
    if (viridian_enabled(m) && leaf - 0x40000000u <= 6)
        return VRULE_CPUID_VIRIDIAN;
    if (leaf - xen_base(m) <= m->host->xen_leaf_limit)
        return VRULE_CPUID_XEN;
    return VRULE_CPUID_EMPTY;
}

void vmodel_cpuid(struct vmodel *m, uint32_t vcpu, uint32_t leaf, uint32_t subleaf,
                  uint32_t r[4])
{
    r[0] = r[1] = r[2] = r[3] = 0;
    if (vkvm(m)) {
        vkvm_cpuid(m, leaf, subleaf, r);
        return;
    }
    switch (vmodel_cpuid_rule(m, leaf)) {
    case VRULE_CPUID_VIRIDIAN:
        viridian_leaf(m, leaf - 0x40000000u, r);
        break;
    case VRULE_CPUID_XEN:
        xen_leaf(m, vcpu, xen_base(m), leaf - xen_base(m), subleaf, r);
        break;
    default: /* an unconfigured domain_cpuid() leaf: zeros */
        break;
    }
}
