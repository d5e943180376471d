/* The rules by name, each with the Xen file it comes from, and the question "which rule
 * answered this event", put to the code that applies them (msr.c, cpuid.c, model.c). */
#include "viridian/why.h"

#include <stdio.h>
#include "viridian/internal.h"
#include "viridian/msr.h"

static const struct vrule_info rules[VRULE_COUNT] = {
    [VRULE_NONE] = { "", NULL, false },
    [VRULE_MSR_ARCH] = { "an architectural MSR, answered from the domain's own state",
                         NULL, false },
    [VRULE_MSR_NONE] = { "no viridian MSR has this number: Xen has no handler for it (a read "
                         "is #GP; a write is dropped up to 4.10 and #GP from 4.11)",
                         "xen/arch/x86/hvm/vmx/vmx.c", false },
    [VRULE_MSR_XEN] = { "Xen's own hypercall-page MSR (Xen's leaf 2 EBX names it): a write "
                        "installs Xen's page, a read is 0", "xen/arch/x86/traps.c", false },
    [VRULE_MSR_VIRIDIAN_OFF] = { "viridian is off (HVM_PARAM_VIRIDIAN has no base bit): no "
                                 "synthetic MSR has a handler", NULL, false },
    [VRULE_MSR_NOT_YET] = { "this Xen release has no handler for it yet", NULL, false },
    [VRULE_MSR_GATE_CLOSED] = { "its group is off in HVM_PARAM_VIRIDIAN, so its handler "
                                "refuses it", NULL, false },
    [VRULE_MSR_GATE_OPEN] = { "its group is on in HVM_PARAM_VIRIDIAN, so its handler answers",
                              NULL, false },
    [VRULE_MSR_UNGATED] = { "answered for every viridian guest: the group only decides what "
                            "CPUID advertises", NULL, false },
    [VRULE_MSR_KVM] = { "KVM answers every Hyper-V MSR it has once any enlightenment is on "
                        "(hv_check_msr_access without hv-enforce-cpuid): the flag only decides "
                        "what CPUID advertises", NULL, false },
    [VRULE_MSR_KVM_ENFORCED] = { "with hv-enforce-cpuid (KVM_CAP_HYPERV_ENFORCE_CPUID) KVM "
                                 "answers it because CPUID advertises it", NULL, false },
    [VRULE_MSR_KVM_REFUSED] = { "with hv-enforce-cpuid (KVM_CAP_HYPERV_ENFORCE_CPUID) KVM "
                                "refuses what CPUID does not advertise", NULL, false },
    [VRULE_CPUID_VIRIDIAN] = { "a viridian leaf (cpuid_viridian_leaves): its bits come from "
                               "the groups in force", NULL, true },
    [VRULE_CPUID_XEN] = { "one of Xen's own leaves (cpuid_hypervisor_leaves), at 0x40000100 "
                          "when viridian takes 0x40000000", "xen/arch/x86/traps.c", false },
    [VRULE_CPUID_EMPTY] = { "no leaf of Xen's or viridian's: all zeros", "xen/arch/x86/traps.c",
                            false },
    [VRULE_CPUID_KVM_HV] = { "a Hyper-V leaf as QEMU fills it (hyperv_fill_cpuids): its bits "
                             "come from the hv-* flags in force",
                             "qemu: target/i386/kvm/kvm.c", false },
    [VRULE_CPUID_KVM] = { "one of KVM's own leaves (KVM_CPUID_SIGNATURE), at 0x40000100 when "
                          "the Hyper-V leaves take 0x40000000",
                          "linux: arch/x86/include/uapi/asm/kvm_para.h", false },
    [VRULE_CPUID_KVM_EMPTY] = { "no leaf of KVM's or of QEMU's Hyper-V set: all zeros",
                                "qemu: target/i386/kvm/kvm.c", false },
    [VRULE_PARAM_GUEST] = { "a guest may never set HVM_PARAM_VIRIDIAN (hvm_allow_set_param)",
                            "xen/arch/x86/hvm/hvm.c", false },
    [VRULE_PARAM_SET_ONCE] = { "once set, HVM_PARAM_VIRIDIAN takes only the same value again",
                               "xen/arch/x86/hvm/hvm.c", false },
    [VRULE_PARAM_BAD_MASK] = { "the value has bits outside HVMPV_feature_mask, or lacks "
                               "HVMPV_base_freq", "xen/arch/x86/hvm/hvm.c", false },
    [VRULE_PARAM_BOOLEAN] = { "before 4.5 HVM_PARAM_VIRIDIAN is a boolean: above 1 is refused",
                              "xen/arch/x86/hvm/hvm.c", false },
    [VRULE_PARAM_TAKEN] = { "the first value, or the same one again, is taken",
                            "xen/arch/x86/hvm/hvm.c", false },
    [VRULE_PARAM_GET] = { "the toolstack may read it; a guest only before 4.6 "
                          "(hvm_allow_get_param)", "xen/arch/x86/hvm/hvm.c", false },
    [VRULE_RDTSC] = { "the guest TSC: the virtual clock at the domain's tsc_khz",
                      "xen/arch/x86/hvm/hvm.c", false },
    [VRULE_HYPERCALL] = { "viridian_hypercall() dispatches on the call code; no group is "
                          "checked", NULL, true },
    [VRULE_HYPERCALL_UD] = { "without viridian a VMCALL is no viridian hypercall",
                             "xen/arch/x86/hvm/hypercall.c", false },
    [VRULE_ADVANCE] = { "virtual time passes", NULL, false },
    [VRULE_MIGRATE] = { "save, then restore on the destination under its own rules", NULL,
                        false },
    [VRULE_POLL] = { "due synthetic timers deliver their messages (viridian_synic_poll)",
                     "xen/arch/x86/hvm/viridian/synic.c", false },
};

