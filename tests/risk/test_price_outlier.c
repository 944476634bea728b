/*
 * PRICE-OUTLIER: an order line priced at >= 2x or <= 0.5x (MEDIUM), >= 4x
 * or <= 0.25x (HIGH) the lower-middle median of at least 20 earlier lines
 * of the same HS-6 code, unit and currency within 180 days. The baseline
 * is usually one order of MER-SZ-0002 with 20 lines at 1,000 CNY per PCE
 * of HS 851822; the order under test is MER-SZ-0001's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define HS    "851822"
#define RULE  "PRICE-OUTLIER"
#define LINES 200

RFX_SUITE(price_outlier);

/* An order with lines (hs, unit, price) in currency; quantity 1 each. */
struct line {
    const char *hs, *unit;
    int64_t price_minor;
};

static struct fx_result order_lines(const char *merchant, const char *order_no,
                                    const char *currency, const struct line *ls, size_t n)
{
    cr_assert_leq(n, LINES);
    static Hansa__OrderItem items[LINES];
    static Hansa__OrderItem *ptrs[LINES];
    static char names[LINES][32];
    struct fx_order_doc d;
    fx_order_doc(&d, merchant, order_no, 0);
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        hansa__order_item__init(&items[i]);
        snprintf(names[i], sizeof names[i], "item %zu", i + 1);
        items[i].line_no = (uint32_t)(i + 1);
        items[i].item_name = names[i];
        items[i].hs_code = (char *)ls[i].hs;
        items[i].quantity_milli = 1000;
        items[i].unit = (char *)ls[i].unit;
        items[i].unit_price_minor = ls[i].price_minor;
        items[i].line_total_minor = ls[i].price_minor;
        ptrs[i] = &items[i];
        total += ls[i].price_minor;
    }
    d.doc.items = ptrs;
    d.doc.n_items = n;
    d.doc.goods_value_minor = total;
    d.doc.actual_paid_minor = total;
    d.doc.currency = (char *)currency;
    return tr_order_submit(&r, &d);
}

/* n lines of HS 851822 per PCE at price in CNY. */
static struct fx_result order_same(const char *merchant, const char *order_no, size_t n,
                                   int64_t price_minor)
{
    struct line ls[LINES];
    for (size_t i = 0; i < n; i++)
        ls[i] = (struct line){HS, "PCE", price_minor};
    return order_lines(merchant, order_no, "CNY", ls, n);
}

static void baseline(size_t n, int64_t price_minor)
{
    tr_ok(order_same(TR_MER2, "BASE-1", n, price_minor));
    rfx_take_none(&r, RULE);
}

Test(price_outlier, a_line_at_twice_the_median_raises_medium_with_the_ratio_as_evidence)
{
    baseline(20, 1000);
    struct fx_result res = order_same(TR_MER, "SO-1", 1, 2000);
    tr_ok(res);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_str_eq(rfx_evidence(a, "line.price_to_median_bps")->observed, "20000");
    cr_assert_str_eq(rfx_evidence(a, "line.price_to_median_bps")->expected, "> 5000 and < 20000");
    cr_assert_str_eq(rfx_evidence(a, "median.unit_price_minor")->observed, "1000 CNY");
    cr_assert_str_eq(rfx_evidence(a, "median.lines")->observed, "20");
    cr_assert_str_eq(rfx_evidence(a, "line.unit_price_minor")->observed, "2000 CNY");
    cr_assert_str_eq(rfx_evidence(a, "line.hs6_unit_currency")->observed, HS " PCE CNY");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, res.tx_id, WIRE_HASH_BYTES);
    cr_assert_eq(a->n_subjects, 1);
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER);
    cr_assert_str_eq(a->subjects[0]->id, "SO-1");
    cr_assert_eq(a->n_audience, 1);
    cr_assert(rfx_audience_has(a, TR_MER));
    cr_assert(!rfx_audience_has(a, TR_MER2), "the merchants of the baseline are not involved");
}

Test(price_outlier, just_under_twice_the_median_raises_nothing)
{
    baseline(20, 1000);
    tr_ok(order_same(TR_MER, "SO-1", 1, 1999));
    rfx_take_none(&r, RULE);
}

