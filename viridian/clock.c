#include "viridian/clock.h"

#define NS_PER_SEC 1000000000ull

struct vtime_scale vtime_scale_for(uint64_t ticks_per_sec)
{
    struct vtime_scale ts = { 0, 0 };
    uint64_t tps64 = ticks_per_sec;
    int shift = 0;

    /* Normalise into (1e9, 2e9] so that 1e9/tps32 is a pure 32-bit fraction. */
    while (tps64 > NS_PER_SEC * 2) {
        tps64 >>= 1;
        shift--;
    }
    uint32_t tps32 = (uint32_t)tps64;
    while (tps32 <= (uint32_t)NS_PER_SEC) {
        tps32 <<= 1;
        shift++;
    }
    ts.mul_frac = (uint32_t)((NS_PER_SEC << 32) / tps32);
    ts.shift = shift;
    return ts;
}

uint64_t vtime_scale_delta(uint64_t delta, const struct vtime_scale *scale)
{
    if (scale->shift < 0)
        delta >>= -scale->shift;
    else
        delta <<= scale->shift;
    return (uint64_t)(((unsigned __int128)delta * scale->mul_frac) >> 32);
}
