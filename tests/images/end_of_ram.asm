; Reproducer 9: a 2-byte instruction in the last two bytes of RAM (16 MiB) runs, and the
; fetch of the next one, at 0x1000000, is the #PF: RIP = CR2 = 0x1000000, and the
; instruction (inc ecx) happened. Exits 0.
bits 64
org 0x100000
%include "sys64.inc"
%define step 1
    gate64 14, pf_handler, 0x8e, 0
    idt_load
    mov word [0xfffffe], 0xc1ff     ; inc ecx
    xor ecx, ecx
    mov rsp, 0x800000
    mov rax, 0xfffffe
    jmp rax
pf_handler:
    cmp qword [rsp + 8], 0x1000000
    exit_unless e
%define step 2
    mov rax, cr2
    cmp rax, 0x1000000
    exit_unless e
%define step 3
    cmp ecx, 1
    exit_unless e
%define step 4
    test qword [rsp], 0x10          ; an instruction fetch... on a CPU with NX or SMEP on
    pass
