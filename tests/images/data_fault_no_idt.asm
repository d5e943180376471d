; Reproducer 7, without an IDT: the crash report names the faulting instruction's RIP
; and disassembles it.
bits 64
org 0x100000
    xor r12d, r12d
    inc r12
    mov bl, [0x40000000]
    hlt
