/* Divergences by cause. A cause is what a user could change or accept: one CPUID bit,
 * one MSR answered or refused, one hypercall's status, a value that follows the clock.
 * Its sentence is written once, when first met, from the model (which group would give
 * the trace's answer) and the TLFS names below. */
#include "traces/diverge.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "viridian/explain.h"
#include "viridian/hvmpv.h"
#include "viridian/msr.h"
#include "viridian/spec.h"

#define MAX_CAUSES 64
#define SHOW_LINES 4

struct cause {
    uint32_t key[4];        /* what the cause is about; see add() */
    char text[320];
    unsigned long n;
    unsigned lines[SHOW_LINES];
};

struct diverge {
    struct cause causes[MAX_CAUSES];
    size_t ncauses;
    unsigned long total, unplaced;
};

struct diverge *diverge_new(void)
{
    return calloc(1, sizeof(struct diverge));
}

void diverge_free(struct diverge *d)
{
    free(d);
}

struct name {
    uint32_t id;
    const char *name;
};

static const char *lookup(const struct name *t, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].id == id)
            return t[i].name;
    return NULL;
}

#define LOOKUP(table, id) lookup(table, sizeof table / sizeof table[0], id)

/* Hyper-V TLFS 6.0, "Partition Privilege Flags" and "Feature Identification" (CPUID
 * 0x40000003), "Implementation Recommendations" (0x40000004), "Hardware Features"
 * (0x40000006): bit << 8 | leaf index << 2 | register. */
#define BIT(leaf, reg, bit) ((uint32_t)(bit) << 8 | (leaf) << 2 | (reg))
static const struct name cpuid_bits[] = {
    { BIT(3, 0, 0), "AccessVpRunTimeReg" }, { BIT(3, 0, 1), "AccessPartitionReferenceCounter" },
    { BIT(3, 0, 2), "AccessSynicRegs" }, { BIT(3, 0, 3), "AccessSyntheticTimerRegs" },
    { BIT(3, 0, 4), "AccessIntrCtrlRegs" }, { BIT(3, 0, 5), "AccessHypercallMsrs" },
    { BIT(3, 0, 6), "AccessVpIndex" }, { BIT(3, 0, 7), "AccessResetReg" },
    { BIT(3, 0, 8), "AccessStatsReg" }, { BIT(3, 0, 9), "AccessPartitionReferenceTsc" },
    { BIT(3, 0, 10), "AccessGuestIdleReg" }, { BIT(3, 0, 11), "AccessFrequencyRegs" },
    { BIT(3, 0, 12), "AccessDebugRegs" }, { BIT(3, 0, 13), "AccessReenlightenmentControls" },
    { BIT(3, 1, 0), "CreatePartitions" }, { BIT(3, 1, 1), "AccessPartitionId" },
    { BIT(3, 1, 2), "AccessMemoryPool" }, { BIT(3, 1, 4), "PostMessages" },
    { BIT(3, 1, 5), "SignalEvents" }, { BIT(3, 1, 6), "CreatePort" },
    { BIT(3, 1, 7), "ConnectPort" }, { BIT(3, 1, 8), "AccessStats" },
    { BIT(3, 1, 11), "Debugging" }, { BIT(3, 1, 12), "CpuManagement" },
    { BIT(3, 3, 0), "MwaitAvailable" }, { BIT(3, 3, 1), "GuestDebuggingAvailable" },
    { BIT(3, 3, 2), "PerformanceMonitorsAvailable" },
    { BIT(3, 3, 3), "CpuDynamicPartitioningAvailable" },
    { BIT(3, 3, 4), "XmmRegistersForFastHypercallAvailable" },
    { BIT(3, 3, 5), "GuestIdleAvailable" }, { BIT(3, 3, 8), "FrequencyRegsAvailable" },
    { BIT(3, 3, 10), "GuestCrashRegsAvailable" }, { BIT(3, 3, 11), "DebugRegsAvailable" },
    { BIT(3, 3, 14), "ExtendedGvaRangesForFlushVirtualAddressListAvailable" },
    { BIT(3, 3, 15), "FastHypercallOutputAvailable" },
    { BIT(3, 3, 19), "DirectSyntheticTimers" },
    { BIT(4, 0, 0), "UseHypercallForAddressSpaceSwitch" },
    { BIT(4, 0, 1), "UseHypercallForLocalFlush" },
    { BIT(4, 0, 2), "UseHypercallForRemoteFlush" }, { BIT(4, 0, 3), "UseMsrForApicAccess" },
    { BIT(4, 0, 4), "UseMsrForSysReset" }, { BIT(4, 0, 5), "UseRelaxedTiming" },
    { BIT(4, 0, 8), "UseX2ApicMsrs" }, { BIT(4, 0, 9), "DeprecateAutoEoi" },
    { BIT(4, 0, 10), "UseSyntheticClusterIpi" }, { BIT(4, 0, 11), "UseExProcessorMasks" },
    { BIT(4, 0, 12), "Nested" }, { BIT(4, 0, 14), "UseVmcsEnlightenments" },
    { BIT(4, 0, 18), "NoNonArchitecturalCoreSharing" },
    { BIT(6, 0, 0), "ApicOverlayAssist" }, { BIT(6, 0, 1), "MsrBitmaps" },
    { BIT(6, 0, 2), "ArchitecturalPerformanceCounters" },
    { BIT(6, 0, 3), "SecondLevelAddressTranslation" }, { BIT(6, 0, 4), "DmaRemapping" },
    { BIT(6, 0, 5), "InterruptRemapping" },
};

