; SYSCALL in 64-bit mode (vsbox's CPU is QEMU's qemu64, an AMD model; Unicorn 2.0.1 only
; reports the instruction, so emu/syscall.c performs it): CPUID advertises it, EFER.SCE
; sticks, RCX and R11 get the return address and flags, CS/SS come from STAR, RFLAGS is
; masked by FMASK; with TF left set a #DB (DR6.BS) is taken at the entry point, with TF
; masked none is (XSA-204's rule). Exit 0, or the step that failed.
bits 64
org 0x100000
%include "sys64.inc"
    gate64 1, db_handler, 0x8e, 0
    idt_load
%define step 1
    mov eax, 0x80000001
    cpuid
    bt edx, 11
    exit_unless c
%define step 2
    mov ecx, 0xc0000080
    rdmsr
    or eax, 1                           ; SCE
    wrmsr
    rdmsr
    test eax, 1
    exit_unless nz
    mov ecx, 0xc0000081                 ; STAR: SYSCALL CS 0x08 (SS 0x10)
    xor eax, eax
    mov edx, 0x00000008
    wrmsr
    mov ecx, 0xc0000082                 ; LSTAR
    mov rax, entry
    mov rdx, rax
    shr rdx, 32
    wrmsr
    mov ecx, 0xc0000084                 ; FMASK: IF and DF (not TF)
    mov eax, 0x600
    xor edx, edx
    wrmsr
    ; 1: no TF
    std
    xor r12d, r12d
    syscall
back1:
%define step 3
    cmp r12, 1
    exit_unless e
    ; 2: TF set and left set by FMASK: #DB at the entry point, before its first instruction
    xor r13d, r13d
    pushfq
    or qword [rsp], 0x100
    popfq
    syscall
back2:
%define step 7
    cmp r13, 1
    exit_unless e
    ; 3: FMASK masks TF: no #DB
    mov ecx, 0xc0000084
    mov eax, 0x100
    xor edx, edx
    wrmsr
    xor r13d, r13d
    pushfq
    or qword [rsp], 0x100
    popfq
    syscall
back3:
%define step 8
    test r13, r13
    exit_unless z
    pass

entry:
    pushfq                              ; the first instruction: the #DB comes before it
    pop rax
    inc r12
    cmp r12, 1
    jne .later
%define step 4
    lea rdx, [rel back1]
    cmp rcx, rdx
    exit_unless e
%define step 5
    bt r11, 10                          ; DF was set when SYSCALL ran
    exit_unless c
%define step 6
    bt rax, 10                          ; and FMASK cleared it
    exit_unless nc
    mov ax, cs
    cmp ax, 0x08
    exit_unless e
.later:
    and r11, ~0x100                     ; return without TF
    push r11
    popfq
    jmp rcx

db_handler:
    inc r13
%define step 9
    mov rax, entry
    cmp [rsp], rax                      ; the #DB is at the entry point
    exit_unless e
    mov rax, dr6
%define step 10
    bt rax, 14                          ; BS
    exit_unless c
    and qword [rsp + 16], ~0x100        ; the handler returns without TF
    iretq
