/*
 * SHIP-STALLED: a shipment in transit (after DEPARTED, before DELIVERED or
 * RETURNED) with no event for 7 days of block time raises MEDIUM on its
 * waybill; every event re-arms the clock; a stalled shipment that moves
 * again resolves the incident, and stalling again reopens it.
 *
 * Every shipment here is order SO-n with waybill WB-SO-n of LOG-0001
 * (tr_matched), departing CNSZX at block time.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE     "SHIP-STALLED"
#define EV(x)    HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x
#define STALL_MS (7 * TR_DAY_MS)

static struct rfx r;

static void setup(void)
{
    rfx_init(&r, NULL);
}

static void teardown(void)
{
    rfx_close(&r);
}

TestSuite(ship_stalled, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---- */

/* Exactly one new alert of this rule (other rules' alerts are ignored). */
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

/* SHA-256("hansa/incident/v1" 0x00 rule 0x00 key): RISK.md's incident id. */
static void assert_incident(const Hansa__Alert *a, const char *key)
{
    uint8_t buf[256], id[WIRE_HASH_BYTES];
    int n = snprintf((char *)buf, sizeof buf, "hansa/incident/v1%c%s%c%s", 0, RULE, 0, key);
    wire_sha256(buf, (size_t)n, id);
    cr_assert_eq(a->incident_id.len, WIRE_HASH_BYTES);
    cr_assert_arr_eq(a->incident_id.data, id, WIRE_HASH_BYTES, "dedup key is not %s", key);
}

static const char *observed(const Hansa__Alert *a, const char *field)
{
    const Hansa__AlertEvidence *e = rfx_evidence(a, field);
    cr_assert_not_null(e, "no evidence %s", field);
    return e->observed;
}

struct event {
    uint64_t time_ms; /* block time that recorded it */
    uint64_t height;
    uint8_t tx_id[WIRE_HASH_BYTES];
};

/* A shipment event on WB-<order_no> at the current block time. */
static struct event event(const char *order_no, int type, const char *locode)
{
    char wb[80];
    snprintf(wb, sizeof wb, "WB-%s", order_no);
    struct event e = {.time_ms = r.f.time_ms};
    struct fx_result res = tr_event(&r, wb, type, locode, r.f.time_ms);
    tr_ok(res);
    e.height = r.f.height;
    memcpy(e.tx_id, res.tx_id, WIRE_HASH_BYTES);
    return e;
}

/* A matched order whose shipment departs now. */
static struct event departed(const char *order_no)
{
    tr_matched(&r, TR_MER, order_no, 100000);
    return event(order_no, EV(DEPARTED), "CNSZX");
}

/* Blocks up to exactly t_ms (nothing past it yet), then one block past it. */
static void to_deadline(uint64_t t_ms)
{
    rfx_advance_to(&r, t_ms);
}

static void past_deadline(void)
{
    fx_empty_block(&r.f);
}

/* ---- tests ---- */

Test(ship_stalled, shipment_silent_for_seven_days_in_transit_raises_medium_on_its_waybill)
{
    struct event d = departed("SO-1");
    to_deadline(d.time_ms + STALL_MS);
    none(); /* exactly 7 days: not yet "no event for 7 days" */
    past_deadline();
    Hansa__Alert *a = one();
    cr_assert_str_eq(a->rule_id, RULE);
    cr_assert_eq(a->rule_rev, 1);
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_eq(a->event_no, 0);
    assert_incident(a, "waybill/LOG-0001/WB-SO-1");
    cr_assert_eq(a->height, d.height, "the evidence is the last event's block");
    cr_assert_eq(a->block_time_ms, d.time_ms);
    cr_assert_eq(a->cursor->height, r.f.height, "emitted by the first block past the deadline");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, d.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(observed(a, "shipment_event.type"), "DEPARTED");
    cr_assert_str_eq(observed(a, "shipment_event.location_locode"), "CNSZX");
    const Hansa__AlertEvidence *e = rfx_evidence(a, "waybill.ms_since_last_event");
    cr_assert_not_null(e);
    cr_assert_str_eq(e->expected, "<= 604800000");
    cr_assert_str_eq(e->observed, "604801000");
    cr_assert_eq(a->n_audience, 2);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "LOG-0001"));
    cr_assert(!rfx_audience_has(a, "BANK-A") && !rfx_audience_has(a, "BANK-B"));
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL);
    cr_assert_str_eq(a->subjects[0]->owner, "LOG-0001");
    cr_assert_str_eq(a->subjects[0]->id, "WB-SO-1");

    rfx_advance_to(&r, r.f.time_ms + 30 * TR_DAY_MS);
    none(); /* one incident, reported once */
}

Test(ship_stalled, every_new_event_restarts_the_seven_days)
{
    struct event d = departed("SO-1");
    rfx_advance_to(&r, d.time_ms + 5 * TR_DAY_MS);
    struct event a1 = event("SO-1", EV(ARRIVED), "NLRTM");
    rfx_advance_to(&r, d.time_ms + STALL_MS + 1000);
    none();
    to_deadline(a1.time_ms + STALL_MS);
    none();
    past_deadline();
    Hansa__Alert *a = one();
    cr_assert_eq(a->height, a1.height);
    cr_assert_str_eq(observed(a, "shipment_event.type"), "ARRIVED");
    cr_assert_str_eq(observed(a, "shipment_event.location_locode"), "NLRTM");
}

