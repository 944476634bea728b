/*
 * EXPOSURE: at a disbursement, the borrower's outstanding across all banks
 * (in the financing's currency) above 15,000 bps of the amount_paid of its
 * orders' payments recorded in the last 90 days is HIGH, one incident per
 * borrower and ISO week (UTC+8).
 *
 * Financing is capped by the advance rate, so outstanding only outgrows the
 * payments when the financed orders were paid before the window: the
 * scenarios pay "old" orders first, let 91 days pass, then finance them.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "rule.h"
#include "trade.h"

#define RULE "EXPOSURE"

RFX_SUITE(exposure);

/* ---- helpers ---- */

static void lines(void)
{
    tr_ok(tr_open_line(&r, "BANK-A", "L-A", TR_MER, 100000000, 8000));
    tr_ok(tr_open_line(&r, "BANK-B", "L-B", TR_MER, 100000000, 8000));
}

/* Request and approve fid on bank's line for one order (not disbursed). */
static void approved(const char *fid, const char *bank, const char *order_no, int64_t amount_minor)
{
    const char *orders[] = {order_no};
    const char *line = strcmp(bank, "BANK-A") == 0 ? "L-A" : "L-B";
    tr_ok(tr_request_approve(&r, TR_MER, fid, bank, line, orders, 1, amount_minor));
}

static struct fx_result disbursed(const char *fid, const char *bank, const char *order_no,
                                  int64_t amount_minor)
{
    approved(fid, bank, order_no, amount_minor);
    return tr_must(tr_disburse(&r, bank, TR_MER, fid));
}

/* Old orders SO-1 and SO-4 (100,000 each, paid now), then 91 days pass:
 * their payments leave the window. */
static void old_orders(void)
{
    lines();
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_matched(&r, TR_MER, "SO-4", 100000);
    rfx_advance_to(&r, r.f.time_ms + 91 * TR_DAY_MS);
}

static uint64_t payment_recorded_ms(const char *order_no)
{
    char key[128];
    snprintf(key, sizeof key, "payment/PAY-0001/PAY-%s", order_no);
    Hansa__Payment *p = fx_get(&r.f, &hansa__payment__descriptor, key);
    cr_assert_not_null(p);
    uint64_t t = p->recorded_ms;
    wire_free(p);
    return t;
}

/* ---- positive ---- */

Test(exposure, outstanding_across_two_banks_above_the_cap_at_disbursement_is_high)
{
    old_orders();
    tr_matched(&r, TR_MER, "SO-2", 50000); /* in the window: cap 75,000 */
    disbursed("F-1", "BANK-A", "SO-1", 40000);
    rfx_take_none(&r, RULE);
    struct fx_result res = disbursed("F-2", "BANK-B", "SO-4", 40000);

    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(a->rule_id, RULE);
    char week[12], dedup[64];
    risk_iso_week(a->block_time_ms, week);
    cr_assert_str_eq(week, "2026-W16", "91 days after 2026-01-15");
    snprintf(dedup, sizeof dedup, "borrower/%s/%s", TR_MER, week);
    rfx_expect_incident(a, RULE, dedup);
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, res.tx_id, 32, "the disbursement is the evidence");
    cr_assert_eq(a->n_audience, 2, "the other lending bank is not named");
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "BANK-B"));
    cr_assert(!rfx_audience_has(a, "BANK-A"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY, "", TR_MER));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-2"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, "BANK-B", "L-B"));
    rfx_expect_evidence(a, "borrower.outstanding_minor", "75000", "80000");
    rfx_expect_evidence(a, "payments.amount_paid_minor", "", "50000");
    rfx_expect_evidence(a, "borrower.outstanding_bps", "15000", "16000");
    rfx_expect_evidence(a, "financing.amount_minor", "", "40000");
    rfx_expect_evidence(a, "currency", "", "CNY");
    cr_assert(strstr(a->message, "80000") != NULL, "%s", a->message);
}

Test(exposure, a_payment_exactly_ninety_days_old_no_longer_counts)
{
    lines();
    tr_matched(&r, TR_MER, "SO-1", 100000);
    approved("F-1", "BANK-A", "SO-1", 80000);
    rfx_next_block_at(&r, payment_recorded_ms("SO-1") + 90 * TR_DAY_MS);
    tr_ok(tr_disburse(&r, "BANK-A", TR_MER, "F-1"));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    rfx_expect_evidence(a, "borrower.outstanding_minor", "0", "80000");
    rfx_expect_evidence(a, "payments.amount_paid_minor", "", "0");
    cr_assert_null(rfx_evidence(a, "borrower.outstanding_bps"));
}

Test(exposure, payments_in_another_currency_do_not_count)
{
    old_orders();
    tr_matched_in(&r, TR_MER, "SO-U", 1000000, "USD", NULL);
    disbursed("F-1", "BANK-A", "SO-1", 80000);
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    rfx_expect_evidence(a, "payments.amount_paid_minor", "", "0");
    rfx_expect_evidence(a, "currency", "", "CNY");
}

