/* libFuzzer target: the snapshot reader on arbitrary bytes; what it accepts must
 * also restore into a model. The same bytes as a stream of unknown length (a pipe, as
 * vsbox snapshot info - would read them) must get the same verdict. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "snapshot/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct snapshot s, t;
    struct snap_error err, err2;
    int rc = snap_read(data, size, &s, &err);
    FILE *f = size ? fmemopen((void *)data, size, "rb") : NULL;
    if (f) {
        int rc2 = snap_read_file(f, &t, &err2);
        fclose(f);
        if ((rc == 0) != (rc2 == 0))
            abort();
        if (rc2 == 0)
            snap_free(&t);
    }
    if (rc != 0)
        return 0;
    const struct vprofile *host = vprofile_find(s.model.host);
    struct vmodel *m = NULL;
    if (host && vmodel_restore(&s.model, host, (struct vmem_ops){ 0 }, &m) == VRES_OK)
        vmodel_destroy(m);
    snap_free(&s);
    return 0;
}
