#include "cli/input.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"

FILE *input_open(const char *path, int allow_stdin)
{
    if (allow_stdin && strcmp(path, "-") == 0)
        return stdin;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        fail("%s: is a directory", path);
        return NULL;
    }
    return f;
}

void input_close(FILE *f)
{
    if (f && f != stdin)
        fclose(f);
}

uint8_t *input_read_all(FILE *f, const char *path, size_t max, const char *too_big,
                        size_t *len)
{
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
        fail("%s: %s", path, too_big);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    bool bad = false, big = false;
    while (buf && !bad && !big) {
        if (n == cap) {
            if (cap > max) {
                big = true;
                break;
            }
            uint8_t *more = realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
        size_t want = cap - n;
        if (want > max + 1 - n)
            want = max + 1 - n; /* never read past the limit's first byte */
        size_t got = fread(buf + n, 1, want, f);
        n += got;
        bad = ferror(f);
        big = n > max;
        if (got == 0 || feof(f))
            break;
    }
    if (!buf || bad || big) {
        free(buf);
        fail("%s: %s", path, !buf ? "out of memory" : bad ? "cannot read" : too_big);
        return NULL;
    }
    *len = n;
    return buf;
}
