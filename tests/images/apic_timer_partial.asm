; A timer armed by a write narrower than its register: Xen's vlapic takes 1- and 2-byte
; writes inside a register, so TMICT set through its upper half (0x382) counts 0x10000
; bus cycles (655 us, divide by 1). The guest never sleeps: it sends itself IPIs, each
; taken at the next block start, until the timer's vector has run (exit 0), or gives up
; after 200,000 of them (exit 1). QEMU on the same image agrees (test_qemu_reference).
bits 64
org 0x100000
%include "sys64.inc"
    apic_on 0x40, ipi_handler
    gate64 0x41, timer_handler, 0x8e, 0
    xor r12d, r12d
    mov dword [rbx + 0x380], 0          ; TMICT: no timer left running from before
    mov dword [rbx + 0x3e0], 0xb        ; TDCR: divide by 1
    mov dword [rbx + 0x320], 0x41       ; LVTT: one-shot, vector 0x41
    mov word [rbx + 0x382], 1           ; TMICT bits 16-31: 0x10000
    sti
    mov esi, 200000
.turn:
    mov dword [rbx + 0x300], 0x40040    ; ICR: self, fixed, vector 0x40
    test r12d, r12d
    jnz .fired
    dec esi
    jnz .turn
    mov al, 1
    out 0xf4, al
.fired:
    xor eax, eax
    out 0xf4, al
ipi_handler:
    mov dword [rbx + 0xb0], 0           ; EOI
    iretq
timer_handler:
    inc r12d
    mov dword [rbx + 0xb0], 0
    iretq
