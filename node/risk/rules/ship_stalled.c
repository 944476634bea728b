/*
 * SHIP-STALLED (RISK.md): a shipment in transit with no event for 7 days.
 * MEDIUM, one incident per waybill (dedup key "waybill/<carrier>/<no>").
 *
 * "In transit" (RISK.md conventions) means the waybill has a DEPARTED event
 * and no DELIVERED or RETURNED event. Time is block time: the clock starts
 * at the block that recorded the last event (ShipmentEvent.recorded_ms), not
 * at the carrier's event_time_ms, which the carrier chooses.
 *
 * Input: the block's history entries of waybills that carry at least one
 * event (an AddShipmentEvent wrote them; a waybill's creation carries none).
 * Each such entry is one new event, the last of the record's events.
 *
 * State, per waybill in transit:
 *   s/SHIP-STALLED/w/<carrier>/<logistics_no> -> be64 due_ms, u8 stalled
 *   t/SHIP-STALLED/<be64 due_ms>/w/<carrier>/<logistics_no>   its timer
 * Ids never contain '/' (hansa.proto, id-string), so the key is unambiguous.
 *
 * Invariants:
 *   1. A waybill in transit has exactly one state entry and one timer, at
 *      recorded_ms of its last event + stall_ms; every new event cancels the
 *      timer and arms a new one (re-armed on every event).
 *   2. A waybill not in transit has neither: the DELIVERED or RETURNED event
 *      deletes both, and events before DEPARTED never create them.
 *   3. A timer fires only if it is the one the state names; anything else is
 *      stale (cannot happen while invariant 1 holds, checked anyway).
 *
 * Edge decisions:
 *   - A stalled shipment that moves again (any new event, DELIVERED and
 *     RETURNED included) RESOLVES the incident with the event as evidence;
 *     if it then stalls again the engine reopens the incident (UPDATE).
 *   - The alert's evidence is in the block of the last event (alert height =
 *     that block; its tx is the event's), although the alert is emitted by
 *     the first block past the deadline.
 *   - A timer keeps the deadline it was armed with: a ruleset with another
 *     stall_ms applies from each waybill's next event.
 *   - A shipment cannot stall on a cancelled order: only CREATED orders can
 *     be cancelled and a DEPARTED event moves an order to SHIPPED.
 *   - Audience: the order's merchant, the carrier, and the bank of the
 *     financing the order is pledged to (if any), plus regulators.
 */
#include <inttypes.h>
#include <stdio.h>

#include "common.h"
#include "hansa/assert.h"

enum { P_SEVERITY, P_STALL_MS, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_MEDIUM, 0, 0,
                    "severity of a shipment in transit with no event for stall_ms"},
    [P_STALL_MS] = {"stall_ms", RISK_P_DURATION, 7 * RISK_DAY_MS, 1000, 365 * RISK_DAY_MS,
                    "block time without any new event after which a shipment in transit is "
                    "stalled"},
};

#define EV(x)       HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x
#define STATE_BYTES 9u

struct stall_state {
    uint64_t due_ms;
    bool stalled;
};

/* "w/<carrier>/<logistics_no>"; 0 if an id is too long (never, for ids
 * the ledger accepted). */
static size_t waybill_key(uint8_t *k, const char *carrier, const char *no)
{
    return risk_pair_key(k, RISK_PAIR_KEY_BYTES_MAX, 'w', carrier, no);
}

static hansa_err state_get(struct risk_ctx *ctx, const uint8_t *k, size_t n, struct stall_state *st,
                           bool *have)
{
    uint8_t v[STATE_BYTES];
    hansa_err rv = risk_get_exact(ctx, k, n, v, sizeof v, have);
    if (rv == HANSA_OK && *have)
        *st = (struct stall_state){.due_ms = risk_be64_get(v), .stalled = v[8] != 0};
    return rv;
}

static hansa_err state_put(struct risk_ctx *ctx, const uint8_t *k, size_t n,
                           const struct stall_state *st)
{
    uint8_t v[STATE_BYTES];
    risk_be64_put(v, st->due_ms);
    v[8] = st->stalled ? 1 : 0;
    return risk_put(ctx, k, n, v, sizeof v);
}

/* After DEPARTED and before DELIVERED or RETURNED (RISK.md conventions). */
static bool in_transit(const Hansa__Waybill *w)
{
    bool departed = false;
    for (size_t i = 0; i < w->n_events; i++) {
        Hansa__ShipmentEventType t = w->events[i]->type;
        if (t == EV(DELIVERED) || t == EV(RETURNED))
            return false;
        departed = departed || t == EV(DEPARTED);
    }
    return departed;
}

/* The alert of w's incident with its audience (the order's merchant, the
 * carrier and the pledge-holding bank). */
static struct risk_alert *stall_alert(struct risk_ctx *ctx, const Hansa__Waybill *w,
                                      const struct risk_order_view *ov)
{
    const Hansa__CreateWaybill *d = w->document;
    struct risk_alert *a = risk_alert_for(ctx, "waybill", w->carrier, d->logistics_no,
                                          (Hansa__Severity)risk_param(ctx, P_SEVERITY));
    risk_alert_shipment(a, w->carrier, d->logistics_no, d->order->merchant, d->order->order_no,
                        ov->fin);
    return a;
}

