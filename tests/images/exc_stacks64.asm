; Exception delivery in 64-bit mode, the stack switches (SDM vol. 3, 6.14): an IST gate
; runs its handler on the IST stack; a DPL-3 gate taken from ring 3 switches to the
; TSS's RSP0, pushes the user SS:RSP, and loads SS with a null selector. Exits with the
; number of the first step that did not hold, 0 when all did.
bits 64
org 0x100000
%include "sys64.inc"
%define IST1_TOP 0x600000
%define RSP0_TOP 0x700000
%define USER_STACK 0x500000
    sys64_load
    mov qword [TSS + 4], RSP0_TOP
    mov qword [TSS + 36], IST1_TOP
    gate64 0, de_handler, 0x8e, 1       ; #DE on IST1
    gate64 0x80, user_call, 0xee, 0     ; int 0x80, callable from ring 3
    idt_load
%define step 1                          ; IST: the handler's frame is at the IST1 top
    xor ecx, ecx
    mov eax, 1
    div ecx
%define step 2                          ; ring 3, then int 0x80 back into ring 0
    user_pages
    mov rax, USER_STACK
    push UDATA
    push rax
    pushfq
    push UCODE
    lea rax, [rel user_code]
    push rax
    iretq
user_code:
    mov r12, rsp
    int 0x80
    mov al, 99                          ; never returns here
    out 0xf4, al
de_handler:
    lea rax, [rsp + 5 * 8]              ; 5 qwords pushed, no error code
    cmp rax, IST1_TOP
    exit_unless e
    add qword [rsp], 2                  ; past div ecx
    iretq
user_call:
%define step 3
    lea rax, [rsp + 5 * 8]
    cmp rax, RSP0_TOP                   ; the frame sits at the top of RSP0
    exit_unless e
%define step 4
    cmp qword [rsp + 32], UDATA         ; the user SS
    exit_unless e
%define step 5
    cmp [rsp + 24], r12                 ; the user RSP
    exit_unless e
%define step 6
    cmp qword [rsp + 8], UCODE          ; the user CS
    exit_unless e
%define step 7
    mov ax, ss
    test ax, 0xfffc                     ; SS: a null selector (of the new CPL)
    exit_unless z
%define step 8
    mov ax, cs
    cmp ax, KCODE
    exit_unless e
    pass
