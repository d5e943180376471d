/* Oracle 6: the guest in the emulator and the model alone agree. The sequence guest
 * (seqguest.asm) interprets an event table with the real instructions and writes down
 * the registers it got back; the emulator records every trap; a fresh model replays the
 * recording. Any event lost, added or reordered, or any register the guest saw that is
 * not the model's answer, is a finding. */
#include "fuzz/emu_engine.h"

#include <stdlib.h>
#include <string.h>
#include "emu/emu.h"
#include "snapshot/snapshot.h"
#include "viridian/planted.h"
#include "viridian/hvmpv.h"
#include "viridian/hypercall.h"
#include "viridian/model.h"
#include "viridian/save.h"

extern const unsigned char vsbox_seqguest_start[], vsbox_seqguest_end[];

#define GUEST_BASE 0x100000u
#define TABLE 0x200000u
#define RESULTS 0x240000u
#define SCRATCH 0x300000u        /* hypercall pages land here, away from code and tables */
#define MEMORY_MIB 4u
#define MAX_RECORDED (2 * FUZZ_MAX_EVENTS)

enum { OP_END, OP_CPUID, OP_RDMSR, OP_WRMSR, OP_RDTSC, OP_HYPERCALL };

struct recorded {
    uint64_t advance;
    struct vevent ev;
    struct vres res;
    /* A hypercall's input block, copied: the event points into the model's log of the
     * last call, which the next one clears (a run 1215915 finding: replayed on zeros). */
    uint64_t input[VHYPERCALL_MAX_INPUT_WORDS];
};

struct fuzz_emu {
    struct emu *e;
    struct snapshot boot;        /* the guest as loaded, with its own copy of RAM */
    struct recorded rec[MAX_RECORDED];
    size_t n_rec;
    bool overflow;
};

static void on_event(void *ctx, uint64_t advance, const struct vevent *ev, const struct vres *res,
                     uint64_t rip)
{
    struct fuzz_emu *f = ctx;
    (void)rip;
    if (f->n_rec == MAX_RECORDED) {
        f->overflow = true;
        return;
    }
    struct recorded *r = &f->rec[f->n_rec++];
    r->advance = advance;
    r->ev = *ev;
    r->res = *res;
    if (ev->input) {
        uint32_t n = ev->input_words < VHYPERCALL_MAX_INPUT_WORDS ? ev->input_words
                                                                  : VHYPERCALL_MAX_INPUT_WORDS;
        memcpy(r->input, ev->input, n * sizeof r->input[0]);
        r->ev.input = r->input;
        r->ev.input_words = n;
    }
}

int fuzz_emu_create(struct fuzz_emu **out, char *err, size_t errlen)
{
    struct fuzz_emu *f = calloc(1, sizeof *f);
    *out = NULL;
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct emu_config cfg = {
        .memory_mib = MEMORY_MIB,
        /* Neither budget nor timeout: the guest may set IA32_TSC anywhere, its table
         * always ends, and a timeout costs Unicorn a timer thread per run. */
        .sink = { .ctx = f, .event = on_event },
    };
    size_t len = (size_t)(vsbox_seqguest_end - vsbox_seqguest_start);
    if (emu_create(&cfg, &f->e, err, errlen) ||
        emu_load(f->e, vsbox_seqguest_start, len, true, GUEST_BASE, err, errlen)) {
        fuzz_emu_destroy(f);
        return -1;
    }
    /* The snapshot keeps its own RAM: rewinds copy the pages vsbox wrote back from it. */
    uint64_t size;
    uint8_t *ram = emu_ram(f->e, &size);
    emu_save(f->e, &f->boot);
    f->boot.ram = malloc((size_t)size);
    if (!f->boot.ram) {
        snprintf(err, errlen, "out of memory");
        fuzz_emu_destroy(f);
        return -1;
    }
    memcpy(f->boot.ram, ram, (size_t)size);
    *out = f;
    return 0;
}

void fuzz_emu_destroy(struct fuzz_emu *f)
{
    if (!f)
        return;
    emu_destroy(f->e);
    free(f->boot.ram);
    free(f);
}