/* Synthetic MSRs the model's table may not have yet (TLFS names). */
static const struct name msr_names[] = {
    { 0x40000003, "HV_X64_MSR_RESET" }, { 0x40000010, "HV_X64_MSR_VP_RUNTIME" },
    { 0x40000021, "HV_X64_MSR_REFERENCE_TSC" }, { 0x40000080, "HV_X64_MSR_SCONTROL" },
    { 0x40000081, "HV_X64_MSR_SVERSION" }, { 0x40000082, "HV_X64_MSR_SIEFP" },
    { 0x40000083, "HV_X64_MSR_SIMP" }, { 0x40000084, "HV_X64_MSR_EOM" },
    { 0x400000b0, "HV_X64_MSR_STIMER0_CONFIG" }, { 0x400000b1, "HV_X64_MSR_STIMER0_COUNT" },
    { 0x400000b2, "HV_X64_MSR_STIMER1_CONFIG" }, { 0x400000b3, "HV_X64_MSR_STIMER1_COUNT" },
    { 0x400000b4, "HV_X64_MSR_STIMER2_CONFIG" }, { 0x400000b5, "HV_X64_MSR_STIMER2_COUNT" },
    { 0x400000b6, "HV_X64_MSR_STIMER3_CONFIG" }, { 0x400000b7, "HV_X64_MSR_STIMER3_COUNT" },
    { 0x400000f0, "HV_X64_MSR_GUEST_IDLE" }, { 0x40000100, "HV_X64_MSR_CRASH_P0" },
    { 0x40000101, "HV_X64_MSR_CRASH_P1" }, { 0x40000102, "HV_X64_MSR_CRASH_P2" },
    { 0x40000103, "HV_X64_MSR_CRASH_P3" }, { 0x40000104, "HV_X64_MSR_CRASH_P4" },
    { 0x40000105, "HV_X64_MSR_CRASH_CTL" }, { 0x40000106, "HV_X64_MSR_REENLIGHTENMENT_CONTROL" },
    { 0x40000107, "HV_X64_MSR_TSC_EMULATION_CONTROL" },
    { 0x40000108, "HV_X64_MSR_TSC_EMULATION_STATUS" },
};

