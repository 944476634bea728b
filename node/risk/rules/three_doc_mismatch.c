/*
 * 3DOC-MISMATCH (RISK.md): an order's three-document match result became
 * MISMATCHED (DOMAIN.md "Three-document matching"). One alert per order
 * (dedup key "order/<merchant>/<order_no>") carrying every reason of the
 * match result in its evidence.
 *
 * Severity: HIGH (severity_high) when the AMOUNT reason is present and
 * |amount_paid - actual_paid| > amount_high_bps (default 500 = 5 %) of the
 * order's actual_paid, or when a limit reason (PER_ORDER_LIMIT,
 * ANNUAL_LIMIT) is present and limit_reason_high is true; else MEDIUM
 * (severity). The comparison is exact: diff x 10,000 > bps x actual_paid in
 * 128 bits.
 *
 * Input: the block's order history entries. The ledger decides the result
 * once, in the transaction that attaches the last leg (a RecordPayment or a
 * CreateWaybill), and stores decided_height with it; the rule reacts to the
 * entry written by that transaction (decided_height = this block), so later
 * rewrites of the order (shipment status, cancellation) never re-alert.
 * The payment and the waybill are looked up as of this block for the
 * evidence (the ledger's records name them in the order).
 *
 * State: none. The ledger's result is immutable, so there is nothing to
 * remember between blocks.
 *
 * Edge decisions:
 *   - The AMOUNT share is judged only when the payment is in the order's
 *     currency (RISK.md: amounts are compared only within one currency); a
 *     payment in another currency is MISMATCHED for CURRENCY and its amount
 *     does not make the alert HIGH.
 *   - The ledger's tolerance and retail-import limits are genesis
 *     parameters the engine cannot read; the evidence names the bound
 *     instead of its number and shows the observed amounts.
 *   - Cancelling a MISMATCHED order (DOMAIN.md's remedy: cancel and create a
 *     new order) RESOLVES the incident.
 *   - Audience: the merchant, the payment institution and the carrier whose
 *     documents disagree with the order, and the platform when it created
 *     the order. No bank: financing may reference only MATCHED orders.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum { P_SEVERITY, P_SEVERITY_HIGH, P_AMOUNT_HIGH_BPS, P_LIMIT_REASON_HIGH, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_MEDIUM, 0, 0,
                    "severity of a mismatch without a large amount difference or limit reason"},
    [P_SEVERITY_HIGH] = {"severity_high", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH, 0, 0,
                         "severity of a mismatch with a large amount difference or a limit "
                         "reason"},
    [P_AMOUNT_HIGH_BPS] = {"amount_high_bps", RISK_P_INT, 500, 0, 1000000,
                           "an AMOUNT difference above this share of actual_paid (bps) is "
                           "severity_high"},
    [P_LIMIT_REASON_HIGH] = {"limit_reason_high", RISK_P_BOOL, 1, 0, 1,
                             "a PER_ORDER_LIMIT or ANNUAL_LIMIT reason is severity_high"},
};

#define REASON(x)        HANSA__MATCH_REASON__MATCH_REASON_##x
#define HEX_BYTES        (2u * WIRE_HASH_BYTES + 1u)
#define REASONS_TEXT_MAX 128u

/* The order's payment and waybill as of the block (either may be NULL). */
struct legs {
    Hansa__HistoryEntry *pay_h, *wb_h;
    const Hansa__Payment *pay;
    const Hansa__Waybill *wb;
};

static hansa_err legs_load(struct risk_ctx *ctx, const Hansa__Order *o, struct legs *l)
{
    memset(l, 0, sizeof *l);
    hansa_err rv = HANSA_OK;
    if (o->payment != NULL)
        rv = risk_payment_load(ctx, o->payment, &l->pay_h, &l->pay);
    if (rv == HANSA_OK && o->waybill != NULL)
        rv = risk_waybill_load(ctx, o->waybill, &l->wb_h, &l->wb);
    return rv;
}

static void legs_free(struct legs *l)
{
    wire_free(l->pay_h);
    wire_free(l->wb_h);
    memset(l, 0, sizeof *l);
}

static const char *reason_name(Hansa__MatchReason r)
{
    return risk_enum_name(&hansa__match_reason__descriptor, (int)r, "MATCH_REASON_");
}

static bool has_reason(const Hansa__MatchResult *m, Hansa__MatchReason r)
{
    for (size_t i = 0; i < m->n_reasons; i++)
        if (m->reasons[i] == r)
            return true;
    return false;
}

static void hex(const ProtobufCBinaryData *b, char out[HEX_BYTES])
{
    if (b->len != WIRE_HASH_BYTES || b->data == NULL) {
        out[0] = '\0';
        return;
    }
    wire_hex_encode(b->data, b->len, out);
}

static bool same_currency(const Hansa__CreateOrder *d, const Hansa__Payment *p)
{
    return p != NULL && p->document->currency != NULL && d->currency != NULL &&
           strcmp(p->document->currency, d->currency) == 0;
}

