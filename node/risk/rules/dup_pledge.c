/*
 * DUP-PLEDGE (RISK.md): someone tried to finance goods that are already
 * pledged. The ledger's duplicate-financing lock (DOMAIN.md) refuses any
 * request or approval that references a pledged order with
 * ASSET_ALREADY_PLEDGED and keeps the refused transaction in its block; this
 * rule turns every such refusal into an alert, one incident per order (dedup
 * key "order/<merchant>/<order_no>"):
 *   CRITICAL  the bank of the attempt differs from the pledge holder's bank
 *             (the Qingdao pattern: the same goods offered to a second bank);
 *   HIGH      the same bank (a second financing at the bank that already
 *             holds the pledge).
 *
 * Input: the block's transactions whose action is RequestFinancing or
 * ApproveFinancing and whose result is ASSET_ALREADY_PLEDGED.
 *   - A refused request names its line (bank, line id), its financing id and
 *     its orders in the body; no financing record exists for it.
 *   - A refused approval names a REQUESTED financing; its record gives the
 *     line and the orders.
 * For each order of the attempt the holder is Order.pledged_by as it was when
 * the refused transaction ran, and the holder's bank is the bank of that
 * financing's line.
 *
 * State: none. The engine's incident store does the deduplication: a second
 * attempt on the same order at the same severity emits nothing, an attempt
 * by another bank after a same-bank one escalates the incident (UPDATE).
 *
 * Edge decisions:
 *   - "As it was when the transaction ran": the order's history entries of
 *     this block written by earlier transactions win; if the order changed
 *     only later in the block, its first later entry still shows the pledge
 *     unless that entry is the release, in which case the releasing
 *     transaction's financing (rejected or settled in this block) is the
 *     holder; otherwise the order's latest record is used.
 *   - Only the orders of the attempt that were pledged get an alert (an
 *     attempt over ten orders of which one is pledged alerts on that one).
 *   - An incident is never resolved by the rule: the attempt happened even if
 *     the pledge is later released.
 *   - Audience: the merchant, the bank of the attempt and the holder's bank.
 *     Revealing the holder's bank to the bank of the attempt is intended: the
 *     lock exists so that a second financier learns the goods are taken.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum { P_SEVERITY_OTHER_BANK, P_SEVERITY_SAME_BANK, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY_OTHER_BANK] = {"severity_other_bank", RISK_P_SEVERITY,
                               HANSA__SEVERITY__SEVERITY_CRITICAL, 0, 0,
                               "severity when a bank other than the pledge holder's tries to "
                               "finance a pledged order"},
    [P_SEVERITY_SAME_BANK] = {"severity_same_bank", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH,
                              0, 0,
                              "severity when the pledge holder's own bank is asked to finance the "
                              "order again"},
};

#define ACT(x)    HANSA__TX_BODY__ACTION_##x
#define ORDER_T   HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER
#define FINANCE_T HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING

/* One refused attempt, pointing into the block (and into fin_h, owned). */
struct attempt {
    uint32_t tx_index;
    const uint8_t *tx_id;
    bool approval;
    const char *merchant, *financing_id;
    const char *bank, *line_id; /* the line the attempt would draw on */
    Hansa__OrderRef *const *orders;
    size_t n_orders;
    Hansa__HistoryEntry *fin_h; /* the attempted financing (approvals only) */
};

/* The financing that holds an order's pledge, with its line. */
struct holder {
    char merchant[HANSA_ID_LEN_MAX + 1], financing_id[HANSA_ID_LEN_MAX + 1];
    Hansa__HistoryEntry *fin_h; /* owned; its ->after->financing */
    const Hansa__Financing *fin;
};

static bool entity_is(const Hansa__HistoryEntry *h, Hansa__EntityType type, const char *owner,
                      const char *id)
{
    return h->entity != NULL && h->entity->type == type && strcmp(h->entity->owner, owner) == 0 &&
           strcmp(h->entity->id, id) == 0;
}

static void holder_set(struct holder *ho, const char *merchant, const char *financing_id)
{
    snprintf(ho->merchant, sizeof ho->merchant, "%s", merchant);
    snprintf(ho->financing_id, sizeof ho->financing_id, "%s", financing_id);
}

/* The financing released by transaction tx_index of this block: the one
 * financing that transaction changed. */
