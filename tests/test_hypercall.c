/* Hypercall pages and hypercalls, per Xen 4.5 enable_hypercall_page(),
 * vmx_init_hypercall_page() and viridian_hypercall(). */
#include <string.h>
#include "tests/model_util.h"
#include "viridian/hvmpv.h"
#include "viridian/xen_hypercall.h"

#define RAM_SIZE 0x10000u

struct ram {
    uint8_t bytes[RAM_SIZE];
};

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
    struct ram *r = ctx;
    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return -1;
    memcpy(buf, r->bytes + gpa, len);
    return 0;
}

static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
    struct ram *r = ctx;
    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return -1;
    memcpy(r->bytes + gpa, buf, len);
    return 0;
}

static struct ram ram;

static struct vmodel *model_on_ram(uint64_t viridian)
{
    memset(&ram, 0x5a, sizeof ram);
    return model_with(viridian, (struct vmem_ops){ &ram, ram_read, ram_write });
}

Test(hypercall, enabling_the_msr_writes_xens_viridian_stub_then_int3)
{
    struct vmodel *m = model_on_ram(0x1);
    static const uint8_t stub[] = { 0x0d, 0x00, 0x00, 0x00, 0x80, /* orl $0x80000000,%eax */
                                    0x0f, 0x01, 0xc1,             /* vmcall */
                                    0xc3 };                       /* ret */
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_HYPERCALL, 0x3000 | 1), 0);
    cr_assert_arr_eq(ram.bytes + 0x3000, stub, sizeof stub);
    for (unsigned i = sizeof stub; i < 4096; i++)
        cr_assert_eq(ram.bytes[0x3000 + i], 0xcc, "byte %u", i);
    cr_assert_eq(ram.bytes[0x2fff], 0x5a);
    cr_assert_eq(ram.bytes[0x4000], 0x5a);
    vmodel_destroy(m);
}

Test(hypercall, msr_without_the_enable_bit_writes_nothing)
{
    struct vmodel *m = model_on_ram(0x1);
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_HYPERCALL, 0x3000), 0);
    cr_assert_eq(ram.bytes[0x3000], 0x5a);
    vmodel_destroy(m);
}

Test(hypercall, page_outside_ram_is_skipped_but_the_msr_keeps_its_value)
{
    struct vmodel *m = model_on_ram(0x1);
    uint64_t v;
    cr_assert_eq(vmodel_wrmsr(m, 0, HV_X64_MSR_HYPERCALL, 0x7fff0001), 0);
    cr_assert_eq(vmodel_rdmsr(m, 0, HV_X64_MSR_HYPERCALL, &v), 0);
    cr_assert_eq(v, 0x7fff0001);
    vmodel_destroy(m);
}

Test(hypercall, notify_long_spin_wait_succeeds)
{
    struct vmodel *m = model(0x1);
    uint64_t rax = 0xbad;
    cr_assert_eq(vmodel_hypercall(m, 0, HvNotifyLongSpinWait, 0, 0, &rax), 0);
    cr_assert_eq(rax, HV_STATUS_SUCCESS);
    vmodel_destroy(m);
}

Test(hypercall, unknown_call_code_is_invalid_hypercall_code)
{
    struct vmodel *m = model(0x1);
    uint64_t rax = 0;
    cr_assert_eq(vmodel_hypercall(m, 0, 0x0001, 0, 0, &rax), 0);
    cr_assert_eq(rax, 0x2);
    cr_assert_eq(vmodel_hypercall(m, 0, 0xffff, 0x1000, 0x2000, &rax), 0);
    cr_assert_eq(rax, 0x2);
    vmodel_destroy(m);
}

Test(hypercall, only_the_low_16_bits_select_the_call)
{
    /* Xen 4.5 decodes call_code from RCX[15:0] and checks no reserved field. */
    struct vmodel *m = model(0x1);
    uint64_t rax = 0xbad;
    cr_assert_eq(vmodel_hypercall(m, 0, 0x0fff000100010008ull, 0, 0, &rax), 0);
    cr_assert_eq(rax, 0);
    vmodel_destroy(m);
}

Test(hypercall, without_viridian_a_hypercall_is_ud)
{
    struct vmodel *m = model(0);
    uint64_t rax = 0;
    cr_assert_eq(vmodel_hypercall(m, 0, HvNotifyLongSpinWait, 0, 0, &rax), -1);
    vmodel_destroy(m);
}

Test(hypercall, xens_own_page_has_32_byte_slots_and_ud2_for_iret)
{
    struct vmodel *m = model_on_ram(0);
    cr_assert_eq(vmodel_wrmsr(m, 0, 0x40000000, 0x5000), 0);
    for (unsigned i = 0; i < 128; i++) {
        const uint8_t *p = ram.bytes + 0x5000 + i * 32;
        if (i == 23) {
            cr_assert_eq(p[0], 0x0f);
            cr_assert_eq(p[1], 0x0b);
            cr_assert_eq(p[2], 0x5a, "iret slot keeps the old bytes after ud2");
            continue;
        }
        const uint8_t want[] = { 0xb8, (uint8_t)i, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3 };
        cr_assert_arr_eq(p, want, sizeof want, "slot %u", i);
        cr_assert_eq(p[9], 0x5a, "bytes between slots are untouched");
    }
    vmodel_destroy(m);
}

