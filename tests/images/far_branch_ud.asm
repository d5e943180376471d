; Far CALL and JMP through a register (FF /3, FF /5 with mod = 3) are #UD on a CPU,
; and abort Unicorn 2.0.1 outright if it ever translates them. The guest's #UD handler
; counts and skips each one; it exits 0 only if both were raised exactly where they
; are, with the instructions around them run exactly once.
bits 64
org 0x100000
%include "idt64.inc"
    gate 6, ud_handler
    lidt [idtr]
    xor ebx, ebx
    xor r12d, r12d
    inc ebx
    call_far: db 0xff, 0xd8      ; call far [rax]... through a register: #UD
    inc ebx
    jmp_far: db 0x48, 0xff, 0xe8 ; rex.w jmp far through a register: #UD
    inc ebx
    cmp ebx, 3
    jne fail
    cmp r12d, 2
    jne fail
    mov al, 0
    out 0xf4, al
fail:
    mov al, 1
    out 0xf4, al

ud_handler:                      ; skip the faulting instruction, checking where it was
    mov rax, [rsp]
    cmp r12d, 0
    jne .second
    mov rcx, call_far
    cmp rax, rcx
    jne fail
    add qword [rsp], 2
    inc r12d
    iretq
.second:
    mov rcx, jmp_far
    cmp rax, rcx
    jne fail
    add qword [rsp], 3
    inc r12d
    iretq

idtr: dw 256 * 16 - 1
      dq 0x8000
