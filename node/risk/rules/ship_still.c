/*
 * SHIP-STILL (RISK.md): a phantom shipment. A disbursed financing one of
 * whose orders has no DEPARTED event still_ms (default 10 days) after the
 * disbursement. HIGH, one incident per order (dedup key
 * "order/<merchant>/<order_no>"): a financing over several orders raises
 * one alert for each order that has not departed.
 *
 * Input: the block's financing history entries with the credit events
 * DISBURSED (start the clock) and SETTLED (stop it), and waybill entries
 * written by a DEPARTED shipment event (resolve).
 *
 * State:
 *   s/SHIP-STILL/f/<merchant>/<financing_id> -> be64 disbursal height,
 *       32-byte disbursal tx id: a financing whose clock runs
 *   t/SHIP-STILL/<be64 due_ms>/f/<merchant>/<financing_id>  its timer, at
 *       disbursed_ms + still_ms
 *   s/SHIP-STILL/o/<merchant>/<order_no> -> financing_id: an incident this
 *       rule opened for the order and has not resolved yet
 * Ids never contain '/' (hansa.proto id-string), so the keys are
 * unambiguous; a financing's orders are all its borrower's, so the
 * financing is named by the order's merchant and its id.
 *
 * Invariants:
 *   1. A financing has its f/ entry and its timer from its DISBURSED block
 *      until the timer fires or the financing is SETTLED, whichever is
 *      first; both are removed together.
 *   2. The timer re-checks the financing and its orders as of its block: a
 *      financing SETTLED by then raises nothing (RISK.md "SHIP-STILL ignores
 *      financing settled before the deadline"), and an order counts as
 *      departed when its waybill holds a DEPARTED event by then, even one
 *      recorded in that very block.
 *   3. The o/ marker exists exactly while an incident this rule opened is
 *      open; the order's first DEPARTED event afterwards RESOLVES it.
 *
 * Edge decisions:
 *   - "No DEPARTED event" is literal: an order delivered or returned
 *     without a DEPARTED event is still (SHIP-IMPLAUSIBLE looks at the
 *     delivery itself). An order without a waybill cannot be financed.
 *   - An OVERDUE or DEFAULTED financing is still checked: only settlement
 *     ends the bank's exposure.
 *   - The alert's evidence is in the disbursal block (alert height and tx);
 *     it is emitted by the first block past the deadline.
 *   - Audience: the merchant, the lending bank and the order's carrier,
 *     plus regulators.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum { P_SEVERITY, P_STILL_MS, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH, 0, 0,
                    "severity of a financed order with no DEPARTED event after still_ms"},
    [P_STILL_MS] = {"still_ms", RISK_P_DURATION, 10 * RISK_DAY_MS, 1000, 365 * RISK_DAY_MS,
                    "block time after disbursement by which every financed order must have "
                    "departed"},
};

#define EV(x)       HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x
#define FIN(x)      HANSA__FINANCING_STATUS__FINANCING_STATUS_##x
#define KEY_MAX     RISK_PAIR_KEY_BYTES_MAX
#define CLOCK_BYTES (8u + WIRE_HASH_BYTES)

/* A financing whose clock runs: where the disbursal is. */
struct clock {
    uint64_t height;
    uint8_t tx_id[WIRE_HASH_BYTES];
};

static hansa_err clock_get(struct risk_ctx *ctx, const uint8_t *k, size_t n, struct clock *c,
                           bool *have)
{
    uint8_t v[CLOCK_BYTES];
    hansa_err rv = risk_get_exact(ctx, k, n, v, sizeof v, have);
    if (rv == HANSA_OK && *have) {
        c->height = risk_be64_get(v);
        memcpy(c->tx_id, v + 8, WIRE_HASH_BYTES);
    }
    return rv;
}

static hansa_err clock_put(struct risk_ctx *ctx, const uint8_t *k, size_t n, const struct clock *c)
{
    uint8_t v[CLOCK_BYTES];
    risk_be64_put(v, c->height);
    memcpy(v + 8, c->tx_id, WIRE_HASH_BYTES);
    return risk_put(ctx, k, n, v, sizeof v);
}

