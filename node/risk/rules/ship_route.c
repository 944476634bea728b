/*
 * SHIP-ROUTE (RISK.md): a waybill whose route does not fit its order, or
 * touches a listed jurisdiction. One incident per waybill (dedup key
 * "waybill/<carrier>/<logistics_no>"):
 *   - MEDIUM when the waybill's origin or destination country (the first two
 *     letters of its UN/LOCODE) differs from the order's origin_country or
 *     destination_country;
 *   - HIGH when the waybill's origin, destination or any shipment event
 *     location is in the ruleset's [jurisdictions] list.
 * The incident opens (NEW) at the severity it first meets; a later event in
 * a listed jurisdiction escalates a MEDIUM incident to HIGH (the engine
 * turns the second NEW into an UPDATE); anything else on an open incident
 * emits nothing.
 *
 * Input: the block's history entries. A waybill entry without events is its
 * creation (route checks, the order looked up as of the block); one with
 * events is a new event, the last of the record's events (location check).
 * An order entry written by a CancelOrder transaction resolves the incident
 * of the order's waybill. No state of its own: the engine's incident holds
 * the severity reached.
 *
 * Edge decisions:
 *   - A waybill whose order is cancelled RESOLVES its open incident: the
 *     goods will not ship under that order (cancelled orders never count).
 *     The ledger refuses further events on it, so it cannot reopen.
 *   - When both findings hold at creation, one HIGH alert carries both.
 *   - The evidence of a jurisdiction finding carries the list's revision.
 *   - Audience: the order's merchant, the carrier, and the bank of the
 *     financing the order is pledged to (if any), plus regulators.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum { P_SEVERITY_MISMATCH, P_SEVERITY_LISTED, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY_MISMATCH] = {"severity_mismatch", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_MEDIUM,
                             0, 0,
                             "severity when the waybill's origin or destination country differs "
                             "from the order's"},
    [P_SEVERITY_LISTED] = {"severity_listed", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH, 0, 0,
                           "severity when the waybill's origin, destination or an event "
                           "location is in a listed jurisdiction"},
};

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static Hansa__Severity max_severity(Hansa__Severity a, Hansa__Severity b)
{
    return a > b ? a : b;
}

/* ---- creation: the route against the order and the list ---- */

/* One end of the route (origin or destination). */
struct route_end {
    const char *name;   /* "origin" or "destination" */
    const char *locode; /* the waybill's */
    const char *order_country;
    char country[3];
    bool mismatch, listed;
};

static void route_end_check(struct risk_ctx *ctx, struct route_end *e)
{
    risk_locode_country(e->locode, e->country);
    e->mismatch = e->order_country != NULL && !str_eq(e->country, e->order_country);
    e->listed = risk_listed_jurisdiction(ctx, e->country);
}

static void route_end_evidence(struct risk_ctx *ctx, struct risk_alert *a,
                               const struct route_end *e, const uint8_t *tx)
{
    char field[64];
    if (e->mismatch) {
        snprintf(field, sizeof field, "waybill.%s_country", e->name);
        risk_alert_evidence(a, field, e->order_country, e->country, tx);
    }
    if (e->listed) {
        snprintf(field, sizeof field, "waybill.%s_locode", e->name);
        risk_listed_evidence(ctx, a, field, e->locode, tx);
    }
}

