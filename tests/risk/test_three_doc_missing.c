/*
 * 3DOC-MISSING: MEDIUM when a paid order has no waybill 72 h after the
 * payment, or an order with a waybill has no payment 24 h after the
 * waybill. Time is driven to just before and just after each deadline; a
 * deadline fires in the first block whose time is past it. Orders are
 * MER-SZ-0001's, paid by PAY-0001 and shipped by LOG-0001.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE "3DOC-MISSING"

static struct rfx r;

static void setup(void)
{
    rfx_init(&r, NULL);
}

static void teardown(void)
{
    rfx_close(&r);
}

TestSuite(three_doc_missing, .init = setup, .fini = teardown, .timeout = 60);

/* The block a transaction just went into. */
struct at {
    uint64_t height, time_ms;
    uint8_t tx_id[WIRE_HASH_BYTES];
};

static struct at last_block(const struct fx_result *res)
{
    tr_ok(*res);
    struct at a = {.height = r.f.height, .time_ms = r.f.time_ms - FX_BLOCK_MS};
    memcpy(a.tx_id, res->tx_id, WIRE_HASH_BYTES);
    return a;
}

static struct at paid(const char *order_no)
{
    struct fx_result res = tr_payment(&r, TR_MER, order_no, "PAY-1", 100000);
    return last_block(&res);
}

static struct at shipped(const char *order_no)
{
    struct fx_result res = tr_waybill(&r, TR_MER, order_no, "WB-1");
    return last_block(&res);
}

static void cancel(const char *order_no)
{
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = TR_MER;
    ref.order_no = (char *)order_no;
    Hansa__CancelOrder c = HANSA__CANCEL_ORDER__INIT;
    c.order = &ref;
    Hansa__TxBody b;
    fx_body(&b, HANSA__TX_BODY__ACTION_CANCEL_ORDER, &c);
    tr_ok(fx_submit(&r.f, TR_MER, &b));
}

static void expect_silent(void)
{
    Hansa__Alert *a[4];
    size_t n = rfx_take_rule(&r, RULE, a, 4);
    cr_assert_eq(n, 0, "expected no " RULE " alert, got %zu: %s", n, n ? a[0]->message : "");
}

static Hansa__Alert *expect_alert(Hansa__AlertKind kind)
{
    Hansa__Alert *a[4];
    size_t n = rfx_take_rule(&r, RULE, a, 4);
    cr_assert_eq(n, 1, "expected one " RULE " alert, got %zu", n);
    cr_assert_eq(a[0]->kind, kind);
    cr_assert_eq(a[0]->severity, HANSA__SEVERITY__SEVERITY_MEDIUM);
    return a[0];
}

static bool count_visit(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    (void)k, (void)kl, (void)v, (void)vl;
    (*(size_t *)arg)++;
    return true;
}

/* Keys of the rule's state (kind 's') or timers (kind 't') in the engine. */
static size_t rule_keys(char kind)
{
    struct ledger_state s = memstate_view(r.alerts);
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "%c/" RULE "/", kind);
    size_t count = 0;
    cr_assert_eq(s.scan(s.ctx, (const uint8_t *)prefix, (size_t)n, count_visit, &count), HANSA_OK);
    return count;
}

static const char *observed(const Hansa__Alert *a, const char *field)
{
    const Hansa__AlertEvidence *e = rfx_evidence(a, field);
    cr_assert_not_null(e, "no evidence %s", field);
    return e->observed;
}

