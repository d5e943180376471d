/* Hypercall pages and viridian hypercalls. */
#ifndef VSBOX_VIRIDIAN_HYPERCALL_H
#define VSBOX_VIRIDIAN_HYPERCALL_H

#include <stdint.h>

struct vmodel;

#define VHYPERCALL_PAGE_SIZE 4096u
#define __HYPERVISOR_iret 23u

/* Fill buf with the page HV_X64_MSR_HYPERCALL installs (enable_hypercall_page()). */
void vhypercall_page_viridian(const struct vmodel *m, uint8_t page[VHYPERCALL_PAGE_SIZE]);
/* Write it to guest memory at gpa; a page outside RAM is skipped as Xen does. */
void vhypercall_page_write_viridian(struct vmodel *m, uint64_t gpa);
/* Xen's own HVM hypercall page (Xen MSR write); 0, or -1 (#GP) for an offset into the
 * page or a frame outside RAM, as wrmsr_hypervisor_regs() refuses them. */
int vhypercall_page_write_xen(struct vmodel *m, uint64_t val);

#endif
