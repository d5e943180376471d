/* The guests built with vsbox (guests/NAME/main.c), by name and title. */
#ifndef VSBOX_CLI_GUESTS_H
#define VSBOX_CLI_GUESTS_H

#include <stddef.h>

struct bundled_guest {
    const char *name;
    const char *title;  /* the guest's test_title, less its leading "NAME: " */
};

/* The i-th bundled guest, NULL past the end. */
const struct bundled_guest *bundled_guest(unsigned i);

/* IMAGE as run, resume and migrate take it: a file, else a bundled guest by name. A name
 * that is neither is reported with the list of guests; returns NULL then. */
const char *guest_image_path(const char *arg, char *buf, size_t len);

#endif
