/* libFuzzer target: the KVM importer (`vsbox import kvm`) on arbitrary bytes, cut into
 * lines as the command reads them. Besides not crashing, every event it emits must be a
 * trace v1 line that reads back as the same event (replay must be able to take it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "traces/import_kvm.h"
#include "viridian/model.h"

static bool check(void *ctx, const struct trace_item *it)
{
    (void)ctx;
    if (it->kind != TRACE_EVENT)
        return true;
    char line[TRACE_MAX_LINE + 512];
    struct trace_item back;
    struct trace_error err;
    trace_format_line(line, sizeof line, &it->ev, it->has_expect ? &it->expect : NULL,
                      it->comment);
    if (it->ev.vcpu >= VMODEL_MAX_VCPUS || trace_parse_event(line, &back, &err) != TRACE_OK ||
        back.ev.kind != it->ev.kind || back.ev.vcpu != it->ev.vcpu ||
        memcmp(back.ev.a, it->ev.a, sizeof back.ev.a) != 0 || back.has_expect != it->has_expect ||
        (it->has_expect && !vres_equal(&back.expect, &it->expect)))
        abort();
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first byte picks a filter, so that --pid and --task paths are fuzzed too. */
    struct kvm_import_opts opts = { 0 };
    if (size && data[0] == 'P') {
        opts.pids[0] = 613;
        opts.npids = 1;
    } else if (size && data[0] == 'T') {
        opts.task = "CPU *";
    }
    struct kvm_import *im = kvm_import_new(&opts, check, NULL);
    if (!im)
        return 0;
    struct trace_error err;
    const char *p = (const char *)data, *end = p + size;
    unsigned line = 0;
    enum trace_rc rc = TRACE_OK;
    while (p < end && rc == TRACE_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        rc = kvm_import_line(im, p, len, ++line, &err);
        p += len + (nl != NULL);
    }
    if (rc == TRACE_OK)
        kvm_import_finish(im, &err);
    kvm_import_free(im);
    return 0;
}
