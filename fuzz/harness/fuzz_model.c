/* libFuzzer target: the model driven by raw bytes, each 16-byte record one event,
 * with the built-in oracles checked after every step. An oracle violation aborts
 * so libFuzzer keeps the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz/fuzz.h"

static uint64_t take(const uint8_t **p, const uint8_t *end, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n && *p < end; i++, (*p)++)
        v |= (uint64_t)**p << (8 * i);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_case c;
    static struct fuzz_verdict v;
    const uint8_t *p = data, *end = data + size;
    unsigned hosts = 0;
    while (vprofile_at(hosts))
        hosts++;
    if (size < 4)
        return 0;
    memset(&c, 0, sizeof c);
    uint64_t head = take(&p, end, 4);
    c.host = vprofile_at((unsigned)(head & 0xff) % hosts);
    c.viridian = (head >> 8) & 7;
    c.tsc_khz = 1000 + (uint32_t)((head >> 16) & 0x7fff) * 1000;
    c.vcpus = 1 + (uint32_t)(head >> 31);
    while (p < end && c.n < FUZZ_MAX_EVENTS) {
        struct vevent *ev = &c.ev[c.n++];
        ev->kind = (enum vev_kind)(take(&p, end, 1) % VEV_KIND_COUNT);
        ev->vcpu = (uint32_t)(take(&p, end, 1) % c.vcpus);
        ev->from_guest = take(&p, end, 1) & 1;
        ev->legacy = (int)(take(&p, end, 1) % 3) - 1;
        ev->host = vprofile_at((unsigned)take(&p, end, 1) % hosts);
        ev->a[0] = take(&p, end, 4) ^ (ev->kind == VEV_RDMSR || ev->kind == VEV_WRMSR ||
                                       ev->kind == VEV_CPUID ? 0x40000000u : 0);
        ev->a[1] = take(&p, end, 4);
        ev->a[2] = take(&p, end, 3);
    }
    if (fuzz_check(&c, &v) && v.oracle != ORACLE_NONE)
        abort();
    return 0;
}
