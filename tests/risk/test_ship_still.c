/*
 * SHIP-STILL: HIGH for each order of a disbursed financing that has no
 * DEPARTED event 10 days after the disbursement (phantom shipment);
 * nothing for a financing settled before then; a later departure resolves
 * the incident. Orders are MER-SZ-0001's, shipped by LOG-0001 (waybill
 * WB-<order_no>), financed by BANK-A on line L-1.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE  "SHIP-STILL"
#define EV(x) HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_##x

static struct rfx r;

static void setup(void)
{
    rfx_init(&r, NULL);
}

static void teardown(void)
{
    rfx_close(&r);
}

TestSuite(ship_still, .init = setup, .fini = teardown, .timeout = 60);

/* The disbursal: its block and transaction. */
struct disbursal {
    uint64_t height, time_ms;
    uint8_t tx_id[WIRE_HASH_BYTES];
};

/* Line, request, approval and disbursal of F-1 over the orders (each
 * matched at 100,000 CNY beforehand), at 50,000 CNY per order. */
static struct disbursal finance(const char *const *order_nos, size_t n)
{
    int64_t amount = 50000 * (int64_t)n;
    tr_ok(tr_open_line(&r, "BANK-A", "L-1", TR_MER, 10 * amount, 8000));
    tr_ok(tr_request(&r, TR_MER, "F-1", "BANK-A", "L-1", order_nos, n, amount));
    tr_ok(tr_approve(&r, "BANK-A", TR_MER, "F-1"));
    struct fx_result res = tr_disburse(&r, "BANK-A", TR_MER, "F-1");
    tr_ok(res);
    struct disbursal d = {.height = r.f.height, .time_ms = r.f.time_ms - FX_BLOCK_MS};
    memcpy(d.tx_id, res.tx_id, WIRE_HASH_BYTES);
    return d;
}

static struct disbursal matched_and_financed(void)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    const char *orders[] = {"SO-1"};
    struct disbursal d = finance(orders, 1);
    Hansa__Alert *a[8];
    rfx_take_rule(&r, RULE, a, 8); /* other rules (FAST-CYCLE) are not ours */
    return d;
}

static void event(const char *order_no, int type)
{
    char no[65];
    snprintf(no, sizeof no, "WB-%s", order_no);
    tr_ok(tr_event(&r, no, type, "CNSZX", r.f.time_ms));
}

static size_t take(Hansa__Alert **out, size_t max)
{
    return rfx_take_rule(&r, RULE, out, max);
}

static void expect_silent(void)
{
    Hansa__Alert *a[4];
    size_t n = take(a, 4);
    cr_assert_eq(n, 0, "expected no " RULE " alert, got %zu: %s", n, n ? a[0]->message : "");
}

static Hansa__Alert *expect_alert(Hansa__AlertKind kind)
{
    Hansa__Alert *a[4];
    size_t n = take(a, 4);
    cr_assert_eq(n, 1, "expected one " RULE " alert, got %zu", n);
    cr_assert_eq(a[0]->kind, kind);
    cr_assert_eq(a[0]->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    return a[0];
}

static bool count_visit(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    (void)k, (void)kl, (void)v, (void)vl;
    (*(size_t *)arg)++;
    return true;
}

/* Keys of the rule's state (kind 's') or timers (kind 't') in the engine. */
static size_t rule_keys(char kind)
{
    struct ledger_state s = memstate_view(r.alerts);
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "%c/" RULE "/", kind);
    size_t count = 0;
    cr_assert_eq(s.scan(s.ctx, (const uint8_t *)prefix, (size_t)n, count_visit, &count), HANSA_OK);
    return count;
}

static const char *observed(const Hansa__Alert *a, const char *field)
{
    const Hansa__AlertEvidence *e = rfx_evidence(a, field);
    cr_assert_not_null(e, "no evidence %s", field);
    return e->observed;
}

static bool has_subject(const Hansa__Alert *a, Hansa__EntityType t, const char *owner,
                        const char *id)
{
    for (size_t i = 0; i < a->n_subjects; i++)
        if (a->subjects[i]->type == t && strcmp(a->subjects[i]->owner, owner) == 0 &&
            strcmp(a->subjects[i]->id, id) == 0)
            return true;
    return false;
}

Test(ship_still, an_order_not_departed_10_days_after_disbursement_raises_high)
{
    struct disbursal d = matched_and_financed();
    cr_assert_eq(rule_keys('t'), 1);
    uint64_t due = d.time_ms + 10 * TR_DAY_MS;
    rfx_advance_to(&r, due - 1000);
    expect_silent();
    rfx_advance_to(&r, due + 1);
    Hansa__Alert *a = expect_alert(HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->cursor->height, r.f.height);
    cr_assert_eq(a->height, d.height, "the evidence is the disbursal");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, d.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(observed(a, "waybill.events"), "none in 0 events");
    cr_assert_str_eq(rfx_evidence(a, "waybill.events")->expected, "DEPARTED within 864000000 ms");
    cr_assert_str_eq(observed(a, "order.status"), "CREATED");
    cr_assert_str_eq(observed(a, "financing.ms_since_disbursed"), "864000001");
    cr_assert_str_eq(observed(a, "financing.amount_minor"), "50000 CNY");
    cr_assert_eq(a->n_audience, 3);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "BANK-A") &&
              rfx_audience_has(a, "LOG-0001"));
    cr_assert(!rfx_audience_has(a, "BANK-B") && !rfx_audience_has(a, "PAY-0001"));
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER);
    cr_assert_str_eq(a->subjects[0]->id, "SO-1");
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-1"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, "LOG-0001", "WB-SO-1"));
    cr_assert_eq(rule_keys('t'), 0);
    cr_assert_eq(rule_keys('s'), 1, "only the open incident remains");
}

