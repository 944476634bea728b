/*
 * JURISDICTION: HIGH on a party ("party/<id>") whose country is listed, and
 * on an order ("order/<merchant>/<order_no>") whose origin or destination,
 * waybill origin or destination, or a shipment event location is listed
 * (default list KP, IR, MM, revision 2026-01; the revision is in every
 * alert's evidence). Parties are checked when governance registers or
 * changes them, and when they act (covering the genesis cast, which the
 * engine never sees as history). A cancelled order or a removed party
 * resolves its incident.
 */
#include <criterion/criterion.h>

#include "trade.h"

#define RULE  "JURISDICTION"
#define EV(x) HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x

RFX_SUITE(jurisdiction);

/* ---- helpers ---- */

/* A merchant of country registered by governance; the height it took
 * effect at. */
static uint64_t add_party(const char *id, const char *country)
{
    return tr_add_merchant(&r, id, "Trading Co", country);
}

static void remove_party(const char *id)
{
    Hansa__RemoveParty a = HANSA__REMOVE_PARTY__INIT;
    a.party_id = (char *)id;
    Hansa__ProposeGovernance pg = HANSA__PROPOSE_GOVERNANCE__INIT;
    pg.change_case = HANSA__PROPOSE_GOVERNANCE__CHANGE_REMOVE_PARTY;
    pg.remove_party = &a;
    tr_governance(&r, &pg);
}

/* ---- orders ---- */

Test(jurisdiction, order_to_a_listed_destination_raises_high_on_the_order)
{
    struct fx_result o = tr_must(tr_order_route(&r, "SO-1", "CN", "IR"));
    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(a->rule_id, RULE);
    cr_assert_eq(a->rule_rev, 1);
    cr_assert_eq(a->event_no, 0);
    rfx_expect_incident(a, RULE, "order/MER-SZ-0001/SO-1");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, o.tx_id, WIRE_HASH_BYTES);
    const Hansa__AlertEvidence *e = rfx_evidence_of(a, "order.destination_country");
    cr_assert_str_eq(e->expected, "not in KP,IR,MM");
    cr_assert_str_eq(e->observed, "IR");
    cr_assert_arr_eq(e->source_tx_id.data, o.tx_id, WIRE_HASH_BYTES);
    cr_assert_null(rfx_evidence(a, "order.origin_country"));
    cr_assert_str_eq(rfx_evidence_of(a, "jurisdictions.revision")->observed, "2026-01");
    cr_assert_eq(a->n_audience, 1);
    cr_assert(rfx_audience_has(a, TR_MER));
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER);
    cr_assert_str_eq(a->subjects[0]->owner, TR_MER);
    cr_assert_str_eq(a->subjects[0]->id, "SO-1");

    tr_ok(tr_waybill_route(&r, "SO-1", "CNSZX", "IRTHR"));
    tr_ok(tr_order_event(&r, "SO-1", EV(ARRIVED), "IRTHR", r.f.time_ms));
    rfx_take_none(&r, RULE); /* the order's incident is open */
}

Test(jurisdiction, order_from_a_listed_origin_raises_high)
{
    tr_ok(tr_order_route(&r, "SO-1", "KP", "CN"));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_str_eq(rfx_evidence_of(a, "order.origin_country")->observed, "KP");
    cr_assert_null(rfx_evidence(a, "order.destination_country"));
}

Test(jurisdiction, trade_away_from_listed_jurisdictions_raises_nothing)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_financed(&r, "BANK-A", "L-1", TR_MER, "F-1", "SO-1", 50000);
    tr_ok(tr_order_event(&r, "SO-1", EV(DEPARTED), "CNSZX", r.f.time_ms));
    tr_ok(tr_order_event(&r, "SO-1", EV(ARRIVED), "NLRTM", r.f.time_ms));
    tr_ok(tr_order_event(&r, "SO-1", EV(DELIVERED), "DEHAM", r.f.time_ms));
    rfx_take_none(&r, RULE);
}

