; Single-stepping resumes after a handler: the IRETQ of a #UD handler restores RFLAGS
; with TF set, the next instruction runs, and #DB (a trap) arrives after it, with RIP at
; the instruction after that one; HLT after the #DB handler halts. Exits 0.
bits 64
org 0x100000
%include "sys64.inc"
%define step 1
    gate64 1, db_handler, 0x8e, 0
    gate64 6, ud_handler, 0x8e, 0
    idt_load
    xor r13d, r13d
    ud2
stepped:
    inc r13                             ; runs under TF, then #DB
after:
    nop
    hlt
ud_handler:
    add qword [rsp], 2
    or qword [rsp + 16], 1 << 8         ; RFLAGS.TF for the interrupted code
    iretq
db_handler:
    lea rax, [rel after]
    cmp [rsp], rax
    exit_unless e
%define step 2
    cmp r13, 1
    exit_unless e
    and qword [rsp + 16], ~(1 << 8)     ; stop stepping
    lea rax, [rel done]
    mov [rsp], rax
    iretq
done:
    hlt
    mov al, 5
    out 0xf4, al