Test(three_doc_missing, a_paid_order_without_waybill_alerts_just_after_72_hours)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct at p = paid("SO-1");
    uint64_t due = p.time_ms + 72 * TR_HOUR_MS;
    rfx_advance_to(&r, due - 1000);
    expect_silent();
    rfx_advance_to(&r, due + 1);
    Hansa__Alert *a = expect_alert(HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->cursor->height, r.f.height, "emitted by the block past the deadline");
    cr_assert_eq(a->height, p.height, "the evidence is the payment's block");
    cr_assert_eq(a->block_time_ms, p.time_ms);
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, p.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(observed(a, "order.waybill"), "none");
    cr_assert_str_eq(rfx_evidence(a, "order.waybill")->expected, "within 259200000 ms");
    cr_assert_str_eq(observed(a, "order.ms_since_payment"), "259200001");
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)p.time_ms);
    cr_assert_str_eq(observed(a, "payment.recorded_ms"), v);
    cr_assert_eq(a->n_audience, 2);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "PAY-0001"));
    cr_assert(!rfx_audience_has(a, "LOG-0001"));
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER);
    cr_assert_str_eq(a->subjects[0]->id, "SO-1");
    /* Nothing fires twice. */
    rfx_advance_to(&r, due + 30 * TR_DAY_MS);
    expect_silent();
    cr_assert_eq(rule_keys('t'), 0);
}

Test(three_doc_missing, a_waybill_at_the_deadline_is_in_time_and_cancels_the_timer)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct at p = paid("SO-1");
    cr_assert_eq(rule_keys('t'), 1);
    uint64_t due = p.time_ms + 72 * TR_HOUR_MS;
    rfx_advance_to(&r, due - 1000);
    shipped("SO-1"); /* in the block at exactly the deadline */
    cr_assert_eq(rule_keys('t'), 0, "the timer is cancelled");
    rfx_advance_to(&r, due + 10 * TR_DAY_MS);
    expect_silent();
}

Test(three_doc_missing, a_waybill_without_payment_alerts_just_after_24_hours)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct at w = shipped("SO-1");
    uint64_t due = w.time_ms + 24 * TR_HOUR_MS;
    rfx_advance_to(&r, due);
    expect_silent();             /* a block at exactly the deadline is not past it */
    rfx_advance_to(&r, due + 1); /* the next block, at due + 1 s */
    Hansa__Alert *a = expect_alert(HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->height, w.height);
    cr_assert_arr_eq(a->tx_ids[0].data, w.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(observed(a, "order.payment"), "none");
    cr_assert_str_eq(observed(a, "order.ms_since_waybill"), "86401000");
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "LOG-0001"));
    cr_assert(!rfx_audience_has(a, "PAY-0001"));
    cr_assert_eq(a->subjects[1]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL);
    cr_assert_str_eq(a->subjects[1]->id, "WB-1");
}

Test(three_doc_missing, a_payment_just_before_the_waybill_deadline_raises_nothing)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct at w = shipped("SO-1");
    uint64_t due = w.time_ms + 24 * TR_HOUR_MS;
    rfx_advance_to(&r, due - 2000);
    paid("SO-1"); /* at due - 1 s */
    rfx_advance_to(&r, due + 1);
    expect_silent();
    cr_assert_eq(rule_keys('t'), 0);
}

Test(three_doc_missing, a_late_waybill_resolves_the_incident)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct at p = paid("SO-1");
    rfx_advance_to(&r, p.time_ms + 72 * TR_HOUR_MS + 1);
    Hansa__Alert *a = expect_alert(HANSA__ALERT_KIND__ALERT_KIND_NEW);
    uint8_t incident[WIRE_HASH_BYTES];
    memcpy(incident, a->incident_id.data, WIRE_HASH_BYTES);
    cr_assert_eq(rule_keys('s'), 1, "the open incident is remembered");
    struct at w = shipped("SO-1");
    Hansa__Alert *d = expect_alert(HANSA__ALERT_KIND__ALERT_KIND_RESOLVED);
    cr_assert_arr_eq(d->incident_id.data, incident, WIRE_HASH_BYTES);
    cr_assert_eq(d->height, w.height);
    cr_assert_str_eq(observed(d, "order.waybill"), "LOG-0001/WB-1");
    cr_assert(rfx_audience_has(d, "PAY-0001") && rfx_audience_has(d, "LOG-0001"));
    cr_assert_eq(rule_keys('s'), 0);
}

