; The reference CPU's way in: a multiboot kernel for qemu-system-x86_64 (TCG) that
; builds the machine vsbox starts a 64-bit image on (emu/machine.c) -- the same GDT at
; 0x1000, identity page tables of 2 MiB pages for the first 16 MiB at 0x2000-0x4fff,
; CR0 0x80010033, CR4 0x620, EFER LME, RSP at the top of 16 MiB less 16, every other
; register zero -- and jumps to the image QEMU loaded at 0x100000. So a test image runs
; on QEMU exactly as on vsbox, and the two can be compared (fuzz/qemu/run.sh).
bits 32
section .multiboot
align 4
    dd 0x1badb002, 0, -0x1badb002
section .text
global _start
_start:
    cli
    ; GDT: null; 0x08 64-bit code; 0x10 data; 0x18 32-bit code
    mov dword [0x1000], 0
    mov dword [0x1004], 0
    mov dword [0x1008], 0x0000ffff
    mov dword [0x100c], 0x00af9a00
    mov dword [0x1010], 0x0000ffff
    mov dword [0x1014], 0x00cf9200
    mov dword [0x1018], 0x0000ffff
    mov dword [0x101c], 0x00cf9a00
    ; page tables: PML4 -> PDPT -> four PDs, 2 MiB pages over the first 16 MiB
    mov edi, 0x2000
    xor eax, eax
    mov ecx, 0x6000 / 4
    rep stosd
    mov dword [0x2000], 0x3003
    mov dword [0x3000], 0x4003
    mov dword [0x3008], 0x5003
    mov dword [0x3010], 0x6003
    mov dword [0x3018], 0x7003
    xor ecx, ecx
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov [0x4000 + ecx * 8], eax
    inc ecx
    cmp ecx, 8
    jne .pd
    lgdt [gdtr]
    mov eax, 0x620
    mov cr4, eax
    mov eax, 0x2000
    mov cr3, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x100
    wrmsr
    mov eax, 0x80010033
    mov cr0, eax
    jmp 0x08:long_mode
bits 64
long_mode:
    mov ax, 0x10
    mov ss, ax
    mov ds, ax
    mov es, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rsp, 0x1000000 - 16
    push 2
    popfq
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    xor esi, esi
    xor edi, edi
    xor ebp, ebp
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    xor r11d, r11d
    xor r12d, r12d
    xor r13d, r13d
    xor r14d, r14d
    xor r15d, r15d
    mov rax, 0x100000
    push rax
    xor eax, eax
    ret
section .data
gdtr: dw 4 * 8 - 1
      dd 0x1000