static hansa_err on_created(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                            const Hansa__Waybill *w)
{
    const Hansa__CreateWaybill *d = w->document;
    struct risk_order_view ov;
    hansa_err rv = risk_order_view_load(ctx, d->order->merchant, d->order->order_no, &ov);
    if (rv != HANSA_OK)
        return rv;
    const Hansa__CreateOrder *od = ov.order != NULL ? ov.order->document : NULL;
    struct route_end ends[2] = {
        {.name = "origin",
         .locode = d->origin_locode,
         .order_country = od ? od->origin_country : NULL},
        {.name = "destination",
         .locode = d->destination_locode,
         .order_country = od ? od->destination_country : NULL},
    };
    bool mismatch = false, listed = false;
    for (size_t i = 0; i < 2; i++) {
        route_end_check(ctx, &ends[i]);
        mismatch = mismatch || ends[i].mismatch;
        listed = listed || ends[i].listed;
    }
    if (!mismatch && !listed) {
        risk_order_view_free(&ov);
        return HANSA_OK;
    }
    Hansa__Severity sev = HANSA__SEVERITY__SEVERITY_INFO;
    if (mismatch)
        sev = max_severity(sev, (Hansa__Severity)risk_param(ctx, P_SEVERITY_MISMATCH));
    if (listed)
        sev = max_severity(sev, (Hansa__Severity)risk_param(ctx, P_SEVERITY_LISTED));
    struct risk_alert *a = risk_alert_for(ctx, "waybill", w->carrier, d->logistics_no, sev);
    const uint8_t *tx = risk_tx_or_null(&h->tx_id);
    risk_alert_tx(a, tx);
    if (ov.order != NULL)
        risk_alert_tx(a, risk_tx_or_null(&ov.order->created_tx_id));
    risk_alert_shipment(a, w->carrier, d->logistics_no, d->order->merchant, d->order->order_no,
                        ov.fin);
    for (size_t i = 0; i < 2; i++)
        route_end_evidence(ctx, a, &ends[i], tx);
    if (listed)
        risk_revision_evidence(ctx, a);
    risk_alert_message(a, "Waybill %s/%s routes %s to %s, %s order %s/%s (%s to %s).", w->carrier,
                       d->logistics_no, ends[0].country, ends[1].country,
                       listed ? "through a listed jurisdiction, for" : "unlike its",
                       d->order->merchant, d->order->order_no,
                       ends[0].order_country ? ends[0].order_country : "?",
                       ends[1].order_country ? ends[1].order_country : "?");
    risk_order_view_free(&ov);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

/* ---- a new event: its location against the list ---- */

static hansa_err on_event(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                          const Hansa__Waybill *w)
{
    HANSA_ASSERT(w->n_events > 0);
    const Hansa__ShipmentEvent *e = w->events[w->n_events - 1];
    char country[3];
    risk_locode_country(e->location_locode, country);
    if (!risk_listed_jurisdiction(ctx, country))
        return HANSA_OK;
    const Hansa__CreateWaybill *d = w->document;
    struct risk_order_view ov;
    hansa_err rv = risk_order_view_load(ctx, d->order->merchant, d->order->order_no, &ov);
    if (rv != HANSA_OK)
        return rv;
    struct risk_alert *a = risk_alert_for(ctx, "waybill", w->carrier, d->logistics_no,
                                          (Hansa__Severity)risk_param(ctx, P_SEVERITY_LISTED));
    risk_alert_tx(a, risk_tx_or_null(&h->tx_id));
    risk_alert_shipment(a, w->carrier, d->logistics_no, d->order->merchant, d->order->order_no,
                        ov.fin);
    risk_listed_evidence(ctx, a, "shipment_event.location_locode", e->location_locode,
                         risk_tx_or_null(&e->tx_id));
    risk_revision_evidence(ctx, a);
    risk_alert_message(a,
                       "Shipment %s/%s of order %s/%s recorded an event at %s, in listed "
                       "jurisdiction %s.",
                       w->carrier, d->logistics_no, d->order->merchant, d->order->order_no,
                       e->location_locode, country);
    risk_order_view_free(&ov);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

/* ---- the order was cancelled ---- */

static hansa_err on_cancelled(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                              const Hansa__Order *o)
{
    HANSA_ASSERT(o->waybill != NULL && o->document != NULL);
    const Hansa__WaybillRef *wr = o->waybill;
    const Hansa__CreateOrder *d = o->document;
    const uint8_t *tx = risk_tx_or_null(&h->tx_id);
    struct risk_alert *a = risk_alert_for(ctx, "waybill", wr->carrier, wr->logistics_no,
                                          (Hansa__Severity)risk_param(ctx, P_SEVERITY_MISMATCH));
    risk_alert_tx(a, tx);
    /* A cancelled order is never pledged: no bank. */
    risk_alert_shipment(a, wr->carrier, wr->logistics_no, d->merchant, d->order_no, NULL);
    risk_alert_evidence(a, "order.status", "", "CANCELLED", tx);
    risk_alert_message(a,
                       "Order %s/%s of waybill %s/%s was cancelled; the route no longer "
                       "applies.",
                       d->merchant, d->order_no, wr->carrier, wr->logistics_no);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED, NULL);
}

static hansa_err on_entry(struct risk_ctx *ctx, const Hansa__HistoryEntry *h)
{
    if (h->after == NULL)
        return HANSA_OK;
    if (h->after->kind_case == HANSA__RECORD__KIND_ORDER) {
        const Hansa__Order *o = h->after->order;
        if (o->waybill != NULL && o->document != NULL && risk_entry_cancels_order(ctx, h, o))
            return on_cancelled(ctx, h, o);
        return HANSA_OK;
    }
    if (h->after->kind_case != HANSA__RECORD__KIND_WAYBILL)
        return HANSA_OK;
    const Hansa__Waybill *w = h->after->waybill;
    if (w->document == NULL || w->document->order == NULL)
        return HANSA_OK;
    return w->n_events == 0 ? on_created(ctx, h, w) : on_event(ctx, h, w);
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    return risk_each_entry(ctx, on_entry);
}

const struct risk_rule risk_rule_ship_route = {
    .id = "SHIP-ROUTE",
    .rev = 1,
    .summary = "a waybill's route differs from its order's countries or touches a listed "
               "jurisdiction",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
};
