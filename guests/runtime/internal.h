/* Between the runtime's own files; guests use guest.h. */
#ifndef VSBOX_RUNTIME_INTERNAL_H
#define VSBOX_RUNTIME_INTERNAL_H

/* Load the runtime's IDT on this vCPU (each AP does it once it is in long mode). */
void idt_load(void);

#endif
