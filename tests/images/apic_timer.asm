; The local APIC (Xen's vlapic, emu/lapic.c + emu/irq.c): a one-shot timer wakes a HLT
; and its vector runs the handler once; after it fired, TMCCT reads 0; a self-IPI sent
; with interrupts off waits for STI and then for the one instruction STI shadows. The
; console shows the order: T (timer), a, I (the IPI, after b's MOV), b, c. Exit 0, or the
; step that failed.
bits 64
org 0x100000
%include "sys64.inc"
%macro exit_unless 2
    j%1 %%ok
    mov al, %2
    out 0xf4, al
%%ok:
%endmacro
    apic_map
    gate64 0x40, timer_handler, 0x8e, 0
    gate64 0x41, ipi_handler, 0x8e, 0
    idt_load
    xor r12d, r12d
    mov dword [rbx + 0xf0], 0x1ff      ; SPIV: enabled, spurious vector 0xff
    mov dword [rbx + 0x3e0], 0xb       ; TDCR: divide by 1
    mov dword [rbx + 0x320], 0x40      ; LVTT: one-shot, vector 0x40
    mov dword [rbx + 0x380], 5000      ; TMICT: 5000 bus cycles, 50 us
    rdtsc                               ; an event: a save point with the timer running
    sti
    hlt
    cmp r12, 1
    exit_unless e, 1
    mov eax, [rbx + 0x390]             ; TMCCT
    test eax, eax
    exit_unless z, 2
    mov eax, [rbx + 0x100 + 0x20]      ; ISR bits 64-95: the EOI cleared 0x40
    test eax, eax
    exit_unless z, 3
    cli
    mov dword [rbx + 0x300], 0x40041   ; ICR: self, fixed, vector 0x41
    mov al, 'a'
    out 0xe9, al
    sti
    mov al, 'b'                         ; in STI's shadow: runs before the IPI
    out 0xe9, al
    mov al, 'c'
    out 0xe9, al
    cmp r13, 1
    exit_unless e, 4
    xor eax, eax
    out 0xf4, al
timer_handler:
    push rax
    inc r12
    mov al, 'T'
    out 0xe9, al
    mov dword [rbx + 0xb0], 0          ; EOI
    pop rax
    iretq
ipi_handler:
    push rax
    inc r13
    mov al, 'I'
    out 0xe9, al
    mov dword [rbx + 0xb0], 0
    pop rax
    iretq
