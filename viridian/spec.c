/* Group specs -> HVM_PARAM_VIRIDIAN, following libxl's hvm_set_viridian_features() and
 * xl's parse_config_data() step by step, so the same inputs fail the same way. The code
 * is the same from RELEASE-4.5.0 (libxl_dom.c) to RELEASE-4.22.0 (libxl_x86.c) but for
 * the groups each release knows and its "Enable defaults" (viridian/profile.c), and
 * stimer's silent dependencies (4.13+: "mask |= HVMPV_time_ref_count | HVMPV_synic |
 * HVMPV_stimer"). */
#include "viridian/spec.h"

#include <stdio.h>
#include <string.h>
#include "viridian/hvkvm.h"
#include "viridian/hvmpv.h"

#define KG(g) (1ull << VGROUP_HV_##g)

/* A QEMU CPU flag on the KVM host: its name, configuration bit, what it needs, QEMU's
 * words for it, and whether hv-passthrough turns it on (Linux 6.16 supports every hv-*
 * flag on an Intel host with nested VMX; QEMU skips syndbg). The CPUID bits are
 * kvm_hyperv_properties[]'s. */
#define KVM_ROW(nm, bit, req, pt, dsc, what) \
    .name = (nm), .hvmpv = 1u << (bit), .hypervisor = VHV_KVM, .requires = (req), \
    .passthrough = (pt), .desc = (dsc), .summary = (what), .documented = true