/* KVM's own features leaf (arch/x86/include/uapi/asm/kvm_para.h), EAX. */
static const struct name kvm_features[] = {
    { 0, "KVM_FEATURE_CLOCKSOURCE" }, { 1, "KVM_FEATURE_NOP_IO_DELAY" },
    { 2, "KVM_FEATURE_MMU_OP" }, { 3, "KVM_FEATURE_CLOCKSOURCE2" },
    { 4, "KVM_FEATURE_ASYNC_PF" }, { 5, "KVM_FEATURE_STEAL_TIME" },
    { 6, "KVM_FEATURE_PV_EOI" }, { 7, "KVM_FEATURE_PV_UNHALT" },
    { 9, "KVM_FEATURE_PV_TLB_FLUSH" }, { 10, "KVM_FEATURE_ASYNC_PF_VMEXIT" },
    { 11, "KVM_FEATURE_PV_SEND_IPI" }, { 12, "KVM_FEATURE_POLL_CONTROL" },
    { 13, "KVM_FEATURE_PV_SCHED_YIELD" }, { 14, "KVM_FEATURE_ASYNC_PF_INT" },
    { 15, "KVM_FEATURE_MSI_EXT_DEST_ID" }, { 16, "KVM_FEATURE_HC_MAP_GPA_RANGE" },
    { 17, "KVM_FEATURE_MIGRATION_CONTROL" }, { 24, "KVM_FEATURE_CLOCKSOURCE_STABLE_BIT" },
};

static const struct name hypercalls[] = {
    { 0x0002, "HvCallFlushVirtualAddressSpace" }, { 0x0003, "HvCallFlushVirtualAddressList" },
    { 0x0008, "HvCallNotifyLongSpinWait" }, { 0x000b, "HvCallSendSyntheticClusterIpi" },
    { 0x0013, "HvCallFlushVirtualAddressSpaceEx" },
    { 0x0014, "HvCallFlushVirtualAddressListEx" },
    { 0x0015, "HvCallSendSyntheticClusterIpiEx" }, { 0x005c, "HvCallPostMessage" },
    { 0x005d, "HvCallSignalEvent" }, { 0x0099, "HvCallRetargetDeviceInterrupt" },
};

static const struct name statuses[] = {
    { 0x0000, "HV_STATUS_SUCCESS" }, { 0x0002, "HV_STATUS_INVALID_HYPERCALL_CODE" },
    { 0x0003, "HV_STATUS_INVALID_HYPERCALL_INPUT" }, { 0x0004, "HV_STATUS_INVALID_ALIGNMENT" },
    { 0x0005, "HV_STATUS_INVALID_PARAMETER" }, { 0x0006, "HV_STATUS_ACCESS_DENIED" },
    { 0x0008, "HV_STATUS_OPERATION_DENIED" }, { 0x000b, "HV_STATUS_INSUFFICIENT_MEMORY" },
    { 0x0011, "HV_STATUS_INVALID_PORT_ID" },
    { 0x0012, "HV_STATUS_INVALID_CONNECTION_ID" }, { 0x0013, "HV_STATUS_INSUFFICIENT_BUFFERS" },
};

static const char *const regs[4] = { "EAX", "EBX", "ECX", "EDX" };

static const char *msr_name(uint32_t msr, char buf[48])
{
    const struct vmsr_info *row = vmsr_find(msr, NULL);
    if (row) {
        vmsr_name(row, msr, buf, 48); /* a range row names each MSR of it ("SINT2") */
        return buf;
    }
    const char *name = LOOKUP(msr_names, msr);
    if (name)
        return name;
    snprintf(buf, 48, "MSR 0x%" PRIx32, msr);
    return buf;
}

static void say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *buf, size_t len, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, len - n, fmt, ap);
    va_end(ap);
}

/* KVM: " (enable `hv-synic`, with the `hv-vpindex` it needs)": QEMU refuses a flag
 * without its dependencies, so the fix names them too. */
