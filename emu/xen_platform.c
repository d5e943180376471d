/* Xen's own hypercalls, as an HVM guest of xl makes them, and the toolstack's side of
 * the rings it is given: what a guest kernel (XTF's test kernels in particular) needs
 * to boot, print, and shut down. Numbers and layouts are Xen's public ABI
 * (xen/include/public: xen.h, sched.h, memory.h, event_channel.h, grant_table.h,
 * version.h, hvm/hvm_op.h, hvm/params.h, io/console.h, io/xs_wire.h); behaviour is
 * xen/arch/x86/hvm/hypercall.c and the handlers it calls. HVM_PARAM_VIRIDIAN belongs to
 * the model (viridian/xen_hypercall.c), which this hands it to. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "emu/internal.h"
#include "emu/mmu.h"
#include "emu/phys.h"
#include "emu/xen_platform.h"
#include "viridian/profile.h"
#include "viridian/xen_hypercall.h"

enum {
    __HYPERVISOR_memory_op = 12, __HYPERVISOR_xen_version = 17, __HYPERVISOR_console_io = 18,
    __HYPERVISOR_grant_table_op = 20, __HYPERVISOR_vcpu_op = 24, __HYPERVISOR_sched_op = 29,
    __HYPERVISOR_event_channel_op = 32,
};
enum { XEN_EPERM = 1, XEN_ENOENT = 2, XEN_EFAULT = 14, XEN_EINVAL = 22, XEN_ENOSYS = 38 };
enum { VCPUOP_initialise = 0, VCPUOP_up = 1, VCPUOP_is_up = 3 };
/* struct vcpu_hvm_context: mode, pad, then the larger of its two register layouts */
enum { VCPU_HVM_CONTEXT_SIZE = 8 + 120 };
enum { CONSOLEIO_write = 0, CONSOLEIO_read = 1 };
enum { SCHEDOP_yield = 0, SCHEDOP_block = 1, SCHEDOP_shutdown = 2, SCHEDOP_poll = 3 };
enum { XENMEM_decrease_reservation = 1, XENMEM_populate_physmap = 6, XENMEM_add_to_physmap = 7 };
enum { XENMAPSPACE_shared_info = 0, XENMAPSPACE_grant_table = 1 };
enum { GNTTABOP_set_version = 8, GNTTABOP_get_version = 10 };
enum { XENVER_version = 0, XENVER_extraversion = 1, XENVER_compile_info = 2,
       XENVER_capabilities = 3, XENVER_changeset = 4, XENVER_platform_parameters = 5,
       XENVER_get_features = 6, XENVER_pagesize = 7, XENVER_guest_handle = 8,
       XENVER_commandline = 9, XENVER_build_id = 10 };
enum { HVM_PARAM_STORE_PFN = 1, HVM_PARAM_STORE_EVTCHN = 2, HVM_PARAM_CONSOLE_PFN = 17,
       HVM_PARAM_CONSOLE_EVTCHN = 18 };
/* struct xencons_interface: in[1024], out[2048], then the four ring indexes. */
enum { CONS_OUT = 1024, CONS_OUT_SIZE = 2048, CONS_OUT_CONS = 3080, CONS_OUT_PROD = 3084 };
/* struct xenstore_domain_interface: req[1024], rsp[1024], req_cons/prod, rsp_cons/prod */
enum { XS_RING = 1024, XS_REQ = 0, XS_RSP = 1024, XS_REQ_CONS = 2048, XS_REQ_PROD = 2052,
       XS_RSP_CONS = 2056, XS_RSP_PROD = 2060 };
enum { XS_READ = 2, XS_ERROR = 16 };

static uint64_t neg(unsigned e)
{
    return (uint64_t)-(int64_t)e;
}

