; The debug registers, which vsbox keeps itself (emu/debugreg.c): an armed execute
; breakpoint must not crash Unicorn (found by fuzz_emu) and never fires, values read
; back with their fixed bits, and the faults a CPU raises for MOV DRn arrive where a CPU
; raises them. Exits 0 when every step held, else the number of the step that failed.
; Then a CPUID (a trapped event, so --save-at 1 can stop there) and a final check that
; DR0 and DR7 still hold what was written: a resumed snapshot must have kept them.
bits 64
org 0x100000
%include "idt64.inc"
%macro fail_unless 1             ; exit with the step number unless the flags say %1
    j%1 %%ok
    mov al, step
    out 0xf4, al
%%ok:
%endmacro
%macro expect_fault 2            ; run instruction bytes %2, expect vector %1 raised at them
    mov r12, -1
    lea r13, [rel %%after]
    lea r14, [rel %%insn]
%%insn: db %2
%%after:
    cmp r12, %1
    fail_unless e
%endmacro

    gate 1, db_handler
    gate 6, ud_handler
    gate 13, gp_handler
    lidt [idtr]

%define step 1                   ; single-stepping still raises #DB, and DR6.BS says so
    mov r12, -1
    xor r14d, r14d               ; a trap: the handler does not check where
    lea r13, [rel .stepped]
    pushfq
    or qword [rsp], 1 << 8       ; TF
    popfq
    nop
    nop
.stepped:
    cmp r12, 1
    fail_unless e
    mov rax, dr6
    test eax, 1 << 14            ; BS
    fail_unless nz

    xor eax, eax
    mov dr6, rax                 ; DR6 as at reset again

%define step 2                   ; reset values
    mov rax, dr6
    mov ecx, 0xffff0ff0
    cmp rax, rcx
    fail_unless e
    mov rax, dr7
    cmp rax, 0x400
    fail_unless e

%define step 3                   ; arm an execute breakpoint on the next instruction
    xor r12d, r12d
    lea rax, [rel target]
    mov dr0, rax
    mov eax, 0x00000001          ; L0, RW0 = 00 (execute), LEN0 = 00
    mov dr7, rax
target:
    nop                          ; no #DB: vsbox raises none for breakpoints
    cmp r12, 0
    fail_unless e
    mov rbx, dr7
    cmp rbx, 0x401               ; bit 10 reads 1
    fail_unless e
    mov rbx, dr0
    lea rcx, [rel target]
    cmp rbx, rcx
    fail_unless e

%define step 4                   ; DR5 is DR7 and DR4 is DR6 while CR4.DE is clear
    mov eax, 0x0000d002          ; G0, and reserved bits 12, 14, 15 that read 0
    mov dr5, rax
    mov rbx, dr7
    cmp rbx, 0x402
    fail_unless e
    mov eax, 0xffffffff
    mov dr4, rax
    mov rbx, dr6
    mov ecx, 0xffffeff0          ; B0-B3, BD, BS, BT are writable; bit 12 reads 0
    or rcx, 0xf
    cmp rbx, rcx
    fail_unless e
    xor eax, eax
    mov dr7, rax

%define step 5                   ; writing bits 63:32 of DR7 is #GP(0)
    mov rax, 1 << 32
    expect_fault 13, {0x0f, 0x23, 0xf8}       ; mov dr7, rax
    mov rbx, dr7
    cmp rbx, 0x400
    fail_unless e

%define step 6                   ; DR8 does not exist
    expect_fault 6, {0x44, 0x0f, 0x23, 0xc0}  ; mov dr8, rax (REX.R)

%define step 7                   ; with CR4.DE set, DR4 and DR5 are #UD
    mov rax, cr4
    or rax, 1 << 3
    mov cr4, rax
    expect_fault 6, {0x0f, 0x21, 0xe8}        ; mov rax, dr5
    mov rax, cr4
    and rax, ~(1 << 3)
    mov cr4, rax

%define step 8                   ; general detect: the next MOV DRn is a #DB before it runs
    xor eax, eax
    mov dr6, rax                 ; BD clear
    mov eax, 1 << 13
    mov dr7, rax
    expect_fault 1, {0x0f, 0x21, 0xc3}        ; mov rbx, dr0
    mov rax, dr6
    test eax, 1 << 13            ; BD says why
    fail_unless nz
    mov rax, dr7                 ; GD was cleared for the handler
    cmp rax, 0x400
    fail_unless e

%define step 9                   ; values that must survive a snapshot
    mov rax, 0x1234567
    mov dr0, rax
    mov eax, 0x00030002          ; G0, RW0 = 11 (read/write watchpoint)
    mov dr7, rax
    mov eax, 0x40000000
    cpuid                        ; event 1: --save-at 1 stops here
    mov rbx, dr0
    cmp rbx, 0x1234567
    fail_unless e
    mov rbx, dr7
    cmp rbx, 0x30402
    fail_unless e

    mov al, 0
    out 0xf4, al

; Each handler records its vector in r12 and resumes at r13, after checking that the
; fault was raised at the instruction itself (r14, 0 for a trap), as a fault must be.
db_handler:
    mov r12, 1
    and qword [rsp + 16], ~(1 << 8)  ; stop single-stepping
    jmp resume
ud_handler:
    mov r12, 6
    jmp resume
gp_handler:
    add rsp, 8                   ; the error code
    mov r12, 13
resume:
    test r14, r14
    jz .anywhere
    cmp [rsp], r14
    jne .wrong
.anywhere:
    mov [rsp], r13
    iretq
.wrong:
    mov al, 99
    out 0xf4, al

idtr: dw 256 * 16 - 1
      dq 0x8000
