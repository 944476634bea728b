/*
 * DUP-NEAR: two orders of one merchant with different numbers, the same
 * buyer commitment and currency, amounts within ±1 % of the larger, created
 * less than 3 days apart, financed at two different banks: HIGH on the pair
 * when the second of them is approved.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE   "DUP-NEAR"
#define ACT(x) HANSA__TX_BODY__ACTION_##x

RFX_SUITE(dup_near);

/* ---- helpers ---- */

/* Order (created in this block), payment and waybill of TR_MER: MATCHED,
 * with 32 bytes of buyer as the buyer and payer commitment, in currency. */
static void matched(const char *order_no, int64_t amount_minor, uint8_t buyer, const char *currency)
{
    uint8_t commit[WIRE_HASH_BYTES];
    memset(commit, buyer, sizeof commit);
    tr_matched_in(&r, TR_MER, order_no, amount_minor, currency, commit);
}

static uint64_t created_ms(const char *order_no)
{
    Hansa__Order *o = fx_get_order(&r.f, TR_MER, order_no);
    cr_assert_not_null(o);
    uint64_t t = o->created_ms;
    wire_free(o);
    return t;
}

static void open_line(const char *bank, const char *line_id, const char *currency)
{
    Hansa__OpenCreditLine a = HANSA__OPEN_CREDIT_LINE__INIT;
    a.line_id = (char *)line_id;
    a.borrower = TR_MER;
    a.currency = (char *)currency;
    a.limit_minor = 100000000;
    a.advance_rate_bps = 8000;
    a.expiry_ms = r.f.time_ms + 3 * 365 * TR_DAY_MS;
    Hansa__TxBody b;
    fx_body(&b, ACT(OPEN_CREDIT_LINE), &a);
    tr_ok(fx_submit(&r.f, bank, &b));
}

static void lines(void)
{
    open_line("BANK-A", "L-A", "CNY");
    open_line("BANK-B", "L-B", "CNY");
}

/* Request and approve fid on bank/line for one order; the approval. */
static struct fx_result finance(const char *fid, const char *bank, const char *line,
                                const char *order_no, int64_t amount_minor, const char *currency)
{
    const char *orders[] = {order_no};
    tr_ok(tr_request_in(&r, TR_MER, fid, bank, line, orders, 1, amount_minor, currency));
    return tr_must(tr_approve(&r, bank, TR_MER, fid));
}

static struct fx_result finance_cny(const char *fid, const char *bank, const char *line,
                                    const char *order_no)
{
    return finance(fid, bank, line, order_no, 50000, "CNY");
}

/* Both lines, then SO-1 (100,000 CNY, buyer 7) and SO-2, matched. */
static void two_orders(int64_t amount_minor, uint8_t buyer)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", amount_minor, buyer, "CNY");
}

/* F-1 on SO-1 at BANK-A, then F-2 on SO-2 at BANK-B. */
static void finance_at_both_banks(void)
{
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
}

/* ---- positive ---- */

