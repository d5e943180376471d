#!/usr/bin/env bash
# fuzz/qemu/run.sh STUB IMAGE: run a flat 64-bit test image (loaded at 0x100000) on
# qemu-system-x86_64 in TCG mode, entered through STUB (boot.asm, built by CMake) into
# vsbox's boot state. Prints the 0xE9 console, then one line:
#   EXIT n      the image wrote n to port 0xF4 (QEMU's isa-debug-exit there)
#   SHUTDOWN    the CPU shut down (a triple fault; -no-reboot turns the reset into exit)
#   HALT        no exit within the time allowed: the image halted (or looped)
# -icount: QEMU's clock follows the instructions it ran, not the host's, so the APIC
# timer fires at the same instruction on a loaded machine (without it, apic_timer.bin
# ended in SHUTDOWN about one run in six while two other jobs ran).
set -u
stub=$1 image=$2
out=$(timeout "${QEMU_SECONDS:-5}" qemu-system-x86_64 -machine pc,accel=tcg -cpu qemu64 -m 16 -icount shift=0,sleep=off \
        -display none -no-reboot -monitor none -serial none -parallel none -net none \
        -kernel "$stub" -device "loader,file=$image,addr=0x100000,force-raw=on" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x01 -debugcon file:/dev/stdout 2>/dev/null)
status=$?
printf '%s' "$out"
[ -n "$out" ] && echo
case $status in
    124) echo HALT ;;
    0) echo SHUTDOWN ;;
    *) echo "EXIT $(( (status - 1) / 2 ))" ;;
esac
