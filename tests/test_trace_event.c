/* traces/trace_event.c: the event grammar, one table row per event (docs/trace-format.md,
 * "Events" and "Reader errors"). Expected structs, columns and messages are written by
 * hand from the format, never captured from the code under test. Columns count bytes
 * from 1. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/trace_util.h"


Test(trace_events, cpuid_takes_leaf_and_subleaf_and_answers_four_registers)
{
    struct trace_item it = event("cpuid 0x40000000 0x1 -> 0x40000006 0x7263694d 0x0 0xffffffff");
    expect_event(&it.ev,
                 &(struct vevent){ .kind = VEV_CPUID, .a = { 0x40000000, 1 }, .legacy = -1 },
                 "cpuid");
    expect_result(&it, (struct vres){ VRES_REGS, { 0x40000006, 0x7263694d, 0, 0xffffffff } },
                  "cpuid");
}

Test(trace_events, rdmsr_answers_a_value_or_gp)
{
    struct trace_item it = event("rdmsr 0x40000022 -> 0x9502f900");
    expect_event(&it.ev, &(struct vevent){ .kind = VEV_RDMSR, .a = { 0x40000022 }, .legacy = -1 },
                 "rdmsr");
    expect_result(&it, (struct vres){ VRES_VALUE, { 0x9502f900 } }, "rdmsr value");
    expect_line_result("rdmsr 0x40000022 -> #GP",
                       (struct vres){ .kind = VRES_GP });
}

Test(trace_events, wrmsr_takes_a_64_bit_value_and_answers_ok_or_gp)
{
    struct trace_item it = event("wrmsr 0x40000000 0xffffffffffffffff -> ok");
    expect_event(&it.ev,
                 &(struct vevent){ .kind = VEV_WRMSR, .a = { 0x40000000, UINT64_MAX },
                                   .legacy = -1 },
                 "wrmsr");
    expect_result(&it, (struct vres){ .kind = VRES_OK }, "wrmsr ok");
    expect_line_result("wrmsr 0x40000003 0x1 -> #GP",
                       (struct vres){ .kind = VRES_GP });
}

Test(trace_events, rdtsc_answers_a_value)
{
    struct trace_item it = event("rdtsc -> 0x3e8");
    expect_event(&it.ev, &(struct vevent){ .kind = VEV_RDTSC, .legacy = -1 }, "rdtsc");
    expect_result(&it, (struct vres){ VRES_VALUE, { 1000 } }, "rdtsc");
}

Test(trace_events, hypercall_takes_rcx_rdx_r8_and_answers_rax_or_ud)
{
    struct trace_item it = event("hypercall 0x8 0x1000 0x2000 -> 0x2");
    expect_event(&it.ev,
                 &(struct vevent){ .kind = VEV_HYPERCALL, .a = { 8, 0x1000, 0x2000 },
                                   .legacy = -1 },
                 "hypercall");
    expect_result(&it, (struct vres){ VRES_VALUE, { 2 } }, "hypercall rax");
    expect_line_result("hypercall 0x8 0x0 0x0 -> #UD",
                       (struct vres){ .kind = VRES_UD });
}

Test(trace_events, param_set_names_its_writer_and_answers_ok_or_an_errno)
{
    struct trace_item it = event("param-set viridian 0x3 from=guest -> EPERM");
    expect_event(&it.ev,
                 &(struct vevent){ .kind = VEV_PARAM_SET, .a = { 3 }, .from_guest = true,
                                   .legacy = -1 },
                 "param-set from=guest");
    expect_result(&it, (struct vres){ .kind = VRES_EPERM }, "EPERM");

    it = event("param-set viridian 0x1 from=toolstack -> ok");
    expect_event(&it.ev, &(struct vevent){ .kind = VEV_PARAM_SET, .a = { 1 }, .legacy = -1 },
                 "param-set from=toolstack");
    expect_result(&it, (struct vres){ .kind = VRES_OK }, "ok");
    expect_line_result("param-set viridian 0x1 from=toolstack -> EEXIST",
                       (struct vres){ .kind = VRES_EEXIST });
    expect_line_result("param-set viridian 0x2 from=toolstack -> EINVAL",
                       (struct vres){ .kind = VRES_EINVAL });
}

Test(trace_events, param_get_answers_a_value)
{
    struct trace_item it = event("param-get viridian -> 0x1");
    expect_event(&it.ev, &(struct vevent){ .kind = VEV_PARAM_GET, .legacy = -1 }, "param-get");
    expect_result(&it, (struct vres){ VRES_VALUE, { 1 } }, "param-get");
}

Test(trace_events, advance_takes_a_tick_count_and_no_result)
{
    struct trace_item it = event("advance 2500000000");
    expect_event(&it.ev,
                 &(struct vevent){ .kind = VEV_ADVANCE, .a = { 2500000000u }, .legacy = -1 },
                 "advance");
    cr_assert_not(it.has_expect);
}

Test(trace_events, migrate_is_a_mask_stream_unless_viridian_makes_it_legacy)
{
    struct trace_item it = event("migrate host=xen-4.4 -> refused");
    expect_event(&it.ev,
                 &(struct vevent){ .kind = VEV_MIGRATE, .host = host("xen-4.4"), .legacy = -1 },
                 "migrate");
    expect_result(&it, (struct vres){ .kind = VRES_REFUSED }, "refused");

    const struct {
        const char *line;
        int legacy;
    } legacy[] = {
        { "migrate host=xen-4.5 viridian=0 -> ok", 0 },
        { "migrate host=xen-4.5 viridian=false -> ok", 0 },
        { "migrate host=xen-4.5 viridian=1 -> ok", 1 },
        { "migrate host=xen-4.5 viridian=true -> ok", 1 },
    };
    for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++) {
        it = event(legacy[i].line);
        expect_event(&it.ev,
                     &(struct vevent){ .kind = VEV_MIGRATE, .host = host("xen-4.5"),
                                       .legacy = legacy[i].legacy },
                     legacy[i].line);
        expect_result(&it, (struct vres){ .kind = VRES_OK }, legacy[i].line);
    }
}

Test(trace_events, an_event_without_a_result_expects_nothing)
{
    const char *lines[] = { "cpuid 0x40000003 0x0", "rdmsr 0x40000000", "wrmsr 0x40000000 0x0",
                            "rdtsc", "hypercall 0x1 0x2 0x3", "param-set viridian 0x1 from=guest",
                            "param-get viridian", "advance 0", "migrate host=xen-4.3" };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct trace_item it = event(lines[i]);
        cr_expect_not(it.has_expect, "%s", lines[i]);
        cr_expect_eq(it.expect.kind, VRES_NONE, "%s", lines[i]);
    }
}

Test(trace_events, a_vcpu_prefix_names_the_virtual_cpu)
{
    cr_assert_eq(event("rdtsc").ev.vcpu, 0);
    cr_assert_eq(event("v0 rdtsc").ev.vcpu, 0);
    cr_assert_eq(event("v1 rdtsc").ev.vcpu, 1);
    cr_assert_eq(event("v63 wrmsr 0x40000070 0x0 -> ok").ev.vcpu, 63);
}

Test(trace_events, fields_take_their_full_width)
{
    struct trace_item it = event("cpuid 0xffffffff 4294967295 -> 0xffffffff 0xffffffff "
                                 "0xffffffff 4294967295");
    cr_assert_eq(it.ev.a[0], 0xffffffffu);
    cr_assert_eq(it.ev.a[1], 0xffffffffu);
    cr_assert_eq(it.expect.v[3], 0xffffffffu);
    cr_assert_eq(event("rdmsr 0xffffffff").ev.a[0], 0xffffffffu);
    cr_assert_eq(event("advance 18446744073709551615").ev.a[0], UINT64_MAX);
    cr_assert_eq(event("hypercall 0xffffffffffffffff 0x0 0x0").ev.a[0], UINT64_MAX);
    cr_assert_eq(event("rdtsc -> 0xFFFFFFFFFFFFFFFF").expect.v[0], UINT64_MAX);
}

Test(trace_errors, rejects_an_unknown_event)
{
    EVENT_ERROR_AT("rdmrs 0x1", 1, "unknown event 'rdmrs'");
    EVENT_ERROR_AT("v2 RDTSC", 4, "unknown event 'RDTSC'");
    EVENT_ERROR_AT("vsbox-trace 1", 1, "unknown event 'vsbox-trace'");
}

Test(trace_errors, rejects_msr_wider_than_32_bits)
{
    EVENT_ERROR_AT("rdmsr 0x100000000", 7, "number does not fit in 32 bits");
    EVENT_ERROR_AT("rdmsr 4294967296", 7, "number does not fit in 32 bits");
    EVENT_ERROR_AT("wrmsr 0x100000000 0x0", 7, "number does not fit in 32 bits");
    /* Past 64 bits too, the field's width is what the message names. */
    EVENT_ERROR_AT("rdmsr 99999999999999999999999", 7, "number does not fit in 32 bits");
}