void fuzz_emu_shape(const struct fuzz_case *in, struct fuzz_case *out)
{
    *out = *in;
    out->n = 0;
    out->vcpus = 1;
    /* Half the room: the recording adds an advance before each event. */
    for (size_t i = 0; i < in->n && out->n < FUZZ_MAX_EVENTS / 2; i++) {
        struct vevent ev = in->ev[i];
        if (ev.vcpu != 0)
            continue;
        switch (ev.kind) {
        case VEV_CPUID:
        case VEV_RDTSC:
        case VEV_HYPERCALL:
            break;
        case VEV_RDMSR:
        case VEV_WRMSR:
            /* The CPU's own MSRs are not the model's business in a real guest. */
            if (emu_msr_native((uint32_t)ev.a[0]))
                continue;
            /* MSRs whose value is a page the model writes: keep it off the page tables,
             * code and tables (a real guest gives pages it owns). */
            if (ev.kind == VEV_WRMSR &&
                (ev.a[0] == HV_X64_MSR_HYPERCALL || ev.a[0] == HV_X64_MSR_APIC_ASSIST_PAGE ||
                 ev.a[0] == HV_X64_MSR_REFERENCE_TSC || ev.a[0] == HV_X64_MSR_SIMP))
                ev.a[1] = (ev.a[1] & 0xfff) | (SCRATCH + (ev.a[1] >> 12 & 0xff) * 4096);
            break;
        default:
            continue;
        }
        out->ev[out->n++] = ev;
    }
}

static void write_table(struct fuzz_emu *f, const struct fuzz_case *c)
{
    uint64_t size;
    uint8_t *ram = emu_ram(f->e, &size);
    uint64_t *t = (uint64_t *)(ram + TABLE);
    for (size_t i = 0; i < c->n; i++, t += 6) {
        const struct vevent *ev = &c->ev[i];
        memset(t, 0, 48);
        switch (ev->kind) {
        case VEV_CPUID:
            t[0] = OP_CPUID, t[1] = ev->a[0] & 0xffffffffu, t[2] = ev->a[1] & 0xffffffffu;
            break;
        case VEV_RDMSR:
            t[0] = OP_RDMSR, t[2] = ev->a[0] & 0xffffffffu;
            break;
        case VEV_WRMSR:
            t[0] = OP_WRMSR, t[2] = ev->a[0] & 0xffffffffu;
            t[1] = ev->a[1] & 0xffffffffu, t[3] = ev->a[1] >> 32;
            break;
        case VEV_RDTSC:
            t[0] = OP_RDTSC;
            break;
        default: /* the viridian convention: RCX input, RDX/R8 GPAs, EAX bit 31 */
            t[0] = OP_HYPERCALL, t[1] = 0x80000000u, t[2] = ev->a[0], t[3] = ev->a[1],
            t[4] = ev->a[2];
            break;
        }
    }
    memset(t, 0, 48);
}

/* What the guest's registers say it got, as a result. */
static struct vres seen(const struct vevent *ev, const uint64_t *r)
{
    uint64_t edx_eax = (r[3] & 0xffffffffu) << 32 | (r[0] & 0xffffffffu);
    switch (ev->kind) {
    case VEV_CPUID:
        return (struct vres){ VRES_REGS, { r[0] & 0xffffffffu, r[1] & 0xffffffffu,
                                           r[2] & 0xffffffffu, r[3] & 0xffffffffu } };
    case VEV_RDMSR:
        return r[4] == 13 ? (struct vres){ .kind = VRES_GP } : (struct vres){ VRES_VALUE, { edx_eax } };
    case VEV_WRMSR:
        return r[4] == 13 ? (struct vres){ .kind = VRES_GP } : (struct vres){ .kind = VRES_OK };
    case VEV_RDTSC:
        return (struct vres){ VRES_VALUE, { edx_eax } };
    default:
        return r[4] == 6 ? (struct vres){ .kind = VRES_UD } : (struct vres){ VRES_VALUE, { r[0] } };
    }
}