static bool departed(const Hansa__Waybill *w)
{
    for (size_t i = 0; w != NULL && i < w->n_events; i++)
        if (w->events[i]->type == EV(DEPARTED))
            return true;
    return false;
}

/* ---- records as of the block ---- */

static hansa_err financing_load(struct risk_ctx *ctx, const char *merchant, const char *fid,
                                Hansa__HistoryEntry **h, const Hansa__Financing **f)
{
    hansa_err rv = risk_lookup(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, merchant, fid, h);
    *f = risk_entry_financing(*h);
    return rv;
}

/* An order and its waybill (either NULL when unknown). */
struct shipment {
    Hansa__HistoryEntry *order_h, *wb_h;
    const Hansa__Order *order;
    const Hansa__Waybill *wb;
};

static hansa_err shipment_load(struct risk_ctx *ctx, const Hansa__OrderRef *ref, struct shipment *s)
{
    memset(s, 0, sizeof *s);
    hansa_err rv = risk_order_load(ctx, ref->merchant, ref->order_no, &s->order_h, &s->order);
    if (rv != HANSA_OK || s->order == NULL || s->order->waybill == NULL)
        return rv;
    return risk_waybill_load(ctx, s->order->waybill, &s->wb_h, &s->wb);
}

static void shipment_free(struct shipment *s)
{
    wire_free(s->order_h);
    wire_free(s->wb_h);
    memset(s, 0, sizeof *s);
}

/* Parties and subjects of an order's alert. */
static void describe(struct risk_alert *a, const Hansa__Financing *f, const struct shipment *s)
{
    const Hansa__CreateOrder *d = s->order->document;
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, d->merchant);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, d->merchant, d->order_no);
    if (f != NULL) {
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, f->merchant,
                           f->financing_id);
        if (f->line != NULL) {
            risk_alert_party(a, HANSA__ROLE__ROLE_BANK, f->line->bank);
            risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, f->line->bank,
                               f->line->line_id);
        }
    }
    if (s->wb != NULL) {
        risk_alert_party(a, HANSA__ROLE__ROLE_LOGISTICS, s->wb->carrier);
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, s->wb->carrier,
                           s->wb->document->logistics_no);
    }
}

static struct risk_alert *order_alert(struct risk_ctx *ctx, const Hansa__CreateOrder *d)
{
    return risk_alert_for(ctx, "order", d->merchant, d->order_no,
                          (Hansa__Severity)risk_param(ctx, P_SEVERITY));
}

/* ---- the deadline passed ---- */

static hansa_err report_still(struct risk_ctx *ctx, const Hansa__Financing *f,
                              const struct clock *c, const struct shipment *s)
{
    HANSA_ASSERT(s->order != NULL && f->line != NULL);
    const Hansa__CreateOrder *d = s->order->document;
    uint64_t still_ms = (uint64_t)risk_param(ctx, P_STILL_MS);
    uint64_t since_ms = risk_elapsed_ms(risk_ctx_block(ctx)->time_ms, f->disbursed_ms);
    char v[96], lim[64];
    struct risk_alert *a = order_alert(ctx, d);
    risk_alert_at(a, c->height);
    risk_alert_tx(a, c->tx_id);
    describe(a, f, s);
    risk_evidence_u64(a, "financing.disbursed_ms", "", f->disbursed_ms, c->tx_id);
    risk_evidence_amount(a, "financing.amount_minor", "", f->amount_minor, f->currency, c->tx_id);
    snprintf(lim, sizeof lim, "DEPARTED within %" PRIu64 " ms", still_ms);
    snprintf(v, sizeof v, "none in %zu events", s->wb != NULL ? s->wb->n_events : (size_t)0);
    risk_alert_evidence(a, "waybill.events", lim, v,
                        s->wb != NULL ? risk_tx_or_null(&s->wb->tx_id) : NULL);
    risk_alert_evidence(a, "order.status", "", risk_order_status_name(s->order->status), NULL);
    snprintf(lim, sizeof lim, "<= %" PRIu64, still_ms);
    risk_evidence_u64(a, "financing.ms_since_disbursed", lim, since_ms, NULL);
    risk_alert_message(a,
                       "Order %s of %s, financed by %s under %s (%" PRId64 " %s), has not "
                       "departed %" PRIu64 " ms after disbursement.",
                       d->order_no, d->merchant, f->line->bank, f->financing_id, f->amount_minor,
                       f->currency, since_ms);
    bool emitted = false;
    hansa_err rv = risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, &emitted);
    if (rv != HANSA_OK || !emitted)
        return rv;
    uint8_t k[KEY_MAX + 1];
    size_t n = risk_pair_key(k, KEY_MAX, 'o', d->merchant, d->order_no);
    return n == 0 ? HANSA_OK : risk_put(ctx, k, n, f->financing_id, strlen(f->financing_id));
}

