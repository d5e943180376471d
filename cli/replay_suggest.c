/* vsbox replay --suggest: the --viridian or --hv set of the chosen host that comes closest
 * to a trace's answers. The search is viridian/suggest.c's; a configuration's score is the
 * number of the trace's events whose expected result it does not give, counted by
 * streaming the file again (memory does not grow with the trace), and a count stops once
 * it is past the best so far. */
#include "cli/replay_suggest.h"

#include <stdio.h>
#include <string.h>
#include "cli/input.h"
#include "traces/replay.h"
#include "traces/trace.h"
#include "viridian/hvkvm.h"
#include "viridian/spec.h"
#include "viridian/suggest.h"

struct scorer {
    const char *name;
    struct settings s;
    uint64_t ram_size;        /* the header's memory=, 0 when none */
    unsigned long events;
    bool failed;              /* a pass could not read the file again */
};

/* One pass over the trace with configuration param: how many events diverge (stopping
 * once past bound). */
static unsigned long score(void *ctx, uint64_t param, unsigned long bound)
{
    struct scorer *sc = ctx;
    FILE *in = fopen(sc->name, "r");
    struct trace_reader *r = in ? trace_reader_new(in) : NULL;
    uint64_t ram = sc->ram_size;
    struct vmem_ops mem = { 0 };
    if (ram)
        mem = settings_trace_ram(&ram);
    struct settings s = sc->s;
    s.viridian = param;
    struct vmodel *m = r ? settings_model(&s, mem) : NULL;
    unsigned long diverged = 0;
    if (!m) {
        sc->failed = true;
        diverged = ~0ul;
        goto out;
    }
    struct trace_item it;
    struct trace_error err;
    while (diverged <= bound && trace_reader_next(r, &it, &err) == TRACE_OK) {
        if (it.kind != TRACE_EVENT)
            continue;
        struct vres got;
        if (replay_step(m, &it, &got, &err) != REPLAY_MATCH)
            diverged++;
    }
out:
    vmodel_destroy(m);
    trace_reader_free(r);
    if (in)
        fclose(in);
    return diverged;
}

/* The first pass: the header, that the whole file reads, the events, and the spin count
 * the capture's guest saw (CPUID 0x40000004 EBX), which a KVM configuration then keeps. */
static bool first_pass(struct scorer *sc, struct trace_config *header, uint32_t *spinlocks)
{
    FILE *in = input_open(sc->name, 0);
    if (!in)
        return false;
    struct trace_reader *r = trace_reader_new(in);
    struct trace_item it;
    struct trace_error err;
    enum trace_rc rc = TRACE_ERR;
    bool ok = r != NULL;
    if (!r)
        fail("out of memory");
    while (ok && (rc = trace_reader_next(r, &it, &err)) == TRACE_OK) {
        if (it.kind != TRACE_EVENT)
            continue;
        sc->events++;
        if (it.ev.kind == VEV_CPUID && it.ev.a[0] == 0x40000004u && it.has_expect &&
            it.expect.kind == VRES_REGS)
            *spinlocks = (uint32_t)it.expect.v[1];
    }
    if (ok && rc == TRACE_ERR) {
        if (err.col)
            fail("%s:%u:%u: %s", sc->name, err.line, err.col, err.msg);
        else
            fail("%s:%u: %s", sc->name, err.line, err.msg);
        ok = false;
    }
    if (ok)
        *header = *trace_reader_config(r);
    trace_reader_free(r);
    input_close(in);
    return ok;
}

int replay_suggest(const char *name, const struct common_flags *flags, char *spec, size_t len,
                   const struct vprofile **host_out)
{
    if (strcmp(name, "-") == 0)
        return fail("replay --suggest: reads the trace once per configuration tried: give a "
                    "file, not -");
    if (flags->viridian || flags->hv || flags->config)
        return fail("replay --suggest: searches the configuration itself: leave out "
                    "--viridian, --hv and --config");
    struct scorer sc = { .name = name };
    struct trace_config header;
    uint32_t spinlocks = HYPERV_SPINLOCK_NEVER_NOTIFY;
    if (!first_pass(&sc, &header, &spinlocks))
        return EXIT_BAD_INPUT;

    /* The header's own configuration is what is searched for: the flags carry none. */
    const struct vprofile *host = flags->host ? vprofile_find(flags->host)
                                  : header.have & TRACE_HAVE_HOST ? header.host
                                                                  : vprofile_default();
    struct common_flags f = *flags;
    if (host && host->hypervisor == VHV_KVM)
        f.hv = "0";
    else
        f.viridian = "0";
    if (!settings_resolve(&f, &header, name, &sc.s))
        return EXIT_BAD_INPUT;
    if (header.have & TRACE_HAVE_MEMORY)
        sc.ram_size = (uint64_t)header.memory_mib << 20;

    struct vsuggestion best;
    vsuggest(sc.s.host, spinlocks, score, &sc, &best);
    if (sc.failed && best.score == ~0ul)
        return fail("replay --suggest: %s: cannot read it again", name);
    vspec_format(sc.s.host, best.param, spec, len);
    *host_out = sc.s.host;
    printf("closest on %s: %s %s (%lu of %lu event%s still differ; %u configurations "
           "scored)\n", sc.s.host->name, sc.s.host->hypervisor == VHV_KVM ? "--hv" : "--viridian",
           spec, best.score, sc.events, sc.events == 1 ? "" : "s", best.evaluations);
    return EXIT_OK;
}