Test(exposure, a_cancelled_orders_payment_leaves_the_window)
{
    old_orders();
    tr_matched(&r, TR_MER, "SO-2", 60000); /* cap 90,000 */
    disbursed("F-1", "BANK-A", "SO-1", 40000);
    rfx_take_none(&r, RULE);
    tr_ok(tr_cancel(&r, TR_MER, "SO-2"));
    disbursed("F-2", "BANK-B", "SO-4", 10000);
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    rfx_expect_evidence(a, "borrower.outstanding_minor", "0", "50000");
    rfx_expect_evidence(a, "payments.amount_paid_minor", "", "0");
}

Test(exposure, one_incident_per_borrower_and_week_at_utc_plus_8)
{
    lines();
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_matched(&r, TR_MER, "SO-4", 100000);
    tr_matched(&r, TR_MER, "SO-5", 100000);
    /* Monday 2026-04-20 00:00 at UTC+8 = Sunday 16:00 UTC (week 16 in UTC). */
    const uint64_t monday_ms = UINT64_C(1776614400000);
    rfx_advance_to(&r, monday_ms - 2 * TR_DAY_MS);
    approved("F-1", "BANK-A", "SO-1", 10000);
    approved("F-2", "BANK-A", "SO-4", 10000);
    approved("F-3", "BANK-B", "SO-5", 10000);
    rfx_take_none(&r, RULE);

    rfx_next_block_at(&r, monday_ms - 2000);
    tr_ok(tr_disburse(&r, "BANK-A", TR_MER, "F-1"));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    rfx_expect_incident(a, RULE, "borrower/" TR_MER "/2026-W16");

    /* Same week, still over: the open incident absorbs it. */
    tr_ok(tr_disburse(&r, "BANK-A", TR_MER, "F-2"));
    rfx_take_none(&r, RULE);

    cr_assert_eq(r.f.time_ms, monday_ms, "the next block is at Monday 00:00 UTC+8");
    tr_ok(tr_disburse(&r, "BANK-B", TR_MER, "F-3"));
    Hansa__Alert *b = rfx_take_one(&r, RULE);
    cr_assert_eq(b->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(b->event_no, 0);
    rfx_expect_incident(b, RULE, "borrower/" TR_MER "/2026-W17");
    rfx_expect_evidence(b, "borrower.outstanding_minor", "0", "30000");
}

/* ---- negative ---- */

Test(exposure, outstanding_exactly_at_the_cap_is_silent)
{
    old_orders();
    tr_matched(&r, TR_MER, "SO-2", 50000);
    disbursed("F-1", "BANK-A", "SO-1", 35000);
    disbursed("F-2", "BANK-B", "SO-4", 40000);
    rfx_take_none(&r, RULE);
}

Test(exposure, a_payment_just_under_ninety_days_old_still_counts)
{
    lines();
    tr_matched(&r, TR_MER, "SO-1", 100000);
    approved("F-1", "BANK-A", "SO-1", 80000);
    rfx_next_block_at(&r, payment_recorded_ms("SO-1") + 90 * TR_DAY_MS - 1000);
    tr_ok(tr_disburse(&r, "BANK-A", TR_MER, "F-1"));
    rfx_take_none(&r, RULE);
}

Test(exposure, repayments_lower_the_outstanding)
{
    old_orders();
    tr_matched(&r, TR_MER, "SO-2", 50000);
    disbursed("F-1", "BANK-A", "SO-1", 40000);
    tr_ok(tr_repay(&r, "BANK-A", TR_MER, "F-1", 30000));
    disbursed("F-2", "BANK-B", "SO-4", 40000); /* 10,000 + 40,000 */
    rfx_take_none(&r, RULE);
}

Test(exposure, the_cap_and_window_come_from_the_ruleset)
{
    rfx_reinit(&r, "[EXPOSURE]\ncap_bps = 20000\n");
    old_orders();
    tr_matched(&r, TR_MER, "SO-2", 50000); /* cap 100,000 */
    disbursed("F-1", "BANK-A", "SO-1", 40000);
    disbursed("F-2", "BANK-B", "SO-4", 40000);
    rfx_take_none(&r, RULE);

    rfx_reinit(&r, "[EXPOSURE]\nwindow_ms = 100d\nseverity = CRITICAL\n");
    old_orders(); /* 91 days: still in a 100-day window */
    disbursed("F-1", "BANK-A", "SO-1", 80000);
    rfx_take_none(&r, RULE);
    rfx_advance_to(&r, r.f.time_ms + 10 * TR_DAY_MS);
    disbursed("F-2", "BANK-B", "SO-4", 10000);
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    rfx_expect_evidence(a, "payments.amount_paid_minor", "", "0");
}

Test(exposure, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[EXPOSURE]\nenabled = false\n");
    old_orders();
    disbursed("F-1", "BANK-A", "SO-1", 80000);
    rfx_take_none(&r, RULE);
}
