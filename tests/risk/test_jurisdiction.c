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
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE  "JURISDICTION"
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

TestSuite(jurisdiction, .init = setup, .fini = teardown, .timeout = 60);

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

static struct fx_result order(const char *order_no, const char *origin, const char *destination)
{
    struct fx_order_doc d;
    fx_order_doc(&d, TR_MER, order_no, 100000);
    d.doc.origin_country = (char *)origin;
    d.doc.destination_country = (char *)destination;
    struct fx_result res = tr_order_submit(&r, &d);
    tr_ok(res);
    return res;
}

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

/* Governance (tests/ledger/test_governance.c): ADMIN-1 proposes, ADMIN-2
 * votes YES, which passes 2 of 3; the change applies in the next block. */
static void governance_pass(Hansa__ProposeGovernance *pg)
{
    Hansa__TxBody b;
    fx_body(&b, HANSA__TX_BODY__ACTION_PROPOSE_GOVERNANCE, pg);
    struct fx_result p = fx_submit(&r.f, "ADMIN-1", &b);
    tr_ok(p);
    Hansa__VoteGovernance v = HANSA__VOTE_GOVERNANCE__INIT;
    v.proposal_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, p.tx_id};
    v.ballot = HANSA__GOVERNANCE_BALLOT__GOVERNANCE_BALLOT_YES;
    fx_body(&b, HANSA__TX_BODY__ACTION_VOTE_GOVERNANCE, &v);
    tr_ok(fx_submit(&r.f, "ADMIN-2", &b));
}

/* Register a MERCHANT party of country whose key is fx_keypair(id); returns
 * the height the registration took effect at. */
static uint64_t add_party(const char *id, const char *country)
{
    struct wire_keypair kp;
    fx_keypair(id, &kp);
    ProtobufCBinaryData key = {WIRE_PUBKEY_BYTES, kp.public_key};
    Hansa__Role role = HANSA__ROLE__ROLE_MERCHANT;
    Hansa__AddParty a = HANSA__ADD_PARTY__INIT;
    a.party_id = (char *)id;
    a.display_name = "Trading Co";
    a.country = (char *)country;
    a.n_roles = 1;
    a.roles = &role;
    a.n_keys = 1;
    a.keys = &key;
    Hansa__ProposeGovernance pg = HANSA__PROPOSE_GOVERNANCE__INIT;
    pg.change_case = HANSA__PROPOSE_GOVERNANCE__CHANGE_ADD_PARTY;
    pg.add_party = &a;
    governance_pass(&pg);
    fx_empty_block(&r.f);
    return r.f.height;
}

static void remove_party(const char *id)
{
    Hansa__RemoveParty a = HANSA__REMOVE_PARTY__INIT;
    a.party_id = (char *)id;
    Hansa__ProposeGovernance pg = HANSA__PROPOSE_GOVERNANCE__INIT;
    pg.change_case = HANSA__PROPOSE_GOVERNANCE__CHANGE_REMOVE_PARTY;
    pg.remove_party = &a;
    governance_pass(&pg);
    fx_empty_block(&r.f);
}

/* ---- orders ---- */

Test(jurisdiction, order_to_a_listed_destination_raises_high_on_the_order)
{
    struct fx_result o = order("SO-1", "CN", "IR");
    Hansa__Alert *a = one();
    cr_assert_str_eq(a->rule_id, RULE);
    cr_assert_eq(a->rule_rev, 1);
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_eq(a->event_no, 0);
    assert_incident(a, "order/MER-SZ-0001/SO-1");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, o.tx_id, WIRE_HASH_BYTES);
    const Hansa__AlertEvidence *e = evidence(a, "order.destination_country");
    cr_assert_str_eq(e->expected, "not in KP,IR,MM");
    cr_assert_str_eq(e->observed, "IR");
    cr_assert_arr_eq(e->source_tx_id.data, o.tx_id, WIRE_HASH_BYTES);
    cr_assert_null(rfx_evidence(a, "order.origin_country"));
    cr_assert_str_eq(evidence(a, "jurisdictions.revision")->observed, "2026-01");
    cr_assert_eq(a->n_audience, 1);
    cr_assert(rfx_audience_has(a, TR_MER));
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER);
    cr_assert_str_eq(a->subjects[0]->owner, TR_MER);
    cr_assert_str_eq(a->subjects[0]->id, "SO-1");

    waybill("SO-1", "CNSZX", "IRTHR");
    event("SO-1", EV(ARRIVED), "IRTHR");
    none(); /* the order's incident is open */
}