Test(ship_still, an_order_that_departed_before_the_deadline_raises_nothing)
{
    struct disbursal d = matched_and_financed();
    uint64_t due = d.time_ms + 10 * TR_DAY_MS;
    rfx_advance_to(&r, due - 3000);
    event("SO-1", EV(RECEIVED));
    event("SO-1", EV(DEPARTED)); /* at due - 1 s */
    rfx_advance_to(&r, due + 1);
    expect_silent();
    cr_assert_eq(rule_keys('s'), 0);
    cr_assert_eq(rule_keys('t'), 0);
}

Test(ship_still, only_the_orders_that_have_not_departed_are_reported)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_matched(&r, TR_MER, "SO-2", 100000);
    tr_matched(&r, TR_MER, "SO-3", 100000);
    const char *orders[] = {"SO-1", "SO-2", "SO-3"};
    struct disbursal d = finance(orders, 3);
    event("SO-2", EV(DEPARTED));
    rfx_advance_to(&r, d.time_ms + 10 * TR_DAY_MS + 1);
    Hansa__Alert *a[8];
    size_t n = take(a, 8);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(a[0]->subjects[0]->id, "SO-1");
    cr_assert_str_eq(a[1]->subjects[0]->id, "SO-3");
    cr_assert_neq(memcmp(a[0]->incident_id.data, a[1]->incident_id.data, WIRE_HASH_BYTES), 0,
                  "one incident per order");
}

Test(ship_still, a_delivery_without_departure_is_still_a_phantom_shipment)
{
    struct disbursal d = matched_and_financed();
    event("SO-1", EV(DELIVERED));
    rfx_advance_to(&r, d.time_ms + 10 * TR_DAY_MS + 1);
    Hansa__Alert *a = expect_alert(HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_str_eq(observed(a, "order.status"), "DELIVERED");
    cr_assert_str_eq(observed(a, "waybill.events"), "none in 1 events");
}

Test(ship_still, a_financing_settled_before_the_deadline_raises_nothing)
{
    struct disbursal d = matched_and_financed();
    uint64_t due = d.time_ms + 10 * TR_DAY_MS;
    rfx_advance_to(&r, due - 2000);
    tr_ok(tr_repay(&r, "BANK-A", TR_MER, "F-1", 50000)); /* settled at due - 1 s */
    cr_assert_eq(rule_keys('t'), 0, "settlement stops the clock");
    cr_assert_eq(rule_keys('s'), 0);
    rfx_advance_to(&r, due + 1);
    expect_silent();
}

Test(ship_still, a_partly_repaid_financing_is_still_checked)
{
    struct disbursal d = matched_and_financed();
    tr_ok(tr_repay(&r, "BANK-A", TR_MER, "F-1", 49999));
    rfx_advance_to(&r, d.time_ms + 10 * TR_DAY_MS + 1);
    expect_alert(HANSA__ALERT_KIND__ALERT_KIND_NEW);
}

Test(ship_still, a_departure_after_the_alert_resolves_the_incident)
{
    struct disbursal d = matched_and_financed();
    rfx_advance_to(&r, d.time_ms + 10 * TR_DAY_MS + 1);
    Hansa__Alert *a = expect_alert(HANSA__ALERT_KIND__ALERT_KIND_NEW);
    uint8_t incident[WIRE_HASH_BYTES];
    memcpy(incident, a->incident_id.data, WIRE_HASH_BYTES);
    event("SO-1", EV(RECEIVED));
    expect_silent();
    event("SO-1", EV(DEPARTED));
    Hansa__Alert *x = expect_alert(HANSA__ALERT_KIND__ALERT_KIND_RESOLVED);
    cr_assert_arr_eq(x->incident_id.data, incident, WIRE_HASH_BYTES);
    cr_assert_eq(x->event_no, 1);
    cr_assert(rfx_audience_has(x, "BANK-A") && rfx_audience_has(x, "LOG-0001"));
    cr_assert_eq(rule_keys('s'), 0);
    /* A second departure (another leg) is no news. */
    event("SO-1", EV(DEPARTED));
    expect_silent();
}

Test(ship_still, an_unfinanced_order_is_not_watched)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_ok(tr_open_line(&r, "BANK-A", "L-1", TR_MER, 1000000, 8000));
    const char *orders[] = {"SO-1"};
    tr_ok(tr_request(&r, TR_MER, "F-1", "BANK-A", "L-1", orders, 1, 50000));
    tr_ok(tr_approve(&r, "BANK-A", TR_MER, "F-1")); /* approved, never disbursed */
    rfx_advance_to(&r, r.f.time_ms + 20 * TR_DAY_MS);
    expect_silent();
    cr_assert_eq(rule_keys('t'), 0);
}

Test(ship_still, the_window_is_a_ruleset_parameter)
{
    rfx_close(&r);
    rfx_init(&r, "[" RULE "]\nstill_ms = 2d\n");
    struct disbursal d = matched_and_financed();
    rfx_advance_to(&r, d.time_ms + 2 * TR_DAY_MS);
    expect_silent();
    rfx_advance_to(&r, d.time_ms + 2 * TR_DAY_MS + 1);
    Hansa__Alert *a = expect_alert(HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_str_eq(rfx_evidence(a, "financing.ms_since_disbursed")->expected, "<= 172800000");
}

Test(ship_still, a_disabled_rule_stays_silent)
{
    rfx_close(&r);
    rfx_init(&r, "[" RULE "]\nenabled = false\n");
    struct disbursal d = matched_and_financed();
    rfx_advance_to(&r, d.time_ms + 20 * TR_DAY_MS);
    expect_silent();
    cr_assert_eq(rule_keys('t'), 0);
}
