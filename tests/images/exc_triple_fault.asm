; A fault while delivering #DF is a triple fault: the CPU shuts down. #GP with no gate,
; then #DF with no gate: vsbox reports the shutdown (exit 3).
bits 64
org 0x100000
%include "sys64.inc"
    idt_load                            ; an IDT of nothing but zeros
    mov ax, 0x1234
    mov ds, ax
    hlt
