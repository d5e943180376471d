/* A periodic synthetic timer, the way Windows' HAL uses one for its clock tick: map the
 * SynIC message page (HV_X64_MSR_SIMP), enable the SynIC (HV_X64_MSR_SCONTROL), route
 * SINT 2 to an interrupt vector, then program HV_X64_MSR_STIMER0_COUNT (1 ms in 100 ns
 * units) and HV_X64_MSR_STIMER0_CONFIG (enabled, periodic, SINT 2), and sleep in HLT.
 *
 * Each expiry puts an HVMSG_TIMER_EXPIRED message in SINT 2's slot of the message page
 * and raises the vector. The handler checks the message (type, payload size, timer index,
 * expiration time), frees the slot (HVMSG_NONE, then HV_X64_MSR_EOM when the message says
 * another is pending) and ends the interrupt. After TICKS interrupts the guest checks that
 * messages and interrupts match one for one, that expirations are one period apart, and
 * that none was delivered before it expired (TLFS 15.3: ExpirationTime, DeliveryTime).
 *
 * Across a save and restore Xen maps the message page again and clears it
 * (viridian_synic_load_vcpu_ctxt -> viridian_map_guest_page -> clear_page), while the
 * interrupt stays pending in the local APIC's record: a message in flight is lost and
 * its interrupt finds the slot empty. The guest sees the restore (Xen's TSC incarnation,
 * CPUID 0x40000103 EDX, goes up) and then allows one lost tick, and says so.
 *
 * Xen has a SynIC and synthetic timers from 4.13 (viridian/synic.c, viridian/time.c;
 * groups "synic" and "stimer"): run with `--viridian all` or `defaults,stimer`. Without
 * them (CPUID 0x40000003 EAX) the guest skips. */
#include "runtime/guest.h"

const char test_title[] = "synic-timer: a periodic synthetic timer delivers HVMSG_TIMER_EXPIRED messages and interrupts";

#define SINT       2u
#define VECTOR     0x50u
#define PERIOD     10000u   /* 1 ms in 100 ns units */
#define TICKS      5u

/* HV_MESSAGE: header (u32 type, u8 payload size, u8 flags, u16 reserved, u64 origin),
 * then for a timer HV_TIMER_MESSAGE_PAYLOAD (u32 index, u32 reserved, u64 expiration,
 * u64 delivery). */
struct hv_message {
    volatile uint32_t type;
    volatile uint8_t payload_size, flags;
    volatile uint8_t reserved[2];       /* Xen 4.13: flags, then the payload size */
    uint64_t origin;
    volatile uint32_t timer_index, reserved2;
    volatile uint64_t expiration, delivery;
    uint8_t rest[HV_MESSAGE_SIZE - 40];
};
#define HV_MESSAGE_FLAG_PENDING 0x1u

static uint8_t sim_page[4096] __attribute__((aligned(4096), section(".bss.page")));

static volatile unsigned interrupts, messages, empty, bad, hdr_4_13;
static uint64_t expiration[TICKS], delivery[TICKS];

static void on_sint(unsigned vector)
{
    (void)vector;
    struct hv_message *msg = (struct hv_message *)sim_page + SINT;
    interrupts++;
    if (msg->type == HVMSG_TIMER_EXPIRED) {
        if (messages < TICKS) {
            expiration[messages] = msg->expiration;
            delivery[messages] = msg->delivery;
        }
        bool pending = msg->flags & HV_MESSAGE_FLAG_PENDING;
        if (msg->payload_size != 24 && msg->reserved[1] == 24) {
            /* 4.13's own HV_MESSAGE_HEADER (fixed in 4.14 by taking hyperv-tlfs.h's) */
            hdr_4_13++;
            pending = msg->reserved[0] & HV_MESSAGE_FLAG_PENDING;
        } else if (msg->payload_size != 24) {
            bad++;
        }
        if (msg->timer_index != 0)
            bad++;
        messages++;
        msg->type = HVMSG_NONE;
        /* the TLFS's rule: with the slot free, EOM lets the next message in */
        if (pending)
            wrmsr_safe(HV_X64_MSR_EOM, 0);
    } else {
        empty++;
    }
    apic_eoi();
}

/* Xen's TSC incarnation: how many times the domain was restored (0 without Xen's leaves). */
static uint32_t incarnation(void)
{
    uint32_t r[4], base = xen_leaves();
    if (!base)
        return 0;
    cpuid_count(base + 3, 0, r);
    return r[3];
}

