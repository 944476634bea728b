/*
 * SHIP-ROUTE: one incident per waybill. MEDIUM when the waybill's origin or
 * destination country (first two letters of its UN/LOCODE) differs from
 * the order's; HIGH when the waybill's origin, destination or any event
 * location is in a listed jurisdiction (default KP, IR, MM, revision
 * 2026-01). NEW at the severity first met, UPDATE when a MEDIUM waybill
 * escalates to HIGH; a cancelled order resolves its waybill's incident.
 *
 * Orders are MER-SZ-0001's, CN -> DE unless a test says otherwise; waybills
 * are LOG-0001's.
 */
#include <criterion/criterion.h>

#include "trade.h"

#define RULE  "SHIP-ROUTE"
#define EV(x) HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x

RFX_SUITE(ship_route);

/* ---- tests ---- */

Test(ship_route, waybill_matching_its_order_raises_nothing)
{
    tr_matched(&r, TR_MER, "SO-1", 100000); /* CN -> DE, CNSZX -> DEHAM */
    tr_ok(tr_order_event(&r, "SO-1", EV(DEPARTED), "CNSZX", r.f.time_ms));
    tr_must(tr_order_event(&r, "SO-1", EV(ARRIVED), "NLRTM",
                           r.f.time_ms)); /* a transit country is no finding */
    tr_ok(tr_order_event(&r, "SO-1", EV(DELIVERED), "DEHAM", r.f.time_ms));
    rfx_take_none(&r, RULE);
}

Test(ship_route, destination_country_unlike_the_orders_raises_medium_then_escalates_to_high)
{
    tr_ok(tr_order_route(&r, "SO-1", "CN", "DE"));
    struct fx_result w = tr_must(tr_waybill_route(&r, "SO-1", "CNSZX", "NLRTM"));
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_str_eq(a->rule_id, RULE);
    cr_assert_eq(a->rule_rev, 1);
    cr_assert_eq(a->event_no, 0);
    rfx_expect_incident(a, RULE, "waybill/LOG-0001/WB-SO-1");
    cr_assert_arr_eq(a->tx_ids[0].data, w.tx_id, WIRE_HASH_BYTES);
    const Hansa__AlertEvidence *e = rfx_evidence_of(a, "waybill.destination_country");
    cr_assert_str_eq(e->expected, "DE");
    cr_assert_str_eq(e->observed, "NL");
    cr_assert_arr_eq(e->source_tx_id.data, w.tx_id, WIRE_HASH_BYTES);
    cr_assert_null(rfx_evidence(a, "waybill.origin_country"), "the origin matches");
    cr_assert_null(rfx_evidence(a, "jurisdictions.revision"), "no listed jurisdiction");
    cr_assert_eq(a->n_audience, 2);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "LOG-0001"));

    tr_ok(tr_order_event(&r, "SO-1", EV(DEPARTED), "CNSZX", r.f.time_ms));
    rfx_take_none(&r, RULE);
    struct fx_result ev = tr_must(tr_order_event(&r, "SO-1", EV(ARRIVED), "IRBND", r.f.time_ms));
    Hansa__Alert *u = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_UPDATE,
                                     HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_eq(u->event_no, 1);
    cr_assert_arr_eq(u->incident_id.data, a->incident_id.data, WIRE_HASH_BYTES);
    e = rfx_evidence_of(u, "shipment_event.location_locode");
    cr_assert_str_eq(e->expected, "not in KP,IR,MM");
    cr_assert_str_eq(e->observed, "IRBND");
    cr_assert_arr_eq(e->source_tx_id.data, ev.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(rfx_evidence_of(u, "jurisdictions.revision")->observed, "2026-01");

    tr_ok(tr_order_event(&r, "SO-1", EV(DEPARTED), "IRBND", r.f.time_ms));
    rfx_take_none(&r, RULE); /* already HIGH */
}

Test(ship_route, waybill_origin_in_a_listed_jurisdiction_opens_high_at_once)
{
    tr_ok(tr_order_route(&r, "SO-1", "CN", "DE"));
    tr_ok(tr_waybill_route(&r, "SO-1", "KPNAM", "DEHAM"));
    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    const Hansa__AlertEvidence *e = rfx_evidence_of(a, "waybill.origin_country");
    cr_assert_str_eq(e->expected, "CN");
    cr_assert_str_eq(e->observed, "KP");
    e = rfx_evidence_of(a, "waybill.origin_locode");
    cr_assert_str_eq(e->expected, "not in KP,IR,MM");
    cr_assert_str_eq(e->observed, "KPNAM");
    cr_assert_str_eq(rfx_evidence_of(a, "jurisdictions.revision")->observed, "2026-01");
    tr_ok(tr_order_event(&r, "SO-1", EV(DEPARTED), "KPNAM", r.f.time_ms));
    rfx_take_none(&r, RULE);
}

