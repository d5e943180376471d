/* A minimal i8254: channel 0-2 counters running off the virtual clock, mode 0 and
 * rate generators, lobyte/hibyte access and the counter latch. Enough for a guest to
 * calibrate its TSC the way operating systems do. */
#ifndef VSBOX_EMU_PIT_H
#define VSBOX_EMU_PIT_H

#include <stdbool.h>
#include <stdint.h>

#define PIT_HZ 1193182ull

struct pit_channel {
    uint16_t reload;
    uint64_t start_tsc;          /* when the count was loaded */
    uint8_t mode, access;        /* access: 1 lo, 2 hi, 3 lo then hi */
    bool write_hi, read_hi;      /* next byte of a 16-bit access */
    bool latched;
    uint16_t latch;
    bool loaded;
};

struct pit {
    struct pit_channel ch[3];
};

void pit_write(struct pit *p, uint16_t port, uint8_t value, uint64_t tsc, uint32_t tsc_khz);
uint8_t pit_read(struct pit *p, uint16_t port, uint64_t tsc, uint32_t tsc_khz);

#endif
