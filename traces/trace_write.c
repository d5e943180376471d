/* The canonical text of events and results (docs/trace-format.md). */
#include <stdio.h>
#include <string.h>
#include "traces/trace.h"
#include "viridian/profile.h"

#define X(v) ((unsigned long long)(v))

int trace_format_event(char *buf, size_t len, const struct vevent *ev)
{
    char cpu[16] = "";
    if (ev->vcpu)
        snprintf(cpu, sizeof cpu, "v%u ", (unsigned)ev->vcpu);
    switch (ev->kind) {
    case VEV_CPUID:
        return snprintf(buf, len, "%scpuid 0x%llx 0x%llx", cpu, X(ev->a[0]), X(ev->a[1]));
    case VEV_RDMSR:
        return snprintf(buf, len, "%srdmsr 0x%llx", cpu, X(ev->a[0]));
    case VEV_WRMSR:
        return snprintf(buf, len, "%swrmsr 0x%llx 0x%llx", cpu, X(ev->a[0]), X(ev->a[1]));
    case VEV_RDTSC:
        return snprintf(buf, len, "%srdtsc", cpu);
    case VEV_HYPERCALL:
        return snprintf(buf, len, "%shypercall 0x%llx 0x%llx 0x%llx", cpu, X(ev->a[0]),
                        X(ev->a[1]), X(ev->a[2]));
    case VEV_PARAM_SET:
        return snprintf(buf, len, "%sparam-set viridian 0x%llx from=%s", cpu, X(ev->a[0]),
                        ev->from_guest ? "guest" : "toolstack");
    case VEV_PARAM_GET:
        return snprintf(buf, len, "%sparam-get viridian", cpu);
    case VEV_ADVANCE:
        return snprintf(buf, len, "%sadvance %llu", cpu, X(ev->a[0]));
    case VEV_MIGRATE:
        if (ev->legacy >= 0)
            return snprintf(buf, len, "%smigrate host=%s viridian=%d", cpu,
                            ev->host ? ev->host->name : "?", ev->legacy);
        return snprintf(buf, len, "%smigrate host=%s", cpu, ev->host ? ev->host->name : "?");
    case VEV_KIND_COUNT:
        break;
    }
    return snprintf(buf, len, "?");
}

int trace_format_result(char *buf, size_t len, const struct vres *res)
{
    static const char *const words[] = {
        [VRES_OK] = "ok", [VRES_GP] = "#GP", [VRES_UD] = "#UD", [VRES_EPERM] = "EPERM",
        [VRES_EEXIST] = "EEXIST", [VRES_EINVAL] = "EINVAL", [VRES_REFUSED] = "refused",
    };
    switch (res->kind) {
    case VRES_REGS:
        return snprintf(buf, len, "0x%llx 0x%llx 0x%llx 0x%llx", X(res->v[0]), X(res->v[1]),
                        X(res->v[2]), X(res->v[3]));
    case VRES_VALUE:
        return snprintf(buf, len, "0x%llx", X(res->v[0]));
    case VRES_NONE:
        return snprintf(buf, len, "(none)");
    default:
        if ((size_t)res->kind < sizeof words / sizeof words[0] && words[res->kind])
            return snprintf(buf, len, "%s", words[res->kind]);
        return snprintf(buf, len, "?");
    }
}

int trace_format_line(char *buf, size_t len, const struct vevent *ev, const struct vres *res,
                      const char *comment)
{
    int n = trace_format_event(buf, len, ev);
    size_t used = n > 0 ? (size_t)n : 0;
    if (res) {
        used += (size_t)snprintf(buf + (used < len ? used : len), used < len ? len - used : 0,
                                 " -> ");
        used += (size_t)trace_format_result(buf + (used < len ? used : len),
                                            used < len ? len - used : 0, res);
    }
    if (comment)
        used += (size_t)snprintf(buf + (used < len ? used : len), used < len ? len - used : 0,
                                 "  # %s", comment);
    return (int)used;
}

int trace_format_config(char *buf, size_t len, const struct trace_config *cfg)
{
    size_t used = (size_t)snprintf(buf, len, "config");
#define APPEND(...) \
    used += (size_t)snprintf(buf + (used < len ? used : len), used < len ? len - used : 0, \
                             __VA_ARGS__)
    if ((cfg->have & TRACE_HAVE_HOST) && cfg->host)
        APPEND(" host=%s", cfg->host->name);
    if (cfg->have & TRACE_HAVE_VIRIDIAN)
        APPEND(" viridian=%s", cfg->viridian);
    if (cfg->have & TRACE_HAVE_TSC_KHZ)
        APPEND(" tsc_khz=%u", (unsigned)cfg->tsc_khz);
    if (cfg->have & TRACE_HAVE_VCPUS)
        APPEND(" vcpus=%u", (unsigned)cfg->vcpus);
#undef APPEND
    return (int)used;
}

int trace_write_magic(FILE *f)
{
    return fputs("vsbox-trace 1\n", f) < 0 ? -1 : 0;
}

int trace_write_config(FILE *f, const struct trace_config *cfg)
{
    char buf[512];
    trace_format_config(buf, sizeof buf, cfg);
    return fprintf(f, "%s\n", buf) < 0 ? -1 : 0;
}

int trace_write_line(FILE *f, const struct vevent *ev, const struct vres *res,
                     const char *comment)
{
    char buf[TRACE_MAX_LINE + TRACE_MAX_COMMENT];
    trace_format_line(buf, sizeof buf, ev, res, comment);
    return fprintf(f, "%s\n", buf) < 0 ? -1 : 0;
}
