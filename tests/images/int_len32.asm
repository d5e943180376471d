; The INT n whose gate is missing faults at its own address, which vsbox finds from the
; address after it and the INT's length, remembered when it was translated. The bytes
; of "int 0x40" (CD 40) read from their second byte are "inc eax" in 32-bit code, not a
; REX prefix, and the instruction after it is INT3: an INT-length entry noted for "inc
; eax" as if its 40 were a prefix of the INT3 was keyed at the very address the INT
; reports, so the second #NP below named the INT's second byte. Exits with the step
; that failed, 0 when both #NPs named the INT.
bits 32
%include "sys32.inc"
%macro gate32 2                         ; vector, handler: a ring-0 interrupt gate
    gate32_to %1, %2, KCODE, 0x8e
%endmacro
global _start
section .text
_start:
    sys32_entry
    gate32 11, np_handler               ; #NP
    gate32_to 0x40, done, KCODE, 0x0e   ; a 32-bit interrupt gate, not present
    gate32 3, bp_handler
    lidt [idtr]
    jmp overlap                         ; the INT, translated first
overlap:
    db 0xcd, 0x40                       ; int 0x40 (from overlap + 1: inc eax)
    db 0xcc                             ; int3
    jmp overlap                         ; after the #BP: the INT again, already translated
np_handler:
%define step 1
    cmp dword [esp], 0x40 * 8 + 2       ; the error code: IDT, vector 0x40
    exit_unless e
%define step 2
    cmp dword [esp + 4], overlap        ; a fault: EIP of the INT itself
    exit_unless e
    inc dword [passes]
    cmp dword [passes], 2
    je done
    add esp, 4
    mov dword [esp], overlap + 1        ; on into its second byte: inc eax, int3
    iretd
bp_handler:
    iretd
done:
    mov al, 0
    out 0xf4, al
section .data
passes: dd 0
sys32_tables 1
