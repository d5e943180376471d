; A STARTUP IPI sent by an xAPIC ICR write in the middle of a block (run with --vcpus 2).
; vsbox builds the new vCPU's CPU on the engine itself, between two saves of the running
; one; its RIP went in through Unicorn's register call, whose flag ("the PC was
; written") made QEMU leave the next block without putting RIP back and Unicorn's loop
; drop the stop that starting a second vCPU asks for. The BSP then went on from where
; RIP was last written (the indirect jump below: QEMU writes RIP there, and not at a
; direct jump between blocks it has chained, which the third pass takes), and counted
; again. Exit 0 when the count is 3 and the AP ran, 1 when instructions before the ICR
; write ran twice, 2 when the AP never ran.
bits 64
org 0x100000
%include "sys64.inc"
%define COUNT 0x51000
%define TRAMPOLINE 0x20000              ; the AP's real-mode code: STARTUP vector 0x20
    apic_map
    mov dword [rbx + 0xf0], 0x1ff       ; software-enabled
    mov rax, 0xf4fa01001006c62e         ; mov byte [cs:0x10], 1; cli; hlt
    mov [TRAMPOLINE], rax
    mov word [TRAMPOLINE + 8], 0xfdeb   ; jmp back to the hlt
    mov byte [TRAMPOLINE + 0x10], 0
    mov qword [COUNT], 0
    mov r12d, 3
pass_top:
    lea rax, [rel counted]
    jmp rax                             ; an indirect jump: QEMU writes RIP
counted:
    inc qword [COUNT]
    jmp send                            ; a direct jump, chained from the second pass on
send:
    mov edx, 7 << 24                    ; passes 1 and 2: a fixed IPI to nobody
    mov eax, 0x40
    mov ecx, 2 << 24                    ; pass 3: STARTUP to APIC ID 2 (vCPU 1 on Xen)
    mov esi, 0x600 | (TRAMPOLINE >> 12)
    cmp r12d, 1
    cmove edx, ecx
    cmove eax, esi
    mov [rbx + 0x310], edx              ; ICR2
    mov [rbx + 0x300], eax              ; ICR
    jmp next
next:
    dec r12d
    jnz pass_top
%define step 1
    cmp qword [COUNT], 3
    exit_unless e
    mov ecx, 1000000                    ; the AP's turn: it marks that it ran
wait_ap:
    pause
    cmp byte [TRAMPOLINE + 0x10], 1
    je ap_ran
    dec ecx
    jnz wait_ap
ap_ran:
%define step 2
    cmp byte [TRAMPOLINE + 0x10], 1
    exit_unless e
    pass
