/* The remote TLB flush and IPI hypercalls, plain and _EX (viridian.c hvcall_flush,
 * hvcall_flush_ex, hvcall_ipi, hvcall_ipi_ex; RELEASE-4.7.0 .. RELEASE-4.22.0). Results
 * are HV_STATUS_* in RAX bits 15:0 and the reps completed in bits 43:32. */
#include <criterion/criterion.h>
#include <string.h>
#include "viridian/hvmpv.h"
#include "viridian/hypercall.h"
#include "viridian/model.h"
#include "tests/support.h"

#define IN 0x2000u


struct calls {
    int irqs;
    uint32_t irq_vcpu[64];
    uint8_t irq_vector[64];
    int flushes;
    uint32_t flush_from;
    uint64_t flush_targets;
};

static void set_irq(void *ctx, uint32_t vcpu, uint8_t vector)
{
    struct calls *c = ctx;
    c->irq_vcpu[c->irqs] = vcpu;
    c->irq_vector[c->irqs++] = vector;
}

static void flush_tlb(void *ctx, uint32_t from, uint64_t targets)
{
    struct calls *c = ctx;
    c->flushes++;
    c->flush_from = from;
    c->flush_targets = targets;
}

static struct test_ram ram;
static struct calls calls;

static struct vmodel *on(const char *host, uint32_t vcpus)
{
    memset(&ram, 0, sizeof ram);
    memset(&calls, 0, sizeof calls);
    struct vconfig cfg = { .host = vprofile_find(host), .viridian = HVMPV_base_freq,
                           .vcpus = vcpus, .mem = test_ram_ops(&ram, false),
                           .platform = { .ctx = &calls, .set_irq = set_irq,
                                         .flush_tlb = flush_tlb } };
    struct vmodel *m = NULL;
    cr_assert_not_null(cfg.host, "%s", host);
    cr_assert_eq(vmodel_create(&cfg, &m), VERR_OK);
    return m;
}

static void put(unsigned word, uint64_t v)
{
    memcpy(ram.b + IN + 8 * word, &v, 8);
}

static uint64_t call(struct vmodel *m, uint32_t vcpu, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
    uint64_t rax = 0xbad;
    cr_assert_eq(vmodel_hypercall(m, vcpu, rcx, rdx, r8, &rax), 0);
    return rax;
}

#define FAST HV_HYPERCALL_FAST_BIT
#define REPS(n) ((uint64_t)(n) << 32)

Test(hcalls, flush_arrives_in_4_7_and_answers_whatever_the_mask)
{
    put(0, 0);
    put(1, 0);             /* flags */
    put(2, 0x6);           /* vCPUs 1 and 2 */
    struct vmodel *m = on("xen-4.6", 4);
    cr_assert_eq(call(m, 0, HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN, 0),
                 HV_STATUS_INVALID_HYPERCALL_CODE);
    vmodel_destroy(m);
    /* HVMPV_hcall_remote_tlb_flush is off: Xen answers anyway (no mask test in
     * viridian_hypercall()), the bit only sets CPUID4A_HCALL_REMOTE_TLB_FLUSH. */
    m = on("xen-4.7", 4);
    put(2, 0x6);
    cr_assert_eq(call(m, 3, HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | REPS(7), IN, 0),
                 HV_STATUS_SUCCESS | REPS(7), "output.rep_complete = input.rep_count");
    cr_assert_eq(calls.flushes, 1);
    cr_assert_eq(calls.flush_from, 3);
    cr_assert_eq(calls.flush_targets, 0x6);
    vmodel_destroy(m);
}

Test(hcalls, flush_refuses_the_fast_form_and_unreadable_input)
{
    struct vmodel *m = on("xen-4.22", 4);
    /* "These hypercalls should never use the fast-call convention." */
    cr_assert_eq(call(m, 0, HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE | FAST, IN, 0),
                 HV_STATUS_INVALID_PARAMETER);
    cr_assert_eq(call(m, 0, HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, TEST_RAM - 8, 0),
                 HV_STATUS_INVALID_PARAMETER, "hvm_copy_from_guest_phys() failed");
    cr_assert_eq(calls.flushes, 0);
    /* HV_FLUSH_ALL_PROCESSORS: every vCPU that exists */
    put(1, HV_FLUSH_ALL_PROCESSORS);
    put(2, 0);
    cr_assert_eq(call(m, 0, HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN, 0), HV_STATUS_SUCCESS);
    cr_assert_eq(calls.flush_targets, 0xf);
    vmodel_destroy(m);
}

