/* Snapshot files (docs/snapshot-format.md): a versioned sequence of self-describing
 * records, each with a type, an instance, a length and a CRC-32, modelled on Xen's
 * HVM save records. Portable: named registers and sparse pages, nothing of Unicorn's. */
#ifndef VSBOX_SNAPSHOT_SNAPSHOT_H
#define VSBOX_SNAPSHOT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "viridian/save.h"

#define SNAP_VERSION 2u
#define SNAP_PAGE 4096u
#define SNAP_MAX_REGS 128u
#define SNAP_MAX_MEMORY_MIB 4096u

enum snap_record {
    SNAP_REC_HEADER = 1,              /* source profile, rates, sizes, where it was taken */
    SNAP_REC_HVM_PARAM_VIRIDIAN = 2,  /* the mask, as 4.5+ streams carry it */
    SNAP_REC_LEGACY_VIRIDIAN = 3,     /* only the boolean, as pre-4.5 streams did */
    SNAP_REC_VIRIDIAN_DOMAIN = 4,     /* hvm_viridian_domain_context, the source's layout */
    SNAP_REC_VIRIDIAN_VCPU = 5,       /* instance: vCPU; hvm_viridian_vcpu_context */
    SNAP_REC_CLOCK = 6,
    SNAP_REC_CPU = 7,                 /* instance: vCPU; named registers */
    SNAP_REC_MEMORY = 8,              /* a run of non-zero pages */
    SNAP_REC_MACHINE = 9,             /* optional: the emulator's devices and counters, named */
    SNAP_REC_LAPIC = 10,              /* instance: vCPU; the APIC registers the MSRs reach */
    SNAP_REC_END = 0xffff,
};

struct snap_reg {
    char name[12];                    /* "rip", "cr3", "gdtr_base"... NUL-padded */
    uint64_t value;
};

struct snap_cpu {
    uint32_t n;
    struct snap_reg reg[SNAP_MAX_REGS];
};

struct snapshot {
    struct vsave model;               /* host, param/legacy, clock, viridian records */
    uint32_t memory_mib;
    uint64_t taken_at;                /* trapped-event count when it was taken */
    struct snap_cpu cpu[VMODEL_MAX_VCPUS];
    struct snap_cpu machine;          /* named values (PIT, event counters); n 0: none */
    uint8_t *ram;                     /* memory_mib MiB; owned */
    bool ram_mapped;                  /* snap_read's: page-aligned and lazily zeroed (mmap),
                                         so an emulator can adopt it without a copy */
    uint64_t pages_read;              /* snap_read's: non-zero pages the MEMORY records gave */
};

struct snap_error {
    char msg[240];                    /* names the record and offset */
};

/* RAM is memory_mib MiB at s->ram. 0, or -1 with errno on a write error. */
int snap_write(FILE *f, const struct snapshot *s);

/* Parse a whole file image; on success s->ram is allocated (snap_free). -1 with err
 * on anything malformed, truncated, corrupted or hostile; nothing to free then. */
int snap_read(const uint8_t *buf, size_t len, struct snapshot *s, struct snap_error *err);
/* The same from a stream (a file, a pipe, a device), read once front to back: the file
 * header and each record head are checked before anything they declare is read. */
int snap_read_file(FILE *f, struct snapshot *s, struct snap_error *err);
void snap_free(struct snapshot *s);

/* Value of a named register, false when absent. */
bool snap_reg_get(const struct snap_cpu *c, const char *name, uint64_t *value);
void snap_reg_set(struct snap_cpu *c, const char *name, uint64_t value);

uint32_t snap_crc32(uint32_t crc, const void *data, size_t len);
const char *snap_record_name(uint32_t type);

#endif
