/*
 * SHIP-IMPLAUSIBLE: MEDIUM on a waybill whose DELIVERED event has fewer than
 * 2 earlier events, or whose consecutive events in two countries are closer
 * in event time than 8,000 bps of the ruleset's minimum transit for that
 * pair (default table: CN-DE = 24h, so the bound is 19.2 h = 69,120,000 ms;
 * the reverse pair falls back to it; pairs in neither order are not
 * checked).
 *
 * Shipments are order SO-n with waybill WB-SO-n of LOG-0001 (tr_matched).
 * Event times lie in the past of block time, as carriers report them; the
 * ledger only requires them not to decrease and not to be more than 1 h
 * ahead of block time.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE           "SHIP-IMPLAUSIBLE"
#define EV(x)          HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x
#define CN_DE_BOUND_MS UINT64_C(69120000) /* 8,000 bps of 24 h */

RFX_SUITE(ship_implausible);

/* ---- helpers ---- */

/* A leg: DEPARTED at from, then ARRIVED at to gap_ms later (event time). */
static struct fx_result leg(const char *order_no, const char *from, const char *to, uint64_t gap_ms)
{
    uint64_t t0 = r.f.time_ms - 3 * TR_DAY_MS;
    tr_ok(tr_order_event(&r, order_no, EV(DEPARTED), from, t0));
    return tr_must(tr_order_event(&r, order_no, EV(ARRIVED), to, t0 + gap_ms));
}

/* ---- DELIVERED too early ---- */

Test(ship_implausible, delivered_as_the_first_event_raises_medium)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    struct fx_result d = tr_must(tr_order_event(&r, "SO-1", EV(DELIVERED), "DEHAM", r.f.time_ms));
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_eq(a->rule_rev, 1);
    rfx_expect_incident(a, RULE, "waybill/LOG-0001/WB-SO-1");
    cr_assert_eq(a->height, r.f.height);
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, d.tx_id, WIRE_HASH_BYTES);
    const Hansa__AlertEvidence *e = rfx_evidence(a, "waybill.events_before_delivered");
    cr_assert_not_null(e);
    cr_assert_str_eq(e->expected, ">= 2");
    cr_assert_str_eq(e->observed, "0");
    cr_assert_arr_eq(e->source_tx_id.data, d.tx_id, WIRE_HASH_BYTES);
    cr_assert_eq(a->n_audience, 2);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "LOG-0001"));
    cr_assert(!rfx_audience_has(a, "BANK-A"));
}

Test(ship_implausible, delivered_after_one_event_is_implausible_after_two_is_not)
{
    uint64_t t0 = r.f.time_ms - 5 * TR_DAY_MS;
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_ok(tr_order_event(&r, "SO-1", EV(RECEIVED), "CNSZX", t0));
    tr_ok(tr_order_event(&r, "SO-1", EV(DELIVERED), "DEHAM", t0 + 4 * TR_DAY_MS));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_str_eq(rfx_evidence(a, "waybill.events_before_delivered")->observed, "1");
    cr_assert_null(rfx_evidence(a, "leg.CN-DE.event_time_gap_ms"), "4 days is a plausible leg");

    tr_matched(&r, TR_MER, "SO-2", 100000);
    tr_ok(tr_order_event(&r, "SO-2", EV(RECEIVED), "CNSZX", t0));
    tr_ok(tr_order_event(&r, "SO-2", EV(DEPARTED), "CNSZX", t0 + TR_DAY_MS));
    tr_ok(tr_order_event(&r, "SO-2", EV(DELIVERED), "DEHAM", t0 + 4 * TR_DAY_MS));
    rfx_take_none(&r, RULE);
}

/* ---- legs ---- */

Test(ship_implausible, leg_just_under_80_percent_of_minimum_transit_raises_medium)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_financed(&r, "BANK-B", "L-1", TR_MER, "F-1", "SO-1", 50000);
    struct fx_result arr = leg("SO-1", "CNSZX", "DEHAM", CN_DE_BOUND_MS - 1);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    rfx_expect_incident(a, RULE, "waybill/LOG-0001/WB-SO-1");
    const Hansa__AlertEvidence *e = rfx_evidence(a, "leg.CN-DE.event_time_gap_ms");
    cr_assert_not_null(e);
    cr_assert_str_eq(e->expected, ">= 69120000 (8000 bps of minimum transit 86400000 ms)");
    cr_assert_str_eq(e->observed, "69119999");
    cr_assert_arr_eq(e->source_tx_id.data, arr.tx_id, WIRE_HASH_BYTES);
    cr_assert_not_null(rfx_evidence(a, "leg.from_event"));
    cr_assert_not_null(strstr(rfx_evidence(a, "leg.to_event")->observed, "ARRIVED at DEHAM"));
    cr_assert_null(rfx_evidence(a, "waybill.events_before_delivered"));
    cr_assert(rfx_audience_has(a, "BANK-B"), "the bank the order is pledged to");
    cr_assert(!rfx_audience_has(a, "BANK-A"));
}

