/*
 * 3DOC-MISSING (RISK.md): a leg of the three documents does not follow the
 * other in time. Two cases, one incident per order (dedup key
 * "order/<merchant>/<order_no>"), MEDIUM:
 *   - paid, no waybill: the order's payment was recorded and no waybill
 *     exists payment_waybill_ms (default 72 h) later;
 *   - shipped on paper, unpaid: the order's waybill was created and no
 *     payment exists waybill_payment_ms (default 24 h) later.
 * The two cases exclude each other: the first leg decides which applies.
 *
 * Input: the block's history entries of payments (every entry of a payment
 * is its creation: payments are immutable), of waybills at their creation
 * (the entry written by the CreateWaybill transaction itself, not those of
 * later shipment events), and of orders cancelled by a CancelOrder.
 *
 * State:
 *   t/3DOC-MISSING/<be64 due_ms>/p/<merchant>/<order_no>  payment's timer
 *   t/3DOC-MISSING/<be64 due_ms>/w/<merchant>/<order_no>  waybill's timer
 *   s/3DOC-MISSING/a/<merchant>/<order_no> -> 'p' or 'w'  an incident this
 *       rule opened and has not resolved yet, with the case that opened it
 * Ids never contain '/' (hansa.proto id-string), so the keys are
 * unambiguous. Due times are the first leg's block time plus the window.
 *
 * Invariants:
 *   1. When a leg arrives, the order is looked up as of the block (after
 *      every transaction of the block): if the other leg is already there
 *      (earlier, or later in the same block) no timer is set and the other
 *      leg's timer, if any, is cancelled; otherwise this leg's timer is set.
 *   2. A timer re-checks the order as of its block before alerting: a
 *      cancelled order, or one whose other leg exists, raises nothing. So
 *      a leg recorded in the very block that passes the deadline counts as
 *      in time (the rule sees that block whole), and a timer left behind by
 *      a cancelled order is harmless.
 *   3. The marker s/.../a/... exists exactly while an incident this rule
 *      opened is open: the missing leg's arrival or the order's
 *      cancellation RESOLVES it and deletes the marker.
 *
 * Edge decisions:
 *   - The alert is emitted by the first block past the deadline, with its
 *     evidence (alert height and tx) in the block of the leg that started
 *     the clock.
 *   - Audience: the merchant, the payment institution (paid case) or the
 *     carrier (waybill case), and the platform when it created the order;
 *     the RESOLVED alert adds the party of the leg that arrived. No bank: an
 *     order without all three legs cannot be financed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum { P_SEVERITY, P_PAYMENT_WAYBILL_MS, P_WAYBILL_PAYMENT_MS, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_MEDIUM, 0, 0,
                    "severity of an order missing its waybill or its payment"},
    [P_PAYMENT_WAYBILL_MS] = {"payment_waybill_ms", RISK_P_DURATION, 72 * RISK_HOUR_MS, 1000,
                              365 * RISK_DAY_MS,
                              "block time after an order's payment by which its waybill must "
                              "exist"},
    [P_WAYBILL_PAYMENT_MS] = {"waybill_payment_ms", RISK_P_DURATION, 24 * RISK_HOUR_MS, 1000,
                              365 * RISK_DAY_MS,
                              "block time after an order's waybill by which its payment must "
                              "exist"},
};

/* "k/<merchant>/<order_no>" */
#define KEY_MAX RISK_PAIR_KEY_BYTES_MAX

/* The two legs; the first to arrive starts the clock for the other. */
enum leg_kind { LEG_PAYMENT, LEG_WAYBILL };

static char leg_char(enum leg_kind k)
{
    return k == LEG_PAYMENT ? 'p' : 'w';
}

static enum leg_kind leg_other(enum leg_kind k)
{
    return k == LEG_PAYMENT ? LEG_WAYBILL : LEG_PAYMENT;
}

