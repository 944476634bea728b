/*
 * SHIP-IMPLAUSIBLE (RISK.md): shipment events that cannot describe a real
 * journey. MEDIUM, one incident per waybill ("waybill/<carrier>/<no>").
 * Two findings, checked on every new event:
 *   - DELIVERED with fewer than 2 earlier events on the waybill (goods that
 *     arrive without ever being received, loaded or moved);
 *   - a leg faster than physics allows: the new event and the one before it
 *     are in different countries (the first two letters of their UN/LOCODEs)
 *     and the gap between their event times (event_time_ms, the carrier's
 *     clock: RISK.md says event time for this rule) is below 8,000 bps of
 *     the ruleset's minimum transit time for that country pair ([transit],
 *     the ordered pair, falling back to the reverse pair; a pair in neither
 *     order is not checked).
 *
 * Input: the block's history entries of waybills with at least one event;
 * each is one new event, the last of the record's events, so the previous
 * event is the one before it in the same record. No state of its own: the
 * waybill record carries every event, and the engine's incident dedups.
 *
 * Comparisons are integers only: gap × 10,000 < min_transit × bps, in
 * 128 bits. The ledger guarantees event times never decrease along a
 * waybill, so a gap is never negative.
 *
 * Edge decisions:
 *   - Both findings of one event go into one alert; a later finding on the
 *     same waybill emits nothing while the incident is open (same severity).
 *   - The incident is never resolved: a recorded implausible event stays on
 *     the ledger, and cancelling the order does not make it plausible.
 *   - Audience: the order's merchant, the carrier, and the bank of the
 *     financing the order is pledged to (if any), plus regulators.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum { P_SEVERITY, P_DELIVERED_MIN_PRIOR_EVENTS, P_LEG_MIN_TRANSIT_BPS, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_MEDIUM, 0, 0,
                    "severity of an implausible delivery or leg"},
    [P_DELIVERED_MIN_PRIOR_EVENTS] = {"delivered_min_prior_events", RISK_P_INT, 2, 0, 1000,
                                      "a DELIVERED event needs at least this many earlier events "
                                      "on its waybill"},
    [P_LEG_MIN_TRANSIT_BPS] = {"leg_min_transit_bps", RISK_P_INT, 8000, 1, 10000,
                               "a leg between two countries faster than this share of the "
                               "[transit] minimum (bps) is implausible"},
};

#define EV(x) HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x

/* ---- findings ---- */

struct leg {
    bool found;
    char from[3], to[3];
    uint64_t gap_ms;
    int64_t min_transit_ms, bound_ms;
};

static bool delivered_too_early(struct risk_ctx *ctx, const Hansa__Waybill *w)
{
    size_t prior = w->n_events - 1;
    return w->events[prior]->type == EV(DELIVERED) &&
           (int64_t)prior < risk_param(ctx, P_DELIVERED_MIN_PRIOR_EVENTS);
}

static struct leg leg_too_fast(struct risk_ctx *ctx, const Hansa__Waybill *w)
{
    struct leg l = {0};
    if (w->n_events < 2)
        return l;
    const Hansa__ShipmentEvent *p = w->events[w->n_events - 2], *e = w->events[w->n_events - 1];
    if (!risk_locode_country(p->location_locode, l.from) ||
        !risk_locode_country(e->location_locode, l.to) || strcmp(l.from, l.to) == 0 ||
        !risk_min_transit_ms(ctx, l.from, l.to, &l.min_transit_ms))
        return l;
    int64_t bps = risk_param(ctx, P_LEG_MIN_TRANSIT_BPS);
    l.gap_ms = risk_elapsed_ms(e->event_time_ms, p->event_time_ms);
    l.bound_ms = (int64_t)((__int128)l.min_transit_ms * bps / RISK_BPS);
    l.found = (__int128)l.gap_ms * RISK_BPS < (__int128)l.min_transit_ms * bps;
    return l;
}

