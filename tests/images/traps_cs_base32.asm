; Trap sites in 32-bit code whose CS is based at 0x1000: RIP is then an offset in the
; segment, 0x1000 below the linear address the translator saw the code at. Through a
; code segment based there the guest prints A with OUT to an imm8 port (a SYSCALL
; substitute), B with OUT through DX (an INT3 substitute), C when RDMSR of
; HV_X64_MSR_VP_INDEX reads vCPU 0, D from the #UD of a far CALL through a register (the
; translation guard refuses it; the handler checks the frame's EIP and steps over it), E
; from INT 0x41 (the frame's EIP is past the INT), then exits 0 through OUT. Run with
; --viridian 1. Exits 2 when a frame's EIP was wrong, 3 when VP_INDEX was not 0.
bits 32
%include "sys32.inc"
global _start
section .text
_start:
    sys32_entry
    based_code32
    gate32_to 6, ud_handler - BASE, BASED, 0x8e
    gate32_to 0x41, int_handler - BASE, BASED, 0x8e
    lidt [idtr]
    jmp BASED:(based - BASE)
based:
    mov al, 'A'
    out 0xe9, al
    mov dx, 0xe9
    mov al, 'B'
    out dx, al
    mov ecx, 0x40000002                 ; HV_X64_MSR_VP_INDEX
    rdmsr
    test eax, eax
    jz .vp_ok
    mov al, 3
    out 0xf4, al
.vp_ok:
    mov al, 'C'
    out 0xe9, al
refused:
    db 0xff, 0xd8                       ; call far eax: #UD (FF /3 needs memory)
    int 0x41
after_int:
    xor eax, eax
    out 0xf4, al
ud_handler:
    cmp dword [esp], refused - BASE
    jne bad_frame
    add dword [esp], 2
    mov al, 'D'
    out 0xe9, al
    iretd
int_handler:
    cmp dword [esp], after_int - BASE
    jne bad_frame
    mov al, 'E'
    out 0xe9, al
    iretd
bad_frame:
    mov al, 2
    out 0xf4, al
    sys32_tables 2
