; vsbox remembers the page walks of a delivery (emu/mmu.c), and a remembered walk must
; still follow the page tables: after the guest clears the accessed and dirty bits of the
; stack's page-directory entry, the next delivery sets them again; after it clears the
; present bit, the frame's push is a page fault (then the first exception, once the
; handler has made the page present again). Each step uses INVLPG as a guest must.
; Exits with the number of the first step that did not hold, 0 when all did.
bits 64
org 0x100000
%include "sys64.inc"
%define IST1_TOP 0x600000               ; #DE's stack: its frame is in the 2 MiB page at 0x400000
%define IST2_TOP 0x700000               ; #PF's stack, in the next one
%define PDE_STACK 0x4010                ; vsbox's boot page directory entry for 0x400000
%define PDE_A 0x20
%define PDE_D 0x40
    sys64_load
    mov qword [TSS + 36], IST1_TOP
    mov qword [TSS + 44], IST2_TOP
    gate64 0, de_handler, 0x8e, 1
    gate64 14, pf_handler, 0x8e, 2
    idt_load
    xor r13d, r13d                      ; #DE deliveries
    xor r14d, r14d                      ; #PF deliveries
%define step 1                          ; a first #DE: its walks are remembered
    call divide
    cmp r13d, 1
    exit_unless e
%define step 2                          ; A and D cleared: the delivery sets them again
    and qword [PDE_STACK], ~(PDE_A | PDE_D)
    invlpg [IST1_TOP - 8]
    call divide
    test r12, PDE_A                     ; the entry as the delivery left it
    exit_unless nz
%define step 3
    test r12, PDE_D
    exit_unless nz
%define step 4                          ; not present: a #PF while pushing the frame
    and qword [PDE_STACK], ~1
    invlpg [IST1_TOP - 8]
    call divide
    cmp r14d, 1
    exit_unless e
%define step 5                          ; ... then the #DE again, delivered
    cmp r13d, 3
    exit_unless e
%define step 6                          ; CR2 inside the frame, a supervisor write to a page not present
    mov rax, IST1_TOP - 40
    cmp r15, rax
    exit_unless ae
%define step 7
    mov rax, IST1_TOP
    cmp r15, rax
    exit_unless b
%define step 8
    cmp rbx, 2
    exit_unless e
    pass

divide:
    xor ecx, ecx
    mov eax, 1
    div ecx                             ; f7 f1
    ret
de_handler:
    mov r12, [PDE_STACK]                ; before this handler's own stack accesses walk it
    inc r13d
    add qword [rsp], 2
    iretq
pf_handler:
    inc r14d
    mov r15, cr2
    mov rbx, [rsp]                      ; the error code
    or qword [PDE_STACK], 1
    invlpg [IST1_TOP - 8]
    add rsp, 8
    iretq                               ; back to the DIV, whose #DE now has its stack
