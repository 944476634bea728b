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

static struct rfx r;

static void setup(void)
{
    rfx_init(&r, NULL);
}

static void teardown(void)
{
    rfx_close(&r);
}

TestSuite(dup_near, .init = setup, .fini = teardown, .timeout = 60);

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

static bool has_tx(const Hansa__Alert *a, const uint8_t id[WIRE_HASH_BYTES])
{
    for (size_t i = 0; i < a->n_tx_ids; i++)
        if (memcmp(a->tx_ids[i].data, id, WIRE_HASH_BYTES) == 0)
            return true;
    return false;
}

/* A buyer commitment: 32 bytes of b (FX_BUYER is the fixture's default). */
static void buyer_of(uint8_t out[WIRE_HASH_BYTES], uint8_t b)
{
    memset(out, b, WIRE_HASH_BYTES);
}

/* Order (created in this block), payment and waybill: MATCHED, with the
 * buyer's commitment as buyer and payer, in currency. */
static void matched(const char *order_no, int64_t amount_minor, uint8_t buyer, const char *currency)
{
    uint8_t commit[WIRE_HASH_BYTES];
    buyer_of(commit, buyer);
    char pay_id[65], wb_no[65];
    snprintf(pay_id, sizeof pay_id, "PAY-%s", order_no);
    snprintf(wb_no, sizeof wb_no, "WB-%s", order_no);
    struct fx_order_doc o;
    fx_order_doc(&o, TR_MER, order_no, amount_minor);
    o.doc.buyer_commitment = (ProtobufCBinaryData){WIRE_HASH_BYTES, commit};
    o.doc.currency = (char *)currency;
    tr_ok(tr_order_submit(&r, &o));
    struct fx_payment_doc p;
    fx_payment_doc(&p, TR_MER, order_no, pay_id, amount_minor);
    p.doc.payer_commitment = (ProtobufCBinaryData){WIRE_HASH_BYTES, commit};
    p.doc.currency = (char *)currency;
    Hansa__TxBody b;
    fx_body(&b, ACT(RECORD_PAYMENT), &p.doc);
    tr_ok(fx_submit(&r.f, "PAY-0001", &b));
    tr_ok(tr_waybill(&r, TR_MER, order_no, wb_no));
    Hansa__Order *got = fx_get_order(&r.f, TR_MER, order_no);
    cr_assert_eq(got->match->status, HANSA__MATCH_STATUS__MATCH_STATUS_MATCHED);
    wire_free(got);
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
    Hansa__LineRef lr = HANSA__LINE_REF__INIT;
    lr.bank = (char *)bank;
    lr.line_id = (char *)line;
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT, *refs[] = {&ref};
    ref.merchant = TR_MER;
    ref.order_no = (char *)order_no;
    Hansa__RequestFinancing q = HANSA__REQUEST_FINANCING__INIT;
    q.financing_id = (char *)fid;
    q.line = &lr;
    q.orders = refs;
    q.n_orders = 1;
    q.amount_minor = amount_minor;
    q.currency = (char *)currency;
    q.maturity_ms = r.f.time_ms + 30 * TR_DAY_MS;
    Hansa__TxBody b;
    fx_body(&b, ACT(REQUEST_FINANCING), &q);
    tr_ok(fx_submit(&r.f, TR_MER, &b));
    struct fx_result res = tr_approve(&r, bank, TR_MER, fid);
    tr_ok(res);
    return res;
}

static struct fx_result finance_cny(const char *fid, const char *bank, const char *line,
                                    const char *order_no)
{
    return finance(fid, bank, line, order_no, 50000, "CNY");
}

/* Move the next block to exactly t_ms. */
static void next_block_at(uint64_t t_ms)
{
    cr_assert_geq(t_ms, r.f.time_ms);
    fx_advance(&r.f, t_ms - r.f.time_ms);
}

/* ---- positive ---- */

