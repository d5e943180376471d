/* Viridian group specs, as xl.cfg's `viridian = [ "all", "!freq" ]` and the CLI's
 * `--viridian all,!freq` write them, turned into an HVM_PARAM_VIRIDIAN value the way
 * libxl's hvm_set_viridian_features() does. */
#ifndef VSBOX_VIRIDIAN_SPEC_H
#define VSBOX_VIRIDIAN_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include "viridian/profile.h"
#include "viridian/verr.h"

enum vgroup { VGROUP_BASE, VGROUP_FREQ, VGROUP_TIME_REF_COUNT, VGROUP_COUNT };

struct vgroup_info {
    const char *name;      /* libxl_viridian_enlightenment string */
    uint32_t msr_bits;     /* CPUID3A_* bits the group makes available */
    const char *summary;
};

const struct vgroup_info *vgroup_info(enum vgroup g);
/* -1 when unknown. */
int vgroup_by_name(const char *name, size_t len);

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

/* Canonical spec text for a mask ("base,freq", "0"), for trace headers and reports. */
void vspec_format(const struct vprofile *host, uint64_t mask, char *buf, size_t len);

#endif
