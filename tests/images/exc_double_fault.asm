; Two contributory faults make #DF (SDM table 6-5): a #GP whose gate is not present
; raises #NP while it is delivered, and the CPU delivers #DF instead, error code 0, with
; the #GP's RIP. Then a #DE delivered well, and a benign #UD with a missing gate, which
; is #NP (not #DF). Exits 0 when all held.
bits 64
org 0x100000
%include "sys64.inc"
    sys64_load
    mov qword [TSS + 36], 0x600000
    gate64 8, df_handler, 0x8e, 1       ; #DF on its own stack, as kernels do
    gate64 11, np_handler, 0x8e, 0
    gate64 13, gp_handler, 0x0e, 0      ; type 0xe but not present
    idt_load
    xor r13d, r13d
%define step 1
    mov ax, 0x1234                      ; past the GDT: #GP(0x1234)
gp_site:
    mov ds, ax
    cmp r13, 1
    exit_unless e
%define step 2
    gate64 6, ud_handler, 0x0e, 0       ; not present either, but #UD is benign
ud_site:
    ud2
    cmp r13, 3
    exit_unless e
    pass
df_handler:
%define step 10
    cmp qword [rsp], 0                  ; error code 0
    exit_unless e
%define step 11
    lea rax, [rel gp_site]
    cmp [rsp + 8], rax
    exit_unless e
    inc r13
    add qword [rsp + 8], 2              ; past mov ds
    add rsp, 8
    iretq
np_handler:
%define step 12
    cmp qword [rsp], 6 * 8 + 2 + 1      ; IDT entry 6, EXT (an exception, not INT n)
    exit_unless e
    add r13, 2
    add qword [rsp + 8], 2              ; past the UD2
    add rsp, 8
    iretq
gp_handler:
    mov al, 98
    out 0xf4, al
ud_handler:
    mov al, 97
    out 0xf4, al