const struct vrule_info *vrule_info(enum vrule r)
{
    return (unsigned)r < VRULE_COUNT ? &rules[r] : &rules[VRULE_NONE];
}

static void rule_source(const struct vmodel *m, enum vrule r, char *buf, size_t len)
{
    const struct vrule_info *ri = vrule_info(r);
    if (ri->src_viridian)
        snprintf(buf, len, m->host->xen_minor < 12 && m->host->xen_major == 4
                               ? "xen/arch/x86/hvm/viridian.c"
                               : "xen/arch/x86/hvm/viridian/viridian.c");
    else
        snprintf(buf, len, "%s", ri->src ? ri->src : "");
}

void vmodel_why(const struct vmodel *m, const struct vevent *ev, struct vwhy *out)
{
    *out = (struct vwhy){ .rule = VRULE_NONE, .group = -1 };
    switch (ev->kind) {
    case VEV_RDMSR:
    case VEV_WRMSR:
        out->rule = vmodel_msr_rule(m, (uint32_t)ev->a[0]);
        out->msr = vmsr_find((uint32_t)ev->a[0], NULL);
        if (out->msr && m->host->hypervisor == VHV_KVM)
            out->group = vmsr_kvm_flag(out->msr);
        else if (out->msr && out->msr->gate >= 0)
            out->group = out->msr->gate;
        else if (out->msr && out->msr->group >= 0)
            out->group = out->msr->group;
        if (out->msr && out->rule != VRULE_MSR_VIRIDIAN_OFF && out->rule != VRULE_MSR_XEN) {
            vmsr_source(out->msr, m->host, out->src, sizeof out->src);
            return;
        }
        break;
    case VEV_CPUID:
        out->rule = vmodel_cpuid_rule(m, (uint32_t)ev->a[0]);
        if (m->host->hypervisor == VHV_KVM)
            out->rule = out->rule == VRULE_CPUID_VIRIDIAN ? VRULE_CPUID_KVM_HV
                        : out->rule == VRULE_CPUID_XEN    ? VRULE_CPUID_KVM
                                                          : VRULE_CPUID_KVM_EMPTY;
        break;
    case VEV_PARAM_SET:
        out->rule = vparam_rule(m->host, m->param, ev->a[0], ev->from_guest);
        break;
    case VEV_PARAM_GET:
        out->rule = VRULE_PARAM_GET;
        break;
    case VEV_RDTSC:
        out->rule = VRULE_RDTSC;
        break;
    case VEV_HYPERCALL:
        out->rule = viridian_enabled(m) ? VRULE_HYPERCALL : VRULE_HYPERCALL_UD;
        break;
    case VEV_ADVANCE:
        out->rule = VRULE_ADVANCE;
        break;
    case VEV_MIGRATE:
        out->rule = VRULE_MIGRATE;
        break;
    case VEV_POLL:
        out->rule = VRULE_POLL;
        break;
    case VEV_KIND_COUNT:
        break;
    }
    rule_source(m, out->rule, out->src, sizeof out->src);
}
