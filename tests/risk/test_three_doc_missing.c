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

RFX_SUITE(three_doc_missing);

/* PAY-1 for the order, or WB-1 for it: where it went. */
static struct tr_at paid(const char *order_no)
{
    return tr_last(&r, tr_payment(&r, TR_MER, order_no, "PAY-1", 100000));
}

static struct tr_at shipped(const char *order_no)
{
    return tr_last(&r, tr_waybill(&r, TR_MER, order_no, "WB-1"));
}

Test(three_doc_missing, a_paid_order_without_waybill_alerts_just_after_72_hours)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct tr_at p = paid("SO-1");
    uint64_t due = p.time_ms + 72 * TR_HOUR_MS;
    rfx_advance_to(&r, due - 1000);
    rfx_take_none(&r, RULE);
    rfx_advance_to(&r, due + 1);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_eq(a->cursor->height, r.f.height, "emitted by the block past the deadline");
    cr_assert_eq(a->height, p.height, "the evidence is the payment's block");
    cr_assert_eq(a->block_time_ms, p.time_ms);
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, p.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(rfx_observed(a, "order.waybill"), "none");
    cr_assert_str_eq(rfx_evidence(a, "order.waybill")->expected, "within 259200000 ms");
    cr_assert_str_eq(rfx_observed(a, "order.ms_since_payment"), "259200001");
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)p.time_ms);
    cr_assert_str_eq(rfx_observed(a, "payment.recorded_ms"), v);
    cr_assert_eq(a->n_audience, 2);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "PAY-0001"));
    cr_assert(!rfx_audience_has(a, "LOG-0001"));
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER);
    cr_assert_str_eq(a->subjects[0]->id, "SO-1");
    /* Nothing fires twice. */
    rfx_advance_to(&r, due + 30 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0);
}

Test(three_doc_missing, a_waybill_at_the_deadline_is_in_time_and_cancels_the_timer)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct tr_at p = paid("SO-1");
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 1);
    uint64_t due = p.time_ms + 72 * TR_HOUR_MS;
    rfx_advance_to(&r, due - 1000);
    shipped("SO-1"); /* in the block at exactly the deadline */
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0, "the timer is cancelled");
    rfx_advance_to(&r, due + 10 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
}

Test(three_doc_missing, a_waybill_without_payment_alerts_just_after_24_hours)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct tr_at w = shipped("SO-1");
    uint64_t due = w.time_ms + 24 * TR_HOUR_MS;
    rfx_advance_to(&r, due);
    rfx_take_none(&r, RULE);     /* a block at exactly the deadline is not past it */
    rfx_advance_to(&r, due + 1); /* the next block, at due + 1 s */
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_eq(a->height, w.height);
    cr_assert_arr_eq(a->tx_ids[0].data, w.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(rfx_observed(a, "order.payment"), "none");
    cr_assert_str_eq(rfx_observed(a, "order.ms_since_waybill"), "86401000");
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "LOG-0001"));
    cr_assert(!rfx_audience_has(a, "PAY-0001"));
    cr_assert_eq(a->subjects[1]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL);
    cr_assert_str_eq(a->subjects[1]->id, "WB-1");
}

Test(three_doc_missing, a_payment_just_before_the_waybill_deadline_raises_nothing)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct tr_at w = shipped("SO-1");
    uint64_t due = w.time_ms + 24 * TR_HOUR_MS;
    rfx_advance_to(&r, due - 2000);
    paid("SO-1"); /* at due - 1 s */
    rfx_advance_to(&r, due + 1);
    rfx_take_none(&r, RULE);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0);
}

Test(three_doc_missing, a_late_waybill_resolves_the_incident)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct tr_at p = paid("SO-1");
    rfx_advance_to(&r, p.time_ms + 72 * TR_HOUR_MS + 1);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    uint8_t incident[WIRE_HASH_BYTES];
    memcpy(incident, a->incident_id.data, WIRE_HASH_BYTES);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 1, "the open incident is remembered");
    struct tr_at w = shipped("SO-1");
    Hansa__Alert *d = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_arr_eq(d->incident_id.data, incident, WIRE_HASH_BYTES);
    cr_assert_eq(d->height, w.height);
    cr_assert_str_eq(rfx_observed(d, "order.waybill"), "LOG-0001/WB-1");
    cr_assert(rfx_audience_has(d, "PAY-0001") && rfx_audience_has(d, "LOG-0001"));
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 0);
}

Test(three_doc_missing, a_paid_order_cancelled_before_the_deadline_raises_nothing)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct tr_at p = paid("SO-1");
    tr_ok(tr_cancel(&r, TR_MER, "SO-1"));
    rfx_advance_to(&r, p.time_ms + 72 * TR_HOUR_MS + 1);
    rfx_take_none(&r, RULE);
}

Test(three_doc_missing, cancelling_after_the_alert_resolves_it)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct tr_at w = shipped("SO-1");
    rfx_advance_to(&r, w.time_ms + 24 * TR_HOUR_MS + 1);
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_MEDIUM);
    tr_ok(tr_cancel(&r, TR_MER, "SO-1"));
    Hansa__Alert *d = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_str_eq(rfx_observed(d, "order.status"), "CANCELLED");
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 0);
}

Test(three_doc_missing, a_matched_order_leaves_no_timer_and_raises_nothing)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0);
    rfx_advance_to(&r, r.f.time_ms + 10 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
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
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0);
    rfx_advance_to(&r, r.f.time_ms + 10 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
}

Test(three_doc_missing, the_windows_are_ruleset_parameters)
{
    rfx_reinit(&r, "[" RULE "]\npayment_waybill_ms = 2h\nwaybill_payment_ms = 30m\n");
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    struct tr_at p = paid("SO-1");
    rfx_advance_to(&r, p.time_ms + 2 * TR_HOUR_MS);
    rfx_take_none(&r, RULE);
    rfx_advance_to(&r, p.time_ms + 2 * TR_HOUR_MS + 1);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_str_eq(rfx_evidence(a, "order.ms_since_payment")->expected, "<= 7200000");

    tr_ok(tr_order(&r, TR_MER, "SO-2", 100000));
    struct tr_at w = tr_last(&r, tr_waybill(&r, TR_MER, "SO-2", "WB-2"));
    rfx_advance_to(&r, w.time_ms + 30 * 60 * 1000);
    rfx_take_none(&r, RULE);
    rfx_advance_to(&r, w.time_ms + 30 * 60 * 1000 + 1);
    a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                       HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_str_eq(a->subjects[0]->id, "SO-2");
}

Test(three_doc_missing, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[" RULE "]\nenabled = false\n");
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    paid("SO-1");
    tr_ok(tr_order(&r, TR_MER, "SO-2", 100000));
    tr_ok(tr_waybill(&r, TR_MER, "SO-2", "WB-2"));
    rfx_advance_to(&r, r.f.time_ms + 10 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0);
}