Test(hypercall, xens_page_refuses_an_offset_or_a_frame_outside_ram)
{
    /* wrmsr_hypervisor_regs() "return 0" for both (4.5 traps.c), which 4.5's
     * vmx_msr_write_intercept() takes as done: the write is dropped, no page. */
    struct vmodel *m = model_on_ram(0);
    uint8_t before[32];
    memcpy(before, ram.bytes + 0x5000, sizeof before);
    cr_assert_eq(vmodel_wrmsr(m, 0, 0x40000000, 0x5010), 0);
    cr_assert_eq(vmodel_wrmsr(m, 0, 0x40000000, 0x100000), 0);
    cr_assert_eq(memcmp(before, ram.bytes + 0x5000, sizeof before), 0);
    vmodel_destroy(m);
    /* 4.12+ guest_wrmsr_xen(): "return X86EMUL_EXCEPTION" -> #GP. */
    struct vconfig cfg = { .host = vprofile_find("xen-4.12"), .mem = { &ram, ram_read,
                                                                       ram_write } };
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    cr_assert_eq(vmodel_wrmsr(m, 0, 0x40000000, 0x5010), -1);
    cr_assert_eq(vmodel_wrmsr(m, 0, 0x40000000, 0x100000), -1);
    vmodel_destroy(m);
}

static void put_param(uint64_t gpa, uint16_t domid, uint32_t index, uint64_t value)
{
    memset(ram.bytes + gpa, 0, 16);
    memcpy(ram.bytes + gpa, &domid, 2);
    memcpy(ram.bytes + gpa + 4, &index, 4);
    memcpy(ram.bytes + gpa + 8, &value, 8);
}

Test(xen_hypercall, a_guest_setting_hvm_param_viridian_gets_eperm)
{
    struct vmodel *m = model_on_ram(0x1);
    uint64_t rax;
    struct vevent ev;
    put_param(0x100, 0x7ff0, 9, 0x3);
    cr_assert(vmodel_xen_hypercall(m, 0, 34, 0, 0x100, &rax, &ev));
    cr_assert_eq(rax, (uint64_t)-1, "-EPERM");
    cr_assert_eq(ev.kind, VEV_PARAM_SET);
    cr_assert(ev.from_guest);
    cr_assert_eq(ev.a[0], 0x3);
    cr_assert_eq(vmodel_param(m), 0x1);
    vmodel_destroy(m);
}

Test(xen_hypercall, a_guest_may_read_hvm_param_viridian)
{
    struct vmodel *m = model_on_ram(0x3);
    uint64_t rax, value;
    struct vevent ev;
    put_param(0x200, 0x7ff0, 9, 0);
    cr_assert(vmodel_xen_hypercall(m, 0, 34, 1, 0x200, &rax, &ev));
    cr_assert_eq(rax, 0);
    memcpy(&value, ram.bytes + 0x208, 8);
    cr_assert_eq(value, 0x3);
    cr_assert_eq(ev.kind, VEV_PARAM_GET);
    vmodel_destroy(m);
}

Test(xen_hypercall, from_4_6_a_guest_may_not_read_it_either)
{
    /* 4.6 hvm_allow_get_param() (commit ec9f99e1be): "The remaining parameters should
     * not be read by the guest" -> -EPERM for HVM_PARAM_VIRIDIAN. */
    memset(&ram, 0, sizeof ram);
    struct vconfig cfg = { .host = vprofile_find("xen-4.6"), .viridian = 0x5,
                           .mem = { &ram, ram_read, ram_write } };
    struct vmodel *m = NULL;
    uint64_t rax, value = 0xdead;
    struct vevent ev;
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    put_param(0x200, 0x7ff0, 9, 0xdead);
    cr_assert(vmodel_xen_hypercall(m, 0, 34, 1, 0x200, &rax, &ev));
    cr_assert_eq(rax, (uint64_t)-1, "-EPERM");
    memcpy(&value, ram.bytes + 0x208, 8);
    cr_assert_eq(value, 0xdead, "nothing written back");
    cr_assert_eq(ev.kind, VEV_PARAM_GET);
    cr_assert(ev.from_guest);
    struct vres res;
    cr_assert(vmodel_apply(m, &ev, &res));
    cr_assert_eq(res.kind, VRES_EPERM);
    vmodel_destroy(m);
}

Test(xen_hypercall, other_calls_params_and_domains_are_refused)
{
    struct vmodel *m = model_on_ram(0x1);
    uint64_t rax;
    struct vevent ev;
    cr_assert_not(vmodel_xen_hypercall(m, 0, 12, 0, 0, &rax, &ev));
    cr_assert_eq(rax, (uint64_t)-38, "-ENOSYS for an unmodelled hypercall");
    put_param(0x100, 0x7ff0, 35, 0);
    cr_assert_not(vmodel_xen_hypercall(m, 0, 34, 0, 0x100, &rax, &ev));
    cr_assert_eq(rax, (uint64_t)-22, "-EINVAL for index >= HVM_NR_PARAMS");
    put_param(0x100, 5, 9, 0);
    cr_assert_not(vmodel_xen_hypercall(m, 0, 34, 0, 0x100, &rax, &ev));
    cr_assert_eq(rax, (uint64_t)-3, "-ESRCH for another domain");
    cr_assert_not(vmodel_xen_hypercall(m, 0, 34, 0, 0xfffff0, &rax, &ev));
    cr_assert_eq(rax, (uint64_t)-14, "-EFAULT for an argument outside RAM");
    vmodel_destroy(m);
}