/* Alert for each of f's orders that has not departed (invariant 2). */
static hansa_err check_orders(struct risk_ctx *ctx, const Hansa__Financing *f,
                              const struct clock *c)
{
    hansa_err rv = HANSA_OK;
    for (size_t i = 0; rv == HANSA_OK && i < f->n_orders; i++) {
        struct shipment s;
        rv = shipment_load(ctx, f->orders[i], &s);
        if (rv == HANSA_OK && s.order != NULL &&
            s.order->status != HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED && !departed(s.wb))
            rv = report_still(ctx, f, c, &s);
        shipment_free(&s);
    }
    return rv;
}

static hansa_err on_timer(struct risk_ctx *ctx, const uint8_t *key, size_t key_len, uint64_t due_ms)
{
    (void)due_ms;
    char kind, merchant[HANSA_ID_LEN_MAX + 1], fid[HANSA_ID_LEN_MAX + 1];
    if (!risk_pair_key_parse(key, key_len, &kind, merchant, fid) || kind != 'f')
        return HANSA_EFORMAT;
    struct clock c;
    bool have = false;
    hansa_err rv = clock_get(ctx, key, key_len, &c, &have);
    if (rv != HANSA_OK || !have)
        return rv; /* stale (invariant 1) */
    rv = risk_put(ctx, key, key_len, NULL, 0);
    Hansa__HistoryEntry *fh = NULL;
    const Hansa__Financing *f = NULL;
    if (rv == HANSA_OK)
        rv = financing_load(ctx, merchant, fid, &fh, &f);
    if (rv == HANSA_OK && f != NULL && f->line != NULL && f->status != FIN(SETTLED) &&
        f->status != FIN(REJECTED))
        rv = check_orders(ctx, f, &c);
    wire_free(fh);
    return rv;
}

/* ---- the block: disbursals, settlements, departures ---- */

static hansa_err on_disbursed(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                              const Hansa__Financing *f)
{
    uint8_t k[KEY_MAX + 1];
    size_t n = risk_pair_key(k, KEY_MAX, 'f', f->merchant, f->financing_id);
    if (n == 0 || h->tx_id.len != WIRE_HASH_BYTES)
        return HANSA_OK;
    struct clock c = {.height = risk_ctx_block(ctx)->height};
    memcpy(c.tx_id, h->tx_id.data, WIRE_HASH_BYTES);
    hansa_err rv = clock_put(ctx, k, n, &c);
    if (rv == HANSA_OK)
        rv = risk_timer_set(ctx, f->disbursed_ms + (uint64_t)risk_param(ctx, P_STILL_MS), k, n);
    return rv;
}

