/*
 * OVERDUE: HIGH when a financing passes maturity unpaid, escalated to
 * CRITICAL (UPDATE of the same incident) when the bank declares default;
 * silent for a financing repaid in time.
 */
#include <criterion/criterion.h>

#include "trade.h"

RFX_SUITE(overdue);

Test(overdue, a_financing_past_maturity_unpaid_raises_high_then_default_escalates)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_financed(&r, "BANK-A", "L-1", TR_MER, "F-1", "SO-1", 50000);
    Hansa__Alert *got[4];
    cr_assert_eq(rfx_take_rule(&r, "OVERDUE", got, 4), 0);
    rfx_advance_to(&r, r.f.time_ms + 31 * TR_DAY_MS);
    cr_assert_eq(rfx_take_rule(&r, "OVERDUE", got, 4), 1);
    Hansa__Alert *a = got[0];
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_eq(a->event_no, 0);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "BANK-A"));
    cr_assert(!rfx_audience_has(a, "BANK-B"));
    cr_assert_str_eq(rfx_evidence(a, "financing.status")->observed, "OVERDUE");
    cr_assert_eq(a->n_tx_ids, 0, "the block itself made it overdue");

    tr_ok(tr_default(&r, "BANK-A", TR_MER, "F-1"));
    cr_assert_eq(rfx_take_rule(&r, "OVERDUE", got, 4), 1);
    Hansa__Alert *d = got[0];
    cr_assert_eq(d->kind, HANSA__ALERT_KIND__ALERT_KIND_UPDATE);
    cr_assert_eq(d->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    cr_assert_eq(d->event_no, 1);
    cr_assert_arr_eq(d->incident_id.data, a->incident_id.data, 32);
    cr_assert_eq(d->n_tx_ids, 1);
}

Test(overdue, a_financing_repaid_before_maturity_raises_nothing)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_financed(&r, "BANK-A", "L-1", TR_MER, "F-1", "SO-1", 50000);
    tr_ok(tr_repay(&r, "BANK-A", TR_MER, "F-1", 50000));
    rfx_advance_to(&r, r.f.time_ms + 60 * TR_DAY_MS);
    Hansa__Alert *a[4];
    cr_assert_eq(rfx_take_rule(&r, "OVERDUE", a, 4), 0);
}

Test(overdue, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[OVERDUE]\nenabled = false\n");
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_financed(&r, "BANK-A", "L-1", TR_MER, "F-1", "SO-1", 50000);
    rfx_advance_to(&r, r.f.time_ms + 31 * TR_DAY_MS);
    Hansa__Alert *a[4];
    cr_assert_eq(rfx_take_rule(&r, "OVERDUE", a, 4), 0);
}