Test(price_outlier, four_times_the_median_raises_high_and_just_under_is_medium)
{
    baseline(20, 1000);
    tr_ok(order_same(TR_MER, "SO-1", 1, 3999));
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_MEDIUM);
    tr_ok(order_same(TR_MER, "SO-2", 1, 4000));
    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(rfx_evidence(a, "line.price_to_median_bps")->observed, "40000");
}

Test(price_outlier, half_the_median_raises_medium_a_quarter_high_and_just_above_half_nothing)
{
    baseline(20, 1000);
    tr_ok(order_same(TR_MER, "SO-1", 1, 501));
    rfx_take_none(&r, RULE);
    tr_ok(order_same(TR_MER, "SO-2", 1, 500));
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_MEDIUM);
    tr_ok(order_same(TR_MER, "SO-3", 1, 250));
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
}

Test(price_outlier, nineteen_earlier_lines_are_not_enough_for_a_median)
{
    baseline(19, 1000);
    tr_ok(order_same(TR_MER, "SO-1", 1, 10000));
    rfx_take_none(&r, RULE);
    /* SO-1's own line is the twentieth earlier line for the next order. */
    tr_ok(order_same(TR_MER, "SO-2", 1, 10000));
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
}

Test(price_outlier, the_median_of_an_even_count_is_the_lower_middle)
{
    struct line ls[20];
    for (size_t i = 0; i < 20; i++)
        ls[i] = (struct line){HS, "PCE", i < 10 ? 1000 : 3000};
    tr_ok(order_lines(TR_MER2, "BASE-1", "CNY", ls, 20));
    /* Lower middle 1,000: 2,000 is 2x. The upper middle (3,000) or the mean
     * (2,000) would see nothing. */
    tr_ok(order_same(TR_MER, "SO-1", 1, 2000));
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_str_eq(rfx_evidence(a, "median.unit_price_minor")->observed, "1000 CNY");
}

Test(price_outlier, lines_in_another_currency_or_unit_or_hs6_are_not_compared)
{
    baseline(20, 1000);
    struct line usd[] = {{HS, "PCE", 5000}};
    tr_ok(order_lines(TR_MER, "SO-USD", "USD", usd, 1));
    struct line other[] = {{HS, "KGM", 5000}, {"851821", "PCE", 5000}};
    tr_ok(order_lines(TR_MER, "SO-OTHER", "CNY", other, 2));
    rfx_take_none(&r, RULE);
}

Test(price_outlier, a_longer_hs_code_is_grouped_by_its_first_six_digits)
{
    baseline(20, 1000);
    struct line ls[] = {{"8518220090", "PCE", 1000}, {"85182200", "PCE", 2500}};
    tr_ok(order_lines(TR_MER, "SO-1", "CNY", ls, 2));
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_str_eq(rfx_evidence(a, "line.hs6_unit_currency")->observed, HS " PCE CNY");
    cr_assert(strstr(a->message, "Line 2 of order SO-1") != NULL, "%s", a->message);
}

Test(price_outlier, the_lines_of_one_order_are_not_its_own_baseline)
{
    struct line ls[21];
    for (size_t i = 0; i < 20; i++)
        ls[i] = (struct line){HS, "PCE", 1000};
    ls[20] = (struct line){HS, "PCE", 9000};
    tr_ok(order_lines(TR_MER, "SO-1", "CNY", ls, 21));
    rfx_take_none(&r, RULE);
}

