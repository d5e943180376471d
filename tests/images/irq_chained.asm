; A vector taken at the start of a block that the block before entered by a direct jump.
; QEMU chains such blocks, and RIP in its state stays at the earlier one until a block
; exits to its loop; the frame must hold where the CPU really was. Each turn sends a
; self-IPI, then falls through a branch never taken into the next block. The handler
; checks that its frame returns to an instruction after the ICR write (vsbox takes the
; vector at the next block start, the DEC; QEMU right after the write, the TEST) and
; counts. Exit 0 when 1,000 turns took 1,000 interrupts; 2: a frame held another RIP
; (a stale one sends the IPI again, and the loop would never end); 1: a count was off.
bits 64
org 0x100000
%include "sys64.inc"
%include "irq_chained.inc"
    apic_on 0x40, handler
    xor r12d, r12d
    sti
    chained_turns rbx, r12d
handler:
    lea rax, [rel after_write]
    cmp [rsp], rax
    je .ok
    lea rax, [rel next_block]
    cmp [rsp], rax
    je .ok
    mov al, 2
    out 0xf4, al
.ok:
    inc r12d
    mov dword [rbx + 0xb0], 0           ; EOI
    iretq
