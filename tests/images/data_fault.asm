; Reproducer 7: a read outside RAM through boot page tables that do not map it is a #PF
; whose frame has RIP = the faulting instruction (not the start of its block, so `inc
; r12` before it runs once) and CR2 = the address read. Exits 0 when both are right.
bits 64
org 0x100000
%include "sys64.inc"
%define step 1
    gate64 14, pf_handler, 0x8e, 0
    idt_load
    xor r12d, r12d
    inc r12
fault:
    mov bl, [0x40000000]
    mov al, 9
    out 0xf4, al
pf_handler:
    lea rax, [rel fault]
    cmp [rsp + 8], rax              ; RIP after the error code
    exit_unless e
%define step 2
    mov rax, cr2
    cmp rax, 0x40000000
    exit_unless e
%define step 3
    cmp r12, 1
    exit_unless e
%define step 4
    test qword [rsp], 1             ; error code: not present (P clear), a read
    exit_unless z
    pass
