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

#include "common.h"

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
    const uint8_t *tx = risk_tx_or_null(&h->tx_id);
    struct risk_alert *a = risk_alert_for(
        ctx, "financing", f->merchant, f->financing_id,
        (Hansa__Severity)risk_param(ctx, defaulted ? P_SEVERITY_DEFAULTED : P_SEVERITY_OVERDUE));
    risk_alert_tx(a, tx);
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, f->merchant);
    if (f->line != NULL) {
        risk_alert_party(a, HANSA__ROLE__ROLE_BANK, f->line->bank);
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, f->line->bank,
                           f->line->line_id);
    }
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, f->merchant, f->financing_id);
    risk_alert_evidence(a, "financing.status", "SETTLED by maturity",
                        defaulted ? "DEFAULTED" : "OVERDUE", tx);
    risk_evidence_u64(a, "financing.maturity_ms", "", f->maturity_ms, NULL);
    risk_evidence_amount(a, "financing.principal_outstanding_minor", "0",
                         f->principal_outstanding_minor, f->currency, NULL);
    risk_alert_message(a, "Financing %s of %s %s with %" PRId64 " %s outstanding.", f->financing_id,
                       f->merchant, defaulted ? "was declared in default" : "is past maturity",
                       f->principal_outstanding_minor, f->currency);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

static hansa_err on_credit_event(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                                 const Hansa__Financing *f, Hansa__CreditEventType t)
{
    if (t != HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_OVERDUE &&
        t != HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_DEFAULTED)
        return HANSA_OK;
    return report(ctx, h, f, t == HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_DEFAULTED);
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    return risk_each_credit_event(ctx, on_credit_event);
}

const struct risk_rule risk_rule_overdue = {
    .id = "OVERDUE",
    .rev = 1,
    .summary = "a financing became OVERDUE or was declared DEFAULTED",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
};