Test(jurisdiction, order_from_a_listed_origin_raises_high)
{
    order("SO-1", "KP", "CN");
    Hansa__Alert *a = one();
    cr_assert_str_eq(evidence(a, "order.origin_country")->observed, "KP");
    cr_assert_null(rfx_evidence(a, "order.destination_country"));
}

Test(jurisdiction, trade_away_from_listed_jurisdictions_raises_nothing)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_financed(&r, "BANK-A", "L-1", TR_MER, "F-1", "SO-1", 50000);
    event("SO-1", EV(DEPARTED), "CNSZX");
    event("SO-1", EV(ARRIVED), "NLRTM");
    event("SO-1", EV(DELIVERED), "DEHAM");
    none();
}

Test(jurisdiction, waybill_routed_through_a_listed_jurisdiction_flags_its_order)
{
    order("SO-1", "CN", "DE");
    none();
    struct fx_result w = waybill("SO-1", "CNSZX", "MMRGN");
    Hansa__Alert *a = one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    assert_incident(a, "order/MER-SZ-0001/SO-1");
    const Hansa__AlertEvidence *e = evidence(a, "waybill.destination_locode");
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
    event("SO-1", EV(DEPARTED), "CNSZX");
    none();
    struct fx_result ev = event("SO-1", EV(ARRIVED), "IRBND");
    Hansa__Alert *a = one();
    assert_incident(a, "order/MER-SZ-0001/SO-1");
    const Hansa__AlertEvidence *e = evidence(a, "shipment_event.location_locode");
    cr_assert_str_eq(e->observed, "IRBND");
    cr_assert_arr_eq(e->source_tx_id.data, ev.tx_id, WIRE_HASH_BYTES);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "LOG-0001") &&
              rfx_audience_has(a, "BANK-B"));
    cr_assert(!rfx_audience_has(a, "BANK-A"));
}

Test(jurisdiction, cancelled_order_resolves_its_incident)
{
    order("SO-1", "CN", "IR");
    Hansa__Alert *a = one();
    cancel("SO-1");
    Hansa__Alert *res = one();
    cr_assert_eq(res->kind, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED);
    cr_assert_eq(res->event_no, 1);
    cr_assert_arr_eq(res->incident_id.data, a->incident_id.data, WIRE_HASH_BYTES);
    cr_assert_str_eq(evidence(res, "order.status")->observed, "CANCELLED");
    cr_assert(rfx_audience_has(res, TR_MER));
}

Test(jurisdiction, cancelling_an_unflagged_order_emits_nothing)
{
    order("SO-1", "CN", "DE");
    cancel("SO-1");
    none();
}

/* ---- parties ---- */

Test(jurisdiction, party_registered_by_governance_in_a_listed_country_raises_high)
{
    uint64_t h = add_party("MER-KP-0001", "KP");
    Hansa__Alert *a = one();
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    assert_incident(a, "party/MER-KP-0001");
    cr_assert_eq(a->height, h);
    cr_assert_eq(a->n_tx_ids, 0, "the block applied the change, no transaction");
    const Hansa__AlertEvidence *e = evidence(a, "party.country");
    cr_assert_str_eq(e->expected, "not in KP,IR,MM");
    cr_assert_str_eq(e->observed, "KP");
    cr_assert_str_eq(evidence(a, "jurisdictions.revision")->observed, "2026-01");
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
    none();

    remove_party("MER-KP-0001");
    Hansa__Alert *res = one();
    cr_assert_eq(res->kind, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED);
    cr_assert_eq(res->event_no, 1);
    cr_assert_arr_eq(res->incident_id.data, a->incident_id.data, WIRE_HASH_BYTES);
    cr_assert_str_eq(evidence(res, "party.status")->observed, "REMOVED");
}

