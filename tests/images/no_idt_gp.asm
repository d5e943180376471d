; Reads HV_X64_MSR_TSC_FREQUENCY with no IDT loaded: under --viridian base that MSR
; is a #GP with nowhere to go, so vsbox must stop with exit 3 and a report.
bits 64
org 0x100000
    mov ecx, 0x40000022
    rdmsr
    mov al, 0
    out 0xf4, al