static bool released_by(const struct risk_block *b, uint32_t tx_index, struct holder *ho)
{
    for (size_t k = 0; k < b->n_history; k++) {
        const Hansa__HistoryEntry *h = b->history[k];
        const Hansa__Financing *f = risk_entry_financing(h);
        if (h->tx_index == tx_index && f != NULL) {
            holder_set(ho, f->merchant, f->financing_id);
            return true;
        }
    }
    return false;
}

/* Which financing held order o when transaction tx_index ran (see the edge
 * decisions above). *found is false if the order was not pledged then. */
static hansa_err holder_ref(struct risk_ctx *ctx, uint32_t tx_index, const Hansa__OrderRef *o,
                            struct holder *ho, bool *found)
{
    const struct risk_block *b = risk_ctx_block(ctx);
    const Hansa__Order *before = NULL, *later = NULL;
    uint32_t later_tx = 0;
    for (size_t k = 0; k < b->n_history; k++) {
        const Hansa__HistoryEntry *h = b->history[k];
        const Hansa__Order *rec = risk_entry_order(h);
        if (rec == NULL || !entity_is(h, ORDER_T, o->merchant, o->order_no))
            continue;
        if (h->tx_index < tx_index) {
            before = rec;
        } else if (h->tx_index > tx_index && later == NULL) {
            later = rec;
            later_tx = h->tx_index;
        }
    }
    *found = false;
    if (before != NULL || later != NULL) {
        const Hansa__Order *rec = before != NULL ? before : later;
        if (rec->pledged_by != NULL) {
            holder_set(ho, rec->pledged_by->merchant, rec->pledged_by->financing_id);
            *found = true;
        } else if (before == NULL) {
            *found = released_by(b, later_tx, ho);
        }
        return HANSA_OK;
    }
    Hansa__HistoryEntry *oh = NULL;
    hansa_err rv = risk_lookup(ctx, ORDER_T, o->merchant, o->order_no, &oh);
    const Hansa__Order *rec = risk_entry_order(oh);
    if (rec != NULL && rec->pledged_by != NULL) {
        holder_set(ho, rec->pledged_by->merchant, rec->pledged_by->financing_id);
        *found = true;
    }
    wire_free(oh);
    return rv;
}

/* The holder of o's pledge with its financing record; *found false if none. */
static hansa_err holder_load(struct risk_ctx *ctx, uint32_t tx_index, const Hansa__OrderRef *o,
                             struct holder *ho, bool *found)
{
    memset(ho, 0, sizeof *ho);
    hansa_err rv = holder_ref(ctx, tx_index, o, ho, found);
    if (rv != HANSA_OK || !*found)
        return rv;
    rv = risk_lookup(ctx, FINANCE_T, ho->merchant, ho->financing_id, &ho->fin_h);
    const Hansa__Financing *f = risk_entry_financing(ho->fin_h);
    if (rv != HANSA_OK || f == NULL || f->line == NULL) {
        wire_free(ho->fin_h);
        ho->fin_h = NULL;
        *found = false;
        return rv;
    }
    ho->fin = f;
    return HANSA_OK;
}

static hansa_err report(struct risk_ctx *ctx, const struct attempt *at, const Hansa__OrderRef *o,
                        const struct holder *ho)
{
    HANSA_ASSERT(ho->fin != NULL && ho->fin->line != NULL);
    const Hansa__LineRef *hl = ho->fin->line;
    bool other_bank = strcmp(at->bank, hl->bank) != 0;
    char v[160];
    struct risk_alert *a =
        risk_alert_for(ctx, "order", o->merchant, o->order_no,
                       (Hansa__Severity)risk_param(ctx, other_bank ? P_SEVERITY_OTHER_BANK
                                                                   : P_SEVERITY_SAME_BANK));
    risk_alert_tx(a, at->tx_id);
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, o->merchant);
    risk_alert_party(a, HANSA__ROLE__ROLE_BANK, at->bank);
    risk_alert_party(a, HANSA__ROLE__ROLE_BANK, hl->bank);
    risk_alert_subject(a, ORDER_T, o->merchant, o->order_no);
    risk_alert_subject(a, FINANCE_T, ho->merchant, ho->financing_id);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, hl->bank, hl->line_id);
    if (at->approval)
        risk_alert_subject(a, FINANCE_T, at->merchant, at->financing_id);
    if (other_bank || strcmp(at->line_id, hl->line_id) != 0)
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, at->bank, at->line_id);

    risk_alert_evidence(a, "tx.result", "OK", "ASSET_ALREADY_PLEDGED", at->tx_id);
    risk_alert_evidence(a, "tx.action", "",
                        at->approval ? "APPROVE_FINANCING" : "REQUEST_FINANCING", at->tx_id);
    snprintf(v, sizeof v, "%s/%s", ho->merchant, ho->financing_id);
    risk_alert_evidence(a, "order.pledged_by", "", v, NULL);
    risk_alert_evidence(a, "attempt.bank", hl->bank, at->bank, at->tx_id);
    snprintf(v, sizeof v, "%s/%s", at->merchant, at->financing_id);
    risk_alert_evidence(a, "attempt.financing", "", v, at->tx_id);
    risk_alert_message(a,
                       "%s %s financing %s against order %s of %s, which is already pledged to "
                       "financing %s at %s.",
                       at->approval ? at->bank : at->merchant,
                       at->approval ? "tried to approve" : "requested", at->financing_id,
                       o->order_no, o->merchant, ho->financing_id, hl->bank);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

