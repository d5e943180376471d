; Reproducer 6: many distinct trap sites (NSITES RDTSCs in a row, 20000 by default), all
; trapped: the trace has one event per site, the guest exits 0. Set-up is O(1) a site.
bits 64
org 0x100000
%ifndef NSITES
%define NSITES 20000
%endif
%rep NSITES
    rdtsc
%endrep
    mov al, 0
    out 0xf4, al
