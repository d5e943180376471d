; Never halts, never traps: only --budget (or --timeout) ends it.
bits 64
org 0x100000
.l: jmp .l
