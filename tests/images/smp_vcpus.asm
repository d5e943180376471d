; Three vCPUs (run with --vcpus 3). The BSP starts vCPUs 1 and 2 the way Xen lets an HVM
; guest: VCPUOP_initialise with a 64-bit vcpu_hvm_context, then VCPUOP_up. Each AP loads
; the BSP's GDT and IDT, records its initial APIC ID (CPUID.1:EBX[31:24], 2n on Xen) and
; sleeps in HLT with interrupts on. The BSP sends a fixed IPI to APIC ID 2 alone, then
; one to all but itself, and checks which vCPU took each. The BSP only spins (PAUSE),
; so every step depends on the schedule giving the APs their turns. Console: U (both
; up), 1 (the first IPI, on vCPU 1 only), 2 (the broadcast, on both). Exit 0, or the
; step that failed. Each AP reads the TSC once, so the trace has an event per vCPU.
bits 64
org 0x100000
%include "sys64.inc"
%define CTX 0x50000                     ; struct vcpu_hvm_context
%define DATA 0x51000
%define UP DATA                         ; APs up
%define IDS DATA + 8                    ; APIC ID each vCPU saw, by vCPU
%define HITS DATA + 64                  ; IPIs each vCPU took, by vCPU
%define GDTR_SAVE DATA + 128
%define IPI 0x50
    apic_map
    gate64 IPI, ipi_handler, 0x8e, 0
    idt_load
    sgdt [GDTR_SAVE]
    mov dword [rbx + 0xf0], 0x1ff
    hvm_ctx64 CTX, ap_entry
    mov qword [CTX + 8 + 4 * 8], 0x60000 ; vCPU 1's stack
    mov esi, 1
    call start_ap
    mov qword [CTX + 8 + 4 * 8], 0x70000 ; vCPU 2's
    mov esi, 2
    call start_ap
wait_up:
    pause
    cmp qword [UP], 2
    jne wait_up
    mov al, 'U'
    out 0xe9, al
%define step 3
    cmp qword [IDS + 8], 2
    exit_unless e
%define step 4
    cmp qword [IDS + 16], 4
    exit_unless e
    mov dword [rbx + 0x310], 2 << 24    ; ICR2: APIC ID 2
    mov dword [rbx + 0x300], IPI        ; ICR: fixed, physical
wait_one:
    pause
    cmp qword [HITS + 8], 1
    jne wait_one
%define step 5
    cmp qword [HITS + 16], 0
    exit_unless e
    mov al, '1'
    out 0xe9, al
    mov dword [rbx + 0x300], 0xc0000 | IPI  ; all but self
wait_two:
    pause
    cmp qword [HITS + 16], 1
    jne wait_two
%define step 6
    cmp qword [HITS + 8], 2
    exit_unless e
%define step 7
    cmp qword [HITS], 0
    exit_unless e
    mov al, '2'
    out 0xe9, al
    pass

start_ap:                               ; ESI: the vCPU
    push rsi
    mov eax, 24                         ; __HYPERVISOR_vcpu_op
    xor edi, edi                        ; VCPUOP_initialise
    mov edx, CTX
    vmcall
%define step 1
    test rax, rax
    exit_unless z
    pop rsi
    mov eax, 24
    mov edi, 1                          ; VCPUOP_up
    xor edx, edx
    vmcall
%define step 2
    test rax, rax
    exit_unless z
    ret

ap_entry:                               ; Xen starts it with null selectors
    ap_gdt_load GDTR_SAVE
    rdtsc                               ; an event the trace gives this vCPU's number
    idt_load
    mov rbx, APIC
    mov dword [rbx + 0xf0], 0x1ff
    mov eax, 1
    cpuid
    shr ebx, 24
    mov eax, ebx
    shr eax, 1                          ; the vCPU: APIC ID / 2
    mov [IDS + rax * 8], rbx
    lock inc qword [UP]
.sleep:
    sti
    hlt
    jmp .sleep

ipi_handler:
    push rax
    push rbx
    push rcx
    push rdx
    mov eax, 1
    cpuid
    shr ebx, 25                         ; APIC ID / 2
    lock inc qword [HITS + rbx * 8]
    mov rax, APIC
    mov dword [rax + 0xb0], 0           ; EOI
    pop rdx
    pop rcx
    pop rbx
    pop rax
    iretq
