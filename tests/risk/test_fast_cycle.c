/*
 * FAST-CYCLE: MEDIUM for a financing disbursed less than 1 h after the
 * earliest creation among its orders while none has departed, or settled
 * less than 24 h after its disbursement. Time is driven to just before and
 * at each bound (strictly less raises). Orders are MER-SZ-0001's, matched
 * at 100,000 CNY; financing F-1 on BANK-A's line L-1 for 50,000 CNY.
 */
#include <stdio.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE  "FAST-CYCLE"
#define EV(x) HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x

RFX_SUITE(fast_cycle);

/* Matches order_no; returns the block time of its creation. */
static uint64_t order_at(const char *order_no)
{
    uint64_t created_ms = r.f.time_ms;
    tr_matched(&r, TR_MER, order_no, 100000);
    return created_ms;
}

/* Line, request and approval of F-1 over the orders (disbursal separate). */
static void approve(const char *const *order_nos, size_t n)
{
    tr_ok(tr_open_line(&r, "BANK-A", "L-1", TR_MER, 1000000, 8000));
    tr_ok(tr_request_approve(&r, TR_MER, "F-1", "BANK-A", "L-1", order_nos, n, 50000));
}

/* Disburse F-1 in a block at time at_ms; returns the result. */
static struct fx_result disburse_at(uint64_t at_ms)
{
    cr_assert_geq(at_ms, r.f.time_ms + FX_BLOCK_MS, "the test's time went too far");
    rfx_advance_to(&r, at_ms - FX_BLOCK_MS);
    cr_assert_eq(r.f.time_ms, at_ms);
    return tr_must(tr_disburse(&r, "BANK-A", TR_MER, "F-1"));
}

static struct fx_result repay_at(uint64_t at_ms, int64_t amount_minor)
{
    rfx_advance_to(&r, at_ms - FX_BLOCK_MS);
    cr_assert_eq(r.f.time_ms, at_ms);
    return tr_must(tr_repay(&r, "BANK-A", TR_MER, "F-1", amount_minor));
}

/* ---- quick disbursal ---- */

Test(fast_cycle, a_disbursal_just_under_an_hour_after_the_order_raises_medium)
{
    uint64_t created = order_at("SO-1");
    const char *orders[] = {"SO-1"};
    approve(orders, 1);
    struct fx_result d = disburse_at(created + TR_HOUR_MS - 1000);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_eq(a->height, r.f.height);
    cr_assert(rfx_has_tx(a, d.tx_id));
    cr_assert_str_eq(rfx_observed(a, "financing.ms_from_order_created_to_disbursed"), "3599000");
    cr_assert_str_eq(rfx_evidence(a, "financing.ms_from_order_created_to_disbursed")->expected,
                     ">= 3600000");
    cr_assert_str_eq(rfx_observed(a, "orders.departed"), "none of 1");
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)created);
    cr_assert_str_eq(rfx_observed(a, "order.created_ms"), v);
    cr_assert_eq(a->n_audience, 2);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "BANK-A"));
    cr_assert(!rfx_audience_has(a, "LOG-0001") && !rfx_audience_has(a, "BANK-B"));
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING);
    cr_assert_str_eq(a->subjects[0]->owner, TR_MER);
    cr_assert_str_eq(a->subjects[0]->id, "F-1");
}

Test(fast_cycle, a_disbursal_exactly_an_hour_after_the_order_raises_nothing)
{
    uint64_t created = order_at("SO-1");
    const char *orders[] = {"SO-1"};
    approve(orders, 1);
    disburse_at(created + TR_HOUR_MS);
    rfx_take_none(&r, RULE);
}

Test(fast_cycle, a_departed_order_clears_a_quick_disbursal)
{
    uint64_t created = order_at("SO-1");
    const char *orders[] = {"SO-1"};
    approve(orders, 1);
    tr_ok(tr_event(&r, "WB-SO-1", EV(DEPARTED), "CNSZX", r.f.time_ms));
    disburse_at(created + 10 * 60 * 1000);
    rfx_take_none(&r, RULE);
}

