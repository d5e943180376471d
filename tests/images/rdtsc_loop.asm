; 1000 RDTSCs must never go backwards; prints the last one's low byte parity
; to the console so two runs can be compared byte for byte.
bits 64
org 0x100000
    rdtsc
    shl rdx, 32
    or rax, rdx
    mov r8, rax
    mov ecx, 1000
.loop:
    rdtsc
    shl rdx, 32
    or rax, rdx
    cmp rax, r8
    jbe .bad
    mov r8, rax
    dec ecx
    jnz .loop
    mov al, 'k'
    out 0xe9, al
    hlt
.bad:
    mov al, 1
    out 0xf4, al
