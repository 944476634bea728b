/*
 * 3DOC-MISMATCH: one alert per order whose match result becomes
 * MISMATCHED, every reason in the evidence; HIGH when the payment is more
 * than 5 % of actual_paid off (in the order's currency) or a retail-import
 * limit is exceeded, else MEDIUM; resolved when the order is cancelled.
 * Orders are MER-SZ-0001's, paid by PAY-0001 and shipped by LOG-0001.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE "3DOC-MISMATCH"

RFX_SUITE(three_doc_mismatch);

static const uint8_t OTHER_PERSON[WIRE_HASH_BYTES] = {0x5a, 0x5a, 0x5a, 0x01};

/* A payment of amount in currency by payer for TR_MER's order_no. */
static struct fx_result pay(const char *order_no, int64_t amount_minor, const char *currency,
                            const uint8_t *payer)
{
    struct fx_payment_doc d;
    char pay_id[65];
    snprintf(pay_id, sizeof pay_id, "PAY-%s", order_no);
    fx_payment_doc(&d, TR_MER, order_no, pay_id, amount_minor);
    d.doc.currency = (char *)currency;
    d.doc.payer_commitment = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)payer};
    return tr_payment_submit(&r, &d);
}

/* LOG-0001's waybill for TR_MER's order_no with this consignee phone. */
static struct fx_result ship(const char *order_no, const uint8_t *phone)
{
    struct fx_waybill_doc d;
    char no[65];
    snprintf(no, sizeof no, "WB-%s", order_no);
    fx_waybill_doc(&d, TR_MER, order_no, no);
    d.doc.consignee_phone_commitment = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)phone};
    return tr_waybill_submit(&r, &d);
}

/* An order whose payment is amount_paid in currency by payer; the waybill
 * comes last and decides. Returns the waybill's result. */
static struct fx_result mismatched(const char *order_no, int64_t actual_minor, int64_t paid_minor,
                                   const char *currency, const uint8_t *payer)
{
    tr_ok(tr_order(&r, TR_MER, order_no, actual_minor));
    tr_ok(pay(order_no, paid_minor, currency, payer));
    struct fx_result w = ship(order_no, FX_CONSIGNEE_PHONE);
    tr_ok(w);
    return w;
}

/* A RETAIL_IMPORT order (CNY, DE -> CN) of amount, paid and shipped. */
static void retail_import(const char *order_no, int64_t amount_minor)
{
    struct fx_order_doc d;
    fx_order_doc(&d, TR_MER, order_no, amount_minor);
    d.doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_RETAIL_IMPORT;
    d.doc.origin_country = "DE";
    d.doc.destination_country = "CN";
    tr_ok(tr_order_submit(&r, &d));
    tr_ok(pay(order_no, amount_minor, "CNY", FX_BUYER));
    tr_ok(ship(order_no, FX_CONSIGNEE_PHONE));
}

Test(three_doc_mismatch, an_amount_over_five_percent_off_raises_high_with_every_reason)
{
    struct fx_result w = mismatched("SO-1", 100000, 94000, "CNY", OTHER_PERSON);
    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_eq(a->rule_rev, 1);
    cr_assert_eq(a->height, r.f.height, "the evidence is the deciding block");
    cr_assert_eq(a->cursor->height, r.f.height);
    cr_assert_str_eq(rfx_observed(a, "order.match.reasons"), "AMOUNT,PAYER");
    cr_assert_str_eq(rfx_evidence(a, "payment.amount_paid_minor")->expected, "100000 CNY");
    cr_assert_str_eq(rfx_observed(a, "payment.amount_paid_minor"), "94000 CNY");
    cr_assert_str_eq(rfx_observed(a, "payment.amount_difference_bps"), "600");
    cr_assert_str_eq(rfx_evidence(a, "payment.amount_difference_bps")->expected, "<= 500");
    char buyer[65], other[65];
    wire_hex_encode(FX_BUYER, WIRE_HASH_BYTES, buyer);
    wire_hex_encode(OTHER_PERSON, WIRE_HASH_BYTES, other);
    cr_assert_str_eq(rfx_evidence(a, "payment.payer_commitment")->expected, buyer);
    cr_assert_str_eq(rfx_observed(a, "payment.payer_commitment"), other);
    cr_assert_null(rfx_evidence(a, "payment.currency"), "the currency matched");
    cr_assert(rfx_has_tx(a, w.tx_id), "the deciding waybill is evidence");
    cr_assert_eq(a->n_audience, 3);
    cr_assert(rfx_audience_has(a, TR_MER));
    cr_assert(rfx_audience_has(a, "PAY-0001"));
    cr_assert(rfx_audience_has(a, "LOG-0001"));
    cr_assert(!rfx_audience_has(a, "PLT-0001"), "the merchant created the order itself");
    cr_assert(!rfx_audience_has(a, "BANK-A"));
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER);
    cr_assert_str_eq(a->subjects[0]->owner, TR_MER);
    cr_assert_str_eq(a->subjects[0]->id, "SO-1");
    cr_assert_neq(strstr(a->message, "AMOUNT,PAYER"), NULL, "%s", a->message);
}

Test(three_doc_mismatch, exactly_five_percent_off_is_medium_and_one_minor_unit_more_is_high)
{
    mismatched("SO-1", 100000, 95000, "CNY", FX_BUYER);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_str_eq(rfx_observed(a, "order.match.reasons"), "AMOUNT");
    cr_assert_str_eq(rfx_observed(a, "payment.amount_difference_bps"), "500");
    mismatched("SO-2", 100000, 105001, "CNY", FX_BUYER);
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
}

Test(three_doc_mismatch, a_matched_order_raises_nothing)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    rfx_take_none(&r, RULE);
}

