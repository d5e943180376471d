/* Text that reaches the terminal. Names of files, snapshot fields and trace contents are
 * untrusted: a control character in them could drive the terminal (clear it, retitle it,
 * hide a line), so every error line and every echoed name goes out escaped. */
#include "cli/text.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include "cli/cli.h"

/* Length of the well-formed UTF-8 character at s (up to n bytes), 0 if not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (s[0] >= 0xf5 || len == 0 || len > n)
        return 0;
    uint32_t cp = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    /* C1 controls (U+0080-U+009F) include CSI: as dangerous as ESC. */
    return cp < 0xa0 ? 0 : len;
}

size_t text_escape(char *out, size_t size, const char *in)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t n = strlen(in), used = 0;
    for (size_t i = 0; i < n;) {
        char piece[8];
        size_t len, ulen = s[i] >= 0x80 ? utf8_len(s + i, n - i) : 0;
        const char *from = (const char *)s + i;
        if (s[i] >= 0x20 && s[i] < 0x7f) {
            len = 1;
            i++;
        } else if (ulen) {
            len = ulen;
            i += ulen;
        } else {
            snprintf(piece, sizeof piece, "\\x%02x", s[i]);
            from = piece;
            len = 4;
            i++;
        }
        if (used + len >= size)
            break;
        memcpy(out + used, from, len);
        used += len;
    }
    if (size)
        out[used < size ? used : size - 1] = '\0';
    return used;
}

const char *esc(const char *in, char *buf, size_t size)
{
    text_escape(buf, size, in ? in : "(null)");
    return buf;
}

static void vsay(const char *fmt, va_list ap)
{
    char msg[2048], safe[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    text_escape(safe, sizeof safe, msg);
    fprintf(stderr, "vsbox: %s\n", safe);
}

int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    return EXIT_BAD_INPUT;
}

void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
}
