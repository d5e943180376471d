; Code that stores into the block it is running, at every instruction: each store makes
; QEMU abandon the block and run the storing instruction again as a block of its own.
; ROUNDS rounds of STORES stores, about 2,030 instructions in all (the fuzz finding was
; the zero page run as `add [rax], al` over its own bytes). Exits 0; --budget 4000 must
; let it finish, and --budget 1500 must not.
bits 64
org 0x100000
%define ROUNDS 10
%define STORES 200
    lea rbx, [rel target]
    mov ecx, ROUNDS
again:
%rep STORES
    mov [rbx], al              ; into the immediate below, inside this very block
%endrep
    mov al, 0
target equ $ - 1
    dec ecx
    jnz again
    xor eax, eax
    out 0xf4, al
