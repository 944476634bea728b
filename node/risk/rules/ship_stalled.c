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
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "rule.h"

enum { P_SEVERITY, P_STALL_MS, P_COUNT };

#define DAY_MS INT64_C(86400000)

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_MEDIUM, 0, 0,
                    "severity of a shipment in transit with no event for stall_ms"},
    [P_STALL_MS] = {"stall_ms", RISK_P_DURATION, 7 * DAY_MS, 1000, 365 * DAY_MS,
                    "block time without any new event after which a shipment in transit is "
                    "stalled"},
};

#define EV(x)           HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x
#define STATE_BYTES     9u
#define KEY_BYTES_MAX   (2u + HANSA_ID_LEN_MAX + 1u + HANSA_ID_LEN_MAX)
#define EVENT_TYPE_NAME "SHIPMENT_EVENT_TYPE_"

struct stall_state {
    uint64_t due_ms;
    bool stalled;
};

/* "w/<carrier>/<logistics_no>"; 0 if an id is too long (never, for ids
 * the ledger accepted). */
static size_t waybill_key(uint8_t *k, const char *carrier, const char *no)
{
    int n = snprintf((char *)k, KEY_BYTES_MAX + 1, "w/%s/%s", carrier, no);
    return n > 0 && (size_t)n <= KEY_BYTES_MAX ? (size_t)n : 0;
}

static hansa_err state_get(struct risk_ctx *ctx, const uint8_t *k, size_t n, struct stall_state *st,
                           bool *have)
{
    uint8_t *v = NULL;
    size_t len = 0;
    *have = false;
    hansa_err rv = risk_get(ctx, k, n, &v, &len);
    if (rv == HANSA_ENOENT)
        return HANSA_OK;
    if (rv != HANSA_OK)
        return rv;
    if (len != STATE_BYTES) {
        free(v);
        return HANSA_EFORMAT;
    }
    st->due_ms = 0;
    for (size_t i = 0; i < 8; i++)
        st->due_ms = st->due_ms << 8 | v[i];
    st->stalled = v[8] != 0;
    *have = true;
    free(v);
    return HANSA_OK;
}

static hansa_err state_put(struct risk_ctx *ctx, const uint8_t *k, size_t n,
                           const struct stall_state *st)
{
    uint8_t v[STATE_BYTES];
    for (size_t i = 0; i < 8; i++)
        v[i] = (uint8_t)(st->due_ms >> (56 - 8 * i));
    v[8] = st->stalled ? 1 : 0;
    return risk_put(ctx, k, n, v, sizeof v);
}

static const char *event_type_name(Hansa__ShipmentEventType t)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&hansa__shipment_event_type__descriptor, (int)t);
    if (v == NULL)
        return "UNSPECIFIED";
    size_t skip = strlen(EVENT_TYPE_NAME);
    return strncmp(v->name, EVENT_TYPE_NAME, skip) == 0 ? v->name + skip : v->name;
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

static const uint8_t *tx_or_null(const ProtobufCBinaryData *id)
{
    return id->len == WIRE_HASH_BYTES ? id->data : NULL;
}

/* ---- the order behind a waybill: merchant and pledge-holding bank ---- */

struct order_view {
    Hansa__HistoryEntry *order_h, *fin_h;
    const Hansa__Financing *fin; /* the financing the order is pledged to, or NULL */
};

static hansa_err order_view_load(struct risk_ctx *ctx, const Hansa__OrderRef *o,
                                 struct order_view *ov)
{
    memset(ov, 0, sizeof *ov);
    hansa_err rv = risk_entity(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, o->merchant, o->order_no,
                               &ov->order_h);
    if (rv != HANSA_OK)
        return rv == HANSA_ENOENT ? HANSA_OK : rv;
    const Hansa__Record *rec = ov->order_h->after;
    if (rec == NULL || rec->kind_case != HANSA__RECORD__KIND_ORDER ||
        rec->order->pledged_by == NULL)
        return HANSA_OK;
    const Hansa__FinancingRef *f = rec->order->pledged_by;
    rv = risk_entity(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, f->merchant, f->financing_id,
                     &ov->fin_h);
    if (rv != HANSA_OK)
        return rv == HANSA_ENOENT ? HANSA_OK : rv;
    if (ov->fin_h->after != NULL && ov->fin_h->after->kind_case == HANSA__RECORD__KIND_FINANCING)
        ov->fin = ov->fin_h->after->financing;
    return HANSA_OK;
}

static void order_view_free(struct order_view *ov)
{
    wire_free(ov->order_h);
    wire_free(ov->fin_h);
    memset(ov, 0, sizeof *ov);
}

/* Parties and subjects of a waybill alert: carrier, merchant, pledge bank. */
static void add_parties(struct risk_alert *a, const Hansa__Waybill *w, const struct order_view *ov)
{
    const Hansa__OrderRef *o = w->document->order;
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, o->merchant);
    risk_alert_party(a, HANSA__ROLE__ROLE_LOGISTICS, w->carrier);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, w->carrier,
                       w->document->logistics_no);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, o->merchant, o->order_no);
    if (ov->fin != NULL && ov->fin->line != NULL) {
        risk_alert_party(a, HANSA__ROLE__ROLE_BANK, ov->fin->line->bank);
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, ov->fin->merchant,
                           ov->fin->financing_id);
    }
}