static bool same_event(const struct vevent *a, const struct vevent *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case VEV_CPUID:
        return (uint32_t)a->a[0] == (uint32_t)b->a[0] && (uint32_t)a->a[1] == (uint32_t)b->a[1];
    case VEV_RDMSR:
        return (uint32_t)a->a[0] == (uint32_t)b->a[0];
    case VEV_WRMSR:
        return (uint32_t)a->a[0] == (uint32_t)b->a[0] && a->a[1] == b->a[1];
    case VEV_HYPERCALL:
        return a->a[0] == b->a[0] && a->a[1] == b->a[1] && a->a[2] == b->a[2];
    default:
        return true;
    }
}

static bool same_result(const struct vres *a, const struct vres *b)
{
    if (a->kind != b->kind)
        return false;
    int words = a->kind == VRES_REGS ? 4 : a->kind == VRES_VALUE ? 1 : 0;
    for (int i = 0; i < words; i++)
        if (a->v[i] != b->v[i])
            return false;
    return true;
}

/* The replaying model gets what trace replay gives it: RAM of the guest's size, with
 * bounds but no contents (the answers the model gives never depend on them). */
static int bounds_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    (void)ctx;
    if (gpa >= (uint64_t)MEMORY_MIB << 20 || len > ((uint64_t)MEMORY_MIB << 20) - gpa)
        return -1;
    memset(buf, 0, len);
    return 0;
}

static int bounds_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    return gpa >= (uint64_t)MEMORY_MIB << 20 || len > ((uint64_t)MEMORY_MIB << 20) - gpa ? -1 : 0;
}

static bool disagree(struct fuzz_verdict *v, size_t index, const struct vres *model,
                     const struct vres *guest, const char *what)
{
    v->oracle = ORACLE_EMU_AGREES;
    v->index = index;
    v->has_expect = guest != NULL;
    if (guest)
        v->expect = *guest;
    if (model)
        v->got = *model;
    snprintf(v->what, sizeof v->what, "%.*s", (int)sizeof v->what - 1, what);
    return false;
}

bool fuzz_emu_check(struct fuzz_emu *f, const struct fuzz_case *c, struct fuzz_verdict *v,
                    struct fuzz_case *rec)
{
    char err[256];
    memset(v, 0, sizeof *v);
    f->n_rec = 0;
    f->overflow = false;
    /* One booted guest serves every configuration: its CPU and memory do not depend on
     * it, and the model comes back from the snapshot's records, set to this case's. */
    struct vsave *sv = &f->boot.model;
    snprintf(sv->host, sizeof sv->host, "%s", c->host->name);
    sv->legacy = -1;
    sv->param = c->viridian;
    sv->tsc_khz = c->tsc_khz ? c->tsc_khz : c->host->tsc_khz;
    if (emu_rewind(f->e, &f->boot, err, sizeof err))
        return disagree(v, 0, NULL, NULL, err);
    write_table(f, c);
    struct emu_result res;
    emu_run(f->e, &res);

    /* The recording, as a trace a fresh model can replay: advances, then the events. */
    *rec = *c;
    rec->n = 0;
    size_t mark[MAX_RECORDED], kept = 0;
    for (size_t i = 0; i < f->n_rec && rec->n + 2 <= FUZZ_MAX_EVENTS; i++, kept++) {
        if (f->rec[i].advance)
            rec->ev[rec->n++] = (struct vevent){ .kind = VEV_ADVANCE,
                                                 .a = { f->rec[i].advance }, .legacy = -1 };
        mark[i] = rec->n;
        rec->ev[rec->n++] = f->rec[i].ev;
    }
    struct vmodel *m;
    struct vconfig cfg = { .host = c->host, .viridian = c->viridian, .tsc_khz = c->tsc_khz,
                           .mem = { NULL, bounds_read, bounds_write } };
    if (vmodel_create(&cfg, &m) != VERR_OK)
        return disagree(v, 0, NULL, NULL, "the model refused the case's configuration");
    for (size_t i = 0; i < rec->n; i++)
        vmodel_apply(m, &rec->ev[i], &v->results[i]);
    vmodel_destroy(m);