/* |amount_paid - actual_paid| x 10,000 > bps x actual_paid, in one currency. */
static bool amount_far(const Hansa__CreateOrder *d, const Hansa__Payment *p, int64_t bps)
{
    if (!same_currency(d, p))
        return false;
    __int128 diff = (__int128)p->document->amount_paid_minor - (__int128)d->actual_paid_minor;
    if (diff < 0)
        diff = -diff;
    return diff * RISK_BPS > (__int128)bps * (__int128)d->actual_paid_minor;
}

static Hansa__Severity severity_of(struct risk_ctx *ctx, const Hansa__Order *o,
                                   const struct legs *l)
{
    const Hansa__MatchResult *m = o->match;
    HANSA_ASSERT(m != NULL);
    bool high = has_reason(m, REASON(AMOUNT)) &&
                amount_far(o->document, l->pay, risk_param(ctx, P_AMOUNT_HIGH_BPS));
    if (risk_param(ctx, P_LIMIT_REASON_HIGH) != 0 &&
        (has_reason(m, REASON(PER_ORDER_LIMIT)) || has_reason(m, REASON(ANNUAL_LIMIT))))
        high = true;
    return (Hansa__Severity)risk_param(ctx, high ? P_SEVERITY_HIGH : P_SEVERITY);
}

/* ---- evidence, one function per kind of reason ---- */

static void evidence_amount(struct risk_ctx *ctx, struct risk_alert *a, const Hansa__CreateOrder *d,
                            const Hansa__Payment *p)
{
    char exp[64];
    risk_fmt_amount(exp, sizeof exp, d->actual_paid_minor, d->currency);
    risk_evidence_amount(a, "payment.amount_paid_minor", exp, p->document->amount_paid_minor,
                         p->document->currency, risk_tx_or_null(&p->tx_id));
    if (!same_currency(d, p) || d->actual_paid_minor <= 0)
        return;
    __int128 diff = (__int128)p->document->amount_paid_minor - (__int128)d->actual_paid_minor;
    if (diff < 0)
        diff = -diff;
    /* diff <= AMOUNT_MAX, so diff x 10,000 fits 64 unsigned bits. */
    uint64_t diff_bps = (uint64_t)(diff * RISK_BPS / d->actual_paid_minor);
    snprintf(exp, sizeof exp, "<= %" PRId64, risk_param(ctx, P_AMOUNT_HIGH_BPS));
    risk_evidence_u64(a, "payment.amount_difference_bps", exp, diff_bps,
                      risk_tx_or_null(&p->tx_id));
}

static void evidence_consignee(struct risk_alert *a, const Hansa__CreateOrder *d,
                               const Hansa__Waybill *w)
{
    const struct {
        const char *field;
        const ProtobufCBinaryData *order, *waybill;
    } c[3] = {
        {"waybill.consignee_name_commitment", &d->consignee_name_commitment,
         &w->document->consignee_name_commitment},
        {"waybill.consignee_phone_commitment", &d->consignee_phone_commitment,
         &w->document->consignee_phone_commitment},
        {"waybill.consignee_address_commitment", &d->consignee_address_commitment,
         &w->document->consignee_address_commitment},
    };
    for (size_t i = 0; i < 3; i++) {
        char exp[HEX_BYTES], obs[HEX_BYTES];
        hex(c[i].order, exp);
        hex(c[i].waybill, obs);
        if (strcmp(exp, obs) != 0)
            risk_alert_evidence(a, c[i].field, exp, obs, risk_tx_or_null(&w->tx_id));
    }
}

static void evidence_reason(struct risk_ctx *ctx, struct risk_alert *a, const Hansa__Order *o,
                            const struct legs *l, Hansa__MatchReason r)
{
    const Hansa__CreateOrder *d = o->document;
    char exp[HEX_BYTES], obs[HEX_BYTES];
    switch (r) {
    case REASON(AMOUNT):
        if (l->pay != NULL)
            evidence_amount(ctx, a, d, l->pay);
        break;
    case REASON(CURRENCY):
        if (l->pay != NULL)
            risk_alert_evidence(a, "payment.currency", d->currency, l->pay->document->currency,
                                risk_tx_or_null(&l->pay->tx_id));
        break;
    case REASON(PAYER):
        if (l->pay != NULL) {
            hex(&d->buyer_commitment, exp);
            hex(&l->pay->document->payer_commitment, obs);
            risk_alert_evidence(a, "payment.payer_commitment", exp, obs,
                                risk_tx_or_null(&l->pay->tx_id));
        }
        break;
    case REASON(CONSIGNEE):
        if (l->wb != NULL)
            evidence_consignee(a, d, l->wb);
        break;
    case REASON(PER_ORDER_LIMIT):
        risk_evidence_amount(a, "order.actual_paid_minor", "<= retail-import per-order limit",
                             d->actual_paid_minor, d->currency, risk_tx_or_null(&o->created_tx_id));
        break;
    case REASON(ANNUAL_LIMIT):
        snprintf(obs, sizeof obs, "exceeded with this order's %" PRId64 " %s", d->actual_paid_minor,
                 d->currency);
        risk_alert_evidence(a, "buyer.retail_import_annual_total_minor",
                            "<= retail-import annual limit", obs,
                            risk_tx_or_null(&o->created_tx_id));
        break;
    default:
        break;
    }
}

