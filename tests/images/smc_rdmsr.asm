; Writes "rdmsr; ret" into memory at run time and calls it: the trap must still fire.
; Exits 0 when EDX:EAX is HV_X64_MSR_TSC_FREQUENCY at 2 GHz (2000000000 = 0x77359400).
bits 64
org 0x100000
    mov rdi, buffer
    mov dword [rdi], 0x00c3320f     ; 0f 32 (rdmsr), c3 (ret)
    mov ecx, 0x40000022
    call rdi
    cmp eax, 0x77359400
    jne bad
    test edx, edx
    jne bad
    ; again, with different code at the same place: rdtsc; ret, then a rdmsr somewhere new
    mov dword [rdi], 0x00c3310f
    call rdi
    mov dword [rdi + 64], 0x00c3320f
    lea rax, [rdi + 64]
    mov ecx, 0x40000023
    call rax
    cmp eax, 100000000              ; HV_X64_MSR_APIC_FREQUENCY
    jne bad
    mov al, 0
    out 0xf4, al
bad:
    mov al, 1
    out 0xf4, al
align 4096
buffer: times 128 db 0x90
