; An interrupt whose delivery fails all the way: vector 0x40's IDT entry is empty (#GP),
; and so are #GP's and #DF's. vsbox takes the vector at a block start from
; inside the run; a delivery that ends in a triple fault must still end the run (exit 3),
; not resume the guest.
bits 64
org 0x100000
%include "sys64.inc"
    apic_map
    idt_load                            ; an IDT of nothing but zeros
    mov dword [rbx + 0xf0], 0x1ff
    sti
    mov dword [rbx + 0x300], 0x40040    ; self, fixed, vector 0x40
    jmp .next
.next:
    mov al, 1                           ; never reached
    out 0xf4, al
