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
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "rule.h"

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

#define LOCODE_BYTES_MIN 2u
/* "KP,IR,MM": three bytes per listed code. */
#define LIST_TEXT_BYTES (3u * RISK_JURISDICTIONS_MAX + 16u)

static const uint8_t *tx_or_null(const ProtobufCBinaryData *id)
{
    return id->len == WIRE_HASH_BYTES ? id->data : NULL;
}

/* The country of a UN/LOCODE (its first two letters); "" if too short. */
static void locode_country(const char *locode, char out[3])
{
    out[0] = '\0';
    if (locode == NULL || strlen(locode) < LOCODE_BYTES_MIN)
        return;
    out[0] = locode[0];
    out[1] = locode[1];
    out[2] = '\0';
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* "not in KP,IR,MM": the expected side of a jurisdiction finding. */
static void not_listed_text(struct risk_ctx *ctx, char *buf, size_t cap)
{
    const struct risk_ruleset *rs = risk_ctx_ruleset(ctx);
    size_t n = (size_t)snprintf(buf, cap, "not in ");
    for (size_t i = 0; i < rs->n_jurisdictions && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i > 0 ? "," : "", rs->jurisdictions[i]);
}

static Hansa__Severity max_severity(Hansa__Severity a, Hansa__Severity b)
{
    return a > b ? a : b;
}

/* ---- the order behind a waybill: countries, merchant, pledge bank ---- */

struct order_view {
    Hansa__HistoryEntry *order_h, *fin_h;
    const Hansa__Order *order;   /* as of this block, or NULL */
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
    if (rec == NULL || rec->kind_case != HANSA__RECORD__KIND_ORDER || rec->order->document == NULL)
        return HANSA_OK;
    ov->order = rec->order;
    if (ov->order->pledged_by == NULL)
        return HANSA_OK;
    const Hansa__FinancingRef *f = ov->order->pledged_by;
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

static void add_parties(struct risk_alert *a, const char *carrier, const char *logistics_no,
                        const Hansa__OrderRef *o, const struct order_view *ov)
{
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, o->merchant);
    risk_alert_party(a, HANSA__ROLE__ROLE_LOGISTICS, carrier);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, carrier, logistics_no);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, o->merchant, o->order_no);
    if (ov->fin != NULL && ov->fin->line != NULL) {
        risk_alert_party(a, HANSA__ROLE__ROLE_BANK, ov->fin->line->bank);
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, ov->fin->merchant,
                           ov->fin->financing_id);
    }
}

static void dedup_key(char *buf, size_t cap, const char *carrier, const char *logistics_no)
{
    snprintf(buf, cap, "waybill/%s/%s", carrier, logistics_no);
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
    locode_country(e->locode, e->country);
    e->mismatch = e->order_country != NULL && !str_eq(e->country, e->order_country);
    e->listed = risk_listed_jurisdiction(ctx, e->country);
}

static void route_end_evidence(struct risk_ctx *ctx, struct risk_alert *a,
                               const struct route_end *e, const uint8_t *tx)
{
    char field[64], expected[LIST_TEXT_BYTES];
    if (e->mismatch) {
        snprintf(field, sizeof field, "waybill.%s_country", e->name);
        risk_alert_evidence(a, field, e->order_country, e->country, tx);
    }
    if (e->listed) {
        snprintf(field, sizeof field, "waybill.%s_locode", e->name);
        not_listed_text(ctx, expected, sizeof expected);
        risk_alert_evidence(a, field, expected, e->locode, tx);
    }
}

static hansa_err on_created(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                            const Hansa__Waybill *w)
{
    const Hansa__CreateWaybill *d = w->document;
    struct order_view ov;
    hansa_err rv = order_view_load(ctx, d->order, &ov);
    if (rv != HANSA_OK) {
        order_view_free(&ov);
        return rv;
    }
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
        order_view_free(&ov);
        return HANSA_OK;
    }
    Hansa__Severity sev = HANSA__SEVERITY__SEVERITY_INFO;
    if (mismatch)
        sev = max_severity(sev, (Hansa__Severity)risk_param(ctx, P_SEVERITY_MISMATCH));
    if (listed)
        sev = max_severity(sev, (Hansa__Severity)risk_param(ctx, P_SEVERITY_LISTED));
    char dedup[200];
    dedup_key(dedup, sizeof dedup, w->carrier, d->logistics_no);
    struct risk_alert *a = risk_alert_new(ctx, dedup, sev);
    const uint8_t *tx = tx_or_null(&h->tx_id);
    risk_alert_tx(a, tx);
    if (ov.order != NULL)
        risk_alert_tx(a, tx_or_null(&ov.order->created_tx_id));
    add_parties(a, w->carrier, d->logistics_no, d->order, &ov);
    for (size_t i = 0; i < 2; i++)
        route_end_evidence(ctx, a, &ends[i], tx);
    if (listed)
        risk_alert_evidence(a, "jurisdictions.revision", "",
                            risk_ctx_ruleset(ctx)->jurisdictions_rev, NULL);
    risk_alert_message(a, "Waybill %s/%s routes %s to %s, %s order %s/%s (%s to %s).", w->carrier,
                       d->logistics_no, ends[0].country, ends[1].country,
                       listed ? "through a listed jurisdiction, for" : "unlike its",
                       d->order->merchant, d->order->order_no,
                       ends[0].order_country ? ends[0].order_country : "?",
                       ends[1].order_country ? ends[1].order_country : "?");
    order_view_free(&ov);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