static void kvm_enable(char *buf, size_t len, const struct vmodel *m, int g)
{
    const struct vprofile *h = vmodel_host(m);
    uint64_t on = vhost_mask_groups(h, vmodel_param(m));
    uint64_t more = vgroups_flip(h, on, g, true) & ~on & ~(1ull << g);
    say(buf, len, " (enable `%s`", vgroup_info(g)->name);
    for (int k = 0, n = 0; k < VGROUP_COUNT; k++)
        if (more >> k & 1)
            say(buf, len, "%s`%s`", n++ ? " and " : ", with the ", vgroup_info(k)->name);
    say(buf, len, "%s)", more ? " it needs" : "");
}

/* "(enable `synic`)", "(disable `freq`)", "(set viridian=1)", or why none helps. */
static void advice(char *buf, size_t len, const struct vmodel *m, const struct vevent *ev,
                   const struct vres *want, int reg, unsigned bit)
{
    struct vexplain x;
    const struct vprofile *h = vmodel_host(m);
    if (!vexplain_event(m, ev, want, reg, bit, &x))
        say(buf, len, " (no %s of %s changes it)",
            h->hypervisor == VHV_KVM ? "CPU flag" : "viridian group", h->name);
    else if (x.boolean)
        say(buf, len, " (viridian=%d: %s takes only 0 or 1)", x.enable ? 1 : 0, h->name);
    else if (!x.enable || h->hypervisor != VHV_KVM)
        say(buf, len, " (%s `%s`)", x.enable ? "enable" : "disable", vgroup_info(x.group)->name);
    else
        kvm_enable(buf, len, m, x.group);
}

/* " (\"Hv#1\")": a register as the vendor and interface leaves spell it, when it is text. */
static void ascii4(char out[12], uint64_t v)
{
    char s[5];
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)(v >> (8 * i));
        if (c < 0x20 || c >= 0x7f) {
            out[0] = '\0';
            return;
        }
        s[i] = (char)c;
    }
    s[4] = '\0';
    snprintf(out, 12, " (\"%s\")", s);
}

/* KVM's own features leaf on the model's host, or 0 when it has none. */
static uint32_t kvm_features_leaf(const struct vmodel *m)
{
    if (vmodel_host(m)->hypervisor != VHV_KVM)
        return 0;
    return vmodel_viridian(m) ? 0x40000101u : 0x40000001u;
}

/* The leaves whose registers are sets of flags: one cause per bit. */
static bool flag_leaf(const struct vmodel *m, uint32_t leaf, int reg)
{
    if (kvm_features_leaf(m) && leaf == kvm_features_leaf(m))
        return reg == 0;
    if (kvm_features_leaf(m) && leaf == 0x40000001u)
        return false; /* KVM's features leaf when there is no Hyper-V */
    return (leaf == 0x40000003 && reg != 2) || (leaf == 0x40000004 && reg == 0) ||
           (leaf == 0x40000006 && reg == 0);
}

/* The cause with this key, a new one, or NULL (counted as unplaced) when the report
 * holds no more. */
static struct cause *find(struct diverge *d, const uint32_t key[4])
{
    for (size_t i = 0; i < d->ncauses; i++)
        if (memcmp(d->causes[i].key, key, sizeof d->causes[i].key) == 0)
            return &d->causes[i];
    if (d->ncauses == MAX_CAUSES) {
        d->unplaced++;
        return NULL;
    }
    struct cause *c = &d->causes[d->ncauses++];
    memcpy(c->key, key, sizeof c->key);
    c->text[0] = '\0';
    return c;
}

static void count(struct cause *c, unsigned line)
{
    if (c->n < SHOW_LINES)
        c->lines[c->n] = line;
    c->n++;
}

enum kind { K_CPUID_BIT = 1, K_CPUID_REG, K_MSR_GP_HERE, K_MSR_GP_THERE, K_MSR_VALUE, K_HYPERCALL,
            K_VIRIDIAN_OFF, K_OTHER };

