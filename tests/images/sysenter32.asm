; SYSENTER in 32-bit protected mode, which Unicorn 2.0.1 skips from whatever RIP QEMU
; last synced: with IA32_SYSENTER_CS null it must raise #GP(0) at the SYSENTER (prints
; A); with CS = KCODE it enters ring 0 at IA32_SYSENTER_EIP on IA32_SYSENTER_ESP, CS from
; the MSR and SS after it, IF cleared (prints B), and from ring 3 the same (prints C).
; Exits 0; 2 when the #GP's frame was wrong, 3 when the state at the entry was.
bits 32
%include "sys32.inc"
%define STACK0 0x700000
global _start
section .text
_start:
    sys32_entry
    gate32_to 13, gp_handler, KCODE, 0x8e
    lidt [idtr]
    xor eax, eax                        ; IA32_SYSENTER_CS = 0
    xor edx, edx
    mov ecx, 0x174
    wrmsr
    xor edi, edi                        ; the #GP handler sets it
gp_site:
    sysenter
after_gp:
    cmp edi, 1
    jne gp_handler.bad
    mov al, 'A'
    out 0xe9, al
    mov ecx, 0x174                      ; IA32_SYSENTER_CS, _ESP, _EIP
    mov eax, KCODE
    wrmsr
    inc ecx
    mov eax, STACK0
    wrmsr
    inc ecx
    mov eax, entry
    wrmsr
    mov ebx, 1                          ; from ring 0, with IF set
    sti
    sysenter
    jmp bad3
entry:
    mov ax, cs
    cmp ax, KCODE
    jne bad3
    mov ax, ss
    cmp ax, KDATA
    jne bad3
    cmp esp, STACK0
    jne bad3
    pushfd
    pop eax
    test eax, 0x200
    jnz bad3
    cmp ebx, 1
    jne .from_ring3
    mov al, 'B'
    out 0xe9, al
    mov ebx, 2                          ; again from ring 3
    push UDATA
    push 0x600000
    push 0x202
    push UCODE
    push ring3
    iretd
.from_ring3:
    mov al, 'C'
    out 0xe9, al
    xor eax, eax
    out 0xf4, al
ring3:
    sysenter
bad3:
    mov al, 3
    out 0xf4, al
gp_handler:                             ; error code, EIP, CS, EFLAGS
    cmp dword [esp], 0
    jne .bad
    cmp dword [esp + 4], gp_site
    jne .bad
    mov dword [esp + 4], after_gp
    mov edi, 1
    add esp, 4
    iretd
.bad:
    mov al, 2
    out 0xf4, al
    sys32_tables 1