Test(ship_stalled, stalled_shipment_that_moves_again_resolves_and_a_new_stall_reopens)
{
    struct event d = departed("SO-1");
    rfx_advance_to(&r, d.time_ms + STALL_MS + 1000);
    Hansa__Alert *a = one();

    struct event m = event("SO-1", EV(ARRIVED), "DEHAM");
    Hansa__Alert *res = one();
    cr_assert_eq(res->kind, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED);
    cr_assert_eq(res->event_no, 1);
    cr_assert_arr_eq(res->incident_id.data, a->incident_id.data, WIRE_HASH_BYTES);
    cr_assert_eq(res->height, m.height);
    cr_assert_arr_eq(res->tx_ids[0].data, m.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(observed(res, "shipment_event.type"), "ARRIVED");
    cr_assert(rfx_audience_has(res, TR_MER) && rfx_audience_has(res, "LOG-0001"));

    rfx_advance_to(&r, m.time_ms + STALL_MS + 1000);
    Hansa__Alert *again = one();
    cr_assert_eq(again->kind, HANSA__ALERT_KIND__ALERT_KIND_UPDATE, "a resolved incident reopens");
    cr_assert_eq(again->event_no, 2);
    cr_assert_arr_eq(again->incident_id.data, a->incident_id.data, WIRE_HASH_BYTES);
    cr_assert_eq(again->height, m.height);
}

Test(ship_stalled, delivered_shipment_never_stalls)
{
    struct event d = departed("SO-1");
    rfx_advance_to(&r, d.time_ms + 6 * TR_DAY_MS);
    event("SO-1", EV(DELIVERED), "DEHAM");
    rfx_advance_to(&r, d.time_ms + 8 * TR_DAY_MS);
    event("SO-1", EV(EXCEPTION), "DEHAM"); /* after delivery: not in transit */
    rfx_advance_to(&r, d.time_ms + 60 * TR_DAY_MS);
    none();
}

Test(ship_stalled, returned_shipment_never_stalls)
{
    struct event d = departed("SO-1");
    rfx_advance_to(&r, d.time_ms + 2 * TR_DAY_MS);
    event("SO-1", EV(RETURNED), "CNSZX");
    rfx_advance_to(&r, d.time_ms + 60 * TR_DAY_MS);
    none();
}

Test(ship_stalled, shipment_that_never_departed_is_not_in_transit)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    struct event e = event("SO-1", EV(RECEIVED), "CNSZX");
    event("SO-1", EV(LOADED), "CNSZX");
    rfx_advance_to(&r, e.time_ms + 60 * TR_DAY_MS);
    none();
}

Test(ship_stalled, stalled_shipment_of_a_pledged_order_reaches_the_financing_bank)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_financed(&r, "BANK-A", "L-1", TR_MER, "F-1", "SO-1", 50000);
    struct event d = event("SO-1", EV(DEPARTED), "CNSZX");
    rfx_advance_to(&r, d.time_ms + STALL_MS + 1000);
    Hansa__Alert *a = one();
    cr_assert(rfx_audience_has(a, "BANK-A") && rfx_audience_has(a, TR_MER) &&
              rfx_audience_has(a, "LOG-0001"));
    cr_assert(!rfx_audience_has(a, "BANK-B"));
    bool financing = false;
    for (size_t i = 0; i < a->n_subjects; i++)
        financing =
            financing || (a->subjects[i]->type == HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING &&
                          strcmp(a->subjects[i]->id, "F-1") == 0);
    cr_assert(financing, "the pledged financing is a subject");
}

Test(ship_stalled, each_waybill_is_its_own_incident)
{
    struct event d1 = departed("SO-1");
    struct event d2 = departed("SO-2");
    (void)d1;
    rfx_advance_to(&r, d2.time_ms + STALL_MS + 1000);
    Hansa__Alert *a[4];
    cr_assert_eq(rfx_take_rule(&r, RULE, a, 4), 2);
    assert_incident(a[0], "waybill/LOG-0001/WB-SO-1");
    assert_incident(a[1], "waybill/LOG-0001/WB-SO-2");
}

Test(ship_stalled, stall_window_and_severity_come_from_the_ruleset)
{
    rfx_close(&r);
    rfx_init(&r, "[SHIP-STALLED]\nstall_ms = 2d\nseverity = HIGH\n");
    struct event d = departed("SO-1");
    to_deadline(d.time_ms + 2 * TR_DAY_MS);
    none();
    past_deadline();
    Hansa__Alert *a = one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(rfx_evidence(a, "waybill.ms_since_last_event")->expected, "<= 172800000");
}

Test(ship_stalled, disabled_rule_stays_silent)
{
    rfx_close(&r);
    rfx_init(&r, "[SHIP-STALLED]\nenabled = false\n");
    struct event d = departed("SO-1");
    rfx_advance_to(&r, d.time_ms + 30 * TR_DAY_MS);
    none();
}
