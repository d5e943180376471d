/* The KVM importer's state: the threads seen and the vCPU each runs, and a window of
 * events in capture order, some still waiting for a later line that completes them
 * (docs/kvm-import.md). */
#include "traces/import_kvm.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "traces/import_kvm_internal.h"
#include "viridian/hvmpv.h"
#include "viridian/model.h"
#include "viridian/msr.h"

#define MAX_THREADS 256
#define WINDOW 1024          /* events held back at most, waiting for their last part */
#define NO_THREAD (-1)

enum wait {
    WAIT_NONE,
    WAIT_DONE,       /* a hypercall: kvm_hv_hypercall_done gives its status */
    WAIT_MSR_WRITE,  /* a kvm_hv_*_msr write: the guest's kvm_msr write tells its outcome */
    WAIT_MSR_READ,   /* kvm_hv_syndbg_get_msr: the kvm_msr read of the same MSR */
};

struct slot {
    struct trace_item item;
    int thread;
    enum wait wait;
    bool guess;          /* its thread's vCPU is not known yet: it may still come */
    bool not_modelled;   /* written as a comment: vsbox does not model this access */
    const char *also;    /* the kvm_hv_* tracepoint that showed the access too */
};

struct thread {
    struct kvm_import_thread pub;
    int waiting;         /* the window slot of its event still waiting, or -1 */
};

struct kvm_import {
    struct kvm_import_opts opts;
    kvm_emit_fn emit;
    void *ctx;
    bool emit_failed;
    struct kvm_import_stats st;
    struct thread threads[MAX_THREADS];
    size_t nthreads;
    int anonymous;                /* lines with no thread: one stream of their own */
    int owner[VMODEL_MAX_VCPUS];  /* the thread that runs each vCPU, or NO_THREAD */
    unsigned owner_line[VMODEL_MAX_VCPUS];
    uint32_t vcpus;               /* highest vCPU of an event + 1 */
    uint32_t tsc_khz;
    struct slot window[WINDOW];
    size_t head, count;
    /* A kvm line with no arguments, or arguments that fit no format: perhaps wrapped,
     * the rest on the next line (mail and bug trackers wrap long lines). */
    bool cut;
    struct kvm_line cut_line;
    unsigned cut_lineno;
    char cut_text[512];
    char joined[1024];
    /* The formats of the tracepoints met so far: looking one up in the table by its
     * name cost more than matching its arguments. */
    struct {
        char name[32];
        size_t len, n;
        const struct kvm_format *f;
    } known[16];
    size_t nknown;
};

/* kvm_formats(), remembered for the first 16 names (a capture has a handful). */
static const struct kvm_format *formats_of(struct kvm_import *im, const char *event, size_t len,
                                           size_t *n)
{
    for (size_t i = 0; i < im->nknown; i++)
        if (im->known[i].len == len && memcmp(im->known[i].name, event, len) == 0) {
            *n = im->known[i].n;
            return im->known[i].f;
        }
    const struct kvm_format *f = kvm_formats(event, len, n);
    if (im->nknown < sizeof im->known / sizeof im->known[0] && len < sizeof im->known[0].name) {
        memcpy(im->known[im->nknown].name, event, len);
        im->known[im->nknown].len = len;
        im->known[im->nknown].n = *n;
        im->known[im->nknown].f = f;
        im->nknown++;
    }
    return f;
}

struct kvm_import *kvm_import_new(const struct kvm_import_opts *opts, kvm_emit_fn emit,
                                  void *ctx)
{
    struct kvm_import *im = calloc(1, sizeof *im);
    if (!im)
        return NULL;
    im->opts = *opts;
    im->emit = emit;
    im->ctx = ctx;
    im->anonymous = NO_THREAD;
    for (size_t i = 0; i < VMODEL_MAX_VCPUS; i++)
        im->owner[i] = NO_THREAD;
    return im;
}

void kvm_import_free(struct kvm_import *im)
{
    free(im);
}

const struct kvm_import_stats *kvm_import_stats(const struct kvm_import *im)
{
    return &im->st;
}

