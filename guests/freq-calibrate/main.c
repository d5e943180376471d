/* Calibrate the TSC against the PIT, as an OS without the frequency MSR must, and
 * compare with HV_X64_MSR_TSC_FREQUENCY: the reason the freq group exists. */
#include "runtime/guest.h"

const char test_title[] = "freq-calibrate: TSC against the PIT, and the frequency MSR";

#define PIT_HZ 1193182u
#define PIT_TICKS 11932u   /* 10 ms */

/* Channel 0 needs no gate (channel 2 would need port 0x61); interrupts stay off,
 * so its terminal count raises nothing. */
static uint16_t pit_read(void)
{
    outb(0x43, 0x00);      /* counter latch, channel 0 */
    uint8_t lo = inb(0x40);
    uint8_t hi = inb(0x40);
    return (uint16_t)(hi << 8 | lo);
}

void test_main(void)
{
    /* Channel 0, lobyte/hibyte, mode 0 (interrupt on terminal count), binary. */
    outb(0x43, 0x30);
    outb(0x40, PIT_TICKS & 0xff);
    outb(0x40, PIT_TICKS >> 8);
    uint64_t t0 = rdtsc();
    unsigned reads = 0;
    uint16_t now;
    do {
        now = pit_read();
        reads++;
    } while (now != 0 && now <= PIT_TICKS && reads < 1000000);
    uint64_t t1 = rdtsc();
    if (reads >= 1000000)
        fail("the PIT never reached its terminal count");
    uint64_t khz = (t1 - t0) * PIT_HZ / PIT_TICKS / 1000;
    printf("  calibrated: %lu TSC ticks over %u PIT ticks (%u reads) = %lu kHz\n",
           (unsigned long)(t1 - t0), PIT_TICKS, reads, (unsigned long)khz);

    uint64_t hz;
    if (rdmsr_safe(HV_X64_MSR_TSC_FREQUENCY, &hz) != 0) {
        printf("  HV_X64_MSR_TSC_FREQUENCY: #GP (freq group off); the calibration is all we have\n");
        check(khz > 0, "calibration produced a rate");
        pass();
    }
    uint64_t msr_khz = hz / 1000;
    uint64_t diff = msr_khz > khz ? msr_khz - khz : khz - msr_khz;
    printf("  HV_X64_MSR_TSC_FREQUENCY: %lu kHz; calibration off by %lu kHz\n",
           (unsigned long)msr_khz, (unsigned long)diff);
    check(diff * 100 <= msr_khz, "calibration agrees with the MSR within 1%%");
    pass();
}
