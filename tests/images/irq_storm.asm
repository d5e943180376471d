; Interrupts forever, and nothing else that stops the run: every handler sends the next
; self-IPI before its IRETQ, so each vector is taken from inside the run (irq_take_here)
; at the spin loop's next block start. Ctrl-C and --timeout must still end the run.
bits 64
org 0x100000
%include "sys64.inc"
    apic_on 0x40, handler
    sti
    mov dword [rbx + 0x300], 0x40040    ; self, fixed, vector 0x40
spin:
    inc r12
    jmp spin
handler:
    mov dword [rbx + 0xb0], 0           ; EOI
    mov dword [rbx + 0x300], 0x40040    ; the next one
    iretq
