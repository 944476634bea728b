/*
 * CIRCULAR: B2B orders (seller = merchant, buyer = CreateOrder.buyer_party)
 * forming a cycle of 2-4 parties within 90 days, each hop's actual_paid
 * within +-10 % of the earliest hop's, all sharing an HS-4 code: HIGH, one
 * incident per sorted set of parties. The cast has three merchants
 * (MER-SZ-0001, MER-SZ-0002, BUYER-DE-1); a fourth is added by governance
 * for the 4-party cycle.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE "CIRCULAR"
#define A    TR_MER       /* MER-SZ-0001 */
#define B    "BUYER-DE-1" /* a DE merchant */
#define C    TR_MER2      /* MER-SZ-0002 */
#define D    "MER-HK-0003"

RFX_SUITE(circular);

/* A B2B order seller -> buyer with one line of hs at amount in currency. */
static struct fx_result b2b_in(const char *seller, const char *order_no, const char *buyer,
                               int64_t amount_minor, const char *hs, const char *currency)
{
    struct fx_order_doc d;
    fx_order_doc(&d, seller, order_no, amount_minor);
    d.doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_B2B;
    d.doc.buyer_party = (char *)buyer;
    d.item.hs_code = (char *)hs;
    d.doc.currency = (char *)currency;
    return tr_order_submit(&r, &d);
}

static struct fx_result b2b(const char *seller, const char *order_no, const char *buyer,
                            int64_t amount_minor)
{
    return b2b_in(seller, order_no, buyer, amount_minor, "851822", "CNY");
}

/* Register merchant id (HK) by governance; the alerts that brings are not
 * this file's business. */
static void add_merchant(const char *id)
{
    tr_add_merchant(&r, id, "Kowloon Trading Ltd", "HK");
    Hansa__Alert **ignored;
    rfx_take(&r, &ignored);
}

/* The one new cycle alert (a NEW incident). */
static Hansa__Alert *expect_cycle(void)
{
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    return a;
}

Test(circular, a_sale_and_a_sale_back_within_ten_percent_raise_high_for_both_parties)
{
    struct fx_result o1 = b2b(A, "SO-1", B, 100000);
    tr_ok(o1);
    rfx_take_none(&r, RULE);
    struct fx_result o2 = b2b(B, "PO-9", A, 110000);
    tr_ok(o2);
    Hansa__Alert *a = expect_cycle();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    cr_assert_eq(a->n_audience, 2);
    cr_assert(rfx_audience_has(a, A) && rfx_audience_has(a, B));
    cr_assert(!rfx_audience_has(a, C));
    cr_assert_eq(a->n_parties, 2);
    cr_assert_eq(a->parties[0]->role, HANSA__ROLE__ROLE_MERCHANT);
    cr_assert_eq(a->n_tx_ids, 2);
    cr_assert_arr_eq(a->tx_ids[0].data, o1.tx_id, WIRE_HASH_BYTES, "the earliest hop first");
    cr_assert_arr_eq(a->tx_ids[1].data, o2.tx_id, WIRE_HASH_BYTES);
    cr_assert_eq(a->n_subjects, 2);
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER);
    cr_assert_str_eq(a->subjects[0]->owner, A);
    cr_assert_str_eq(a->subjects[0]->id, "SO-1");
    cr_assert_str_eq(a->subjects[1]->id, "PO-9");
    const Hansa__AlertEvidence *h1 = rfx_evidence(a, "hop1"), *h2 = rfx_evidence(a, "hop2");
    cr_assert_str_eq(h1->observed, A " -> " B " order SO-1: 100000 CNY");
    cr_assert_str_eq(h2->observed, B " -> " A " order PO-9: 110000 CNY");
    cr_assert_str_eq(h2->expected, "within 1000 bps of 100000 CNY");
    cr_assert_arr_eq(h2->source_tx_id.data, o2.tx_id, WIRE_HASH_BYTES);
    cr_assert_str_eq(rfx_evidence(a, "order.hs4")->observed, "8518");
    cr_assert_str_eq(rfx_evidence(a, "cycle.span_ms")->observed, "1000");
    cr_assert(strstr(a->message, A " -> " B " -> " A) != NULL, "%s", a->message);

    /* The same incident: the sorted cycle. */
    uint8_t want[WIRE_HASH_BYTES];
    const char tag[] = "hansa/incident/v1\0CIRCULAR\0cycle/" B "/" A;
    wire_sha256(tag, sizeof tag - 1, want);
    cr_assert_arr_eq(a->incident_id.data, want, WIRE_HASH_BYTES);
}