Test(ship_implausible, leg_at_exactly_80_percent_of_minimum_transit_is_plausible)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    leg("SO-1", "CNSZX", "DEHAM", CN_DE_BOUND_MS);
    rfx_take_none(&r, RULE);
}

Test(ship_implausible, reverse_pair_falls_back_to_the_listed_pair)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    leg("SO-1", "DEHAM", "CNSHA", TR_HOUR_MS);
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    const Hansa__AlertEvidence *e = rfx_evidence(a, "leg.DE-CN.event_time_gap_ms");
    cr_assert_not_null(e);
    cr_assert_str_eq(e->observed, "3600000");
}

Test(ship_implausible, pair_missing_from_the_table_and_same_country_moves_are_not_checked)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    leg("SO-1", "CNSZX", "KRPUS", 60 * 1000); /* CN-KR: not in the default table */
    tr_ok(tr_order_event(&r, "SO-1", EV(ARRIVED), "KRINC",
                         r.f.time_ms - 3 * TR_DAY_MS + 2 * 60 * 1000));
    rfx_take_none(&r, RULE);
}

Test(ship_implausible, one_waybill_is_one_incident)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    uint64_t t0 = r.f.time_ms - 3 * TR_DAY_MS;
    tr_ok(tr_order_event(&r, "SO-1", EV(DEPARTED), "CNSZX", t0));
    tr_ok(tr_order_event(&r, "SO-1", EV(ARRIVED), "DEHAM", t0 + TR_HOUR_MS));
    rfx_take_one(&r, RULE);
    tr_ok(tr_order_event(&r, "SO-1", EV(DEPARTED), "DEHAM", t0 + 2 * TR_HOUR_MS));
    tr_ok(tr_order_event(&r, "SO-1", EV(ARRIVED), "CNSHA", t0 + 3 * TR_HOUR_MS));
    tr_ok(tr_order_event(&r, "SO-1", EV(DELIVERED), "CNSHA", t0 + 4 * TR_HOUR_MS));
    rfx_take_none(&r, RULE);
}

Test(ship_implausible, bps_and_transit_table_come_from_the_ruleset)
{
    rfx_reinit(&r, "[SHIP-IMPLAUSIBLE]\nleg_min_transit_bps = 5000\nseverity = HIGH\n"
                   "[transit]\nCN-KR = 10h\n");
    tr_matched(&r, TR_MER, "SO-1", 100000);
    leg("SO-1", "CNSZX", "KRPUS", 5 * TR_HOUR_MS);
    rfx_take_none(&r, RULE); /* exactly 5,000 bps of 10 h */
    tr_matched(&r, TR_MER, "SO-2", 100000);
    leg("SO-2", "CNSZX", "KRPUS", 5 * TR_HOUR_MS - 1);
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_str_eq(rfx_evidence(a, "leg.CN-KR.event_time_gap_ms")->expected,
                     ">= 18000000 (5000 bps of minimum transit 36000000 ms)");
}

Test(ship_implausible, delivered_minimum_comes_from_the_ruleset)
{
    rfx_reinit(&r, "[SHIP-IMPLAUSIBLE]\ndelivered_min_prior_events = 0\n");
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_ok(tr_order_event(&r, "SO-1", EV(DELIVERED), "DEHAM", r.f.time_ms));
    rfx_take_none(&r, RULE);
}

Test(ship_implausible, disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[SHIP-IMPLAUSIBLE]\nenabled = false\n");
    tr_matched(&r, TR_MER, "SO-1", 100000);
    leg("SO-1", "CNSZX", "DEHAM", 1000);
    tr_ok(tr_order_event(&r, "SO-1", EV(DELIVERED), "DEHAM", r.f.time_ms));
    rfx_take_none(&r, RULE);
}
