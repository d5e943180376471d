/* Writing and reading snapshot files. The reader trusts nothing: every length is
 * checked against what is left, every record against its CRC, every page number
 * against the guest's RAM. It reads a stream front to back, one record at a time into a
 * buffer of the largest record's size, and never more than the records declare: what a
 * hostile file costs is bounded by that buffer and the pages it actually holds. */
/* MAP_ANONYMOUS is not POSIX; glibc wants this to show it. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "snapshot/snapshot.h"

static const char magic[8] = { 'V', 'S', 'B', 'X', 'S', 'N', 'A', 'P' };

#define HEADER_LEN 56u
#define REC_HEAD 16u
#define MAX_RECORD_LEN (16u + 256u * SNAP_PAGE)   /* memory runs are at most 1 MiB */

const char *snap_record_name(uint32_t type)
{
    switch (type) {
    case SNAP_REC_HEADER: return "HEADER";
    case SNAP_REC_HVM_PARAM_VIRIDIAN: return "HVM_PARAM_VIRIDIAN";
    case SNAP_REC_LEGACY_VIRIDIAN: return "LEGACY_VIRIDIAN";
    case SNAP_REC_VIRIDIAN_DOMAIN: return "VIRIDIAN_DOMAIN";
    case SNAP_REC_VIRIDIAN_VCPU: return "VIRIDIAN_VCPU";
    case SNAP_REC_CLOCK: return "CLOCK";
    case SNAP_REC_CPU: return "CPU";
    case SNAP_REC_MEMORY: return "MEMORY";
    case SNAP_REC_MACHINE: return "MACHINE";
    case SNAP_REC_LAPIC: return "LAPIC";
    case SNAP_REC_END: return "END";
    default: return "unknown";
    }
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- writing ---- */

static int record(FILE *f, uint32_t type, uint32_t instance, const void *payload, uint32_t len,
                  const void *tail, uint32_t tail_len)
{
    uint8_t head[REC_HEAD];
    put32(head, type);
    put32(head + 4, instance);
    put32(head + 8, len + tail_len);
    uint32_t crc = snap_crc32(0, head, 12);
    crc = snap_crc32(crc, payload, len);
    crc = snap_crc32(crc, tail, tail_len);
    put32(head + 12, crc);
    if (fwrite(head, 1, REC_HEAD, f) != REC_HEAD || (len && fwrite(payload, 1, len, f) != len) ||
        (tail_len && fwrite(tail, 1, tail_len, f) != tail_len))
        return -1;
    return 0;
}

static bool zero_page(const uint8_t *p)
{
    static const uint8_t zero[SNAP_PAGE];
    return memcmp(p, zero, SNAP_PAGE) == 0;
}

static int write_memory(FILE *f, const struct snapshot *s)
{
    uint64_t pages = (uint64_t)s->memory_mib * (1u << 20) / SNAP_PAGE;
    for (uint64_t pfn = 0; pfn < pages;) {
        if (zero_page(s->ram + pfn * SNAP_PAGE)) {
            pfn++;
            continue;
        }
        uint64_t first = pfn;
        while (pfn < pages && pfn - first < 256 && !zero_page(s->ram + pfn * SNAP_PAGE))
            pfn++;
        uint8_t head[16] = { 0 };
        put64(head, first);
        put32(head + 8, (uint32_t)(pfn - first));
        if (record(f, SNAP_REC_MEMORY, 0, head, sizeof head, s->ram + first * SNAP_PAGE,
                   (uint32_t)((pfn - first) * SNAP_PAGE)))
            return -1;
    }
    return 0;
}

int snap_write(FILE *f, const struct snapshot *s)
{
    const struct vsave *m = &s->model;
    uint8_t b[8 + 20 * SNAP_MAX_REGS];
    uint8_t file_head[16] = { 0 };
    memcpy(file_head, magic, 8);
    put32(file_head + 8, SNAP_VERSION);
    if (fwrite(file_head, 1, sizeof file_head, f) != sizeof file_head)
        return -1;

    memset(b, 0, HEADER_LEN);
    memcpy(b, m->host, strnlen(m->host, 31));
    put32(b + 32, m->tsc_khz);
    put32(b + 36, m->vcpus);
    put32(b + 40, s->memory_mib);
    put64(b + 48, s->taken_at);
    int rc = record(f, SNAP_REC_HEADER, 0, b, HEADER_LEN, NULL, 0);

    if (m->legacy >= 0) {
        put32(b, m->param != 0);
        rc |= record(f, SNAP_REC_LEGACY_VIRIDIAN, 0, b, 4, NULL, 0);
    } else {
        put64(b, m->param);
        rc |= record(f, SNAP_REC_HVM_PARAM_VIRIDIAN, 0, b, 8, NULL, 0);
    }
    /* Xen writes the viridian records only for a viridian domain, in its own layout. */
    if (m->records) {
        put64(b, m->domain.hypercall_gpa);
        put64(b + 8, m->domain.guest_os_id);
        put64(b + 16, m->domain.time_ref_count);
        put64(b + 24, m->domain.reference_tsc);
        rc |= record(f, SNAP_REC_VIRIDIAN_DOMAIN, 0, b, vsave_domain_size(m->layout), NULL, 0);
    }
    for (uint32_t i = 0; i < m->vcpus && m->records; i++) {
        const struct vsave_vcpu *c = &m->vcpu[i];
        memset(b, 0, 16);
        put64(b, c->vp_assist_msr);
        b[8] = c->apic_assist;
        put64(b + 16, c->simp_msr);
        for (int k = 0; k < 16; k++)
            put64(b + 24 + 8 * k, c->sint_msr[k]);
        for (int k = 0; k < 4; k++) {
            put64(b + 152 + 8 * k, c->stimer_config_msr[k]);
            put64(b + 184 + 8 * k, c->stimer_count_msr[k]);
        }
        rc |= record(f, SNAP_REC_VIRIDIAN_VCPU, i, b, vsave_vcpu_size(m->layout), NULL, 0);
    }
    for (uint32_t i = 0; i < m->vcpus; i++) {
        memset(b, 0, 16);
        put32(b, m->vcpu[i].icr);
        put32(b + 4, m->vcpu[i].icr2);
        put32(b + 8, m->vcpu[i].tpr);
        rc |= record(f, SNAP_REC_LAPIC, i, b, 16, NULL, 0);
    }
    put64(b, m->tsc);
    put32(b + 8, m->incarnation);
    put32(b + 12, m->freq_told ? 1 : 0);
    rc |= record(f, SNAP_REC_CLOCK, 0, b, 16, NULL, 0);
    for (uint32_t i = 0; i < m->vcpus; i++) {
        const struct snap_cpu *c = &s->cpu[i];
        memset(b, 0, sizeof b);
        put32(b, c->n);
        for (uint32_t k = 0; k < c->n && k < SNAP_MAX_REGS; k++) {
            memcpy(b + 8 + 20 * k, c->reg[k].name, sizeof c->reg[k].name);
            put64(b + 8 + 20 * k + 12, c->reg[k].value);
        }
        rc |= record(f, SNAP_REC_CPU, i, b, 8 + 20 * c->n, NULL, 0);
    }
    if (s->machine.n) {
        const struct snap_cpu *c = &s->machine;
        memset(b, 0, sizeof b);
        put32(b, c->n);
        for (uint32_t k = 0; k < c->n && k < SNAP_MAX_REGS; k++) {
            memcpy(b + 8 + 20 * k, c->reg[k].name, sizeof c->reg[k].name);
            put64(b + 8 + 20 * k + 12, c->reg[k].value);
        }
        rc |= record(f, SNAP_REC_MACHINE, 0, b, 8 + 20 * c->n, NULL, 0);
    }
    if (rc || write_memory(f, s) || record(f, SNAP_REC_END, 0, NULL, 0, NULL, 0))
        return -1;
    return 0;
}

/* ---- reading ---- */

/* A stream of bytes: a memory image or a file, read front to back once. */
struct src {
    size_t (*read)(void *ctx, void *buf, size_t len);
    void *ctx;
    uint64_t known_len;        /* UINT64_MAX when the stream's length is unknown */
};

struct rd {
    struct src *src;
    uint64_t off;              /* bytes consumed */
    unsigned index;            /* record number, from 1 */
    uint32_t type, instance;
    uint64_t rec_off;
    struct snap_error *err;
};

static size_t take(struct rd *r, void *buf, size_t len)
{
    size_t got = r->src->read(r->src->ctx, buf, len);
    r->off += got;
    return got;
}

static int bad(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct rd *r, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    unsigned long long at = (unsigned long long)r->rec_off;
    if (r->index == 0)
        snprintf(r->err->msg, sizeof r->err->msg, "file header: %s", what);
    else if (r->type == SNAP_REC_VIRIDIAN_VCPU || r->type == SNAP_REC_CPU ||
             r->type == SNAP_REC_LAPIC)
        snprintf(r->err->msg, sizeof r->err->msg, "record %u (%s, vCPU %u) at offset 0x%llx: %s",
                 r->index, snap_record_name(r->type), r->instance, at, what);
    else
        snprintf(r->err->msg, sizeof r->err->msg, "record %u (%s) at offset 0x%llx: %s", r->index,
                 snap_record_name(r->type), at, what);
    return -1;
}

static int want_len(struct rd *r, uint32_t len, uint32_t want)
{
    if (len != want)
        return bad(r, "length %u, expected %u", len, want);
    return 0;
}

enum {
    SEEN_HEADER = 1 << 0, SEEN_PARAM = 1 << 1, SEEN_DOMAIN = 1 << 2, SEEN_CLOCK = 1 << 3,
    SEEN_MACHINE = 1 << 4,
};

struct progress {
    unsigned seen;
    uint64_t vcpu_viridian, cpu, lapic; /* bit per vCPU */
    uint32_t domain_len, vcpu_len;     /* the viridian records' sizes: their layout */
    uint8_t *page_seen;                /* bit per page */
    uint64_t pages;
};

static int load_memory(struct rd *r, const uint8_t *p, uint32_t len, struct snapshot *s,
                       struct progress *pr)
{
    if (len < 16)
        return bad(r, "length %u, shorter than a MEMORY header", len);
    uint64_t first = get64(p);
    uint32_t n = get32(p + 8);
    if (n == 0 || (uint64_t)len != 16 + (uint64_t)n * SNAP_PAGE)
        return bad(r, "%u pages do not fit its length %u", n, len);
    if (first >= pr->pages || n > pr->pages - first)
        return bad(r, "pages 0x%llx-0x%llx outside the guest's %u MiB of RAM",
                   (unsigned long long)first, (unsigned long long)(first + n - 1), s->memory_mib);
    for (uint64_t i = first; i < first + n; i++) {
        if (pr->page_seen[i / 8] & (1u << (i % 8)))
            return bad(r, "page 0x%llx given twice", (unsigned long long)i);
        pr->page_seen[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    /* Only pages with data are written: a zero page stays unbacked. */
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *page = p + 16 + (size_t)i * SNAP_PAGE;
        if (!zero_page(page)) {
            memcpy(s->ram + (first + i) * SNAP_PAGE, page, SNAP_PAGE);
            s->pages_read++;
        }
    }
    return 0;
}

static int load_header(struct rd *r, const uint8_t *p, uint32_t len, struct snapshot *s,
                       struct progress *pr)
{
    if (want_len(r, len, HEADER_LEN))
        return -1;
    if (memchr(p, '\0', 32) == NULL)
        return bad(r, "host name is not terminated");
    memcpy(s->model.host, p, 32);
    s->model.tsc_khz = get32(p + 32);
    s->model.vcpus = get32(p + 36);
    s->memory_mib = get32(p + 40);
    s->taken_at = get64(p + 48);
    if (s->model.vcpus < 1 || s->model.vcpus > VMODEL_MAX_VCPUS)
        return bad(r, "%u vCPUs (1 to %u)", s->model.vcpus, VMODEL_MAX_VCPUS);
    if (s->model.tsc_khz < VMODEL_TSC_KHZ_MIN || s->model.tsc_khz > VMODEL_TSC_KHZ_MAX)
        return bad(r, "TSC frequency %u kHz out of range", s->model.tsc_khz);
    if (s->memory_mib < 1 || s->memory_mib > SNAP_MAX_MEMORY_MIB)
        return bad(r, "%u MiB of RAM (1 to %u)", s->memory_mib, SNAP_MAX_MEMORY_MIB);
    pr->pages = (uint64_t)s->memory_mib * (1u << 20) / SNAP_PAGE;
    /* Pages never written stay unbacked: a guest declared large but holding little costs
     * what it holds, whatever its header says. */
    void *ram = mmap(NULL, (size_t)s->memory_mib << 20, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    s->ram = ram == MAP_FAILED ? NULL : ram;
    s->ram_mapped = s->ram != NULL;
    pr->page_seen = calloc(1, (size_t)(pr->pages / 8 + 1));
    if (!s->ram || !pr->page_seen)
        return bad(r, "out of memory for %u MiB", s->memory_mib);
    return 0;
}

static int load_cpu(struct rd *r, const uint8_t *p, uint32_t len, struct snap_cpu *c)
{
    if (len < 8)
        return bad(r, "length %u, shorter than a CPU header", len);
    uint32_t n = get32(p);
    if (n > SNAP_MAX_REGS || len != 8 + 20 * n)
        return bad(r, "%u registers do not fit its length %u", n, len);
    c->n = n;
    for (uint32_t k = 0; k < n; k++) {
        const uint8_t *e = p + 8 + 20 * k;
        if (memchr(e, '\0', 12) == NULL || e[0] == '\0')
            return bad(r, "register %u has no name", k);
        memcpy(c->reg[k].name, e, 12);
        c->reg[k].value = get64(e + 12);
    }
    return 0;
}

static int load_record(struct rd *r, const uint8_t *p, uint32_t len, struct snapshot *s,
                       struct progress *pr)
{
    struct vsave *m = &s->model;
    if (r->type != SNAP_REC_HEADER && !(pr->seen & SEEN_HEADER))
        return bad(r, "comes before the HEADER record");
    bool per_vcpu = r->type == SNAP_REC_VIRIDIAN_VCPU || r->type == SNAP_REC_CPU ||
                    r->type == SNAP_REC_LAPIC;
    if (per_vcpu && r->instance >= m->vcpus)
        return bad(r, "vCPU %u, but the guest has %u", r->instance, m->vcpus);
    if (!per_vcpu && r->instance != 0)
        return bad(r, "instance %u, expected 0", r->instance);

    unsigned once = r->type == SNAP_REC_HEADER ? SEEN_HEADER
                  : r->type == SNAP_REC_HVM_PARAM_VIRIDIAN || r->type == SNAP_REC_LEGACY_VIRIDIAN
                      ? SEEN_PARAM
                  : r->type == SNAP_REC_VIRIDIAN_DOMAIN ? SEEN_DOMAIN
                  : r->type == SNAP_REC_CLOCK ? SEEN_CLOCK
                  : r->type == SNAP_REC_MACHINE ? SEEN_MACHINE : 0;
    if (once && (pr->seen & once))
        return bad(r, "given twice");
    pr->seen |= once;
    uint64_t *vbits = r->type == SNAP_REC_CPU     ? &pr->cpu
                    : r->type == SNAP_REC_LAPIC ? &pr->lapic
                                                : &pr->vcpu_viridian;
    if (per_vcpu) {
        if (*vbits & (1ull << r->instance))
            return bad(r, "given twice");
        *vbits |= 1ull << r->instance;
    }

    switch (r->type) {
    case SNAP_REC_HEADER:
        return load_header(r, p, len, s, pr);
    case SNAP_REC_HVM_PARAM_VIRIDIAN:
        if (want_len(r, len, 8))
            return -1;
        m->legacy = -1;
        m->param = get64(p);
        return 0;
    case SNAP_REC_LEGACY_VIRIDIAN:
        if (want_len(r, len, 4))
            return -1;
        if (get32(p) > 1)
            return bad(r, "value %u: a legacy stream carries 0 or 1", get32(p));
        m->legacy = (int)get32(p);
        m->param = get32(p);
        return 0;
    case SNAP_REC_VIRIDIAN_DOMAIN:
        if (len != 16 && len != 24 && len != 32)
            return bad(r, "length %u: hvm_viridian_domain_context is 16, 24 or 32 bytes", len);
        pr->domain_len = len;
        m->records = true;
        m->domain = (struct vsave_domain){ get64(p), get64(p + 8), len > 16 ? get64(p + 16) : 0,
                                           len > 24 ? get64(p + 24) : 0 };
        return 0;
    case SNAP_REC_VIRIDIAN_VCPU: {
        if (len != 8 && len != 16 && len != 216)
            return bad(r, "length %u: hvm_viridian_vcpu_context is 8, 16 or 216 bytes", len);
        if (pr->vcpu_len && len != pr->vcpu_len)
            return bad(r, "length %u, but vCPU records before it have %u", len, pr->vcpu_len);
        static const uint8_t zero[7];
        if (len > 8 && memcmp(p + 9, zero, 7) != 0)
            return bad(r, "_pad is not zero (Xen's load refuses it)");
        pr->vcpu_len = len;
        struct vsave_vcpu *c = &m->vcpu[r->instance];
        c->vp_assist_msr = get64(p);
        c->apic_assist = len > 8 ? p[8] : 0;
        if (len == 216) {
            c->simp_msr = get64(p + 16);
            for (int k = 0; k < 16; k++)
                c->sint_msr[k] = get64(p + 24 + 8 * k);
            for (int k = 0; k < 4; k++) {
                c->stimer_config_msr[k] = get64(p + 152 + 8 * k);
                c->stimer_count_msr[k] = get64(p + 184 + 8 * k);
            }
        }
        return 0;
    }
    case SNAP_REC_LAPIC:
        if (want_len(r, len, 16))
            return -1;
        m->vcpu[r->instance].icr = get32(p);
        m->vcpu[r->instance].icr2 = get32(p + 4);
        m->vcpu[r->instance].tpr = get32(p + 8);
        return 0;
    case SNAP_REC_CLOCK:
        if (want_len(r, len, 16))
            return -1;
        m->tsc = get64(p);
        m->incarnation = get32(p + 8);
        m->freq_told = get32(p + 12) & 1;
        return 0;
    case SNAP_REC_CPU:
        return load_cpu(r, p, len, &s->cpu[r->instance]);
    case SNAP_REC_MEMORY:
        return load_memory(r, p, len, s, pr);
    case SNAP_REC_MACHINE:
        return load_cpu(r, p, len, &s->machine);
    default:
        return bad(r, "unknown record type %u", r->type);
    }
}

/* One record: its head, then exactly the payload its length declares (bounded by
 * MAX_RECORD_LEN, so one buffer serves every record). 1 at END, 0 for more, -1 bad. */
static int next_record(struct rd *r, uint8_t *payload, struct snapshot *s, struct progress *pr)
{
    uint8_t h[REC_HEAD];
    r->index++;
    r->rec_off = r->off;
    r->type = 0;
    if (take(r, h, REC_HEAD) != REC_HEAD)
        return bad(r, "truncated: the file ends before the END record");
    r->type = get32(h);
    r->instance = get32(h + 4);
    uint32_t rlen = get32(h + 8);
    if (r->src->known_len != UINT64_MAX && rlen > r->src->known_len - r->off)
        return bad(r, "length %u runs past the end of the file", rlen);
    if (rlen > MAX_RECORD_LEN)
        return bad(r, "length %u is more than a record holds (%u)", rlen, MAX_RECORD_LEN);
    if (take(r, payload, rlen) != rlen)
        return bad(r, "length %u runs past the end of the file", rlen);
    uint32_t crc = snap_crc32(snap_crc32(0, h, 12), payload, rlen);
    if (crc != get32(h + 12))
        return bad(r, "checksum mismatch (corrupted)");
    if (r->type == SNAP_REC_END) {
        uint8_t more;
        if (rlen != 0)
            return bad(r, "END carries data");
        if (take(r, &more, 1) != 0)
            return bad(r, "data after the END record");
        return 1;
    }
    return load_record(r, payload, rlen, s, pr) ? -1 : 0;
}

static int read_from(struct src *src, struct snapshot *s, struct snap_error *err)
{
    struct rd r = { .src = src, .err = err };
    struct progress pr = { 0 };
    uint8_t file_head[16];
    memset(s, 0, sizeof *s);
    size_t got = take(&r, file_head, sizeof file_head);
    if (got < 8 || memcmp(file_head, magic, 8) != 0)
        return bad(&r, got < 8 && (got == 0 || memcmp(file_head, magic, got) == 0)
                           ? "too short to be a vsbox snapshot" : "not a vsbox snapshot");
    if (got < 16)
        return bad(&r, "too short to be a vsbox snapshot");
    if (get32(file_head + 8) != SNAP_VERSION)
        return bad(&r, "version %u not supported (this vsbox reads %u)", get32(file_head + 8),
                   SNAP_VERSION);
    uint8_t *payload = malloc(MAX_RECORD_LEN);
    int rc = payload ? 0 : bad(&r, "out of memory");
    while (rc == 0)
        rc = next_record(&r, payload, s, &pr);
    free(payload);
    if (rc < 0)
        goto fail;
    static const struct { unsigned bit; const char *name; } need[] = {
        { SEEN_HEADER, "HEADER" }, { SEEN_PARAM, "HVM_PARAM_VIRIDIAN or LEGACY_VIRIDIAN" },
        { SEEN_CLOCK, "CLOCK" },
    };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!(pr.seen & need[i].bit)) {
            bad(&r, "the %s record is missing", need[i].name);
            goto fail;
        }
    uint64_t all = s->model.vcpus == 64 ? UINT64_MAX : (1ull << s->model.vcpus) - 1;
    if (pr.cpu != all || pr.lapic != all) {
        bad(&r, "a CPU or LAPIC record is missing for some vCPU");
        goto fail;
    }
    /* Xen writes the viridian records for a viridian domain and none otherwise: both or
     * neither, in one release's layout, the source host's. */
    if (pr.vcpu_viridian != (s->model.records ? all : 0)) {
        bad(&r, s->model.records ? "a VIRIDIAN_VCPU record is missing for some vCPU"
                                 : "VIRIDIAN_VCPU records without a VIRIDIAN_DOMAIN record");
        goto fail;
    }
    if (s->model.records) {
        int layout = vsave_layout_of(pr.domain_len, pr.vcpu_len);
        const struct vprofile *host = vprofile_find(s->model.host);
        if (layout < 0) {
            bad(&r, "VIRIDIAN_DOMAIN (%u bytes) and VIRIDIAN_VCPU (%u bytes) are no release's "
                "layout", pr.domain_len, pr.vcpu_len);
            goto fail;
        }
        if (host && (enum vsave_layout)layout != host->save) {
            bad(&r, "the viridian records (%u and %u bytes) are not %s's layout (%u and %u)",
                pr.domain_len, pr.vcpu_len, host->name, vsave_domain_size(host->save),
                vsave_vcpu_size(host->save));
            goto fail;
        }
        s->model.layout = (enum vsave_layout)layout;
    } else {
        const struct vprofile *host = vprofile_find(s->model.host);
        s->model.layout = host ? host->save : VSAVE_4_13;
    }
    free(pr.page_seen);
    return 0;
fail:
    free(pr.page_seen);
    snap_free(s);
    return -1;
}

struct membuf {
    const uint8_t *p;
    size_t left;
};

static size_t mem_read(void *ctx, void *buf, size_t len)
{
    struct membuf *m = ctx;
    size_t n = len < m->left ? len : m->left;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    return n;
}

int snap_read(const uint8_t *buf, size_t len, struct snapshot *s, struct snap_error *err)
{
    struct membuf m = { buf, len };
    struct src src = { mem_read, &m, len };
    return read_from(&src, s, err);
}

struct filebuf {
    FILE *f;
    bool failed;
};

static size_t file_read(void *ctx, void *buf, size_t len)
{
    struct filebuf *fb = ctx;
    size_t n = fread(buf, 1, len, fb->f);
    fb->failed |= ferror(fb->f) != 0;
    return n;
}

int snap_read_file(FILE *f, struct snapshot *s, struct snap_error *err)
{
    struct filebuf fb = { f, false };
    struct src src = { file_read, &fb, UINT64_MAX };
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
        src.known_len = (uint64_t)st.st_size;
    int rc = read_from(&src, s, err);
    if (fb.failed) {
        if (rc == 0)
            snap_free(s);
        snprintf(err->msg, sizeof err->msg, "cannot read: %s", strerror(EIO));
        return -1;
    }
    return rc;
}

void snap_free(struct snapshot *s)
{
    if (s->ram_mapped && s->ram)
        munmap(s->ram, (size_t)s->memory_mib << 20);
    else
        free(s->ram);
    s->ram = NULL;
    s->ram_mapped = false;
}

bool snap_reg_get(const struct snap_cpu *c, const char *name, uint64_t *value)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (strncmp(c->reg[i].name, name, sizeof c->reg[i].name) == 0) {
            *value = c->reg[i].value;
            return true;
        }
    return false;
}

void snap_reg_set(struct snap_cpu *c, const char *name, uint64_t value)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (strncmp(c->reg[i].name, name, sizeof c->reg[i].name) == 0) {
            c->reg[i].value = value;
            return;
        }
    if (c->n < SNAP_MAX_REGS) {
        memset(c->reg[c->n].name, 0, sizeof c->reg[c->n].name);
        strncpy(c->reg[c->n].name, name, sizeof c->reg[c->n].name - 1);
        c->reg[c->n++].value = value;
    }
}
