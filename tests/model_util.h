/* Small helpers for tests that drive the model directly. */
#ifndef VSBOX_TESTS_MODEL_UTIL_H
#define VSBOX_TESTS_MODEL_UTIL_H

#include <criterion/criterion.h>
#include "viridian/model.h"
#include "viridian/profile.h"

static inline struct vmodel *model_with(uint64_t viridian, struct vmem_ops mem)
{
    struct vconfig cfg = { .host = vprofile_find("xen-4.5"), .viridian = viridian, .mem = mem };
    struct vmodel *m = NULL;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    return m;
}

static inline struct vmodel *model(uint64_t viridian)
{
    return model_with(viridian, (struct vmem_ops){ 0 });
}

#endif
