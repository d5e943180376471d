/* Group specs resolve to the HVM_PARAM_VIRIDIAN values libxl 4.5 would set
 * (tools/libxl/libxl_dom.c hvm_set_viridian_features and xl_cmdimpl.c). */
#include <criterion/criterion.h>
#include <string.h>
#include "viridian/hvmpv.h"
#include "viridian/spec.h"

static const struct vprofile *xen45(void)
{
    return vprofile_find("xen-4.5");
}

static uint64_t mask_of(const char *spec)
{
    uint64_t mask = 0xdead;
    struct vspec_error err = { 0 };
    enum verr e = vspec_parse(xen45(), spec, &mask, &err);
    cr_assert_eq(e, VERR_OK, "spec '%s' failed with %d", spec, e);
    return mask;
}

static struct vspec_error error_of(const char *spec)
{
    uint64_t mask = 0;
    struct vspec_error err = { 0 };
    cr_assert_neq(vspec_parse(xen45(), spec, &mask, &err), VERR_OK, "spec '%s' parsed", spec);
    return err;
}

Test(spec, base_alone_sets_base_and_no_freq)
{
    cr_assert_eq(mask_of("base"), HVMPV_base_freq | HVMPV_no_freq);
}

Test(spec, base_and_freq_set_only_the_base_bit)
{
    cr_assert_eq(mask_of("base,freq"), HVMPV_base_freq);
}

/* RELEASE-4.5.0 libxl_dom.c hvm_set_viridian_features(), "Enable defaults": BASE, FREQ
 * and TIME_REF_COUNT (the second patch of the series shipped in the same release). */
Test(spec, defaults_is_base_freq_and_time_ref_count)
{
    cr_assert_eq(mask_of("defaults"), 0x5);
}

Test(spec, all_enables_every_group_the_host_knows)
{
    cr_assert_eq(mask_of("all"), 0x5);
}

Test(spec, all_minus_freq_keeps_the_time_reference_counter)
{
    cr_assert_eq(mask_of("all,!freq"), 0x7);
}

Test(spec, defaults_minus_freq_and_time_ref_count_is_base_only)
{
    cr_assert_eq(mask_of("defaults,!freq,!time_ref_count"), 0x3);
}

Test(spec, boolean_true_means_defaults)
{
    cr_assert_eq(mask_of("1"), 0x5);
    cr_assert_eq(mask_of("true"), 0x5);
}

Test(spec, boolean_false_turns_viridian_off)
{
    cr_assert_eq(mask_of("0"), 0);
    cr_assert_eq(mask_of("false"), 0);
}

Test(spec, empty_xl_list_enables_nothing)
{
    cr_assert_eq(mask_of("[ ]"), 0);
}

Test(spec, xl_list_literal_is_accepted)
{
    cr_assert_eq(mask_of("[ \"all\", \"!freq\" ]"), 0x7);
    cr_assert_eq(mask_of("['base', 'freq',]"), 0x1);
}

Test(spec, later_item_overrides_earlier_disable)
{
    /* "!freq" then "freq": libxl sets it in enable and resets it in disable. */
    cr_assert_eq(mask_of("base,!freq,freq"), 0x1);
}

Test(spec, blanks_around_items_are_ignored)
{
    cr_assert_eq(mask_of(" base , freq "), 0x1);
}

Test(spec, unknown_group_is_named)
{
    struct vspec_error err = error_of("base,bogus");
    char msg[128];
    cr_assert_eq(err.code, VERR_UNKNOWN_GROUP);
    cr_assert_eq(err.col, 5);
    vspec_strerror(&err, msg, sizeof msg);
    cr_assert_str_eq(msg, "unknown viridian enlightenment 'bogus'");
}

Test(spec, disabling_an_unknown_group_names_it_without_the_bang)
{
    struct vspec_error err = error_of("all,!nope");
    cr_assert_eq(err.code, VERR_UNKNOWN_GROUP);
    cr_assert_str_eq(err.item, "nope");
}

Test(spec, groups_of_later_xen_releases_are_unknown_to_4_5)
{
    /* RELEASE-4.5.0 libxl_types.idl: base, freq, time_ref_count; reference_tsc is 4.6's. */
    cr_assert_eq(mask_of("base,time_ref_count"), 0x7);
    cr_assert_eq(error_of("base,reference_tsc").code, VERR_UNKNOWN_GROUP);
}

Test(spec, freq_without_base_is_refused)
{
    struct vspec_error err = error_of("freq");
    char msg[128];
    cr_assert_eq(err.code, VERR_BASE_NOT_ENABLED);
    vspec_strerror(&err, msg, sizeof msg);
    cr_assert_str_eq(msg, "base group not enabled");
}

Test(spec, disabling_base_from_defaults_is_refused)
{
    cr_assert_eq(error_of("defaults,!base").code, VERR_BASE_NOT_ENABLED);
}

Test(spec, disable_then_all_is_a_conflict)
{
    struct vspec_error err = error_of("!freq,all");
    char msg[128];
    cr_assert_eq(err.code, VERR_GROUP_CONFLICT);
    vspec_strerror(&err, msg, sizeof msg);
    cr_assert_str_eq(msg, "freq group both enabled and disabled");
}

Test(spec, disabling_everything_is_an_empty_set_not_an_error)
{
    cr_assert_eq(mask_of("!base,!freq"), 0);
}

Test(spec, malformed_specs_are_syntax_errors)
{
    cr_assert_eq(error_of("").code, VERR_SPEC_SYNTAX);
    cr_assert_eq(error_of("base,,freq").code, VERR_SPEC_SYNTAX);
    cr_assert_eq(error_of("[ \"base\" ").code, VERR_SPEC_SYNTAX);
    cr_assert_eq(error_of("[ \"base\" \"freq\" ]").code, VERR_SPEC_SYNTAX);
    cr_assert_eq(error_of("[ base ]").code, VERR_SPEC_SYNTAX);
    cr_assert_eq(error_of("[ \"base\" ] x").code, VERR_SPEC_SYNTAX);
}

Test(spec, items_form_matches_the_string_form)
{
    const char *items[] = { "all", "!freq" };
    uint64_t mask = 0;
    cr_assert_eq(vspec_from_items(xen45(), items, 2, &mask, NULL), VERR_OK);
    cr_assert_eq(mask, 0x7);
}

Test(spec, format_names_the_groups_of_a_mask)
{
    char buf[64];
    vspec_format(xen45(), 0x1, buf, sizeof buf);
    cr_assert_str_eq(buf, "base,freq");
    vspec_format(xen45(), 0x3, buf, sizeof buf);
    cr_assert_str_eq(buf, "base");
    vspec_format(xen45(), 0, buf, sizeof buf);
    cr_assert_str_eq(buf, "0");
}

Test(spec, a_raw_hex_value_is_taken_as_the_parameter)
{
    cr_assert_eq(mask_of("0x3"), 0x3);
    cr_assert_eq(mask_of("0X1"), 0x1);
    cr_assert_eq(error_of("0x").code, VERR_UNKNOWN_GROUP);
    cr_assert_eq(error_of("0x12345678123456789").code, VERR_UNKNOWN_GROUP);
}