Test(three_doc_mismatch, a_consignee_mismatch_alone_is_medium_with_the_commitments)
{
    static const uint8_t phone[WIRE_HASH_BYTES] = {0x77};
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    tr_ok(pay("SO-1", 100000, "CNY", FX_BUYER));
    struct fx_result w = ship("SO-1", phone);
    tr_ok(w);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_str_eq(rfx_observed(a, "order.match.reasons"), "CONSIGNEE");
    const Hansa__AlertEvidence *e = rfx_evidence(a, "waybill.consignee_phone_commitment");
    cr_assert_not_null(e);
    char want[65], got[65];
    wire_hex_encode(FX_CONSIGNEE_PHONE, WIRE_HASH_BYTES, want);
    wire_hex_encode(phone, WIRE_HASH_BYTES, got);
    cr_assert_str_eq(e->expected, want);
    cr_assert_str_eq(e->observed, got);
    cr_assert_arr_eq(e->source_tx_id.data, w.tx_id, WIRE_HASH_BYTES);
    cr_assert_null(rfx_evidence(a, "waybill.consignee_name_commitment"), "the name matched");
}

Test(three_doc_mismatch, a_payment_in_another_currency_is_medium_whatever_its_amount)
{
    mismatched("SO-1", 100000, 1000, "USD", FX_BUYER);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_str_eq(rfx_observed(a, "order.match.reasons"), "AMOUNT,CURRENCY");
    cr_assert_str_eq(rfx_evidence(a, "payment.currency")->expected, "CNY");
    cr_assert_str_eq(rfx_observed(a, "payment.currency"), "USD");
    cr_assert_str_eq(rfx_observed(a, "payment.amount_paid_minor"), "1000 USD");
    cr_assert_null(rfx_evidence(a, "payment.amount_difference_bps"),
                   "amounts in two currencies are not compared");
}

Test(three_doc_mismatch, a_per_order_limit_reason_raises_high_without_an_amount_difference)
{
    retail_import("RI-1", 500001);
    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(rfx_observed(a, "order.match.reasons"), "PER_ORDER_LIMIT");
    cr_assert_str_eq(rfx_observed(a, "order.actual_paid_minor"), "500001 CNY");
    cr_assert_null(rfx_evidence(a, "payment.amount_paid_minor"));
    /* At the limit the order matches. */
    retail_import("RI-2", 500000);
    rfx_take_none(&r, RULE);
}

Test(three_doc_mismatch, an_annual_limit_reason_raises_high)
{
    /* 5 x 500,000 fen matched; the sixth makes 3,000,000 > 2,600,000. */
    char no[16];
    for (int i = 1; i <= 5; i++) {
        snprintf(no, sizeof no, "RI-%d", i);
        retail_import(no, 500000);
    }
    rfx_take_none(&r, RULE);
    retail_import("RI-6", 500000);
    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(rfx_observed(a, "order.match.reasons"), "ANNUAL_LIMIT");
    cr_assert_not_null(rfx_evidence(a, "buyer.retail_import_annual_total_minor"));
    cr_assert_str_eq(a->subjects[0]->id, "RI-6");
}

Test(three_doc_mismatch, a_limit_reason_is_medium_when_the_ruleset_says_so)
{
    rfx_reinit(&r, "[" RULE "]\nlimit_reason_high = false\n");
    retail_import("RI-1", 600000);
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_MEDIUM);
}

Test(three_doc_mismatch, the_amount_threshold_is_a_ruleset_parameter)
{
    rfx_reinit(&r, "[" RULE "]\namount_high_bps = 1000\n");
    mismatched("SO-1", 100000, 90000, "CNY", FX_BUYER);
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_MEDIUM);
    mismatched("SO-2", 100000, 89999, "CNY", FX_BUYER);
    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(rfx_evidence(a, "payment.amount_difference_bps")->expected, "<= 1000");
}

Test(three_doc_mismatch, a_payment_arriving_last_decides_and_later_changes_do_not_realert)
{
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    tr_ok(ship("SO-1", FX_CONSIGNEE_PHONE));
    rfx_take_none(&r, RULE);
    struct fx_result p = pay("SO-1", 100000, "CNY", OTHER_PERSON);
    tr_ok(p);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert(rfx_has_tx(a, p.tx_id));
    cr_assert_str_eq(rfx_observed(a, "order.match.reasons"), "PAYER");
    /* The DEPARTED event rewrites the order (SHIPPED) with the same result. */
    tr_ok(tr_event(&r, "WB-SO-1", HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_DEPARTED, "CNSZX",
                   r.f.time_ms));
    rfx_take_none(&r, RULE);
}

Test(three_doc_mismatch, cancelling_a_mismatched_order_resolves_the_incident)
{
    mismatched("SO-1", 100000, 100000, "CNY", OTHER_PERSON);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    uint8_t incident[WIRE_HASH_BYTES];
    memcpy(incident, a->incident_id.data, WIRE_HASH_BYTES);
    struct fx_result res = tr_must(tr_cancel(&r, TR_MER, "SO-1"));
    Hansa__Alert *d = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_arr_eq(d->incident_id.data, incident, WIRE_HASH_BYTES);
    cr_assert_eq(d->event_no, 1);
    cr_assert_str_eq(rfx_observed(d, "order.status"), "CANCELLED");
    cr_assert(rfx_has_tx(d, res.tx_id));
    cr_assert(rfx_audience_has(d, "PAY-0001") && rfx_audience_has(d, "LOG-0001"));
}

Test(three_doc_mismatch, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[" RULE "]\nenabled = false\n");
    mismatched("SO-1", 100000, 50000, "CNY", OTHER_PERSON);
    rfx_take_none(&r, RULE);
}
