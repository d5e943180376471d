/* vsbox guests, and the bundled-guest names run, resume and migrate accept. The table
 * is generated at configure time from each guest's test_title (CMakeLists.txt). */
#include "cli/guests.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "cli/options.h"

struct row {
    const char *name, *title;
};

static const struct row table[] = {
#include "guest_table.h"
};

const struct bundled_guest *bundled_guest(unsigned i)
{
    static struct bundled_guest g;
    if (i >= sizeof table / sizeof table[0])
        return NULL;
    size_t n = strlen(table[i].name);
    g.name = table[i].name;
    g.title = strncmp(table[i].title, g.name, n) == 0 && strncmp(table[i].title + n, ": ", 2) == 0
                  ? table[i].title + n + 2 : table[i].title;
    return &g;
}

const char *guest_image_path(const char *arg, char *buf, size_t len)
{
    struct stat st;
    if (strchr(arg, '/') || stat(arg, &st) == 0)
        return arg;
    for (unsigned i = 0; bundled_guest(i); i++)
        if (strcmp(bundled_guest(i)->name, arg) == 0) {
            snprintf(buf, len, "%s/%s.elf", VSBOX_GUEST_DIR, arg);
            return buf;
        }
    char names[1024] = "";
    for (unsigned i = 0; bundled_guest(i); i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                 bundled_guest(i)->name);
    fail("'%s' is neither a file nor a bundled guest (bundled: %s; see vsbox guests)", arg, names);
    return NULL;
}

int cmd_guests(int argc, char **argv)
{
    static const struct opt opts[] = { { 0 } };
    static const struct command c = {
        "guests", "",
        "List the guests built with vsbox, which run, resume and migrate take by name\n"
        "(vsbox run probe), each with what it checks (docs/guests.md).\n",
        NULL, opts,
    };
    const char *none = NULL;
    int rc = opts_parse(&c, argc, argv, &none);
    if (rc != OPTS_OK)
        return rc == OPTS_HELP ? EXIT_OK : EXIT_BAD_INPUT;
    for (unsigned i = 0; bundled_guest(i); i++)
        printf("%-15s %s\n", bundled_guest(i)->name, bundled_guest(i)->title);
    return EXIT_OK;
}
