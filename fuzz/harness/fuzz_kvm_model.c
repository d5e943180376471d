/* libFuzzer target: the KVM host model (--host kvm) driven by raw bytes. The first eight
 * bytes choose QEMU flags (closed under what each needs, as QEMU would take them),
 * hv-spinlocks, the vCPUs and the TSC rate; then each 16-byte record is one event, with
 * migrations to any host, Xen's included (the cross-hypervisor restore). The fuzzer's
 * oracles state Xen's rules, so this target checks determinism instead: two models built
 * alike, each with its own zeroed guest RAM, must give every event the same answer. A
 * difference, or a sanitizer report, aborts and libFuzzer keeps the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "viridian/hvkvm.h"
#include "viridian/model.h"
#include "viridian/profile.h"
#include "viridian/spec.h"

#define RAM_BYTES 0x20000u

struct ram {
    uint8_t b[RAM_BYTES];
};

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    struct ram *r = ctx;
    if (gpa > RAM_BYTES || len > RAM_BYTES - gpa)
        return -1;
    memcpy(buf, r->b + gpa, len);
    return 0;
}

static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    struct ram *r = ctx;
    if (gpa > RAM_BYTES || len > RAM_BYTES - gpa)
        return -1;
    memcpy(r->b + gpa, buf, len);
    return 0;
}

static uint64_t take(const uint8_t **p, const uint8_t *end, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n && *p < end; i++, (*p)++)
        v |= (uint64_t)**p << (8 * i);
    return v;
}

/* A configuration QEMU takes: each chosen flag with what it needs. */
static uint64_t config(uint64_t bits, uint32_t spinlocks)
{
    const struct vprofile *kvm = vprofile_kvm();
    uint64_t on = 0;
    for (int g = VGROUP_FIRST_KVM; g < VGROUP_COUNT; g++)
        if (bits >> (g - VGROUP_FIRST_KVM) & 1)
            on = vgroups_flip(kvm, on, g, true);
    return vgroups_to_mask(on) |
           (uint64_t)(spinlocks ^ HYPERV_SPINLOCK_NEVER_NOTIFY) << KVM_SPINLOCKS_SHIFT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ram ram[2];
    const uint8_t *p = data, *end = data + size;
    unsigned hosts = 0;
    while (vprofile_host_at(hosts))
        hosts++;
    if (size < 8)
        return 0;
    uint64_t head = take(&p, end, 8);
    struct vmodel *m[2] = { NULL, NULL };
    for (int i = 0; i < 2; i++) {
        memset(&ram[i], 0, sizeof ram[i]);
        struct vconfig cfg = {
            .host = vprofile_kvm(),
            .viridian = config(head & 0xffffffffu, (head >> 32 & 1) ? (uint32_t)(head >> 33 & 0xfff)
                                                                    : HYPERV_SPINLOCK_NEVER_NOTIFY),
            .tsc_khz = 1000000 + (uint32_t)(head >> 45 & 0xff) * 10000,
            .vcpus = 1 + (uint32_t)(head >> 53 & 3),
            .mem = { &ram[i], ram_read, ram_write },
        };
        if (vmodel_create(&cfg, &m[i]) != VERR_OK)
            abort(); /* every closed set is one QEMU takes */
    }
    uint32_t vcpus = vmodel_vcpus(m[0]);
    while (p < end) {
        struct vevent ev = { 0 };
        ev.kind = (enum vev_kind)(take(&p, end, 1) % VEV_KIND_COUNT);
        ev.vcpu = (uint32_t)(take(&p, end, 1) % vcpus);
        ev.from_guest = take(&p, end, 1) & 1;
        ev.legacy = (int)(take(&p, end, 1) % 3) - 1;
        ev.host = vprofile_host_at((unsigned)take(&p, end, 1) % hosts);
        ev.a[0] = take(&p, end, 4) ^ (ev.kind == VEV_RDMSR || ev.kind == VEV_WRMSR ||
                                      ev.kind == VEV_CPUID ? 0x40000000u : 0);
        ev.a[1] = take(&p, end, 4);
        ev.a[2] = take(&p, end, 3) & (RAM_BYTES - 1);
        if (ev.kind == VEV_ADVANCE)
            ev.a[0] &= 0xffffff; /* time moves, but the run stays short */
        struct vres r[2];
        bool ok[2];
        for (int i = 0; i < 2; i++)
            ok[i] = vmodel_apply(m[i], &ev, &r[i]);
        if (ok[0] != ok[1] || (ok[0] && !vres_equal(&r[0], &r[1])))
            abort();
        vcpus = vmodel_vcpus(m[0]);
    }
    if (memcmp(ram[0].b, ram[1].b, RAM_BYTES) != 0)
        abort();
    vmodel_destroy(m[0]);
    vmodel_destroy(m[1]);
    return 0;
}