Test(dup_near, two_near_identical_orders_financed_at_two_banks_are_high)
{
    lines();
    matched("SO-2", 100500, 7, "CNY");
    matched("SO-1", 100000, 7, "CNY");
    struct fx_result f1 = finance_cny("F-1", "BANK-B", "L-B", "SO-2");
    take_none();
    struct fx_result f2 = finance_cny("F-2", "BANK-A", "L-A", "SO-1");

    Hansa__Alert *a = take_one();
    cr_assert_str_eq(a->rule_id, RULE);
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    expect_dedup(a, "orders/" TR_MER "/SO-1/SO-2");
    cr_assert_eq(a->n_tx_ids, 2);
    cr_assert(has_tx(a, f1.tx_id) && has_tx(a, f2.tx_id));
    cr_assert_eq(a->n_audience, 3);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "BANK-A") &&
              rfx_audience_has(a, "BANK-B"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, TR_MER, "SO-1"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, TR_MER, "SO-2"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-1"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-2"));
    expect_evidence(a, "order.order_no", "SO-2", "SO-1");
    expect_evidence(a, "order.actual_paid_minor", "100500", "100000");
    expect_evidence(a, "order.currency", "CNY", "CNY");
    expect_evidence(a, "financing.bank", "BANK-B", "BANK-A");
    expect_evidence(a, "financing.financing_id", "F-1", "F-2");
    char t1[32], t2[32];
    snprintf(t1, sizeof t1, "%llu", (unsigned long long)created_ms("SO-2"));
    snprintf(t2, sizeof t2, "%llu", (unsigned long long)created_ms("SO-1"));
    expect_evidence(a, "order.created_ms", t1, t2);
    const Hansa__AlertEvidence *e = rfx_evidence(a, "order.buyer_commitment");
    cr_assert_str_eq(e->observed, "07070707070707070707070707070707"
                                  "07070707070707070707070707070707");

    /* The same pair financed again (another financing of SO-1 at BANK-B
     * after F-2 is withdrawn) is the same incident: nothing new. */
    tr_ok(tr_reject(&r, "BANK-A", TR_MER, "F-2"));
    finance_cny("F-3", "BANK-A", "L-A", "SO-1");
    take_none();
}

Test(dup_near, amounts_exactly_one_percent_of_the_larger_apart_alert)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 99000, 7, "CNY");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    expect_dedup(take_one(), "orders/" TR_MER "/SO-1/SO-2");
}

Test(dup_near, orders_created_just_under_three_days_apart_alert)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    next_block_at(created_ms("SO-1") + 3 * TR_DAY_MS - 1000);
    matched("SO-2", 100000, 7, "CNY");
    cr_assert_eq(created_ms("SO-2") - created_ms("SO-1"), 3 * TR_DAY_MS - 1000);
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    take_one();
}

Test(dup_near, a_settled_financing_still_counts_as_financed)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 100000, 7, "CNY");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    tr_ok(tr_disburse(&r, "BANK-A", TR_MER, "F-1"));
    tr_ok(tr_repay(&r, "BANK-A", TR_MER, "F-1", 50000));
    Hansa__Financing *f = fx_get_financing(&r.f, TR_MER, "F-1");
    cr_assert_eq(f->status, HANSA__FINANCING_STATUS__FINANCING_STATUS_SETTLED);
    wire_free(f);
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    take_one();
}

Test(dup_near, the_second_financing_may_come_long_after_creation)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 100000, 7, "CNY");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    rfx_advance_to(&r, r.f.time_ms + 10 * TR_DAY_MS);
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    take_one();
}

/* ---- negative ---- */

Test(dup_near, amounts_just_over_one_percent_apart_are_silent)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 98999, 7, "CNY");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    take_none();
}

Test(dup_near, orders_created_exactly_three_days_apart_are_silent)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    next_block_at(created_ms("SO-1") + 3 * TR_DAY_MS);
    matched("SO-2", 100000, 7, "CNY");
    cr_assert_eq(created_ms("SO-2") - created_ms("SO-1"), 3 * TR_DAY_MS);
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    take_none();
}