static void leg_evidence(struct risk_ctx *ctx, struct risk_alert *a, const Hansa__Waybill *w,
                         const struct leg *l)
{
    HANSA_ASSERT(l->found && w->n_events >= 2);
    const Hansa__ShipmentEvent *p = w->events[w->n_events - 2], *e = w->events[w->n_events - 1];
    char field[64], expected[128], observed[160];
    snprintf(observed, sizeof observed, "%s at %s, event_time_ms %" PRIu64,
             risk_event_type_name(p->type), p->location_locode, p->event_time_ms);
    risk_alert_evidence(a, "leg.from_event", "", observed, risk_tx_or_null(&p->tx_id));
    snprintf(observed, sizeof observed, "%s at %s, event_time_ms %" PRIu64,
             risk_event_type_name(e->type), e->location_locode, e->event_time_ms);
    risk_alert_evidence(a, "leg.to_event", "", observed, risk_tx_or_null(&e->tx_id));
    snprintf(field, sizeof field, "leg.%s-%s.event_time_gap_ms", l->from, l->to);
    snprintf(expected, sizeof expected,
             ">= %" PRId64 " (%" PRId64 " bps of minimum transit %" PRId64 " ms)", l->bound_ms,
             risk_param(ctx, P_LEG_MIN_TRANSIT_BPS), l->min_transit_ms);
    risk_evidence_u64(a, field, expected, l->gap_ms, risk_tx_or_null(&e->tx_id));
}

static hansa_err report(struct risk_ctx *ctx, const Hansa__HistoryEntry *h, const Hansa__Waybill *w,
                        bool delivered, const struct leg *l)
{
    HANSA_ASSERT(w->n_events > 0 && (delivered || l->found));
    const Hansa__CreateWaybill *d = w->document;
    struct risk_order_view ov;
    hansa_err rv = risk_order_view_load(ctx, d->order->merchant, d->order->order_no, &ov);
    if (rv != HANSA_OK)
        return rv;
    const Hansa__ShipmentEvent *e = w->events[w->n_events - 1];
    char expected[64];
    struct risk_alert *a = risk_alert_for(ctx, "waybill", w->carrier, d->logistics_no,
                                          (Hansa__Severity)risk_param(ctx, P_SEVERITY));
    risk_alert_tx(a, risk_tx_or_null(&h->tx_id));
    risk_alert_shipment(a, w->carrier, d->logistics_no, d->order->merchant, d->order->order_no,
                        ov.fin);
    if (delivered) {
        snprintf(expected, sizeof expected, ">= %" PRId64,
                 risk_param(ctx, P_DELIVERED_MIN_PRIOR_EVENTS));
        risk_evidence_u64(a, "waybill.events_before_delivered", expected, w->n_events - 1,
                          risk_tx_or_null(&e->tx_id));
    }
    if (l->found)
        leg_evidence(ctx, a, w, l);
    if (delivered && l->found)
        risk_alert_message(a,
                           "Waybill %s/%s was delivered after %zu events, the last leg %s-%s "
                           "in %" PRIu64 " ms.",
                           w->carrier, d->logistics_no, w->n_events - 1, l->from, l->to, l->gap_ms);
    else if (delivered)
        risk_alert_message(a, "Waybill %s/%s was delivered after only %zu earlier events.",
                           w->carrier, d->logistics_no, w->n_events - 1);
    else
        risk_alert_message(a,
                           "Waybill %s/%s went from %s to %s in %" PRIu64
                           " ms, faster than the minimum transit of %" PRId64 " ms allows.",
                           w->carrier, d->logistics_no, l->from, l->to, l->gap_ms,
                           l->min_transit_ms);
    risk_order_view_free(&ov);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

static hansa_err on_event(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                          const Hansa__Waybill *w)
{
    bool delivered = delivered_too_early(ctx, w);
    struct leg l = leg_too_fast(ctx, w);
    return delivered || l.found ? report(ctx, h, w, delivered, &l) : HANSA_OK;
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    return risk_each_shipment_event(ctx, on_event);
}

const struct risk_rule risk_rule_ship_implausible = {
    .id = "SHIP-IMPLAUSIBLE",
    .rev = 1,
    .summary = "DELIVERED with fewer than 2 earlier events, or a leg faster than the minimum "
               "transit time",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
};
