/* Viridian groups, and group specs as xl.cfg's `viridian = [ "all", "!freq" ]` and the
 * CLI's `--viridian all,!freq` write them, turned into an HVM_PARAM_VIRIDIAN value the
 * way libxl's hvm_set_viridian_features() does at the host's release.
 *
 * The group table is the one place a group's name, bit, CPUID advertisement and first
 * release are written: the model's CPUID leaves, `vsbox msrs`, `vsbox hosts`, the names
 * --viridian accepts and the docs all read it. */
#ifndef VSBOX_VIRIDIAN_SPEC_H
#define VSBOX_VIRIDIAN_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "viridian/profile.h"
#include "viridian/verr.h"

/* libxl_viridian_enlightenment, in its order (the index is the HVMPV bit for all but
 * freq, which maps to the absence of HVMPV_no_freq). */
enum vgroup {
    VGROUP_BASE,
    VGROUP_FREQ,
    VGROUP_TIME_REF_COUNT,
    VGROUP_REFERENCE_TSC,
    VGROUP_HCALL_REMOTE_TLB_FLUSH,
    VGROUP_APIC_ASSIST,
    VGROUP_CRASH_CTL,
    VGROUP_SYNIC,
    VGROUP_STIMER,
    VGROUP_HCALL_IPI,
    VGROUP_EX_PROCESSOR_MASKS,
    VGROUP_NO_VP_LIMIT,
    VGROUP_CPU_HOTPLUG,
    VGROUP_COUNT
};

struct vgroup_info {
    const char *name;      /* libxl_viridian_enlightenment string */
    uint32_t hvmpv;        /* the HVM_PARAM_VIRIDIAN bit it stands for (base: HVMPV_base_freq;
                              freq: 0, it clears HVMPV_no_freq) */
    uint32_t implies;      /* bits libxl sets along with it, silently (stimer) */
    unsigned since;        /* first Xen 4.x release whose libxl has the name */
    uint32_t leaf3a;       /* CPUID 0x40000003 EAX bits it advertises (CPUID3A_*) */
    uint32_t leaf3d;       /* CPUID 0x40000003 EDX bits (CPUID3D_*) */
    uint32_t leaf4a;       /* CPUID 0x40000004 EAX bits (CPUID4A_*) */
    bool leaf5_no_limit;   /* CPUID 0x40000005 EAX = 0xFFFFFFFF */
    bool documented;       /* in xl.cfg(5); synic is deliberately not (commit a85089d0ef) */
    const char *commit;    /* the Xen commit that added it */
    const char *summary;
};

const struct vgroup_info *vgroup_info(enum vgroup g);
/* The group named name[0..len), case-insensitively as libxl's enum_from_string()
 * (strcasecmp); -1 when no release has it. */
int vgroup_by_name(const char *name, size_t len);

/* The HVM_PARAM_VIRIDIAN value libxl writes for a set of enabled groups (bit g:
 * enum vgroup g), at a mask host. */
uint64_t vgroups_to_mask(uint32_t enabled);

struct vspec_error {
    enum verr code;
    size_t col;            /* 0-based offset into the spec text of the offending item */
    char item[32];         /* the group name involved, for the message */
};

/* Parse a spec: "all,!freq", "defaults", "0", "1", "true", "false", or the xl list
 * literal `[ "all", "!freq" ]`. The host decides which groups exist and what
 * "defaults" means. */
enum verr vspec_parse(const struct vprofile *host, const char *spec, uint64_t *mask,
                      struct vspec_error *err);

/* Same, from list items already split (xl.cfg lists). item_cols may be NULL. */
enum verr vspec_from_items(const struct vprofile *host, const char *const *items,
                           size_t n, uint64_t *mask, struct vspec_error *err);

/* The one-line libxl-style message for a failed parse, into buf. */
void vspec_strerror(const struct vspec_error *err, char *buf, size_t len);

/* Canonical spec text for a mask ("base,freq,time_ref_count", "0", "0x3f"), for trace
 * headers and reports; parsing it on the same host gives the mask back. */
void vspec_format(const struct vprofile *host, uint64_t mask, char *buf, size_t len);

/* The groups a mask enables (bit g: enum vgroup g), for naming what a guest has. */
uint32_t vmask_groups(uint64_t mask);

#endif
