/*
 * FAST-CYCLE (RISK.md): a financing that moves faster than trade does.
 * MEDIUM, one incident per financing (dedup key
 * "financing/<merchant>/<financing_id>"), for either of:
 *   - quick disbursal: the disbursement comes less than disburse_ms
 *     (default 1 h) after the earliest creation among the financing's
 *     orders, and none of those orders has departed yet;
 *   - quick settlement: the financing is SETTLED less than settle_ms
 *     (default 24 h) after its disbursement.
 * "Less than" is strict: exactly disburse_ms or settle_ms raises nothing.
 *
 * Input: the block's financing history entries with the credit events
 * DISBURSED and SETTLED. Each condition compares two block times the
 * ledger keeps in its records (Order.created_ms, Financing.disbursed_ms,
 * Financing.settled_ms), so it is decided in the block of its second fact:
 * the rule needs no timer and keeps no state.
 *
 * Edge decisions:
 *   - "Departed" means a DEPARTED event on the order's waybill: an order
 *     SHIPPED has one, an order CREATED has none, and for an order
 *     DELIVERED or RETURNED the waybill's events are read. Orders and
 *     waybills are read as of the disbursal block (after all of its
 *     transactions).
 *   - Both conditions share the financing's incident: a financing both
 *     disbursed and settled fast raises one alert (the first), as the
 *     engine dedups an open incident at the same severity.
 *   - A settlement counts from the disbursement whatever happened in
 *     between (an OVERDUE spell included, with a very short maturity).
 *   - Audience: the borrower and the lending bank, plus regulators.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum { P_SEVERITY, P_DISBURSE_MS, P_SETTLE_MS, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_MEDIUM, 0, 0,
                    "severity of a financing disbursed or settled implausibly fast"},
    [P_DISBURSE_MS] = {"disburse_ms", RISK_P_DURATION, RISK_HOUR_MS, 1000, 365 * RISK_DAY_MS,
                       "a disbursal sooner than this after the earliest order's creation, with "
                       "no order departed, is fast"},
    [P_SETTLE_MS] = {"settle_ms", RISK_P_DURATION, RISK_DAY_MS, 1000, 365 * RISK_DAY_MS,
                     "a settlement sooner than this after the disbursal is fast"},
};

#define EV(x)    HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x
#define ORDER(x) HANSA__ORDER_STATUS__ORDER_STATUS_##x

/* ---- the financing's orders as of the block ---- */

/* Whether the order has a DEPARTED event (see the edge decisions). */
static hansa_err order_departed(struct risk_ctx *ctx, const Hansa__Order *o, bool *out)
{
    *out = o->status == ORDER(SHIPPED);
    if (o->status != ORDER(DELIVERED) && o->status != ORDER(RETURNED))
        return HANSA_OK;
    if (o->waybill == NULL)
        return HANSA_OK;
    Hansa__HistoryEntry *h = NULL;
    hansa_err rv = risk_lookup(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, o->waybill->carrier,
                               o->waybill->logistics_no, &h);
    const Hansa__Waybill *w = risk_entry_waybill(h);
    for (size_t i = 0; w != NULL && i < w->n_events && !*out; i++)
        *out = w->events[i]->type == EV(DEPARTED);
    wire_free(h);
    return rv;
}

/* What the quick-disbursal test needs from the orders. */
struct orders_view {
    Hansa__HistoryEntry *earliest_h; /* the earliest-created order's entry */
    const Hansa__Order *earliest;
    bool any_departed;
};

static hansa_err orders_view_load(struct risk_ctx *ctx, const Hansa__Financing *f,
                                  struct orders_view *v)
{
    memset(v, 0, sizeof *v);
    for (size_t i = 0; i < f->n_orders && !v->any_departed; i++) {
        const Hansa__OrderRef *ref = f->orders[i];
        Hansa__HistoryEntry *h = NULL;
        const Hansa__Order *o = NULL;
        hansa_err rv = risk_order_load(ctx, ref->merchant, ref->order_no, &h, &o);
        if (rv != HANSA_OK)
            return rv;
        if (o == NULL) {
            wire_free(h);
            continue;
        }
        rv = order_departed(ctx, o, &v->any_departed);
        if (rv == HANSA_OK && (v->earliest == NULL || o->created_ms < v->earliest->created_ms)) {
            wire_free(v->earliest_h);
            v->earliest_h = h;
            v->earliest = o;
            h = NULL;
        }
        wire_free(h);
        if (rv != HANSA_OK)
            return rv;
    }
    return HANSA_OK;
}

static void orders_view_free(struct orders_view *v)
{
    wire_free(v->earliest_h);
    memset(v, 0, sizeof *v);
}