Test(hcalls, send_ipi_arrives_in_4_13_fast_or_from_memory)
{
    struct vmodel *m = on("xen-4.12", 4);
    cr_assert_eq(call(m, 0, HVCALL_SEND_IPI | FAST, 0x40, 0xf),
                 HV_STATUS_INVALID_HYPERCALL_CODE);
    vmodel_destroy(m);
    m = on("xen-4.13", 4);
    /* fast: vector in the input GPA (upper half zero), mask in the output GPA */
    cr_assert_eq(call(m, 0, HVCALL_SEND_IPI | FAST, 0x40, 0x5), HV_STATUS_SUCCESS);
    cr_assert_eq(calls.irqs, 2);
    cr_assert(calls.irq_vcpu[0] == 0 && calls.irq_vcpu[1] == 2 && calls.irq_vector[1] == 0x40);
    cr_assert_eq(call(m, 0, HVCALL_SEND_IPI | FAST, 1ull << 32 | 0x40, 0x5),
                 HV_STATUS_INVALID_PARAMETER);
    /* "if ( vector < 0x10 || vector > 0xff )" */
    cr_assert_eq(call(m, 0, HVCALL_SEND_IPI | FAST, 0x0f, 0x5), HV_STATUS_INVALID_PARAMETER);
    cr_assert_eq(call(m, 0, HVCALL_SEND_IPI | FAST, 0x100, 0x5), HV_STATUS_INVALID_PARAMETER);
    /* memory: {u32 vector; u8 target_vtl; u8 reserved_zero[3]; u64 vcpu_mask} */
    put(0, 0x41);
    put(1, 0x8);
    cr_assert_eq(call(m, 1, HVCALL_SEND_IPI, IN, 0), HV_STATUS_SUCCESS);
    cr_assert_eq(calls.irqs, 3);
    cr_assert(calls.irq_vcpu[2] == 3 && calls.irq_vector[2] == 0x41);
    put(0, 1ull << 32 | 0x41); /* target_vtl */
    cr_assert_eq(call(m, 1, HVCALL_SEND_IPI, IN, 0), HV_STATUS_INVALID_PARAMETER);
    cr_assert_eq(calls.irqs, 3);
    vmodel_destroy(m);
}

Test(hcalls, the_ex_forms_arrive_in_4_15_with_sparse_vp_sets)
{
    /* hvcall_ipi_ex input: {u32 vector; u8 vtl; u8 rsvd[3]; hv_vpset {format, valid_bank_mask,
     * bank_contents[]}}: bank 0 holds VPs 0-63. */
    struct vmodel *m = on("xen-4.14", 4);
    put(0, 0x50);
    put(1, HV_GENERIC_SET_SPARSE_4K);
    put(2, 0x1);
    put(3, 0xa);
    cr_assert_eq(call(m, 0, HVCALL_SEND_IPI_EX, IN, 0), HV_STATUS_INVALID_HYPERCALL_CODE);
    vmodel_destroy(m);
    m = on("xen-4.15", 4);
    put(0, 0x50);
    put(1, HV_GENERIC_SET_SPARSE_4K);
    put(2, 0x1);     /* one bank: 0 */
    put(3, 0xa);     /* VPs 1 and 3 */
    cr_assert_eq(call(m, 0, HVCALL_SEND_IPI_EX, IN, 0), HV_STATUS_SUCCESS);
    cr_assert_eq(calls.irqs, 2);
    cr_assert(calls.irq_vcpu[0] == 1 && calls.irq_vcpu[1] == 3);
    /* what it read: the fixed 24 bytes and one bank, for a recorder's in= */
    uint32_t n;
    const uint64_t *words = vmodel_hypercall_input(m, &n);
    cr_assert_not_null(words);
    cr_assert_eq(n, 4);
    cr_assert_eq(words[3], 0xa);
    cr_assert_eq(call(m, 0, HVCALL_SEND_IPI_EX | FAST, IN, 0), HV_STATUS_INVALID_PARAMETER);
    put(1, 2); /* neither SPARSE_4K nor ALL: -EINVAL */
    cr_assert_eq(call(m, 0, HVCALL_SEND_IPI_EX, IN, 0), HV_STATUS_INVALID_PARAMETER);
    put(1, HV_GENERIC_SET_ALL);
    calls.irqs = 0;
    cr_assert_eq(call(m, 0, HVCALL_SEND_IPI_EX, IN, 0), HV_STATUS_SUCCESS);
    cr_assert_eq(calls.irqs, 4, "HV_GENERIC_SET_ALL: every vCPU");
    /* flush_ex: {address_space, flags, hv_vpset}: the set at word 2 */
    put(0, 0);
    put(1, 0);
    put(2, HV_GENERIC_SET_SPARSE_4K);
    put(3, 0x1);
    put(4, 0x9);
    cr_assert_eq(call(m, 2, HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX | REPS(2), IN, 0),
                 HV_STATUS_SUCCESS | REPS(2));
    cr_assert_eq(calls.flush_targets, 0x9);
    vmodel_destroy(m);
}

