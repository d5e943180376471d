#include "traces/replay.h"

#include <stdio.h>

enum replay_rc replay_step(struct vmodel *m, const struct trace_item *item, struct vres *got,
                           struct trace_error *err)
{
    const struct vevent *ev = &item->ev;
    err->line = item->line;
    err->col = 1;
    if (ev->vcpu >= vmodel_vcpus(m)) {
        snprintf(err->msg, sizeof err->msg, "vCPU %u does not exist (vcpus=%u)",
                 (unsigned)ev->vcpu, (unsigned)vmodel_vcpus(m));
        return REPLAY_INVALID;
    }
    if (ev->kind == VEV_CPUID && !vmodel_cpuid_owns((uint32_t)ev->a[0])) {
        snprintf(err->msg, sizeof err->msg,
                 "cpuid leaf 0x%llx is outside the hypervisor range (0x40000000-0x4fffffff) "
                 "the model answers",
                 (unsigned long long)ev->a[0]);
        return REPLAY_INVALID;
    }
    struct vevent with = *ev;
    if (item->has_input) {
        with.input = item->input;
        with.input_words = item->input_words;
        ev = &with;
    }
    if (!vmodel_apply(m, ev, got)) {
        snprintf(err->msg, sizeof err->msg, "event not understood by the model");
        return REPLAY_INVALID;
    }
    if (item->has_expect && !vres_equal(&item->expect, got))
        return REPLAY_DIVERGED;
    return REPLAY_MATCH;
}
