; Reproducer 1: HLT right after a #GP handler returns must halt the CPU. With a #GP
; handler installed, `rdmsr` of an MSR Xen does not have raises #GP, the handler skips
; it, and the HLT after it stops the guest (exit 0). A HLT taken for a NOP runs on into
; `out 0xf4` with 5: exit 1.
bits 64
org 0x100000
%include "sys64.inc"
    gate64 13, gp_handler, 0x8e, 0
    idt_load
    mov ecx, 0x400000ff
    rdmsr
    hlt
    mov al, 5
    out 0xf4, al
gp_handler:
    add qword [rsp + 8], 2          ; past the 2-byte RDMSR (the error code is at [rsp])
    add rsp, 8
    iretq
