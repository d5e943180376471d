; The guest behind `vsbox fuzz --engine emu`: an interpreter for event tables. The host
; writes a table of operations at TABLE; the guest runs each as the real instruction
; (CPUID, RDMSR, WRMSR, RDTSC, VMCALL through the viridian convention) and stores what it
; saw at RESULTS: RAX, RBX, RCX, RDX and the vector of any exception it took (interrupts
; run with IF clear, and an NMI it sends itself is taken and returned from). Its code
; never changes, so every trap site is found once and each sequence runs at full speed.
;
; table entry (48 bytes):  u64 op, rax, rcx, rdx, r8, 0      op 0 ends the table
; result entry (48 bytes): u64 rax, rbx, rcx, rdx, vector (0: none), 0
bits 64
default abs

BASE    equ 0x100000
TABLE   equ 0x200000
RESULTS equ 0x240000

; A 64-bit interrupt gate to a handler in this image (loaded at BASE, below 4 GiB).
%macro gate 1
        dw      (BASE + (%1 - vsbox_seqguest_start)) & 0xffff, 0x08, 0x8e00
        dw      (BASE + (%1 - vsbox_seqguest_start)) >> 16
        dd      0, 0
%endmacro

section .text
global vsbox_seqguest_start, vsbox_seqguest_end
vsbox_seqguest_start:
start:
        lidt    [rel idtr]
        mov     rsi, TABLE
        mov     rdi, RESULTS
next:
        mov     rax, [rsi]
        test    rax, rax
        jz      done
        xor     r10d, r10d              ; the vector a handler stores, if any
        xor     ebx, ebx
        mov     rcx, [rsi + 16]
        mov     rdx, [rsi + 24]
        mov     r8, [rsi + 32]
        cmp     rax, 1
        je      op_cpuid
        cmp     rax, 2
        je      op_rdmsr
        cmp     rax, 3
        je      op_wrmsr
        cmp     rax, 4
        je      op_rdtsc
        jmp     op_hypercall
op_cpuid:
        mov     rax, [rsi + 8]
        cpuid
        jmp     store
op_rdmsr:
        xor     eax, eax
        xor     edx, edx
        rdmsr
        jmp     store
op_wrmsr:
        mov     rax, [rsi + 8]
        wrmsr
        jmp     store
op_rdtsc:
        rdtsc
        jmp     store
op_hypercall:
        mov     rax, [rsi + 8]
        vmcall
store:
        mov     [rdi], rax
        mov     [rdi + 8], rbx
        mov     [rdi + 16], rcx
        mov     [rdi + 24], rdx
        mov     [rdi + 32], r10
        add     rsi, 48
        add     rdi, 48
        jmp     next
done:
        xor     eax, eax
        out     0xf4, al
        hlt

; An NMI (a write of HV_X64_MSR_ICR may send one to itself, as on Xen): the CPU takes it
; between instructions, so it is no event's result; return to where it came.
nmi_handler:
        iretq

; #UD (a hypercall with no viridian) and #GP (an MSR the model refuses): note the
; vector and step over the 3- or 2-byte instruction.
ud_handler:
        mov     r10d, 6
        add     qword [rsp], 3
        iretq
gp_handler:
        mov     r10d, 13
        add     rsp, 8                  ; the error code
        add     qword [rsp], 2
        iretq

align 16
idt:
        times 2 dq 0, 0
        gate    nmi_handler
        times 3 dq 0, 0
        gate    ud_handler
        times 6 dq 0, 0
        gate    gp_handler
idt_end:
idtr:
        dw      idt_end - idt - 1
        dq      BASE + (idt - vsbox_seqguest_start)
vsbox_seqguest_end:

section .note.GNU-stack noalloc noexec nowrite progbits
