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

struct emu;
/* A Xen hypercall (VMCALL/VMMCALL with EAX bit 31 clear) from code at privilege cpl,
 * in the 64-bit (wide) or 32-bit calling convention. */
void xen_hypercall(struct emu *e, uint64_t rip, bool wide, unsigned cpl);
int xen_platform_init(struct emu *e);
void xen_platform_free(struct emu *e);

#endif
