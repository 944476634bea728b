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

#define RULE   "EXPOSURE"
#define ACT(x) HANSA__TX_BODY__ACTION_##x

static struct rfx r;

static void setup(void)
{
    rfx_init(&r, NULL);
}

static void teardown(void)
{
    rfx_close(&r);
}

TestSuite(exposure, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---- */

static size_t take(Hansa__Alert **a, size_t max)
{
    return rfx_take_rule(&r, RULE, a, max);
}

static Hansa__Alert *take_one(void)
{
    Hansa__Alert *a[8];
    size_t n = take(a, 8);
    cr_assert_eq(n, 1, "expected one %s alert, got %zu", RULE, n);
    return a[0];
}

static void take_none(void)
{
    Hansa__Alert *a[8];
    size_t n = take(a, 8);
    cr_assert_eq(n, 0, "expected no %s alert, got %zu: %s", RULE, n, n ? a[0]->message : "");
}

static void expect_dedup(const Hansa__Alert *a, const char *dedup)
{
    static const char tag[] = "hansa/incident/v1";
    uint8_t buf[512], id[WIRE_HASH_BYTES];
    size_t n = 0;
    memcpy(buf, tag, sizeof tag);
    n += sizeof tag;
    memcpy(buf + n, RULE, strlen(RULE) + 1);
    n += strlen(RULE) + 1;
    memcpy(buf + n, dedup, strlen(dedup));
    n += strlen(dedup);
    wire_sha256(buf, n, id);
    cr_assert_arr_eq(a->incident_id.data, id, WIRE_HASH_BYTES, "dedup key is not %s", dedup);
}

static void expect_evidence(const Hansa__Alert *a, const char *field, const char *expected,
                            const char *observed)
{
    const Hansa__AlertEvidence *e = rfx_evidence(a, field);
    cr_assert_not_null(e, "no evidence %s", field);
    cr_assert_str_eq(e->expected, expected, "%s expected", field);
    cr_assert_str_eq(e->observed, observed, "%s observed", field);
}

static bool has_subject(const Hansa__Alert *a, Hansa__EntityType t, const char *owner,
                        const char *id)
{
    for (size_t i = 0; i < a->n_subjects; i++)
        if (a->subjects[i]->type == t && strcmp(a->subjects[i]->owner, owner) == 0 &&
            strcmp(a->subjects[i]->id, id) == 0)
            return true;
    return false;
}

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
    tr_ok(tr_request(&r, TR_MER, fid, bank, line, orders, 1, amount_minor));
    tr_ok(tr_approve(&r, bank, TR_MER, fid));
}

static struct fx_result disbursed(const char *fid, const char *bank, const char *order_no,
                                  int64_t amount_minor)
{
    approved(fid, bank, order_no, amount_minor);
    struct fx_result res = tr_disburse(&r, bank, TR_MER, fid);
    tr_ok(res);
    return res;
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

static void next_block_at(uint64_t t_ms)
{
    cr_assert_geq(t_ms, r.f.time_ms);
    fx_advance(&r.f, t_ms - r.f.time_ms);
}

static void cancel(const char *order_no)
{
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = TR_MER;
    ref.order_no = (char *)order_no;
    Hansa__CancelOrder c = HANSA__CANCEL_ORDER__INIT;
    c.order = &ref;
    Hansa__TxBody b;
    fx_body(&b, ACT(CANCEL_ORDER), &c);
    tr_ok(fx_submit(&r.f, TR_MER, &b));
}

/* A matched order in currency (payment in the same currency). */
static void matched_in(const char *order_no, int64_t amount_minor, const char *currency)
{
    char pay_id[65], wb_no[65];
    snprintf(pay_id, sizeof pay_id, "PAY-%s", order_no);
    snprintf(wb_no, sizeof wb_no, "WB-%s", order_no);
    struct fx_order_doc o;
    fx_order_doc(&o, TR_MER, order_no, amount_minor);
    o.doc.currency = (char *)currency;
    tr_ok(tr_order_submit(&r, &o));
    struct fx_payment_doc p;
    fx_payment_doc(&p, TR_MER, order_no, pay_id, amount_minor);
    p.doc.currency = (char *)currency;
    Hansa__TxBody b;
    fx_body(&b, ACT(RECORD_PAYMENT), &p.doc);
    tr_ok(fx_submit(&r.f, "PAY-0001", &b));
    tr_ok(tr_waybill(&r, TR_MER, order_no, wb_no));
}

/* ---- positive ---- */

Test(exposure, outstanding_across_two_banks_above_the_cap_at_disbursement_is_high)
{
    old_orders();
    tr_matched(&r, TR_MER, "SO-2", 50000); /* in the window: cap 75,000 */
    disbursed("F-1", "BANK-A", "SO-1", 40000);
    take_none();
    struct fx_result res = disbursed("F-2", "BANK-B", "SO-4", 40000);

    Hansa__Alert *a = take_one();
    cr_assert_str_eq(a->rule_id, RULE);
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    char week[12], dedup[64];
    risk_iso_week(a->block_time_ms, week);
    cr_assert_str_eq(week, "2026-W16", "91 days after 2026-01-15");
    snprintf(dedup, sizeof dedup, "borrower/%s/%s", TR_MER, week);
    expect_dedup(a, dedup);
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, res.tx_id, 32, "the disbursement is the evidence");
    cr_assert_eq(a->n_audience, 2, "the other lending bank is not named");
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "BANK-B"));
    cr_assert(!rfx_audience_has(a, "BANK-A"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY, "", TR_MER));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-2"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, "BANK-B", "L-B"));
    expect_evidence(a, "borrower.outstanding_minor", "75000", "80000");
    expect_evidence(a, "payments.amount_paid_minor", "", "50000");
    expect_evidence(a, "borrower.outstanding_bps", "15000", "16000");
    expect_evidence(a, "financing.amount_minor", "", "40000");
    expect_evidence(a, "currency", "", "CNY");
    cr_assert(strstr(a->message, "80000") != NULL, "%s", a->message);
}