Test(hcalls, a_recorded_input_block_stands_in_for_memory)
{
    struct vmodel *m = on("xen-4.22", 2);
    const uint64_t block[2] = { 0x60, 0x2 };
    uint64_t rax;
    cr_assert_eq(vmodel_hypercall_with(m, 0, HVCALL_SEND_IPI, 0x8000, 0, block, 2, &rax), 0);
    cr_assert_eq(rax, HV_STATUS_SUCCESS, "0x8000 is no RAM, but the record is read");
    cr_assert(calls.irqs == 1 && calls.irq_vcpu[0] == 1 && calls.irq_vector[0] == 0x60);
    cr_assert_eq(vmodel_hypercall_with(m, 0, HVCALL_SEND_IPI, 0x8000, 0, block, 0, &rax), 0);
    cr_assert_eq(rax, HV_STATUS_INVALID_PARAMETER, "in=none: the read failed");
    vmodel_destroy(m);
}

Test(hcalls, masks_past_the_vcpus_are_xsa_475_until_4_21)
{
    static const struct { const char *host; bool defect; } cases[] = {
        { "xen-4.14", false }, { "xen-4.15", true }, { "xen-4.20", true }, { "xen-4.21", false },
    };
    for (int i = 0; i < 4; i++) {
        struct vmodel *m = on(cases[i].host, 2);
        /* IPI to vCPUs 0 and 5 of a 2-vCPU domain: 4.15-4.20's send_ipi() reads
         * d->vcpu[5]; 4.13-4.14 walk the vCPUs that exist; 4.21 stops at max_vcpus. */
        cr_assert_eq(call(m, 0, HVCALL_SEND_IPI | FAST, 0x40, 0x21), HV_STATUS_SUCCESS);
        cr_assert_eq(calls.irqs, 1, "%s: only vCPU 0 exists", cases[i].host);
        cr_assert_eq(vmodel_defect(m) != NULL, cases[i].defect, "%s", cases[i].host);
        vmodel_destroy(m);
    }
}

Test(hcalls, unknown_and_unimplemented_codes)
{
    struct vmodel *m = on("xen-4.22", 1);
    cr_assert_eq(call(m, 0, HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0), HV_STATUS_SUCCESS);
    cr_assert_eq(call(m, 0, HVCALL_EXT_CALL_QUERY_CAPABILITIES, 0, 0),
                 HV_STATUS_INVALID_HYPERCALL_CODE);
    cr_assert_eq(call(m, 0, HVCALL_POST_MESSAGE, 0, 0), HV_STATUS_INVALID_HYPERCALL_CODE);
    cr_assert_eq(call(m, 0, HVCALL_SIGNAL_EVENT, 0, 0), HV_STATUS_INVALID_HYPERCALL_CODE);
    vmodel_destroy(m);
}
