/* Hypercall pages and viridian hypercalls. */
#ifndef VSBOX_VIRIDIAN_HYPERCALL_H
#define VSBOX_VIRIDIAN_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>

struct vmodel;

#define VHYPERCALL_PAGE_SIZE 4096u
#define __HYPERVISOR_iret 23u

/* The most a viridian hypercall reads of its input block: HVCALL_FLUSH_*_EX's fixed
 * part (address space, flags, vpset format, valid bank mask) and 64 banks. */
#define VHYPERCALL_MAX_INPUT_WORDS 68u

/* Fill buf with the page HV_X64_MSR_HYPERCALL installs (enable_hypercall_page()). */
void vhypercall_page_viridian(const struct vmodel *m, uint8_t page[VHYPERCALL_PAGE_SIZE]);

/* vmodel_hypercall() with the input block given as words (a trace's `in=`) instead of
 * read from guest memory; given NULL reads memory. */
int vmodel_hypercall_with(struct vmodel *m, uint32_t vcpu, uint64_t rcx, uint64_t rdx,
                          uint64_t r8, const uint64_t *given, uint32_t given_words,
                          uint64_t *rax);

/* The input block the last viridian hypercall read from guest memory, as the 64-bit
 * little-endian words from its input GPA: what a recorder writes as the hypercall
 * event's `in=` so that replay, which has no guest memory, reads the same. NULL with
 * *n 0 when the call read nothing (a fast call, or no such call code); non-NULL with
 * *n 0 when its first read failed. */
const uint64_t *vmodel_hypercall_input(const struct vmodel *m, uint32_t *n);

#endif
