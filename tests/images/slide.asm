bits 64
; Reproducer 10: a guest of one NOP falls off its code into zeroed RAM. vsbox stops it
; at the first page of nothing but zeros (exit 3, "empty memory") instead of sliding.
    nop