/* ---- the alert ---- */

/* "AMOUNT,PAYER": the reasons as the ledger listed them (ascending). */
static void reasons_text(const Hansa__MatchResult *m, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < m->n_reasons; i++) {
        int k = snprintf(out + n, cap - n, "%s%s", i ? "," : "", reason_name(m->reasons[i]));
        if (k < 0 || (size_t)k >= cap - n)
            break;
        n += (size_t)k;
    }
}

/* Parties, subjects and tx ids shared by the NEW and RESOLVED alerts. */
static void describe(struct risk_alert *a, const Hansa__HistoryEntry *h, const Hansa__Order *o,
                     const struct legs *l)
{
    const Hansa__CreateOrder *d = o->document;
    risk_alert_tx(a, risk_tx_or_null(&h->tx_id));
    risk_alert_tx(a, risk_tx_or_null(&o->created_tx_id));
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, d->merchant);
    if (o->created_by != NULL && strcmp(o->created_by, d->merchant) != 0)
        risk_alert_party(a, HANSA__ROLE__ROLE_PLATFORM, o->created_by);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, d->merchant, d->order_no);
    if (l->pay != NULL) {
        risk_alert_tx(a, risk_tx_or_null(&l->pay->tx_id));
        risk_alert_party(a, HANSA__ROLE__ROLE_PAYMENT, l->pay->institution);
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_PAYMENT, l->pay->institution,
                           l->pay->document->pay_transaction_id);
    }
    if (l->wb != NULL) {
        risk_alert_tx(a, risk_tx_or_null(&l->wb->tx_id));
        risk_alert_party(a, HANSA__ROLE__ROLE_LOGISTICS, l->wb->carrier);
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, l->wb->carrier,
                           l->wb->document->logistics_no);
    }
}

static hansa_err report(struct risk_ctx *ctx, const Hansa__HistoryEntry *h, const Hansa__Order *o,
                        bool cancelled)
{
    HANSA_ASSERT(o->document != NULL && o->match != NULL);
    const Hansa__CreateOrder *d = o->document;
    struct legs l;
    hansa_err rv = legs_load(ctx, o, &l);
    if (rv != HANSA_OK) {
        legs_free(&l);
        return rv;
    }
    char reasons[REASONS_TEXT_MAX];
    reasons_text(o->match, reasons, sizeof reasons);
    struct risk_alert *a =
        risk_alert_for(ctx, "order", d->merchant, d->order_no, severity_of(ctx, o, &l));
    describe(a, h, o, &l);
    risk_alert_evidence(a, "order.match.reasons", "", reasons, risk_tx_or_null(&h->tx_id));
    if (cancelled) {
        risk_alert_evidence(a, "order.status", "", "CANCELLED", risk_tx_or_null(&h->tx_id));
        risk_alert_message(a, "Mismatched order %s of %s (%s) was cancelled.", d->order_no,
                           d->merchant, reasons);
    } else {
        for (size_t i = 0; i < o->match->n_reasons; i++)
            evidence_reason(ctx, a, o, &l, o->match->reasons[i]);
        risk_alert_message(a,
                           "Order %s of %s does not match its payment and waybill (%s): it "
                           "cannot be financed.",
                           d->order_no, d->merchant, reasons);
    }
    legs_free(&l);
    return risk_alert_emit(ctx, a,
                           cancelled ? HANSA__ALERT_KIND__ALERT_KIND_RESOLVED
                                     : HANSA__ALERT_KIND__ALERT_KIND_NEW,
                           NULL);
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    const struct risk_block *b = risk_ctx_block(ctx);
    for (size_t i = 0; i < b->n_history; i++) {
        const Hansa__HistoryEntry *h = b->history[i];
        if (h->after == NULL || h->after->kind_case != HANSA__RECORD__KIND_ORDER)
            continue;
        const Hansa__Order *o = h->after->order;
        if (o->document == NULL || o->match == NULL ||
            o->match->status != HANSA__MATCH_STATUS__MATCH_STATUS_MISMATCHED)
            continue;
        Hansa__TxBody__ActionCase act = risk_entry_action(ctx, h);
        bool decided = o->match->decided_height == b->height &&
                       (act == HANSA__TX_BODY__ACTION_RECORD_PAYMENT ||
                        act == HANSA__TX_BODY__ACTION_CREATE_WAYBILL);
        bool cancelled = o->status == HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED &&
                         act == HANSA__TX_BODY__ACTION_CANCEL_ORDER;
        if (!decided && !cancelled)
            continue;
        hansa_err rv = report(ctx, h, o, cancelled);
        if (rv != HANSA_OK)
            return rv;
    }
    return HANSA_OK;
}

const struct risk_rule risk_rule_three_doc_mismatch = {
    .id = "3DOC-MISMATCH",
    .rev = 1,
    .summary = "an order's three-document match result is MISMATCHED",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
};
