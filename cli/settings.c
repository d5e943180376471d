/* The settings every model command resolves the same way, in one order: defaults <
 * trace header < xl.cfg (--config) < command-line flags; each error names where the bad
 * text came from (the flag, the trace's line and column, the xl.cfg's). Also the
 * strict number parser the flags share. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/input.h"
#include "cli/text.h"
#include "config/xlcfg.h"
#include "traces/trace.h"
#include "viridian/spec.h"
#include "viridian/suggest.h"

#define XLCFG_MAX_BYTES (1u << 20)
#define TSC_KHZ_MIN VMODEL_TSC_KHZ_MIN
#define TSC_KHZ_MAX VMODEL_TSC_KHZ_MAX

bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                               ? strtoull(s + 2, &end, 16)
                               : strtoull(s, &end, 10);
    if (errno || *end || (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !s[2]))
        return false;
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

static char *read_small_file(const char *path, size_t *len)
{
    FILE *f = input_open(path, 0);
    if (!f)
        return NULL;
    char too_big[64];
    snprintf(too_big, sizeof too_big, "file too large for an xl.cfg (over %u bytes)",
             XLCFG_MAX_BYTES);
    uint8_t *raw = input_read_all(f, path, XLCFG_MAX_BYTES, too_big, len);
    input_close(f);
    char *buf = raw ? realloc(raw, *len + 1) : NULL;
    if (raw && !buf) {
        free(raw);
        fail("out of memory");
    }
    if (buf)
        buf[*len] = '\0';
    return buf;
}

static bool apply_xlcfg(const struct common_flags *flags, struct settings *s)
{
    size_t len;
    char *text = read_small_file(flags->config, &len);
    if (!text)
        return false;
    struct xlcfg cfg;
    struct xlcfg_error err;
    struct xl_settings xl;
    bool ok = false;
    if (xlcfg_parse(text, len, &cfg, &err) != 0) {
        fail("%s:%u:%u: %s", flags->config, err.line, err.col, err.msg);
        free(text);
        return false;
    }
    /* Refused rather than taken as "nothing to change": --config is given to set
     * something, and a file that sets nothing is almost always the wrong file. */
    if (cfg.n_entries == 0) {
        fail("%s: no settings in this xl.cfg (is it the right file?)", flags->config);
        goto out;
    }
    if (xlcfg_apply(&cfg, s->host, &xl, &err) != 0) {
        fail("%s:%u:%u: %s", flags->config, err.line, err.col, err.msg);
        goto out;
    }
    if (xl.have_viridian)
        s->viridian = xl.viridian;
    if (xl.have_vcpus)
        s->vcpus = xl.vcpus;
    if (xl.have_memory)
        s->memory_mib = xl.memory_mib;
    snprintf(s->name, sizeof s->name, "%s", xl.name);
    if (xl.image[0]) {
        /* A relative file name is taken from the config's own folder. */
        const char *slash = strrchr(flags->config, '/');
        if (xl.image[0] == '/' || !slash)
            snprintf(s->image, sizeof s->image, "%s", xl.image);
        /* The length checked through snprintf's result: gcc -O0 warns of a truncation
         * it cannot rule out when the result is not used. */
        else if (snprintf(s->image, sizeof s->image, "%.*s/%s", (int)(slash - flags->config),
                          flags->config, xl.image) >= (int)sizeof s->image) {
            fail("%s:%u: the image's file name is too long", flags->config, xl.image_line);
            goto out;
        }
    }
    /* xl's rule (the last value counts) said out loud: a repeated key is more often a
     * leftover than a choice. One note per key, at its last line. */
    for (size_t i = 0; i < cfg.n_entries; i++) {
        const struct xlcfg_entry *e = &cfg.entries[i];
        size_t first = 0;
        while (strcmp(cfg.entries[first].key, e->key) != 0)
            first++;
        if (first != i && xlcfg_get(&cfg, e->key) == e)
            say("%s:%u: note: '%s' is also set on line %u; as in xl, the last value counts",
                flags->config, e->line, e->key, cfg.entries[first].line);
    }
    if (flags->verbose && xl.n_ignored) {
        char keys[1024] = "";
        size_t shown = xl.n_ignored < 64 ? xl.n_ignored : 64;
        for (size_t i = 0; i < shown; i++)
            snprintf(keys + strlen(keys), sizeof keys - strlen(keys), " %s", xl.ignored[i]);
        say("%s: ignored %zu key%s vsbox does not use:%s", flags->config, xl.n_ignored,
            xl.n_ignored == 1 ? "" : "s", keys);
    }
    ok = true;
out:
    xlcfg_free(&cfg);
    free(text);
    return ok;
}

static bool resolve_spec(const struct vprofile *host, const char *spec, const char *where,
                         uint64_t *mask)
{
    struct vspec_error err = { 0 };
    if (vspec_parse(host, spec, mask, &err) == VERR_OK)
        return true;
    char msg[200];
    vspec_strerror(&err, msg, sizeof msg);
    fail("%s: %s", where, msg);
    return false;
}

/* A trace recorded on one hypervisor replayed against the other: its configuration
 * becomes the closest one there (viridian/suggest.h), said once. */
static bool translate_header(const struct trace_config *header, const char *where,
                             struct settings *s)
{
    const struct vprofile *from = header->host ? header->host : vprofile_default();
    uint64_t mask;
    char text[256], from_text[256];
    if (!resolve_spec(from, header->viridian, where, &mask))
        return false;
    s->viridian = vsuggest_equivalent(from, mask, s->host);
    vspec_format(s->host, s->viridian, text, sizeof text);
    vspec_format(from, mask, from_text, sizeof from_text);
    say("%s: note: viridian=%s is %s's; on %s the closest is %s %s", where, from_text,
        from->name, s->host->name, s->host->hypervisor == VHV_KVM ? "--hv" : "--viridian",
        text);
    return true;
}

