/* libFuzzer target: the emulator running a byte string as 64-bit guest code, with the
 * viridian model behind it, for a small budget of guest blocks (loops are the common case,
 * and a large budget only makes each input slower, not the search wider).
 * Whatever the bytes do (fault, loop, rewrite themselves, write MSRs), vsbox must end
 * the run cleanly with one of its stop reasons. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "emu/emu.h"

/* Free RAM is filled with HLT: with zeroes, nearly every input falls off its end (or
 * jumps) into a megabyte of `add [rax], al`, which Unicorn translates before the fetch
 * past RAM faults: ~3 s an input instead of ~10 ms. Below 0x8000 are the GDT and page
 * tables (emu/machine.c). */
enum { CODE_MAX = 4096, CODE_AT = 0x100000, FREE_LOW = 0x8000, HLT = 0xf4 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > CODE_MAX)
        return 0;
    /* The first byte picks the viridian value; the rest is code. */
    struct emu_config cfg = { .model = { .viridian = data[0] & 1 ? 1 : 0 }, .memory_mib = 2,
                              .budget = 5000 };
    struct emu *e;
    char err[256];
    if (emu_create(&cfg, &e, err, sizeof err))
        abort();
    size_t len = size - 1;
    if (emu_load(e, data + 1, len, true, CODE_AT, err, sizeof err) == 0) {
        uint64_t ram_size;
        uint8_t *ram = emu_ram(e, &ram_size);
        memset(ram + FREE_LOW, HLT, CODE_AT - FREE_LOW);
        memset(ram + CODE_AT + len, HLT, ram_size - CODE_AT - len);
        struct emu_result res;
        emu_run(e, &res);
        if (res.stop == EMU_ERROR)
            abort(); /* Unicorn refused something vsbox asked of it: a vsbox bug */
    }
    emu_destroy(e);
    return 0;
}