Test(dup_near, the_same_bank_financing_both_is_silent)
{
    lines();
    open_line("BANK-A", "L-A2", "CNY");
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 100000, 7, "CNY");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    finance_cny("F-2", "BANK-A", "L-A2", "SO-2");
    take_none();
}

Test(dup_near, different_buyers_are_silent)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 100000, 8, "CNY");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    take_none();
}

Test(dup_near, another_currency_is_silent)
{
    lines();
    open_line("BANK-B", "L-BU", "USD");
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 100000, 7, "USD");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    finance("F-2", "BANK-B", "L-BU", "SO-2", 50000, "USD");
    take_none();
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
    take_none();
}

Test(dup_near, a_withdrawn_approval_no_longer_counts)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 100000, 7, "CNY");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    tr_ok(tr_reject(&r, "BANK-A", TR_MER, "F-1"));
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    take_none();
}

Test(dup_near, an_order_cancelled_after_its_financing_settled_no_longer_counts)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 100000, 7, "CNY");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    tr_ok(tr_disburse(&r, "BANK-A", TR_MER, "F-1"));
    tr_ok(tr_repay(&r, "BANK-A", TR_MER, "F-1", 50000));
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = TR_MER;
    ref.order_no = "SO-1";
    Hansa__CancelOrder c = HANSA__CANCEL_ORDER__INIT;
    c.order = &ref;
    Hansa__TxBody b;
    fx_body(&b, ACT(CANCEL_ORDER), &c);
    tr_ok(fx_submit(&r.f, TR_MER, &b));
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    take_none();
}

Test(dup_near, a_request_without_approval_is_not_financing)
{
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 100000, 7, "CNY");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    const char *o2[] = {"SO-2"};
    tr_ok(tr_request(&r, TR_MER, "F-2", "BANK-B", "L-B", o2, 1, 50000));
    take_none();
    tr_ok(tr_approve(&r, "BANK-B", TR_MER, "F-2"));
    take_one();
}

/* ---- the ruleset ---- */

Test(dup_near, the_window_and_tolerance_come_from_the_ruleset)
{
    rfx_close(&r);
    rfx_init(&r, "[DUP-NEAR]\nwindow_ms = 1h\ntolerance_bps = 50\nseverity = CRITICAL\n");
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 99400, 7, "CNY"); /* 0.6 %: over 50 bps */
    matched("SO-3", 99500, 7, "CNY"); /* 0.5 % */
    next_block_at(created_ms("SO-1") + TR_HOUR_MS);
    matched("SO-4", 100000, 7, "CNY"); /* an hour after SO-1 */
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    take_none();
    finance_cny("F-4", "BANK-B", "L-B", "SO-4");
    take_none();
    finance_cny("F-3", "BANK-B", "L-B", "SO-3");
    Hansa__Alert *a = take_one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    expect_dedup(a, "orders/" TR_MER "/SO-1/SO-3");
}

Test(dup_near, financed_orders_are_forgotten_after_the_retention)
{
    rfx_close(&r);
    rfx_init(&r, "[DUP-NEAR]\nretention_ms = 5d\n");
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 100000, 7, "CNY");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    rfx_advance_to(&r, created_ms("SO-1") + 5 * TR_DAY_MS + 1000);
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    take_none();
}

Test(dup_near, a_disabled_rule_stays_silent)
{
    rfx_close(&r);
    rfx_init(&r, "[DUP-NEAR]\nenabled = false\n");
    lines();
    matched("SO-1", 100000, 7, "CNY");
    matched("SO-2", 100000, 7, "CNY");
    finance_cny("F-1", "BANK-A", "L-A", "SO-1");
    finance_cny("F-2", "BANK-B", "L-B", "SO-2");
    take_none();
}