const struct kvm_import_thread *kvm_import_thread(const struct kvm_import *im, size_t i)
{
    return i < im->nthreads ? &im->threads[i].pub : NULL;
}

void kvm_import_config(const struct kvm_import *im, struct trace_config *cfg)
{
    *cfg = (struct trace_config){ 0 };
    cfg->have = TRACE_HAVE_VCPUS;
    cfg->vcpus = im->vcpus ? im->vcpus : 1;
    if (im->tsc_khz) {
        cfg->have |= TRACE_HAVE_TSC_KHZ;
        cfg->tsc_khz = im->tsc_khz;
    }
}

static enum trace_rc fail(struct trace_error *err, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum trace_rc fail(struct trace_error *err, unsigned line, const char *fmt, ...)
{
    va_list ap;
    err->line = line;
    err->col = 0;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return TRACE_ERR;
}

static void comment_add(struct trace_item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void comment_add(struct trace_item *it, const char *fmt, ...)
{
    size_t n = strlen(it->comment);
    if (n + 1 >= sizeof it->comment)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->comment + n, sizeof it->comment - n, fmt, ap);
    va_end(ap);
}

/* Comment text is built by appending: snprintf per field was most of the import's time. */
struct text {
    char *buf;
    size_t cap, n;
};

static void add(struct text *t, const char *s, size_t len)
{
    size_t k = t->n + len < t->cap ? len : t->cap - 1 - t->n;
    memcpy(t->buf + t->n, s, k);
    t->n += k;
    t->buf[t->n] = '\0';
}

/* Inlined: the length of a literal is then known when compiling. */
static inline __attribute__((always_inline)) void add_str(struct text *t, const char *s)
{
    add(t, s, strlen(s));
}

static void add_num(struct text *t, long v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    add(t, tmp + i, sizeof tmp - i);
}

/* ---- the window: events leave it in capture order once nothing waits on them ---- */

static void put(struct kvm_import *im, struct slot *s)
{
    struct trace_item *it = &s->item;
    if (im->emit_failed || it->kind == TRACE_BLANK)
        return;
    /* A vCPU learnt after its thread's events were queued may be one trace v1 cannot
     * name. */
    if (it->kind == TRACE_EVENT && it->ev.vcpu >= VMODEL_MAX_VCPUS) {
        im->st.big_vcpu++;
        return;
    }
    if (it->kind == TRACE_EVENT) {
        struct text t = { it->comment, sizeof it->comment, strlen(it->comment) };
        add_str(&t, t.n ? " vcpu=" : "vcpu=");
        add_num(&t, it->ev.vcpu);
        if (s->guess)
            add_str(&t, " (guessed: the thread named no vCPU)");
        if (s->also) {
            add_str(&t, " +");
            add_str(&t, s->also);
        }
        if (s->guess)
            im->st.guessed++;
    }
    if (s->not_modelled) {
        /* KVM's answer is kept, as a comment: vsbox has nothing to compare it with. */
        struct trace_item c = { .kind = TRACE_COMMENT, .line = it->line };
        char line[200];
        trace_format_line(line, sizeof line, &it->ev, &it->expect, NULL);
        comment_add(&c, "not modelled: %s  (%s)", line, it->comment);
        im->st.not_modelled++;
        if (!im->emit(im->ctx, &c))
            im->emit_failed = true;
        return;
    }
    if (it->kind == TRACE_EVENT) {
        switch (it->ev.kind) {
        case VEV_RDMSR: im->st.rdmsr++; break;
        case VEV_WRMSR: im->st.wrmsr++; break;
        case VEV_CPUID: im->st.cpuid++; break;
        case VEV_HYPERCALL: im->st.hypercall++; break;
        default: break;
        }
        if (it->ev.vcpu + 1 > im->vcpus)
            im->vcpus = it->ev.vcpu + 1;
    }
    if (!im->emit(im->ctx, it))
        im->emit_failed = true;
}

static struct slot *slot_at(struct kvm_import *im, size_t k)
{
    return &im->window[(im->head + k) % WINDOW];
}

/* Stop waiting: the event goes out as it is. */
static void settle(struct kvm_import *im, struct slot *s)
{
    if (s->wait == WAIT_DONE && !s->item.has_expect)
        im->st.no_result++;
    s->wait = WAIT_NONE;
    if (s->thread != NO_THREAD && im->threads[s->thread].waiting == (int)(s - im->window))
        im->threads[s->thread].waiting = -1;
}

static void drain(struct kvm_import *im)
{
    while (im->count && slot_at(im, 0)->wait == WAIT_NONE && !slot_at(im, 0)->guess) {
        put(im, slot_at(im, 0));
        im->head = (im->head + 1) % WINDOW;
        im->count--;
    }
}

/* Out with the oldest slot as it is: the window is full, or the capture ended. */
static void force_oldest(struct kvm_import *im)
{
    struct slot *s = slot_at(im, 0);
    settle(im, s);
    put(im, s);
    im->head = (im->head + 1) % WINDOW;
    im->count--;
}

/* A slot for the next item; when the window is full its oldest item goes out as it is,
 * which bounds memory whatever the capture. */
static struct slot *push(struct kvm_import *im, int thread, enum wait wait)
{
    if (im->count == WINDOW) {
        force_oldest(im);
        drain(im);
    }
    struct slot *s = slot_at(im, im->count++);
    *s = (struct slot){ .thread = thread, .wait = wait };
    s->guess = thread != NO_THREAD && im->threads[thread].pub.guessed;
    if (wait != WAIT_NONE && thread != NO_THREAD)
        im->threads[thread].waiting = (int)(s - im->window);
    return s;
}

static struct slot *waiting(struct kvm_import *im, int thread)
{
    if (thread == NO_THREAD || im->threads[thread].waiting < 0)
        return NULL;
    return &im->window[im->threads[thread].waiting];
}

/* ---- threads and vCPUs ---- */

static bool task_is(const struct kvm_line *l, const char *name)
{
    size_t n = strlen(name);
    if (n && name[n - 1] == '*')
        return l->task_len >= n - 1 && memcmp(l->task, name, n - 1) == 0;
    return l->task_len == n && memcmp(l->task, name, n) == 0;
}

static bool wanted(const struct kvm_import *im, const struct kvm_line *l)
{
    if (im->opts.task && !task_is(l, im->opts.task))
        return false;
    if (!im->opts.npids)
        return true;
    for (size_t i = 0; i < im->opts.npids; i++)
        if ((l->pid >= 0 && l->pid == im->opts.pids[i]) ||
            (l->tgid >= 0 && l->tgid == im->opts.pids[i]))
            return true;
    return false;
}

/* The thread of a line; NO_THREAD when the table is full (then it goes anonymous). */
static int thread_of(struct kvm_import *im, const struct kvm_line *l)
{
    if (l->pid < 0) {
        if (im->anonymous == NO_THREAD && im->nthreads < MAX_THREADS) {
            im->anonymous = (int)im->nthreads++;
            im->threads[im->anonymous] = (struct thread){ .pub = { .pid = -1, .vcpu = -1 },
                                                          .waiting = -1 };
        }
        return im->anonymous;
    }
    for (size_t i = 0; i < im->nthreads; i++)
        if (im->threads[i].pub.pid == l->pid)
            return (int)i;
    if (im->nthreads == MAX_THREADS)
        return NO_THREAD;
    struct thread *t = &im->threads[im->nthreads];
    *t = (struct thread){ .pub = { .pid = l->pid, .vcpu = -1 }, .waiting = -1 };
    size_t n = l->task_len < sizeof t->pub.task - 1 ? l->task_len : sizeof t->pub.task - 1;
    memcpy(t->pub.task, l->task, n);
    t->pub.task[n] = '\0';
    return (int)im->nthreads++;
}

/* QEMU names its vCPU threads "CPU %d/KVM". */
static int vcpu_from_task(const struct kvm_line *l)
{
    if (l->task_len < 9 || memcmp(l->task, "CPU ", 4) != 0 ||
        memcmp(l->task + l->task_len - 4, "/KVM", 4) != 0)
        return -1;
    int v = 0;
    for (size_t i = 4; i < l->task_len - 4; i++) {
        if (l->task[i] < '0' || l->task[i] > '9' || v > 1000000)
            return -1;
        v = v * 10 + (l->task[i] - '0');
    }
    return l->task_len > 8 ? v : -1;
}

/* Thread t runs vCPU v (from the line at lineno). Two threads of two processes claiming
 * one vCPU are two guests in one capture: the user must pick one. */
static enum trace_rc bind(struct kvm_import *im, int t, int v, unsigned lineno,
                          struct trace_error *err)
{
    struct kvm_import_thread *th = &im->threads[t].pub;
    if (th->pid < 0 || v < 0)
        return TRACE_OK;
    if (v < (int)VMODEL_MAX_VCPUS) {
        int o = im->owner[v];
        if (o != NO_THREAD && o != t && !im->threads[o].pub.guessed)
            return fail(err, lineno,
                        "thread %ld runs vCPU %d, which thread %ld ran (line %u): two guests "
                        "in one capture? pick one with --pid %ld or --pid %ld",
                        th->pid, v, im->threads[o].pub.pid, im->owner_line[v],
                        im->threads[o].pub.pid, th->pid);
        if (o != NO_THREAD && o != t)
            im->threads[o].pub.vcpu = -1; /* its guess was wrong: it is guessed again */
        if (th->vcpu >= 0 && th->vcpu < (int)VMODEL_MAX_VCPUS && im->owner[th->vcpu] == t)
            im->owner[th->vcpu] = NO_THREAD;
        im->owner[v] = t;
        im->owner_line[v] = lineno;
    }
    th->vcpu = v;
    th->guessed = false;
    /* Its events still in the window were waiting for this. */
    for (size_t k = 0; k < im->count; k++) {
        struct slot *s = slot_at(im, k);
        if (s->thread == t && s->guess) {
            s->guess = false;
            s->item.ev.vcpu = (uint32_t)v;
        }
    }
    return TRACE_OK;
}

/* The vCPU of an event on thread t: the one its arguments name, or the one its thread
 * runs, or failing both the lowest free number (a guess, counted). */
static enum trace_rc vcpu_of(struct kvm_import *im, int t, const struct kvm_line *l,
                             const struct kvm_args *a, unsigned lineno, int *vcpu,
                             struct trace_error *err)
{
    int named = a->has[KF_VCPU] && a->v[KF_VCPU] < 1u << 20 ? (int)a->v[KF_VCPU] : -1;
    if (t == NO_THREAD) {
        *vcpu = named >= 0 ? named : 0;
        return TRACE_OK;
    }
    struct kvm_import_thread *th = &im->threads[t].pub;
    if (named < 0 && th->vcpu < 0)
        named = vcpu_from_task(l);
    if (named >= 0 && (named != th->vcpu || th->guessed) && bind(im, t, named, lineno, err))
        return TRACE_ERR;
    if (th->pid < 0) {
        *vcpu = named >= 0 ? named : 0;
        return TRACE_OK;
    }
    if (th->vcpu < 0) {
        int v = 0;
        while (v < (int)VMODEL_MAX_VCPUS && im->owner[v] != NO_THREAD)
            v++;
        th->vcpu = v;
        th->guessed = true;
        if (v < (int)VMODEL_MAX_VCPUS) {
            im->owner[v] = t;
            im->owner_line[v] = lineno;
        }
    }
    *vcpu = th->vcpu;
    return TRACE_OK;
}

/* ---- items ---- */

/* "t=1165.185227 task=qemu-system-x86 pid=613 pcpu=1" */
static void where(const struct kvm_line *l, char *buf, size_t len)
{
    struct text t = { buf, len, 0 };
    buf[0] = '\0';
    if (l->ts_len) {
        add_str(&t, "t=");
        add(&t, l->ts, l->ts_len);
    }
    if (l->task_len) {
        add_str(&t, t.n ? " task=" : "task=");
        add(&t, l->task, l->task_len);
    }
    const struct {
        const char *name;
        long v;
    } nums[] = { { " pid=", l->pid }, { " tgid=", l->tgid }, { " pcpu=", l->cpu } };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (nums[i].v >= 0) {
            add_str(&t, t.n ? nums[i].name : nums[i].name + 1);
            add_num(&t, nums[i].v);
        }
}

/* What vsbox models: the hypervisor CPUID range, and the MSRs of the model's table or
 * of the synthetic range (where an unknown MSR is a #GP worth comparing). */
static bool msr_modelled(uint32_t msr)
{
    return vmsr_find(msr, NULL) || (msr & 0xf0000000u) == 0x40000000u;
}

static void event_item(struct trace_item *it, const struct kvm_line *l, unsigned lineno,
                       int vcpu)
{
    *it = (struct trace_item){ .kind = TRACE_EVENT, .line = lineno };
    it->ev.vcpu = (uint32_t)vcpu;
    it->ev.legacy = -1;
    where(l, it->comment, sizeof it->comment);
}

/* An access vsbox does not model: KVM's answer is kept as a comment. */
static void not_modelled(struct kvm_import *im, int t, const struct trace_item *ev)
{
    struct slot *s = push(im, t, WAIT_NONE);
    s->item = *ev;
    s->not_modelled = true;
}

static void msr_event(struct kvm_import *im, int t, struct trace_item *it,
                      const struct kvm_args *a)
{
    uint32_t msr = (uint32_t)a->v[KF_MSR];
    bool write = a->v[KF_WRITE] == 0, gp = a->v[KF_GP] == 0;
    it->ev.kind = write ? VEV_WRMSR : VEV_RDMSR;
    it->ev.a[0] = msr;
    it->ev.a[1] = write ? a->v[KF_DATA] : 0;
    it->has_expect = true;
    it->expect = (struct vres){ .kind = gp ? VRES_GP : write ? VRES_OK : VRES_VALUE,
                                .v = { write || gp ? 0 : a->v[KF_DATA] } };
    /* The guest TSC frequency KVM told the guest, for the trace header: a replay then
     * answers the same (KVM returns virtual_tsc_khz * 1000). */
    if (!write && !gp && msr == HV_X64_MSR_TSC_FREQUENCY && !im->tsc_khz &&
        a->v[KF_DATA] % 1000 == 0 && a->v[KF_DATA] / 1000 >= VMODEL_TSC_KHZ_MIN &&
        a->v[KF_DATA] / 1000 <= VMODEL_TSC_KHZ_MAX)
        im->tsc_khz = (uint32_t)(a->v[KF_DATA] / 1000);
    struct slot *w = waiting(im, t);
    if (w && w->wait == (write ? WAIT_MSR_WRITE : WAIT_MSR_READ) &&
        w->item.ev.a[0] == msr && (!write || w->item.ev.a[1] == it->ev.a[1])) {
        /* The kvm_hv_* line showed this very access: one event, with KVM's answer. */
        w->item.has_expect = true;
        w->item.expect = it->expect;
        memcpy(w->item.comment, it->comment, sizeof w->item.comment);
        settle(im, w);
        im->st.merged++;
        return;
    }
    if (w)
        settle(im, w);
    if (!msr_modelled(msr)) {
        not_modelled(im, t, it);
        return;
    }
    push(im, t, WAIT_NONE)->item = *it;
}

static bool cpuid_event(struct kvm_import *im, int t, struct trace_item *it,
                        const struct kvm_args *a)
{
    static const enum kvm_field regs[4] = { KF_EAX, KF_EBX, KF_ECX, KF_EDX };
    if (a->v[KF_LEAF] >> 32 || a->v[KF_SUBLEAF] >> 32)
        return false;
    it->ev.kind = VEV_CPUID;
    it->ev.a[0] = a->v[KF_LEAF];
    it->ev.a[1] = a->v[KF_SUBLEAF];
    it->has_expect = true;
    it->expect.kind = VRES_REGS;
    for (int r = 0; r < 4; r++) {
        /* %lx of a 32-bit register: anything wider is not KVM's. */
        if (a->v[regs[r]] >> 32)
            return false;
        it->expect.v[r] = a->v[regs[r]];
    }
    if (!a->has[KF_SUBLEAF])
        comment_add(it, " (no subleaf before Linux 5.7: 0 assumed)");
    struct slot *w = waiting(im, t);
    if (w)
        settle(im, w);
    if (!vmodel_cpuid_owns((uint32_t)a->v[KF_LEAF]))
        not_modelled(im, t, it);
    else
        push(im, t, WAIT_NONE)->item = *it;
    return true;
}

/* The hypercall input value (RCX) from its fields (TLFS "hypercall input value"). */
static void hypercall_event(struct kvm_import *im, int t, struct trace_item *it,
                            const struct kvm_args *a)
{
    uint64_t rcx = (a->v[KF_CODE] & 0xffff) | (a->v[KF_FAST] == 0 ? 1ull << 16 : 0) |
                   (a->v[KF_VAR_CNT] & 0x3ff) << 17 | (a->v[KF_REP_CNT] & 0xfff) << 32 |
                   (a->v[KF_REP_IDX] & 0xfff) << 48;
    it->ev.kind = VEV_HYPERCALL;
    it->ev.a[0] = rcx;
    it->ev.a[1] = a->v[KF_IN];
    it->ev.a[2] = a->v[KF_OUT];
    struct slot *w = waiting(im, t);
    if (w)
        settle(im, w);
    push(im, t, WAIT_DONE)->item = *it;
}

static void hv_msr_event(struct kvm_import *im, int t, struct trace_item *it,
                         const struct kvm_args *a, bool write)
{
    uint32_t msr;
    uint64_t data;
    if (a->has[KF_TIMER]) {
        /* HV_X64_MSR_STIMER0_CONFIG is 0x400000b0, each timer a CONFIG, COUNT pair. */
        msr = 0x400000b0u + 2 * (uint32_t)a->v[KF_TIMER] + (a->has[KF_COUNT] ? 1 : 0);
        data = a->has[KF_COUNT] ? a->v[KF_COUNT] : a->v[KF_CONFIG];
    } else {
        msr = (uint32_t)a->v[KF_MSR];
        data = a->v[KF_DATA];
    }
    it->ev.kind = write ? VEV_WRMSR : VEV_RDMSR;
    it->ev.a[0] = msr;
    it->ev.a[1] = write ? data : 0;
    if (!write) {
        it->has_expect = true;
        it->expect = (struct vres){ .kind = VRES_VALUE, .v = { data } };
    }
    struct slot *w = waiting(im, t);
    if (w)
        settle(im, w);
    w = push(im, t, write ? WAIT_MSR_WRITE : WAIT_MSR_READ);
    w->item = *it;
    w->also = a->format->event;
}

static void detail(struct kvm_import *im, int t, const struct kvm_line *l, unsigned lineno)
{
    struct slot *w = waiting(im, t);
    if (w && w->wait == WAIT_DONE) {
        comment_add(&w->item, "; %.*s: %.*s", (int)l->event_len, l->event, (int)l->args_len,
                    l->args);
        im->st.details++;
        return;
    }
    if (w)
        settle(im, w);
    struct slot *s = push(im, t, WAIT_NONE);
    s->item = (struct trace_item){ .kind = TRACE_COMMENT, .line = lineno };
    comment_add(&s->item, "%.*s: %.*s (its kvm_hv_hypercall is not in the capture)",
                (int)l->event_len, l->event, (int)l->args_len, l->args);
    im->st.orphans++;
}

static void hypercall_done(struct kvm_import *im, int t, const struct kvm_args *a)
{
    struct slot *w = waiting(im, t);
    if (!w || w->wait != WAIT_DONE) {
        im->st.orphans++;
        return;
    }
    w->item.has_expect = true;
    w->item.expect = (struct vres){ .kind = VRES_VALUE, .v = { a->v[KF_RESULT] } };
    settle(im, w);
}

/* One kvm tracepoint's line, its arguments present. */
static void stash(struct kvm_import *im, const struct kvm_line *l, const char *text, size_t len,
                  unsigned lineno);

/* One kvm tracepoint's line. may_wrap: the line is whole as read (not joined yet), so
 * arguments that fit no format may go on on the next line. */
static enum trace_rc kvm_event(struct kvm_import *im, const struct kvm_line *l, unsigned lineno,
                               const char *text, size_t len, bool may_wrap,
                               struct trace_error *err)
{
    struct kvm_args a;
    size_t n;
    const struct kvm_format *f = formats_of(im, l->event, l->event_len, &n);
    if (!f) {
        im->st.kvm_other++;
        return TRACE_OK;
    }
    if (f->tp == KVM_TP_VCPU && l->pid >= 0) {
        /* kvm_entry and kvm_exit are most of a `-e kvm:*` capture: once their thread's
         * vCPU is known they only end what the thread was doing. */
        for (size_t i = 0; i < im->nthreads; i++)
            if (im->threads[i].pub.pid == l->pid && im->threads[i].pub.vcpu >= 0 &&
                !im->threads[i].pub.guessed) {
                struct slot *w = waiting(im, (int)i);
                if (w)
                    settle(im, w);
                drain(im);
                im->st.kvm_other++;
                return TRACE_OK;
            }
    }
    if (!kvm_match_formats(f, n, l->args, l->args_len, &a)) {
        /* kvm_exit before 4.8 names no vCPU: nothing lost. */
        if (f->tp == KVM_TP_VCPU)
            im->st.kvm_other++;
        else if (may_wrap)
            stash(im, l, text, len, lineno);
        else
            im->st.malformed++;
        return TRACE_OK;
    }
    if (a.trailing)
        im->st.annotated++;
    enum kvm_tp tp = a.format->tp;
    /* The VMM's own writes (host 1) happen on whichever thread made the ioctl. */
    if (tp == KVM_TP_HV_MSR_WRITE && a.has[KF_HOST] && a.v[KF_HOST] != 0) {
        im->st.host_writes++;
        return TRACE_OK;
    }
    int t = thread_of(im, l), vcpu;
    if (vcpu_of(im, t, l, &a, lineno, &vcpu, err))
        return TRACE_ERR;
    if (tp == KVM_TP_VCPU) {
        im->st.kvm_other++;
        struct slot *w = waiting(im, t);
        if (w)
            settle(im, w);
        drain(im);
        return TRACE_OK;
    }
    if (vcpu >= (int)VMODEL_MAX_VCPUS) {
        im->st.big_vcpu++;
        return TRACE_OK;
    }
    if (t != NO_THREAD)
        im->threads[t].pub.events++;
    struct trace_item it;
    event_item(&it, l, lineno, vcpu);
    switch (tp) {
    case KVM_TP_MSR:
        msr_event(im, t, &it, &a);
        break;
    case KVM_TP_CPUID:
        if (!cpuid_event(im, t, &it, &a))
            im->st.malformed++;
        break;
    case KVM_TP_HYPERCALL:
        hypercall_event(im, t, &it, &a);
        break;
    case KVM_TP_HYPERCALL_DONE:
        hypercall_done(im, t, &a);
        break;
    case KVM_TP_HV_MSR_WRITE:
    case KVM_TP_HV_MSR_READ:
        if (a.has[KF_TIMER] && a.v[KF_TIMER] > 3) {
            im->st.malformed++; /* the TLFS has four synthetic timers */
            break;
        }
        hv_msr_event(im, t, &it, &a, tp == KVM_TP_HV_MSR_WRITE);
        break;
    case KVM_TP_DETAIL:
        detail(im, t, l, lineno);
        break;
    case KVM_TP_VCPU:
        break;
    }
    drain(im);
    if (im->emit_failed)
        return fail(err, lineno, "cannot write the output");
    return TRACE_OK;
}

/* trace-cmd record and perf record write binary files; their text comes from
 * `trace-cmd report` and `perf script`. */
static bool binary_capture(const char *s, size_t len)
{
    return (len >= 10 && memcmp(s, "\x17\x08\x44tracing", 10) == 0) ||
           (len >= 8 && memcmp(s, "PERFILE2", 8) == 0) || memchr(s, '\0', len);
}

static enum trace_rc split_and_import(struct kvm_import *im, const char *text, size_t len,
                                      unsigned lineno, struct trace_error *err)
{
    struct kvm_line l;
    switch (kvm_split_line(text, len, &l)) {
    case KVM_LINE_HEADER:
        im->st.headers++;
        return TRACE_OK;
    case KVM_LINE_BLANK:
    case KVM_LINE_OTHER:
        im->st.other_lines++;
        return TRACE_OK;
    case KVM_LINE_EVENT:
        break;
    }
    bool kvm = (l.system_len == 0 || (l.system_len == 3 && memcmp(l.system, "kvm", 3) == 0)) &&
               l.event_len > 4 && memcmp(l.event, "kvm_", 4) == 0;
    if (!kvm) {
        im->st.other_events++;
        return TRACE_OK;
    }
    im->st.kvm_lines++;
    if (!wanted(im, &l)) {
        im->st.filtered++;
        return TRACE_OK;
    }
    if (l.args_len == 0) {
        stash(im, &l, text, len, lineno);
        return TRACE_OK;
    }
    return kvm_event(im, &l, lineno, text, len, true, err);
}

/* Keep a copy of a kvm line that may go on on the next line: the text is gone by then. */
static void stash(struct kvm_import *im, const struct kvm_line *l, const char *text, size_t len,
                  unsigned lineno)
{
    if (len < sizeof im->cut_text) {
        memcpy(im->cut_text, text, len);
        im->cut = kvm_split_line(im->cut_text, len, &im->cut_line) == KVM_LINE_EVENT;
        im->cut_lineno = lineno;
    }
    if (!im->cut)
        im->st.cut += l->args_len == 0;
    if (!im->cut)
        im->st.malformed += l->args_len != 0;
}

/* The stashed line's rest is text (the next line's), or there is none (NULL). */
static enum trace_rc unstash(struct kvm_import *im, const char *text, size_t len,
                             struct trace_error *err)
{
    struct kvm_line *l = &im->cut_line;
    im->cut = false;
    if (!text) {
        im->st.cut += l->args_len == 0;
        im->st.malformed += l->args_len != 0;
        return TRACE_OK;
    }
    const char *s = text, *e = text + len;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    size_t n = l->args_len;
    if (n + 1 + (size_t)(e - s) >= sizeof im->joined) {
        im->st.malformed++;
        return TRACE_OK;
    }
    memcpy(im->joined, l->args, n);
    if (n && !(im->joined[n - 1] == ' '))
        im->joined[n++] = ' ';
    memcpy(im->joined + n, s, (size_t)(e - s));
    l->args = im->joined;
    l->args_len = n + (size_t)(e - s);
    im->st.rejoined++;
    return kvm_event(im, l, im->cut_lineno, NULL, 0, false, err);
}

enum trace_rc kvm_import_line(struct kvm_import *im, const char *text, size_t len,
                              unsigned line, struct trace_error *err)
{
    im->st.lines++;
    if (line == 1 && binary_capture(text, len))
        return fail(err, line, "a binary file, not text: for trace-cmd's trace.dat run "
                               "'trace-cmd report FILE', for perf.data 'perf script -i FILE'");
    if (im->cut) {
        struct kvm_line next;
        if (kvm_split_line(text, len, &next) == KVM_LINE_OTHER)
            return unstash(im, text, len, err);
        unstash(im, NULL, 0, err);
    }
    return split_and_import(im, text, len, line, err);
}

enum trace_rc kvm_import_finish(struct kvm_import *im, struct trace_error *err)
{
    if (im->cut)
        unstash(im, NULL, 0, err);
    while (im->count)
        force_oldest(im);
    if (im->emit_failed)
        return fail(err, (unsigned)im->st.lines, "cannot write the output");
    if (im->st.kvm_lines == 0)
        return fail(err, (unsigned)im->st.lines,
                    "no KVM tracepoint in %lu lines (expected trace-cmd report, ftrace or perf "
                    "script text with kvm:kvm_msr, kvm:kvm_cpuid or kvm:kvm_hv_* events)",
                    im->st.lines);
    return TRACE_OK;
}
