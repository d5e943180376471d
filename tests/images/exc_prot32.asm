; Exception delivery in 32-bit protected mode: a #GP with its error code through a 32-bit
; interrupt gate at the same privilege (EFLAGS, CS, EIP, error; no stack switch), then a
; DPL-3 gate from ring 3, which switches to the TSS's SS0:ESP0 and pushes the user
; SS:ESP. Entered as an ELF32, like Xen starts an HVM guest's firmware. Exits with the
; first step that failed, 0 when all held.
bits 32
%include "sys32.inc"
%define ESP0_TOP 0x700000
%define USER_STACK 0x500000
%macro gate32 3                         ; vector, handler, type/attr
    gate32_to %1, %2, KCODE, %3
%endmacro
global _start
section .text
_start:
    sys32_entry
    mov dword [tss + 4], ESP0_TOP
    mov dword [tss + 8], KDATA
    mov ax, TSSSEL
    ltr ax
    gate32 13, gp_handler, 0x8e
    gate32 0x80, user_call, 0xee
    lidt [idtr]
%define step 1
    mov ebx, esp
gp_site:
    mov ax, 0x1234
    mov ds, ax
%define step 2                          ; to ring 3, and back through int 0x80
    push UDATA
    push USER_STACK
    pushfd
    push UCODE
    push user_code
    iretd
user_code:
    mov esi, esp
    int 0x80
    mov al, 99
    out 0xf4, al
gp_handler:
    cmp dword [esp], 0x1234             ; the error code: the selector
    exit_unless e
%define step 3
    cmp dword [esp + 4], gp_site + 4    ; EIP of mov ds (after the 4-byte mov ax)
    exit_unless e
%define step 4
    cmp dword [esp + 8], KCODE
    exit_unless e
%define step 5
    lea eax, [esp + 16]                 ; 4 dwords: no stack switch
    cmp eax, ebx
    exit_unless e
    add dword [esp + 4], 2
    add esp, 4
    iretd
user_call:
%define step 6
    lea eax, [esp + 20]
    cmp eax, ESP0_TOP
    exit_unless e
%define step 7
    cmp dword [esp + 16], UDATA
    exit_unless e
%define step 8
    cmp [esp + 12], esi
    exit_unless e
%define step 9
    mov ax, ss
    cmp ax, KDATA
    exit_unless e
    mov al, 0
    out 0xf4, al
sys32_tables 1
