/* libFuzzer target: the snapshot reader on arbitrary bytes; what it accepts must
 * also restore into a model. */
#include <stdint.h>
#include <stdlib.h>
#include "snapshot/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct snapshot s;
    struct snap_error err;
    if (snap_read(data, size, &s, &err) != 0)
        return 0;
    const struct vprofile *host = vprofile_find(s.model.host);
    struct vmodel *m = NULL;
    if (host && vmodel_restore(&s.model, host, (struct vmem_ops){ 0 }, &m) == VRES_OK)
        vmodel_destroy(m);
    snap_free(&s);
    return 0;
}