void test_main(void)
{
    uint32_t eax = viridian_msrs();
    if (!(eax & CPUID3A_MSR_SYNIC) || !(eax & CPUID3A_MSR_STIMER))
        skip("CPUID 0x40000003 EAX 0x%x: no SynIC or synthetic timers (Xen 4.13+, "
             "--viridian all)", eax);
    if (wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, 0x0001040a00004a61ull))
        fail("HV_X64_MSR_GUEST_OS_ID faulted");
    apic_setup();
    irq_handler(VECTOR, on_sint);

    uint64_t v = 0;
    int rc = rdmsr_safe(HV_X64_MSR_SVERSION, &v);
    check(rc == 0 && v == HV_SYNIC_SVERSION, "HV_X64_MSR_SVERSION reads %lu", (unsigned long)v);
    rc = rdmsr_safe(HV_X64_MSR_SINT0 + SINT, &v);
    check(rc == 0 && (v & HV_SINT_MASKED), "SINT%u starts masked (0x%lx)", SINT,
          (unsigned long)v);
    if (wrmsr_safe(HV_X64_MSR_SIMP, (uint64_t)(uintptr_t)sim_page | HV_PAGE_ENABLE) ||
        wrmsr_safe(HV_X64_MSR_SCONTROL, 1) ||
        wrmsr_safe(HV_X64_MSR_SINT0 + SINT, VECTOR))
        fail("a SynIC MSR write faulted");

    uint32_t inc0 = incarnation();
    uint64_t start = 0;
    rdmsr_safe(HV_X64_MSR_TIME_REF_COUNT, &start);
    uint64_t config = HV_STIMER_ENABLE | HV_STIMER_PERIODIC |
                      (uint64_t)SINT << HV_STIMER_SINTX_SHIFT;
    if (wrmsr_safe(HV_X64_MSR_STIMER0_COUNT, PERIOD) ||
        wrmsr_safe(HV_X64_MSR_STIMER0_CONFIG, config))
        fail("a synthetic timer MSR write faulted");

    /* Sleep until the ticks are in; a bounded number of wake-ups, in case none comes. */
    for (unsigned n = 0; messages < TICKS && n < 1000; n++)
        sti_hlt();
    cli();
    wrmsr_safe(HV_X64_MSR_STIMER0_CONFIG, 0);
    uint64_t end = 0;
    rdmsr_safe(HV_X64_MSR_TIME_REF_COUNT, &end);

    bool restored = incarnation() != inc0;
    printf("%u interrupts, %u messages in %lu x 100 ns%s\n", interrupts, messages,
           (unsigned long)(end - start), restored ? ", restored on the way" : "");
    check(messages >= TICKS, "%u timer messages (want %u)", messages, TICKS);
    check(!bad, "every HVMSG_TIMER_EXPIRED message: payload 24 bytes, timer 0 (%u bad)", bad);
    if (restored && empty)
        printf("  %u interrupt(s) found the slot empty: the restore cleared the message page, "
               "as Xen's viridian_map_guest_page does\n", empty);
    check(empty <= (restored ? 1u : 0u), "one message per interrupt (%u found the slot empty)",
          empty);
    check(!hdr_4_13, "message headers as the TLFS lays them out (%u had Xen 4.13's: flags "
          "at byte 6, payload size at byte 7)", hdr_4_13);
    unsigned n = messages < TICKS ? messages : TICKS;
    for (unsigned i = 0; i < n; i++) {
        printf("  tick %u: expiration %lu delivery %lu\n", i, (unsigned long)expiration[i],
               (unsigned long)delivery[i]);
        check(delivery[i] >= expiration[i], "tick %u delivered at or after its expiration", i);
        uint64_t d = i ? expiration[i] - expiration[i - 1] : PERIOD;
        if (i && restored)
            check(d % PERIOD == 0 && d <= 2 * PERIOD,
                  "tick %u expires one period (or two, across the restore) after tick %u", i,
                  i - 1);
        else if (i)
            check(d == PERIOD, "tick %u expires one period after tick %u", i, i - 1);
    }
    check(n && expiration[0] >= start + PERIOD && expiration[0] <= start + (restored ? 3 : 2) * PERIOD,
          "the first expiration is one period after the start (%lu)", (unsigned long)start);
}
