/* Event sequences biased toward the interesting: the viridian MSRs and their
 * neighbours, boundary values, page-aligned addresses, the param's valid masks. */
#include <stddef.h>
#include "fuzz/fuzz.h"
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/msr.h"

uint64_t fuzz_next(struct fuzz_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct fuzz_rng fuzz_run_rng(uint64_t seed, uint64_t run)
{
    /* A splitmix64 step from a state set by both numbers: neighbouring runs (and seeds)
     * start far apart. */
    struct fuzz_rng mix = { seed ^ (run * 0xd1b54a32d192ed03ull) };
    return (struct fuzz_rng){ fuzz_next(&mix) };
}

static uint64_t below(struct fuzz_rng *r, uint64_t n)
{
    return n ? fuzz_next(r) % n : 0;
}

static uint64_t pick(struct fuzz_rng *r, const uint64_t *v, size_t n)
{
    return v[below(r, n)];
}

static uint32_t gen_msr(struct fuzz_rng *r)
{
    static const uint64_t extra[] = { 0x40000000, 0x40000200, 0x40000201, 0x400000ff,
                                      0x40000003, 0x40000021, 0x40000074, 0x3fffffff,
                                      0x10, 0x1b, 0xc0000080, 0x0 };
    size_t n = vmsr_count();
    switch (below(r, 4)) {
    case 0:
    case 1:
        return vmsr_at(below(r, n));
    case 2:
        return vmsr_at(below(r, n)) + (uint32_t)below(r, 3) - 1;
    default:
        return (uint32_t)pick(r, extra, sizeof extra / sizeof extra[0]);
    }
}

static uint64_t gen_value(struct fuzz_rng *r)
{
    static const uint64_t v[] = { 0, 1, 2, 3, 0xff, 0x1000, 0x1001, 0x3000 | 1,
                                  0x1040601001db0ull, 0x0001030601001db0ull, UINT64_MAX,
                                  0x8000000000000000ull, 0xfee00900, 0x123456789abcdef0ull,
                                  /* SINT vectors, stimer configs (periodic, SINT 1) and counts */
                                  0x50, 0x10050, 0x0f, 0x1000b, 0x10001, 0x10009, 10000 };
    return below(r, 4) ? pick(r, v, sizeof v / sizeof v[0]) : fuzz_next(r);
}

static uint32_t gen_leaf(struct fuzz_rng *r)
{
    if (below(r, 8) == 0)
        return 0x40000000u + (uint32_t)below(r, 0x300);
    return (below(r, 2) ? 0x40000000u : 0x40000100u) + (uint32_t)below(r, 8);
}

static void gen_event(struct fuzz_rng *r, const struct fuzz_case *c, struct vevent *ev)
{
    *ev = (struct vevent){ .vcpu = (uint32_t)below(r, c->vcpus), .legacy = -1 };
    switch (below(r, 17)) {
    case 0: case 1: case 2:
        ev->kind = VEV_CPUID;
        ev->a[0] = gen_leaf(r);
        ev->a[1] = below(r, 4);
        break;
    case 3: case 4: case 5: case 6:
        ev->kind = VEV_RDMSR;
        ev->a[0] = gen_msr(r);
        break;
    case 7: case 8: case 9:
        ev->kind = VEV_WRMSR;
        ev->a[0] = gen_msr(r);
        ev->a[1] = gen_value(r);
        break;
    case 10:
        ev->kind = VEV_RDTSC;
        break;
    case 11:
        ev->kind = VEV_ADVANCE;
        ev->a[0] = below(r, 8) ? below(r, 100000) : gen_value(r);
        break;
    case 12:
        ev->kind = VEV_HYPERCALL;
        ev->a[0] = below(r, 2) ? below(r, 16) : gen_value(r);
        ev->a[1] = gen_value(r);
        ev->a[2] = gen_value(r);
        break;
    case 13:
        ev->kind = VEV_PARAM_SET;
        ev->a[0] = below(r, 4) ? below(r, 8) : gen_value(r);
        ev->from_guest = below(r, 2);
        break;
    case 14:
        ev->kind = VEV_PARAM_GET;
        break;
    case 15:
        if (below(r, 2)) {
            ev->kind = VEV_POLL;
            ev->a[0] = below(r, 2) ? 0 : below(r, 0x10000);
            break;
        }
        /* fall through */
    default:
        ev->kind = VEV_MIGRATE;
        ev->a[0] = below(r, 2) ? 0 : below(r, 1000000);
        for (unsigned i = 0; vprofile_at(i); i++)
            if (below(r, i + 1) == 0)
                ev->host = vprofile_at(i);
        ev->legacy = below(r, 4) ? -1 : (int)below(r, 2);
        break;
    }
}

/* The values a toolstack could have set at build on this host. */
static uint64_t gen_viridian(struct fuzz_rng *r, const struct vprofile *host)
{
    if (host->param == VPARAM_BOOLEAN)
        return below(r, 2);
    uint64_t v;
    do
        v = below(r, (uint64_t)host->feature_mask + 1);
    while (v != 0 && !(v & HVMPV_base_freq));
    return v;
}

void fuzz_generate(struct fuzz_rng *r, const struct vprofile *host, int64_t fixed_viridian,
                   struct fuzz_case *c)
{
    static const uint64_t khz[] = { 2000000, 2500000, 1000, 3333333, 100000000 };
    c->host = host;
    c->viridian = fixed_viridian >= 0 ? (uint64_t)fixed_viridian : gen_viridian(r, host);
    c->tsc_khz = (uint32_t)pick(r, khz, sizeof khz / sizeof khz[0]);
    c->vcpus = 1 + (uint32_t)below(r, 3);
    c->n = 1 + below(r, FUZZ_MAX_EVENTS);
    for (size_t i = 0; i < c->n; i++)
        gen_event(r, c, &c->ev[i]);
}
