/*
 * The CLI's pure parts: amounts typed in major units and printed back,
 * quantities, times, cursors, enum names, hex, order lines, display width
 * and table layout, option parsing and the exit status of each SDK code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cli.h"

static char why[512];

/* ---- amounts ---- */

Test(amounts, parses_major_units_by_currency_exponent)
{
    int64_t m = 0;
    cr_assert(cli_parse_amount("150.00", "CNY", &m, why, sizeof why));
    cr_assert_eq(m, 15000);
    cr_assert(cli_parse_amount("150", "CNY", &m, why, sizeof why));
    cr_assert_eq(m, 15000);
    cr_assert(cli_parse_amount("150.5", "USD", &m, why, sizeof why));
    cr_assert_eq(m, 15050);
    cr_assert(cli_parse_amount("1500", "JPY", &m, why, sizeof why));
    cr_assert_eq(m, 1500);
    cr_assert(cli_parse_amount("1.234", "KWD", &m, why, sizeof why));
    cr_assert_eq(m, 1234);
    cr_assert(cli_parse_amount("0", "CNY", &m, why, sizeof why));
    cr_assert_eq(m, 0);
}

Test(amounts, refuses_more_decimals_than_the_currency_has)
{
    int64_t m = 7;
    cr_assert_not(cli_parse_amount("1.234", "CNY", &m, why, sizeof why));
    cr_assert(strstr(why, "CNY has 2") != NULL, "%s", why);
    cr_assert_not(cli_parse_amount("10.5", "JPY", &m, why, sizeof why));
    cr_assert_eq(m, 7, "a refused amount leaves the output alone");
}

Test(amounts, accepts_trailing_zeros_beyond_the_exponent)
{
    int64_t m = 0;
    cr_assert(cli_parse_amount("150.000", "CNY", &m, why, sizeof why));
    cr_assert_eq(m, 15000);
    cr_assert(cli_parse_amount("150.0", "JPY", &m, why, sizeof why));
    cr_assert_eq(m, 150);
}