Test(three_doc_missing, a_paid_order_cancelled_before_the_deadline_raises_nothing)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct at p = paid("SO-1");
    cancel("SO-1");
    rfx_advance_to(&r, p.time_ms + 72 * TR_HOUR_MS + 1);
    expect_silent();
}

Test(three_doc_missing, cancelling_after_the_alert_resolves_it)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct at w = shipped("SO-1");
    rfx_advance_to(&r, w.time_ms + 24 * TR_HOUR_MS + 1);
    expect_alert(HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cancel("SO-1");
    Hansa__Alert *d = expect_alert(HANSA__ALERT_KIND__ALERT_KIND_RESOLVED);
    cr_assert_str_eq(observed(d, "order.status"), "CANCELLED");
    cr_assert_eq(rule_keys('s'), 0);
}

Test(three_doc_missing, a_matched_order_leaves_no_timer_and_raises_nothing)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    cr_assert_eq(rule_keys('t'), 0);
    rfx_advance_to(&r, r.f.time_ms + 10 * TR_DAY_MS);
    expect_silent();
}

Test(three_doc_missing, both_legs_in_one_block_set_no_timer)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct fx_payment_doc p;
    struct fx_waybill_doc w;
    fx_payment_doc(&p, TR_MER, "SO-1", "PAY-1", 100000);
    fx_waybill_doc(&w, TR_MER, "SO-1", "WB-1");
    Hansa__TxBody bp, bw;
    fx_body(&bp, HANSA__TX_BODY__ACTION_RECORD_PAYMENT, &p.doc);
    fx_body(&bw, HANSA__TX_BODY__ACTION_CREATE_WAYBILL, &w.doc);
    const char *signers[] = {"PAY-0001", "LOG-0001"};
    Hansa__TxBody *bodies[] = {&bp, &bw};
    struct fx_result res[2];
    fx_block(&r.f, signers, bodies, 2, res);
    tr_ok(res[0]);
    tr_ok(res[1]);
    cr_assert_eq(rule_keys('t'), 0);
    rfx_advance_to(&r, r.f.time_ms + 10 * TR_DAY_MS);
    expect_silent();
}

Test(three_doc_missing, the_windows_are_ruleset_parameters)
{
    rfx_close(&r);
    rfx_init(&r, "[" RULE "]\npayment_waybill_ms = 2h\nwaybill_payment_ms = 30m\n");
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct at p = paid("SO-1");
    rfx_advance_to(&r, p.time_ms + 2 * TR_HOUR_MS);
    expect_silent();
    rfx_advance_to(&r, p.time_ms + 2 * TR_HOUR_MS + 1);
    Hansa__Alert *a = expect_alert(HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_str_eq(rfx_evidence(a, "order.ms_since_payment")->expected, "<= 7200000");

    tr_ok(tr_order(&r, TR_MER, "SO-2", 100000));
    struct fx_result res = tr_waybill(&r, TR_MER, "SO-2", "WB-2");
    struct at w = last_block(&res);
    rfx_advance_to(&r, w.time_ms + 30 * 60 * 1000);
    expect_silent();
    rfx_advance_to(&r, w.time_ms + 30 * 60 * 1000 + 1);
    a = expect_alert(HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_str_eq(a->subjects[0]->id, "SO-2");
}

Test(three_doc_missing, a_disabled_rule_stays_silent)
{
    rfx_close(&r);
    rfx_init(&r, "[" RULE "]\nenabled = false\n");
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    paid("SO-1");
    tr_ok(tr_order(&r, TR_MER, "SO-2", 100000));
    tr_ok(tr_waybill(&r, TR_MER, "SO-2", "WB-2"));
    rfx_advance_to(&r, r.f.time_ms + 10 * TR_DAY_MS);
    expect_silent();
    cr_assert_eq(rule_keys('t'), 0);
}