Test(trace_errors, rejects_leaf_and_subleaf_wider_than_32_bits)
{
    EVENT_ERROR_AT("cpuid 0x100000000 0x0", 7, "does not fit in 32 bits");
    EVENT_ERROR_AT("cpuid 0x0 0x100000000", 11, "does not fit in 32 bits");
}

Test(trace_errors, rejects_cpuid_registers_wider_than_32_bits)
{
    EVENT_ERROR_AT("cpuid 0x40000000 0x0 -> 0x1 0x2 0x3 0x100000000", 37,
                   "does not fit in 32 bits");
    EVENT_ERROR_AT("cpuid 0x40000000 0x0 -> 0x100000000 0x2 0x3 0x4", 25,
                   "does not fit in 32 bits");
}

Test(trace_errors, rejects_a_missing_argument)
{
    EVENT_ERROR_AT("rdmsr", 6, "expected an MSR number");
    EVENT_ERROR_AT("wrmsr 0x10", 11, "expected a value");
    EVENT_ERROR_AT("wrmsr 0x10   # c", 14, "expected a value");
    EVENT_ERROR_AT("wrmsr 0x10 -> ok", 12, "expected a value, not '->'");
    EVENT_ERROR_AT("cpuid 0x1", 10, "expected a subleaf");
    EVENT_ERROR_AT("hypercall 0x1 0x2 -> 0x0", 19, "expected R8");
    EVENT_ERROR_AT("advance", 8, "expected a tick count");
    EVENT_ERROR_AT("param-get", 10, "expected 'viridian'");
    EVENT_ERROR_AT("param-set viridian", 19, "expected a value");
}

