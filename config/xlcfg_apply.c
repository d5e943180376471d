/* The xl.cfg keys vsbox understands, read the way xl reads them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/xlcfg.h"
#include "viridian/model.h"
#include "viridian/spec.h"

#define MEMORY_MAX_MIB 4096u

static int fail(struct xlcfg_error *err, const struct xlcfg_value *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct xlcfg_error *err, const struct xlcfg_value *v, const char *fmt, ...)
{
    va_list ap;
    err->line = v->line;
    err->col = v->col;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* xl takes decimal or 0x numbers (xlu_cfg_get_long uses strtol with base 0). */
static int number(const struct xlcfg_value *v, const char *key, uint64_t min, uint64_t max,
                  uint64_t *out, struct xlcfg_error *err)
{
    if (v->type != XLCFG_NUMBER)
        return fail(err, v, "%s wants a number", key);
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v->text, &end, 0);
    if (errno || *end)
        return fail(err, v, "%s: '%s' is not a number", key, v->text);
    if (n < min || n > max)
        return fail(err, v, "%s out of range (%llu to %llu)", key, (unsigned long long)min,
                    (unsigned long long)max);
    *out = n;
    return 0;
}

static int viridian(const struct xlcfg_entry *e, const struct vprofile *host, uint64_t *mask,
                    struct xlcfg_error *err)
{
    const struct xlcfg_value *v = &e->value;
    struct vspec_error serr = { 0 };
    char msg[160];
    if (v->type == XLCFG_LIST) {
        const char *items[64];
        if (v->n_items > 64)
            return fail(err, v, "viridian: too many groups");
        for (size_t i = 0; i < v->n_items; i++) {
            if (v->items[i].type != XLCFG_STRING)
                return fail(err, &v->items[i], "viridian groups are strings, like \"base\"");
            items[i] = v->items[i].text;
        }
        if (vspec_from_items(host, items, v->n_items, mask, &serr) == VERR_OK)
            return 0;
        vspec_strerror(&serr, msg, sizeof msg);
        /* A per-item error points at that item; a whole-set one at the list. */
        if (serr.code == VERR_UNKNOWN_GROUP && serr.col < v->n_items)
            return fail(err, &v->items[serr.col], "%s", msg);
        return fail(err, v, "%s", msg);
    }
    /* libxl_defbool: a number, 0 or 1. */
    uint64_t b;
    if (number(v, "viridian", 0, 1, &b, err))
        return fail(err, v, "viridian is a list of groups or 0/1");
    if (vspec_parse(host, b ? "1" : "0", mask, &serr) != VERR_OK) {
        vspec_strerror(&serr, msg, sizeof msg);
        return fail(err, v, "%s", msg);
    }
    return 0;
}

int xlcfg_apply(const struct xlcfg *cfg, const struct vprofile *host, struct xl_settings *out,
                struct xlcfg_error *err)
{
    *out = (struct xl_settings){ 0 };
    for (size_t i = 0; i < cfg->n_entries; i++) {
        const struct xlcfg_entry *e = &cfg->entries[i];
        const struct xlcfg_value *v = &e->value;
        uint64_t n;
        /* A key given twice: the last one counts, as in xl (libxlu_cfg.c
         * xlu__cfg_set_store() puts each setting at the head of the list, find() returns
         * the first it meets). XTF's configs rely on it: their "Test Extra
         * Configuration" comes after the defaults it overrides. */
        if (strcmp(e->key, "viridian") == 0) {
            if (viridian(e, host, &out->viridian, err))
                return -1;
            out->have_viridian = true;
        } else if (strcmp(e->key, "vcpus") == 0) {
            if (number(v, "vcpus", 1, VMODEL_MAX_VCPUS, &n, err))
                return -1;
            out->vcpus = (uint32_t)n;
            out->have_vcpus = true;
        } else if (strcmp(e->key, "memory") == 0) {
            if (number(v, "memory (MiB)", 1, MEMORY_MAX_MIB, &n, err))
                return -1;
            out->memory_mib = (uint32_t)n;
            out->have_memory = true;
        } else if (strcmp(e->key, "name") == 0) {
            if (v->type != XLCFG_STRING)
                return fail(err, v, "name wants a string");
            snprintf(out->name, sizeof out->name, "%s", v->text);
        } else if (strcmp(e->key, "firmware_override") == 0 || strcmp(e->key, "kernel") == 0) {
            /* What the guest runs: an HVM guest's firmware (XTF's test kernels are
             * given this way), or a direct-boot kernel. */
            if (v->type != XLCFG_STRING || !v->text[0])
                return fail(err, v, "%s wants a file name", e->key);
            if (strlen(v->text) >= sizeof out->image)
                return fail(err, v, "%s: file name too long", e->key);
            if (!out->image[0] || strcmp(e->key, "firmware_override") == 0) {
                snprintf(out->image, sizeof out->image, "%s", v->text);
                out->image_line = v->line;
            }
        } else if (strcmp(e->key, "type") == 0 || strcmp(e->key, "builder") == 0) {
            if (v->type != XLCFG_STRING)
                return fail(err, v, "%s wants a string", e->key);
            if (strcmp(v->text, "hvm") != 0)
                return fail(err, v, "vsbox runs HVM guests only (%s = \"%s\")", e->key, v->text);
        } else {
            if (out->n_ignored < sizeof out->ignored / sizeof out->ignored[0])
                out->ignored[out->n_ignored] = e->key;
            out->n_ignored++;
        }
    }
    return 0;
}
