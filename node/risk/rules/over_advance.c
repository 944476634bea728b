/*
 * OVER-ADVANCE (RISK.md): a financing approved on an order beyond the
 * consortium's prudential cap, by default 9,000 bps of the order's
 * actual_paid. A bank's line may allow an advance rate up to 10,000 bps
 * (DOMAIN.md "Trade credit"), so the ledger accepts what the consortium
 * considers too much; this rule tells the bank, the merchant and the
 * regulators. HIGH, one incident per order (dedup key
 * "order/<merchant>/<order_no>").
 *
 * Input: the block's history entries of financing with the credit event
 * APPROVED (the moment the order is financed, RISK.md's "financed").
 *
 * Pro rata: a financing of amount A over orders with actual_paid p_1..p_n
 * (P = Σ p_i) counts A·p_i/P against order i. Order i is over the cap when
 *     A·p_i/P > cap_bps·p_i/10,000  <=>  A·p_i·10,000 > cap_bps·p_i·P,
 * compared exactly in 128-bit integers (no rounding). An order with
 * actual_paid 0 carries nothing and never alerts. Every order of the
 * financing with actual_paid > 0 therefore alerts together or not at all;
 * each gets its own alert because the incident is the order.
 *
 * State: none (the engine's incidents deduplicate).
 *
 * Edge decisions:
 *   - Evaluated per financing at its approval; amounts of earlier, settled
 *     financings of the same order are not added (an order is pledged to at
 *     most one financing at a time, so they are never outstanding together).
 *   - The evidence renders the order's share and its cap as integers rounded
 *     down (minor units), and the financing's advance as bps rounded up, so
 *     that an advance of 9,000.5 bps shows as 9,001 against a 9,000 cap.
 *   - Cancelled orders never count: an order must be MATCHED and not
 *     cancelled for its financing to be approved, and a pledged order cannot
 *     be cancelled.
 *   - Audience: the merchant and the line's bank.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum { P_SEVERITY, P_CAP_BPS, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH, 0, 0,
                    "severity of a financing approved above the prudential cap on an order"},
    [P_CAP_BPS] = {"cap_bps", RISK_P_INT, 9000, 1, 10000,
                   "prudential cap: the most a financing may advance on an order, in bps of the "
                   "order's actual_paid (pro rata over the financing's orders)"},
};

#define ORDER_T HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER

/* The orders of one financing with their actual_paid (history entries
 * owned). */
struct fin_orders {
    Hansa__HistoryEntry **h; /* one per order ref; NULL if not found */
    int64_t *paid_minor;
    size_t n;
    __int128 total_minor;
};

static void fin_orders_free(struct fin_orders *fo)
{
    for (size_t i = 0; i < fo->n && fo->h != NULL; i++)
        wire_free(fo->h[i]);
    free(fo->h);
    free(fo->paid_minor);
}

static hansa_err fin_orders_load(struct risk_ctx *ctx, const Hansa__Financing *f,
                                 struct fin_orders *fo)
{
    memset(fo, 0, sizeof *fo);
    fo->h = calloc(f->n_orders ? f->n_orders : 1, sizeof *fo->h);
    fo->paid_minor = calloc(f->n_orders ? f->n_orders : 1, sizeof *fo->paid_minor);
    if (fo->h == NULL || fo->paid_minor == NULL)
        return HANSA_ENOMEM;
    fo->n = f->n_orders;
    for (size_t i = 0; i < f->n_orders; i++) {
        const Hansa__OrderRef *ref = f->orders[i];
        const Hansa__Order *o = NULL;
        hansa_err rv = risk_order_load(ctx, ref->merchant, ref->order_no, &fo->h[i], &o);
        if (rv != HANSA_OK)
            return rv;
        if (o == NULL)
            continue;
        int64_t paid_minor = o->document->actual_paid_minor;
        fo->paid_minor[i] = paid_minor > 0 ? paid_minor : 0;
        fo->total_minor += fo->paid_minor[i];
    }
    return HANSA_OK;
}

