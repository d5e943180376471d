#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "config/xlcfg.h"
#include "traces/trace.h"
#include "viridian/spec.h"

#define XLCFG_MAX_BYTES (1u << 20)
#define TSC_KHZ_MIN VMODEL_TSC_KHZ_MIN
#define TSC_KHZ_MAX VMODEL_TSC_KHZ_MAX

const char common_flags_help[] =
    "  --viridian SPEC   viridian groups: 'base,freq', 'all,!freq', 'defaults', 0/1, or\n"
    "                    the xl.cfg list '[ \"all\", \"!freq\" ]' (default: 0, as xl)\n"
    "  --host PROFILE    host profile: a Xen release (default: the newest, see hosts)\n"
    "  --tsc-khz N       guest TSC frequency in kHz (default: the host's)\n"
    "  --config FILE     read viridian, vcpus and memory from an xl.cfg file\n"
    "  --verbose         say which xl.cfg keys were ignored\n";

int fail(const char *fmt, ...)
{
    va_list ap;
    fputs("vsbox: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_BAD_INPUT;
}

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

int common_flag(struct common_flags *f, int argc, char **argv, int *i)
{
    static const struct { const char *name; size_t off; } flags[] = {
        { "--viridian", offsetof(struct common_flags, viridian) },
        { "--host", offsetof(struct common_flags, host) },
        { "--tsc-khz", offsetof(struct common_flags, tsc_khz) },
        { "--config", offsetof(struct common_flags, config) },
    };
    const char *arg = argv[*i];
    if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
        f->verbose = true;
        return 1;
    }
    for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++) {
        size_t n = strlen(flags[k].name);
        if (strncmp(arg, flags[k].name, n) != 0)
            continue;
        const char **slot = (const char **)((char *)f + flags[k].off);
        if (arg[n] == '=') {
            *slot = arg + n + 1;
            return 1;
        }
        if (arg[n] != '\0')
            continue;
        if (*i + 1 >= argc) {
            fail("%s needs a value", flags[k].name);
            return -1;
        }
        *slot = argv[++*i];
        return 1;
    }
    return 0;
}

static char *read_small_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(XLCFG_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, XLCFG_MAX_BYTES + 1, f) : 0;
    bool err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        fail("%s: cannot read", path);
        return NULL;
    }
    if (n > XLCFG_MAX_BYTES) {
        free(buf);
        fail("%s: file too large for an xl.cfg (over %u bytes)", path, XLCFG_MAX_BYTES);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
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
    if (flags->verbose && xl.n_ignored) {
        fprintf(stderr, "vsbox: %s: ignored %zu key%s vsbox does not use:", flags->config,
                xl.n_ignored, xl.n_ignored == 1 ? "" : "s");
        size_t shown = xl.n_ignored < 64 ? xl.n_ignored : 64;
        for (size_t i = 0; i < shown; i++)
            fprintf(stderr, " %s", xl.ignored[i]);
        fputc('\n', stderr);
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
        if (header->have & TRACE_HAVE_VIRIDIAN && !flags->viridian && !flags->config) {
            char where[600];
            snprintf(where, sizeof where, "%s:%u:%u", trace_name, header->viridian_line,
                     header->viridian_col);
            if (!resolve_spec(s->host, header->viridian, where, &s->viridian))
                return false;
        }
    }
    if (flags->config && !apply_xlcfg(flags, s))
        return false;
    if (flags->viridian && !resolve_spec(s->host, flags->viridian, "--viridian", &s->viridian))
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
            fail("host %s refuses HVM_PARAM_VIRIDIAN 0x%llx", s->host->name,
                 (unsigned long long)s->viridian);
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