/* The last event: its type, place and block time. */
static void event_evidence(struct risk_alert *a, const Hansa__ShipmentEvent *e)
{
    const uint8_t *tx = risk_tx_or_null(&e->tx_id);
    risk_alert_evidence(a, "shipment_event.type", "", risk_event_type_name(e->type), tx);
    risk_alert_evidence(a, "shipment_event.location_locode", "", e->location_locode, tx);
    risk_evidence_u64(a, "shipment_event.recorded_ms", "", e->recorded_ms, tx);
}

/* ---- the stall: a timer fired ---- */

static hansa_err report_stall(struct risk_ctx *ctx, const Hansa__Waybill *w)
{
    HANSA_ASSERT(w->n_events > 0);
    const Hansa__ShipmentEvent *e = w->events[w->n_events - 1];
    const Hansa__OrderRef *o = w->document->order;
    struct risk_order_view ov;
    hansa_err rv = risk_order_view_load(ctx, o->merchant, o->order_no, &ov);
    if (rv != HANSA_OK)
        return rv;
    uint64_t silent_ms = risk_elapsed_ms(risk_ctx_block(ctx)->time_ms, e->recorded_ms);
    char lim[64];
    struct risk_alert *a = stall_alert(ctx, w, &ov);
    risk_alert_at(a, e->recorded_height);
    risk_alert_tx(a, risk_tx_or_null(&e->tx_id));
    event_evidence(a, e);
    snprintf(lim, sizeof lim, "<= %" PRId64, risk_param(ctx, P_STALL_MS));
    risk_evidence_u64(a, "waybill.ms_since_last_event", lim, silent_ms, NULL);
    risk_alert_message(a,
                       "Shipment %s/%s of order %s/%s is in transit with no event for %" PRIu64
                       " ms since %s at %s.",
                       w->carrier, w->document->logistics_no, o->merchant, o->order_no, silent_ms,
                       risk_event_type_name(e->type), e->location_locode);
    risk_order_view_free(&ov);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

static hansa_err on_timer(struct risk_ctx *ctx, const uint8_t *key, size_t key_len, uint64_t due_ms)
{
    struct stall_state st;
    bool have = false;
    hansa_err rv = state_get(ctx, key, key_len, &st, &have);
    if (rv != HANSA_OK || !have || st.due_ms != due_ms || st.stalled)
        return rv; /* stale timer (invariant 3) */
    /* key = "w/<carrier>/<logistics_no>" as waybill_key wrote it. */
    char kind, carrier[HANSA_ID_LEN_MAX + 1], no[HANSA_ID_LEN_MAX + 1];
    if (!risk_pair_key_parse(key, key_len, &kind, carrier, no) || kind != 'w')
        return HANSA_EFORMAT;
    Hansa__HistoryEntry *h = NULL;
    rv = risk_entity(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, carrier, no, &h);
    if (rv != HANSA_OK)
        return rv;
    bool stalled = h->after != NULL && h->after->kind_case == HANSA__RECORD__KIND_WAYBILL &&
                   h->after->waybill->document != NULL &&
                   h->after->waybill->document->order != NULL && in_transit(h->after->waybill);
    if (stalled)
        rv = report_stall(ctx, h->after->waybill);
    wire_free(h);
    if (rv != HANSA_OK)
        return rv;
    if (!stalled) /* invariant 2 broken by a record we cannot read: forget it */
        return risk_put(ctx, key, key_len, NULL, 0);
    st.stalled = true;
    return state_put(ctx, key, key_len, &st);
}

/* ---- a new event ---- */

static hansa_err report_moved(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                              const Hansa__Waybill *w)
{
    const Hansa__ShipmentEvent *e = w->events[w->n_events - 1];
    struct risk_order_view ov;
    hansa_err rv =
        risk_order_view_load(ctx, w->document->order->merchant, w->document->order->order_no, &ov);
    if (rv != HANSA_OK)
        return rv;
    struct risk_alert *a = stall_alert(ctx, w, &ov);
    risk_alert_tx(a, risk_tx_or_null(&h->tx_id));
    event_evidence(a, e);
    risk_alert_message(a, "Stalled shipment %s/%s moved again: %s at %s.", w->carrier,
                       w->document->logistics_no, risk_event_type_name(e->type),
                       e->location_locode);
    risk_order_view_free(&ov);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED, NULL);
}

static hansa_err on_event(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                          const Hansa__Waybill *w)
{
    uint8_t k[RISK_PAIR_KEY_BYTES_MAX + 1];
    size_t n = waybill_key(k, w->carrier, w->document->logistics_no);
    if (n == 0)
        return HANSA_OK;
    struct stall_state st;
    bool have = false;
    hansa_err rv = state_get(ctx, k, n, &st, &have);
    if (rv == HANSA_OK && have)
        rv = risk_timer_cancel(ctx, st.due_ms, k, n);
    if (rv == HANSA_OK && have && st.stalled)
        rv = report_moved(ctx, h, w);
    if (rv != HANSA_OK)
        return rv;
    if (!in_transit(w))
        return have ? risk_put(ctx, k, n, NULL, 0) : HANSA_OK;
    /* Invariant 1: the clock restarts at this event's block. */
    st = (struct stall_state){.due_ms = h->time_ms + (uint64_t)risk_param(ctx, P_STALL_MS)};
    rv = risk_timer_set(ctx, st.due_ms, k, n);
    if (rv == HANSA_OK)
        rv = state_put(ctx, k, n, &st);
    return rv;
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    return risk_each_shipment_event(ctx, on_event);
}

const struct risk_rule risk_rule_ship_stalled = {
    .id = "SHIP-STALLED",
    .rev = 1,
    .summary = "a shipment in transit with no event for 7 days",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
    .on_timer = on_timer,
};
