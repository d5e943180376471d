/* libFuzzer target: the xl.cfg parser and the keys vsbox applies. */
#include <stdint.h>
#include "config/xlcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xlcfg cfg;
    struct xlcfg_error err;
    struct xl_settings s;
    if (xlcfg_parse((const char *)data, size, &cfg, &err) != 0)
        return 0;
    for (unsigned i = 0; vprofile_at(i); i++)
        xlcfg_apply(&cfg, vprofile_at(i), &s, &err);
    xlcfg_free(&cfg);
    return 0;
}
