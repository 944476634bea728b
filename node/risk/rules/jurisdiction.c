/*
 * JURISDICTION (RISK.md): a party, an order or a shipment touching a
 * jurisdiction the ruleset lists ([jurisdictions] list, default KP, IR, MM).
 * HIGH, one incident per party ("party/<id>") or per order
 * ("order/<merchant>/<order_no>"). Every alert's evidence carries the
 * list's revision ([jurisdictions] revision), so a reviewer knows which list
 * flagged it.
 *
 * Findings and when they are looked for (all per block, proportional to
 * what the block holds):
 *   party  - a PARTY history entry of the block (a party registered or
 *            changed by governance, applied by the block itself) whose
 *            country is listed;
 *          - a party acting: the signer of every transaction in the block,
 *            and the merchant and B2B buyer a created order names, looked
 *            up as of the block (one history lookup each). This covers the
 *            genesis parties, which are written at height 0 and never reach
 *            the engine (it starts at height 1), and parties registered
 *            before a ruleset listed their country: they are flagged the
 *            first time they act after that, not before.
 *   order  - an order created with a listed origin_country or
 *            destination_country;
 *          - its waybill created with a listed origin or destination (the
 *            first two letters of the UN/LOCODE), or a shipment event at a
 *            listed location.
 * No state of its own: the engine's incident dedups, so a party or order
 * found again while its incident is open emits nothing.
 *
 * Edge decisions:
 *   - A listed party that governance REMOVES resolves its incident (it can
 *     no longer sign); an order that is CANCELLED resolves the order's
 *     incident (cancelled orders never count; the ledger refuses further
 *     legs and events on it, so it cannot reopen).
 *   - Audience: a party alert goes to the party itself (the subject's
 *     party, RISK.md) and regulators; an order alert to its merchant, the
 *     carrier of its waybill and the bank of the financing it is pledged
 *     to, if any, plus regulators.
 *   - A party changed by governance has no transaction of its own (the
 *     block applies it): its alert has no tx id and names the height.
 */
#include <inttypes.h>
#include <stdio.h>

#include "common.h"
#include "hansa/assert.h"

enum { P_SEVERITY_PARTY, P_SEVERITY_ORDER, P_CHECK_ACTING_PARTIES, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY_PARTY] = {"severity_party", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH, 0, 0,
                          "severity when a party's country is listed"},
    [P_SEVERITY_ORDER] = {"severity_order", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH, 0, 0,
                          "severity when an order's countries, its waybill's route or a "
                          "shipment event location is listed"},
    [P_CHECK_ACTING_PARTIES] = {"check_acting_parties", RISK_P_BOOL, 1, 0, 1,
                                "also check the signer of every transaction and the parties an "
                                "order names (covers genesis parties)"},
};

/* ---- parties ---- */

/* tx: the transaction the party acted in, or NULL for a governance change
 * the block applied. */
