/*
 * SHIP-STALLED: a shipment in transit (after DEPARTED, before DELIVERED or
 * RETURNED) with no event for 7 days of block time raises MEDIUM on its
 * waybill; every event re-arms the clock; a stalled shipment that moves
 * again resolves the incident, and stalling again reopens it.
 *
 * Every shipment here is order SO-n with waybill WB-SO-n of LOG-0001
 * (tr_matched), departing CNSZX at block time.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE     "SHIP-STALLED"
#define EV(x)    HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x
#define STALL_MS (7 * TR_DAY_MS)

RFX_SUITE(ship_stalled);

/* ---- helpers ---- */

/* A shipment event on WB-<order_no> at the current block time. */
static struct tr_at event(const char *order_no, int type, const char *locode)
{
    return tr_last(&r, tr_order_event(&r, order_no, type, locode, r.f.time_ms));
}

/* A matched order whose shipment departs now. */
static struct tr_at departed(const char *order_no)
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
    struct tr_at d = departed("SO-1");
    to_deadline(d.time_ms + STALL_MS);
    rfx_take_none(&r, RULE); /* exactly 7 days: not yet "no event for 7 days" */
    past_deadline();
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_str_eq(a->rule_id, RULE);
    cr_assert_eq(a->rule_rev, 1);
    cr_assert_eq(a->event_no, 0);
    rfx_expect_incident(a, RULE, "waybill/LOG-0001/WB-SO-1");
    cr_assert_eq(a->height, d.height, "the evidence is the last event's block");
    cr_assert_eq(a->block_time_ms, d.time_ms);
    cr_assert_eq(a->cursor->height, r.f.height, "emitted by the first block past the deadline");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, d.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(rfx_observed(a, "shipment_event.type"), "DEPARTED");
    cr_assert_str_eq(rfx_observed(a, "shipment_event.location_locode"), "CNSZX");
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
    rfx_take_none(&r, RULE); /* one incident, reported once */
}

Test(ship_stalled, every_new_event_restarts_the_seven_days)
{
    struct tr_at d = departed("SO-1");
    rfx_advance_to(&r, d.time_ms + 5 * TR_DAY_MS);
    struct tr_at a1 = event("SO-1", EV(ARRIVED), "NLRTM");
    rfx_advance_to(&r, d.time_ms + STALL_MS + 1000);
    rfx_take_none(&r, RULE);
    to_deadline(a1.time_ms + STALL_MS);
    rfx_take_none(&r, RULE);
    past_deadline();
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->height, a1.height);
    cr_assert_str_eq(rfx_observed(a, "shipment_event.type"), "ARRIVED");
    cr_assert_str_eq(rfx_observed(a, "shipment_event.location_locode"), "NLRTM");
}

Test(ship_stalled, stalled_shipment_that_moves_again_resolves_and_a_new_stall_reopens)
{
    struct tr_at d = departed("SO-1");
    rfx_advance_to(&r, d.time_ms + STALL_MS + 1000);
    Hansa__Alert *a = rfx_take_one(&r, RULE);

    struct tr_at m = event("SO-1", EV(ARRIVED), "DEHAM");
    Hansa__Alert *res = rfx_take_one(&r, RULE);
    cr_assert_eq(res->kind, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED);
    cr_assert_eq(res->event_no, 1);
    cr_assert_arr_eq(res->incident_id.data, a->incident_id.data, WIRE_HASH_BYTES);
    cr_assert_eq(res->height, m.height);
    cr_assert_arr_eq(res->tx_ids[0].data, m.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(rfx_observed(res, "shipment_event.type"), "ARRIVED");
    cr_assert(rfx_audience_has(res, TR_MER) && rfx_audience_has(res, "LOG-0001"));

    rfx_advance_to(&r, m.time_ms + STALL_MS + 1000);
    Hansa__Alert *again = rfx_take_one(&r, RULE);
    cr_assert_eq(again->kind, HANSA__ALERT_KIND__ALERT_KIND_UPDATE, "a resolved incident reopens");
    cr_assert_eq(again->event_no, 2);
    cr_assert_arr_eq(again->incident_id.data, a->incident_id.data, WIRE_HASH_BYTES);
    cr_assert_eq(again->height, m.height);
}

Test(ship_stalled, delivered_shipment_never_stalls)
{
    struct tr_at d = departed("SO-1");
    rfx_advance_to(&r, d.time_ms + 6 * TR_DAY_MS);
    event("SO-1", EV(DELIVERED), "DEHAM");
    rfx_advance_to(&r, d.time_ms + 8 * TR_DAY_MS);
    event("SO-1", EV(EXCEPTION), "DEHAM"); /* after delivery: not in transit */
    rfx_advance_to(&r, d.time_ms + 60 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
}

Test(ship_stalled, returned_shipment_never_stalls)
{
    struct tr_at d = departed("SO-1");
    rfx_advance_to(&r, d.time_ms + 2 * TR_DAY_MS);
    event("SO-1", EV(RETURNED), "CNSZX");
    rfx_advance_to(&r, d.time_ms + 60 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
}

Test(ship_stalled, shipment_that_never_departed_is_not_in_transit)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    struct tr_at e = event("SO-1", EV(RECEIVED), "CNSZX");
    event("SO-1", EV(LOADED), "CNSZX");
    rfx_advance_to(&r, e.time_ms + 60 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
}

Test(ship_stalled, stalled_shipment_of_a_pledged_order_reaches_the_financing_bank)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_financed(&r, "BANK-A", "L-1", TR_MER, "F-1", "SO-1", 50000);
    struct tr_at d = event("SO-1", EV(DEPARTED), "CNSZX");
    rfx_advance_to(&r, d.time_ms + STALL_MS + 1000);
    Hansa__Alert *a = rfx_take_one(&r, RULE);
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
    struct tr_at d1 = departed("SO-1");
    struct tr_at d2 = departed("SO-2");
    (void)d1;
    rfx_advance_to(&r, d2.time_ms + STALL_MS + 1000);
    Hansa__Alert *a[4];
    cr_assert_eq(rfx_take_rule(&r, RULE, a, 4), 2);
    rfx_expect_incident(a[0], RULE, "waybill/LOG-0001/WB-SO-1");
    rfx_expect_incident(a[1], RULE, "waybill/LOG-0001/WB-SO-2");
}

Test(ship_stalled, stall_window_and_severity_come_from_the_ruleset)
{
    rfx_reinit(&r, "[SHIP-STALLED]\nstall_ms = 2d\nseverity = HIGH\n");
    struct tr_at d = departed("SO-1");
    to_deadline(d.time_ms + 2 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
    past_deadline();
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(rfx_evidence(a, "waybill.ms_since_last_event")->expected, "<= 172800000");
}

Test(ship_stalled, disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[SHIP-STALLED]\nenabled = false\n");
    struct tr_at d = departed("SO-1");
    rfx_advance_to(&r, d.time_ms + 30 * TR_DAY_MS);
    rfx_take_none(&r, RULE);
}