Test(trace_errors, rejects_a_missing_or_malformed_result)
{
    EVENT_ERROR_AT("rdtsc ->", 9, "expected a value");
    EVENT_ERROR_AT("rdtsc -> # c", 10, "expected a value");
    EVENT_ERROR_AT("cpuid 0x1 0x0 ->", 17, "expected EAX EBX ECX EDX");
    EVENT_ERROR_AT("cpuid 0x40000000 0x0 -> 0x1 0x2 0x3", 36, "expected EDX");
    EVENT_ERROR_AT("rdtsc ->0x1", 7, "put a blank after '->'");
    EVENT_ERROR_AT("rdtsc => 0x1", 7, "unexpected '=>'");
    EVENT_ERROR_AT("rdtsc 0x1", 7, "unexpected '0x1'");
    EVENT_ERROR_AT("rdmsr 0x10 -> #gp", 15, "expected a value or #GP, not '#gp'");
    EVENT_ERROR_AT("wrmsr 0x10 0x1 -> OK", 19, "expected ok or #GP, not 'OK'");
}

Test(trace_errors, rejects_a_result_that_does_not_fit_the_event)
{
    EVENT_ERROR_AT("wrmsr 0x10 0x5 -> 0x5", 19, "expected ok or #GP, not '0x5'");
    EVENT_ERROR_AT("advance 10 -> ok", 12, "advance takes no result");
    EVENT_ERROR_AT("rdmsr 0x10 -> ok", 15, "expected a value or #GP, not 'ok'");
    EVENT_ERROR_AT("rdtsc -> #GP", 10, "expected a value, not '#GP'");
    EVENT_ERROR_AT("cpuid 0x1 0x0 -> ok", 18, "expected EAX EBX ECX EDX, not 'ok'");
    EVENT_ERROR_AT("hypercall 0x1 0x2 0x3 -> ok", 26, "expected RAX or #UD, not 'ok'");
    EVENT_ERROR_AT("param-set viridian 0x1 from=guest -> refused", 38,
                   "expected ok, EPERM, EEXIST or EINVAL, not 'refused'");
    EVENT_ERROR_AT("param-get viridian -> EEXIST", 23, "expected a value or EPERM, not 'EEXIST'");
    EVENT_ERROR_AT("poll -> 0x1", 6, "expected the SIM slots the guest holds");
    EVENT_ERROR_AT("poll 0x10000", 6, "number does not fit in 16 bits");
    EVENT_ERROR_AT("migrate host=xen-4.22 downtime=", 32, "expected a tick count");
    EVENT_ERROR_AT("hypercall 0x2 0x0 0x0 in=0x1,,0x2", 30, "expected a 64-bit word");
    EVENT_ERROR_AT("hypercall 0x2 0x0 0x0 in=0x1,zz", 30, "expected a number");
    EVENT_ERROR_AT("migrate host=xen-4.5 -> #GP", 25, "expected ok or refused, not '#GP'");
    EVENT_ERROR_AT("migrate host=xen-4.5 -> 0x1", 25, "expected ok or refused, not '0x1'");
}