Test(circular, a_hop_just_over_ten_percent_of_the_first_raises_nothing)
{
    tr_ok(b2b(A, "SO-1", B, 100000));
    tr_ok(b2b(B, "PO-9", A, 110001));
    tr_ok(b2b(B, "PO-10", A, 89999));
    rfx_take_none(&r, RULE);
}

Test(circular, three_parties_close_a_cycle_measured_against_the_earliest_hop)
{
    tr_ok(b2b(A, "SO-1", B, 100000));
    tr_ok(b2b(B, "PO-1", C, 110000));
    rfx_take_none(&r, RULE);
    tr_ok(b2b(C, "SO-7", A, 90000)); /* 10 % under the first, 18 % under the second */
    Hansa__Alert *a = expect_cycle();
    cr_assert_eq(a->n_audience, 3);
    cr_assert_str_eq(rfx_evidence(a, "hop1")->observed, A " -> " B " order SO-1: 100000 CNY");
    cr_assert_str_eq(rfx_evidence(a, "hop3")->observed, C " -> " A " order SO-7: 90000 CNY");
    cr_assert(strstr(a->message, "3-party cycle") != NULL, "%s", a->message);
}

Test(circular, four_parties_close_a_cycle_and_max_parties_three_does_not_search_it)
{
    add_merchant(D);
    tr_ok(b2b(A, "SO-1", B, 100000));
    tr_ok(b2b(B, "PO-1", C, 100000));
    tr_ok(b2b(C, "SO-2", D, 100000));
    rfx_take_none(&r, RULE);
    tr_ok(b2b(D, "HK-1", A, 100000));
    Hansa__Alert *a = expect_cycle();
    cr_assert_eq(a->n_audience, 4);
    cr_assert(rfx_audience_has(a, D));

    rfx_reinit(&r, "[CIRCULAR]\nmax_parties = 3\n");
    add_merchant(D);
    tr_ok(b2b(A, "SO-1", B, 100000));
    tr_ok(b2b(B, "PO-1", C, 100000));
    tr_ok(b2b(C, "SO-2", D, 100000));
    tr_ok(b2b(D, "HK-1", A, 100000));
    rfx_take_none(&r, RULE);
}

Test(circular, orders_without_a_shared_hs4_code_are_no_cycle_but_another_hs6_of_it_is)
{
    tr_ok(b2b_in(A, "SO-1", B, 100000, "851822", "CNY"));
    tr_ok(b2b_in(B, "PO-1", A, 100000, "850440", "CNY"));
    rfx_take_none(&r, RULE);
    tr_ok(b2b_in(B, "PO-2", A, 100000, "85182900", "CNY"));
    Hansa__Alert *a = expect_cycle();
    cr_assert_str_eq(rfx_evidence(a, "order.hs4")->observed, "8518");
}

Test(circular, a_sale_back_in_another_currency_is_no_cycle)
{
    tr_ok(b2b_in(A, "SO-1", B, 100000, "851822", "CNY"));
    tr_ok(b2b_in(B, "PO-1", A, 100000, "851822", "USD"));
    rfx_take_none(&r, RULE);
}

Test(circular, export_orders_are_not_edges_of_the_trade_graph)
{
    tr_ok(tr_order(&r, A, "SO-1", 100000));
    tr_ok(b2b(B, "PO-1", A, 100000));
    rfx_take_none(&r, RULE);
}

Test(circular, a_cancelled_order_leaves_the_graph)
{
    tr_ok(b2b(A, "SO-1", B, 100000));
    tr_ok(tr_cancel(&r, A, "SO-1"));
    tr_ok(b2b(B, "PO-1", A, 100000));
    rfx_take_none(&r, RULE);
}

