; Reproducer 2: a #UD at the same place, again and again, and a #UD raised inside the #UD
; handler, are each delivered. Prints one 'u' per #UD and 'K' at the end; exits 0 when
; there were 3 in the loop and 1 nested (r13 counts them all: 5).
bits 64
org 0x100000
%include "sys64.inc"
%define step 1
    gate64 6, ud_handler, 0x8e, 0
    idt_load
    xor r13d, r13d
    mov r14, 3
lp: ud2
    dec r14
    jnz lp
    mov r15, 1                      ; the next #UD's handler raises one of its own
    ud2
    cmp r13, 5
    exit_unless e
    mov al, 'K'
    out 0xe9, al
    pass
ud_handler:
    inc r13
    mov al, 'u'
    out 0xe9, al
    test r15, r15
    jz .done
    xor r15d, r15d
    ud2                             ; nested: its own frame, then back here
.done:
    add qword [rsp], 2              ; past the UD2
    iretq