Test(ship_route, order_and_waybill_to_the_same_listed_country_raise_high_without_mismatch)
{
    tr_ok(tr_order_route(&r, "SO-1", "CN", "IR"));
    tr_ok(tr_waybill_route(&r, "SO-1", "CNSZX", "IRTHR"));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_null(rfx_evidence(a, "waybill.destination_country"));
    cr_assert_str_eq(rfx_evidence_of(a, "waybill.destination_locode")->observed, "IRTHR");
}

Test(ship_route, cancelling_the_order_resolves_its_waybill)
{
    tr_ok(tr_order_route(&r, "SO-1", "CN", "DE"));
    tr_ok(tr_waybill_route(&r, "SO-1", "CNSZX", "FRLEH"));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    tr_ok(tr_cancel(&r, TR_MER, "SO-1"));
    Hansa__Alert *res = rfx_take_one(&r, RULE);
    cr_assert_eq(res->kind, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED);
    cr_assert_eq(res->event_no, 1);
    cr_assert_arr_eq(res->incident_id.data, a->incident_id.data, WIRE_HASH_BYTES);
    cr_assert_str_eq(rfx_evidence_of(res, "order.status")->observed, "CANCELLED");
    cr_assert(rfx_audience_has(res, TR_MER) && rfx_audience_has(res, "LOG-0001"));
}

Test(ship_route, cancelling_an_order_with_a_fitting_waybill_emits_nothing)
{
    tr_ok(tr_order_route(&r, "SO-1", "CN", "DE"));
    tr_ok(tr_waybill_route(&r, "SO-1", "CNSZX", "DEHAM"));
    tr_ok(tr_cancel(&r, TR_MER, "SO-1"));
    rfx_take_none(&r, RULE);
}

Test(ship_route, pledged_orders_reach_the_financing_bank)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_financed(&r, "BANK-A", "L-1", TR_MER, "F-1", "SO-1", 50000);
    tr_ok(tr_order_event(&r, "SO-1", EV(ARRIVED), "MMRGN", r.f.time_ms));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert(rfx_audience_has(a, "BANK-A") && !rfx_audience_has(a, "BANK-B"));
}

Test(ship_route, jurisdiction_list_and_revision_come_from_the_ruleset)
{
    rfx_reinit(&r, "[jurisdictions]\nlist = NL\nrevision = 2026-07\n");
    tr_ok(tr_order_route(&r, "SO-1", "CN", "DE"));
    tr_ok(tr_waybill_route(&r, "SO-1", "CNSZX", "NLRTM"));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(rfx_evidence_of(a, "waybill.destination_locode")->expected, "not in NL");
    cr_assert_str_eq(rfx_evidence_of(a, "jurisdictions.revision")->observed, "2026-07");

    tr_matched(&r, TR_MER, "SO-2", 100000);
    tr_must(
        tr_order_event(&r, "SO-2", EV(ARRIVED), "IRBND", r.f.time_ms)); /* IR is not on this list */
    rfx_take_none(&r, RULE);
}

Test(ship_route, severities_come_from_the_ruleset)
{
    rfx_reinit(&r, "[SHIP-ROUTE]\nseverity_mismatch = LOW\nseverity_listed = CRITICAL\n");
    tr_ok(tr_order_route(&r, "SO-1", "CN", "DE"));
    tr_ok(tr_waybill_route(&r, "SO-1", "CNSZX", "NLRTM"));
    cr_assert_eq(rfx_take_one(&r, RULE)->severity, HANSA__SEVERITY__SEVERITY_LOW);
    tr_ok(tr_order_event(&r, "SO-1", EV(ARRIVED), "IRBND", r.f.time_ms));
    cr_assert_eq(rfx_take_one(&r, RULE)->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
}

Test(ship_route, disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[SHIP-ROUTE]\nenabled = false\n");
    tr_ok(tr_order_route(&r, "SO-1", "CN", "DE"));
    tr_ok(tr_waybill_route(&r, "SO-1", "KPNAM", "NLRTM"));
    tr_ok(tr_order_event(&r, "SO-1", EV(ARRIVED), "IRBND", r.f.time_ms));
    rfx_take_none(&r, RULE);
}