static hansa_err report(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                        const Hansa__Financing *f, const Hansa__OrderRef *o, int64_t paid_minor,
                        const struct fin_orders *fo, int64_t rate_bps)
{
    int64_t cap_bps = risk_param(ctx, P_CAP_BPS);
    int64_t share_minor = (int64_t)((__int128)f->amount_minor * paid_minor / fo->total_minor);
    int64_t cap_minor = (int64_t)((__int128)cap_bps * paid_minor / RISK_BPS);
    int64_t advance_bps =
        (int64_t)(((__int128)f->amount_minor * RISK_BPS + fo->total_minor - 1) / fo->total_minor);
    const uint8_t *tx = risk_tx_or_null(&h->tx_id);
    char e[48];

    struct risk_alert *a = risk_alert_for(ctx, "order", o->merchant, o->order_no,
                                          (Hansa__Severity)risk_param(ctx, P_SEVERITY));
    risk_alert_tx(a, tx);
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, f->merchant);
    risk_alert_party(a, HANSA__ROLE__ROLE_BANK, f->line->bank);
    risk_alert_subject(a, ORDER_T, o->merchant, o->order_no);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, f->merchant, f->financing_id);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, f->line->bank,
                       f->line->line_id);
    risk_fmt_i64(e, sizeof e, cap_minor);
    risk_evidence_i64(a, "order.financed_share_minor", e, share_minor, tx);
    risk_fmt_i64(e, sizeof e, cap_bps);
    risk_evidence_i64(a, "financing.advance_bps", e, advance_bps, tx);
    risk_evidence_i64(a, "order.actual_paid_minor", "", paid_minor, NULL);
    risk_evidence_i64(a, "financing.amount_minor", "", f->amount_minor, tx);
    if (rate_bps > 0)
        risk_evidence_i64(a, "credit_line.advance_rate_bps", "", rate_bps, NULL);
    risk_alert_message(a,
                       "%s approved financing %s of %s advancing %" PRId64 " %s on order %s, "
                       "above the cap of %" PRId64 " bps of its actual_paid %" PRId64 " (%" PRId64
                       " bps).",
                       f->line->bank, f->financing_id, f->merchant, share_minor, f->currency,
                       o->order_no, cap_bps, paid_minor, advance_bps);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

/* The line's advance rate for the evidence; 0 if the line is unknown. */
static hansa_err line_rate(struct risk_ctx *ctx, const Hansa__LineRef *l, int64_t *rate_bps)
{
    Hansa__HistoryEntry *lh = NULL;
    *rate_bps = 0;
    hansa_err rv =
        risk_lookup(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, l->bank, l->line_id, &lh);
    if (lh != NULL && lh->after != NULL && lh->after->kind_case == HANSA__RECORD__KIND_CREDIT_LINE)
        *rate_bps = lh->after->credit_line->advance_rate_bps;
    wire_free(lh);
    return rv;
}

static hansa_err on_credit_event(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                                 const Hansa__Financing *f, Hansa__CreditEventType t)
{
    if (t != HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_APPROVED || f->line == NULL ||
        f->amount_minor <= 0)
        return HANSA_OK;
    struct fin_orders fo;
    hansa_err rv = fin_orders_load(ctx, f, &fo);
    if (rv != HANSA_OK || fo.total_minor <= 0) {
        fin_orders_free(&fo);
        return rv;
    }
    /* A·p_i·10,000 > cap·p_i·P is the same test for every p_i > 0 (see the top). */
    __int128 cap_bps = risk_param(ctx, P_CAP_BPS);
    bool over = (__int128)f->amount_minor * RISK_BPS > cap_bps * fo.total_minor;
    int64_t rate_bps = 0;
    if (over)
        rv = line_rate(ctx, f->line, &rate_bps);
    for (size_t i = 0; rv == HANSA_OK && over && i < fo.n; i++) {
        if (fo.paid_minor[i] > 0)
            rv = report(ctx, h, f, f->orders[i], fo.paid_minor[i], &fo, rate_bps);
    }
    fin_orders_free(&fo);
    return rv;
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    return risk_each_credit_event(ctx, on_credit_event);
}

const struct risk_rule risk_rule_over_advance = {
    .id = "OVER-ADVANCE",
    .rev = 1,
    .summary = "a financing approved above the prudential cap of an order's actual_paid",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
};
