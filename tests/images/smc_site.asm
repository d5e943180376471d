; Reproducer 8: after the RDTSC at `site` has run once, the guest rewrites it into
; `mov eax, 0x310f0000` (b8 00 00 0f 31: its last two bytes are RDTSC's) and runs it
; again. Exactly one RDTSC event is recorded, and EAX holds the immediate. Exits 0.
bits 64
org 0x100000
%define step 1
    mov r14, 2
again:
site:
    rdtsc
    nop
    nop
    nop
    dec r14
    jz done
    mov byte [site], 0xb8
    mov dword [site + 1], 0x310f0000
    jmp again
done:
    cmp eax, 0x310f0000
    jne bad
    mov al, 0
    out 0xf4, al
bad:
    mov al, 1
    out 0xf4, al
