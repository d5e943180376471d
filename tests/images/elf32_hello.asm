; An ELF32 guest in 32-bit protected mode: prints through 0xE9, checks the hypervisor
; leaf is Microsoft's and that the debug registers vsbox keeps (emu/debugreg.c) move
; through 32-bit registers, exits 0.
bits 32
global _start
section .text
_start:
    mov esi, msg
.print:
    lodsb
    test al, al
    jz .done
    out 0xe9, al
    jmp .print
.done:
    mov eax, 0x40000000
    cpuid
    cmp ebx, 0x7263694d
    jne .bad
    mov edi, 0x00000401          ; L0 and the bit that reads 1
    mov dr7, edi
    mov ebp, dr7
    cmp ebp, edi
    jne .bad
    mov al, 0
    out 0xf4, al
.bad:
    mov al, 1
    out 0xf4, al
section .data
msg: db "hello from 32-bit protected mode", 10, 0