Test(exposure, a_payment_exactly_ninety_days_old_no_longer_counts)
{
    lines();
    tr_matched(&r, TR_MER, "SO-1", 100000);
    approved("F-1", "BANK-A", "SO-1", 80000);
    next_block_at(payment_recorded_ms("SO-1") + 90 * TR_DAY_MS);
    tr_ok(tr_disburse(&r, "BANK-A", TR_MER, "F-1"));
    Hansa__Alert *a = take_one();
    expect_evidence(a, "borrower.outstanding_minor", "0", "80000");
    expect_evidence(a, "payments.amount_paid_minor", "", "0");
    cr_assert_null(rfx_evidence(a, "borrower.outstanding_bps"));
}

Test(exposure, payments_in_another_currency_do_not_count)
{
    old_orders();
    matched_in("SO-U", 1000000, "USD");
    disbursed("F-1", "BANK-A", "SO-1", 80000);
    Hansa__Alert *a = take_one();
    expect_evidence(a, "payments.amount_paid_minor", "", "0");
    expect_evidence(a, "currency", "", "CNY");
}

Test(exposure, a_cancelled_orders_payment_leaves_the_window)
{
    old_orders();
    tr_matched(&r, TR_MER, "SO-2", 60000); /* cap 90,000 */
    disbursed("F-1", "BANK-A", "SO-1", 40000);
    take_none();
    cancel("SO-2");
    disbursed("F-2", "BANK-B", "SO-4", 10000);
    Hansa__Alert *a = take_one();
    expect_evidence(a, "borrower.outstanding_minor", "0", "50000");
    expect_evidence(a, "payments.amount_paid_minor", "", "0");
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
    take_none();

    next_block_at(monday_ms - 2000);
    tr_ok(tr_disburse(&r, "BANK-A", TR_MER, "F-1"));
    Hansa__Alert *a = take_one();
    expect_dedup(a, "borrower/" TR_MER "/2026-W16");

    /* Same week, still over: the open incident absorbs it. */
    tr_ok(tr_disburse(&r, "BANK-A", TR_MER, "F-2"));
    take_none();

    cr_assert_eq(r.f.time_ms, monday_ms, "the next block is at Monday 00:00 UTC+8");
    tr_ok(tr_disburse(&r, "BANK-B", TR_MER, "F-3"));
    Hansa__Alert *b = take_one();
    cr_assert_eq(b->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(b->event_no, 0);
    expect_dedup(b, "borrower/" TR_MER "/2026-W17");
    expect_evidence(b, "borrower.outstanding_minor", "0", "30000");
}

/* ---- negative ---- */

Test(exposure, outstanding_exactly_at_the_cap_is_silent)
{
    old_orders();
    tr_matched(&r, TR_MER, "SO-2", 50000);
    disbursed("F-1", "BANK-A", "SO-1", 35000);
    disbursed("F-2", "BANK-B", "SO-4", 40000);
    take_none();
}

Test(exposure, a_payment_just_under_ninety_days_old_still_counts)
{
    lines();
    tr_matched(&r, TR_MER, "SO-1", 100000);
    approved("F-1", "BANK-A", "SO-1", 80000);
    next_block_at(payment_recorded_ms("SO-1") + 90 * TR_DAY_MS - 1000);
    tr_ok(tr_disburse(&r, "BANK-A", TR_MER, "F-1"));
    take_none();
}

Test(exposure, repayments_lower_the_outstanding)
{
    old_orders();
    tr_matched(&r, TR_MER, "SO-2", 50000);
    disbursed("F-1", "BANK-A", "SO-1", 40000);
    tr_ok(tr_repay(&r, "BANK-A", TR_MER, "F-1", 30000));
    disbursed("F-2", "BANK-B", "SO-4", 40000); /* 10,000 + 40,000 */
    take_none();
}

Test(exposure, the_cap_and_window_come_from_the_ruleset)
{
    rfx_close(&r);
    rfx_init(&r, "[EXPOSURE]\ncap_bps = 20000\n");
    old_orders();
    tr_matched(&r, TR_MER, "SO-2", 50000); /* cap 100,000 */
    disbursed("F-1", "BANK-A", "SO-1", 40000);
    disbursed("F-2", "BANK-B", "SO-4", 40000);
    take_none();

    rfx_close(&r);
    rfx_init(&r, "[EXPOSURE]\nwindow_ms = 100d\nseverity = CRITICAL\n");
    old_orders(); /* 91 days: still in a 100-day window */
    disbursed("F-1", "BANK-A", "SO-1", 80000);
    take_none();
    rfx_advance_to(&r, r.f.time_ms + 10 * TR_DAY_MS);
    disbursed("F-2", "BANK-B", "SO-4", 10000);
    Hansa__Alert *a = take_one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    expect_evidence(a, "payments.amount_paid_minor", "", "0");
}

Test(exposure, a_disabled_rule_stays_silent)
{
    rfx_close(&r);
    rfx_init(&r, "[EXPOSURE]\nenabled = false\n");
    old_orders();
    disbursed("F-1", "BANK-A", "SO-1", 80000);
    take_none();
}
