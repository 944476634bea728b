/*
 * SHIP-STILL: HIGH for each order of a disbursed financing that has no
 * DEPARTED event 10 days after the disbursement (phantom shipment);
 * nothing for a financing settled before then; a later departure resolves
 * the incident. Orders are MER-SZ-0001's, shipped by LOG-0001 (waybill
 * WB-<order_no>), financed by BANK-A on line L-1.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE  "SHIP-STILL"
#define EV(x) HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x

RFX_SUITE(ship_still);

/* Line, request, approval and disbursal of F-1 over the orders (each
 * matched at 100,000 CNY beforehand), at 50,000 CNY per order; the
 * disbursal. */
static struct tr_at finance(const char *const *order_nos, size_t n)
{
    int64_t amount = 50000 * (int64_t)n;
    tr_ok(tr_open_line(&r, "BANK-A", "L-1", TR_MER, 10 * amount, 8000));
    tr_ok(tr_request_approve(&r, TR_MER, "F-1", "BANK-A", "L-1", order_nos, n, amount));
    return tr_last(&r, tr_disburse(&r, "BANK-A", TR_MER, "F-1"));
}

static struct tr_at matched_and_financed(void)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    const char *orders[] = {"SO-1"};
    struct tr_at d = finance(orders, 1);
    Hansa__Alert *a[8];
    rfx_take_rule(&r, RULE, a, 8); /* other rules (FAST-CYCLE) are not ours */
    return d;
}

Test(ship_still, an_order_not_departed_10_days_after_disbursement_raises_high)
{
    struct tr_at d = matched_and_financed();
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 1);
    uint64_t due = d.time_ms + 10 * TR_DAY_MS;
    rfx_advance_to(&r, due - 1000);
    rfx_take_none(&r, RULE);
    rfx_advance_to(&r, due + 1);
    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_eq(a->cursor->height, r.f.height);
    cr_assert_eq(a->height, d.height, "the evidence is the disbursal");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, d.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(rfx_observed(a, "waybill.events"), "none in 0 events");
    cr_assert_str_eq(rfx_evidence(a, "waybill.events")->expected, "DEPARTED within 864000000 ms");
    cr_assert_str_eq(rfx_observed(a, "order.status"), "CREATED");
    cr_assert_str_eq(rfx_observed(a, "financing.ms_since_disbursed"), "864000001");
    cr_assert_str_eq(rfx_observed(a, "financing.amount_minor"), "50000 CNY");
    cr_assert_eq(a->n_audience, 3);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "BANK-A") &&
              rfx_audience_has(a, "LOG-0001"));
    cr_assert(!rfx_audience_has(a, "BANK-B") && !rfx_audience_has(a, "PAY-0001"));
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER);
    cr_assert_str_eq(a->subjects[0]->id, "SO-1");
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-1"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, "LOG-0001", "WB-SO-1"));
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 1, "only the open incident remains");
}

Test(ship_still, an_order_that_departed_before_the_deadline_raises_nothing)
{
    struct tr_at d = matched_and_financed();
    uint64_t due = d.time_ms + 10 * TR_DAY_MS;
    rfx_advance_to(&r, due - 3000);
    tr_ok(tr_order_event(&r, "SO-1", EV(RECEIVED), "CNSZX", r.f.time_ms));
    tr_ok(tr_order_event(&r, "SO-1", EV(DEPARTED), "CNSZX", r.f.time_ms)); /* at due - 1 s */
    rfx_advance_to(&r, due + 1);
    rfx_take_none(&r, RULE);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 0);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0);
}

Test(ship_still, only_the_orders_that_have_not_departed_are_reported)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_matched(&r, TR_MER, "SO-2", 100000);
    tr_matched(&r, TR_MER, "SO-3", 100000);
    const char *orders[] = {"SO-1", "SO-2", "SO-3"};
    struct tr_at d = finance(orders, 3);
    tr_ok(tr_order_event(&r, "SO-2", EV(DEPARTED), "CNSZX", r.f.time_ms));
    rfx_advance_to(&r, d.time_ms + 10 * TR_DAY_MS + 1);
    Hansa__Alert *a[8];
    size_t n = rfx_take_rule(&r, RULE, a, 8);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(a[0]->subjects[0]->id, "SO-1");
    cr_assert_str_eq(a[1]->subjects[0]->id, "SO-3");
    cr_assert_neq(memcmp(a[0]->incident_id.data, a[1]->incident_id.data, WIRE_HASH_BYTES), 0,
                  "one incident per order");
}

