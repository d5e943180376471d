/* The configuration of a host that comes closest to something observed: a capture's
 * answers (`vsbox replay --suggest`), or what a guest saw on another hypervisor (the
 * destination a cross-hypervisor restore gets when it names none). The caller scores a
 * configuration; this searches the host's groups, the group table's rows.
 *
 * The search is coordinate descent over groups, started from the best of three seeds
 * (nothing, the host's defaults, every group): each pass flips every group in table
 * order, with what it needs (KVM's requires, Xen's base) or what needs it, keeps a flip
 * that lowers the score (or keeps it and names fewer groups), and passes again until
 * nothing changes. Deterministic; at most (groups + 1) passes of one score per group,
 * and a score may stop counting once past the best so far. Exhaustive search is 2^13
 * configurations on Xen and 2^31 on KVM: out of reach for a 10-million-event capture,
 * while a capture's differences are nearly always one group each (a CPUID bit, an MSR
 * that answers or faults), which single flips find. */
#ifndef VSBOX_VIRIDIAN_SUGGEST_H
#define VSBOX_VIRIDIAN_SUGGEST_H

#include <stdint.h>
#include "viridian/profile.h"

/* The score of configuration `param` (lower is closer); a scorer may stop and return
 * anything above `bound` once it knows the score exceeds it. */
typedef unsigned long (*vsuggest_score_fn)(void *ctx, uint64_t param, unsigned long bound);

struct vsuggestion {
    uint64_t param;           /* the closest configuration */
    unsigned long score;
    unsigned evaluations;     /* scores computed */
};

/* spinlocks: the hv-spinlocks a KVM configuration gets (HYPERV_SPINLOCK_NEVER_NOTIFY:
 * QEMU's default), e.g. the CPUID 0x40000004 EBX a capture saw; ignored on Xen. */
void vsuggest(const struct vprofile *host, uint32_t spinlocks, vsuggest_score_fn score,
              void *ctx, struct vsuggestion *out);

/* The configuration of `to` whose guest sees the Hyper-V interface closest to what a
 * guest of `from` with configuration `param` sees: CPUID 0x40000003-5 bit by bit, and
 * which synthetic MSRs answer. */
uint64_t vsuggest_equivalent(const struct vprofile *from, uint64_t param,
                             const struct vprofile *to);

#endif
