/* Group specs -> HVM_PARAM_VIRIDIAN, following libxl's hvm_set_viridian_features() and
 * xl's parse_config_data() step by step, so the same inputs fail the same way. The code
 * is the same from RELEASE-4.5.0 (libxl_dom.c) to RELEASE-4.22.0 (libxl_x86.c) but for
 * the groups each release knows and its "Enable defaults" (viridian/profile.c), and
 * stimer's silent dependencies (4.13+: "mask |= HVMPV_time_ref_count | HVMPV_synic |
 * HVMPV_stimer"). */
#include "viridian/spec.h"

#include <stdio.h>
#include <string.h>
#include "viridian/hvmpv.h"

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
    for (int g = 0; g < VGROUP_COUNT; g++)
        if (same_name(groups[g].name, name, len))
            return g;
    return -1;
}

uint64_t vgroups_to_mask(uint32_t enabled)
{
    uint64_t mask = 0;
    if (!(enabled & (1u << VGROUP_BASE)))
        return 0;
    /* "if base: mask |= HVMPV_base_freq; if !freq: mask |= HVMPV_no_freq" */
    mask |= HVMPV_base_freq;
    if (!(enabled & (1u << VGROUP_FREQ)))
        mask |= HVMPV_no_freq;
    for (int g = VGROUP_TIME_REF_COUNT; g < VGROUP_COUNT; g++)
        if (enabled & (1u << g))
            mask |= groups[g].hvmpv | groups[g].implies;
    return mask;
}

uint32_t vmask_groups(uint64_t mask)
{
    uint32_t enabled = 0;
    if (!(mask & HVMPV_base_freq))
        return 0;
    enabled |= 1u << VGROUP_BASE;
    if (!(mask & HVMPV_no_freq))
        enabled |= 1u << VGROUP_FREQ;
    for (int g = VGROUP_TIME_REF_COUNT; g < VGROUP_COUNT; g++)
        if (mask & groups[g].hvmpv)
            enabled |= 1u << g;
    return enabled;
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

static enum verr resolve_items(const struct vprofile *host, const struct item *items, size_t n,
                               uint64_t *mask, struct vspec_error *err)
{
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
    uint32_t enable = 0, disable = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = items[i].text;
        size_t len = items[i].len;
        /* xl_parse.c compares "all" and "defaults" with strcmp(), group names with
         * libxl's strcasecmp(). */
        if (len == 3 && memcmp(s, "all", 3) == 0) {
            enable = UINT32_MAX; /* libxl_bitmap_set_any: every bit, known group or not */
            continue;
        }
        if (len == 8 && memcmp(s, "defaults", 8) == 0) {
            defaults = true;
            continue;
        }
        uint32_t *set = &enable, *reset = &disable;
        if (len > 0 && s[0] == '!') {
            set = &disable;
            reset = &enable;
            s++;
            len--;
        }
        int g = vgroup_by_name(s, len);
        if (g < 0 || !(host->groups & (1u << g)))
            return fail(err, VERR_UNKNOWN_GROUP, items[i].col, s, len);
        *set |= 1u << g;
        *reset &= ~(1u << g);
    }

    uint32_t enabled = defaults ? host->default_groups : 0;
    for (int g = 0; g < 32; g++) {
        if (!(enable & (1u << g)))
            continue;
        if (disable & (1u << g)) {
            const char *name = groups[g].name;
            return fail(err, VERR_GROUP_CONFLICT, 0, name, strlen(name));
        }
        if (host->groups & (1u << g))
            enabled |= 1u << g;
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
        snprintf(buf, len, "unknown viridian enlightenment '%s'", err->item);
        break;
    case VERR_GROUP_CONFLICT:
        snprintf(buf, len, "%s group both enabled and disabled", err->item);
        break;
    case VERR_NO_GROUPS:
        snprintf(buf, len, "host %s takes only a boolean viridian option (0 or 1)", err->item);
        break;
    case VERR_SPEC_SYNTAX:
        snprintf(buf, len,
                 "bad viridian spec: expected groups like 'all,!freq', a list like "
                 "[ \"all\", \"!freq\" ], or 0/1");
        break;
    default:
        snprintf(buf, len, "%s", verr_str(err->code));
        break;
    }
}

void vspec_format(const struct vprofile *host, uint64_t mask, char *buf, size_t len)
{
    uint32_t enabled = vmask_groups(mask);
    if (mask == 0 || host->param == VPARAM_BOOLEAN || (enabled & ~host->groups) ||
        vgroups_to_mask(enabled) != mask) {
        snprintf(buf, len, mask <= 1 ? "%llu" : "0x%llx", (unsigned long long)mask);
        return;
    }
    size_t n = 0;
    buf[0] = 0;
    for (int g = 0; g < VGROUP_COUNT && n < len; g++)
        if (enabled & (1u << g))
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", groups[g].name);
}