Test(circular, an_order_older_than_the_window_closes_no_cycle)
{
    tr_ok(b2b(A, "SO-1", B, 100000));
    rfx_advance_to(&r, r.f.time_ms + 90 * TR_DAY_MS);
    tr_ok(b2b(B, "PO-1", A, 100000));
    rfx_take_none(&r, RULE);
}

Test(circular, an_order_inside_the_window_closes_the_cycle)
{
    tr_ok(b2b(A, "SO-1", B, 100000));
    rfx_advance_to(&r, r.f.time_ms + 89 * TR_DAY_MS);
    tr_ok(b2b(B, "PO-1", A, 100000));
    expect_cycle();
}

Test(circular, the_same_cycle_closed_again_stays_one_incident)
{
    tr_ok(b2b(A, "SO-1", B, 100000));
    tr_ok(b2b(B, "PO-1", A, 100000));
    expect_cycle();
    tr_ok(b2b(A, "SO-2", B, 100000));
    tr_ok(b2b(B, "PO-2", A, 100000));
    rfx_take_none(&r, RULE);
}

Test(circular, the_search_stops_when_its_edge_budget_is_spent)
{
    rfx_reinit(&r, "[CIRCULAR]\nsearch_edges_max = 1\n");
    tr_ok(b2b(A, "SO-1", B, 100000));
    tr_ok(b2b(B, "PO-1", C, 100000));
    tr_ok(b2b(C, "SO-7", A, 100000)); /* reads A's edge, then may read no more */
    rfx_take_none(&r, RULE);

    rfx_reinit(&r, "[CIRCULAR]\nsearch_edges_max = 2\n");
    tr_ok(b2b(A, "SO-1", B, 100000));
    tr_ok(b2b(B, "PO-1", C, 100000));
    tr_ok(b2b(C, "SO-7", A, 100000));
    expect_cycle();
}

Test(circular, a_party_keeps_only_its_latest_edges)
{
    rfx_reinit(&r, "[CIRCULAR]\nedges_per_party_max = 1\n");
    tr_ok(b2b(B, "PO-1", A, 100000));
    tr_ok(b2b(B, "PO-2", C, 100000)); /* pushes PO-1 out */
    tr_ok(b2b(A, "SO-1", B, 100000));
    rfx_take_none(&r, RULE);
}

Test(circular, window_tolerance_and_severity_come_from_the_ruleset)
{
    rfx_reinit(&r, "[CIRCULAR]\nwindow = 1h\namount_tolerance_bps = 2000\nseverity = CRITICAL\n");
    tr_ok(b2b(A, "SO-1", B, 100000));
    tr_ok(b2b(B, "PO-1", A, 120000));
    Hansa__Alert *a = expect_cycle();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    rfx_advance_to(&r, r.f.time_ms + TR_HOUR_MS);
    tr_ok(b2b(C, "SO-2", B, 100000));
    tr_ok(b2b(B, "PO-2", C, 100000));
    expect_cycle();
    rfx_advance_to(&r, r.f.time_ms + TR_HOUR_MS);
    tr_ok(b2b(A, "SO-3", C, 100000));
    tr_ok(b2b(C, "SO-4", B, 100000)); /* B -> A (PO-1) is out of the window */
    rfx_take_none(&r, RULE);
}

Test(circular, edges_leave_the_state_when_they_leave_the_window)
{
    tr_ok(b2b(A, "SO-1", B, 100000));
    tr_ok(b2b(C, "SO-2", B, 100000));
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 2);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 2);
    rfx_advance_to(&r, r.f.time_ms + 91 * TR_DAY_MS);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 's'), 0);
    cr_assert_eq(rfx_rule_keys(&r, RULE, 't'), 0);
}

Test(circular, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[CIRCULAR]\nenabled = false\n");
    tr_ok(b2b(A, "SO-1", B, 100000));
    tr_ok(b2b(B, "PO-1", A, 100000));
    rfx_take_none(&r, RULE);
}