/* Fill at from refused transaction i; false if it cannot be described (an
 * approval of a financing with no record: never, for a consistent ledger). */
static hansa_err attempt_open(struct risk_ctx *ctx, size_t i, struct attempt *at, bool *ok)
{
    const struct risk_block *b = risk_ctx_block(ctx);
    HANSA_ASSERT(i < b->n_txs);
    const Hansa__TxBody *body = b->txs[i].body;
    memset(at, 0, sizeof *at);
    at->tx_index = (uint32_t)i;
    at->tx_id = b->txs[i].id;
    *ok = false;
    if (body->action_case == ACT(REQUEST_FINANCING)) {
        const Hansa__RequestFinancing *q = body->request_financing;
        if (q->line == NULL || q->n_orders == 0)
            return HANSA_OK;
        at->merchant = q->orders[0]->merchant;
        at->financing_id = q->financing_id;
        at->bank = q->line->bank;
        at->line_id = q->line->line_id;
        at->orders = q->orders;
        at->n_orders = q->n_orders;
        *ok = true;
        return HANSA_OK;
    }
    const Hansa__FinancingRef *ref = body->approve_financing->financing;
    if (ref == NULL)
        return HANSA_OK;
    hansa_err rv = risk_lookup(ctx, FINANCE_T, ref->merchant, ref->financing_id, &at->fin_h);
    const Hansa__Financing *f = risk_entry_financing(at->fin_h);
    if (rv != HANSA_OK || f == NULL || f->line == NULL)
        return rv;
    at->approval = true;
    at->merchant = f->merchant;
    at->financing_id = f->financing_id;
    at->bank = f->line->bank;
    at->line_id = f->line->line_id;
    at->orders = f->orders;
    at->n_orders = f->n_orders;
    *ok = true;
    return HANSA_OK;
}

static hansa_err on_refusal(struct risk_ctx *ctx, size_t i)
{
    struct attempt at;
    bool ok = false;
    hansa_err rv = attempt_open(ctx, i, &at, &ok);
    for (size_t k = 0; rv == HANSA_OK && ok && k < at.n_orders; k++) {
        struct holder ho;
        bool found = false;
        rv = holder_load(ctx, at.tx_index, at.orders[k], &ho, &found);
        if (rv == HANSA_OK && found)
            rv = report(ctx, &at, at.orders[k], &ho);
        wire_free(ho.fin_h);
    }
    wire_free(at.fin_h);
    return rv;
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    const struct risk_block *b = risk_ctx_block(ctx);
    for (size_t i = 0; i < b->n_txs; i++) {
        Hansa__TxBody__ActionCase act = risk_tx_action(ctx, i);
        if ((act != ACT(REQUEST_FINANCING) && act != ACT(APPROVE_FINANCING)) ||
            risk_tx_result(ctx, i) != HANSA__RESULT_CODE__RESULT_ASSET_ALREADY_PLEDGED)
            continue;
        hansa_err rv = on_refusal(ctx, i);
        if (rv != HANSA_OK)
            return rv;
    }
    return HANSA_OK;
}

const struct risk_rule risk_rule_dup_pledge = {
    .id = "DUP-PLEDGE",
    .rev = 1,
    .summary = "a request or approval refused with ASSET_ALREADY_PLEDGED",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
};
