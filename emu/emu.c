/* The emulator's life: create (config only), load (which picks the boot state and
 * builds the machine), run (run.c), destroy. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "emu/icount.h"
#include "emu/internal.h"
#include "emu/phys.h"
#include "emu/xen_platform.h"
#include "viridian/save.h"

int load_probe(const uint8_t *img, size_t len, bool raw, bool *long_mode, char *err,
               size_t errlen);
int load_image(struct emu *e, const uint8_t *img, size_t len, bool raw, uint64_t raw_addr,
               uint64_t *entry, char *err, size_t errlen);

/* The model reads and writes guest-physical memory (hypercall pages, parameters). */
static int model_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    struct emu *e = ctx;
    if (!phys_ram(e, gpa, len))
        return -1;
    phys_read(e, gpa, buf, len);
    return 0;
}

static int model_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    struct emu *e = ctx;
    if (!phys_ram(e, gpa, len))
        return -1;
    phys_write(e, gpa, buf, len);
    return 0;
}

/* Unicorn maps at most this much RAM below the 4 GiB device area (Xen's default MMIO
 * hole starts at 0xf0000000). */
#define EMU_MAX_MEMORY_MIB 3840u

int emu_create(const struct emu_config *cfg, struct emu **out, char *err, size_t errlen)
{
    struct emu *e = calloc(1, sizeof *e);
    *out = NULL;
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->cfg = *cfg;
    if (!e->cfg.memory_mib)
        e->cfg.memory_mib = 16;
    if (e->cfg.memory_mib > EMU_MAX_MEMORY_MIB) {
        snprintf(err, errlen, "--memory %u MiB: at most %u", e->cfg.memory_mib, EMU_MAX_MEMORY_MIB);
        free(e);
        return -1;
    }
    struct vconfig mc = cfg->model;
    mc.vcpus = mc.vcpus ? mc.vcpus : 1;
    mc.mem = (struct vmem_ops){ e, model_read, model_write };
    enum verr v = vmodel_create(&mc, &e->model);
    if (v != VERR_OK) {
        snprintf(err, errlen, "%s", verr_str(v));
        free(e);
        return -1;
    }
    *out = e;
    return 0;
}

/* A model for a restored guest: the stream's records under the destination's rules
 * (to), or with to NULL a rewind of the same guest on its own host. */
int emu_attach_model(struct emu *e, const struct vsave *s, const struct vprofile *to, char *err,
                     size_t errlen)
{
    struct vmem_ops mem = { e, model_read, model_write };
    enum vres_kind r = to ? vmodel_restore(s, to, mem, &e->model)
                          : vmodel_rewind(s, mem, &e->model);
    if (r != VRES_OK) {
        snprintf(err, errlen, "%s refuses the snapshot's viridian state", to ? to->name : s->host);
        return -1;
    }
    if (e->vcpus)
        vplatform_attach(e);   /* a rewind's new model (a restore attaches in vcpu_setup) */
    return 0;
}

csh emu_capstone(struct emu *e, enum cpu_mode m)
{
    switch (m) {
    case MODE_LONG64:
        return e->cs64;
    case MODE_PROT32:
    case MODE_COMPAT32:
        return e->cs32;
    default:
        return e->cs16;
    }
}

int emu_load(struct emu *e, const uint8_t *img, size_t len, bool raw, uint64_t raw_addr,
             char *err, size_t errlen)
{
    uint64_t entry;
    if (load_probe(img, len, raw, &e->boot_long, err, errlen) || machine_setup(e, err, errlen))
        return -1;
    machine_tables(e);
    if (load_image(e, img, len, raw, raw_addr, &entry, err, errlen) ||
        cpuid_native_probe(e, err, errlen))
        return -1;
    machine_enter(e, entry, e->boot_long);
    return 0;
}

struct vmodel *emu_model(struct emu *e)
{
    return e->model;
}

uint8_t *emu_ram(struct emu *e, uint64_t *size)
{
    *size = e->ram_size;
    return e->ram;
}

void emu_destroy(struct emu *e)
{
    if (!e)
        return;
    vcpu_free(e);
    cpustate_close(&e->cpu);
    cpustate_close(&e->paging);
    if (e->uc)
        uc_close(e->uc);
    csh *handles[4] = { &e->cs16, &e->cs32, &e->cs64, &e->cs64d };
    for (int i = 0; i < 4; i++)
        if (*handles[i])
            cs_close(handles[i]);
    vmodel_destroy(e->model);
    if (e->ram)
        munmap(e->ram, (size_t)e->ram_size);
    if (e->special)
        munmap(e->special, XEN_SPECIAL_SIZE);
    icount_free(&e->icount);
    icount_free(&e->int_len);
    xen_platform_free(e);
    free(e->dirty);
    free(e->code_pages);
    free(e);
}