    if (res.stop != EMU_EXITED || res.exit_code != 0 || f->overflow || kept != f->n_rec) {
        snprintf(err, sizeof err, "the sequence guest did not finish (stop %d): %.*s",
                 (int)res.stop, (int)strcspn(res.report, "\n") < 150 ? (int)strcspn(res.report, "\n") : 150,
                 res.report);
        return disagree(v, rec->n ? rec->n - 1 : 0, NULL, NULL, err);
    }
    uint64_t size;
    const uint64_t *r = (const uint64_t *)(emu_ram(f->e, &size) + RESULTS);
    size_t k = 0; /* recorded events matched so far */
    for (size_t i = 0; i < c->n; i++, r += 6) {
        const struct vevent *ev = &c->ev[i];
        bool trapped = ev->kind != VEV_CPUID || vmodel_cpuid_owns((uint32_t)ev->a[0]);
        if (!trapped)
            continue;
        if (k == f->n_rec || !same_event(ev, &f->rec[k].ev)) {
            snprintf(err, sizeof err, "event %zu of the sequence never reached the model as such",
                     i + 1);
            return disagree(v, k < f->n_rec ? mark[k] : (rec->n ? rec->n - 1 : 0), NULL, NULL,
                            err);
        }
        struct vres guest = seen(ev, r);
        const struct vres *model = &v->results[mark[k]];
        if (!same_result(&guest, model)) {
            snprintf(err, sizeof err, "the guest saw a different answer from the model's "
                     "for event %zu", i + 1);
            return disagree(v, mark[k], model, &guest, err);
        }
        k++;
    }
    if (k != f->n_rec)
        return disagree(v, mark[k], NULL, NULL, "the emulator recorded an event the guest did not make");
    return true;
}

void fuzz_emu_minimize(struct fuzz_emu *f, struct fuzz_case *c, struct fuzz_verdict *v,
                       struct fuzz_case *rec)
{
    struct fuzz_case *t = malloc(sizeof *t), *trec = malloc(sizeof *trec);
    struct fuzz_verdict *tv = malloc(sizeof *tv);
    if (!t || !trec || !tv) {
        free(t), free(trec), free(tv);
        return;
    }
    /* Drop one event at a time while the failure stays. */
    for (size_t i = c->n; i-- > 0;) {
        *t = *c;
        memmove(&t->ev[i], &t->ev[i + 1], (t->n - i - 1) * sizeof t->ev[0]);
        t->n--;
        if (!fuzz_emu_check(f, t, tv, trec)) {
            *c = *t;
            *v = *tv;
            *rec = *trec;
        }
    }
    /* The recording's input blocks live in f, which every attempt rewrites: record the
     * smallest case once more, so that rec's are its own. */
    if (!fuzz_emu_check(f, c, tv, trec)) {
        *v = *tv;
        *rec = *trec;
    }
    free(t), free(trec), free(tv);
}

struct fuzz_emu_engine {
    struct fuzz_emu *f;          /* created on first use */
    struct fuzz_case shaped, rec;
};

struct fuzz_emu_engine *fuzz_emu_engine_new(void)
{
    return calloc(1, sizeof(struct fuzz_emu_engine));
}

void fuzz_emu_engine_free(struct fuzz_emu_engine *g)
{
    if (!g)
        return;
    fuzz_emu_destroy(g->f);
    free(g);
}

bool fuzz_emu_engine_check(void *engine, struct fuzz_case *c, struct fuzz_verdict *v)
{
    struct fuzz_emu_engine *g = engine;
    fuzz_emu_shape(c, &g->shaped);
    *c = g->shaped;
    if (!fuzz_check(c, v))
        return false;
    if (v->oracle != ORACLE_NONE)
        return true;
    uint64_t hash = v->state_hash;
    char err[256];
    if (!g->f && fuzz_emu_create(&g->f, err, sizeof err))
        return false;
    if (!fuzz_emu_check(g->f, c, v, &g->rec))
        *c = g->rec;
    else
        v->state_hash = hash;
    return true;
}

void fuzz_emu_engine_minimize(void *engine, struct fuzz_case *c, struct fuzz_verdict *v)
{
    struct fuzz_emu_engine *g = engine;
    if (v->oracle != ORACLE_EMU_AGREES) {
        fuzz_minimize(c, v);
        return;
    }
    /* c is the recording; shrink the sequence the guest ran, then record it again. */
    fuzz_emu_minimize(g->f, &g->shaped, v, &g->rec);
    *c = g->rec;
}
