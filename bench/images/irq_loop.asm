; Benchmark guest (bench/bench_smp.c): ITERS turns, each either a self-IPI taken through
; the IDT (KIND 1: ICR write, delivery at the next instruction boundary, a handler that
; writes EOI and IRETQs) or a trapped RDMSR of HV_X64_MSR_VP_INDEX (KIND 0). Exit 0.
bits 64
org 0x100000
%include "sys64.inc"
    apic_map
    gate64 0x40, handler, 0x8e, 0
    idt_load
    mov dword [rbx + 0xf0], 0x1ff
    mov esi, ITERS
    mov ecx, 0x40000002
    sti
turn:
%if KIND
    mov dword [rbx + 0x300], 0x40040    ; ICR: self, fixed, vector 0x40
%else
    rdmsr
%endif
    dec esi
    jnz turn
    cmp r12d, ITERS * KIND
    jne bad
    xor eax, eax
    out 0xf4, al
bad:
    mov al, 1
    out 0xf4, al
handler:
    inc r12d
    mov dword [rbx + 0xb0], 0           ; EOI
    iretq
