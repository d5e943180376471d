#include "cli/term.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

bool term_color(FILE *f)
{
    const char *no = getenv("NO_COLOR");
    if (no && no[0])
        return false;
    return isatty(fileno(f)) == 1;
}

const char *term_sgr(bool color, enum term_style s)
{
    static const char *const sgr[] = {
        [TERM_PLAIN] = "\033[0m", [TERM_BOLD] = "\033[1m",  [TERM_DIM] = "\033[2m",
        [TERM_OK] = "\033[32m",   [TERM_BAD] = "\033[31m",  [TERM_WARN] = "\033[33m",
        [TERM_NOTE] = "\033[36m",
    };
    return color ? sgr[s] : "";
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void progress_begin(struct progress *p, const char *what)
{
    /* The first line waits 100 ms: a short command never draws one. */
    *p = (struct progress){ .on = isatty(STDERR_FILENO) == 1, .what = what, .last_ms = now_ms() };
}

void progress_update(struct progress *p, uint64_t done, uint64_t total, const char *unit)
{
    if (!p->on)
        return;
    uint64_t t = now_ms();
    if (t - p->last_ms < 100)
        return;
    p->last_ms = t;
    p->drawn = true;
    int n;
    if (total)
        n = fprintf(stderr, "\r%s: %llu/%llu %s (%llu%%)", p->what, (unsigned long long)done,
                    (unsigned long long)total, unit, (unsigned long long)(done * 100 / total));
    else
        n = fprintf(stderr, "\r%s: %llu %s", p->what, (unsigned long long)done, unit);
    if (n > 0 && n - 1 < p->width)
        fprintf(stderr, "%*s", p->width - (n - 1), "");
    if (n > 0 && n - 1 > p->width)
        p->width = n - 1;
    fflush(stderr);
}

void progress_end(struct progress *p)
{
    if (p->on && p->drawn)
        fprintf(stderr, "\r%*s\r", p->width, "");
    p->on = false;
}