Test(trace_errors, rejects_trailing_garbage)
{
    EVENT_ERROR_AT("rdtsc -> 0x1 0x2", 14, "unexpected '0x2' after the result");
    EVENT_ERROR_AT("cpuid 0x1 0x0 -> 0x1 0x2 0x3 0x4 0x5", 34, "after the result");
    EVENT_ERROR_AT("advance 10 20", 12, "unexpected '20'");
    EVENT_ERROR_AT("migrate host=xen-4.5 viridian=1 x", 33, "unexpected 'x'");
    EVENT_ERROR_AT("wrmsr 0x10 0x1 -> ok ok", 22, "after the result");
}

Test(trace_errors, rejects_a_vcpu_the_model_cannot_have)
{
    EVENT_ERROR_AT("v64 rdtsc", 1, "vCPU 64 out of range");
    EVENT_ERROR_AT("v99999999999999999999999 rdtsc", 1, "out of range");
    EVENT_ERROR_AT("v3", 3, "expected an event after 'v3'");
    EVENT_ERROR_AT("v3   # c", 6, "expected an event");
    EVENT_ERROR_AT("v3x rdtsc", 1, "unknown event 'v3x'");
}

Test(trace_errors, rejects_an_unknown_host_profile_at_its_name)
{
    EVENT_ERROR_AT("migrate host=xen-9.9", 14, "unknown host profile 'xen-9.9'");
    EVENT_ERROR_AT("config host=xen-9.9", 13, "unknown host profile 'xen-9.9'");
    EVENT_ERROR_AT("config vcpus=1 host=XEN-4.5", 21, "unknown host profile 'XEN-4.5'");
}

Test(trace_errors, rejects_a_malformed_migrate)
{
    EVENT_ERROR_AT("migrate", 8, "expected host=PROFILE");
    EVENT_ERROR_AT("migrate xen-4.5", 9, "expected host=PROFILE, not 'xen-4.5'");
    EVENT_ERROR_AT("migrate host=", 9, "expected host=PROFILE");
    EVENT_ERROR_AT("migrate host=xen-4.5 viridian=base", 31, "only a boolean");
    EVENT_ERROR_AT("migrate host=xen-4.5 viridian=", 31, "only a boolean");
}

Test(trace_errors, rejects_a_malformed_param_event)
{
    EVENT_ERROR_AT("param-set hpet 1 from=guest", 11, "unknown parameter 'hpet'");
    EVENT_ERROR_AT("param-get viridian2", 11, "unknown parameter 'viridian2'");
    EVENT_ERROR_AT("param-set viridian 0x1", 23, "expected from=toolstack or from=guest");
    EVENT_ERROR_AT("param-set viridian 1 from=dom0", 22, "expected from=toolstack or from=guest");
    EVENT_ERROR_AT("param-set viridian 1 -> ok", 22, "expected from=toolstack or from=guest");
}

Test(trace_errors, parse_event_takes_exactly_one_line)
{
    struct trace_item it;
    struct trace_error err;
    cr_assert_eq(event("rdtsc -> 0x1\n").expect.v[0], 1);
    cr_assert_eq(event("rdtsc -> 0x2\r\n").expect.v[0], 2);
    cr_assert_eq(trace_parse_event("rdtsc\nrdtsc", &it, &err), TRACE_ERR);
    cr_assert_eq(err.line, 1);
    cr_assert_eq(err.col, 6);
    cr_assert(strstr(err.msg, "line break"), "%s", err.msg);
    cr_assert_eq(trace_parse_event("", &it, &err), TRACE_ERR);
    cr_assert_eq(err.col, 1);
    cr_assert(strstr(err.msg, "expected an event"), "%s", err.msg);
    cr_assert_eq(trace_parse_event("   # just a comment", &it, &err), TRACE_ERR);
    cr_assert_eq(err.col, 4);

    static char long_line[TRACE_MAX_LINE + 10];
    memset(long_line, 'a', TRACE_MAX_LINE + 1);
    cr_assert_eq(trace_parse_event(long_line, &it, &err), TRACE_ERR);
    cr_assert_eq(err.col, TRACE_MAX_LINE + 1);
    cr_assert(strstr(err.msg, "line longer"), "%s", err.msg);
}
