/* The event: the unit the emulator emits, traces carry, replay and the fuzzer feed the model.
 * Plain data; see docs/trace-format.md for the text form. */
#ifndef VSBOX_VIRIDIAN_EVENT_H
#define VSBOX_VIRIDIAN_EVENT_H

#include <stdbool.h>
#include <stdint.h>

enum vev_kind {
    VEV_CPUID,      /* a[0] leaf, a[1] subleaf           -> VRES_REGS (eax ebx ecx edx) */
    VEV_RDMSR,      /* a[0] msr                          -> VRES_VALUE or VRES_GP */
    VEV_WRMSR,      /* a[0] msr, a[1] value              -> VRES_OK or VRES_GP */
    VEV_RDTSC,      /*                                   -> VRES_VALUE */
    VEV_HYPERCALL,  /* a[0] rcx, a[1] rdx, a[2] r8, input -> VRES_VALUE (rax) or VRES_UD */
    VEV_PARAM_SET,  /* a[0] value, from_guest            -> VRES_OK/EPERM/EEXIST/EINVAL */
    VEV_PARAM_GET,  /* from_guest                        -> VRES_VALUE or VRES_EPERM */
    VEV_ADVANCE,    /* a[0] ticks                        -> VRES_NONE */
    VEV_MIGRATE,    /* host, legacy (-1: mask stream), a[0] downtime ticks
                                                         -> VRES_OK or VRES_REFUSED */
    VEV_POLL,       /* a[0] SIM slots the guest holds    -> VRES_VALUE (timers delivered) */
    VEV_KIND_COUNT
};

struct vprofile;

struct vevent {
    enum vev_kind kind;
    uint32_t vcpu;
    uint64_t a[3];
    bool from_guest;                /* VEV_PARAM_SET */
    const struct vprofile *host;    /* VEV_MIGRATE destination */
    int legacy;                     /* VEV_MIGRATE: -1 mask stream, 0/1 legacy boolean stream */
    /* VEV_HYPERCALL: the input block as recorded (words from the input GPA): the model
     * reads it instead of guest memory. NULL: read memory. */
    const uint64_t *input;
    uint32_t input_words;
};

enum vres_kind {
    VRES_NONE,
    VRES_REGS,
    VRES_VALUE,
    VRES_OK,
    VRES_GP,
    VRES_UD,
    VRES_EPERM,
    VRES_EEXIST,
    VRES_EINVAL,
    VRES_REFUSED,
};

struct vres {
    enum vres_kind kind;
    uint64_t v[4];
};

bool vres_equal(const struct vres *a, const struct vres *b);

#endif
