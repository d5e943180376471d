#include "cli/options.h"

#include <string.h>
#include "cli/cli.h"

static const struct opt *find(const struct opt *o, const char *a, size_t n)
{
    for (; o->name; o++)
        if ((strlen(o->name) == n && strncmp(o->name, a, n) == 0) ||
            (o->alias && strlen(o->alias) == n && strncmp(o->alias, a, n) == 0))
            return o;
    return NULL;
}

int opts_parse(const struct command *c, int argc, char **argv, const char **operand)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            opts_help(stdout, c);
            return OPTS_HELP;
        }
        if (a[0] == '-' && a[1]) {
            const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
            const struct opt *o = find(c->opts, a, eq ? (size_t)(eq - a) : strlen(a));
            if (!o) {
                fail("%s: unknown option '%s' (see vsbox %s --help)", c->name, a, c->name);
                return OPTS_ERROR;
            }
            if (!o->arg) {
                if (eq) {
                    fail("%s: %s takes no value", c->name, o->name);
                    return OPTS_ERROR;
                }
                *o->on = true;
            } else if (eq) {
                *o->value = eq + 1;
            } else if (i + 1 < argc) {
                *o->value = argv[++i];
            } else {
                fail("%s: %s needs a value (%s)", c->name, o->name, o->arg);
                return OPTS_ERROR;
            }
            continue;
        }
        if (!c->operand) {
            fail("%s: unexpected argument '%s' (see vsbox %s --help)", c->name, a, c->name);
            return OPTS_ERROR;
        }
        if (*operand) {
            fail("%s: one %s at a time ('%s' and '%s')", c->name, c->operand, *operand, a);
            return OPTS_ERROR;
        }
        *operand = a;
    }
    return OPTS_OK;
}

void opts_help(FILE *f, const struct command *c)
{
    fprintf(f, "usage: vsbox %s %s\n%s", c->name, c->synopsis, c->about);
    size_t width = 0;
    for (const struct opt *o = c->opts; o->name; o++) {
        size_t w = strlen(o->name) + (o->arg ? 1 + strlen(o->arg) : 0) +
                   (o->alias ? 2 + strlen(o->alias) : 0);
        if (w > width)
            width = w;
    }
    if (width > 22)
        width = 22;
    if (c->opts->name)
        fputs("Options:\n", f);
    for (const struct opt *o = c->opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "",
                 o->alias ? ", " : "", o->alias ? o->alias : "");
        fprintf(f, "  %-*s  ", (int)width, left);
        if (strlen(left) > width)
            fprintf(f, "\n  %-*s  ", (int)width, "");
        for (const char *h = o->help; *h; h++) {
            fputc(*h, f);
            if (*h == '\n')
                fprintf(f, "  %-*s  ", (int)width, "");
        }
        fputc('\n', f);
    }
}
