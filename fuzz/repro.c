/* Reproducers are ordinary trace v1 files. */
#include <stdio.h>
#include "fuzz/fuzz.h"
#include "traces/trace.h"
#include "viridian/spec.h"

int fuzz_write_reproducer(FILE *f, const struct fuzz_case *c, const struct fuzz_verdict *v)
{
    struct trace_config cfg = {
        .have = TRACE_HAVE_HOST | TRACE_HAVE_VIRIDIAN | TRACE_HAVE_TSC_KHZ | TRACE_HAVE_VCPUS,
        .host = c->host, .tsc_khz = c->tsc_khz, .vcpus = c->vcpus,
    };
    vspec_format(c->host, c->viridian, cfg.viridian, sizeof cfg.viridian);
    int rc = trace_write_magic(f);
    fprintf(f, "# vsbox fuzz reproducer: oracle %s\n# %s\n", fuzz_oracle_name(v->oracle), v->what);
    if (!v->has_expect)
        fprintf(f, "# the oracle cannot name the right result; the last line shows what was got\n");
    rc |= trace_write_config(f, &cfg);
    for (size_t i = 0; i <= v->index && i < c->n; i++) {
        bool last = i == v->index;
        const struct vres *res = last && v->has_expect ? &v->expect : &v->results[i];
        rc |= trace_write_line(f, &c->ev[i], res->kind == VRES_NONE ? NULL : res,
                               last && !v->has_probe ? "the oracle fires here" : NULL);
    }
    if (v->has_probe)
        rc |= trace_write_line(f, &v->probe_ev, &v->probe_expect,
                               "the oracle fires here: this read answered so before the restore");
    return rc || fflush(f) != 0 || ferror(f) ? -1 : 0;
}
