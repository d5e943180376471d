/* Architectural MSRs Xen answers for an HVM guest that neither Unicorn keeps nor the
 * viridian model owns: one row each, with Xen's rule for reads and writes
 * (xen/arch/x86/hvm/vmx/vmx.c vmx_msr_{read,write}_intercept, xen/arch/x86/msr.c
 * guest_{rd,wr}msr). */
#include "emu/internal.h"
#include "emu/phys.h"

struct platform_msr {
    uint32_t msr;
    const char *name;
    uint64_t reset;            /* the value at start */
    uint64_t writable;         /* bits a write may set; any other set bit is #GP */
    bool read_only;            /* every write is #GP */
};

enum { PLATFORM_INFO_CPUID_FAULTING = 1u << 31, MISC_FEATURES_CPUID_FAULTING = 1u << 0 };

static const struct platform_msr table[PLATFORM_MSRS] = {
    /* MSR_IA32_DEBUGCTLMSR: LBR and BTF are the bits a VMX guest may set */
    { 0x1d9, "MSR_IA32_DEBUGCTLMSR", 0, 0x3, false },
    /* Xen can always emulate CPUID faulting for an HVM guest (calculate_hvm_max_policy) */
    { 0xce, "MSR_INTEL_PLATFORM_INFO", PLATFORM_INFO_CPUID_FAULTING, 0, true },
    { 0x140, "MSR_INTEL_MISC_FEATURES_ENABLES", 0, MISC_FEATURES_CPUID_FAULTING, false },
};

void msr_platform_reset(struct emu *e)
{
    for (unsigned i = 0; i < PLATFORM_MSRS; i++)
        e->platform_msr[i] = table[i].reset;
}

bool msr_platform_cpuid_faulting(const struct emu *e)
{
    return e->platform_msr[2] & MISC_FEATURES_CPUID_FAULTING;
}

/* CPUID runs natively in translated code unless it must fault: turning faulting on or
 * off drops every translation so CPUID is translated again for the new rule. */
static void drop_all_code(struct emu *e)
{
    e->stale_overflow = true;   /* phys_sync drops every page code came from */
    phys_stale_stop(e);
}

bool msr_platform(struct emu *e, uint32_t msr, bool write, uint64_t *value, bool *gp)
{
    unsigned i = 0;
    while (i < PLATFORM_MSRS && table[i].msr != msr)
        i++;
    if (i == PLATFORM_MSRS)
        return false;
    const struct platform_msr *m = &table[i];
    *gp = false;
    if (!write) {
        *value = e->platform_msr[i];
    } else if (m->read_only || (*value & ~m->writable)) {
        *gp = true;
    } else {
        if (msr == 0x140 && ((*value ^ e->platform_msr[i]) & MISC_FEATURES_CPUID_FAULTING))
            drop_all_code(e);
        e->platform_msr[i] = *value;
    }
    return true;
}