/* The window the leg k starts. */
static uint64_t leg_window_ms(const struct risk_ctx *ctx, enum leg_kind k)
{
    return (uint64_t)risk_param(ctx,
                                k == LEG_PAYMENT ? P_PAYMENT_WAYBILL_MS : P_WAYBILL_PAYMENT_MS);
}

static size_t order_key(uint8_t *k, char kind, const char *merchant, const char *order_no)
{
    return risk_pair_key(k, KEY_MAX, kind, merchant, order_no);
}

/* ---- records as of the block ---- */

/* One leg of an order: who recorded it, when, in which transaction. */
struct leg {
    Hansa__HistoryEntry *h; /* NULL when the order has no such leg */
    const char *party, *id;
    uint64_t ms, height;
    const uint8_t *tx;
};

static bool leg_present(const Hansa__Order *o, enum leg_kind k)
{
    return k == LEG_PAYMENT ? o->payment != NULL : o->waybill != NULL;
}

static hansa_err leg_load(struct risk_ctx *ctx, const Hansa__Order *o, enum leg_kind k,
                          struct leg *l)
{
    memset(l, 0, sizeof *l);
    if (!leg_present(o, k))
        return HANSA_OK;
    const Hansa__Payment *p = NULL;
    const Hansa__Waybill *w = NULL;
    hansa_err rv = k == LEG_PAYMENT ? risk_payment_load(ctx, o->payment, &l->h, &p)
                                    : risk_waybill_load(ctx, o->waybill, &l->h, &w);
    if (rv != HANSA_OK || l->h == NULL)
        return rv;
    if (p != NULL) {
        *l = (struct leg){l->h,           p->institution,     p->document->pay_transaction_id,
                          p->recorded_ms, p->recorded_height, risk_tx_or_null(&p->tx_id)};
    } else if (w != NULL) {
        *l = (struct leg){l->h,          w->carrier,        w->document->logistics_no,
                          w->created_ms, w->created_height, risk_tx_or_null(&w->tx_id)};
    } else {
        wire_free(l->h);
        l->h = NULL;
    }
    return HANSA_OK;
}

static void leg_free(struct leg *l)
{
    wire_free(l->h);
    memset(l, 0, sizeof *l);
}

static void add_leg(struct risk_alert *a, enum leg_kind k, const struct leg *l)
{
    if (l->h == NULL)
        return;
    risk_alert_tx(a, l->tx);
    if (k == LEG_PAYMENT) {
        risk_alert_party(a, HANSA__ROLE__ROLE_PAYMENT, l->party);
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_PAYMENT, l->party, l->id);
    } else {
        risk_alert_party(a, HANSA__ROLE__ROLE_LOGISTICS, l->party);
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, l->party, l->id);
    }
}

static struct risk_alert *alert_new(struct risk_ctx *ctx, const Hansa__Order *o)
{
    const Hansa__CreateOrder *d = o->document;
    struct risk_alert *a = risk_alert_for(ctx, "order", d->merchant, d->order_no,
                                          (Hansa__Severity)risk_param(ctx, P_SEVERITY));
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, d->merchant);
    if (o->created_by != NULL && strcmp(o->created_by, d->merchant) != 0)
        risk_alert_party(a, HANSA__ROLE__ROLE_PLATFORM, o->created_by);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, d->merchant, d->order_no);
    return a;
}

/* ---- the deadline passed ---- */

