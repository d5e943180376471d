/* Entry and exception stubs. vsbox starts guests in 64-bit mode with a stack, a GDT
 * (code 0x08, data 0x10) and identity paging; the runtime brings its own IDT. */
    .section .text.entry, "ax"
    .global _start
_start:
    and $-16, %rsp
    call runtime_main
1:  hlt
    jmp 1b

/* Each stub leaves the same frame: vector, error code (0 when the CPU pushes none),
 * then the CPU's RIP, CS, RFLAGS, RSP, SS. */
.macro stub vec, has_error
    .global isr_\vec
isr_\vec:
    .if \has_error == 0
    push $0
    .endif
    push $\vec
    jmp isr_common
.endm

    .text
    stub 0, 0
    stub 1, 0
    stub 2, 0
    stub 3, 0
    stub 4, 0
    stub 5, 0
    stub 6, 0
    stub 7, 0
    stub 8, 1
    stub 9, 0
    stub 10, 1
    stub 11, 1
    stub 12, 1
    stub 13, 1
    stub 14, 1
    stub 15, 0
    stub 16, 0
    stub 17, 1
    stub 18, 0
    stub 19, 0

isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    call exception_handler
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

/* Interrupts 32-255: one 16-byte stub each, so stub v is at irq_stubs + 16 * (v - 32)
 * and no table of 224 addresses is needed. */
    .align 16
    .global irq_stubs
irq_stubs:
    .set vec, 32
    .rept 224
    .align 16
    push $0
    push $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

    .section .rodata
    .global isr_table
    .align 8
isr_table:
    .quad isr_0, isr_1, isr_2, isr_3, isr_4, isr_5, isr_6, isr_7, isr_8, isr_9
    .quad isr_10, isr_11, isr_12, isr_13, isr_14, isr_15, isr_16, isr_17, isr_18, isr_19

    .section .note.GNU-stack, "", @progbits