/* ---- a new event: its location against the list ---- */

static hansa_err on_event(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                          const Hansa__Waybill *w)
{
    HANSA_ASSERT(w->n_events > 0);
    const Hansa__ShipmentEvent *e = w->events[w->n_events - 1];
    char country[3];
    locode_country(e->location_locode, country);
    if (!risk_listed_jurisdiction(ctx, country))
        return HANSA_OK;
    const Hansa__CreateWaybill *d = w->document;
    struct order_view ov;
    hansa_err rv = order_view_load(ctx, d->order, &ov);
    if (rv != HANSA_OK) {
        order_view_free(&ov);
        return rv;
    }
    char dedup[200], expected[LIST_TEXT_BYTES];
    dedup_key(dedup, sizeof dedup, w->carrier, d->logistics_no);
    struct risk_alert *a =
        risk_alert_new(ctx, dedup, (Hansa__Severity)risk_param(ctx, P_SEVERITY_LISTED));
    const uint8_t *tx = tx_or_null(&e->tx_id);
    risk_alert_tx(a, tx_or_null(&h->tx_id));
    add_parties(a, w->carrier, d->logistics_no, d->order, &ov);
    not_listed_text(ctx, expected, sizeof expected);
    risk_alert_evidence(a, "shipment_event.location_locode", expected, e->location_locode, tx);
    risk_alert_evidence(a, "jurisdictions.revision", "", risk_ctx_ruleset(ctx)->jurisdictions_rev,
                        NULL);
    risk_alert_message(a,
                       "Shipment %s/%s of order %s/%s recorded an event at %s, in listed "
                       "jurisdiction %s.",
                       w->carrier, d->logistics_no, d->order->merchant, d->order->order_no,
                       e->location_locode, country);
    order_view_free(&ov);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

/* ---- the order was cancelled ---- */

static hansa_err on_cancelled(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                              const Hansa__Order *o)
{
    HANSA_ASSERT(o->waybill != NULL && o->document != NULL);
    const Hansa__WaybillRef *wr = o->waybill;
    struct order_view none = {0};
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = o->document->merchant;
    ref.order_no = o->document->order_no;
    char dedup[200];
    dedup_key(dedup, sizeof dedup, wr->carrier, wr->logistics_no);
    struct risk_alert *a =
        risk_alert_new(ctx, dedup, (Hansa__Severity)risk_param(ctx, P_SEVERITY_MISMATCH));
    risk_alert_tx(a, tx_or_null(&h->tx_id));
    add_parties(a, wr->carrier, wr->logistics_no, &ref, &none);
    risk_alert_evidence(a, "order.status", "", "CANCELLED", tx_or_null(&h->tx_id));
    risk_alert_message(a,
                       "Order %s/%s of waybill %s/%s was cancelled; the route no longer "
                       "applies.",
                       ref.merchant, ref.order_no, wr->carrier, wr->logistics_no);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED, NULL);
}

static bool cancelled_by_tx(struct risk_ctx *ctx, const Hansa__HistoryEntry *h)
{
    const struct risk_block *b = risk_ctx_block(ctx);
    return h->after->order->status == HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED &&
           h->tx_index < b->n_txs &&
           risk_tx_action(ctx, h->tx_index) == HANSA__TX_BODY__ACTION_CANCEL_ORDER;
}

static hansa_err on_entry(struct risk_ctx *ctx, const Hansa__HistoryEntry *h)
{
    if (h->after == NULL)
        return HANSA_OK;
    if (h->after->kind_case == HANSA__RECORD__KIND_ORDER) {
        const Hansa__Order *o = h->after->order;
        if (o->waybill != NULL && o->document != NULL && cancelled_by_tx(ctx, h))
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
    const struct risk_block *b = risk_ctx_block(ctx);
    for (size_t i = 0; i < b->n_history; i++) {
        hansa_err rv = on_entry(ctx, b->history[i]);
        if (rv != HANSA_OK)
            return rv;
    }
    return HANSA_OK;
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