Test(jurisdiction, party_registered_in_an_unlisted_country_raises_nothing)
{
    add_party("MER-DE-0009", "DE");
    none();
}

Test(jurisdiction, genesis_party_in_a_newly_listed_country_is_flagged_when_it_acts)
{
    rfx_close(&r);
    rfx_init(&r, "[jurisdictions]\nlist = SG, DE\nrevision = test-7\n");
    struct fx_result l = tr_open_line(&r, "BANK-B", "L-1", TR_MER, 1000000, 8000);
    tr_ok(l);
    Hansa__Alert *a = one();
    assert_incident(a, "party/BANK-B");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, l.tx_id, WIRE_HASH_BYTES);
    const Hansa__AlertEvidence *e = evidence(a, "party.country");
    cr_assert_str_eq(e->expected, "not in SG,DE");
    cr_assert_str_eq(e->observed, "DE");
    cr_assert_str_eq(evidence(a, "jurisdictions.revision")->observed, "test-7");
    cr_assert_eq(a->parties[0]->role, HANSA__ROLE__ROLE_BANK);
    cr_assert(rfx_audience_has(a, "BANK-B") && !rfx_audience_has(a, TR_MER));

    tr_ok(tr_open_line(&r, "BANK-B", "L-2", TR_MER, 1000000, 8000));
    none();
    tr_ok(tr_open_line(&r, "BANK-A", "L-3", TR_MER, 1000000, 8000)); /* CN */
    none();
}

Test(jurisdiction, acting_party_check_can_be_switched_off)
{
    rfx_close(&r);
    rfx_init(&r, "[jurisdictions]\nlist = DE\n[JURISDICTION]\ncheck_acting_parties = false\n");
    tr_ok(tr_open_line(&r, "BANK-B", "L-1", TR_MER, 1000000, 8000));
    none();
    add_party("MER-DE-0009", "DE"); /* governance changes are still checked */
    assert_incident(one(), "party/MER-DE-0009");
}

Test(jurisdiction, b2b_buyer_named_by_an_order_is_checked)
{
    rfx_close(&r);
    rfx_init(&r, "[jurisdictions]\nlist = DE\n");
    struct fx_order_doc d;
    fx_order_doc(&d, TR_MER, "SO-1", 100000);
    d.doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_B2B;
    d.doc.buyer_party = "BUYER-DE-1";
    d.doc.destination_country = "CN";
    tr_ok(tr_order_submit(&r, &d));
    Hansa__Alert *a = one();
    assert_incident(a, "party/BUYER-DE-1");
}

/* ---- ruleset ---- */

Test(jurisdiction, severities_come_from_the_ruleset)
{
    rfx_close(&r);
    rfx_init(&r, "[JURISDICTION]\nseverity_order = CRITICAL\nseverity_party = MEDIUM\n");
    order("SO-1", "CN", "MM");
    cr_assert_eq(one()->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    add_party("MER-IR-0001", "IR");
    cr_assert_eq(one()->severity, HANSA__SEVERITY__SEVERITY_MEDIUM);
}

Test(jurisdiction, disabled_rule_stays_silent)
{
    rfx_close(&r);
    rfx_init(&r, "[JURISDICTION]\nenabled = false\n");
    order("SO-1", "KP", "IR");
    waybill("SO-1", "KPNAM", "IRTHR");
    event("SO-1", EV(ARRIVED), "MMRGN");
    add_party("MER-KP-0001", "KP");
    none();
}
