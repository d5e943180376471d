; A task gate in 32-bit protected mode (SDM vol. 3, 7.3): #GP through a task gate runs
; its handler as a task of its own (the registers its TSS holds, the error code pushed
; on its stack, NT set, the old task linked and the new one busy), and the handler's
; IRET returns to the faulting task through the link. Exit 0, or the step that failed.
bits 32
%include "sys32.inc"
%define TASKSEL 0x30
%define TASK_STACK 0x600000
%macro exit_unless 2
    j%1 %%ok
    mov al, %2
    out 0xf4, al
%%ok:
%endmacro
global _start
section .text
_start:
    sys32_entry
    tss_base TASKSEL, task
    mov ax, TSSSEL
    ltr ax
    ; the handler task: EIP, EFLAGS (IF clear), ESP, segments
    mov dword [task + 0x20], gp_task
    mov dword [task + 0x24], 2
    mov dword [task + 0x38], TASK_STACK
    mov dword [task + 0x48], KDATA      ; ES
    mov dword [task + 0x4c], KCODE      ; CS
    mov dword [task + 0x50], KDATA      ; SS
    mov dword [task + 0x54], KDATA      ; DS
    ; IDT 13: a task gate (type 5, present) naming the handler's TSS
    mov word [idt + 13 * 8 + 2], TASKSEL
    mov byte [idt + 13 * 8 + 5], 0x85
    lidt [idtr]
    mov ebx, 0x5eed
gp_site:
    mov ax, 0x1234                      ; past the GDT: #GP(0x1234)
    mov ds, ax
    ; back in the first task, after the IRET: its registers as it left them
    cmp ebx, 0x5eed
    exit_unless e, 6
    str ax
    cmp ax, TSSSEL
    exit_unless e, 7
    mov al, [gdt + TASKSEL + 5]         ; the handler's TSS is free again
    cmp al, 0x89
    exit_unless e, 8
    mov al, 0
    out 0xf4, al
gp_task:
    pop eax                             ; the error code, on the new task's stack
    cmp eax, 0x1234
    exit_unless e, 1
    cmp esp, TASK_STACK
    exit_unless e, 2
    pushfd                              ; NT set: an IRET goes back through the link
    pop eax
    test eax, 1 << 14
    exit_unless nz, 3
    movzx eax, word [task]              ; the link: the task that faulted
    cmp eax, TSSSEL
    exit_unless e, 4
    mov eax, [tss + 0x20]               ; its saved EIP: the faulting MOV
    cmp eax, gp_site + 4
    exit_unless e, 5
    add dword [tss + 0x20], 2           ; resume past the MOV
    iretd
sys32_tables 2                          ; 0x28 the first task's TSS, 0x30 the #GP handler's
section .data
align 16
task: times 104 db 0