static hansa_err report_party(struct risk_ctx *ctx, const Hansa__Party *p, const uint8_t *tx,
                              const char *how)
{
    HANSA_ASSERT(p->id != NULL && p->id[0] != '\0');
    char dedup[200];
    snprintf(dedup, sizeof dedup, "party/%s", p->id);
    bool removed = p->status == HANSA__PARTY_STATUS__PARTY_STATUS_REMOVED;
    struct risk_alert *a =
        risk_alert_new(ctx, dedup, (Hansa__Severity)risk_param(ctx, P_SEVERITY_PARTY));
    risk_alert_tx(a, tx);
    Hansa__Role role = p->n_roles > 0 ? p->roles[0] : HANSA__ROLE__ROLE_UNSPECIFIED;
    risk_alert_party(a, role, p->id);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY, "", p->id);
    risk_listed_evidence(ctx, a, "party.country", p->country, tx);
    risk_alert_evidence(a, "party.status", "", removed ? "REMOVED" : "ACTIVE", tx);
    risk_revision_evidence(ctx, a);
    if (removed)
        risk_alert_message(a, "Party %s (%s, %s) of listed jurisdiction %s was removed.", p->id,
                           risk_role_name(role), p->display_name, p->country);
    else
        risk_alert_message(a, "Party %s (%s, %s) is registered in listed jurisdiction %s; %s.",
                           p->id, risk_role_name(role), p->display_name, p->country, how);
    return risk_alert_emit(
        ctx, a,
        removed ? HANSA__ALERT_KIND__ALERT_KIND_RESOLVED : HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

/* A PARTY history entry: registered or changed by governance. */
static hansa_err on_party_entry(struct risk_ctx *ctx, const Hansa__HistoryEntry *h)
{
    const Hansa__Party *p = h->after->party;
    if (p->id == NULL || p->id[0] == '\0' || !risk_listed_jurisdiction(ctx, p->country))
        return HANSA_OK;
    char how[96];
    snprintf(how, sizeof how, "%s by governance at height %" PRIu64,
             p->added_height == h->height ? "registered" : "changed", h->height);
    return report_party(ctx, p, risk_tx_or_null(&h->tx_id), how);
}

/* A party acting in transaction tx (looked up as of the block). */
static hansa_err check_acting(struct risk_ctx *ctx, const char *party_id, const uint8_t *tx)
{
    if (party_id == NULL || party_id[0] == '\0')
        return HANSA_OK;
    Hansa__HistoryEntry *h = NULL;
    hansa_err rv = risk_lookup(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY, "", party_id, &h);
    const Hansa__Party *p = risk_entry_party(h);
    if (rv == HANSA_OK && p != NULL && p->status == HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE &&
        risk_listed_jurisdiction(ctx, p->country))
        rv = report_party(ctx, p, tx, "it takes part in a transaction");
    wire_free(h);
    return rv;
}

static hansa_err check_acting_parties(struct risk_ctx *ctx)
{
    const struct risk_block *b = risk_ctx_block(ctx);
    hansa_err rv = HANSA_OK;
    for (size_t i = 0; rv == HANSA_OK && i < b->n_txs; i++) {
        const Hansa__TxBody *body = b->txs[i].body;
        rv = check_acting(ctx, body->signer, b->txs[i].id);
        if (rv == HANSA_OK && body->action_case == HANSA__TX_BODY__ACTION_CREATE_ORDER &&
            risk_tx_result(ctx, i) == HANSA__RESULT_CODE__RESULT_OK) {
            rv = check_acting(ctx, body->create_order->merchant, b->txs[i].id);
            if (rv == HANSA_OK)
                rv = check_acting(ctx, body->create_order->buyer_party, b->txs[i].id);
        }
    }
    return rv;
}

/* ---- orders ---- */

static struct risk_alert *order_alert(struct risk_ctx *ctx, const char *merchant,
                                      const char *order_no, const Hansa__Order *o,
                                      const Hansa__Financing *fin)
{
    struct risk_alert *a = risk_alert_for(ctx, "order", merchant, order_no,
                                          (Hansa__Severity)risk_param(ctx, P_SEVERITY_ORDER));
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, merchant);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, merchant, order_no);
    if (o != NULL && o->waybill != NULL) {
        risk_alert_party(a, HANSA__ROLE__ROLE_LOGISTICS, o->waybill->carrier);
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, o->waybill->carrier,
                           o->waybill->logistics_no);
    }
    risk_alert_pledge(a, fin);
    return a;
}

static hansa_err on_order_created(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                                  const Hansa__Order *o)
{
    const Hansa__CreateOrder *d = o->document;
    bool origin = risk_listed_jurisdiction(ctx, d->origin_country);
    bool dest = risk_listed_jurisdiction(ctx, d->destination_country);
    if (!origin && !dest)
        return HANSA_OK;
    const uint8_t *tx = risk_tx_or_null(&h->tx_id);
    struct risk_alert *a = order_alert(ctx, d->merchant, d->order_no, o, NULL);
    risk_alert_tx(a, tx);
    if (origin)
        risk_listed_evidence(ctx, a, "order.origin_country", d->origin_country, tx);
    if (dest)
        risk_listed_evidence(ctx, a, "order.destination_country", d->destination_country, tx);
    risk_revision_evidence(ctx, a);
    risk_alert_message(a, "Order %s/%s ships from %s to %s, touching a listed jurisdiction.",
                       d->merchant, d->order_no, d->origin_country, d->destination_country);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

static hansa_err on_order_cancelled(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                                    const Hansa__Order *o)
{
    const Hansa__CreateOrder *d = o->document;
    const uint8_t *tx = risk_tx_or_null(&h->tx_id);
    struct risk_alert *a = order_alert(ctx, d->merchant, d->order_no, o, NULL);
    risk_alert_tx(a, tx);
    risk_alert_evidence(a, "order.status", "", "CANCELLED", tx);
    risk_revision_evidence(ctx, a);
    risk_alert_message(a,
                       "Order %s/%s was cancelled; no trade with the listed jurisdiction "
                       "follows from it.",
                       d->merchant, d->order_no);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_RESOLVED, NULL);
}