Test(ship_still, a_delivery_without_departure_is_still_a_phantom_shipment)
{
    struct tr_at d = matched_and_financed();
    tr_ok(tr_order_event(&r, "SO-1", EV(DELIVERED), "CNSZX", r.f.time_ms));
    rfx_advance_to(&r, d.time_ms + 10 * TR_DAY_MS + 1);
    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(rfx_observed(a, "order.status"), "DELIVERED");
    cr_assert_str_eq(rfx_observed(a, "waybill.events"), "none in 1 events");
}

Test(ship_still, a_financing_settled_before_the_deadline_raises_nothing)
{
    struct tr_at d = matched_and_financed();
    uint64_t due = d.time_ms + 10 * TR_DAY_MS;
    rfx_advance_to(&r, due - 2000);
    tr_ok(tr_repay(&r, "BANK-A", TR_MER, "F-1", 50000)); /* settled at due - 1 s */
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0, "settlement stops the clock");
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 0);
    rfx_advance_to(&r, due + 1);
    rfx_take_none(&r, RULE);
}

Test(ship_still, a_partly_repaid_financing_is_still_checked)
{
    struct tr_at d = matched_and_financed();
    tr_ok(tr_repay(&r, "BANK-A", TR_MER, "F-1", 49999));
    rfx_advance_to(&r, d.time_ms + 10 * TR_DAY_MS + 1);
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
}

Test(ship_still, a_departure_after_the_alert_resolves_the_incident)
{
    struct tr_at d = matched_and_financed();
    rfx_advance_to(&r, d.time_ms + 10 * TR_DAY_MS + 1);
    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    uint8_t incident[WIRE_HASH_BYTES];
    memcpy(incident, a->incident_id.data, WIRE_HASH_BYTES);
    tr_ok(tr_order_event(&r, "SO-1", EV(RECEIVED), "CNSZX", r.f.time_ms));
    rfx_take_none(&r, RULE);
    tr_ok(tr_order_event(&r, "SO-1", EV(DEPARTED), "CNSZX", r.f.time_ms));
    Hansa__Alert *x = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED,
                                     HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_arr_eq(x->incident_id.data, incident, WIRE_HASH_BYTES);
    cr_assert_eq(x->event_no, 1);
    cr_assert(rfx_audience_has(x, "BANK-A") && rfx_audience_has(x, "LOG-0001"));
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 0);
    /* A second departure (another leg) is no news. */
    tr_ok(tr_order_event(&r, "SO-1", EV(DEPARTED), "CNSZX", r.f.time_ms));
    rfx_take_none(&r, RULE);
}

Test(ship_still, an_unfinanced_order_is_not_watched)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_ok(tr_open_line(&r, "BANK-A", "L-1", TR_MER, 1000000, 8000));
    const char *orders[] = {"SO-1"};
    tr_ok(tr_request_approve(&r, TR_MER, "F-1", "BANK-A", "L-1", orders, 1, 50000));
    /* approved, never disbursed */
    rfx_advance_to(&r, r.f.time_ms + 20 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0);
}

Test(ship_still, the_window_is_a_ruleset_parameter)
{
    rfx_reinit(&r, "[" RULE "]\nstill_ms = 2d\n");
    struct tr_at d = matched_and_financed();
    rfx_advance_to(&r, d.time_ms + 2 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
    rfx_advance_to(&r, d.time_ms + 2 * TR_DAY_MS + 1);
    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(rfx_evidence(a, "financing.ms_since_disbursed")->expected, "<= 172800000");
}

Test(ship_still, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[" RULE "]\nenabled = false\n");
    struct tr_at d = matched_and_financed();
    rfx_advance_to(&r, d.time_ms + 20 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0);
}