static const struct vgroup_info groups[VGROUP_COUNT] = {
    [VGROUP_BASE] = {
        "base", HVMPV_base_freq, 0, 5,
        CPUID3A_MSR_APIC_ACCESS | CPUID3A_MSR_HYPERCALL | CPUID3A_MSR_VP_INDEX, 0, 0, false,
        true, "the seed patch",
        "hypercall page, VP index, APIC MSRs and VP assist page; needed by every other group" },
    [VGROUP_FREQ] = {
        "freq", 0, 0, 5, CPUID3A_MSR_FREQ, 0, 0, false, true, "84657efd (MSRs, 4.4)",
        "TSC and APIC frequency MSRs" },
    [VGROUP_TIME_REF_COUNT] = {
        "time_ref_count", HVMPV_time_ref_count, 0, 5, CPUID3A_MSR_TIME_REF_COUNT, 0, 0, false,
        true, "88f30bcdb5", "partition reference counter MSR, 100 ns units" },
    [VGROUP_REFERENCE_TSC] = {
        "reference_tsc", HVMPV_reference_tsc, 0, 6, CPUID3A_MSR_REFERENCE_TSC, 0, 0, false,
        true, "dd94caca53", "reference TSC page: time from RDTSC, scale and offset" },
    [VGROUP_HCALL_REMOTE_TLB_FLUSH] = {
        "hcall_remote_tlb_flush", HVMPV_hcall_remote_tlb_flush, 0, 7, 0, 0,
        CPUID4A_HCALL_REMOTE_TLB_FLUSH, false, true, "b38d426ad0",
        "recommends the flush hypercalls (Xen answers them whatever the mask)" },
    [VGROUP_APIC_ASSIST] = {
        "apic_assist", HVMPV_apic_assist, 0, 7, 0, 0, 0, false, true, "10a674b465",
        "Xen uses the VP assist page to let the guest skip EOIs" },
    [VGROUP_CRASH_CTL] = {
        "crash_ctl", HVMPV_crash_ctl, 0, 9, 0, CPUID3D_CRASH_MSRS, 0, false, true, "9c4555801f",
        "advertises the crash MSRs (Xen answers them whatever the mask)" },
    [VGROUP_SYNIC] = {
        "synic", HVMPV_synic, 0, 13, CPUID3A_MSR_SYNIC, CPUID3D_SINT_POLLING, 0, false, false,
        "a85089d0ef", "SynIC MSRs: SCONTROL, SVERSION, SIEFP, SIMP, EOM, SINT0-15" },
    [VGROUP_STIMER] = {
        "stimer", HVMPV_stimer, HVMPV_time_ref_count | HVMPV_synic, 13, CPUID3A_MSR_STIMER, 0,
        0, false, true, "26fba3c855",
        "synthetic timers (libxl adds time_ref_count and synic)" },
    [VGROUP_HCALL_IPI] = {
        "hcall_ipi", HVMPV_hcall_ipi, 0, 13, 0, 0, CPUID4A_SYNTHETIC_CLUSTER_IPI, false, true,
        "fda96b7382", "recommends HvSendSyntheticClusterIpi (answered whatever the mask)" },
    [VGROUP_EX_PROCESSOR_MASKS] = {
        "ex_processor_masks", HVMPV_ex_processor_masks, 0, 15, 0, 0,
        CPUID4A_EX_PROCESSOR_MASKS, false, true, "948719f3bf",
        "recommends the _EX flush and IPI hypercalls (sparse VP sets)" },
    [VGROUP_NO_VP_LIMIT] = {
        "no_vp_limit", HVMPV_no_vp_limit, 0, 15, 0, 0, 0, true, true, "9835246710",
        "CPUID 0x40000005 EAX = -1: no limit of 64 VPs" },
    [VGROUP_CPU_HOTPLUG] = {
        "cpu_hotplug", HVMPV_cpu_hotplug, 0, 15, 0, CPUID3D_CPU_DYNAMIC_PARTITIONING, 0, false,
        true, "7e5cffcd1e", "CPUID 0x40000003 EDX: dynamic partitioning, vCPU hotplug" },
    [VGROUP_HV_RELAXED] = { KVM_ROW("hv-relaxed", KVM_FEAT_RELAXED, 0, true,
        "relaxed timing (hv-relaxed)", "recommends relaxed timing: no watchdog timeouts"),
        .leaf4a = CPUID4A_RELAX_TIMER_INT },
    [VGROUP_HV_VAPIC] = { KVM_ROW("hv-vapic", KVM_FEAT_VAPIC, 0, true,
        "virtual APIC (hv-vapic)", "EOI, ICR, TPR MSRs and the VP assist page"),
        .leaf3a = CPUID3A_MSR_APIC_ACCESS },
    [VGROUP_HV_TIME] = { KVM_ROW("hv-time", KVM_FEAT_TIME, 0, true, "clocksources (hv-time)",
        "partition reference counter and reference TSC page"),
        .leaf3a = CPUID3A_MSR_TIME_REF_COUNT | CPUID3A_MSR_REFERENCE_TSC },
    [VGROUP_HV_CRASH] = { KVM_ROW("hv-crash", KVM_FEAT_CRASH, 0, true, "crash MSRs (hv-crash)",
        "advertises the crash MSRs (KVM answers them whatever the flags)"),
        .leaf3d = CPUID3D_CRASH_MSRS },
    [VGROUP_HV_RESET] = { KVM_ROW("hv-reset", KVM_FEAT_RESET, 0, true, "reset MSR (hv-reset)",
        "HV_X64_MSR_RESET"), .leaf3a = CPUID3A_MSR_RESET },
    [VGROUP_HV_VPINDEX] = { KVM_ROW("hv-vpindex", KVM_FEAT_VPINDEX, 0, true,
        "VP_INDEX MSR (hv-vpindex)", "HV_X64_MSR_VP_INDEX"), .leaf3a = CPUID3A_MSR_VP_INDEX },
    [VGROUP_HV_RUNTIME] = { KVM_ROW("hv-runtime", KVM_FEAT_RUNTIME, 0, true,
        "VP_RUNTIME MSR (hv-runtime)", "HV_X64_MSR_VP_RUNTIME"),
        .leaf3a = CPUID3A_MSR_VP_RUNTIME },
    [VGROUP_HV_SYNIC] = { KVM_ROW("hv-synic", KVM_FEAT_SYNIC, KG(VPINDEX), true,
        "synthetic interrupt controller (hv-synic)",
        "SynIC MSRs (KVM_CAP_HYPERV_SYNIC2), PostMessages and SignalEvents"),
        .leaf3a = CPUID3A_MSR_SYNIC, .leaf3b = CPUID3B_POST_MESSAGES | CPUID3B_SIGNAL_EVENTS },
    [VGROUP_HV_STIMER] = { KVM_ROW("hv-stimer", KVM_FEAT_STIMER, KG(SYNIC) | KG(TIME), true,
        "synthetic timers (hv-stimer)", "synthetic timers"), .leaf3a = CPUID3A_MSR_STIMER },
    [VGROUP_HV_FREQUENCIES] = { KVM_ROW("hv-frequencies", KVM_FEAT_FREQUENCIES, 0, true,
        "frequency MSRs (hv-frequencies)", "TSC and APIC frequency MSRs"),
        .leaf3a = CPUID3A_MSR_FREQ, .leaf3d = CPUID3D_FREQ_MSRS },
    [VGROUP_HV_REENLIGHTENMENT] = { KVM_ROW("hv-reenlightenment", KVM_FEAT_REENLIGHTENMENT, 0,
        true, "reenlightenment MSRs (hv-reenlightenment)",
        "reenlightenment and TSC emulation MSRs (nested Hyper-V)"),
        .leaf3a = CPUID3A_MSR_REENLIGHTENMENT },
    [VGROUP_HV_TLBFLUSH] = { KVM_ROW("hv-tlbflush", KVM_FEAT_TLBFLUSH, KG(VPINDEX), true,
        "paravirtualized TLB flush (hv-tlbflush)", "recommends the flush hypercalls, _EX too"),
        .leaf4a = CPUID4A_HCALL_REMOTE_TLB_FLUSH | CPUID4A_EX_PROCESSOR_MASKS },
    [VGROUP_HV_EVMCS] = { KVM_ROW("hv-evmcs", KVM_FEAT_EVMCS, KG(VAPIC), true,
        "enlightened VMCS (hv-evmcs)", "enlightened VMCS 1 (nested, Intel)"),
        .leaf4a = CPUID4A_ENLIGHTENED_VMCS, .leafaa = CPUIDAA_EVMCS_VERSION },
    [VGROUP_HV_IPI] = { KVM_ROW("hv-ipi", KVM_FEAT_IPI, KG(VPINDEX), true,
        "paravirtualized IPI (hv-ipi)", "recommends HvSendSyntheticClusterIpi, _EX too"),
        .leaf4a = CPUID4A_SYNTHETIC_CLUSTER_IPI | CPUID4A_EX_PROCESSOR_MASKS },
    [VGROUP_HV_STIMER_DIRECT] = { KVM_ROW("hv-stimer-direct", KVM_FEAT_STIMER_DIRECT,
        KG(STIMER), true, "direct mode synthetic timers (hv-stimer-direct)",
        "synthetic timers that raise a vector instead of a SynIC message"),
        .leaf3d = CPUID3D_STIMER_DIRECT },
    [VGROUP_HV_AVIC] = { KVM_ROW("hv-avic", KVM_FEAT_AVIC, 0, true,
        "AVIC/APICv support (hv-avic/hv-apicv)",
        "recommends against AutoEOI, and no longer recommends the APIC MSRs"),
        .leaf4a = CPUID4A_DEPRECATING_AEOI },
    [VGROUP_HV_SYNDBG] = { KVM_ROW("hv-syndbg", KVM_FEAT_SYNDBG, KG(SYNIC) | KG(RELAXED),
        false, "Enable synthetic kernel debugger channel (hv-syndbg)",
        "synthetic debugger MSRs and leaves 0x40000080-82"), .leaf3d = CPUID3D_DEBUG_MSRS },
    [VGROUP_HV_EMSR_BITMAP] = { KVM_ROW("hv-emsr-bitmap", KVM_FEAT_MSR_BITMAP, 0, true,
        "enlightened MSR-Bitmap (hv-emsr-bitmap)", "enlightened MSR bitmap (nested)"),
        .leafaa = CPUIDAA_MSR_BITMAP },
    [VGROUP_HV_XMM_INPUT] = { KVM_ROW("hv-xmm-input", KVM_FEAT_XMM_INPUT, 0, true,
        "XMM fast hypercall input (hv-xmm-input)", "fast hypercall input in XMM registers"),
        .leaf3d = CPUID3D_XMM_INPUT },
    [VGROUP_HV_TLBFLUSH_EXT] = { KVM_ROW("hv-tlbflush-ext", KVM_FEAT_TLBFLUSH_EXT,
        KG(TLBFLUSH), true, "Extended gva ranges for TLB flush hypercalls (hv-tlbflush-ext)",
        "extended GVA ranges in the flush hypercalls"), .leaf3d = CPUID3D_EXT_GVA_RANGES },
    [VGROUP_HV_TLBFLUSH_DIRECT] = { KVM_ROW("hv-tlbflush-direct", KVM_FEAT_TLBFLUSH_DIRECT,
        KG(VAPIC), true, "direct TLB flush (hv-tlbflush-direct)",
        "L2 flush hypercalls handled by L0 (nested)"), .leafaa = CPUIDAA_DIRECT_FLUSH },
    [VGROUP_HV_NO_NONARCH_CS] = { KVM_ROW("hv-no-nonarch-coresharing", KVM_OPT_NO_NONARCH_CS,
        0, false, "hv-no-nonarch-coresharing=on",
        "vCPUs never share a core but as SMT siblings (=on)"),
        .leaf4a = CPUID4A_NO_NONARCH_CS },
    [VGROUP_HV_ENFORCE_CPUID] = { KVM_ROW("hv-enforce-cpuid", KVM_OPT_ENFORCE_CPUID, 0, false,
        "hv-enforce-cpuid",
        "KVM_CAP_HYPERV_ENFORCE_CPUID: only what CPUID advertises answers") },
    [VGROUP_HV_PASSTHROUGH] = { KVM_ROW("hv-passthrough", KVM_OPT_PASSTHROUGH, 0, false,
        "hv-passthrough",
        "every enlightenment KVM has but syndbg, with KVM's identification") },
    [VGROUP_KVM_HIDDEN] = { KVM_ROW("kvm", KVM_OPT_HIDDEN, 0, false, "kvm",
        "KVM's own leaves; kvm=off hides them") },
    [VGROUP_KVM_PV_UNHALT] = { KVM_ROW("kvm-pv-unhalt", KVM_OPT_PV_UNHALT, 0, false,
        "kvm-pv-unhalt", "KVM_FEATURE_PV_UNHALT"),
        .kvm_features = 1u << KVM_FEATURE_PV_UNHALT },
    [VGROUP_KVM_PV_TLB_FLUSH] = { KVM_ROW("kvm-pv-tlb-flush", KVM_OPT_PV_TLB_FLUSH, 0, false,
        "kvm-pv-tlb-flush", "KVM_FEATURE_PV_TLB_FLUSH"),
        .kvm_features = 1u << KVM_FEATURE_PV_TLB_FLUSH },
    [VGROUP_KVM_PV_IPI] = { KVM_ROW("kvm-pv-ipi", KVM_OPT_PV_IPI, 0, false, "kvm-pv-ipi",
        "KVM_FEATURE_PV_SEND_IPI"), .kvm_features = 1u << KVM_FEATURE_PV_SEND_IPI },
    [VGROUP_KVM_POLL_CONTROL] = { KVM_ROW("kvm-poll-control", KVM_OPT_POLL_CONTROL, 0, false,
        "kvm-poll-control", "KVM_FEATURE_POLL_CONTROL"),
        .kvm_features = 1u << KVM_FEATURE_POLL_CONTROL },
    [VGROUP_KVM_PV_SCHED_YIELD] = { KVM_ROW("kvm-pv-sched-yield", KVM_OPT_PV_SCHED_YIELD, 0,
        false, "kvm-pv-sched-yield", "KVM_FEATURE_PV_SCHED_YIELD"),
        .kvm_features = 1u << KVM_FEATURE_PV_SCHED_YIELD },
    [VGROUP_KVM_MSI_EXT_DEST_ID] = { KVM_ROW("kvm-msi-ext-dest-id", KVM_OPT_MSI_EXT_DEST_ID, 0,
        false, "kvm-msi-ext-dest-id", "KVM_FEATURE_MSI_EXT_DEST_ID"),
        .kvm_features = 1u << KVM_FEATURE_MSI_EXT_DEST_ID },
};

