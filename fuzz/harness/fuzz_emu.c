/* libFuzzer target: the emulator running a byte string as 64-bit guest code, with the
 * viridian model behind it, for a small budget of guest blocks (loops are the common case,
 * and a large budget only makes each input slower, not the search wider).
 * Whatever the bytes do (fault, loop, rewrite themselves, write MSRs), vsbox must end
 * the run cleanly with one of its stop reasons. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "emu/emu.h"

/* HLTs after the code: without them nearly every input falls off its end into zeroed RAM,
 * and Unicorn translates a megabyte of `add [rax], al` before the fetch faults, which
 * measured at ~2 s an input instead of ~10 ms. */
enum { CODE_MAX = 4096, HLT_PAD = 64 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > CODE_MAX)
        return 0;
    uint8_t code[CODE_MAX + HLT_PAD];
    size_t len = size - 1;
    memcpy(code, data + 1, len);
    memset(code + len, 0xf4, HLT_PAD);
    /* The first byte picks the viridian value; the rest is code. */
    struct emu_config cfg = { .model = { .viridian = data[0] & 1 ? 1 : 0 }, .memory_mib = 2,
                              .budget = 5000 };
    struct emu *e;
    char err[256];
    if (emu_create(&cfg, &e, err, sizeof err))
        abort();
    if (emu_load(e, code, len + HLT_PAD, true, 0x100000, err, sizeof err) == 0) {
        struct emu_result res;
        emu_run(e, &res);
        if (res.stop == EMU_ERROR)
            abort(); /* Unicorn refused something vsbox asked of it: a vsbox bug */
    }
    emu_destroy(e);
    return 0;
}
