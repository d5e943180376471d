#include "cli/narrate.h"

#include <capstone/capstone.h>
#include <stdarg.h>
#include <string.h>
#include "cli/term.h"
#include "traces/diverge.h"
#include "traces/trace.h"
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/msr.h"
#include "viridian/spec.h"

void narrate_open(struct narrator *n, FILE *out)
{
    *n = (struct narrator){ .out = out, .color = term_color(out) };
}

/* Capstone is opened at the first instruction, so a narrator costs nothing until used. */
static bool capstone(struct narrator *n)
{
    csh h;
    if (!n->cs_ok && !n->cs_failed) {
        if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) == CS_ERR_OK) {
            n->cs = (uintptr_t)h;
            n->cs_ok = true;
        } else {
            n->cs_failed = true;
        }
    }
    return n->cs_ok;
}

void narrate_close(struct narrator *n)
{
    if (n->cs_ok) {
        csh h = (csh)n->cs;
        cs_close(&h);
    }
    n->cs_ok = false;
}

void narrate_heading(struct narrator *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(n->out, "%s== ", term_sgr(n->color, TERM_BOLD));
    vfprintf(n->out, fmt, ap);
    fprintf(n->out, "%s\n", term_sgr(n->color, TERM_PLAIN));
    va_end(ap);
}

void narrate_text(struct narrator *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(n->out, fmt, ap);
    fputc('\n', n->out);
    va_end(ap);
}

void narrate_blank(struct narrator *n)
{
    fputc('\n', n->out);
}

