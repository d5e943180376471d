/* Running built guests from the emulator tests. */
#ifndef VSBOX_TESTS_EMU_UTIL_H
#define VSBOX_TESTS_EMU_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include "tests/support.h"

static inline const char *test_guest(const char *file)
{
    static char buf[4][1024];
    static unsigned next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%s/test-images/%s", VSBOX_BUILD_DIR, file);
    return b;
}

/* Run a flat test image at 0x100000 (extra: more arguments, NULL-terminated). */
static inline struct run_result run_image(const char *image, const char *const *extra)
{
    const char *args[16] = { "run", test_guest(image), "--raw", "0x100000" };
    size_t n = 4;
    for (size_t i = 0; extra && extra[i] && n < 15; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    return run_vsbox(args, NULL);
}

#endif
