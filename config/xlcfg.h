/* xl.cfg(5) files as Xen users write them: `key = value` with strings, numbers and
 * [ lists ], `#` comments, `;` or newlines between settings. */
#ifndef VSBOX_CONFIG_XLCFG_H
#define VSBOX_CONFIG_XLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "viridian/profile.h"

enum xlcfg_type { XLCFG_STRING, XLCFG_NUMBER, XLCFG_LIST };

struct xlcfg_value {
    enum xlcfg_type type;
    char *text;                  /* STRING: unescaped contents; NUMBER: as written */
    struct xlcfg_value *items;   /* LIST */
    size_t n_items;
    unsigned line, col;          /* 1-based position of the value */
};

struct xlcfg_entry {
    char *key;
    struct xlcfg_value value;
    unsigned line, col;          /* of the key */
};

struct xlcfg {
    struct xlcfg_entry *entries; /* in file order; a repeated key: the last one wins */
    size_t n_entries;
};

struct xlcfg_error {
    unsigned line, col;          /* 1-based */
    char msg[200];
};

/* 0 on success; -1 with err filled (syntax) - no partial result to free then. */
int xlcfg_parse(const char *text, size_t len, struct xlcfg *out, struct xlcfg_error *err);
void xlcfg_free(struct xlcfg *cfg);
/* The last entry with that key, or NULL. */
const struct xlcfg_entry *xlcfg_get(const struct xlcfg *cfg, const char *key);

/* The settings vsbox takes from an xl.cfg. */
struct xl_settings {
    bool have_viridian;
    uint64_t viridian;           /* HVM_PARAM_VIRIDIAN value, as libxl would set it */
    bool have_vcpus;
    uint32_t vcpus;
    bool have_memory;
    uint32_t memory_mib;
    char name[64];               /* the guest's name, "" when none */
    char image[1024];            /* firmware_override (HVM) or kernel, as written; "" none */
    unsigned image_line;         /* where it was given */
    size_t n_ignored;            /* keys vsbox does not use, listed by --verbose */
    const char *ignored[64];     /* point into the xlcfg; first 64 only */
};

/* Apply the keys vsbox understands, with the host's viridian groups; a key given twice
 * takes its last value, as xl does. -1 with err (naming the line and column of the
 * offending value) on a bad value. */
int xlcfg_apply(const struct xlcfg *cfg, const struct vprofile *host,
                struct xl_settings *out, struct xlcfg_error *err);

#endif
