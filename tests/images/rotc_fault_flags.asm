; RCL/RCR whose memory operand faults: the #GP frame must hold the flags from before the
; instruction. QEMU 5 evaluates the lazy flags at the start of RCL/RCR and, when the
; access faults, puts back the operation they came from but not its operands (a fuzz
; finding): vsbox sets the flags right before it delivers. Step 1 with a SUB's flags,
; step 2 with an 8-bit ADD's, both still unevaluated at the fault (through a
; non-canonical address: #GP(0)). Exits 0, or the step whose frame held other flags.
bits 64
org 0x100000
%include "sys64.inc"
    gate64 13, gp_handler, 0x8e, 0
    idt_load
    mov rbx, 0x8000000000000000         ; non-canonical
%define step 1
    mov eax, 0
    sub eax, 0x010f0100                 ; CF, SF, PF
    pushfq
    pop r14                             ; what the frame must hold (PUSHFQ evaluates them)
    lea r13, [rel .after1]
    mov eax, 0
    sub eax, 0x010f0100                 ; the same flags, left unevaluated
    rcr dword [rbx], 1
.after1:
%define step 2
    mov r15d, 2
    mov al, 0x7f
    add al, 1                           ; OF, SF, AF
    pushfq
    pop r14
    lea r13, [rel .after2]
    mov al, 0x7f
    add al, 1
    rcl byte [rbx], 3
.after2:
    pass
gp_handler:                             ; error code, RIP, CS, RFLAGS, RSP, SS
    mov rax, [rsp + 24]
    xor rax, r14
    test eax, 0x8d5
    jnz .bad
    add rsp, 8
    mov [rsp], r13                      ; on past the faulting instruction
    iretq
.bad:
    cmp r15d, 2
    je .bad2
    mov al, 1
    out 0xf4, al
.bad2:
    mov al, 2
    out 0xf4, al