/* ---- alerts ---- */

static struct risk_alert *alert_new(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                                    const Hansa__Financing *f)
{
    struct risk_alert *a = risk_alert_for(ctx, "financing", f->merchant, f->financing_id,
                                          (Hansa__Severity)risk_param(ctx, P_SEVERITY));
    risk_alert_tx(a, risk_tx_or_null(&h->tx_id));
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, f->merchant);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, f->merchant, f->financing_id);
    risk_alert_party(a, HANSA__ROLE__ROLE_BANK, f->line->bank);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, f->line->bank,
                       f->line->line_id);
    return a;
}

static hansa_err on_disbursed(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                              const Hansa__Financing *f)
{
    HANSA_ASSERT(f->line != NULL);
    struct orders_view v;
    hansa_err rv = orders_view_load(ctx, f, &v);
    uint64_t limit_ms = (uint64_t)risk_param(ctx, P_DISBURSE_MS);
    /* An order is never created after the block that disburses on it; the
     * second test only guards the subtraction below. */
    if (rv != HANSA_OK || v.earliest == NULL || v.any_departed ||
        f->disbursed_ms >= v.earliest->created_ms + limit_ms ||
        f->disbursed_ms < v.earliest->created_ms) {
        orders_view_free(&v);
        return rv;
    }
    const Hansa__CreateOrder *d = v.earliest->document;
    uint64_t gap_ms = f->disbursed_ms - v.earliest->created_ms;
    const uint8_t *order_tx = risk_tx_or_null(&v.earliest->created_tx_id);
    const uint8_t *tx = risk_tx_or_null(&h->tx_id);
    char val[64], lim[64];
    struct risk_alert *a = alert_new(ctx, h, f);
    risk_alert_tx(a, order_tx);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, d->merchant, d->order_no);
    risk_evidence_u64(a, "order.created_ms", "", v.earliest->created_ms, order_tx);
    risk_evidence_u64(a, "financing.disbursed_ms", "", f->disbursed_ms, tx);
    snprintf(lim, sizeof lim, ">= %" PRIu64, limit_ms);
    risk_evidence_u64(a, "financing.ms_from_order_created_to_disbursed", lim, gap_ms, NULL);
    snprintf(val, sizeof val, "none of %zu", f->n_orders);
    risk_alert_evidence(a, "orders.departed", "", val, NULL);
    risk_evidence_amount(a, "financing.amount_minor", "", f->amount_minor, f->currency, tx);
    risk_alert_message(a,
                       "Financing %s of %s was disbursed by %s %" PRIu64
                       " ms after order %s was created, before any of its orders departed.",
                       f->financing_id, f->merchant, f->line->bank, gap_ms, d->order_no);
    orders_view_free(&v);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

static hansa_err on_settled(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                            const Hansa__Financing *f)
{
    HANSA_ASSERT(f->line != NULL);
    uint64_t limit_ms = (uint64_t)risk_param(ctx, P_SETTLE_MS);
    if (f->disbursed_ms == 0 || f->settled_ms < f->disbursed_ms ||
        f->settled_ms >= f->disbursed_ms + limit_ms)
        return HANSA_OK;
    uint64_t gap_ms = f->settled_ms - f->disbursed_ms;
    char lim[64];
    struct risk_alert *a = alert_new(ctx, h, f);
    risk_evidence_u64(a, "financing.disbursed_ms", "", f->disbursed_ms, NULL);
    risk_evidence_u64(a, "financing.settled_ms", "", f->settled_ms, risk_tx_or_null(&h->tx_id));
    snprintf(lim, sizeof lim, ">= %" PRIu64, limit_ms);
    risk_evidence_u64(a, "financing.ms_from_disbursed_to_settled", lim, gap_ms, NULL);
    risk_evidence_amount(a, "financing.amount_minor", "", f->amount_minor, f->currency, NULL);
    risk_alert_message(
        a, "Financing %s of %s at %s was settled %" PRIu64 " ms after its disbursement.",
        f->financing_id, f->merchant, f->line->bank, gap_ms);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

static hansa_err on_credit_event(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                                 const Hansa__Financing *f, Hansa__CreditEventType t)
{
    if (f->line == NULL)
        return HANSA_OK;
    if (t == HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_DISBURSED)
        return on_disbursed(ctx, h, f);
    if (t == HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_SETTLED)
        return on_settled(ctx, h, f);
    return HANSA_OK;
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    return risk_each_credit_event(ctx, on_credit_event);
}

const struct risk_rule risk_rule_fast_cycle = {
    .id = "FAST-CYCLE",
    .rev = 1,
    .summary = "a financing disbursed within 1 h of its orders or settled within 24 h",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
};
