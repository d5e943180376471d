; Reproducer 3: #DE at the same DIV, three times: each a #DE, never a #DF (which a CPU
; raises only for a second contributory fault while delivering the first). Exits 0 when
; the handler ran 3 times; a #DF has no gate and shuts the CPU down (exit 3).
bits 64
org 0x100000
%include "sys64.inc"
%define step 1
    gate64 0, de_handler, 0x8e, 0
    idt_load
    xor r13d, r13d
    mov r14, 3
    xor ecx, ecx
lp: mov eax, 1
    xor edx, edx
    div ecx
    dec r14
    jnz lp
    cmp r13, 3
    exit_unless e
    pass
de_handler:
    inc r13
    add qword [rsp], 2              ; past `div ecx` (f7 f1)
    iretq
