/* xl.cfg files as libxlu (Xen 4.5) reads them, and the keys vsbox applies. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/xlcfg.h"
#include "tests/support.h"

static char *slurp(const char *rel, size_t *len)
{
    FILE *f = fopen(src_path(rel), "rb");
    cr_assert_not_null(f, "%s", rel);
    static char buf[65536];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char *copy = malloc(*len + 1);
    memcpy(copy, buf, *len);
    copy[*len] = '\0';
    return copy;
}

static struct xlcfg parse_ok(const char *text)
{
    struct xlcfg cfg;
    struct xlcfg_error err;
    cr_assert_eq(xlcfg_parse(text, strlen(text), &cfg, &err), 0, "%u:%u: %s", err.line, err.col,
                 err.msg);
    return cfg;
}

static void parse_err(const char *text, unsigned line, unsigned col, const char *part)
{
    struct xlcfg cfg;
    struct xlcfg_error err;
    cr_assert_eq(xlcfg_parse(text, strlen(text), &cfg, &err), -1, "parsed:\n%s", text);
    cr_expect_eq(err.line, line, "line %u want %u (%s)", err.line, line, err.msg);
    cr_expect_eq(err.col, col, "col %u want %u (%s)", err.col, col, err.msg);
    cr_expect(strstr(err.msg, part), "'%s' lacks '%s'", err.msg, part);
}

static uint64_t viridian_of(const char *text)
{
    struct xlcfg cfg = parse_ok(text);
    struct xl_settings s;
    struct xlcfg_error err;
    cr_assert_eq(xlcfg_apply(&cfg, vprofile_find("xen-4.5"), &s, &err), 0, "%s", err.msg);
    cr_assert(s.have_viridian);
    xlcfg_free(&cfg);
    return s.viridian;
}

static struct xlcfg_error apply_err(const char *text)
{
    struct xlcfg cfg = parse_ok(text);
    struct xl_settings s;
    struct xlcfg_error err = { 0 };
    cr_assert_eq(xlcfg_apply(&cfg, vprofile_find("xen-4.5"), &s, &err), -1, "applied:\n%s", text);
    xlcfg_free(&cfg);
    return err;
}

Test(xlcfg, the_windows_example_reads_whole)
{
    size_t len;
    char *text = slurp("tests/data/xlcfg/win7.cfg", &len);
    struct xlcfg cfg;
    struct xlcfg_error err;
    cr_assert_eq(xlcfg_parse(text, len, &cfg, &err), 0, "%u:%u %s", err.line, err.col, err.msg);
    const struct xlcfg_entry *disk = xlcfg_get(&cfg, "disk");
    cr_assert_not_null(disk);
    cr_assert_eq(disk->value.type, XLCFG_LIST);
    cr_assert_eq(disk->value.n_items, 2, "trailing comma and comment inside the list");
    cr_assert_str_eq(disk->value.items[1].text, "/srv/iso/win7.iso,raw,hdc,cdrom");
    cr_assert_str_eq(xlcfg_get(&cfg, "on_crash")->value.text, "restart");

    struct xl_settings s;
    cr_assert_eq(xlcfg_apply(&cfg, vprofile_find("xen-4.5"), &s, &err), 0, "%s", err.msg);
    cr_assert_eq(s.viridian, 0x7, "all,!freq on 4.5: base, no_freq, time_ref_count");
    cr_assert_eq(s.vcpus, 2);
    cr_assert_eq(s.memory_mib, 2048);
    cr_assert_str_eq(s.name, "win7-x64");
    cr_assert_eq(s.n_ignored, 5); /* vif disk vnc vnclisten on_crash */
    cr_assert_str_eq(s.ignored[0], "vif");
    xlcfg_free(&cfg);
    free(text);
}

Test(xlcfg, semicolons_single_quotes_and_hex_numbers)
{
    size_t len;
    char *text = slurp("tests/data/xlcfg/boolean.cfg", &len);
    struct xlcfg cfg;
    struct xlcfg_error err;
    struct xl_settings s;
    cr_assert_eq(xlcfg_parse(text, len, &cfg, &err), 0, "%s", err.msg);
    cr_assert_eq(xlcfg_apply(&cfg, vprofile_find("xen-4.5"), &s, &err), 0, "%s", err.msg);
    cr_assert_eq(s.memory_mib, 512);
    cr_assert_eq(s.viridian, 0x5, "boolean 1 is libxl's defaults: base+freq+time_ref_count");
    cr_assert_str_eq(s.name, "legacy");
    xlcfg_free(&cfg);
    free(text);
}

Test(xlcfg, string_escapes_are_libxlus)
{
    size_t len;
    char *text = slurp("tests/data/xlcfg/escapes.cfg", &len);
    struct xlcfg cfg;
    struct xlcfg_error err;
    cr_assert_eq(xlcfg_parse(text, len, &cfg, &err), 0, "%s", err.msg);
    cr_assert_str_eq(xlcfg_get(&cfg, "name")->value.text, "tab\there \"quoted\" AA");
    cr_assert_eq(xlcfg_get(&cfg, "cpuid")->value.n_items, 0);
    xlcfg_free(&cfg);
    free(text);
}

Test(xlcfg, an_empty_file_has_no_settings)
{
    struct xlcfg cfg = parse_ok("");
    cr_assert_eq(cfg.n_entries, 0);
    cfg = parse_ok("# only a comment\n\n;\n");
    cr_assert_eq(cfg.n_entries, 0);
}

