#include "viridian/verr.h"

const char *verr_str(enum verr e)
{
    static const char *const msg[] = {
        [VERR_OK] = "success",
        [VERR_UNKNOWN_GROUP] = "unknown viridian enlightenment",
        [VERR_GROUP_CONFLICT] = "group both enabled and disabled",
        [VERR_BASE_NOT_ENABLED] = "base group not enabled",
        [VERR_SPEC_SYNTAX] = "not a viridian group list, list literal or boolean",
        [VERR_NO_GROUPS] = "this host's viridian option is a boolean (0 or 1)",
        [VERR_UNKNOWN_HOST] = "unknown host profile",
        [VERR_BAD_TSC_KHZ] = "TSC frequency out of range (1000 to 100000000 kHz)",
        [VERR_BAD_VCPUS] = "vCPU count out of range (1 to 64)",
        [VERR_BAD_MASK] = "HVM_PARAM_VIRIDIAN value this host refuses",
        [VERR_NO_MEMORY] = "out of memory",
        [VERR_HV_REQUIRES] = "a Hyper-V enlightenment lacks one it requires",
        [VERR_HV_NOT_MODELLED] = "a CPU option vsbox does not model",
        [VERR_HV_VALUE] = "a CPU option's value it does not take",
    };
    if ((unsigned)e < sizeof msg / sizeof msg[0] && msg[e])
        return msg[e];
    return "unknown error";
}