static hansa_err report_missing(struct risk_ctx *ctx, const Hansa__Order *o, enum leg_kind first,
                                const struct leg *l)
{
    HANSA_ASSERT(l->h != NULL && l->party != NULL && l->id != NULL);
    const Hansa__CreateOrder *d = o->document;
    uint64_t window_ms = leg_window_ms(ctx, first);
    uint64_t since_ms = risk_elapsed_ms(risk_ctx_block(ctx)->time_ms, l->ms);
    bool paid = first == LEG_PAYMENT;
    char lim[64], ref[160];
    snprintf(ref, sizeof ref, "%s/%s", l->party, l->id);
    struct risk_alert *a = alert_new(ctx, o);
    risk_alert_at(a, l->height);
    add_leg(a, first, l);
    risk_evidence_u64(a, paid ? "payment.recorded_ms" : "waybill.created_ms", "", l->ms, l->tx);
    snprintf(lim, sizeof lim, "within %" PRIu64 " ms", window_ms);
    risk_alert_evidence(a, paid ? "order.waybill" : "order.payment", lim, "none", NULL);
    snprintf(lim, sizeof lim, "<= %" PRIu64, window_ms);
    risk_evidence_u64(a, paid ? "order.ms_since_payment" : "order.ms_since_waybill", lim, since_ms,
                      NULL);
    risk_alert_message(a, "Order %s of %s has %s %s but no %s %" PRIu64 " ms later.", d->order_no,
                       d->merchant, paid ? "payment" : "waybill", ref, paid ? "waybill" : "payment",
                       since_ms);
    bool emitted = false;
    hansa_err rv = risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, &emitted);
    if (rv != HANSA_OK || !emitted)
        return rv;
    uint8_t k[KEY_MAX + 1];
    size_t n = order_key(k, 'a', d->merchant, d->order_no);
    uint8_t mark = (uint8_t)leg_char(first);
    return n == 0 ? HANSA_OK : risk_put(ctx, k, n, &mark, 1);
}

static hansa_err on_timer(struct risk_ctx *ctx, const uint8_t *key, size_t key_len, uint64_t due_ms)
{
    (void)due_ms;
    char kind, merchant[HANSA_ID_LEN_MAX + 1], order_no[HANSA_ID_LEN_MAX + 1];
    if (!risk_pair_key_parse(key, key_len, &kind, merchant, order_no) ||
        (kind != 'p' && kind != 'w'))
        return HANSA_EFORMAT;
    enum leg_kind first = kind == 'p' ? LEG_PAYMENT : LEG_WAYBILL;
    Hansa__HistoryEntry *oh = NULL;
    const Hansa__Order *o = NULL;
    hansa_err rv = risk_order_load(ctx, merchant, order_no, &oh, &o);
    /* Invariant 2: the case must still apply as of this block. */
    if (rv != HANSA_OK || o == NULL || o->status == HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED ||
        leg_present(o, leg_other(first))) {
        wire_free(oh);
        return rv;
    }
    struct leg l;
    rv = leg_load(ctx, o, first, &l);
    if (rv == HANSA_OK && l.h != NULL)
        rv = report_missing(ctx, o, first, &l);
    leg_free(&l);
    wire_free(oh);
    return rv;
}

/* ---- a leg arrived, or the order was cancelled ---- */

/* Resolve the open incident of this order, if this rule opened one. */
static hansa_err resolve(struct risk_ctx *ctx, const Hansa__Order *o, const char *field,
                         const char *observed, const uint8_t *tx, const char *why)
{
    const Hansa__CreateOrder *d = o->document;
    uint8_t k[KEY_MAX + 1];
    size_t n = order_key(k, 'a', d->merchant, d->order_no);
    bool opened = false;
    hansa_err rv = n > 0 ? risk_exists(ctx, k, n, &opened) : HANSA_OK;
    if (rv != HANSA_OK || !opened)
        return rv;
    struct leg legs[2];
    rv = leg_load(ctx, o, LEG_PAYMENT, &legs[0]);
    if (rv == HANSA_OK)
        rv = leg_load(ctx, o, LEG_WAYBILL, &legs[1]);
    if (rv == HANSA_OK) {
        struct risk_alert *a = alert_new(ctx, o);
        risk_alert_tx(a, tx);
        add_leg(a, LEG_PAYMENT, &legs[0]);
        add_leg(a, LEG_WAYBILL, &legs[1]);
        risk_alert_evidence(a, field, "", observed, tx);
        risk_alert_message(a, "Order %s of %s %s.", d->order_no, d->merchant, why);
        rv = risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED, NULL);
    }
    leg_free(&legs[0]);
    leg_free(&legs[1]);
    return rv == HANSA_OK ? risk_put(ctx, k, n, NULL, 0) : rv;
}

