/* The event grammar of trace v1: "[vN] EVENT ARGS [-> RESULT] [# comment]", one table row
 * per event (TRACE-V1.md, "Events"). */
#include <string.h>
#include "traces/trace_lex.h"
#include "viridian/model.h"
#include "viridian/profile.h"

static enum trace_rc parse_param_set(struct tlex *x, struct trace_item *item);
static enum trace_rc parse_param_get_from(struct tlex *x, struct trace_item *item);
static enum trace_rc parse_param_get(struct tlex *x, struct trace_item *item);
static enum trace_rc parse_migrate(struct tlex *x, struct trace_item *item);
static enum trace_rc parse_hypercall_input(struct tlex *x, struct trace_item *item);

/* Adding an event is one row here, one case in trace_write.c and a line in the docs. */
static const struct event_form forms[] = {
    { .word = "cpuid", .kind = VEV_CPUID,
      .args = { { "a leaf", 32 }, { "a subleaf", 32 } },
      .results = "EAX EBX ECX EDX",
      .values = { { "EAX", 32 }, { "EBX", 32 }, { "ECX", 32 }, { "EDX", 32 } } },
    { .word = "rdmsr", .kind = VEV_RDMSR,
      .args = { { "an MSR number", 32 } },
      .results = "a value or #GP", .values = { { "a value", 64 } }, .words = { VRES_GP } },
    { .word = "wrmsr", .kind = VEV_WRMSR,
      .args = { { "an MSR number", 32 }, { "a value", 64 } },
      .results = "ok or #GP", .words = { VRES_OK, VRES_GP } },
    { .word = "rdtsc", .kind = VEV_RDTSC,
      .results = "a value", .values = { { "a value", 64 } } },
    { .word = "hypercall", .kind = VEV_HYPERCALL,
      .args = { { "RCX", 64 }, { "RDX", 64 }, { "R8", 64 } },
      .results = "RAX or #UD", .values = { { "RAX", 64 } }, .words = { VRES_UD } },
    { .word = "param-set", .kind = VEV_PARAM_SET, .parse = parse_param_set,
      .results = "ok, EPERM, EEXIST or EINVAL",
      .words = { VRES_OK, VRES_EPERM, VRES_EEXIST, VRES_EINVAL } },
    { .word = "param-get", .kind = VEV_PARAM_GET, .parse = parse_param_get_from,
      .results = "a value or EPERM", .values = { { "a value", 64 } }, .words = { VRES_EPERM } },
    /* Moves the clock; there is nothing to compare. */
    { .word = "advance", .kind = VEV_ADVANCE,
      .args = { { "a tick count", 64 } } },
    { .word = "migrate", .kind = VEV_MIGRATE, .parse = parse_migrate,
      .results = "ok or refused", .words = { VRES_OK, VRES_REFUSED } },
    /* The SIM slots the guest holds, as the recorder read them: replay has no memory. */
    { .word = "poll", .kind = VEV_POLL,
      .args = { { "the SIM slots the guest holds", 16 } },
      .results = "a value", .values = { { "a value", 64 } } },
};

const struct event_form *trace_event_forms(size_t *n)
{
    *n = sizeof forms / sizeof forms[0];
    return forms;
}

static const struct {
    const char *word;
    enum vres_kind kind;
} result_words[] = {
    { "ok", VRES_OK },       { "#GP", VRES_GP },         { "#UD", VRES_UD },
    { "EPERM", VRES_EPERM }, { "EEXIST", VRES_EEXIST },  { "EINVAL", VRES_EINVAL },
    { "refused", VRES_REFUSED },
};

static enum trace_rc missing(struct tlex *x, const char *what)
{
    struct tlex_token t;
    char b[TLEX_SHOW];
    if (tlex_peek(x, &t))
        return tlex_fail(x->err, x->line, t.col, "expected %s, not '%s'", what, tlex_show(&t, b));
    return tlex_fail(x->err, x->line, tlex_col(x), "expected %s", what);
}