static void dedup_key(char *buf, size_t cap, const Hansa__Waybill *w)
{
    snprintf(buf, cap, "waybill/%s/%s", w->carrier, w->document->logistics_no);
}

/* ---- the stall: a timer fired ---- */

static hansa_err report_stall(struct risk_ctx *ctx, const Hansa__Waybill *w)
{
    HANSA_ASSERT(w->n_events > 0);
    const Hansa__ShipmentEvent *e = w->events[w->n_events - 1];
    struct order_view ov;
    hansa_err rv = order_view_load(ctx, w->document->order, &ov);
    if (rv != HANSA_OK) {
        order_view_free(&ov);
        return rv;
    }
    int64_t stall_ms = risk_param(ctx, P_STALL_MS);
    uint64_t now_ms = risk_ctx_block(ctx)->time_ms;
    uint64_t silent_ms = now_ms > e->recorded_ms ? now_ms - e->recorded_ms : 0;
    char dedup[200], v[64], lim[64];
    dedup_key(dedup, sizeof dedup, w);
    struct risk_alert *a = risk_alert_new(ctx, dedup, (Hansa__Severity)risk_param(ctx, P_SEVERITY));
    risk_alert_at(a, e->recorded_height);
    risk_alert_tx(a, tx_or_null(&e->tx_id));
    add_parties(a, w, &ov);
    risk_alert_evidence(a, "shipment_event.type", "", event_type_name(e->type),
                        tx_or_null(&e->tx_id));
    risk_alert_evidence(a, "shipment_event.location_locode", "", e->location_locode,
                        tx_or_null(&e->tx_id));
    snprintf(v, sizeof v, "%" PRIu64, e->recorded_ms);
    risk_alert_evidence(a, "shipment_event.recorded_ms", "", v, tx_or_null(&e->tx_id));
    snprintf(lim, sizeof lim, "<= %" PRId64, stall_ms);
    snprintf(v, sizeof v, "%" PRIu64, silent_ms);
    risk_alert_evidence(a, "waybill.ms_since_last_event", lim, v, NULL);
    risk_alert_message(a,
                       "Shipment %s/%s of order %s/%s is in transit with no event for %" PRIu64
                       " ms since %s at %s.",
                       w->carrier, w->document->logistics_no, w->document->order->merchant,
                       w->document->order->order_no, silent_ms, event_type_name(e->type),
                       e->location_locode);
    order_view_free(&ov);
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
    char buf[KEY_BYTES_MAX + 1];
    if (key_len < 4 || key_len > KEY_BYTES_MAX || memcmp(key, "w/", 2) != 0)
        return HANSA_EFORMAT;
    memcpy(buf, key + 2, key_len - 2);
    buf[key_len - 2] = '\0';
    char *slash = strchr(buf, '/');
    if (slash == NULL)
        return HANSA_EFORMAT;
    *slash = '\0';
    Hansa__HistoryEntry *h = NULL;
    rv = risk_entity(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, buf, slash + 1, &h);
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
    struct order_view ov;
    hansa_err rv = order_view_load(ctx, w->document->order, &ov);
    if (rv != HANSA_OK) {
        order_view_free(&ov);
        return rv;
    }
    char dedup[200], v[64];
    dedup_key(dedup, sizeof dedup, w);
    struct risk_alert *a = risk_alert_new(ctx, dedup, (Hansa__Severity)risk_param(ctx, P_SEVERITY));
    risk_alert_tx(a, tx_or_null(&h->tx_id));
    add_parties(a, w, &ov);
    risk_alert_evidence(a, "shipment_event.type", "", event_type_name(e->type),
                        tx_or_null(&e->tx_id));
    risk_alert_evidence(a, "shipment_event.location_locode", "", e->location_locode,
                        tx_or_null(&e->tx_id));
    snprintf(v, sizeof v, "%" PRIu64, e->recorded_ms);
    risk_alert_evidence(a, "shipment_event.recorded_ms", "", v, tx_or_null(&e->tx_id));
    risk_alert_message(a, "Stalled shipment %s/%s moved again: %s at %s.", w->carrier,
                       w->document->logistics_no, event_type_name(e->type), e->location_locode);
    order_view_free(&ov);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED, NULL);
}

static hansa_err on_event(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                          const Hansa__Waybill *w)
{
    uint8_t k[KEY_BYTES_MAX + 1];
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
    const struct risk_block *b = risk_ctx_block(ctx);
    for (size_t i = 0; i < b->n_history; i++) {
        const Hansa__HistoryEntry *h = b->history[i];
        if (h->after == NULL || h->after->kind_case != HANSA__RECORD__KIND_WAYBILL)
            continue;
        const Hansa__Waybill *w = h->after->waybill;
        if (w->n_events == 0 || w->document == NULL || w->document->order == NULL)
            continue; /* the waybill's creation: nothing in transit yet */
        hansa_err rv = on_event(ctx, h, w);
        if (rv != HANSA_OK)
            return rv;
    }
    return HANSA_OK;
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
