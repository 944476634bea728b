/*
 * OVERDUE (RISK.md): a financing became OVERDUE (HIGH) or was declared
 * DEFAULTED (CRITICAL). One incident per financing: the default of an
 * overdue financing escalates it (UPDATE).
 *
 * Input: the block's history entries whose credit event is OVERDUE (made by
 * the block itself at the first block past maturity) or DEFAULTED (a bank's
 * DeclareDefault transaction).
 */
#include <inttypes.h>
#include <stdio.h>

#include "rule.h"

enum { P_SEVERITY_OVERDUE, P_SEVERITY_DEFAULTED, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY_OVERDUE] = {"severity_overdue", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH, 0,
                            0, "severity when a financing passes maturity unpaid"},
    [P_SEVERITY_DEFAULTED] = {"severity_defaulted", RISK_P_SEVERITY,
                              HANSA__SEVERITY__SEVERITY_CRITICAL, 0, 0,
                              "severity when a bank declares a financing in default"},
};

static hansa_err report(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                        const Hansa__Financing *f, bool defaulted)
{
    char dedup[200], v[64], maturity[32];
    snprintf(dedup, sizeof dedup, "financing/%s/%s", f->merchant, f->financing_id);
    struct risk_alert *a = risk_alert_new(
        ctx, dedup, (Hansa__Severity)risk_param(ctx, defaulted ? P_SEVERITY_DEFAULTED : P_SEVERITY_OVERDUE));
    if (h->tx_id.len == WIRE_HASH_BYTES)
        risk_alert_tx(a, h->tx_id.data);
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, f->merchant);
    if (f->line != NULL) {
        risk_alert_party(a, HANSA__ROLE__ROLE_BANK, f->line->bank);
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, f->line->bank,
                           f->line->line_id);
    }
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, f->merchant, f->financing_id);
    snprintf(maturity, sizeof maturity, "%" PRIu64, f->maturity_ms);
    risk_alert_evidence(a, "financing.status", "SETTLED by maturity",
                        defaulted ? "DEFAULTED" : "OVERDUE",
                        h->tx_id.len == WIRE_HASH_BYTES ? h->tx_id.data : NULL);
    risk_alert_evidence(a, "financing.maturity_ms", "", maturity, NULL);
    snprintf(v, sizeof v, "%" PRId64 " %s", f->principal_outstanding_minor, f->currency);
    risk_alert_evidence(a, "financing.principal_outstanding_minor", "0", v, NULL);
    risk_alert_message(a, "Financing %s of %s %s with %" PRId64 " %s outstanding.",
                       f->financing_id, f->merchant,
                       defaulted ? "was declared in default" : "is past maturity",
                       f->principal_outstanding_minor, f->currency);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    const struct risk_block *b = risk_ctx_block(ctx);
    for (size_t i = 0; i < b->n_history; i++) {
        const Hansa__HistoryEntry *h = b->history[i];
        if (h->credit_event == NULL || h->after == NULL ||
            h->after->kind_case != HANSA__RECORD__KIND_FINANCING)
            continue;
        Hansa__CreditEventType t = h->credit_event->type;
        if (t != HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_OVERDUE &&
            t != HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_DEFAULTED)
            continue;
        hansa_err rv = report(ctx, h, h->after->financing,
                              t == HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_DEFAULTED);
        if (rv != HANSA_OK)
            return rv;
    }
    return HANSA_OK;
}

const struct risk_rule risk_rule_overdue = {
    .id = "OVERDUE",
    .rev = 1,
    .summary = "a financing became OVERDUE or was declared DEFAULTED",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
};