const struct vgroup_info *vgroup_info(enum vgroup g)
{
    return (unsigned)g < VGROUP_COUNT ? &groups[g] : NULL;
}

static bool same_name(const char *a, const char *b, size_t len)
{
    if (strlen(a) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char x = a[i], y = b[i];
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

int vgroup_by_name(const char *name, size_t len)
{
    for (int g = 0; g < VGROUP_FIRST_KVM; g++)
        if (same_name(groups[g].name, name, len))
            return g;
    for (int g = VGROUP_FIRST_KVM; g < VGROUP_COUNT; g++)
        if (same_name(groups[g].name, name, len))
            return g;
    return -1;
}

uint64_t vgroups_to_mask(uint64_t enabled)
{
    uint64_t mask = 0;
    for (int g = VGROUP_FIRST_KVM; g < VGROUP_COUNT; g++)
        if (enabled & (1ull << g))
            mask |= groups[g].hvmpv;
    if (!(enabled & (1ull << VGROUP_BASE)))
        return mask;
    /* "if base: mask |= HVMPV_base_freq; if !freq: mask |= HVMPV_no_freq" */
    mask |= HVMPV_base_freq;
    if (!(enabled & (1ull << VGROUP_FREQ)))
        mask |= HVMPV_no_freq;
    for (int g = VGROUP_TIME_REF_COUNT; g < VGROUP_FIRST_KVM; g++)
        if (enabled & (1ull << g))
            mask |= groups[g].hvmpv | groups[g].implies;
    return mask;
}

uint64_t vmask_groups(uint64_t mask)
{
    uint64_t enabled = 0;
    if (!(mask & HVMPV_base_freq))
        return 0;
    enabled |= 1ull << VGROUP_BASE;
    if (!(mask & HVMPV_no_freq))
        enabled |= 1ull << VGROUP_FREQ;
    for (int g = VGROUP_TIME_REF_COUNT; g < VGROUP_FIRST_KVM; g++)
        if (mask & groups[g].hvmpv)
            enabled |= 1ull << g;
    return enabled;
}

uint64_t vhost_mask_groups(const struct vprofile *host, uint64_t mask)
{
    if (host->hypervisor != VHV_KVM)
        return vmask_groups(mask);
    uint64_t enabled = 0;
    for (int g = VGROUP_FIRST_KVM; g < VGROUP_COUNT; g++)
        if (mask & groups[g].hvmpv)
            enabled |= 1ull << g;
    return enabled;
}

uint32_t vkvm_spinlocks(uint64_t mask)
{
    return (uint32_t)(mask >> KVM_SPINLOCKS_SHIFT) ^ HYPERV_SPINLOCK_NEVER_NOTIFY;
}

/* kvm_hyperv_expand_features(): each enabled flag in enum hyperv_feat order, its
 * dependencies lowest bit first (hv_feature_check_deps), then synic's hv-vpindex. */
bool vkvm_config_ok(uint64_t mask, int *group, int *needs)
{
    uint64_t on = vhost_mask_groups(vprofile_kvm(), mask);
    for (int g = VGROUP_FIRST_KVM; g < VGROUP_COUNT; g++) {
        uint64_t missing = (on & (1ull << g)) ? groups[g].requires & ~on : 0;
        if (g == VGROUP_HV_SYNIC)
            continue; /* QEMU checks it after the loop, below */
        if (missing) {
            *group = g;
            *needs = __builtin_ctzll(missing);
            return false;
        }
    }
    if ((on & KG(SYNIC)) && !(on & KG(VPINDEX))) {
        *group = VGROUP_HV_SYNIC;
        *needs = VGROUP_HV_VPINDEX;
        return false;
    }
    return true;
}

uint64_t vgroups_flip(const struct vprofile *host, uint64_t enabled, int g, bool on)
{
    uint64_t mine = host->groups;
    if (on) {
        uint64_t add = 1ull << g;
        for (uint64_t prev = 0; prev != add;) {
            prev = add;
            for (int k = 0; k < VGROUP_COUNT; k++)
                if (add & (1ull << k))
                    add |= groups[k].requires;
        }
        /* libxl: every group needs base. */
        if (host->hypervisor == VHV_XEN)
            add |= 1ull << VGROUP_BASE;
        return (enabled | add) & mine;
    }
    uint64_t drop = 1ull << g;
    for (uint64_t prev = 0; prev != drop;) {
        prev = drop;
        for (int k = 0; k < VGROUP_COUNT; k++)
            if (groups[k].requires & drop)
                drop |= 1ull << k;
    }
    if (host->hypervisor == VHV_XEN && g == VGROUP_BASE)
        drop = mine;
    return enabled & ~drop & mine;
}

static enum verr fail(struct vspec_error *err, enum verr code, size_t col, const char *item,
                      size_t len)
{
    if (err) {
        err->code = code;
        err->col = col;
        if (len >= sizeof err->item)
            len = sizeof err->item - 1;
        memcpy(err->item, item, len);
        err->item[len] = '\0';
    }
    return code;
}

static int parse_boolean(const char *s, size_t len)
{
    static const struct { const char *text; int value; } forms[] = {
        { "0", 0 }, { "1", 1 }, { "false", 0 }, { "true", 1 },
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (strlen(forms[i].text) == len && memcmp(forms[i].text, s, len) == 0)
            return forms[i].value;
    return -1;
}

static uint64_t boolean_mask(const struct vprofile *host, int value)
{
    if (!value)
        return 0;
    return host->param == VPARAM_BOOLEAN ? 1 : vgroups_to_mask(host->default_groups);
}

/* A raw HVM_PARAM_VIRIDIAN value, "0x5": what traces and reproducers use to name a
 * value no group list gives. The host's parameter rules still judge it at create. */
static bool parse_raw(const char *s, size_t len, uint64_t *mask)
{
    if (len < 3 || len > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return false;
    uint64_t v = 0;
    for (size_t i = 2; i < len; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *mask = v;
    return true;
}

struct item {
    const char *text;
    size_t len, col;
};

#define MAX_ITEMS 64

/* The KVM row an item names: QEMU's flag ("hv-relaxed"), its old spelling
 * ("hv_relaxed"), the bare enlightenment ("relaxed"), or hv-apicv for hv-avic. */
static int kvm_row(const char *s, size_t len)
{
    char name[40];
    if (len + 3 >= sizeof name)
        return -1;
    for (size_t i = 0; i < len; i++)
        name[i] = s[i] == '_' ? '-' : s[i];
    name[len] = '\0';
    if (strcmp(name, "hv-apicv") == 0)
        return VGROUP_HV_AVIC;
    for (int pass = 0; pass < 2; pass++) {
        for (int g = VGROUP_FIRST_KVM; g < VGROUP_COUNT; g++)
            if (same_name(groups[g].name, name, strlen(name)))
                return g;
        memmove(name + 3, name, strlen(name) + 1);
        memcpy(name, "hv-", 3);
    }
    return -1;
}

static bool is_value(const char *s, size_t len, const char *text)
{
    return strlen(text) == len && memcmp(s, text, len) == 0;
}

/* QEMU's own options that change CPUID but are no enlightenment, which vsbox keeps at
 * QEMU's defaults. */
static bool kvm_unmodelled(const char *s, size_t len)
{
    static const char *const names[] = { "hv-vendor-id", "hv-version-id-build",
        "hv-version-id-major", "hv-version-id-minor", "hv-version-id-spack",
        "hv-version-id-sbranch", "hv-version-id-snumber", "hv-max-vps", "x-hv-max-vps",
        "hv-evmcs-rev" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (len >= strlen(names[i]) && memcmp(s, names[i], strlen(names[i])) == 0 &&
            (len == strlen(names[i]) || s[strlen(names[i])] == '='))
            return true;
    return false;
}

/* -cpu ...,hv-relaxed,hv-vapic=on,!hv-time,kvm=off,hv-spinlocks=0x1fff: QEMU sets the
 * properties in order, the last setting of each wins, and hv-passthrough overrides the
 * other hv-* flags and hv-spinlocks (docs/system/i386/hyperv.rst). */
static enum verr resolve_kvm(const struct item *items, size_t n, uint64_t *mask,
                             struct vspec_error *err)
{
    uint64_t on = 0;
    uint32_t spinlocks = HYPERV_SPINLOCK_NEVER_NOTIFY;
    if (err)
        err->kvm = true;
    for (size_t i = 0; i < n; i++) {
        const char *s = items[i].text;
        size_t len = items[i].len;
        bool enable = true;
        if (n == 1 && (is_value(s, len, "0") || is_value(s, len, "false") ||
                       is_value(s, len, "off") || is_value(s, len, "defaults")))
            break;
        if (n == 1 && parse_raw(s, len, mask))
            return VERR_OK;
        if (is_value(s, len, "all")) {
            for (int g = VGROUP_HV_RELAXED; g <= VGROUP_HV_TLBFLUSH_DIRECT; g++)
                on |= 1ull << g;
            continue;
        }
        const char *eq = memchr(s, '=', len);
        size_t nlen = eq ? (size_t)(eq - s) : len;
        if (kvm_unmodelled(s, len))
            return fail(err, VERR_HV_NOT_MODELLED, items[i].col, s, nlen);
        if (len > 0 && s[0] == '!') {
            enable = false;
            s++;
            len--;
            nlen--;
            eq = NULL;
        }
        if (eq && nlen == 12 && memcmp(s, "hv-spinlocks", 12) == 0) {
            uint64_t v = 0;
            const char *num = eq + 1;
            size_t vlen = len - nlen - 1;
            bool ok = vlen > 0 && vlen <= 10;
            if (ok && !parse_raw(num, vlen, &v)) {
                for (size_t k = 0; k < vlen && ok; k++)
                    ok = num[k] >= '0' && num[k] <= '9';
                for (size_t k = 0; k < vlen && ok; k++)
                    v = v * 10 + (uint64_t)(num[k] - '0');
            }
            if (!ok || v > UINT32_MAX)
                return fail(err, VERR_HV_VALUE, items[i].col, s, len);
            spinlocks = (uint32_t)v;
            continue;
        }
        if (eq) {
            size_t vlen = len - nlen - 1;
            if (is_value(eq + 1, vlen, "off") || is_value(eq + 1, vlen, "false"))
                enable = false;
            else if (!is_value(eq + 1, vlen, "on") && !is_value(eq + 1, vlen, "true"))
                return fail(err, VERR_HV_VALUE, items[i].col, s, len);
        }
        int g = kvm_row(s, nlen);
        if (g < 0)
            return fail(err, VERR_UNKNOWN_GROUP, items[i].col, s, nlen);
        /* "kvm" is on by default: its row's bit says off. */
        if (g == VGROUP_KVM_HIDDEN)
            enable = !enable;
        on = enable ? on | 1ull << g : on & ~(1ull << g);
    }
    if (on & (1ull << VGROUP_HV_PASSTHROUGH)) {
        for (int g = VGROUP_FIRST_KVM; g < VGROUP_COUNT; g++)
            if (groups[g].passthrough)
                on |= 1ull << g;
        spinlocks = KVM_HV_SPINLOCKS;
    }
    uint64_t value = vgroups_to_mask(on) |
                     (uint64_t)(spinlocks ^ HYPERV_SPINLOCK_NEVER_NOTIFY) << KVM_SPINLOCKS_SHIFT;
    int g, needs;
    if (!vkvm_config_ok(value, &g, &needs)) {
        if (err) {
            fail(err, VERR_HV_REQUIRES, 0, groups[g].name, strlen(groups[g].name));
            err->group = g;
            err->needs = needs;
        }
        return VERR_HV_REQUIRES;
    }
    *mask = value;
    return VERR_OK;
}

static enum verr resolve_items(const struct vprofile *host, const struct item *items, size_t n,
                               uint64_t *mask, struct vspec_error *err)
{
    if (host->hypervisor == VHV_KVM) {
        *mask = 0;
        return resolve_kvm(items, n, mask, err);
    }
    if (n == 1) {
        int b = parse_boolean(items[0].text, items[0].len);
        if (b >= 0) {
            *mask = boolean_mask(host, b);
            return VERR_OK;
        }
        if (parse_raw(items[0].text, items[0].len, mask))
            return VERR_OK;
    }
    if (host->param == VPARAM_BOOLEAN) {
        size_t col = n ? items[0].col : 0;
        return fail(err, VERR_NO_GROUPS, col, host->name, strlen(host->name));
    }

    bool defaults = false;
    uint64_t enable = 0, disable = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = items[i].text;
        size_t len = items[i].len;
        /* xl_parse.c compares "all" and "defaults" with strcmp(), group names with
         * libxl's strcasecmp(). */
        if (len == 3 && memcmp(s, "all", 3) == 0) {
            enable = UINT64_MAX; /* libxl_bitmap_set_any: every bit, known group or not */
            continue;
        }
        if (len == 8 && memcmp(s, "defaults", 8) == 0) {
            defaults = true;
            continue;
        }
        uint64_t *set = &enable, *reset = &disable;
        if (len > 0 && s[0] == '!') {
            set = &disable;
            reset = &enable;
            s++;
            len--;
        }
        int g = vgroup_by_name(s, len);
        if (g < 0 || !(host->groups & (1ull << g)))
            return fail(err, VERR_UNKNOWN_GROUP, items[i].col, s, len);
        *set |= 1ull << g;
        *reset &= ~(1ull << g);
    }

    uint64_t enabled = defaults ? host->default_groups : 0;
    for (int g = 0; g < 64; g++) {
        if (!(enable & (1ull << g)))
            continue;
        if (disable & (1ull << g)) {
            const char *name = groups[g].name;
            return fail(err, VERR_GROUP_CONFLICT, 0, name, strlen(name));
        }
        if (host->groups & (1ull << g))
            enabled |= 1ull << g;
    }
    enabled &= ~disable;

    if (enabled && !(enabled & (1u << VGROUP_BASE)))
        return fail(err, VERR_BASE_NOT_ENABLED, 0, "base", 4);

    *mask = vgroups_to_mask(enabled);
    return VERR_OK;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* `[ "all", '!freq', ]` as xl.cfg writes a list of strings. */
static enum verr split_list(const char *spec, struct item *items, size_t *n,
                            struct vspec_error *err)
{
    size_t i = 1, count = 0;
    bool need_comma = false;
    for (;;) {
        while (is_blank(spec[i]))
            i++;
        if (spec[i] == ']') {
            i++;
            while (is_blank(spec[i]))
                i++;
            if (spec[i] != '\0')
                return fail(err, VERR_SPEC_SYNTAX, i, spec + i, 1);
            *n = count;
            return VERR_OK;
        }
        if (need_comma) {
            if (spec[i] != ',')
                return fail(err, VERR_SPEC_SYNTAX, i, spec + i, spec[i] ? 1 : 0);
            i++;
            need_comma = false;
            continue;
        }
        char q = spec[i];
        if (q != '"' && q != '\'')
            return fail(err, VERR_SPEC_SYNTAX, i, spec + i, spec[i] ? 1 : 0);
        const char *end = strchr(spec + i + 1, q);
        if (!end)
            return fail(err, VERR_SPEC_SYNTAX, i, spec + i, 1);
        if (count == MAX_ITEMS)
            return fail(err, VERR_SPEC_SYNTAX, i, spec + i, 1);
        items[count++] = (struct item){ spec + i + 1, (size_t)(end - spec - i - 1), i + 1 };
        i = (size_t)(end - spec) + 1;
        need_comma = true;
    }
}

static enum verr split_commas(const char *spec, struct item *items, size_t *n,
                              struct vspec_error *err)
{
    size_t count = 0, i = 0;
    for (;;) {
        size_t start = i;
        while (spec[i] && spec[i] != ',')
            i++;
        size_t s = start, e = i;
        while (s < e && is_blank(spec[s]))
            s++;
        while (e > s && is_blank(spec[e - 1]))
            e--;
        if (s == e || count == MAX_ITEMS)
            return fail(err, VERR_SPEC_SYNTAX, s, spec + s, 0);
        items[count++] = (struct item){ spec + s, e - s, s };
        if (!spec[i])
            break;
        i++;
    }
    *n = count;
    return VERR_OK;
}

enum verr vspec_parse(const struct vprofile *host, const char *spec, uint64_t *mask,
                      struct vspec_error *err)
{
    struct item items[MAX_ITEMS];
    size_t n = 0, lead = 0;
    if (err)
        err->kvm = host->hypervisor == VHV_KVM;
    while (is_blank(spec[lead]))
        lead++;
    enum verr e = spec[lead] == '[' ? split_list(spec + lead, items, &n, err)
                                    : split_commas(spec + lead, items, &n, err);
    if (e != VERR_OK) {
        if (err)
            err->col += lead;
        return e;
    }
    for (size_t i = 0; i < n; i++)
        items[i].col += lead;
    return resolve_items(host, items, n, mask, err);
}

enum verr vspec_from_items(const struct vprofile *host, const char *const *texts, size_t n,
                           uint64_t *mask, struct vspec_error *err)
{
    struct item items[MAX_ITEMS];
    if (err)
        err->kvm = host->hypervisor == VHV_KVM;
    if (n > MAX_ITEMS)
        return fail(err, VERR_SPEC_SYNTAX, 0, "", 0);
    for (size_t i = 0; i < n; i++)
        items[i] = (struct item){ texts[i], strlen(texts[i]), i };
    return resolve_items(host, items, n, mask, err);
}

void vspec_strerror(const struct vspec_error *err, char *buf, size_t len)
{
    switch (err->code) {
    case VERR_UNKNOWN_GROUP:
        if (err->kvm)
            snprintf(buf, len, "unknown CPU flag '%s' (see vsbox hosts for QEMU's hv-* flags)",
                     err->item);
        else
            snprintf(buf, len, "unknown viridian enlightenment '%s'", err->item);
        break;
    case VERR_HV_REQUIRES:
        /* QEMU's kvm_hyperv_expand_features(), word for word. */
        snprintf(buf, len, "Hyper-V %s requires Hyper-V %s", groups[err->group].desc,
                 groups[err->needs].desc);
        break;
    case VERR_HV_NOT_MODELLED:
        snprintf(buf, len, "%s: vsbox models QEMU's default for it only (leave it out)",
                 err->item);
        break;
    case VERR_HV_VALUE:
        snprintf(buf, len, "'%s': hv-spinlocks takes a number up to 0xffffffff, other flags "
                 "=on or =off", err->item);
        break;
    case VERR_GROUP_CONFLICT:
        snprintf(buf, len, "%s group both enabled and disabled", err->item);
        break;
    case VERR_NO_GROUPS:
        snprintf(buf, len, "host %s takes only a boolean viridian option (0 or 1)", err->item);
        break;
    case VERR_SPEC_SYNTAX:
        if (err->kvm)
            snprintf(buf, len, "bad CPU flag list: expected QEMU's flags like "
                     "'hv-relaxed,hv-vapic,hv-time', or 0");
        else
            snprintf(buf, len,
                 "bad viridian spec: expected groups like 'all,!freq', a list like "
                 "[ \"all\", \"!freq\" ], or 0/1");
        break;
    default:
        snprintf(buf, len, "%s", verr_str(err->code));
        break;
    }
}

/* hv-passthrough first (it stands for the flags it turns on), the flags, kvm=off, then
 * hv-spinlocks: what QEMU's command line would say. */
static void format_kvm(uint64_t mask, char *buf, size_t len)
{
    uint64_t on = vhost_mask_groups(vprofile_kvm(), mask);
    bool pt = on & (1ull << VGROUP_HV_PASSTHROUGH);
    size_t n = 0;
    buf[0] = 0;
    if ((mask & ~(uint64_t)KVM_CONFIG_BITS & ((1ull << KVM_SPINLOCKS_SHIFT) - 1)) ||
        (mask & KVM_CONFIG_BITS & ~vgroups_to_mask(on))) {
        snprintf(buf, len, "0x%llx", (unsigned long long)mask);
        return;
    }
    if (pt)
        n += (size_t)snprintf(buf + n, len - n, "hv-passthrough");
    for (int g = VGROUP_FIRST_KVM; g < VGROUP_COUNT && n < len; g++) {
        if (!(on & (1ull << g)) || g == VGROUP_HV_PASSTHROUGH || (pt && groups[g].passthrough))
            continue;
        n += (size_t)snprintf(buf + n, len - n, "%s%s%s", n ? "," : "", groups[g].name,
                              g == VGROUP_KVM_HIDDEN ? "=off" : "");
    }
    uint32_t spin = vkvm_spinlocks(mask);
    if (spin != HYPERV_SPINLOCK_NEVER_NOTIFY && !(pt && spin == KVM_HV_SPINLOCKS) && n < len)
        n += (size_t)snprintf(buf + n, len - n, "%shv-spinlocks=0x%x", n ? "," : "", spin);
    if (!n)
        snprintf(buf, len, "0");
}

void vspec_format(const struct vprofile *host, uint64_t mask, char *buf, size_t len)
{
    if (host->hypervisor == VHV_KVM) {
        format_kvm(mask, buf, len);
        return;
    }
    uint64_t enabled = vmask_groups(mask);
    if (mask == 0 || host->param == VPARAM_BOOLEAN || (enabled & ~host->groups) ||
        vgroups_to_mask(enabled) != mask) {
        snprintf(buf, len, mask <= 1 ? "%llu" : "0x%llx", (unsigned long long)mask);
        return;
    }
    size_t n = 0;
    buf[0] = 0;
    for (int g = 0; g < VGROUP_FIRST_KVM && n < len; g++)
        if (enabled & (1ull << g))
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", groups[g].name);
}
