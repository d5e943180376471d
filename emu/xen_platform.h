/* The Xen HVM platform a guest of xl sees beyond viridian: Xen's hypercalls (console,
 * scheduler shutdown, HVM params, memory, event channels, vCPUs), the special pages
 * the toolstack gives it, and what XTF's test kernels use of them (xen_platform.c). */
#ifndef VSBOX_EMU_XEN_PLATFORM_H
#define VSBOX_EMU_XEN_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

/* libxenguest xg_dom_x86.c: special_pfn(x) = X86_HVM_END_SPECIAL_REGION (0xff000) -
 * X86_HVM_NR_SPECIAL_PAGES (8) + x, just below the 4 GiB boundary's device area. */
#define XEN_SPECIAL_BASE 0xfeff8000ull
#define XEN_SPECIAL_PAGES 8u
#define XEN_SPECIAL_SIZE (XEN_SPECIAL_PAGES * 4096ull)
enum { SPECIALPAGE_XENSTORE = 4, SPECIALPAGE_CONSOLE = 7 };

/* Event channels (xen_evtchn.c). libxl allocates the XenStore port first, then the
 * console's; the 2-level ABI has 4096 ports (1024 with a 32-bit shared_info). */
#define XEN_EVTCHN_MAX 4096u
enum { XEN_STORE_EVTCHN = 1, XEN_CONSOLE_EVTCHN = 2 };
struct xen_port {
    uint8_t state;
    uint16_t remote_dom;
    uint32_t remote_port;
};

struct emu;
/* A Xen hypercall (VMCALL/VMMCALL with EAX bit 31 clear) from code at privilege cpl,
 * in the 64-bit (wide) or 32-bit calling convention. */
void xen_hypercall(struct emu *e, uint64_t rip, bool wide, unsigned cpl);
int xen_platform_init(struct emu *e);
void xen_platform_free(struct emu *e);
/* dom0's end of an interdomain port was notified (xenstored, xenconsoled). */
void xen_notify_dom0(struct emu *e, unsigned port);

int evtchn_init(struct emu *e);
void evtchn_free(struct emu *e);
uint64_t evtchn_op(struct emu *e, uint64_t cmd, uint64_t arg);
void evtchn_set_pending(struct emu *e, unsigned port);

#endif
