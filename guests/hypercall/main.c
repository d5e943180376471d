/* The hypercall page, a call that works, and the status for an unknown call code. */
#include "runtime/guest.h"

const char test_title[] = "hypercall: page, HvNotifyLongSpinWait, unknown call codes";

void test_main(void)
{
    if (!viridian_present())
        skip("no viridian: no hypercall page to install");
    check(wrmsr_safe(HV_X64_MSR_GUEST_OS_ID, 0x0001040601001db0ull) == 0, "set the guest OS id");
    check(hypercall_page_setup() == 0, "install the hypercall page");
    uint64_t s = hypercall(0x0008, 0, 0);
    check(s == 0x0, "HvNotifyLongSpinWait -> 0x%lx (HV_STATUS_SUCCESS)", (unsigned long)s);
    s = hypercall(0x0001, 0, 0);
    check((s & 0xffff) == 0x2, "call code 0x1 -> 0x%lx (HV_STATUS_INVALID_HYPERCALL_CODE)", (unsigned long)s);
    s = hypercall(0xffff, 0x1000, 0x2000);
    check((s & 0xffff) == 0x2, "call code 0xffff -> 0x%lx (HV_STATUS_INVALID_HYPERCALL_CODE)", (unsigned long)s);
    pass();
}
