/* HVM_PARAM_VIRIDIAN from the inside: a guest may never change it (Xen 4.5's do_hvm_op
 * answers EPERM), and from 4.6 may not even read it (hvm_allow_get_param(): "The
 * remaining parameters should not be read by the guest"). On a pre-4.5 host the write
 * goes through: that is the hole the seed patch closed. */
#include "runtime/guest.h"

const char test_title[] = "param-lock: the guest cannot change HVM_PARAM_VIRIDIAN";

#define HVMOP_set_param 0
#define HVMOP_get_param 1
#define DOMID_SELF 0x7ff0

struct xen_hvm_param {
    uint16_t domid;
    uint32_t index;
    uint64_t value;
};

static long hvm_param(unsigned op, struct xen_hvm_param *p)
{
    return xen_hypercall2(34 /* __HYPERVISOR_hvm_op */, op, (uint64_t)(uintptr_t)p);
}

void test_main(void)
{
    struct xen_hvm_param p = { DOMID_SELF, HVM_PARAM_VIRIDIAN, 0 };
    uint32_t r[4];
    if (xen_hypercall_page_setup() != 0)
        skip("no Xen hypercall page");
    cpuid(xen_leaves() + 1, r);
    bool readable = r[0] < (4u << 16 | 6); /* Xen's version: 4.5 and older let a guest read */
    long rc = hvm_param(HVMOP_get_param, &p);
    if (readable)
        check(rc == 0, "HVMOP_get_param(HVM_PARAM_VIRIDIAN) -> %ld, value 0x%lx", rc,
              (unsigned long)p.value);
    else
        check(rc == -1, "HVMOP_get_param(HVM_PARAM_VIRIDIAN) -> %ld: Xen %u.%u refuses a guest's "
              "read with -EPERM", rc, r[0] >> 16, r[0] & 0xffff);
    uint64_t before = p.value;

    p.value = before ? 0 : 1;
    rc = hvm_param(HVMOP_set_param, &p);
    printf("  HVMOP_set_param(HVM_PARAM_VIRIDIAN, 0x%lx) -> %ld\n", (unsigned long)p.value, rc);
    check(rc == -1, "the write is refused with -EPERM");

    if (readable) {
        p.value = 0xdead;
        rc = hvm_param(HVMOP_get_param, &p);
        check(rc == 0 && p.value == before, "the value is still 0x%lx (read 0x%lx)",
              (unsigned long)before, (unsigned long)p.value);
    }
    pass();
}
