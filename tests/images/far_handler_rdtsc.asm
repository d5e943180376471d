; Reproducer 4: a RDTSC that is the first instruction of a handler far from the entry
; point (more than 4 KiB away) is trapped like any other: the recorded trace has it, at
; the handler's address, with the virtual clock's value. The IDT is built into the image,
; so the guest's very first block raises the #UD: no block has yet run to its end (the
; case Unicorn's new-block hook misses). A second #UD later takes the same way. Exits 0.
bits 64
org 0x100000
    lidt [rel idtr]
    ud2
    ud2
    mov al, 0
    out 0xf4, al
idtr: dw 4095
      dq idt
align 16
idt:
times 6 dq 0, 0
    ; gate 6: far_handler through 0x08, a present interrupt gate
    dw (far_handler - $$ + 0x100000) & 0xffff
    dw 0x08
    db 0, 0x8e
    dw ((far_handler - $$ + 0x100000) >> 16) & 0xffff
    dd 0, 0
times 8192 db 0x90
far_handler:
    rdtsc
    add qword [rsp], 2
    iretq