static enum trace_rc number(struct tlex *x, const struct number_arg *arg, uint64_t *out)
{
    struct tlex_token t;
    if (!tlex_peek(x, &t) || tlex_is(&t, "->"))
        return missing(x, arg->what);
    tlex_take(x, &t);
    return tlex_number(x, &t, arg->bits, out);
}

static enum trace_rc parse_param_get(struct tlex *x, struct trace_item *item)
{
    struct vevent *ev = &item->ev;
    struct tlex_token t;
    char b[TLEX_SHOW];
    (void)ev;
    if (!tlex_peek(x, &t) || tlex_is(&t, "->"))
        return missing(x, "'viridian'");
    tlex_next(x, &t);
    if (!tlex_is(&t, "viridian"))
        return tlex_fail(x->err, x->line, t.col,
                         "unknown parameter '%s': only viridian is modelled", tlex_show(&t, b));
    return TRACE_OK;
}

static enum trace_rc parse_param_set(struct tlex *x, struct trace_item *item)
{
    struct vevent *ev = &item->ev;
    static const struct number_arg value = { "a value", 64 };
    struct tlex_token t;
    if (parse_param_get(x, item) || number(x, &value, &ev->a[0]))
        return TRACE_ERR;
    if (!tlex_peek(x, &t) || !(tlex_is(&t, "from=toolstack") || tlex_is(&t, "from=guest")))
        return missing(x, "from=toolstack or from=guest");
    tlex_next(x, &t);
    ev->from_guest = tlex_is(&t, "from=guest");
    return TRACE_OK;
}

/* param-get viridian [from=toolstack|from=guest]: a guest's read (4.6+ refuses it). */
static enum trace_rc parse_param_get_from(struct tlex *x, struct trace_item *item)
{
    struct tlex_token t;
    if (parse_param_get(x, item))
        return TRACE_ERR;
    if (tlex_peek(x, &t) && (tlex_is(&t, "from=toolstack") || tlex_is(&t, "from=guest"))) {
        tlex_next(x, &t);
        item->ev.from_guest = tlex_is(&t, "from=guest");
    }
    return TRACE_OK;
}

enum trace_rc trace_parse_host(struct tlex *x, const struct tlex_token *v,
                               const struct vprofile **host)
{
    char name[64], b[TLEX_SHOW];
    *host = NULL;
    if (v->len < sizeof name) {
        memcpy(name, v->p, v->len);
        name[v->len] = '\0';
        *host = vprofile_find(name);
    }
    if (!*host)
        return tlex_fail(x->err, x->line, v->col, "unknown host profile '%s'", tlex_show(v, b));
    return TRACE_OK;
}

static enum trace_rc parse_migrate(struct tlex *x, struct trace_item *item)
{
    struct vevent *ev = &item->ev;
    struct tlex_token t, v;
    if (!tlex_peek(x, &t) || !tlex_has_prefix(&t, "host=") || t.len == 5)
        return missing(x, "host=PROFILE");
    tlex_next(x, &t);
    v = (struct tlex_token){ t.p + 5, t.len - 5, t.col + 5 };
    if (trace_parse_host(x, &v, &ev->host))
        return TRACE_ERR;
    /* Without viridian= the stream carries the whole HVM_PARAM_VIRIDIAN (Xen >= 4.5). */
    ev->legacy = -1;
    if (tlex_peek(x, &t) && tlex_has_prefix(&t, "viridian=")) {
        tlex_next(x, &t);
        v = (struct tlex_token){ t.p + 9, t.len - 9, t.col + 9 };
        if (tlex_is(&v, "0") || tlex_is(&v, "false"))
            ev->legacy = 0;
        else if (tlex_is(&v, "1") || tlex_is(&v, "true"))
            ev->legacy = 1;
        else
            return tlex_fail(x->err, x->line, v.col,
                             "a legacy stream carries only a boolean: viridian=0, 1, true or "
                             "false");
    }
    /* downtime=TICKS: how long the paused domain waited for its save. */
    if (tlex_peek(x, &t) && tlex_has_prefix(&t, "downtime=")) {
        static const struct number_arg ticks = { "a tick count", 64 };
        tlex_next(x, &t);
        v = (struct tlex_token){ t.p + 9, t.len - 9, t.col + 9 };
        if (!v.len)
            return tlex_fail(x->err, x->line, v.col, "expected %s", ticks.what);
        if (tlex_number(x, &v, ticks.bits, &ev->a[0]))
            return TRACE_ERR;
    }
    return TRACE_OK;
}