Test(jurisdiction, waybill_routed_through_a_listed_jurisdiction_flags_its_order)
{
    tr_ok(tr_order_route(&r, "SO-1", "CN", "DE"));
    rfx_take_none(&r, RULE);
    struct fx_result w = tr_must(tr_waybill_route(&r, "SO-1", "CNSZX", "MMRGN"));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    rfx_expect_incident(a, RULE, "order/MER-SZ-0001/SO-1");
    const Hansa__AlertEvidence *e = rfx_evidence_of(a, "waybill.destination_locode");
    cr_assert_str_eq(e->expected, "not in KP,IR,MM");
    cr_assert_str_eq(e->observed, "MMRGN");
    cr_assert_arr_eq(e->source_tx_id.data, w.tx_id, WIRE_HASH_BYTES);
    cr_assert_null(rfx_evidence(a, "waybill.origin_locode"));
    cr_assert_eq(a->n_audience, 2);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "LOG-0001"));
    size_t waybills = 0;
    for (size_t i = 0; i < a->n_subjects; i++)
        waybills += a->subjects[i]->type == HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL;
    cr_assert_eq(waybills, 1, "the waybill is named once");
}

Test(jurisdiction, shipment_event_in_a_listed_jurisdiction_flags_the_order_and_its_bank)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_financed(&r, "BANK-B", "L-1", TR_MER, "F-1", "SO-1", 50000);
    tr_ok(tr_order_event(&r, "SO-1", EV(DEPARTED), "CNSZX", r.f.time_ms));
    rfx_take_none(&r, RULE);
    struct fx_result ev = tr_must(tr_order_event(&r, "SO-1", EV(ARRIVED), "IRBND", r.f.time_ms));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    rfx_expect_incident(a, RULE, "order/MER-SZ-0001/SO-1");
    const Hansa__AlertEvidence *e = rfx_evidence_of(a, "shipment_event.location_locode");
    cr_assert_str_eq(e->observed, "IRBND");
    cr_assert_arr_eq(e->source_tx_id.data, ev.tx_id, WIRE_HASH_BYTES);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "LOG-0001") &&
              rfx_audience_has(a, "BANK-B"));
    cr_assert(!rfx_audience_has(a, "BANK-A"));
}

Test(jurisdiction, cancelled_order_resolves_its_incident)
{
    tr_ok(tr_order_route(&r, "SO-1", "CN", "IR"));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    tr_ok(tr_cancel(&r, TR_MER, "SO-1"));
    Hansa__Alert *res = rfx_take_one(&r, RULE);
    cr_assert_eq(res->kind, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED);
    cr_assert_eq(res->event_no, 1);
    cr_assert_arr_eq(res->incident_id.data, a->incident_id.data, WIRE_HASH_BYTES);
    cr_assert_str_eq(rfx_evidence_of(res, "order.status")->observed, "CANCELLED");
    cr_assert(rfx_audience_has(res, TR_MER));
}

Test(jurisdiction, cancelling_an_unflagged_order_emits_nothing)
{
    tr_ok(tr_order_route(&r, "SO-1", "CN", "DE"));
    tr_ok(tr_cancel(&r, TR_MER, "SO-1"));
    rfx_take_none(&r, RULE);
}

/* ---- parties ---- */

Test(jurisdiction, party_registered_by_governance_in_a_listed_country_raises_high)
{
    uint64_t h = add_party("MER-KP-0001", "KP");
    Hansa__Alert *a =
        rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_HIGH);
    rfx_expect_incident(a, RULE, "party/MER-KP-0001");
    cr_assert_eq(a->height, h);
    cr_assert_eq(a->n_tx_ids, 0, "the block applied the change, no transaction");
    const Hansa__AlertEvidence *e = rfx_evidence_of(a, "party.country");
    cr_assert_str_eq(e->expected, "not in KP,IR,MM");
    cr_assert_str_eq(e->observed, "KP");
    cr_assert_str_eq(rfx_evidence_of(a, "jurisdictions.revision")->observed, "2026-01");
    cr_assert_eq(a->n_subjects, 1);
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY);
    cr_assert_str_eq(a->subjects[0]->owner, "");
    cr_assert_str_eq(a->subjects[0]->id, "MER-KP-0001");
    cr_assert_eq(a->n_audience, 1);
    cr_assert(rfx_audience_has(a, "MER-KP-0001"));
    cr_assert_eq(a->parties[0]->role, HANSA__ROLE__ROLE_MERCHANT);

    /* Acting afterwards adds nothing: the incident is open. */
    struct fx_order_doc d;
    fx_order_doc(&d, "MER-KP-0001", "KP-1", 1000);
    tr_ok(tr_order_submit(&r, &d));
    rfx_take_none(&r, RULE);

    remove_party("MER-KP-0001");
    Hansa__Alert *res = rfx_take_one(&r, RULE);
    cr_assert_eq(res->kind, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED);
    cr_assert_eq(res->event_no, 1);
    cr_assert_arr_eq(res->incident_id.data, a->incident_id.data, WIRE_HASH_BYTES);
    cr_assert_str_eq(rfx_evidence_of(res, "party.status")->observed, "REMOVED");
}