Test(price_outlier, each_outlying_line_of_an_order_is_its_own_incident)
{
    baseline(20, 1000);
    struct line ls[] = {{HS, "PCE", 2000}, {HS, "PCE", 1000}, {HS, "PCE", 100}};
    tr_ok(order_lines(TR_MER, "SO-1", "CNY", ls, 3));
    Hansa__Alert *a[4];
    cr_assert_eq(rfx_take_rule(&r, RULE, a, 4), 2);
    cr_assert_eq(a[0]->severity, HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_eq(a[1]->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_arr_neq(a[0]->incident_id.data, a[1]->incident_id.data, 32);
}

Test(price_outlier, a_cancelled_order_leaves_the_baseline)
{
    baseline(20, 1000);
    tr_ok(tr_cancel(&r, TR_MER2, "BASE-1"));
    tr_ok(order_same(TR_MER, "SO-1", 1, 5000));
    rfx_take_none(&r, RULE);
}

Test(price_outlier, lines_older_than_the_window_do_not_count)
{
    baseline(20, 1000);
    rfx_advance_to(&r, r.f.time_ms + 180 * TR_DAY_MS);
    tr_ok(order_same(TR_MER, "SO-1", 1, 5000));
    rfx_take_none(&r, RULE);
}

Test(price_outlier, lines_inside_the_window_count)
{
    baseline(20, 1000);
    rfx_advance_to(&r, r.f.time_ms + 179 * TR_DAY_MS);
    tr_ok(order_same(TR_MER, "SO-1", 1, 5000));
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
}

Test(price_outlier, a_window_nobody_touches_is_deleted_when_it_expires)
{
    baseline(20, 1000);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 1);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 1);
    rfx_advance_to(&r, r.f.time_ms + 179 * TR_DAY_MS);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 1, "not yet expired");
    rfx_advance_to(&r, r.f.time_ms + 2 * TR_DAY_MS);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 0, "the window is gone");
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0, "and so is its timer");
}

Test(price_outlier, only_the_latest_lines_kept_make_the_median)
{
    rfx_reinit(&r, "[PRICE-OUTLIER]\nlines_kept = 20\n");
    baseline(20, 1000);
    tr_ok(order_same(TR_MER2, "BASE-2", 20, 3000));
    Hansa__Alert *base[24];
    cr_assert_eq(rfx_take_rule(&r, RULE, base, 24), 20, "3x the first baseline, line by line");
    tr_ok(order_same(TR_MER, "SO-1", 1, 2000)); /* 6,666 bps of 3,000 */
    rfx_take_none(&r, RULE);
    tr_ok(order_same(TR_MER, "SO-2", 1, 6000));
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_MEDIUM);
}

Test(price_outlier, thresholds_and_window_come_from_the_ruleset)
{
    rfx_reinit(&r, "[PRICE-OUTLIER]\nmin_lines = 5\nmedium_above_bps = 15000\nwindow = 1d\n"
                   "severity_medium = LOW\n");
    baseline(5, 1000);
    tr_ok(order_same(TR_MER, "SO-1", 1, 1500));
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_LOW);
    rfx_advance_to(&r, r.f.time_ms + TR_DAY_MS);
    tr_ok(order_same(TR_MER, "SO-2", 1, 1500));
    rfx_take_none(&r, RULE);
}

Test(price_outlier, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[PRICE-OUTLIER]\nenabled = false\n");
    baseline(20, 1000);
    tr_ok(order_same(TR_MER, "SO-1", 1, 5000));
    rfx_take_none(&r, RULE);
}

/* ---- several orders in one block (the rule keeps the block's windows in
 * memory and writes them once: the outcome must be that of one order per
 * block) ---- */

#define BLOCK_ORDERS 32

/* One block: n one-line orders (HS 851822, PCE, CNY) of merchant at the
 * given prices, optionally preceded by a cancellation. */
static void order_block(const char *cancel_merchant, const char *cancel_no, const char *merchant,
                        const int64_t *prices, size_t n)
{
    cr_assert_leq(n, BLOCK_ORDERS);
    static struct fx_order_doc docs[BLOCK_ORDERS];
    static Hansa__CancelOrder cancel;
    static Hansa__OrderRef ref;
    Hansa__TxBody bodies[BLOCK_ORDERS + 1], *pb[BLOCK_ORDERS + 1];
    const char *signers[BLOCK_ORDERS + 1];
    struct fx_result res[BLOCK_ORDERS + 1];
    size_t k = 0;
    if (cancel_no != NULL) {
        hansa__cancel_order__init(&cancel);
        hansa__order_ref__init(&ref);
        ref.merchant = (char *)cancel_merchant;
        ref.order_no = (char *)cancel_no;
        cancel.order = &ref;
        fx_body(&bodies[k], HANSA__TX_BODY__ACTION_CANCEL_ORDER, &cancel);
        signers[k] = cancel_merchant;
        pb[k] = &bodies[k];
        k++;
    }
    for (size_t i = 0; i < n; i++, k++) {
        char no[32];
        snprintf(no, sizeof no, "BLK-%" PRIu64 "-%zu", r.f.height, i);
        fx_order_doc(&docs[i], merchant, no, prices[i]);
        fx_body(&bodies[k], HANSA__TX_BODY__ACTION_CREATE_ORDER, &docs[i].doc);
        signers[k] = merchant;
        pb[k] = &bodies[k];
    }
    fx_block(&r.f, signers, pb, k, res);
    for (size_t i = 0; i < k; i++)
        cr_assert_eq(res[i].code, HANSA__RESULT_CODE__RESULT_OK, "tx %zu: %s", i, res[i].why);
}

