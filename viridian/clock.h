/* Xen's fixed-point time scaling (xen/arch/x86/time.c), so derived times - the
 * reference counter, the CPUID time leaf's mul_frac/shift - match Xen to the bit. */
#ifndef VSBOX_VIRIDIAN_CLOCK_H
#define VSBOX_VIRIDIAN_CLOCK_H

#include <stdint.h>

struct vtime_scale {
    int shift;
    uint32_t mul_frac;
};

/* Scale converting ticks at ticks_per_sec to nanoseconds (ticks_per_sec != 0). */
struct vtime_scale vtime_scale_for(uint64_t ticks_per_sec);
uint64_t vtime_scale_delta(uint64_t delta, const struct vtime_scale *scale);

#endif