static hansa_err on_settled(struct risk_ctx *ctx, const Hansa__Financing *f)
{
    uint8_t k[KEY_MAX + 1];
    size_t n = risk_pair_key(k, KEY_MAX, 'f', f->merchant, f->financing_id);
    if (n == 0)
        return HANSA_OK;
    struct clock c;
    bool have = false;
    hansa_err rv = clock_get(ctx, k, n, &c, &have);
    if (rv != HANSA_OK || !have)
        return rv;
    rv = risk_timer_cancel(ctx, f->disbursed_ms + (uint64_t)risk_param(ctx, P_STILL_MS), k, n);
    return rv == HANSA_OK ? risk_put(ctx, k, n, NULL, 0) : rv;
}

/* The first DEPARTED of an order this rule alerted on resolves it. */
static hansa_err on_departed(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                             const Hansa__Waybill *w)
{
    const Hansa__OrderRef *ref = w->document->order;
    uint8_t k[KEY_MAX + 1], *fid = NULL;
    size_t n = risk_pair_key(k, KEY_MAX, 'o', ref->merchant, ref->order_no), len = 0;
    if (n == 0)
        return HANSA_OK;
    hansa_err rv = risk_get(ctx, k, n, &fid, &len);
    if (rv != HANSA_OK)
        return rv == HANSA_ENOENT ? HANSA_OK : rv;
    char fid_s[HANSA_ID_LEN_MAX + 1];
    size_t fl = len < HANSA_ID_LEN_MAX ? len : HANSA_ID_LEN_MAX;
    memcpy(fid_s, fid, fl);
    fid_s[fl] = '\0';
    free(fid);
    struct shipment s;
    Hansa__HistoryEntry *fh = NULL;
    const Hansa__Financing *f = NULL;
    rv = shipment_load(ctx, ref, &s);
    if (rv == HANSA_OK)
        rv = financing_load(ctx, ref->merchant, fid_s, &fh, &f);
    if (rv == HANSA_OK && s.order != NULL) {
        const Hansa__ShipmentEvent *e = w->events[w->n_events - 1];
        const uint8_t *etx = risk_tx_or_null(&e->tx_id);
        struct risk_alert *a = order_alert(ctx, s.order->document);
        risk_alert_tx(a, risk_tx_or_null(&h->tx_id));
        describe(a, f, &s);
        risk_alert_evidence(a, "shipment_event.type", "DEPARTED", "DEPARTED", etx);
        risk_evidence_u64(a, "shipment_event.recorded_ms", "", e->recorded_ms, etx);
        risk_alert_message(a, "Financed order %s of %s departed from %s.", ref->order_no,
                           ref->merchant, e->location_locode);
        rv = risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED, NULL);
    }
    shipment_free(&s);
    wire_free(fh);
    return rv == HANSA_OK ? risk_put(ctx, k, n, NULL, 0) : rv;
}

static hansa_err on_entry(struct risk_ctx *ctx, const Hansa__HistoryEntry *h)
{
    const Hansa__Record *rec = h->after;
    if (rec == NULL)
        return HANSA_OK;
    if (rec->kind_case == HANSA__RECORD__KIND_FINANCING && h->credit_event != NULL) {
        Hansa__CreditEventType t = h->credit_event->type;
        if (t == HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_DISBURSED)
            return on_disbursed(ctx, h, rec->financing);
        if (t == HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_SETTLED)
            return on_settled(ctx, rec->financing);
        return HANSA_OK;
    }
    if (rec->kind_case != HANSA__RECORD__KIND_WAYBILL)
        return HANSA_OK;
    const Hansa__Waybill *w = rec->waybill;
    if (w->document == NULL || w->document->order == NULL || w->n_events == 0)
        return HANSA_OK;
    /* An AddShipmentEvent entry: its event is the record's last. */
    const Hansa__ShipmentEvent *e = w->events[w->n_events - 1];
    if (e->type != EV(DEPARTED) || !risk_same_tx(&e->tx_id, &h->tx_id))
        return HANSA_OK;
    return on_departed(ctx, h, w);
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    return risk_each_entry(ctx, on_entry);
}

const struct risk_rule risk_rule_ship_still = {
    .id = "SHIP-STILL",
    .rev = 1,
    .summary = "a disbursed financing with an order not departed 10 days after disbursement",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
    .on_timer = on_timer,
};
