/* The AP trampoline. smp.c copies ap_tramp..ap_tramp_end to TRAMP (a page below 1 MiB:
 * a STARTUP IPI starts the AP in real mode at vector << 12) and fills in the parameter
 * block at its end. Code addresses are TRAMP + offset, since it runs from the copy. */
#define TRAMP 0x9000
#define AT(label) (TRAMP + ((label) - ap_tramp))

    .section .rodata.tramp, "a"
    .global ap_tramp, ap_tramp_end, ap_tramp_params
    .code16
ap_tramp:
    cli
    xor %ax, %ax
    mov %ax, %ds
    lgdtl AT(p_gdt_limit)
    mov %cr0, %eax
    or $1, %eax                         /* PE */
    mov %eax, %cr0
    ljmpl $0x18, $AT(pm32)              /* vsbox's GDT: 0x18 32-bit code */

    .code32
pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov AT(p_cr4), %eax
    mov %eax, %cr4
    mov AT(p_cr3), %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx               /* EFER.LME */
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000000, %eax                /* PG: long mode is active */
    mov %eax, %cr0
    ljmp $0x08, $AT(lm64)

    .code64
lm64:
    mov AT(p_stack), %rsp
    mov AT(p_entry), %rax
    jmp *%rax

    .align 8
ap_tramp_params:                        /* struct tramp_params in smp.c */
    .word 0
p_gdt_limit:
    .word 0
    .long 0                             /* GDT base (below 4 GiB) */
p_cr3:
    .quad 0
p_cr4:
    .quad 0
p_stack:
    .quad 0
p_entry:
    .quad 0
ap_tramp_end:

    .section .note.GNU-stack, "", @progbits
