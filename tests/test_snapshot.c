/* Snapshot files: round trips, size, and every kind of bad file ending in a message
 * that names the record. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "snapshot/snapshot.h"
#include "viridian/hvmpv.h"

#define MIB 16u

static struct snapshot *sample(bool legacy)
{
    struct snapshot *s = calloc(1, sizeof *s);
    struct vconfig cfg = { .host = vprofile_find("xen-4.5"), .viridian = 0x3, .vcpus = 2,
                           .tsc_khz = 2500000 };
    struct vmodel *m;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    vmodel_wrmsr(m, 0, HV_X64_MSR_GUEST_OS_ID, 0x1040601001db0ull);
    vmodel_wrmsr(m, 1, HV_X64_MSR_TPR, 0x30);
    vmodel_advance(m, 123456789);
    vmodel_save(m, legacy, &s->model);
    vmodel_destroy(m);
    s->memory_mib = MIB;
    s->taken_at = 42;
    s->ram = calloc(1, MIB << 20);
    memcpy(s->ram + 0x100000, "\xeb\xfe", 2);
    memset(s->ram + 0x200000, 0xcc, 3 * SNAP_PAGE);
    s->ram[(MIB << 20) - 1] = 0x5a;
    snap_reg_set(&s->cpu[0], "rip", 0x100000);
    snap_reg_set(&s->cpu[0], "rsp", 0xfff000);
    snap_reg_set(&s->cpu[1], "rip", 0x100010);
    s->cpu[0].n = s->cpu[0].n;
    return s;
}

static uint8_t *to_bytes(const struct snapshot *s, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    cr_assert_eq(snap_write(f, s), 0);
    fclose(f);
    return (uint8_t *)buf;
}

static void free_sample(struct snapshot *s)
{
    snap_free(s);
    free(s);
}

Test(snapshot, crc32_is_the_ieee_check_value)
{
    cr_assert_eq(snap_crc32(0, "123456789", 9), 0xcbf43926u);
}

Test(snapshot, a_round_trip_keeps_everything)
{
    struct snapshot *s = sample(false), *t = calloc(1, sizeof *t);
    size_t len;
    uint8_t *bytes = to_bytes(s, &len);
    struct snap_error err;
    cr_assert_eq(snap_read(bytes, len, t, &err), 0, "%s", err.msg);
    cr_assert_str_eq(t->model.host, "xen-4.5");
    cr_assert_eq(t->model.legacy, -1);
    cr_assert_eq(t->model.param, 0x3);
    cr_assert_eq(t->model.tsc, 123456789);
    cr_assert_eq(t->model.tsc_khz, 2500000);
    cr_assert_eq(t->model.domain.guest_os_id, 0x1040601001db0ull);
    cr_assert_eq(t->model.vcpu[1].tpr, 0x30);
    cr_assert_eq(t->taken_at, 42);
    uint64_t v;
    cr_assert(snap_reg_get(&t->cpu[1], "rip", &v));
    cr_assert_eq(v, 0x100010);
    cr_assert_not(snap_reg_get(&t->cpu[1], "rsp", &v));
    cr_assert_eq(memcmp(s->ram, t->ram, MIB << 20), 0);
    free(bytes);
    free_sample(s);
    free_sample(t);
}

Test(snapshot, a_mostly_empty_guest_stays_small)
{
    struct snapshot *s = sample(false);
    size_t len;
    uint8_t *bytes = to_bytes(s, &len);
    /* five non-zero pages and the records: well under 32 KiB for 16 MiB of RAM */
    cr_assert_lt(len, 32768, "%zu bytes", len);
    free(bytes);
    free_sample(s);
}

/* hvm_viridian_domain_context / hvm_viridian_vcpu_context sizes at each release's
 * public/arch-x86/hvm/save.h: 4.3 {hypercall_gpa, guest_os_id} {apic_assist}; 4.5
 * +time_ref_count; 4.6 +reference_tsc; 4.7 vcpu {msr, u8, _pad[7]}; 4.13 vcpu +simp_msr,
 * sint_msr[16], stimer_config_msr[4], stimer_count_msr[4]. */
