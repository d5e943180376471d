; Benchmark guest (bench/bench_smp.c): ITERS turns, each either a self-IPI taken through
; the IDT (KIND 1: ICR write, delivery at the next instruction boundary, a handler that
; writes EOI and IRETQs), or a trapped RDMSR of HV_X64_MSR_VP_INDEX (KIND 0), or the two
; APIC writes of KIND 1 with no interrupt (KIND 2: an IPI to all but self with no other
; vCPU, and an EOI with nothing in service), or KIND 1 with the delivery replaced by a
; jump into the handler on a stack that already holds the frame (KIND 3: the same guest
; instructions, ICR write, handler, EOI, IRETQ, and no interrupt). Built once so the turn
; makes no store: every store to RAM takes Unicorn 2.0.1's slow path (its
; cpu_physical_memory_is_clean() is always true), which a delivery's frame, written by
; vsbox, does not. KIND 1 minus KIND 3 is the delivery alone. Exit 0.
bits 64
org 0x100000
%include "sys64.inc"
    apic_on 0x40, handler
    mov esi, ITERS
    mov ecx, 0x40000002
%if KIND == 3
    ; the frame a delivery would push, built once: IRETQ to back on the stack as it was
    lea rdi, [rsp - 64]
    lea rax, [rel back]
    mov [rdi], rax
    mov rax, cs
    mov [rdi + 8], rax
    mov qword [rdi + 16], 0x202
    mov [rdi + 24], rsp
    mov rax, ss
    mov [rdi + 32], rax
%endif
    sti
turn:
%if KIND == 1
    mov dword [rbx + 0x300], 0x40040    ; ICR: self, fixed, vector 0x40
%elif KIND == 2
    mov dword [rbx + 0x300], 0xc0040    ; ICR: all but self (nobody), vector 0x40
    mov dword [rbx + 0xb0], 0           ; EOI
%elif KIND == 3
    mov dword [rbx + 0x300], 0xc0040    ; ICR: all but self (nobody), vector 0x40
    mov rsp, rdi                        ; the handler, entered as if delivered
    jmp handler
back:
%else
    rdmsr
%endif
    dec esi
    jnz turn
    cmp r12d, ITERS * (KIND == 1 || KIND == 3)
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