/* Invariant 1 for the leg `kind` of order ref, recorded by entry h. */
static hansa_err on_leg(struct risk_ctx *ctx, const Hansa__OrderRef *ref, enum leg_kind kind,
                        const Hansa__HistoryEntry *h, const char *leg_id)
{
    HANSA_ASSERT(ref != NULL && h != NULL && leg_id != NULL);
    Hansa__HistoryEntry *oh = NULL;
    const Hansa__Order *o = NULL;
    hansa_err rv = risk_order_load(ctx, ref->merchant, ref->order_no, &oh, &o);
    if (rv != HANSA_OK || o == NULL) {
        wire_free(oh);
        return rv;
    }
    const Hansa__CreateOrder *d = o->document;
    uint8_t k[KEY_MAX + 1];
    enum leg_kind other = leg_other(kind);
    if (!leg_present(o, other)) {
        size_t n = order_key(k, leg_char(kind), d->merchant, d->order_no);
        if (n > 0 && o->status != HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED)
            rv = risk_timer_set(ctx, h->time_ms + leg_window_ms(ctx, kind), k, n);
        wire_free(oh);
        return rv;
    }
    struct leg ol;
    rv = leg_load(ctx, o, other, &ol);
    size_t n = order_key(k, leg_char(other), d->merchant, d->order_no);
    if (rv == HANSA_OK && ol.h != NULL && n > 0)
        rv = risk_timer_cancel(ctx, ol.ms + leg_window_ms(ctx, other), k, n);
    leg_free(&ol);
    if (rv == HANSA_OK)
        rv = resolve(ctx, o, kind == LEG_PAYMENT ? "order.payment" : "order.waybill", leg_id,
                     risk_tx_or_null(&h->tx_id),
                     kind == LEG_PAYMENT ? "now has its payment" : "now has its waybill");
    wire_free(oh);
    return rv;
}

static hansa_err on_entry(struct risk_ctx *ctx, const Hansa__HistoryEntry *h)
{
    const Hansa__Record *rec = h->after;
    char id[2 * HANSA_ID_LEN_MAX + 2];
    if (rec == NULL)
        return HANSA_OK;
    if (rec->kind_case == HANSA__RECORD__KIND_PAYMENT) {
        const Hansa__Payment *p = rec->payment;
        if (p->document == NULL || p->document->order == NULL)
            return HANSA_OK;
        snprintf(id, sizeof id, "%s/%s", p->institution, p->document->pay_transaction_id);
        return on_leg(ctx, p->document->order, LEG_PAYMENT, h, id);
    }
    if (rec->kind_case == HANSA__RECORD__KIND_WAYBILL) {
        const Hansa__Waybill *w = rec->waybill;
        /* Only the creation: the entry of the transaction that made it. */
        if (w->document == NULL || w->document->order == NULL ||
            !risk_same_tx(&w->tx_id, &h->tx_id))
            return HANSA_OK;
        snprintf(id, sizeof id, "%s/%s", w->carrier, w->document->logistics_no);
        return on_leg(ctx, w->document->order, LEG_WAYBILL, h, id);
    }
    if (rec->kind_case == HANSA__RECORD__KIND_ORDER && rec->order->document != NULL &&
        risk_entry_cancels_order(ctx, h, rec->order))
        return resolve(ctx, rec->order, "order.status", "CANCELLED", risk_tx_or_null(&h->tx_id),
                       "was cancelled");
    return HANSA_OK;
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    return risk_each_entry(ctx, on_entry);
}

const struct risk_rule risk_rule_three_doc_missing = {
    .id = "3DOC-MISSING",
    .rev = 1,
    .summary = "a paid order without a waybill, or a waybill without a payment, past a deadline",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
    .on_timer = on_timer,
};
