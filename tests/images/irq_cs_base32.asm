; An interrupt taken in 32-bit protected mode while CS has a base (0x1000): the frame's
; EIP is the offset in that segment, not the linear address QEMU names its blocks by
; (which the block hook, where vsbox takes the vector, is handed). The loop of
; irq_chained.asm, run through a code segment based at 0x1000 with the handler's gate
; naming it too; the handler checks the CS and EIP in its frame. Exit 0 when 1,000 turns
; took 1,000 interrupts; 2: a frame held another EIP; 3: another CS; 1: a count was off.
bits 32
%include "sys32.inc"
%include "irq_chained.inc"
%define APIC 0xfee00000
global _start
section .text
_start:
    sys32_entry
    based_code32
    gate32_to 0x40, handler - BASE, BASED, 0x8e
    lidt [idtr]
    mov dword [APIC + 0xf0], 0x1ff      ; SPIV: the APIC on
    jmp BASED:(based - BASE)
based:
    xor ebp, ebp
    sti
    chained_turns APIC, ebp
handler:
    cmp dword [esp + 4], BASED
    je .cs_ok
    mov al, 3
    out 0xf4, al
.cs_ok:
    cmp dword [esp], after_write - BASE
    je .ok
    cmp dword [esp], next_block - BASE
    je .ok
    mov al, 2
    out 0xf4, al
.ok:
    inc ebp
    mov dword [APIC + 0xb0], 0          ; EOI
    iretd
    sys32_tables 2