Test(amounts, refuses_signs_exponents_separators_and_empty_text)
{
    int64_t m;
    const char *bad[] = {"-1", "+1", "1e3", "1,000.00", "", ".5", "5.", "1.2.3", " 1", "abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(cli_parse_amount(bad[i], "CNY", &m, why, sizeof why), "%s", bad[i]);
}

Test(amounts, refuses_more_than_amount_max)
{
    int64_t m;
    cr_assert(cli_parse_amount("10000000000000.00", "CNY", &m, why, sizeof why));
    cr_assert_eq(m, 1000000000000000LL);
    cr_assert_not(cli_parse_amount("10000000000000.01", "CNY", &m, why, sizeof why));
    cr_assert_not(cli_parse_amount("99999999999999999999999", "CNY", &m, why, sizeof why));
}

Test(amounts, prints_major_units_with_the_currency)
{
    char out[64];
    cli_format_amount(15000, "CNY", out, sizeof out);
    cr_assert_str_eq(out, "150.00 CNY");
    cli_format_amount(5, "USD", out, sizeof out);
    cr_assert_str_eq(out, "0.05 USD");
    cli_format_amount(1500, "JPY", out, sizeof out);
    cr_assert_str_eq(out, "1500 JPY");
    cli_format_amount(1234, "KWD", out, sizeof out);
    cr_assert_str_eq(out, "1.234 KWD");
    cli_format_amount(-250, "EUR", out, sizeof out);
    cr_assert_str_eq(out, "-2.50 EUR");
}

/* ---- quantities ---- */

Test(quantities, parse_thousandths_and_print_them_back)
{
    uint64_t q = 0;
    char out[32];
    cr_assert(cli_parse_quantity("1.5", &q));
    cr_assert_eq(q, 1500u);
    cli_format_quantity(q, out, sizeof out);
    cr_assert_str_eq(out, "1.5");
    cr_assert(cli_parse_quantity("2", &q));
    cli_format_quantity(q, out, sizeof out);
    cr_assert_str_eq(out, "2");
    cr_assert(cli_parse_quantity("0.125", &q));
    cli_format_quantity(q, out, sizeof out);
    cr_assert_str_eq(out, "0.125");
    cr_assert_not(cli_parse_quantity("0", &q), "a quantity is above 0");
    cr_assert_not(cli_parse_quantity("1.2345", &q));
}

/* ---- times ---- */

#define NOW_MS 1767225600000ull /* 2026-01-01T00:00:00Z */

Test(times, parse_iso_dates_and_times_in_utc)
{
    uint64_t ms;
    cr_assert(cli_parse_time("2026-01-01", NOW_MS, &ms, why, sizeof why), "%s", why);
    cr_assert_eq(ms, NOW_MS);
    cr_assert(cli_parse_time("2026-01-01T00:00:01Z", NOW_MS, &ms, why, sizeof why));
    cr_assert_eq(ms, NOW_MS + 1000);
    cr_assert(cli_parse_time("2026-01-01T00:00:00.250Z", NOW_MS, &ms, why, sizeof why));
    cr_assert_eq(ms, NOW_MS + 250);
    cr_assert(cli_parse_time("2026-01-01T08:00:00+08:00", NOW_MS, &ms, why, sizeof why));
    cr_assert_eq(ms, NOW_MS);
    cr_assert(cli_parse_time("2024-02-29T12:30", NOW_MS, &ms, why, sizeof why));
    cr_assert_eq(ms, 1709209800000ull);
}

Test(times, parse_now_durations_and_epoch_milliseconds)
{
    uint64_t ms;
    cr_assert(cli_parse_time("now", NOW_MS, &ms, why, sizeof why));
    cr_assert_eq(ms, NOW_MS);
    cr_assert(cli_parse_time("+90d", NOW_MS, &ms, why, sizeof why));
    cr_assert_eq(ms, NOW_MS + 90ull * 86400000u);
    cr_assert(cli_parse_time("-30m", NOW_MS, &ms, why, sizeof why));
    cr_assert_eq(ms, NOW_MS - 1800000u);
    cr_assert(cli_parse_time("@42", NOW_MS, &ms, why, sizeof why));
    cr_assert_eq(ms, 42u);
}

Test(times, refuse_impossible_dates_and_other_text)
{
    uint64_t ms;
    const char *bad[] = {"2025-02-29", "2026-13-01", "2026-01-32", "2026-01-01T24:00", "yesterday",
                         "+5y",        "+d",         "1969-12-31", "2026-1-1",         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(cli_parse_time(bad[i], NOW_MS, &ms, why, sizeof why), "%s", bad[i]);
}

Test(times, print_iso_utc_with_milliseconds)
{
    char out[64];
    cli_format_time(NOW_MS + 250, out, sizeof out);
    cr_assert_str_eq(out, "2026-01-01T00:00:00.250Z");
    cli_format_time(0, out, sizeof out);
    cr_assert_str_eq(out, "-");
}

/* ---- small values ---- */

Test(values, cursors_are_height_colon_ordinal)
{
    hansa_cursor c;
    cr_assert(cli_parse_cursor("12:3", &c));
    cr_assert_eq(c.height, 12u);
    cr_assert_eq(c.ordinal, 3u);
    cr_assert_not(cli_parse_cursor("12", &c));
    cr_assert_not(cli_parse_cursor(":3", &c));
    cr_assert_not(cli_parse_cursor("1:4294967296", &c));
}

Test(values, enum_names_are_short_full_any_case_and_never_unspecified)
{
    int v;
    cr_assert(cli_parse_enum(&hansa__severity__descriptor, "high", &v));
    cr_assert_eq(v, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert(cli_parse_enum(&hansa__severity__descriptor, "SEVERITY_CRITICAL", &v));
    cr_assert_eq(v, HANSA__SEVERITY__SEVERITY_CRITICAL);
    cr_assert(cli_parse_enum(&hansa__shipment_event_type__descriptor, "out-for-delivery", &v));
    cr_assert_eq(v, HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_OUT_FOR_DELIVERY);
    cr_assert_not(cli_parse_enum(&hansa__severity__descriptor, "UNSPECIFIED", &v));
    cr_assert_not(cli_parse_enum(&hansa__severity__descriptor, "HIGHER", &v));
    char buf[16];
    cr_assert_str_eq(cli_enum_name(&hansa__trade_mode__descriptor, 2, buf, sizeof buf),
                     "RETAIL_IMPORT");
    cr_assert_str_eq(cli_enum_name(&hansa__trade_mode__descriptor, 99, buf, sizeof buf), "99");
}

Test(values, hex_round_trips_and_ids_are_checked)
{
    uint8_t b[3] = {0x00, 0xab, 0xff}, back[3];
    char h[7];
    cli_hex(b, 3, h);
    cr_assert_str_eq(h, "00abff");
    cr_assert(cli_unhex("00ABff", back, 3));
    cr_assert_eq(memcmp(b, back, 3), 0);
    cr_assert_not(cli_unhex("00ab", back, 3));
    cr_assert_not(cli_unhex("00abfg", back, 3));
    cr_assert(cli_id_valid("MER-SZ-0001"));
    cr_assert_not(cli_id_valid("a/b"));
    cr_assert_not(cli_id_valid(""));
}

/* ---- order lines ---- */

Test(items, computes_the_line_total_from_quantity_and_price)
{
    struct cli_item it;
    char buf[256];
    cr_assert(cli_parse_item("HS=851822,desc=Bluetooth speaker,qty=2,unit=PCS,price=150.00", "CNY",
                             3, &it, buf, sizeof buf, why, sizeof why),
              "%s", why);
    cr_assert_str_eq(it.hs_code, "851822");
    cr_assert_str_eq(it.name, "Bluetooth speaker");
    cr_assert_str_eq(it.unit, "PCS");
    cr_assert_eq(it.line_no, 3u);
    cr_assert_eq(it.quantity_milli, 2000u);
    cr_assert_eq(it.unit_price_minor, 15000);
    cr_assert_eq(it.line_total_minor, 30000);
}

Test(items, keeps_escaped_commas_and_explicit_totals_and_lines)
{
    struct cli_item it;
    char buf[256];
    cr_assert(cli_parse_item("hs=940540,name=Lamp\\, solar,qty=1.5,unit=KGM,price=0.01,total=0.02,"
                             "line=7",
                             "CNY", 1, &it, buf, sizeof buf, why, sizeof why),
              "%s", why);
    cr_assert_str_eq(it.name, "Lamp, solar");
    cr_assert_eq(it.line_total_minor, 2);
    cr_assert_eq(it.line_no, 7u);
}

Test(items, refuses_a_total_that_is_not_whole_minor_units)
{
    struct cli_item it;
    char buf[256];
    cr_assert_not(cli_parse_item("hs=940540,name=x,qty=1.5,unit=KGM,price=0.01", "CNY", 1, &it, buf,
                                 sizeof buf, why, sizeof why));
    cr_assert(strstr(why, "total=") != NULL, "%s", why);
}

Test(items, names_the_missing_or_unknown_key)
{
    struct cli_item it;
    char buf[256];
    cr_assert_not(cli_parse_item("hs=1,name=x,unit=H87,price=1", "CNY", 1, &it, buf, sizeof buf,
                                 why, sizeof why));
    cr_assert(strstr(why, "qty= is missing") != NULL, "%s", why);
    cr_assert_not(cli_parse_item("hs=1,name=x,qty=1,unit=H87,price=1,colour=red", "CNY", 1, &it,
                                 buf, sizeof buf, why, sizeof why));
    cr_assert(strstr(why, "unknown key 'colour'") != NULL, "%s", why);
    cr_assert_not(cli_parse_item("just text", "CNY", 1, &it, buf, sizeof buf, why, sizeof why));
}

/* ---- tables ---- */

Test(tables, align_by_display_width_without_trailing_blanks)
{
    cr_assert_eq(cli_display_width("abc"), 3u);
    cr_assert_eq(cli_display_width("蓝牙音箱"), 8u);
    cr_assert_eq(cli_display_width("é"), 1u);
    static const char *const head[] = {"ITEM", "QTY", "NOTE"};
    struct cli_table t;
    cli_table_init(&t, 3, head);
    const char *r1[] = {"蓝牙音箱", "2", ""};
    const char *r2[] = {"lamp", "10", "fragile"};
    cli_table_row(&t, r1);
    cli_table_row(&t, r2);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cli_table_print(&t, f, NULL);
    fclose(f);
    cli_table_free(&t);
    cr_assert_str_eq(text, "ITEM      QTY  NOTE\n"
                           "蓝牙音箱  2\n"
                           "lamp      10   fragile\n");
    free(text);
}

/* ---- options ---- */

static const struct cli_opt opts[] = {
    {"order-no", CLI_OPT_VALUE, NULL}, {"pay-id", CLI_OPT_VALUE, "order-no"},
    {"item", CLI_OPT_LIST, NULL},      {"no-wait", CLI_OPT_FLAG, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};
static const struct cli_cmd cmd = {"order", "create", "", "", "", opts, 1, NULL};

static int parse(struct cli_args *a, bool *help, int argc, const char **argv)
{
    struct cli g;
    memset(&g, 0, sizeof g);
    g.err = fopen("/dev/null", "w");
    int rv = cli_parse(&g, &cmd, argc, (char **)(uintptr_t)argv, a, help);
    fclose(g.err);
    return rv;
}

Test(options, take_values_aliases_lists_and_positionals)
{
    struct cli_args a;
    bool help;
    const char *argv[] = {"--pay-id", "SO-1", "--item=a",  "--item",
                          "b",        "pos",  "--no-wait", "--json"};
    cr_assert_eq(parse(&a, &help, 8, argv), CLI_EXIT_OK);
    cr_assert_str_eq(cli_arg(&a, "order-no"), "SO-1", "an alias is stored by its canonical name");
    cr_assert_eq(cli_arg_count(&a, "item"), 2u);
    cr_assert_str_eq(cli_arg_nth(&a, "item", 1), "b");
    cr_assert(cli_flag(&a, "no-wait"));
    cr_assert(cli_flag(&a, "json"), "global options are accepted by every command");
    cr_assert_eq(a.n_pos, 1u);
    cr_assert_not(help);
}

Test(options, refuse_unknown_repeated_and_malformed_options)
{
    struct cli_args a;
    bool help;
    const char *unknown[] = {"--colour", "red"};
    cr_assert_eq(parse(&a, &help, 2, unknown), CLI_EXIT_USAGE);
    const char *twice[] = {"--order-no", "A", "--pay-id", "B"};
    cr_assert_eq(parse(&a, &help, 4, twice), CLI_EXIT_USAGE);
    const char *flag_value[] = {"--no-wait=yes"};
    cr_assert_eq(parse(&a, &help, 1, flag_value), CLI_EXIT_USAGE);
    const char *missing[] = {"--order-no"};
    cr_assert_eq(parse(&a, &help, 1, missing), CLI_EXIT_USAGE);
    const char *short_opt[] = {"-x"};
    cr_assert_eq(parse(&a, &help, 1, short_opt), CLI_EXIT_USAGE);
    const char *two_pos[] = {"a", "b"};
    cr_assert_eq(parse(&a, &help, 2, two_pos), CLI_EXIT_USAGE);
}

Test(options, let_a_repeated_global_option_count_the_last_time)
{
    struct cli_args a;
    bool help;
    const char *argv[] = {"--node", "tcp://a:1", "--node", "tcp://b:2", "-h"};
    cr_assert_eq(parse(&a, &help, 5, argv), CLI_EXIT_OK);
    cr_assert_str_eq(cli_arg(&a, "node"), "tcp://b:2");
    cr_assert(help);
}

Test(exit_status, follows_the_documented_classes)
{
    cr_assert_eq(cli_exit_of(HANSA_CODE_OK), 0);
    cr_assert_eq(cli_exit_of(HANSA_CODE_INVALID_ARGUMENT), 2);
    cr_assert_eq(cli_exit_of(HANSA_CODE_CONNECT), 3);
    cr_assert_eq(cli_exit_of(HANSA_CODE_TIMEOUT), 3);
    cr_assert_eq(cli_exit_of(HANSA_CODE_REFUSED), 4);
    cr_assert_eq(cli_exit_of(HANSA_CODE_REJECTED), 5);
    cr_assert_eq(cli_exit_of(HANSA_CODE_NOT_FOUND), 6);
    cr_assert_eq(cli_exit_of(HANSA_CODE_DENIED), 6);
    cr_assert_eq(cli_exit_of(HANSA_CODE_KEY), 1);
    cr_assert_eq(cli_exit_of(HANSA_CODE_PROTOCOL), 1);
}