Test(fast_cycle, the_earliest_order_creation_is_the_start)
{
    uint64_t first = order_at("SO-1");
    rfx_advance_to(&r, first + 2 * TR_HOUR_MS);
    uint64_t second = order_at("SO-2");
    const char *orders[] = {"SO-1", "SO-2"};
    approve(orders, 2);
    disburse_at(second + 10 * 60 * 1000); /* 10 min after SO-2, 2 h after SO-1 */
    rfx_take_none(&r, RULE);
}

Test(fast_cycle, one_departed_order_among_several_clears_a_quick_disbursal)
{
    uint64_t first = order_at("SO-1");
    order_at("SO-2");
    const char *orders[] = {"SO-1", "SO-2"};
    approve(orders, 2);
    tr_ok(tr_event(&r, "WB-SO-2", EV(DEPARTED), "CNSZX", r.f.time_ms));
    disburse_at(first + 30 * 60 * 1000);
    rfx_take_none(&r, RULE);
}

/* ---- quick settlement ---- */

Test(fast_cycle, a_settlement_just_under_24_hours_after_disbursal_raises_medium)
{
    uint64_t created = order_at("SO-1");
    const char *orders[] = {"SO-1"};
    approve(orders, 1);
    uint64_t disbursed = created + 2 * TR_HOUR_MS;
    disburse_at(disbursed);
    rfx_take_none(&r, RULE);
    repay_at(disbursed + 12 * TR_HOUR_MS, 20000);
    rfx_take_none(&r, RULE); /* partly repaid: not settled */
    struct fx_result s = repay_at(disbursed + TR_DAY_MS - 1000, 30000);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert(rfx_has_tx(a, s.tx_id));
    cr_assert_str_eq(rfx_observed(a, "financing.ms_from_disbursed_to_settled"), "86399000");
    cr_assert_str_eq(rfx_evidence(a, "financing.ms_from_disbursed_to_settled")->expected,
                     ">= 86400000");
    cr_assert_str_eq(rfx_observed(a, "financing.amount_minor"), "50000 CNY");
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "BANK-A"));
    cr_assert_eq(a->n_audience, 2);
}

Test(fast_cycle, a_settlement_exactly_24_hours_after_disbursal_raises_nothing)
{
    uint64_t created = order_at("SO-1");
    const char *orders[] = {"SO-1"};
    approve(orders, 1);
    uint64_t disbursed = created + 2 * TR_HOUR_MS;
    disburse_at(disbursed);
    repay_at(disbursed + TR_DAY_MS, 50000);
    rfx_take_none(&r, RULE);
}

Test(fast_cycle, a_quick_disbursal_then_quick_settlement_is_one_incident)
{
    uint64_t created = order_at("SO-1");
    const char *orders[] = {"SO-1"};
    approve(orders, 1);
    disburse_at(created + 30 * 60 * 1000);
    rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW, HANSA__SEVERITY__SEVERITY_MEDIUM);
    repay_at(r.f.time_ms + TR_HOUR_MS, 50000);
    rfx_take_none(&r, RULE);
}

/* ---- the ruleset ---- */

Test(fast_cycle, the_bounds_are_ruleset_parameters)
{
    rfx_reinit(&r, "[" RULE "]\ndisburse_ms = 10m\nsettle_ms = 2h\n");
    uint64_t created = order_at("SO-1");
    const char *orders[] = {"SO-1"};
    approve(orders, 1);
    uint64_t disbursed = created + 10 * 60 * 1000;
    disburse_at(disbursed); /* not under 10 min */
    rfx_take_none(&r, RULE);
    repay_at(disbursed + 2 * TR_HOUR_MS - 1000, 50000);
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_str_eq(rfx_evidence(a, "financing.ms_from_disbursed_to_settled")->expected,
                     ">= 7200000");
}

Test(fast_cycle, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[" RULE "]\nenabled = false\n");
    uint64_t created = order_at("SO-1");
    const char *orders[] = {"SO-1"};
    approve(orders, 1);
    disburse_at(created + 60 * 1000);
    repay_at(r.f.time_ms + 60 * 1000, 50000);
    rfx_take_none(&r, RULE);
}
