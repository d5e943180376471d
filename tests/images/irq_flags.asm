; An interrupt's frame holds RFLAGS whole: the arithmetic flags QEMU still keeps apart
; (lazily, from the last CMP) and DF; after POPFQ has set them all at once; and when the
; interrupt is taken right after vsbox delivered a #BP (which wrote RFLAGS itself); and
; with a DEC's and an 8-bit ADD's flags still unevaluated where the vector is taken. Each
; step sends a self-IPI through the ICR; the handler compares the RFLAGS in its frame
; with what PUSHFQ saw. Exits with the first step that did not hold (100: a frame's
; RFLAGS differed).
bits 64
org 0x100000
%include "sys64.inc"
    apic_on 0x40, handler
    gate64 3, bp_handler, 0x8f, 0       ; a trap gate: IF stays as it was
    sti
%define step 1                          ; flags from a CMP: CF, SF, AF, PF set; then DF
    mov eax, 1
    cmp eax, 2
    std
    pushfq
    pop r14
    mov dword [rbx + 0x300], 0x40040    ; self, fixed, vector 0x40
    jmp .taken                          ; the block ends: the vector is taken here
.taken:
    cmp r15d, 1
    exit_unless e
    cld
%define step 2                          ; flags set at once by POPFQ: ZF, OF
    push 0xa42
    popfq
    pushfq
    pop r14
    mov dword [rbx + 0x300], 0x40040
    jmp .taken2
.taken2:
    cmp r15d, 2
    exit_unless e
    cld
%define step 3                          ; taken on the first instruction of a #BP handler
    cli
    mov dword [rbx + 0x300], 0x40040    ; pending while IF is clear
    mov eax, 1
    cmp eax, 2
    std
    pushfq
    pop r14
    lea r14, [r14 + 0x200]              ; the #BP handler starts with these and IF (LEA: flags kept)
    sti
    int3                                ; in the STI shadow: the #BP goes first
    cmp r15d, 4
    exit_unless e
    cld
%define step 4                          ; still lazy where the vector is taken: a DEC's (CF
    stc                                 ; kept from before, OF from 0x80000000 - 1), which
    mov eax, 0x80000000                 ; PUSHFQ computes for the comparison, then the same
    dec eax                             ; DEC again, left as QEMU's CC_OP_DECL for the block's
    pushfq                              ; end
    pop r14
    mov dword [rbx + 0x300], 0x40040
    stc
    mov eax, 0x80000000
    dec eax
    jmp .taken4
.taken4:
    cmp r15d, 5
    exit_unless e
%define step 5                          ; an 8-bit ADD's: 0x7f + 1 sets OF, SF and AF
    mov al, 0x7f
    add al, 1
    pushfq
    pop r14
    mov dword [rbx + 0x300], 0x40040
    mov al, 0x7f
    add al, 1
    jmp .taken5
.taken5:
    cmp r15d, 6
    exit_unless e
    pass
bp_handler:
    nop                                 ; QEMU takes the vector only after one instruction here
    inc r15d                            ; after the interrupt's handler ran (3 -> 4)
    iretq
handler:
    mov rax, [rsp + 16]                 ; the frame's RFLAGS
    cmp rax, r14
    jne .bad
    inc r15d
    mov dword [rbx + 0xb0], 0           ; EOI
    iretq
.bad:
    lea eax, [r15 + 100]
    out 0xf4, al
