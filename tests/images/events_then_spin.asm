; Ten RDTSCs (ten trapped events), then a loop that never ends: only Ctrl-C stops it.
bits 64
org 0x100000
%rep 10
    rdtsc
%endrep
.l: jmp .l