/* A labelled line: "  guest  ...". */
static void line(struct narrator *n, const char *label, enum term_style style, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

static void line(struct narrator *n, const char *label, enum term_style style, const char *fmt,
                 ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* Wrapped at a blank to keep lines under 100 columns; continuations line up. */
    const size_t width = 90;
    const char *p = text;
    bool first = true;
    do {
        size_t len = strlen(p);
        if (len > width) {
            size_t cut = width;
            while (cut > width / 2 && p[cut] != ' ')
                cut--;
            len = p[cut] == ' ' ? cut : width;
        }
        fprintf(n->out, "  %s%-6s%s %s%.*s%s\n", term_sgr(n->color, TERM_DIM), first ? label : "",
                term_sgr(n->color, TERM_PLAIN), term_sgr(n->color, style), (int)len, p,
                style == TERM_PLAIN ? "" : term_sgr(n->color, TERM_PLAIN));
        p += len;
        while (*p == ' ')
            p++;
        first = false;
    } while (*p);
}

/* mov r32, imm32 (B8+r), with r8d as 41 B8. */
static size_t mov32(uint8_t *b, int reg, uint32_t v)
{
    size_t k = 0;
    if (reg >= 8)
        b[k++] = 0x41;
    b[k++] = (uint8_t)(0xb8 + (reg & 7));
    memcpy(b + k, &v, 4);
    return k + 4;
}

enum { EAX = 0, ECX = 1, EDX = 2, R8 = 8 };

/* The instructions a guest runs for an event: its registers loaded, then the trapping
 * instruction. 0 for events no guest instruction makes. */
static size_t encode(const struct vevent *ev, uint8_t *b)
{
    size_t k = 0;
    switch (ev->kind) {
    case VEV_CPUID:
        k += mov32(b + k, EAX, (uint32_t)ev->a[0]);
        if (ev->a[1])
            k += mov32(b + k, ECX, (uint32_t)ev->a[1]);
        b[k++] = 0x0f;
        b[k++] = 0xa2;
        return k;
    case VEV_RDMSR:
        k += mov32(b + k, ECX, (uint32_t)ev->a[0]);
        b[k++] = 0x0f;
        b[k++] = 0x32;
        return k;
    case VEV_WRMSR:
        k += mov32(b + k, ECX, (uint32_t)ev->a[0]);
        k += mov32(b + k, EAX, (uint32_t)ev->a[1]);
        k += mov32(b + k, EDX, (uint32_t)(ev->a[1] >> 32));
        b[k++] = 0x0f;
        b[k++] = 0x30;
        return k;
    case VEV_RDTSC:
        b[k++] = 0x0f;
        b[k++] = 0x31;
        return k;
    case VEV_HYPERCALL:
        /* Registers wider than 32 bits are left to the text: a demo's calls fit. */
        k += mov32(b + k, ECX, (uint32_t)ev->a[0]);
        k += mov32(b + k, EDX, (uint32_t)ev->a[1]);
        k += mov32(b + k, R8, (uint32_t)ev->a[2]);
        b[k++] = 0x0f;
        b[k++] = 0x01;
        b[k++] = 0xc1;
        return k;
    default:
        return 0;
    }
}

static void disasm(struct narrator *n, const uint8_t *b, size_t len, uint64_t addr, size_t max,
                   char *text, size_t tlen, char *hex, size_t hlen)
{
    text[0] = hex[0] = 0;
    size_t t = 0, h = 0, used = 0;
    for (size_t i = 0; i < len && h + 4 < hlen; i++)
        h += (size_t)snprintf(hex + h, hlen - h, "%s%02x", i ? " " : "", b[i]);
    if (!capstone(n))
        return;
    cs_insn *insn;
    size_t count = cs_disasm((csh)n->cs, b, len, addr, max, &insn);
    for (size_t i = 0; i < count && t + 2 < tlen; i++) {
        t += (size_t)snprintf(text + t, tlen - t, "%s%s%s%s", i ? "; " : "", insn[i].mnemonic,
                              insn[i].op_str[0] ? " " : "", insn[i].op_str);
        used += insn[i].size;
    }
    if (count)
        cs_free(insn, count);
    if (max == 1 && used && used < len) { /* only the one instruction's bytes */
        h = 0;
        for (size_t i = 0; i < used && h + 4 < hlen; i++)
            h += (size_t)snprintf(hex + h, hlen - h, "%s%02x", i ? " " : "", b[i]);
    }
}

void narrate_insn(struct narrator *n, const struct vevent *ev, char *text, size_t tlen, char *hex,
                  size_t hlen)
{
    uint8_t b[64];
    size_t len = encode(ev, b);
    disasm(n, b, len, 0, 0, text, tlen, hex, hlen);
}

void narrate_code(struct narrator *n, const uint8_t *code, size_t len, uint64_t addr)
{
    size_t off = 0;
    while (off < len) {
        char text[128], hex[64];
        disasm(n, code + off, len - off, addr + off, 1, text, sizeof text, hex, sizeof hex);
        if (!text[0])
            break;
        size_t used = (strlen(hex) + 1) / 3;
        fprintf(n->out, "  0x%llx  %-24s %s\n", (unsigned long long)(addr + off), hex, text);
        off += used;
    }
}

static const char *hvmpv_name(int g)
{
    static const char *const names[VGROUP_COUNT] = {
        [VGROUP_BASE] = "HVMPV_base_freq", [VGROUP_FREQ] = "HVMPV_no_freq",
        [VGROUP_TIME_REF_COUNT] = "HVMPV_time_ref_count",
        [VGROUP_REFERENCE_TSC] = "HVMPV_reference_tsc",
        [VGROUP_HCALL_REMOTE_TLB_FLUSH] = "HVMPV_hcall_remote_tlb_flush",
        [VGROUP_APIC_ASSIST] = "HVMPV_apic_assist", [VGROUP_CRASH_CTL] = "HVMPV_crash_ctl",
        [VGROUP_SYNIC] = "HVMPV_synic", [VGROUP_STIMER] = "HVMPV_stimer",
        [VGROUP_HCALL_IPI] = "HVMPV_hcall_ipi",
        [VGROUP_EX_PROCESSOR_MASKS] = "HVMPV_ex_processor_masks",
        [VGROUP_NO_VP_LIMIT] = "HVMPV_no_vp_limit", [VGROUP_CPU_HOTPLUG] = "HVMPV_cpu_hotplug",
    };
    return (unsigned)g < VGROUP_COUNT ? names[g] : "";
}

static bool group_on(const struct vmodel *m, int g)
{
    return (vhost_mask_groups(vmodel_host(m), vmodel_features(m)) >> g) & 1;
}

/* "the freq group (HVMPV_no_freq, bit 1, is set: off)" */
static void group_phrase(const struct vmodel *m, int g, char *buf, size_t len)
{
    const struct vgroup_info *gi = vgroup_info(g);
    bool on = group_on(m, g);
    if (vmodel_host(m)->param == VPARAM_BOOLEAN) {
        snprintf(buf, len, "the %s group (%s's boolean viridian=%llu %s it: %s)", gi->name,
                 vmodel_host(m)->name, (unsigned long long)vmodel_param(m),
                 on ? "includes" : "lacks", on ? "on" : "off");
        return;
    }
    if (g == VGROUP_FREQ)
        snprintf(buf, len, "the freq group (%s, bit %d, %s: %s)", hvmpv_name(g), _HVMPV_no_freq,
                 on ? "is clear" : "is set", on ? "on" : "off");
    else
        snprintf(buf, len, "the %s group (%s, bit %d: %s)", gi->name, hvmpv_name(g),
                 __builtin_ctz(gi->hvmpv), on ? "on" : "off");
}

static void msr_name(uint32_t msr, char *buf, size_t len)
{
    const struct vmsr_info *row = vmsr_find(msr, NULL);
    if (row)
        vmsr_name(row, msr, buf, len);
    else
        snprintf(buf, len, "MSR 0x%x", msr);
}

static void model_msr(struct narrator *n, const struct vmodel *m, const struct vevent *ev,
                      const struct vwhy *why)
{
    char name[48], grp[160];
    uint32_t msr = (uint32_t)ev->a[0];
    msr_name(msr, name, sizeof name);
    const char *text = vrule_info(why->rule)->text;
    const struct vmsr_info *row = why->msr;
    switch (why->rule) {
    case VRULE_MSR_GATE_OPEN:
    case VRULE_MSR_GATE_CLOSED:
        group_phrase(m, why->group, grp, sizeof grp);
        line(n, "model", TERM_NOTE, "%s belongs to %s:", name, grp);
        line(n, "", TERM_NOTE, "%s", text);
        break;
    case VRULE_MSR_UNGATED:
        line(n, "model", TERM_NOTE, "%s is advertised by the %s group, but %s", name,
             vgroup_info(row->group)->name, text);
        break;
    case VRULE_MSR_NOT_YET:
        if (vmodel_host(m)->hypervisor == VHV_KVM)
            line(n, "model", TERM_NOTE, "%s: KVM has no handler for it", name);
        else if (!row->since)
            line(n, "model", TERM_NOTE, "%s: no Xen release has a handler for it (KVM's)", name);
        else
            line(n, "model", TERM_NOTE, "%s first answers in Xen 4.%u: %s", name, row->since,
                 text);
        break;
    case VRULE_MSR_KVM:
    case VRULE_MSR_KVM_ENFORCED:
    case VRULE_MSR_KVM_REFUSED:
        if (why->group >= 0)
            line(n, "model", TERM_NOTE, "%s is advertised by %s (%s):", name,
                 vgroup_info(why->group)->name, group_on(m, why->group) ? "on" : "off");
        else
            line(n, "model", TERM_NOTE, "%s is advertised with any enlightenment:", name);
        line(n, "", TERM_NOTE, "%s", text);
        break;
    default:
        line(n, "model", TERM_NOTE, "%s: %s", name, text);
        break;
    }
    bool handled = why->rule == VRULE_MSR_GATE_OPEN || why->rule == VRULE_MSR_UNGATED ||
                   why->rule == VRULE_MSR_ARCH || why->rule == VRULE_MSR_KVM ||
                   why->rule == VRULE_MSR_KVM_ENFORCED;
    if (ev->kind == VEV_WRMSR && handled && row && !row->wr &&
        vmodel_host(m)->hypervisor == VHV_KVM)
        line(n, "", TERM_NOTE, "but it is read-only: a guest's write is #GP");
    else if (ev->kind == VEV_WRMSR && handled && row && !row->wr)
        line(n, "", TERM_NOTE, "but it has no write handler: the write falls through to Xen's "
             "own MSRs (dropped up to 4.10, #GP from 4.11)");
    else if (ev->kind == VEV_RDMSR && handled && row && !row->rd)
        line(n, "", TERM_NOTE, "but it has no read handler: a read is #GP");
    else if (handled && row && row->value_gp && ev->kind == VEV_WRMSR)
        line(n, "", TERM_NOTE, "and the handler checks the value (a vector below 0x10 is #GP)");
}

static void model_line(struct narrator *n, const struct vmodel *m, const struct vevent *ev,
                       const struct vwhy *why)
{
    const char *text = vrule_info(why->rule)->text;
    switch (ev->kind) {
    case VEV_RDMSR:
    case VEV_WRMSR:
        model_msr(n, m, ev, why);
        break;
    case VEV_CPUID:
        line(n, "model", TERM_NOTE, "leaf 0x%llx: %s", (unsigned long long)ev->a[0], text);
        break;
    case VEV_PARAM_SET:
        line(n, "model", TERM_NOTE, "the %s asks for 0x%llx: %s; HVM_PARAM_VIRIDIAN is now 0x%llx",
             ev->from_guest ? "guest" : "toolstack", (unsigned long long)ev->a[0], text,
             (unsigned long long)vmodel_param(m));
        break;
    case VEV_HYPERCALL: {
        uint32_t code = (uint32_t)(ev->a[0] & 0xffff);
        const char *name = diverge_hypercall_name(code);
        line(n, "model", TERM_NOTE, "call code 0x%04x%s%s%s, %s: %s", code, name ? " (" : "",
             name ? name : "", name ? ")" : "", (ev->a[0] >> 16) & 1 ? "fast" : "memory",
             text);
        break;
    }
    case VEV_MIGRATE:
        line(n, "model", TERM_NOTE, "%s: to %s", text, ev->host ? ev->host->name : "?");
        break;
    default:
        line(n, "model", TERM_NOTE, "%s", text);
        break;
    }
    if (why->src[0])
        line(n, "", TERM_DIM, "[%s]", why->src);
}

/* The bits of a viridian leaf register, each with its TLFS name and the group that set it. */
static void leaf_bits(struct narrator *n, const struct vmodel *m, uint32_t leaf, int reg,
                      uint32_t v)
{
    static const char *const regs[4] = { "EAX", "EBX", "ECX", "EDX" };
    char buf[768];
    size_t k = 0;
    buf[0] = 0;
    for (unsigned b = 0; b < 32 && k + 64 < sizeof buf; b++) {
        if (!(v >> b & 1))
            continue;
        const char *name = diverge_cpuid_bit_name(leaf, (unsigned)reg, b);
        const char *by = "always";
        for (int g = 0; g < VGROUP_COUNT; g++) {
            const struct vgroup_info *gi = vgroup_info(g);
            uint32_t bits = leaf == 0x40000003u ? (reg == 0 ? gi->leaf3a : reg == 3 ? gi->leaf3d : 0)
                                                : (reg == 0 ? gi->leaf4a : 0);
            if ((bits >> b & 1) && group_on(m, g))
                by = gi->name;
        }
        /* Xen's name where the TLFS table has none (CPUID3D_SINT_POLLING, bit 17). */
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%u %s (%s)", k ? ", " : "", b,
                              name ? name : leaf == 0x40000003u && reg == 3 && b == 17
                                                ? "CPUID3D_SINT_POLLING" : "unnamed", by);
    }
    if (k)
        line(n, "", TERM_OK, "%s bits %s", regs[reg], buf);
}