static void cpuid_cause(struct diverge *d, const struct vmodel *m, const struct trace_item *it,
                        const struct vres *got)
{
    uint32_t leaf = (uint32_t)it->ev.a[0];
    char t[320];
    for (int r = 0; r < 4; r++) {
        uint64_t want = it->expect.v[r], have = got->v[r];
        if (want == have)
            continue;
        if (!flag_leaf(m, leaf, r)) {
            uint32_t key[4] = { K_CPUID_REG, leaf, (uint32_t)r, 0 };
            struct cause *c = find(d, key);
            if (!c)
                continue;
            if (!c->n) {
                char a[12], b[12];
                ascii4(a, want);
                ascii4(b, have);
                snprintf(c->text, sizeof c->text,
                         "CPUID 0x%" PRIx32 " %s: the capture answered 0x%" PRIx64 "%s, "
                         "this config 0x%" PRIx64 "%s", leaf, regs[r], want, a, have, b);
                if (leaf == 0x40000002)
                    say(c->text, sizeof c->text, ": the hypervisor's version, expected to differ");
            }
            count(c, it->line);
            continue;
        }
        for (unsigned bit = 0; bit < 32; bit++) {
            bool w = (want >> bit) & 1, h = (have >> bit) & 1;
            if (w == h)
                continue;
            uint32_t key[4] = { K_CPUID_BIT, leaf, (uint32_t)r, bit << 1 | w };
            struct cause *c = find(d, key);
            if (!c)
                continue;
            if (!c->n) {
                const char *name = leaf == kvm_features_leaf(m)
                                       ? LOOKUP(kvm_features, bit)
                                       : LOOKUP(cpuid_bits, BIT(leaf & 0xf, (uint32_t)r, bit));
                t[0] = '\0';
                say(t, sizeof t, "CPUID 0x%" PRIx32 " %s bit %u%s%s%s: ", leaf, regs[r], bit,
                    name ? " (" : "", name ? name : "", name ? ")" : "");
                say(t, sizeof t, w ? "the capture advertised it, this config does not"
                                   : "this config advertises it, the capture did not");
                advice(t, sizeof t, m, &it->ev, &it->expect, r, bit);
                snprintf(c->text, sizeof c->text, "%s", t);
            }
            count(c, it->line);
        }
    }
}

static void msr_cause(struct diverge *d, const struct vmodel *m, const struct trace_item *it,
                      const struct vres *got)
{
    uint32_t msr = (uint32_t)it->ev.a[0];
    bool write = it->ev.kind == VEV_WRMSR;
    enum kind k = got->kind == VRES_GP ? K_MSR_GP_HERE : it->expect.kind == VRES_GP
                                                           ? K_MSR_GP_THERE : K_MSR_VALUE;
    uint32_t key[4] = { k, msr, write, 0 };
    struct cause *c = find(d, key);
    if (!c)
        return;
    if (!c->n) {
        char nb[48], v[64];
        const char *name = msr_name(msr, nb);
        const char *op = write ? "write" : "read";
        trace_format_result(v, sizeof v, write ? &(struct vres){ VRES_VALUE, { it->ev.a[1] } }
                                               : &it->expect);
        if (k == K_MSR_GP_HERE) {
            if (write)
                snprintf(c->text, sizeof c->text, "%s (0x%" PRIx32 ") write: the capture's "
                         "hypervisor took it (%s first), we answer #GP", name, msr, v);
            else
                snprintf(c->text, sizeof c->text, "%s (0x%" PRIx32 ") read: captured %s, we "
                         "answer #GP", name, msr, v);
            const struct vmsr_info *row = vmsr_find(msr, NULL);
            if ((row && vmsr_in_release(row, vmodel_host(m))) ||
                (msr & 0xf0000000u) != 0x40000000u)
                advice(c->text, sizeof c->text, m, &it->ev, &it->expect, -1, 0);
            else
                say(c->text, sizeof c->text, " (vsbox's %s has no such MSR)",
                    vmodel_host(m)->name);
        } else if (k == K_MSR_GP_THERE) {
            trace_format_result(v, sizeof v, got);
            snprintf(c->text, sizeof c->text, "%s (0x%" PRIx32 ") %s: the capture's hypervisor "
                     "refused it (#GP), this config answers %s", name, msr, op, v);
            advice(c->text, sizeof c->text, m, &it->ev, &it->expect, -1, 0);
        } else {
            char h[64];
            trace_format_result(h, sizeof h, got);
            snprintf(c->text, sizeof c->text, "%s (0x%" PRIx32 ") %s: captured %s, this config "
                     "%s", name, msr, op, v, h);
            if (msr == HV_X64_MSR_TIME_REF_COUNT || msr == MSR_IA32_TSC)
                say(c->text, sizeof c->text, ": it follows the clock, and a replay's clock is "
                    "not the capture's");
            else if (msr == HV_X64_MSR_VP_INDEX)
                say(c->text, sizeof c->text, ": the vCPU's number");
            else if (msr == HV_X64_MSR_TSC_FREQUENCY || msr == HV_X64_MSR_APIC_FREQUENCY)
                say(c->text, sizeof c->text, " Hz");
        }
    }
    count(c, it->line);
}

