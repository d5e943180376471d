/* Snapshot speed and size: save and restore a booted 16 MiB guest (the bundled
 * migration guest, stopped after event 30), against copying its 16 MiB of RAM once
 * (the floor any save must pay), measured side by side. Best of 20. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "emu/emu.h"
#include "snapshot/snapshot.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct emu *boot(const uint8_t *img, size_t len)
{
    struct emu_config cfg = { .model = { .viridian = 1 }, .memory_mib = 16, .save_at = 30 };
    struct emu *e;
    char err[256];
    struct emu_result res;
    if (emu_create(&cfg, &e, err, sizeof err) || emu_load(e, img, len, false, 0, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        exit(2);
    }
    emu_run(e, &res);
    if (res.stop != EMU_SAVE_POINT) {
        fprintf(stderr, "bench: the guest did not reach event 30\n");
        exit(2);
    }
    return e;
}

int main(void)
{
    const char *path = VSBOX_GUEST_DIR "/migration.elf";
    FILE *f = fopen(path, "rb");
    static uint8_t img[1 << 20];
    size_t len = f ? fread(img, 1, sizeof img, f) : 0;
    if (!f || !len) {
        fprintf(stderr, "bench: cannot read %s (build the guests first)\n", path);
        return 2;
    }
    fclose(f);
    struct emu *e = boot(img, len);
    struct snapshot *snap = calloc(1, sizeof *snap), *back = calloc(1, sizeof *back);
    uint8_t *copy = malloc(16u << 20);
    memset(copy, 1, 16u << 20);
    double t_save = 1e9, t_restore = 1e9, t_copy = 1e9, t_file = 1e9;
    size_t size = 0;
    char err[256];
    for (int i = 0; i < 20; i++) {
        double t = now();
        memcpy(copy, copy + (8u << 20), 8u << 20);
        memcpy(copy + (8u << 20), copy, 8u << 20);
        t = now() - t;
        t_copy = t < t_copy ? t : t_copy;

        char *buf = NULL;
        size_t blen = 0;
        t = now();
        FILE *mem = open_memstream(&buf, &blen);
        emu_save(e, snap);
        snap_write(mem, snap);
        fclose(mem);
        t = now() - t;
        t_save = t < t_save ? t : t_save;
        size = blen;

        t = now();
        FILE *disk = fopen("/tmp/vsbox-bench.snap", "wb");
        fwrite(buf, 1, blen, disk);
        fclose(disk);
        t = now() - t;
        t_file = t < t_file ? t : t_file;

        struct emu_config cfg = { 0 };
        struct emu *r;
        struct snap_error serr;
        t = now();
        if (snap_read((uint8_t *)buf, blen, back, &serr) ||
            emu_restore(&cfg, back, vprofile_find(back->model.host), &r, err, sizeof err)) {
            fprintf(stderr, "bench: restore: %s\n", err);
            return 2;
        }
        t = now() - t;
        t_restore = t < t_restore ? t : t_restore;
        emu_destroy(r);
        snap_free(back);
        free(buf);
    }
    remove("/tmp/vsbox-bench.snap");
    printf("vsbox snapshot speed, 16 MiB guest after 30 events (best of 20)\n");
    printf("%-44s %9.3f ms\n", "copying 16 MiB once (the floor)", t_copy * 1e3);
    printf("%-44s %9.3f ms  %6.2fx the floor  (target < 10 ms)\n",
           "save: registers, records, sparse pages", t_save * 1e3, t_save / t_copy);
    printf("%-44s %9.3f ms  %6.2fx the floor  (target < 10 ms)\n",
           "restore: parse, new engine, RAM, registers", t_restore * 1e3, t_restore / t_copy);
    printf("%-44s %9.3f ms\n", "writing the file to /tmp", t_file * 1e3);
    printf("%-44s %9zu bytes (%.4f of the RAM)\n", "snapshot size", size,
           (double)size / (16u << 20));
    emu_destroy(e);
    free(copy);
    free(snap);
    free(back);
    return 0;
}