/* hypercall RCX RDX R8 [in=W0,W1,...|in=none]: the registers are the row's arguments
 * (so a line without in= stays on the fast path); this takes the optional block. */
static enum trace_rc parse_hypercall_input(struct tlex *x, struct trace_item *item)
{
    static const struct number_arg word = { "a 64-bit word", 64 };
    struct tlex_token t;
    if (!tlex_peek(x, &t) || !tlex_has_prefix(&t, "in="))
        return TRACE_OK;
    tlex_next(x, &t);
    item->has_input = true;
    item->input_words = 0;
    struct tlex_token w = { t.p + 3, t.len - 3, t.col + 3 };
    if (tlex_is(&w, "none"))
        return TRACE_OK;
    for (;;) {
        size_t n = 0;
        while (n < w.len && w.p[n] != ',')
            n++;
        struct tlex_token one = { w.p, n, w.col };
        if (!n)
            return tlex_fail(x->err, x->line, w.col, "expected %s", word.what);
        if (item->input_words == TRACE_MAX_INPUT_WORDS)
            return tlex_fail(x->err, x->line, w.col, "more than %u input words",
                             TRACE_MAX_INPUT_WORDS);
        if (tlex_number(x, &one, word.bits, &item->input[item->input_words]))
            return TRACE_ERR;
        item->input_words++;
        if (n == w.len)
            return TRACE_OK;
        w = (struct tlex_token){ w.p + n + 1, w.len - n - 1, w.col + (unsigned)n + 1 };
    }
}

static enum trace_rc parse_result(struct tlex *x, const struct tlex_token *arrow,
                                  const struct event_form *f, struct vres *res)
{
    struct tlex_token t;
    if (!f->results)
        return tlex_fail(x->err, x->line, arrow->col, "%s takes no result", f->word);
    if (!tlex_peek(x, &t))
        return missing(x, f->results);
    /* No result word starts with a digit, and numbers always do. */
    bool digit = t.p[0] >= '0' && t.p[0] <= '9';
    for (size_t i = 0; i < sizeof result_words / sizeof result_words[0] && !digit; i++) {
        if (!tlex_is(&t, result_words[i].word))
            continue;
        for (size_t k = 0; k < sizeof f->words / sizeof f->words[0]; k++)
            if (f->words[k] == result_words[i].kind) {
                tlex_take(x, &t);
                res->kind = result_words[i].kind;
                return TRACE_OK;
            }
        return missing(x, f->results);
    }
    /* Anything but a digit is a wrong word ("expected ok or #GP, not 'OK'"), not a bad number. */
    if (!f->values[0].what || !digit)
        return missing(x, f->results);
    res->kind = f->values[1].what ? VRES_REGS : VRES_VALUE;
    for (size_t k = 0; k < sizeof f->values / sizeof f->values[0] && f->values[k].what; k++)
        if (number(x, &f->values[k], &res->v[k]))
            return TRACE_ERR;
    return TRACE_OK;
}

/* "v3": the vCPU prefix, decimal as the writer prints it. */
static bool vcpu_prefix(const struct tlex_token *t)
{
    if (t->len < 2 || t->p[0] != 'v')
        return false;
    for (size_t i = 1; i < t->len; i++)
        if (t->p[i] < '0' || t->p[i] > '9')
            return false;
    return true;
}

