; Benchmark guest (bench/bench_smp.c): ITERS turns, each either a self-IPI taken through
; the IDT (KIND 1: ICR write, delivery at the next instruction boundary, a handler that
; writes EOI and IRETQs), or a trapped RDMSR of HV_X64_MSR_VP_INDEX (KIND 0), or the two
; APIC writes of KIND 1 with no interrupt (KIND 2: an IPI to all but self with no other
; vCPU, and an EOI with nothing in service). Exit 0.
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
%if KIND == 1
    mov dword [rbx + 0x300], 0x40040    ; ICR: self, fixed, vector 0x40
%elif KIND == 2
    mov dword [rbx + 0x300], 0xc0040    ; ICR: all but self (nobody), vector 0x40
    mov dword [rbx + 0xb0], 0           ; EOI
%else
    rdmsr
%endif
    dec esi
    jnz turn
    cmp r12d, ITERS * (KIND == 1)
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