bool settings_resolve(const struct common_flags *flags, const struct trace_config *header,
                      const char *trace_name, struct settings *s)
{
    *s = (struct settings){ .host = vprofile_default(), .vcpus = 1, .memory_mib = 16 };

    if (header && (header->have & TRACE_HAVE_HOST))
        s->host = header->host;
    if (flags->host) {
        s->host = vprofile_find(flags->host);
        if (!s->host) {
            fail("--host: unknown host profile '%s' (see vsbox hosts)", flags->host);
            return false;
        }
    }
    s->tsc_khz = s->host->tsc_khz;

    if (header) {
        if (header->have & TRACE_HAVE_TSC_KHZ) {
            if (header->tsc_khz < TSC_KHZ_MIN || header->tsc_khz > TSC_KHZ_MAX) {
                fail("%s: config tsc_khz=%u: %s", trace_name, (unsigned)header->tsc_khz,
                     verr_str(VERR_BAD_TSC_KHZ));
                return false;
            }
            s->tsc_khz = header->tsc_khz;
        }
        if (header->have & TRACE_HAVE_VCPUS)
            s->vcpus = header->vcpus;
        if (header->have & TRACE_HAVE_VIRIDIAN && !flags->viridian && !flags->hv &&
            !flags->config) {
            char where[600];
            const struct vprofile *from = header->have & TRACE_HAVE_HOST ? header->host
                                                                          : vprofile_default();
            snprintf(where, sizeof where, "%s:%u:%u", trace_name, header->viridian_line,
                     header->viridian_col);
            if (from->hypervisor != s->host->hypervisor ? !translate_header(header, where, s)
                                                        : !resolve_spec(s->host,
                                                                        header->viridian, where,
                                                                        &s->viridian))
                return false;
        }
    }
    if (flags->config && !apply_xlcfg(flags, s))
        return false;
    bool kvm = s->host->hypervisor == VHV_KVM;
    if (flags->viridian && kvm) {
        fail("--viridian: host %s takes QEMU's CPU flags: use --hv (e.g. --hv "
             "hv-relaxed,hv-vapic,hv-time)", s->host->name);
        return false;
    }
    if (flags->hv && !kvm) {
        fail("--hv: host %s takes viridian groups: use --viridian, or --host kvm for QEMU's "
             "CPU flags", s->host->name);
        return false;
    }
    if (flags->viridian && !resolve_spec(s->host, flags->viridian, "--viridian", &s->viridian))
        return false;
    if (flags->hv && !resolve_spec(s->host, flags->hv, "--hv", &s->viridian))
        return false;
    if (flags->tsc_khz) {
        uint64_t khz;
        if (!parse_u64(flags->tsc_khz, TSC_KHZ_MIN, TSC_KHZ_MAX, &khz)) {
            fail("--tsc-khz: '%s' is not a frequency from 1000 to 100000000 kHz", flags->tsc_khz);
            return false;
        }
        s->tsc_khz = (uint32_t)khz;
    }
    return true;
}

struct vmodel *settings_model(const struct settings *s, struct vmem_ops mem)
{
    struct vconfig cfg = {
        .host = s->host, .viridian = s->viridian, .tsc_khz = s->tsc_khz, .vcpus = s->vcpus,
        .mem = mem,
    };
    struct vmodel *m = NULL;
    enum verr e = vmodel_create(&cfg, &m);
    if (e != VERR_OK) {
        if (e == VERR_BAD_MASK)
            fail(s->host->hypervisor == VHV_KVM ? "host %s refuses the CPU flags 0x%llx"
                                                 : "host %s refuses HVM_PARAM_VIRIDIAN 0x%llx",
                 s->host->name, (unsigned long long)s->viridian);
        else
            fail("%s", verr_str(e));
        return NULL;
    }
    return m;
}

struct vmodel *settings_model_trace(const struct common_flags *flags, FILE *out)
{
    struct settings s;
    struct trace_config cfg;
    if (!settings_resolve(flags, NULL, NULL, &s))
        return NULL;
    struct vmodel *m = settings_model(&s, (struct vmem_ops){ 0 });
    if (!m)
        return NULL;
    settings_trace_config(&s, &cfg);
    if (trace_write_magic(out) || trace_write_config(out, &cfg)) {
        vmodel_destroy(m);
        fail("cannot write the output");
        return NULL;
    }
    return m;
}

void settings_trace_config(const struct settings *s, struct trace_config *cfg)
{
    *cfg = (struct trace_config){
        .have = TRACE_HAVE_HOST | TRACE_HAVE_VIRIDIAN | TRACE_HAVE_TSC_KHZ | TRACE_HAVE_VCPUS,
        .host = s->host, .tsc_khz = s->tsc_khz, .vcpus = s->vcpus,
    };
    vspec_format(s->host, s->viridian, cfg->viridian, sizeof cfg->viridian);
}

/* A trace records no memory contents, only how much RAM the guest had: enough for the
 * model's bounds checks (a hypercall page outside RAM is a #GP), never read back. */
static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    const uint64_t *size = ctx;
    if (gpa >= *size || len > *size - gpa)
        return -1;
    memset(buf, 0, len);
    return 0;
}

static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    const uint64_t *size = ctx;
    (void)buf;
    return gpa >= *size || len > *size - gpa ? -1 : 0;
}

struct vmem_ops settings_trace_ram(uint64_t *size)
{
    return (struct vmem_ops){ size, ram_read, ram_write };
}
