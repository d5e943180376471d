/* Running built guests from the emulator tests. */
#ifndef VSBOX_TESTS_EMU_UTIL_H
#define VSBOX_TESTS_EMU_UTIL_H

#include <stdio.h>
#include "tests/support.h"

static inline const char *test_guest(const char *file)
{
    static char buf[4][1024];
    static unsigned next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%s/test-images/%s", VSBOX_BUILD_DIR, file);
    return b;
}

#endif