static void sees_regs(struct narrator *n, const struct vmodel *m, const struct vevent *ev,
                      const struct vres *res)
{
    uint32_t r[4] = { (uint32_t)res->v[0], (uint32_t)res->v[1], (uint32_t)res->v[2],
                      (uint32_t)res->v[3] };
    uint32_t leaf = (uint32_t)ev->a[0];
    char sig[13] = "";
    if ((leaf == 0x40000000u || leaf == 0x40000100u) && r[1]) {
        memcpy(sig, &r[1], 4);
        memcpy(sig + 4, &r[2], 4);
        memcpy(sig + 8, &r[3], 4);
        for (int i = 0; i < 12; i++)
            if (sig[i] < 0x20 || sig[i] > 0x7e)
                sig[i] = '.';
        sig[12] = 0;
    }
    line(n, "sees", TERM_OK, "eax=0x%x ebx=0x%x ecx=0x%x edx=0x%x%s%s%s", r[0], r[1], r[2], r[3],
         sig[0] ? "  \"" : "", sig, sig[0] ? "\"" : "");
    if (vmodel_cpuid_rule(m, leaf) != VRULE_CPUID_VIRIDIAN)
        return;
    if (leaf == 0x40000003u) {
        leaf_bits(n, m, leaf, 0, r[0]);
        leaf_bits(n, m, leaf, 3, r[3]);
    } else if (leaf == 0x40000004u) {
        leaf_bits(n, m, leaf, 0, r[0]);
    }
}

