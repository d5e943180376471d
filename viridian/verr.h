/* Errors of the viridian library, returned as values and reported once, at the edge. */
#ifndef VSBOX_VIRIDIAN_VERR_H
#define VSBOX_VIRIDIAN_VERR_H

enum verr {
    VERR_OK = 0,
    VERR_UNKNOWN_GROUP,      /* libxl: "unknown viridian enlightenment '%s'" */
    VERR_GROUP_CONFLICT,     /* libxl: "%s group both enabled and disabled" */
    VERR_BASE_NOT_ENABLED,   /* libxl: "base group not enabled" */
    VERR_SPEC_SYNTAX,        /* the spec is not a group list, list literal or boolean */
    VERR_NO_GROUPS,          /* the host only takes a boolean (Xen < 4.5) */
    VERR_UNKNOWN_HOST,
    VERR_BAD_TSC_KHZ,
    VERR_BAD_VCPUS,
    VERR_BAD_MASK,           /* a mask the host's HVM_PARAM_VIRIDIAN would refuse */
    VERR_NO_MEMORY,
    VERR_HV_REQUIRES,        /* QEMU: "Hyper-V %s requires Hyper-V %s" */
    VERR_HV_NOT_MODELLED,    /* a QEMU CPU option vsbox does not model (hv-vendor-id=...) */
    VERR_HV_VALUE,           /* a QEMU CPU option's value is not one it takes */
};

const char *verr_str(enum verr e);

#endif