static void hypercall_cause(struct diverge *d, const struct trace_item *it, const struct vres *got,
                            const struct vmodel *m)
{
    uint16_t code = (uint16_t)it->ev.a[0];
    uint32_t want = it->expect.kind == VRES_VALUE ? (uint16_t)it->expect.v[0] : 0xffffffffu;
    uint32_t have = got->kind == VRES_VALUE ? (uint16_t)got->v[0] : 0xffffffffu;
    uint32_t key[4] = { K_HYPERCALL, code, want, have };
    struct cause *c = find(d, key);
    if (!c)
        return;
    if (!c->n) {
        const char *name = LOOKUP(hypercalls, code);
        const char *wn = want == 0xffffffffu ? "#UD" : LOOKUP(statuses, want);
        const char *hn = have == 0xffffffffu ? "#UD" : LOOKUP(statuses, have);
        snprintf(c->text, sizeof c->text, "hypercall 0x%04x%s%s%s: the capture's status %s, "
                 "this config's %s", code, name ? " (" : "", name ? name : "", name ? ")" : "",
                 wn ? wn : "?", hn ? hn : "?");
        advice(c->text, sizeof c->text, m, &it->ev, &it->expect, -1, 0);
    }
    count(c, it->line);
}

/* Whether a captured CPUID answer is Hyper-V's: "Microsoft Hv" (or another vendor with
 * Hyper-V's interface behind it) at 0x40000000, "Hv#1" at 0x40000001, anything at all
 * at 0x40000002-0x400000ff. */
static bool hyperv_answer(uint32_t leaf, const struct vres *want)
{
    if (want->kind != VRES_REGS || leaf - 0x40000000u >= 0x100)
        return false;
    if (leaf == 0x40000000u)
        return want->v[1] != 0x4b4d564b && want->v[0] >= 0x40000005u; /* not "KVMK" */
    if (leaf == 0x40000001u)
        return want->v[0] == 0x31237648u;
    return want->v[0] || want->v[1] || want->v[2] || want->v[3];
}

