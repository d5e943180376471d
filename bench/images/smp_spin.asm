; Benchmark guest (bench/bench_smp.c): NCPU vCPUs each run ITERS turns of a loop that
; never traps, WIDTH instructions per turn (one translation block), then the BSP waits
; for the APs and exits 0. APs start as in tests/images/smp_vcpus.asm (VCPUOP_initialise
; with a 64-bit vcpu_hvm_context, then VCPUOP_up). Build with -DNCPU=n -DWIDTH=w
; -DITERS=i, or instead of the loop, with -DCWORK=address: bench_work(ITERS) from
; bench/images/work.c, compiled C linked at that address (bench_work.bin on the include
; path). With -DUSE_APIC the BSP reads its APIC ID first: the APIC in use, as any operating
; system's is, which gives one vCPU the block hook too.
bits 64
org 0x100000
%include "sys64.inc"
%define CTX 0x50000
%define DONE 0x51000
%define GDTR_SAVE 0x51100
    sgdt [GDTR_SAVE]
%ifdef USE_APIC
    apic_map
    mov eax, [rbx + 0x20]
%endif
%if NCPU > 1
    hvm_ctx64 CTX, ap_entry
    mov r15d, 1
start_next:
    ; a stack per vCPU, 64 KiB below the one before, from where vsbox starts the BSP's
    ; (the top of the bench's 32 MiB): away from the code's 4 MiB, where every store
    ; costs Unicorn 2.0.1 more (QEMU's page descriptors for code pages are kept per
    ; 4 MiB), so that each vCPU's stores cost what the BSP's do
    mov rax, r15
    shl rax, 16
    neg rax
    add rax, 0x1fffff0
    mov [CTX + 8 + 4 * 8], rax
    mov eax, 24                         ; __HYPERVISOR_vcpu_op
    xor edi, edi                        ; VCPUOP_initialise
    mov esi, r15d
    mov edx, CTX
    vmcall
    mov eax, 24
    mov edi, 1                          ; VCPUOP_up
    mov esi, r15d
    xor edx, edx
    vmcall
    inc r15d
    cmp r15d, NCPU
    jne start_next
%endif
    call work
wait_aps:
    pause
    cmp qword [DONE], NCPU - 1
    jne wait_aps
    xor eax, eax
    out 0xf4, al

work:
%ifdef CWORK
    mov edi, ITERS
    jmp CWORK                           ; bench_work(ITERS), which returns to our caller
%else
    mov esi, ITERS
    xor eax, eax
    mov ecx, 3
.turn:
%rep WIDTH - 2
    add eax, ecx
%endrep
    dec esi
    jnz .turn
    ret
%endif

ap_entry:
    ap_gdt_load GDTR_SAVE
    call work
    lock inc qword [DONE]
.sleep:
    cli
    hlt
    jmp .sleep
%ifdef CWORK
    times CWORK - 0x100000 - ($ - $$) db 0
    incbin "bench_work.bin"             ; bench/images/work.c, linked at CWORK
%endif
