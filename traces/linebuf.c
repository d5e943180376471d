#include "traces/linebuf.h"

#include <string.h>

void linebuf_init(struct linebuf *lb, FILE *f, size_t window)
{
    lb->f = f;
    lb->window = window < LINEBUF_BLOCK ? window : LINEBUF_BLOCK;
    lb->pos = lb->end = 0;
    lb->eof = false;
    /* The block needs no zeroing; the bytes past it are read by overreads, never
     * decisive, but never uninitialised either. */
    memset(lb->buf + LINEBUF_BLOCK, 0, 1 + LINEBUF_SLACK);
}

/* Move the unread bytes to the front and fill the rest of the block. */
static int refill(struct linebuf *lb)
{
    size_t avail = lb->end - lb->pos;
    memmove(lb->buf, lb->buf + lb->pos, avail);
    lb->pos = 0;
    lb->end = avail;
    size_t got = fread(lb->buf + avail, 1, LINEBUF_BLOCK - avail, lb->f);
    lb->end += got;
    /* Overreads past the data see zeros, not bytes left from an earlier block. */
    memset(lb->buf + lb->end, 0, LINEBUF_SLACK);
    if (got < LINEBUF_BLOCK - avail) {
        if (ferror(lb->f))
            return -1;
        lb->eof = true;
    }
    return 0;
}

int linebuf_next(struct linebuf *lb, char **text, size_t *len, bool *whole)
{
    char *start, *nl;
    size_t avail;
    for (;;) {
        start = lb->buf + lb->pos;
        avail = lb->end - lb->pos;
        nl = memchr(start, '\n', avail < lb->window ? avail : lb->window);
        if (nl || avail >= lb->window || lb->eof)
            break;
        if (refill(lb))
            return -1;
    }
    *text = start;
    if (nl) {
        *len = (size_t)(nl - start);
        *whole = true;
        lb->pos += *len + 1;
        return 1;
    }
    if (avail == 0)
        return 0;
    /* The last line of the stream, or the start of one longer than the window. */
    *len = avail < lb->window ? avail : lb->window;
    *whole = avail < lb->window;
    lb->pos += *len;
    return 1;
}

int linebuf_skip_rest(struct linebuf *lb)
{
    for (;;) {
        char *nl = memchr(lb->buf + lb->pos, '\n', lb->end - lb->pos);
        if (nl) {
            lb->pos = (size_t)(nl - lb->buf) + 1;
            return 0;
        }
        lb->pos = lb->end;
        if (lb->eof)
            return 0;
        if (refill(lb))
            return -1;
    }
}