Test(price_outlier, orders_earlier_in_the_same_block_are_the_baseline_of_later_ones)
{
    int64_t prices[21];
    for (size_t i = 0; i < 20; i++)
        prices[i] = 1000;
    prices[20] = 5000;
    order_block(NULL, NULL, TR_MER, prices, 21);
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    rfx_take_none(&r, RULE);
}

Test(price_outlier, the_twentieth_line_of_a_block_has_no_median_yet)
{
    int64_t prices[20];
    for (size_t i = 0; i < 19; i++)
        prices[i] = 1000;
    prices[19] = 5000;
    order_block(NULL, NULL, TR_MER, prices, 20);
    rfx_take_none(&r, RULE);
}

Test(price_outlier, a_cancellation_first_in_a_block_leaves_the_baseline_of_its_orders)
{
    baseline(20, 1000);
    int64_t prices[1] = {5000};
    order_block(TR_MER2, "BASE-1", TR_MER, prices, 1);
    rfx_take_none(&r, RULE);
}

Test(price_outlier, a_block_of_orders_leaves_one_window_with_one_timer_and_the_latest_lines)
{
    rfx_reinit(&r, "[PRICE-OUTLIER]\nlines_kept = 20\n");
    int64_t prices[BLOCK_ORDERS];
    for (size_t i = 0; i < BLOCK_ORDERS; i++)
        prices[i] = i < 12 ? 9000 : 1000; /* the 12 dearest leave as the window is trimmed */
    order_block(NULL, NULL, TR_MER2, prices, BLOCK_ORDERS);
    (void)rfx_take_rule(&r, RULE, (Hansa__Alert *[BLOCK_ORDERS]){0}, BLOCK_ORDERS);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 1);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 1, "one timer, for the window's last line");
    /* The window now holds 20 lines at 1,000: 2,000 is twice its median. */
    tr_ok(order_same(TR_MER, "SO-1", 1, 2000));
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_MEDIUM);
    /* And it expires as a whole, 180 days after that last line. */
    rfx_advance_to(&r, r.f.time_ms + 181 * TR_DAY_MS);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 0);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0);
}

Test(price_outlier, an_order_touching_many_windows_judges_each_line_against_its_own)
{
    static const char *codes[10] = {"851810", "851821", "851822", "851829", "851830",
                                    "851840", "851850", "851890", "852110", "852190"};
    struct line base[200], probe[10];
    for (size_t i = 0; i < 200; i++)
        base[i] = (struct line){codes[i % 10], "PCE", 1000 + (int64_t)(i % 10) * 100};
    tr_ok(order_lines(TR_MER2, "BASE-1", "CNY", base, 200));
    rfx_take_none(&r, RULE);
    /* Line i at 4x its own window's price: HIGH for every line. At 4x any
     * other window's median some lines would fall below it. */
    for (size_t i = 0; i < 10; i++)
        probe[i] = (struct line){codes[i], "PCE", 4 * (1000 + (int64_t)i * 100)};
    tr_ok(order_lines(TR_MER, "SO-1", "CNY", probe, 10));
    Hansa__Alert *a[12];
    cr_assert_eq(rfx_take_rule(&r, RULE, a, 12), 10);
    for (size_t i = 0; i < 10; i++)
        cr_assert_eq(a[i]->severity, HANSA__SEVERITY__SEVERITY_HIGH, "line %zu", i + 1);
}
