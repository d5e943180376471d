; Reproducer 5: an IDT whose base wraps around the top of the address space. Delivering
; the #UD reads the gate at 0xffffffffffffff90 + 6 * 16, which no page maps: a #PF while
; delivering, then #DF and a triple fault: the CPU shuts down (exit 3, a report), and
; vsbox never reads outside guest memory.
bits 64
org 0x100000
    lidt [rel idtr]
    ud2
idtr: dw 4095
      dq 0xffffffffffffff90