Test(snapshot, records_take_the_source_release_layout)
{
    static const struct { const char *host; uint32_t dom, vcpu; } want[] = {
        { "xen-4.4", 16, 8 },  { "xen-4.5", 24, 8 },   { "xen-4.6", 32, 8 },
        { "xen-4.7", 32, 16 }, { "xen-4.12", 32, 16 }, { "xen-4.13", 32, 216 },
        { "xen-4.22", 32, 216 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct vprofile *h = vprofile_find(want[i].host);
        cr_assert_eq(vsave_domain_size(h->save), want[i].dom, "%s", want[i].host);
        cr_assert_eq(vsave_vcpu_size(h->save), want[i].vcpu, "%s", want[i].host);
        struct snapshot *s = sample(false), *t = calloc(1, sizeof *t);
        struct vconfig cfg = { .host = h, .viridian = 1, .vcpus = 2 };
        struct vmodel *m;
        cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
        vmodel_wrmsr(m, 1, HV_X64_MSR_VP_ASSIST_PAGE, 0x5000);
        vmodel_save(m, false, &s->model);
        vmodel_destroy(m);
        size_t len;
        uint8_t *bytes = to_bytes(s, &len);
        struct snap_error err;
        cr_assert_eq(snap_read(bytes, len, t, &err), 0, "%s: %s", want[i].host, err.msg);
        cr_assert_eq(t->model.layout, h->save);
        cr_assert(t->model.records);
        cr_assert_eq(t->model.vcpu[1].vp_assist_msr, 0x5000);
        free(bytes);
        free_sample(s);
        free_sample(t);
    }
}

Test(snapshot, without_viridian_there_are_no_viridian_records)
{
    struct snapshot *s = sample(false), *t = calloc(1, sizeof *t);
    struct vconfig cfg = { .viridian = 0, .vcpus = 2 };
    struct vmodel *m;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    vmodel_save(m, false, &s->model);
    vmodel_destroy(m);
    cr_assert_not(s->model.records);
    size_t len;
    uint8_t *bytes = to_bytes(s, &len);
    struct snap_error err;
    cr_assert_eq(snap_read(bytes, len, t, &err), 0, "%s", err.msg);
    cr_assert_not(t->model.records);
    free(bytes);
    free_sample(s);
    free_sample(t);
}

Test(snapshot, a_legacy_stream_carries_only_the_boolean)
{
    struct snapshot *s = sample(true), *t = calloc(1, sizeof *t);
    size_t len;
    uint8_t *bytes = to_bytes(s, &len);
    struct snap_error err;
    cr_assert_eq(snap_read(bytes, len, t, &err), 0, "%s", err.msg);
    cr_assert_eq(t->model.legacy, 1);
    cr_assert_eq(t->model.param, 1);
    free(bytes);
    free_sample(s);
    free_sample(t);
}

static void expect_bad(const uint8_t *bytes, size_t len, const char *part)
{
    struct snapshot *t = calloc(1, sizeof *t);
    struct snap_error err;
    cr_assert_eq(snap_read(bytes, len, t, &err), -1, "read a bad file (%s)", part);
    cr_assert(strstr(err.msg, part), "'%s' lacks '%s'", err.msg, part);
    cr_assert_null(t->ram);
    free(t);
}

Test(snapshot, every_truncation_is_an_error)
{
    struct snapshot *s = sample(false);
    size_t len;
    uint8_t *bytes = to_bytes(s, &len);
    for (size_t cut = 0; cut < len; cut += (cut < 512 ? 1 : 997)) {
        struct snapshot *t = calloc(1, sizeof *t);
        struct snap_error err;
        cr_assert_eq(snap_read(bytes, cut, t, &err), -1, "cut at %zu read", cut);
        free(t);
    }
    expect_bad(bytes, len - 16, "truncated");
    free(bytes);
    free_sample(s);
}

Test(snapshot, corruption_is_caught_by_the_checksum_and_named)
{
    struct snapshot *s = sample(false);
    size_t len;
    uint8_t *bytes = to_bytes(s, &len);
    bytes[16 + 16 + 40] ^= 1; /* inside the HEADER record's payload */
    expect_bad(bytes, len, "record 1 (HEADER) at offset 0x10: checksum mismatch");
    free(bytes);
    free_sample(s);
}

Test(snapshot, wrong_magic_and_version_are_refused)
{
    struct snapshot *s = sample(false);
    size_t len;
    uint8_t *bytes = to_bytes(s, &len);
    bytes[8] = 1; /* version 1's viridian records had vsbox's own layout, not Xen's */
    expect_bad(bytes, len, "version 1 not supported");
    bytes[0] = 'X';
    expect_bad(bytes, len, "not a vsbox snapshot");
    expect_bad((const uint8_t *)"", 0, "too short");
    free(bytes);
    free_sample(s);
}

/* A file of hand-made records with correct checksums, to reach the semantic checks. */
struct forge {
    uint8_t buf[1 << 16];
    size_t len;
};

static void forge_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void forge_rec(struct forge *f, uint32_t type, uint32_t inst, const void *payload,
                      uint32_t len, uint32_t claimed_len)
{
    uint8_t *h = f->buf + f->len;
    forge_u32(h, type);
    forge_u32(h + 4, inst);
    forge_u32(h + 8, claimed_len);
    memcpy(h + 16, payload, len);
    forge_u32(h + 12, snap_crc32(snap_crc32(0, h, 12), h + 16, len));
    f->len += 16 + len;
}

static void forge_start(struct forge *f, uint32_t mib, uint32_t vcpus)
{
    memset(f, 0, sizeof *f);
    memcpy(f->buf, "VSBXSNAP", 8);
    forge_u32(f->buf + 8, SNAP_VERSION);
    f->len = 16;
    uint8_t h[56] = "xen-4.5";
    forge_u32(h + 32, 2000000);
    forge_u32(h + 36, vcpus);
    forge_u32(h + 40, mib);
    forge_rec(f, SNAP_REC_HEADER, 0, h, 56, 56);
}

Test(snapshot, hostile_records_are_refused_by_name)
{
    static struct forge f;
    uint8_t page[16 + SNAP_PAGE] = { 0 };

    forge_start(&f, 1, 1);
    page[0] = 0x00; page[1] = 0x01; /* pfn 0x100: past 1 MiB (256 pages) */
    forge_u32(page + 8, 1);
    forge_rec(&f, SNAP_REC_MEMORY, 0, page, sizeof page, sizeof page);
    expect_bad(f.buf, f.len, "record 2 (MEMORY) at offset 0x58: pages 0x100-0x100 outside");

    forge_start(&f, 1, 1);
    forge_rec(&f, SNAP_REC_CLOCK, 0, page, 16, 0x7fffffff);
    expect_bad(f.buf, f.len, "record 2 (CLOCK) at offset 0x58: length 2147483647 runs past the end");

    forge_start(&f, 1, 1);
    forge_rec(&f, SNAP_REC_VIRIDIAN_VCPU, 3, page, 8, 8);
    expect_bad(f.buf, f.len, "record 2 (VIRIDIAN_VCPU, vCPU 3) at offset 0x58: vCPU 3, but the guest has 1");

    /* Xen's record sizes only (save.h at the release tags), _pad zero as its load wants. */
    forge_start(&f, 1, 1);
    forge_rec(&f, SNAP_REC_VIRIDIAN_VCPU, 0, page, 24, 24);
    expect_bad(f.buf, f.len, "length 24: hvm_viridian_vcpu_context is 8, 16 or 216 bytes");
    forge_start(&f, 1, 1);
    forge_rec(&f, SNAP_REC_VIRIDIAN_DOMAIN, 0, page, 40, 40);
    expect_bad(f.buf, f.len, "hvm_viridian_domain_context is 16, 24 or 32 bytes");
    forge_start(&f, 1, 1);
    page[12] = 1;
    forge_rec(&f, SNAP_REC_VIRIDIAN_VCPU, 0, page, 16, 16);
    page[12] = 0;
    expect_bad(f.buf, f.len, "_pad is not zero");

    forge_start(&f, 1, 1);
    forge_rec(&f, SNAP_REC_HEADER, 0, f.buf + 32, 56, 56);
    expect_bad(f.buf, f.len, "given twice");

    forge_start(&f, 1, 1);
    forge_rec(&f, 77, 0, page, 4, 4);
    expect_bad(f.buf, f.len, "unknown record type 77");

    forge_start(&f, 1, 1);
    forge_u32(page, 2);
    forge_rec(&f, SNAP_REC_LEGACY_VIRIDIAN, 0, page, 4, 4);
    expect_bad(f.buf, f.len, "a legacy stream carries 0 or 1");

    forge_start(&f, 1, 1);
    forge_rec(&f, SNAP_REC_END, 0, page, 0, 0);
    expect_bad(f.buf, f.len, "the HVM_PARAM_VIRIDIAN or LEGACY_VIRIDIAN record is missing");

    forge_start(&f, 1, 1);
    forge_rec(&f, SNAP_REC_END, 0, page, 0, 0);
    f.len += 3;
    expect_bad(f.buf, f.len, "data after the END record");

    forge_start(&f, 999999, 1);
    expect_bad(f.buf, f.len, "999999 MiB of RAM");

    forge_start(&f, 1, 0);
    expect_bad(f.buf, f.len, "0 vCPUs");

    memset(&f, 0, sizeof f);
    memcpy(f.buf, "VSBXSNAP", 8);
    forge_u32(f.buf + 8, SNAP_VERSION);
    f.len = 16;
    forge_rec(&f, SNAP_REC_CLOCK, 0, page, 16, 16);
    expect_bad(f.buf, f.len, "comes before the HEADER record");
}
