/* Xen's own hypercalls, as far as vsbox models them: the guest's path to
 * HVM_PARAM_VIRIDIAN, hvm_op's HVMOP_set_param / HVMOP_get_param. */
#ifndef VSBOX_VIRIDIAN_XEN_HYPERCALL_H
#define VSBOX_VIRIDIAN_XEN_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>
#include "viridian/event.h"

struct vmodel;

#define __HYPERVISOR_hvm_op 34u
#define HVMOP_set_param 0u
#define HVMOP_get_param 1u
#define DOMID_SELF 0x7ff0u
#define VSBOX_DOMID 1u          /* the domain id vsbox's guest has */

/* A Xen hypercall in the 64-bit HVM convention: nr in RAX, arguments in RDI, RSI.
 * Sets *rax to 0 or -errno. When the call reaches HVM_PARAM_VIRIDIAN, *ev is the
 * equivalent trace event (param-set from=guest, or param-get) and true is returned,
 * so the emulator can record it. */
bool vmodel_xen_hypercall(struct vmodel *m, uint32_t vcpu, uint64_t nr, uint64_t rdi,
                          uint64_t rsi, uint64_t *rax, struct vevent *ev);

#endif