Test(dup_near, two_near_identical_orders_financed_at_two_banks_are_high)
{
    lines();
    matched("SO-2", 100500, 7, "CNY");
    matched("SO-1", 100000, 7, "CNY");
    struct fx_result f1 = finance_cny("F-1", "BANK-B", "L-B", "SO-2");
    rfx_take_none(&r, RULE);
    struct fx_result f2 = finance_cny("F-2", "BANK-A", "L-A", "SO-1");

    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(a->rule_id, RULE);
    rfx_expect_incident(a, RULE, "orders/" TR_MER "/SO-1/SO-2");
    cr_assert_eq(a->n_tx_ids, 2);
    cr_assert(rfx_has_tx(a, f1.tx_id) && rfx_has_tx(a, f2.tx_id));
    cr_assert_eq(a->n_audience, 3);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "BANK-A") &&
              rfx_audience_has(a, "BANK-B"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, TR_MER, "SO-1"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, TR_MER, "SO-2"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-1"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-2"));
    rfx_expect_evidence(a, "order.order_no", "SO-2", "SO-1");
    rfx_expect_evidence(a, "order.actual_paid_minor", "100500", "100000");
    rfx_expect_evidence(a, "order.currency", "CNY", "CNY");
    rfx_expect_evidence(a, "financing.bank", "BANK-B", "BANK-A");
    rfx_expect_evidence(a, "financing.financing_id", "F-1", "F-2");
    char t1[32], t2[32];
    snprintf(t1, sizeof t1, "%llu", (unsigned long long)created_ms("SO-2"));
    snprintf(t2, sizeof t2, "%llu", (unsigned long long)created_ms("SO-1"));
    rfx_expect_evidence(a, "order.created_ms", t1, t2);
    const Hansa__AlertEvidence *e = rfx_evidence(a, "order.buyer_commitment");
    cr_assert_str_eq(e->observed, "07070707070707070707070707070707"
                                  "07070707070707070707070707070707");

    /* The same pair financed again (another financing of SO-1 at BANK-B
     * after F-2 is withdrawn) is the same incident: nothing new. */
    tr_ok(tr_reject(&r, "BANK-A", TR_MER, "F-2"));
    finance_cny("F-3", "BANK-A", "L-A", "SO-1");
    rfx_take_none(&r, RULE);
}

Test(dup_near, amounts_exactly_one_percent_of_the_larger_apart_alert)
{
    two_orders(99000, 7);
    finance_at_both_banks();
    rfx_expect_incident(rfx_take_one(&r, RULE), RULE, "orders/" TR_MER "/SO-1/SO-2");
}

Test(dup_near, orders_created_just_under_three_days_apart_alert)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    rfx_next_block_at(&r, created_ms("SO-1") + 3 * TR_DAY_MS - 1000);
    matched("SO-2", 100000, 7, "CNY");
    cr_assert_eq(created_ms("SO-2") - created_ms("SO-1"), 3 * TR_DAY_MS - 1000);
    finance_at_both_banks();
    rfx_take_one(&r, RULE);
}

Test(dup_near, a_settled_financing_still_counts_as_financed)
{
    two_orders(100000, 7);
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    tr_ok(tr_disburse(&r, "BANK-A", TR_MER, "F-1"));
    tr_ok(tr_repay(&r, "BANK-A", TR_MER, "F-1", 50000));
    Hansa__Financing *f = fx_get_financing(&r.f, TR_MER, "F-1");
    cr_assert_eq(f->status, HANSA__FINANCING_STATUS__FINANCING_STATUS_SETTLED);
    wire_free(f);
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    rfx_take_one(&r, RULE);
}

Test(dup_near, the_second_financing_may_come_long_after_creation)
{
    two_orders(100000, 7);
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    rfx_advance_to(&r, r.f.time_ms + 10 * TR_DAY_MS);
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    rfx_take_one(&r, RULE);
}

/* ---- negative ---- */

Test(dup_near, amounts_just_over_one_percent_apart_are_silent)
{
    two_orders(98999, 7);
    finance_at_both_banks();
    rfx_take_none(&r, RULE);
}

Test(dup_near, orders_created_exactly_three_days_apart_are_silent)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    rfx_next_block_at(&r, created_ms("SO-1") + 3 * TR_DAY_MS);
    matched("SO-2", 100000, 7, "CNY");
    cr_assert_eq(created_ms("SO-2") - created_ms("SO-1"), 3 * TR_DAY_MS);
    finance_at_both_banks();
    rfx_take_none(&r, RULE);
}

Test(dup_near, the_same_bank_financing_both_is_silent)
{
    lines();
    open_line("BANK-A", "L-A2", "CNY");
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 100000, 7, "CNY");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    finance_cny("F-2", "BANK-A", "L-A2", "SO-2");
    rfx_take_none(&r, RULE);
}