Test(jurisdiction, party_registered_in_an_unlisted_country_raises_nothing)
{
    add_party("MER-DE-0009", "DE");
    rfx_take_none(&r, RULE);
}

Test(jurisdiction, genesis_party_in_a_newly_listed_country_is_flagged_when_it_acts)
{
    rfx_reinit(&r, "[jurisdictions]\nlist = SG, DE\nrevision = test-7\n");
    struct fx_result l = tr_must(tr_open_line(&r, "BANK-B", "L-1", TR_MER, 1000000, 8000));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    rfx_expect_incident(a, RULE, "party/BANK-B");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, l.tx_id, WIRE_HASH_BYTES);
    const Hansa__AlertEvidence *e = rfx_evidence_of(a, "party.country");
    cr_assert_str_eq(e->expected, "not in SG,DE");
    cr_assert_str_eq(e->observed, "DE");
    cr_assert_str_eq(rfx_evidence_of(a, "jurisdictions.revision")->observed, "test-7");
    cr_assert_eq(a->parties[0]->role, HANSA__ROLE__ROLE_BANK);
    cr_assert(rfx_audience_has(a, "BANK-B") && !rfx_audience_has(a, TR_MER));

    tr_ok(tr_open_line(&r, "BANK-B", "L-2", TR_MER, 1000000, 8000));
    rfx_take_none(&r, RULE);
    tr_ok(tr_open_line(&r, "BANK-A", "L-3", TR_MER, 1000000, 8000)); /* CN */
    rfx_take_none(&r, RULE);
}

Test(jurisdiction, acting_party_check_can_be_switched_off)
{
    rfx_reinit(&r, "[jurisdictions]\nlist = DE\n[JURISDICTION]\ncheck_acting_parties = false\n");
    tr_ok(tr_open_line(&r, "BANK-B", "L-1", TR_MER, 1000000, 8000));
    rfx_take_none(&r, RULE);
    add_party("MER-DE-0009", "DE"); /* governance changes are still checked */
    rfx_expect_incident(rfx_take_one(&r, RULE), RULE, "party/MER-DE-0009");
}

Test(jurisdiction, b2b_buyer_named_by_an_order_is_checked)
{
    rfx_reinit(&r, "[jurisdictions]\nlist = DE\n");
    struct fx_order_doc d;
    fx_order_doc(&d, TR_MER, "SO-1", 100000);
    d.doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_B2B;
    d.doc.buyer_party = "BUYER-DE-1";
    d.doc.destination_country = "CN";
    tr_ok(tr_order_submit(&r, &d));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    rfx_expect_incident(a, RULE, "party/BUYER-DE-1");
}

/* ---- ruleset ---- */

Test(jurisdiction, severities_come_from_the_ruleset)
{
    rfx_reinit(&r, "[JURISDICTION]\nseverity_order = CRITICAL\nseverity_party = MEDIUM\n");
    tr_ok(tr_order_route(&r, "SO-1", "CN", "MM"));
    cr_assert_eq(rfx_take_one(&r, RULE)->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    add_party("MER-IR-0001", "IR");
    cr_assert_eq(rfx_take_one(&r, RULE)->severity, HANSA__SEVERITY__SEVERITY_MEDIUM);
}

Test(jurisdiction, disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[JURISDICTION]\nenabled = false\n");
    tr_ok(tr_order_route(&r, "SO-1", "KP", "IR"));
    tr_ok(tr_waybill_route(&r, "SO-1", "KPNAM", "IRTHR"));
    tr_ok(tr_order_event(&r, "SO-1", EV(ARRIVED), "MMRGN", r.f.time_ms));
    add_party("MER-KP-0001", "KP");
    rfx_take_none(&r, RULE);
}