void diverge_add(struct diverge *d, const struct vmodel *m, const struct trace_item *it,
                 const struct vres *got)
{
    d->total++;
    const struct vevent *ev = &it->ev;
    bool hv = (ev->kind == VEV_CPUID && vmodel_cpuid_owns((uint32_t)ev->a[0])) ||
              ((ev->kind == VEV_RDMSR || ev->kind == VEV_WRMSR) &&
               ((uint32_t)ev->a[0] & 0xf0000000u) == 0x40000000u) ||
              ev->kind == VEV_HYPERCALL;
    bool kvm = vmodel_host(m)->hypervisor == VHV_KVM;
    /* On KVM without Hyper-V the leaves at 0x40000000 are KVM's own: only a captured
     * answer that is Hyper-V's says the interface is missing. */
    if (kvm && ev->kind == VEV_CPUID && !vmodel_viridian(m))
        hv = hyperv_answer((uint32_t)ev->a[0], &it->expect);
    if (hv && !vmodel_viridian(m)) {
        /* One cause covers them all: the Hyper-V interface is not there. */
        uint32_t key[4] = { K_VIRIDIAN_OFF, 0, 0, 0 };
        struct cause *c = find(d, key);
        if (!c)
            return;
        if (!c->n)
            snprintf(c->text, sizeof c->text, kvm ? "no hv-* flag in this config: no Hyper-V "
                     "leaves, MSRs or hypercalls (try --hv hv-relaxed,hv-vapic,hv-time or "
                     "replay --suggest)" : "viridian is off in this config: no Hyper-V "
                     "leaves, MSRs or hypercalls (try --viridian all)");
        count(c, it->line);
        return;
    }
    if (ev->kind == VEV_CPUID && got->kind == VRES_REGS && it->expect.kind == VRES_REGS) {
        cpuid_cause(d, m, it, got);
        return;
    }
    if (ev->kind == VEV_RDMSR || ev->kind == VEV_WRMSR) {
        msr_cause(d, m, it, got);
        return;
    }
    if (ev->kind == VEV_HYPERCALL) {
        hypercall_cause(d, it, got, m);
        return;
    }
    uint32_t key[4] = { K_OTHER, ev->kind, 0, 0 };
    struct cause *c = find(d, key);
    if (!c)
        return;
    if (!c->n) {
        char e[128], w[128], h[128];
        trace_format_event(e, sizeof e, ev);
        trace_format_result(w, sizeof w, &it->expect);
        trace_format_result(h, sizeof h, got);
        say(c->text, sizeof c->text, "%s: the trace says %s, this config %s", e, w, h);
    }
    count(c, it->line);
}

static int by_count(const void *a, const void *b)
{
    const struct cause *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return x->lines[0] < y->lines[0] ? -1 : x->lines[0] > y->lines[0];
}

void diverge_report(const struct diverge *d, FILE *out, const char *name)
{
    if (!d->total)
        return;
    struct cause sorted[MAX_CAUSES];
    memcpy(sorted, d->causes, d->ncauses * sizeof sorted[0]);
    qsort(sorted, d->ncauses, sizeof sorted[0], by_count);
    fprintf(out, "%s: %lu divergence%s, by cause:\n", name, d->total, d->total == 1 ? "" : "s");
    for (size_t i = 0; i < d->ncauses; i++) {
        const struct cause *c = &sorted[i];
        fprintf(out, "  %6lu  %s; line%s", c->n, c->text, c->n > 1 ? "s" : "");
        for (unsigned k = 0; k < c->n && k < SHOW_LINES; k++)
            fprintf(out, "%s %u", k ? "," : "", c->lines[k]);
        if (c->n > SHOW_LINES)
            fprintf(out, " and %lu more", c->n - SHOW_LINES);
        fputc('\n', out);
    }
    if (d->unplaced)
        fprintf(out, "  %6lu  of more kinds than this report holds\n", d->unplaced);
}

const char *diverge_cpuid_bit_name(uint32_t leaf, unsigned reg, unsigned bit)
{
    if (leaf - 0x40000000u > 6 || reg > 3 || bit > 31)
        return NULL;
    return LOOKUP(cpuid_bits, BIT(leaf - 0x40000000u, reg, bit));
}

const char *diverge_hypercall_name(uint32_t code)
{
    return LOOKUP(hypercalls, code);
}

const char *diverge_status_name(uint32_t status)
{
    return LOOKUP(statuses, status);
}