static void sees_line(struct narrator *n, const struct vmodel *m, const struct vevent *ev,
                      const struct vres *res)
{
    switch (res->kind) {
    case VRES_NONE:
        return;
    case VRES_REGS:
        sees_regs(n, m, ev, res);
        return;
    case VRES_VALUE:
        if (ev->kind == VEV_HYPERCALL) {
            uint32_t status = (uint32_t)(res->v[0] & 0xffff);
            const char *name = diverge_status_name(status);
            line(n, "sees", status ? TERM_BAD : TERM_OK, "rax=0x%llx: %s, %llu reps done",
                 (unsigned long long)res->v[0], name ? name : "status ?",
                 (unsigned long long)(res->v[0] >> 32 & 0xfff));
        } else {
            line(n, "sees", TERM_OK, "0x%llx (%llu)", (unsigned long long)res->v[0],
                 (unsigned long long)res->v[0]);
        }
        return;
    case VRES_OK:
        line(n, "sees", TERM_OK, "ok");
        return;
    case VRES_GP:
        line(n, "sees", TERM_BAD, "#GP(0): the guest's exception handler runs");
        return;
    case VRES_UD:
        line(n, "sees", TERM_BAD, "#UD");
        return;
    case VRES_EPERM:
        line(n, "sees", TERM_BAD, "-EPERM");
        return;
    case VRES_EEXIST:
        line(n, "sees", TERM_BAD, "-EEXIST");
        return;
    case VRES_EINVAL:
        line(n, "sees", TERM_BAD, "-EINVAL");
        return;
    case VRES_REFUSED:
        line(n, "sees", TERM_BAD, "refused: the guest stays where it was");
        return;
    }
}