static uint8_t *special_page(struct emu *e, unsigned which)
{
    return phys_ram(e, XEN_SPECIAL_BASE + which * 4096ull, 4096);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* xenconsoled's side: take what the guest wrote (it waits for that). Its text also
 * went to console_io, which vsbox prints, so none is lost by taking it here. */
static void console_drain(struct emu *e)
{
    uint8_t *ring = special_page(e, SPECIALPAGE_CONSOLE);
    if (ring)
        put32(ring + CONS_OUT_CONS, get32(ring + CONS_OUT_PROD));
    evtchn_set_pending(e, XEN_CONSOLE_EVTCHN);
}

/* xenstored's side, for the one request a guest of vsbox can usefully make: a read of
 * its own domain's keys ("domid", "name"). Anything else is ENOENT. */
static void xenstore_serve(struct emu *e)
{
    uint8_t *ring = special_page(e, SPECIALPAGE_XENSTORE);
    if (!ring)
        return;
    for (;;) {
        uint32_t cons = get32(ring + XS_REQ_CONS), prod = get32(ring + XS_REQ_PROD);
        if (prod - cons < 16 || prod - cons > XS_RING)
            break;
        uint8_t hdr[16], path[64] = "";
        for (unsigned i = 0; i < 16; i++)
            hdr[i] = ring[XS_REQ + ((cons + i) & (XS_RING - 1))];
        uint32_t type = get32(hdr), len = get32(hdr + 12);
        if (prod - cons < 16 + len)
            break;   /* the rest of the request is still to come */
        for (unsigned i = 0; i < len && i < sizeof path - 1; i++)
            path[i] = ring[XS_REQ + ((cons + 16 + i) & (XS_RING - 1))];
        put32(ring + XS_REQ_CONS, cons + 16 + len);

        char value[64];
        const char *answer = NULL;
        if (type == XS_READ && strcmp((char *)path, "domid") == 0) {
            snprintf(value, sizeof value, "%u", VSBOX_DOMID);
            answer = value;
        } else if (type == XS_READ && strcmp((char *)path, "name") == 0) {
            answer = e->cfg.name ? e->cfg.name : "vsbox-guest";
        }
        uint8_t rsp[16 + 64];
        memcpy(rsp, hdr, 16);
        uint32_t n = answer ? (uint32_t)strlen(answer) : 7;
        put32(rsp, answer ? type : XS_ERROR);
        put32(rsp + 12, n);
        memcpy(rsp + 16, answer ? answer : "ENOENT", n);
        uint32_t rprod = get32(ring + XS_RSP_PROD);
        for (uint32_t i = 0; i < 16 + n; i++)
            ring[XS_RSP + ((rprod + i) & (XS_RING - 1))] = rsp[i];
        put32(ring + XS_RSP_PROD, rprod + 16 + n);
    }
    evtchn_set_pending(e, XEN_STORE_EVTCHN);
}

/* guest_console_write (xen/drivers/char/console.c): a domain that is not the hardware
 * domain gets its text filtered to what is_console_printable() passes. */
static bool console_printable(unsigned char c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t';
}

static uint64_t console_io(struct emu *e, uint64_t cmd, uint64_t count, uint64_t buf)
{
    if (cmd == CONSOLEIO_read)
        return 0;
    if (cmd != CONSOLEIO_write)
        return neg(XEN_ENOSYS);
    count &= 0xffffffffu;   /* an unsigned int in Xen's handler */
    static char chunk[4096];
    for (uint64_t done = 0; done < count;) {
        uint64_t at = buf + done;
        size_t n = 4096 - (size_t)(at & 4095);
        if (n > count - done)
            n = (size_t)(count - done);
        if (mmu_copy_from_guest(e, at, chunk, n))
            return neg(XEN_EFAULT);
        for (size_t i = 0; i < n && e->cfg.sink.console; i++)
            if (console_printable((unsigned char)chunk[i]))
                e->cfg.sink.console(e->cfg.sink.ctx, chunk[i]);
        done += n;
    }
    return 0;
}

/* do_vcpu_op() for an HVM guest: bring up the other vCPUs (vcpu.c). The context is
 * struct vcpu_hvm_context, as arch_set_info_hvm_guest() takes it (Xen 4.8 on). */
static uint64_t vcpu_op(struct emu *e, uint64_t cmd, uint64_t id, uint64_t arg)
{
    if (id >= vmodel_vcpus(e->model))
        return neg(XEN_ENOENT);
    switch (cmd) {
    case VCPUOP_initialise: {
        uint8_t c[VCPU_HVM_CONTEXT_SIZE];
        if (mmu_copy_from_guest(e, arg, c, sizeof c))
            return neg(XEN_EFAULT);
        int rc = vcpu_hvm_initialise(e, (uint32_t)id, get32(c), c + 8);
        return rc ? neg((unsigned)-rc) : 0;
    }
    case VCPUOP_up: {
        int rc = vcpu_hvm_up(e, (uint32_t)id);
        return rc ? neg((unsigned)-rc) : 0;
    }
    case VCPUOP_is_up:
        return vcpu_is_up(e, (uint32_t)id);
    default:
        return neg(XEN_ENOSYS);
    }
}

static uint64_t sched_op(struct emu *e, uint64_t cmd, uint64_t arg)
{
    uint8_t a[4];
    switch (cmd) {
    case SCHEDOP_yield:
    case SCHEDOP_block:
    case SCHEDOP_poll:
        /* Every event is already delivered, so nothing to wait for; with other vCPUs
         * the rest of the slice goes to them. */
        if (e->smp) {
            e->resched = true;
            run_stop(e);
        }
        return 0;
    case SCHEDOP_shutdown:
        if (mmu_copy_from_guest(e, arg, a, 4))
            return neg(XEN_EFAULT);
        e->res->exit_code = (int)get32(a);
        run_finish(e, EMU_SHUTDOWN);
        return 0;
    default:
        return neg(XEN_ENOSYS);
    }
}

/* The toolstack's parameters the guest may read (hvm_allow_get_param); the rest go to
 * the model, which owns HVM_PARAM_VIRIDIAN and refuses what it does not know. */
static bool platform_param(struct emu *e, uint64_t op, uint64_t arg, bool wide, uint64_t *rax)
{
    (void)wide;
    uint8_t p[16];
    if (op != HVMOP_get_param || mmu_copy_from_guest(e, arg, p, sizeof p))
        return false;
    uint64_t value;
    switch (get32(p + 4)) {
    case HVM_PARAM_STORE_PFN: value = (XEN_SPECIAL_BASE >> 12) + SPECIALPAGE_XENSTORE; break;
    case HVM_PARAM_STORE_EVTCHN: value = XEN_STORE_EVTCHN; break;
    case HVM_PARAM_CONSOLE_PFN: value = (XEN_SPECIAL_BASE >> 12) + SPECIALPAGE_CONSOLE; break;
    case HVM_PARAM_CONSOLE_EVTCHN: value = XEN_CONSOLE_EVTCHN; break;
    default: return false;
    }
    memcpy(p + 8, &value, 8);
    *rax = mmu_copy_to_guest(e, arg + 8, p + 8, 8) ? neg(XEN_EFAULT) : 0;
    return true;
}

/* A page of RAM at gfn, outside the guest's RAM: carved out of the device area Unicorn
 * has there (machine.c). */
static int populate_outside(struct emu *e, uint64_t gfn)
{
    uint64_t pa = gfn << 12;
    if (phys_ram(e, pa, 4096))
        return -1;   /* already populated: Xen fails the extent */
    if (e->xen.n_extra == sizeof e->xen.extra / sizeof e->xen.extra[0] ||
        (pa >= XEN_SPECIAL_BASE && pa < XEN_SPECIAL_BASE + XEN_SPECIAL_SIZE))
        return -1;
    uint8_t *page = machine_ram(4096);
    if (!page)
        return -1;
    if (uc_mem_unmap(e->uc, pa, 4096) != UC_ERR_OK ||
        uc_mem_map_ptr(e->uc, pa, 4096, UC_PROT_READ | UC_PROT_WRITE, page) != UC_ERR_OK) {
        munmap(page, 4096);
        return -1;
    }
    e->xen.extra[e->xen.n_extra].gfn = gfn;
    e->xen.extra[e->xen.n_extra++].page = page;
    return 0;
}

/* Reservations (xen_memory_reservation): extent_start, nr_extents, extent_order, ... */
static uint64_t reservation(struct emu *e, uint64_t cmd, uint64_t arg, bool wide)
{
    uint8_t r[40];
    if (mmu_copy_from_guest(e, arg, r, wide ? 32 : 20))
        return neg(XEN_EFAULT);
    uint64_t list, n;
    uint32_t order;
    if (wide) {
        memcpy(&list, r, 8);
        memcpy(&n, r + 8, 8);
        order = get32(r + 16);
    } else {
        list = get32(r);
        n = get32(r + 4);
        order = get32(r + 8);
    }
    if (order != 0)
        return neg(XEN_EINVAL);
    uint64_t done = 0;
    for (; done < n && done < 4096; done++) {
        uint64_t gfn = 0;
        if (mmu_copy_from_guest(e, list + done * (wide ? 8 : 4), &gfn, wide ? 8 : 4))
            break;
        if (gfn << 12 >= e->ram_size) {
            /* Past the guest's RAM: Xen puts a fresh page wherever the guest asks. */
            if (cmd != XENMEM_populate_physmap || populate_outside(e, gfn))
                break;
            continue;
        }
        bool removed = e->xen.ballooned && (e->xen.ballooned[gfn >> 3] >> (gfn & 7) & 1);
        if (cmd == XENMEM_decrease_reservation) {
            if (removed)
                break;
            static const uint8_t zero[4096];
            phys_write(e, gfn << 12, zero, 4096);   /* the frame goes back to Xen */
            e->xen.ballooned[gfn >> 3] |= (uint8_t)(1u << (gfn & 7));
        } else {
            if (!removed)
                break;   /* already populated: Xen fails the extent */
            e->xen.ballooned[gfn >> 3] &= (uint8_t) ~(1u << (gfn & 7));
        }
    }
    return done;
}

static uint64_t memory_op(struct emu *e, uint64_t cmd, uint64_t arg, bool wide)
{
    if (cmd == XENMEM_decrease_reservation || cmd == XENMEM_populate_physmap)
        return reservation(e, cmd, arg, wide);
    if (cmd != XENMEM_add_to_physmap)
        return neg(XEN_ENOSYS);
    /* struct xen_add_to_physmap: domid, size, space, idx, gpfn (32-bit in the compat
     * layout of 32-bit guests) */
    uint8_t a[24];
    if (mmu_copy_from_guest(e, arg, a, wide ? 24 : 16))
        return neg(XEN_EFAULT);
    uint32_t space = get32(a + 4);
    uint64_t gpfn = 0;
    memcpy(&gpfn, a + (wide ? 16 : 12), wide ? 8 : 4);
    if (!phys_ram(e, gpfn << 12, 4096))
        return neg(XEN_EINVAL);
    static const uint8_t zero[4096];
    if (space == XENMAPSPACE_shared_info) {
        phys_write(e, gpfn << 12, zero, 4096);   /* the page becomes Xen's shared_info */
        e->xen.shinfo_gpa = gpfn << 12;
        e->xen.shinfo_mapped = true;
        return 0;
    }
    if (space == XENMAPSPACE_grant_table) {
        phys_write(e, gpfn << 12, zero, 4096);   /* an empty grant table frame */
        return 0;
    }
    return neg(XEN_EINVAL);
}

static uint64_t grant_table_op(struct emu *e, uint64_t cmd, uint64_t arg, uint64_t count)
{
    uint8_t v[4];
    if (count != 1)
        return neg(XEN_EINVAL);
    if (cmd == GNTTABOP_set_version) {
        if (mmu_copy_from_guest(e, arg, v, 4))
            return neg(XEN_EFAULT);
        uint32_t ver = get32(v);
        if (ver != 1 && ver != 2)
            return neg(XEN_EINVAL);
        e->xen.gnttab_version = ver;
        return 0;
    }
    if (cmd == GNTTABOP_get_version) {
        /* struct gnttab_get_version: domid (u16), pad, version (u32) */
        put32(v, e->xen.gnttab_version ? e->xen.gnttab_version : 1);
        return mmu_copy_to_guest(e, arg + 4, v, 4) ? neg(XEN_EFAULT) : 0;
    }
    return neg(XEN_ENOSYS);
}

void xen_notify_dom0(struct emu *e, unsigned port)
{
    if (port == XEN_CONSOLE_EVTCHN)
        console_drain(e);
    else if (port == XEN_STORE_EVTCHN)
        xenstore_serve(e);
}

static bool wide_of(struct emu *e)
{
    return !e->xen.shinfo_32;
}

static uint64_t xen_version(struct emu *e, uint64_t cmd, uint64_t arg)
{
    const struct vprofile *h = vmodel_host(e->model);
    char text[64] = "";
    switch (cmd) {
    case XENVER_version:
        return (uint64_t)h->xen_major << 16 | h->xen_minor;
    case XENVER_extraversion:
        snprintf(text, sizeof text, ".0");
        return mmu_copy_to_guest(e, arg, text, 16) ? neg(XEN_EFAULT) : 0;
    case XENVER_compile_info: {
        /* struct xen_compile_info: compiler[64], compile_by[16], compile_domain[32],
         * compile_date[32], each NUL-padded (XSA-122: nothing else of the stack) */
        char info[144] = { 0 };
        snprintf(info, 64, "vsbox");
        snprintf(info + 64, 16, "vsbox");
        snprintf(info + 80, 32, "vsbox");
        snprintf(info + 112, 32, "vsbox");
        return mmu_copy_to_guest(e, arg, info, sizeof info) ? neg(XEN_EFAULT) : 0;
    }
    case XENVER_capabilities: {
        char caps[1024] = "hvm-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p";
        return mmu_copy_to_guest(e, arg, caps, sizeof caps) ? neg(XEN_EFAULT) : 0;
    }
    case XENVER_changeset: {
        char cs[64] = "vsbox";
        return mmu_copy_to_guest(e, arg, cs, sizeof cs) ? neg(XEN_EFAULT) : 0;
    }
    case XENVER_platform_parameters: {
        /* struct xen_platform_parameters: virt_start; 0 for an HVM guest's view */
        uint64_t start = 0;
        return mmu_copy_to_guest(e, arg, &start, wide_of(e) ? 8 : 4) ? neg(XEN_EFAULT) : 0;
    }
    case XENVER_guest_handle: {
        uint8_t handle[16] = { 0 };
        return mmu_copy_to_guest(e, arg, handle, sizeof handle) ? neg(XEN_EFAULT) : 0;
    }
    case XENVER_get_features: {
        /* xen_feature_info: submap 0 for an HVM guest (xen/common/kernel.c):
         * writable_page_tables, auto_translated_physmap, hvm_callback_vector,
         * hvm_safe_pvclock, memory_op_vnode_supported */
        uint8_t fi[8];
        if (mmu_copy_from_guest(e, arg, fi, 4))
            return neg(XEN_EFAULT);
        put32(fi + 4, get32(fi) == 0 ? (1u << 0 | 1u << 2 | 1u << 8 | 1u << 9 | 1u << 13) : 0);
        return mmu_copy_to_guest(e, arg + 4, fi + 4, 4) ? neg(XEN_EFAULT) : 0;
    }
    case XENVER_pagesize:
        return 4096;
    default:
        return neg(XEN_ENOSYS);
    }
}

void xen_hypercall(struct emu *e, uint64_t rip, bool wide, unsigned cpl)
{
    uint64_t nr = emu_reg(e, UC_X86_REG_RAX) & 0xffffffffu, a[3];
    static const int ids64[3] = { UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_RDX };
    static const int ids32[3] = { UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX };
    for (int i = 0; i < 3; i++)
        a[i] = emu_reg(e, (wide ? ids64 : ids32)[i]) & (wide ? UINT64_MAX : 0xffffffffu);
    uint64_t rax = neg(XEN_ENOSYS);
    if (!e->xen.called) {
        e->xen.called = true;
        e->xen.shinfo_32 = !wide;   /* hvm_latch_shinfo_size */
    }
    if (cpl != 0) {
        rax = neg(XEN_EPERM);   /* hvm_hypercall(): only from ring 0 */
    } else if (nr == __HYPERVISOR_console_io) {
        rax = console_io(e, a[0], a[1], a[2]);
    } else if (nr == __HYPERVISOR_sched_op) {
        rax = sched_op(e, a[0], a[1]);
    } else if (nr == __HYPERVISOR_memory_op) {
        rax = memory_op(e, a[0], a[1], wide);
    } else if (nr == __HYPERVISOR_grant_table_op) {
        rax = grant_table_op(e, a[0], a[1], a[2]);
    } else if (nr == __HYPERVISOR_event_channel_op) {
        rax = evtchn_op(e, a[0], a[1]);
    } else if (nr == __HYPERVISOR_vcpu_op) {
        rax = vcpu_op(e, a[0], a[1], a[2]);
    } else if (nr == __HYPERVISOR_xen_version) {
        rax = xen_version(e, a[0], a[1]);
    } else if (nr != __HYPERVISOR_hvm_op || !platform_param(e, a[0], a[1], wide, &rax)) {
        struct vevent ev;
        bool param = vmodel_xen_hypercall(e->model, e->cur, nr, a[0], a[1], &rax, &ev);
        if (param) {
            struct vres res = { .kind = VRES_VALUE, .v = { vmodel_param(e->model) } };
            if (ev.kind == VEV_PARAM_GET && rax != 0) /* 4.6+: a guest's read is EPERM */
                res = (struct vres){ .kind = VRES_EPERM };
            if (ev.kind == VEV_PARAM_SET)
                res = (struct vres){ .kind = rax == 0 ? VRES_OK
                                             : rax == (uint64_t)-1 ? VRES_EPERM
                                             : rax == (uint64_t)-17 ? VRES_EEXIST : VRES_EINVAL };
            trap_event(e, &ev, &res, rip);
        }
    }
    emu_set_reg(e, UC_X86_REG_RAX, wide ? rax : rax & 0xffffffffu);
}

int xen_platform_init(struct emu *e)
{
    e->xen.ballooned = calloc(1, (size_t)(e->ram_size >> 15) + 1);
    return e->xen.ballooned && evtchn_init(e) == 0 ? 0 : -1;
}

void xen_platform_free(struct emu *e)
{
    for (unsigned i = 0; i < e->xen.n_extra; i++)
        munmap(e->xen.extra[i].page, 4096);
    e->xen.n_extra = 0;
    free(e->xen.ballooned);
    e->xen.ballooned = NULL;
    evtchn_free(e);
}
