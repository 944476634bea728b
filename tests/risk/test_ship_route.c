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
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE  "SHIP-ROUTE"
#define EV(x) HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x

static struct rfx r;

static void setup(void)
{
    rfx_init(&r, NULL);
}

static void teardown(void)
{
    rfx_close(&r);
}

TestSuite(ship_route, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---- */

static Hansa__Alert *one(void)
{
    Hansa__Alert *a[8];
    size_t n = rfx_take_rule(&r, RULE, a, 8);
    cr_assert_eq(n, 1, "expected one %s alert, got %zu", RULE, n);
    return a[0];
}

static void none(void)
{
    Hansa__Alert *a[8];
    size_t n = rfx_take_rule(&r, RULE, a, 8);
    cr_assert_eq(n, 0, "expected no %s alert, got %zu: %s", RULE, n, n ? a[0]->message : "");
}

static void assert_incident(const Hansa__Alert *a, const char *key)
{
    uint8_t buf[256], id[WIRE_HASH_BYTES];
    int n = snprintf((char *)buf, sizeof buf, "hansa/incident/v1%c%s%c%s", 0, RULE, 0, key);
    wire_sha256(buf, (size_t)n, id);
    cr_assert_arr_eq(a->incident_id.data, id, WIRE_HASH_BYTES, "dedup key is not %s", key);
}

static const Hansa__AlertEvidence *evidence(const Hansa__Alert *a, const char *field)
{
    const Hansa__AlertEvidence *e = rfx_evidence(a, field);
    cr_assert_not_null(e, "no evidence %s", field);
    return e;
}

/* An order of MER-SZ-0001 from origin to destination country. */
static void order(const char *order_no, const char *origin, const char *destination)
{
    struct fx_order_doc d;
    fx_order_doc(&d, TR_MER, order_no, 100000);
    d.doc.origin_country = (char *)origin;
    d.doc.destination_country = (char *)destination;
    tr_ok(tr_order_submit(&r, &d));
}

/* LOG-0001's waybill WB-<order_no> from one UN/LOCODE to another. */
static struct fx_result waybill(const char *order_no, const char *from, const char *to)
{
    struct fx_waybill_doc d;
    char wb[80];
    snprintf(wb, sizeof wb, "WB-%s", order_no);
    fx_waybill_doc(&d, TR_MER, order_no, wb);
    d.doc.origin_locode = (char *)from;
    d.doc.destination_locode = (char *)to;
    Hansa__TxBody b;
    fx_body(&b, HANSA__TX_BODY__ACTION_CREATE_WAYBILL, &d.doc);
    struct fx_result res = fx_submit(&r.f, "LOG-0001", &b);
    tr_ok(res);
    return res;
}

static struct fx_result event(const char *order_no, int type, const char *locode)
{
    char wb[80];
    snprintf(wb, sizeof wb, "WB-%s", order_no);
    struct fx_result res = tr_event(&r, wb, type, locode, r.f.time_ms);
    tr_ok(res);
    return res;
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

/* ---- tests ---- */

Test(ship_route, waybill_matching_its_order_raises_nothing)
{
    tr_matched(&r, TR_MER, "SO-1", 100000); /* CN -> DE, CNSZX -> DEHAM */
    event("SO-1", EV(DEPARTED), "CNSZX");
    event("SO-1", EV(ARRIVED), "NLRTM"); /* a transit country is no finding */
    event("SO-1", EV(DELIVERED), "DEHAM");
    none();
}

Test(ship_route, destination_country_unlike_the_orders_raises_medium_then_escalates_to_high)
{
    order("SO-1", "CN", "DE");
    struct fx_result w = waybill("SO-1", "CNSZX", "NLRTM");
    Hansa__Alert *a = one();
    cr_assert_str_eq(a->rule_id, RULE);
    cr_assert_eq(a->rule_rev, 1);
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_eq(a->event_no, 0);
    assert_incident(a, "waybill/LOG-0001/WB-SO-1");
    cr_assert_arr_eq(a->tx_ids[0].data, w.tx_id, WIRE_HASH_BYTES);
    const Hansa__AlertEvidence *e = evidence(a, "waybill.destination_country");
    cr_assert_str_eq(e->expected, "DE");
    cr_assert_str_eq(e->observed, "NL");
    cr_assert_arr_eq(e->source_tx_id.data, w.tx_id, WIRE_HASH_BYTES);
    cr_assert_null(rfx_evidence(a, "waybill.origin_country"), "the origin matches");
    cr_assert_null(rfx_evidence(a, "jurisdictions.revision"), "no listed jurisdiction");
    cr_assert_eq(a->n_audience, 2);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "LOG-0001"));

    event("SO-1", EV(DEPARTED), "CNSZX");
    none();
    struct fx_result ev = event("SO-1", EV(ARRIVED), "IRBND");
    Hansa__Alert *u = one();
    cr_assert_eq(u->kind, HANSA__ALERT_KIND__ALERT_KIND_UPDATE);
    cr_assert_eq(u->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_eq(u->event_no, 1);
    cr_assert_arr_eq(u->incident_id.data, a->incident_id.data, WIRE_HASH_BYTES);
    e = evidence(u, "shipment_event.location_locode");
    cr_assert_str_eq(e->expected, "not in KP,IR,MM");
    cr_assert_str_eq(e->observed, "IRBND");
    cr_assert_arr_eq(e->source_tx_id.data, ev.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(evidence(u, "jurisdictions.revision")->observed, "2026-01");

    event("SO-1", EV(DEPARTED), "IRBND");
    none(); /* already HIGH */
}

Test(ship_route, waybill_origin_in_a_listed_jurisdiction_opens_high_at_once)
{
    order("SO-1", "CN", "DE");
    waybill("SO-1", "KPNAM", "DEHAM");
    Hansa__Alert *a = one();
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    const Hansa__AlertEvidence *e = evidence(a, "waybill.origin_country");
    cr_assert_str_eq(e->expected, "CN");
    cr_assert_str_eq(e->observed, "KP");
    e = evidence(a, "waybill.origin_locode");
    cr_assert_str_eq(e->expected, "not in KP,IR,MM");
    cr_assert_str_eq(e->observed, "KPNAM");
    cr_assert_str_eq(evidence(a, "jurisdictions.revision")->observed, "2026-01");
    event("SO-1", EV(DEPARTED), "KPNAM");
    none();
}

Test(ship_route, order_and_waybill_to_the_same_listed_country_raise_high_without_mismatch)
{
    order("SO-1", "CN", "IR");
    waybill("SO-1", "CNSZX", "IRTHR");
    Hansa__Alert *a = one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_null(rfx_evidence(a, "waybill.destination_country"));
    cr_assert_str_eq(evidence(a, "waybill.destination_locode")->observed, "IRTHR");
}

Test(ship_route, cancelling_the_order_resolves_its_waybill)
{
    order("SO-1", "CN", "DE");
    waybill("SO-1", "CNSZX", "FRLEH");
    Hansa__Alert *a = one();
    cancel("SO-1");
    Hansa__Alert *res = one();
    cr_assert_eq(res->kind, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED);
    cr_assert_eq(res->event_no, 1);
    cr_assert_arr_eq(res->incident_id.data, a->incident_id.data, WIRE_HASH_BYTES);
    cr_assert_str_eq(evidence(res, "order.status")->observed, "CANCELLED");
    cr_assert(rfx_audience_has(res, TR_MER) && rfx_audience_has(res, "LOG-0001"));
}

Test(ship_route, cancelling_an_order_with_a_fitting_waybill_emits_nothing)
{
    order("SO-1", "CN", "DE");
    waybill("SO-1", "CNSZX", "DEHAM");
    cancel("SO-1");
    none();
}

Test(ship_route, pledged_orders_reach_the_financing_bank)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_financed(&r, "BANK-A", "L-1", TR_MER, "F-1", "SO-1", 50000);
    event("SO-1", EV(ARRIVED), "MMRGN");
    Hansa__Alert *a = one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert(rfx_audience_has(a, "BANK-A") && !rfx_audience_has(a, "BANK-B"));
}

Test(ship_route, jurisdiction_list_and_revision_come_from_the_ruleset)
{
    rfx_close(&r);
    rfx_init(&r, "[jurisdictions]\nlist = NL\nrevision = 2026-07\n");
    order("SO-1", "CN", "DE");
    waybill("SO-1", "CNSZX", "NLRTM");
    Hansa__Alert *a = one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(evidence(a, "waybill.destination_locode")->expected, "not in NL");
    cr_assert_str_eq(evidence(a, "jurisdictions.revision")->observed, "2026-07");

    tr_matched(&r, TR_MER, "SO-2", 100000);
    event("SO-2", EV(ARRIVED), "IRBND"); /* IR is not on this list */
    none();
}

Test(ship_route, severities_come_from_the_ruleset)
{
    rfx_close(&r);
    rfx_init(&r, "[SHIP-ROUTE]\nseverity_mismatch = LOW\nseverity_listed = CRITICAL\n");
    order("SO-1", "CN", "DE");
    waybill("SO-1", "CNSZX", "NLRTM");
    cr_assert_eq(one()->severity, HANSA__SEVERITY__SEVERITY_LOW);
    event("SO-1", EV(ARRIVED), "IRBND");
    cr_assert_eq(one()->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
}

Test(ship_route, disabled_rule_stays_silent)
{
    rfx_close(&r);
    rfx_init(&r, "[SHIP-ROUTE]\nenabled = false\n");
    order("SO-1", "CN", "DE");
    waybill("SO-1", "KPNAM", "NLRTM");
    event("SO-1", EV(ARRIVED), "IRBND");
    none();
}
