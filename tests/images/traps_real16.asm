; Trap sites in real mode, where CS has a base (segment x 16) and operands are 16-bit
; unless 66 says otherwise: from flat protected mode through a 16-bit segment to real
; mode at CS 0xFFFF (base 0xFFFF0: this image sits just past 1 MiB), then IN from a port
; nobody answers (all ones) with EAX holding 0x12345678 beforehand: IN AX, DX keeps the
; upper half (B), O32 IN EAX, DX fills it (C), IN AX, imm8 keeps it (D), after an OUT
; to the console (A). Exits 0, or 2-4 with the step whose EAX was wrong.
bits 32
%include "sys32.inc"
%define CODE16 0x30                     ; 16-bit code, base 0x100000, limit 64 KiB
%define DATA16 0x38                     ; 16-bit data, base 0, limit 64 KiB
%define IMAGE 0x100000
global _start
section .text
_start:
    sys32_entry
    mov dword [gdt + CODE16], 0x0000ffff
    mov dword [gdt + CODE16 + 4], 0x00109a10
    mov dword [gdt + DATA16], 0x0000ffff
    mov dword [gdt + DATA16 + 4], 0x00009200
    cli
    jmp CODE16:(pm16 - _start)         ; _start is at IMAGE, the segment's base
bits 16
pm16:
    mov ax, DATA16                      ; real-mode-like caches for DS, ES, SS
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and eax, ~1
    mov cr0, eax
    jmp 0xffff:(real - _start + IMAGE - 0xffff0)
real:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov al, 'A'
    out 0xe9, al
    mov dx, 0x80
    mov eax, 0x12345678
    in ax, dx
    cmp eax, 0x1234ffff
    jne bad_b
    mov al, 'B'
    out 0xe9, al
    mov eax, 0x12345678
    in eax, dx
    cmp eax, 0xffffffff
    jne bad_c
    mov al, 'C'
    out 0xe9, al
    mov eax, 0x12345678
    in ax, 0x80
    cmp eax, 0x1234ffff
    jne bad_d
    mov al, 'D'
    out 0xe9, al
    xor al, al
    out 0xf4, al
bad_b:
    mov al, 2
    out 0xf4, al
bad_c:
    mov al, 3
    out 0xf4, al
bad_d:
    mov al, 4
    out 0xf4, al
    sys32_tables 3
