; Single-stepping and --budget: QEMU translates one instruction per block while TF is
; set, so the same code has a long block (run plainly) and one-instruction blocks (run
; stepped) at one address. Each turn prints '.', runs BODY NOPs and an IRETQ plainly,
; whose frame returns to their start with TF set, then the same instructions stepped (a
; #DB after each, whose handler is one IRETQ); the last IRETQ takes a second frame back
; with TF clear. About 630 guest instructions a turn. Never ends: the budget stops it,
; after about budget / 630 dots.
bits 64
org 0x100000
%include "sys64.inc"
%define BODY 200
    gate64 1, db_handler, 0x8e, 0
    idt_load
turn:
    mov al, '.'
    out 0xe9, al
    mov rbx, rsp
    mov rax, ss                         ; the second frame: to back, TF clear
    push rax
    push rbx
    pushfq
    mov rax, cs
    push rax
    lea rax, [rel back]
    push rax
    mov rcx, rsp
    mov rax, ss                         ; the first: to body, TF set
    push rax
    push rcx
    pushfq
    or qword [rsp], 0x100
    mov rax, cs
    push rax
    lea rax, [rel body]
    push rax
    jmp body
body:
%rep BODY
    nop
%endrep
    iretq
back:
    jmp turn
db_handler:
    iretq
