/*
 * OVER-ADVANCE: a financing approved above the prudential cap (default
 * 9,000 bps of actual_paid, pro rata over the financing's orders) alerts
 * HIGH on each order at approval. The ledger lets a line's advance rate go
 * up to 10,000 bps, so the lines here allow 9,500 or 10,000 bps and the
 * ledger approves what the rule flags.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE "OVER-ADVANCE"

RFX_SUITE(over_advance);

/* ---- helpers ---- */

/* Request fid on BANK-A's L-A against orders; returns the approval. */
static struct fx_result approve_on(const char *fid, const char *const *orders, size_t n,
                                   int64_t amount_minor)
{
    tr_ok(tr_request(&r, TR_MER, fid, "BANK-A", "L-A", orders, n, amount_minor));
    rfx_take_none(&r, RULE); /* a request alone is not financing */
    return tr_approve(&r, "BANK-A", TR_MER, fid);
}

static void line_at(uint32_t rate_bps)
{
    tr_ok(tr_open_line(&r, "BANK-A", "L-A", TR_MER, 100000000, rate_bps));
}

/* ---- positive ---- */

Test(over_advance, approval_above_the_cap_on_one_order_is_high)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    line_at(9500);
    const char *orders[] = {"SO-1"};
    struct fx_result res = approve_on("F-1", orders, 1, 95000);
    tr_ok(res);

    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(a->rule_id, RULE);
    rfx_expect_incident(a, RULE, "order/" TR_MER "/SO-1");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, res.tx_id, 32, "the approval is the evidence");
    cr_assert_eq(a->n_audience, 2);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "BANK-A"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, TR_MER, "SO-1"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-1"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, "BANK-A", "L-A"));
    rfx_expect_evidence(a, "order.financed_share_minor", "90000", "95000");
    rfx_expect_evidence(a, "financing.advance_bps", "9000", "9500");
    rfx_expect_evidence(a, "order.actual_paid_minor", "", "100000");
    rfx_expect_evidence(a, "financing.amount_minor", "", "95000");
    rfx_expect_evidence(a, "credit_line.advance_rate_bps", "", "9500");
    cr_assert(strstr(a->message, "SO-1") != NULL, "%s", a->message);
}

Test(over_advance, one_minor_unit_above_the_cap_alerts)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    line_at(10000);
    const char *orders[] = {"SO-1"};
    tr_ok(approve_on("F-1", orders, 1, 90001));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    rfx_expect_evidence(a, "order.financed_share_minor", "90000", "90001");
    rfx_expect_evidence(a, "financing.advance_bps", "9000", "9001");
}

Test(over_advance, a_financing_over_several_orders_counts_pro_rata_against_each)
{
    tr_matched(&r, TR_MER, "SO-1", 10000);
    tr_matched(&r, TR_MER, "SO-2", 30000);
    line_at(10000);
    const char *orders[] = {"SO-1", "SO-2"};
    /* 36,001 over 40,000: 9,000.25 on SO-1 and 27,000.75 on SO-2. */
    tr_ok(approve_on("F-1", orders, 2, 36001));
    Hansa__Alert *a[4];
    cr_assert_eq(rfx_take_rule(&r, RULE, a, 4), 2);
    rfx_expect_incident(a[0], RULE, "order/" TR_MER "/SO-1");
    rfx_expect_evidence(a[0], "order.financed_share_minor", "9000", "9000");
    rfx_expect_evidence(a[0], "order.actual_paid_minor", "", "10000");
    rfx_expect_incident(a[1], RULE, "order/" TR_MER "/SO-2");
    rfx_expect_evidence(a[1], "order.financed_share_minor", "27000", "27000");
    rfx_expect_evidence(a[1], "financing.advance_bps", "9000", "9001");
}

/* ---- negative ---- */

Test(over_advance, exactly_the_cap_is_silent)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    line_at(10000);
    const char *orders[] = {"SO-1"};
    tr_ok(approve_on("F-1", orders, 1, 90000));
    rfx_take_none(&r, RULE);
}

Test(over_advance, several_orders_at_the_cap_in_total_are_silent)
{
    tr_matched(&r, TR_MER, "SO-1", 10000);
    tr_matched(&r, TR_MER, "SO-2", 30000);
    line_at(10000);
    const char *orders[] = {"SO-1", "SO-2"};
    tr_ok(approve_on("F-1", orders, 2, 36000));
    rfx_take_none(&r, RULE);
}

Test(over_advance, a_request_rejected_by_the_bank_is_silent)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    line_at(10000);
    const char *orders[] = {"SO-1"};
    tr_ok(tr_request(&r, TR_MER, "F-1", "BANK-A", "L-A", orders, 1, 100000));
    tr_ok(tr_reject(&r, "BANK-A", TR_MER, "F-1"));
    rfx_take_none(&r, RULE);
}

Test(over_advance, the_cap_comes_from_the_ruleset)
{
    rfx_reinit(&r, "[OVER-ADVANCE]\ncap_bps = 9500\nseverity = CRITICAL\n");
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_matched(&r, TR_MER, "SO-2", 100000);
    line_at(10000);
    const char *o1[] = {"SO-1"}, *o2[] = {"SO-2"};
    tr_ok(approve_on("F-1", o1, 1, 95000));
    rfx_take_none(&r, RULE);
    tr_ok(approve_on("F-2", o2, 1, 95001));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    rfx_expect_evidence(a, "financing.advance_bps", "9500", "9501");
}

Test(over_advance, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[OVER-ADVANCE]\nenabled = false\n");
    tr_matched(&r, TR_MER, "SO-1", 100000);
    line_at(10000);
    const char *orders[] = {"SO-1"};
    tr_ok(approve_on("F-1", orders, 1, 100000));
    rfx_take_none(&r, RULE);
}