static void guest_line(struct narrator *n, const struct vevent *ev, uint64_t rip)
{
    char text[256], hex[128], head[16] = "";
    if (ev->vcpu)
        snprintf(head, sizeof head, "v%u ", ev->vcpu);
    if (ev->kind == VEV_POLL) {
        /* no instruction makes it: the CPU is between two, about to run the one at rip */
        char ev_text[160];
        trace_format_event(ev_text, sizeof ev_text, ev);
        line(n, "guest", TERM_BOLD, "%sat 0x%llx, between instructions   (%s)", head,
             (unsigned long long)rip, ev_text);
        return;
    }
    if (rip && n->ram && rip < n->ram_size) {
        size_t len = n->ram_size - rip < 15 ? (size_t)(n->ram_size - rip) : 15;
        disasm(n, n->ram + rip, len, rip, 1, text, sizeof text, hex, sizeof hex);
        char ev_text[160];
        trace_format_event(ev_text, sizeof ev_text, ev);
        line(n, "guest", TERM_BOLD, "%s0x%llx: %s   (%s)   [%s]", head, (unsigned long long)rip,
             text, ev_text, hex);
        return;
    }
    narrate_insn(n, ev, text, sizeof text, hex, sizeof hex);
    if (text[0]) {
        line(n, "guest", TERM_BOLD, "%s%s   [%s]", head, text, hex);
        return;
    }
    char ev_text[160];
    trace_format_event(ev_text, sizeof ev_text, ev);
    const char *who = ev->kind == VEV_PARAM_SET || ev->kind == VEV_PARAM_GET
                          ? (ev->from_guest ? "guest (HVMOP)" : "toolstack")
                          : ev->kind == VEV_MIGRATE ? "toolstack" : "clock";
    line(n, ev->kind == VEV_ADVANCE || ev->kind == VEV_POLL ? "time" : "who", TERM_BOLD, "%s%s: %s",
         head, who, ev_text);
}

void narrate_event(struct narrator *n, const struct vmodel *m, const struct vevent *ev,
                   const struct vwhy *why, const struct vres *res, uint64_t rip)
{
    guest_line(n, ev, rip);
    if (ev->kind != VEV_ADVANCE)
        model_line(n, m, ev, why);
    sees_line(n, m, ev, res);
}

bool narrate_apply(struct narrator *n, struct vmodel *m, const struct vevent *ev,
                   struct vres *res)
{
    struct vwhy why;
    vmodel_why(m, ev, &why);
    if (!vmodel_apply(m, ev, res))
        return false;
    narrate_event(n, m, ev, &why, res, 0);
    return true;
}