static hansa_err on_order_entry(struct risk_ctx *ctx, const Hansa__HistoryEntry *h)
{
    const Hansa__Order *o = h->after->order;
    if (o->document == NULL)
        return HANSA_OK;
    if (risk_entry_action(ctx, h) == HANSA__TX_BODY__ACTION_CREATE_ORDER)
        return on_order_created(ctx, h, o);
    if (risk_entry_cancels_order(ctx, h, o))
        return on_order_cancelled(ctx, h, o);
    return HANSA_OK;
}

/* ---- waybills ---- */

struct place {
    const char *field;
    const char *locode;
};

/* A waybill created (its route) or a new event (its location). */
static hansa_err on_waybill_entry(struct risk_ctx *ctx, const Hansa__HistoryEntry *h)
{
    const Hansa__Waybill *w = h->after->waybill;
    if (w->document == NULL || w->document->order == NULL)
        return HANSA_OK;
    struct place places[2];
    size_t n = 0;
    HANSA_ASSERT(h->after->kind_case == HANSA__RECORD__KIND_WAYBILL);
    const uint8_t *tx = risk_tx_or_null(&h->tx_id);
    if (w->n_events == 0) {
        places[n++] = (struct place){"waybill.origin_locode", w->document->origin_locode};
        places[n++] = (struct place){"waybill.destination_locode", w->document->destination_locode};
    } else {
        places[n++] = (struct place){"shipment_event.location_locode",
                                     w->events[w->n_events - 1]->location_locode};
    }
    bool listed[2] = {false, false}, any = false;
    for (size_t i = 0; i < n; i++) {
        char country[3];
        risk_locode_country(places[i].locode, country);
        listed[i] = risk_listed_jurisdiction(ctx, country);
        any = any || listed[i];
    }
    if (!any)
        return HANSA_OK;
    const Hansa__OrderRef *ref = w->document->order;
    struct risk_order_view ov;
    hansa_err rv = risk_order_view_load(ctx, ref->merchant, ref->order_no, &ov);
    if (rv != HANSA_OK)
        return rv;
    struct risk_alert *a = order_alert(ctx, ref->merchant, ref->order_no, ov.order, ov.fin);
    if (ov.order == NULL || ov.order->waybill == NULL) { /* order_alert named it otherwise */
        risk_alert_party(a, HANSA__ROLE__ROLE_LOGISTICS, w->carrier);
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, w->carrier,
                           w->document->logistics_no);
    }
    risk_alert_tx(a, tx);
    for (size_t i = 0; i < n; i++)
        if (listed[i])
            risk_listed_evidence(ctx, a, places[i].field, places[i].locode, tx);
    risk_revision_evidence(ctx, a);
    risk_alert_message(
        a, "Order %s/%s %s %s, in a listed jurisdiction.", ref->merchant, ref->order_no,
        w->n_events == 0 ? "has a waybill routed through" : "has a shipment event at",
        listed[0] ? places[0].locode : places[1].locode);
    risk_order_view_free(&ov);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

static hansa_err on_entry(struct risk_ctx *ctx, const Hansa__HistoryEntry *h)
{
    if (h->after == NULL)
        return HANSA_OK;
    switch (h->after->kind_case) {
    case HANSA__RECORD__KIND_PARTY:
        return on_party_entry(ctx, h);
    case HANSA__RECORD__KIND_ORDER:
        return on_order_entry(ctx, h);
    case HANSA__RECORD__KIND_WAYBILL:
        return on_waybill_entry(ctx, h);
    default:
        return HANSA_OK;
    }
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    hansa_err rv = risk_each_entry(ctx, on_entry);
    if (rv != HANSA_OK)
        return rv;
    return risk_param(ctx, P_CHECK_ACTING_PARTIES) ? check_acting_parties(ctx) : HANSA_OK;
}

const struct risk_rule risk_rule_jurisdiction = {
    .id = "JURISDICTION",
    .rev = 1,
    .summary = "a party, an order's countries, its waybill's route or a shipment event in a "
               "listed jurisdiction",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
};