Test(xlcfg, the_last_of_a_repeated_key_wins)
{
    struct xlcfg cfg = parse_ok("memory = 128\nmemory = 256\n");
    cr_assert_eq(cfg.n_entries, 2);
    cr_assert_str_eq(xlcfg_get(&cfg, "memory")->value.text, "256");
    cr_assert_null(xlcfg_get(&cfg, "vcpus"));
    xlcfg_free(&cfg);
}

Test(xlcfg, multiline_list_positions_are_kept)
{
    struct xlcfg cfg = parse_ok("vif = [\n  'bridge=xenbr0',\n  \"bridge=xenbr1\"\n]\n");
    const struct xlcfg_value *v = &xlcfg_get(&cfg, "vif")->value;
    cr_assert_eq(v->n_items, 2);
    cr_assert_eq(v->items[1].line, 3);
    cr_assert_eq(v->items[1].col, 3);
    xlcfg_free(&cfg);
}

Test(xlcfg, syntax_errors_name_line_and_column)
{
    parse_err("name = \"broken\"\nmemory 512\n", 2, 8, "expected '=' after key 'memory'");
    parse_err("memory = 256 + 256\n", 1, 14, "not Python");
    parse_err("name = \"open\nmemory = 1\n", 1, 8, "unterminated string");
    parse_err("disk = [ 'a.img',\n  'b.img'\n", 1, 8, "unterminated list");
    parse_err("disk = [ 'a' 'b' ]\n", 1, 14, "expected ',' or ']'");
    parse_err("disk = [ [ 'a' ] ]\n", 1, 10, "lists cannot contain lists");
    parse_err("Memory = 1\n", 1, 1, "expected a setting");
    parse_err("x = 'a\\q'\n", 1, 8, "unknown escape");
    parse_err("x = 1 2\n", 1, 7, "expected a newline or ';'");
    parse_err("x = %\n", 1, 5, "expected a string, a number or a [ list ], not '%'");
}

Test(xlcfg, binary_input_is_refused)
{
    static const char bin[] = "name = 'x'\nmem\0ory = 1\n";
    struct xlcfg cfg;
    struct xlcfg_error err;
    cr_assert_eq(xlcfg_parse(bin, sizeof bin - 1, &cfg, &err), -1);
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.col, 4);
}

Test(xlcfg, viridian_values_are_libxls)
{
    cr_assert_eq(viridian_of("viridian = [ \"base\" ]"), 0x3);
    cr_assert_eq(viridian_of("viridian = [ \"base\", \"freq\" ]"), 0x1);
    cr_assert_eq(viridian_of("viridian = [ \"defaults\" ]"), 0x5);
    cr_assert_eq(viridian_of("viridian = [ \"all\", \"!freq\" ]"), 0x7);
    cr_assert_eq(viridian_of("viridian = [ ]"), 0x0);
    cr_assert_eq(viridian_of("viridian = 1"), 0x5);
    cr_assert_eq(viridian_of("viridian = 0"), 0x0);
}

Test(xlcfg, viridian_errors_are_libxls_and_point_at_the_value)
{
    struct xlcfg_error e = apply_err("builder = \"hvm\"\nviridian = [ \"freq\" ]\n");
    cr_assert_str_eq(e.msg, "base group not enabled");
    cr_assert_eq(e.line, 2);
    cr_assert_eq(e.col, 1);
    e = apply_err("viridian = [ \"!freq\", \"all\" ]");
    cr_assert_str_eq(e.msg, "freq group both enabled and disabled");
    e = apply_err("viridian = [ \"base\", \"bogus\" ]");
    cr_assert_str_eq(e.msg, "unknown viridian enlightenment 'bogus'");
    cr_assert_eq(e.col, 22, "points at the item");
    e = apply_err("viridian = 2");
    cr_assert(strstr(e.msg, "0/1"), "%s", e.msg);
    e = apply_err("viridian = [ 1 ]");
    cr_assert(strstr(e.msg, "strings"), "%s", e.msg);
}

Test(xlcfg, out_of_range_and_mistyped_values_are_refused)
{
    cr_assert(strstr(apply_err("memory = 0").msg, "memory (MiB) out of range"));
    cr_assert(strstr(apply_err("memory = 99999999999999999999").msg, "not a number"));
    cr_assert(strstr(apply_err("memory = 5000").msg, "out of range"));
    cr_assert(strstr(apply_err("vcpus = \"two\"").msg, "vcpus wants a number"));
    cr_assert(strstr(apply_err("memory = [ 1 ]").msg, "wants a number"));
    cr_assert(strstr(apply_err("vcpus = 65").msg, "out of range"));
    cr_assert_str_eq(apply_err("type = \"pv\"").msg, "vsbox runs HVM guests only (type = \"pv\")");
}

Test(xlcfg, a_boolean_host_takes_only_the_boolean_form)
{
    struct xlcfg cfg = parse_ok("viridian = [ \"base\" ]\n");
    struct xl_settings s;
    struct xlcfg_error err;
    cr_assert_eq(xlcfg_apply(&cfg, vprofile_find("xen-4.4"), &s, &err), -1);
    cr_assert_str_eq(err.msg, "host xen-4.4 takes only a boolean viridian option (0 or 1)");
    xlcfg_free(&cfg);
    cfg = parse_ok("viridian = 1\n");
    cr_assert_eq(xlcfg_apply(&cfg, vprofile_find("xen-4.4"), &s, &err), 0);
    cr_assert_eq(s.viridian, 1);
    xlcfg_free(&cfg);
}