static enum trace_rc parse_vcpu(struct tlex *x, const struct tlex_token *t, uint32_t *vcpu)
{
    char b[TLEX_SHOW];
    uint64_t n = 0;
    for (size_t i = 1; i < t->len && n < VMODEL_MAX_VCPUS; i++)
        n = n * 10 + (uint64_t)(t->p[i] - '0');
    if (n >= VMODEL_MAX_VCPUS)
        return tlex_fail(x->err, x->line, t->col, "vCPU %s out of range (0 to %u)",
                         tlex_show(&(struct tlex_token){ t->p + 1, t->len - 1, t->col + 1 }, b),
                         VMODEL_MAX_VCPUS - 1);
    *vcpu = (uint32_t)n;
    return TRACE_OK;
}

enum trace_rc trace_event_parse(struct tlex *x, struct trace_item *item)
{
    struct vevent *ev = &item->ev;
    struct tlex_token t;
    char b[TLEX_SHOW];
    item->kind = TRACE_EVENT;
    item->has_expect = false;
    item->expect = (struct vres){ .kind = VRES_NONE };
    item->comment[0] = '\0';
    item->has_input = false;
    item->input_words = 0;
    *ev = (struct vevent){ .legacy = -1 };

    if (!tlex_next(x, &t))
        return tlex_fail(x->err, x->line, tlex_col(x), "expected an event");
    if (vcpu_prefix(&t)) {
        if (parse_vcpu(x, &t, &ev->vcpu))
            return TRACE_ERR;
        if (!tlex_next(x, &t))
            return tlex_fail(x->err, x->line, tlex_col(x), "expected an event after '%s'",
                             tlex_show(&t, b));
    }
    const struct event_form *f = NULL;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0] && !f; i++)
        if (t.p[0] == forms[i].word[0] && tlex_is(&t, forms[i].word))
            f = &forms[i];
    if (!f)
        return tlex_fail(x->err, x->line, t.col, "unknown event '%s'%s", tlex_show(&t, b),
                         t.p[0] == '#' ? " (a comment is '#' and a blank)" : "");
    ev->kind = f->kind;
    if (f->parse) {
        if (f->parse(x, item))
            return TRACE_ERR;
    } else {
        for (size_t i = 0; i < sizeof f->args / sizeof f->args[0] && f->args[i].what; i++)
            if (number(x, &f->args[i], &ev->a[i]))
                return TRACE_ERR;
        if (f->kind == VEV_HYPERCALL && parse_hypercall_input(x, item))
            return TRACE_ERR;
    }
    if (tlex_next(x, &t)) {
        if (!tlex_is(&t, "->"))
            return tlex_fail(x->err, x->line, t.col, "unexpected '%s'%s", tlex_show(&t, b),
                             tlex_has_prefix(&t, "->") ? ": put a blank after '->'"
                             : f->results       ? ": a result follows '->'"
                                                : "");
        if (parse_result(x, &t, f, &item->expect))
            return TRACE_ERR;
        item->has_expect = true;
        if (tlex_next(x, &t))
            return tlex_fail(x->err, x->line, t.col, "unexpected '%s' after the result",
                             tlex_show(&t, b));
    }
    tlex_comment(x, item->comment);
    return TRACE_OK;
}

enum trace_rc trace_parse_event(const char *line, struct trace_item *item,
                                struct trace_error *err)
{
    /* One line: a single trailing "\n" or "\r\n" is its end, anything after is not. */
    size_t len = strnlen(line, TRACE_MAX_LINE + 3);
    *item = (struct trace_item){ .kind = TRACE_EVENT, .line = 1 };
    if (len && line[len - 1] == '\n')
        len--;
    if (len && line[len - 1] == '\r')
        len--;
    if (len > TRACE_MAX_LINE)
        return tlex_fail(err, 1, TRACE_MAX_LINE + 1, "line longer than %u bytes", TRACE_MAX_LINE);
    len = tlex_trim(line, len);
    if (tlex_check(line, len, false, 1, err))
        return TRACE_ERR;
    struct tlex x = { line, len, 0, 1, err };
    return trace_event_parse(&x, item);
}