Test(dup_near, different_buyers_are_silent)
{
    two_orders(100000, 8);
    finance_at_both_banks();
    rfx_take_none(&r, RULE);
}

Test(dup_near, another_currency_is_silent)
{
    lines();
    open_line("BANK-B", "L-BU", "USD");
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 100000, 7, "USD");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    finance("F-2", "BANK-B", "L-BU", "SO-2", 50000, "USD");
    rfx_take_none(&r, RULE);
}

Test(dup_near, another_merchant_is_silent)
{
    lines();
    /* Same buyer (the fixture's), amount and currency, two merchants. */
    fx_matched_order(&r.f, TR_MER, "SO-1", 100000);
    fx_matched_order(&r.f, TR_MER2, "SO-2", 100000);
    tr_ok(tr_open_line(&r, "BANK-B", "L-B2", TR_MER2, 10000000, 8000));
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    const char *o2[] = {"SO-2"};
    tr_ok(tr_request(&r, TR_MER2, "F-2", "BANK-B", "L-B2", o2, 1, 50000));
    tr_ok(tr_approve(&r, "BANK-B", TR_MER2, "F-2"));
    rfx_take_none(&r, RULE);
}

Test(dup_near, a_withdrawn_approval_no_longer_counts)
{
    two_orders(100000, 7);
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    tr_ok(tr_reject(&r, "BANK-A", TR_MER, "F-1"));
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    rfx_take_none(&r, RULE);
}

Test(dup_near, an_order_cancelled_after_its_financing_settled_no_longer_counts)
{
    two_orders(100000, 7);
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    tr_ok(tr_disburse(&r, "BANK-A", TR_MER, "F-1"));
    tr_ok(tr_repay(&r, "BANK-A", TR_MER, "F-1", 50000));
    tr_ok(tr_cancel(&r, TR_MER, "SO-1"));
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    rfx_take_none(&r, RULE);
}

Test(dup_near, a_request_without_approval_is_not_financing)
{
    two_orders(100000, 7);
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    const char *o2[] = {"SO-2"};
    tr_ok(tr_request(&r, TR_MER, "F-2", "BANK-B", "L-B", o2, 1, 50000));
    rfx_take_none(&r, RULE);
    tr_ok(tr_approve(&r, "BANK-B", TR_MER, "F-2"));
    rfx_take_one(&r, RULE);
}

/* ---- the ruleset ---- */

Test(dup_near, the_window_and_tolerance_come_from_the_ruleset)
{
    rfx_reinit(&r, "[DUP-NEAR]\nwindow_ms = 1h\ntolerance_bps = 50\nseverity = CRITICAL\n");
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 99400, 7, "CNY"); /* 0.6 %: over 50 bps */
    matched("SO-3", 99500, 7, "CNY"); /* 0.5 % */
    rfx_next_block_at(&r, created_ms("SO-1") + TR_HOUR_MS);
    matched("SO-4", 100000, 7, "CNY"); /* an hour after SO-1 */
    finance_at_both_banks();
    rfx_take_none(&r, RULE);
    finance_cny("F-4", "BANK-B", "L-B", "SO-4");
    rfx_take_none(&r, RULE);
    finance_cny("F-3", "BANK-B", "L-B", "SO-3");
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    rfx_expect_incident(a, RULE, "orders/" TR_MER "/SO-1/SO-3");
}

Test(dup_near, financed_orders_are_forgotten_after_the_retention)
{
    rfx_reinit(&r, "[DUP-NEAR]\nretention_ms = 5d\n");
    two_orders(100000, 7);
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    rfx_advance_to(&r, created_ms("SO-1") + 5 * TR_DAY_MS + 1000);
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    rfx_take_none(&r, RULE);
}

Test(dup_near, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[DUP-NEAR]\nenabled = false\n");
    two_orders(100000, 7);
    finance_at_both_banks();
    rfx_take_none(&r, RULE);
}
