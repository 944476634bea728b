/*
 * OVER-ADVANCE: a financing approved above the prudential cap (default
 * 9,000 bps of actual_paid, pro rata over the financing's orders) alerts
 * HIGH on each order at approval. The ledger lets a line's advance rate go
 * up to 10,000 bps, so the lines here allow 9,500 or 10,000 bps and the
 * ledger approves what the rule flags.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE "OVER-ADVANCE"

static struct rfx r;

static void setup(void)
{
    rfx_init(&r, NULL);
}

static void teardown(void)
{
    rfx_close(&r);
}

TestSuite(over_advance, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---- */

static size_t take(Hansa__Alert **a, size_t max)
{
    return rfx_take_rule(&r, RULE, a, max);
}

static Hansa__Alert *take_one(void)
{
    Hansa__Alert *a[8];
    size_t n = take(a, 8);
    cr_assert_eq(n, 1, "expected one %s alert, got %zu", RULE, n);
    return a[0];
}

static void take_none(void)
{
    Hansa__Alert *a[8];
    size_t n = take(a, 8);
    cr_assert_eq(n, 0, "expected no %s alert, got %zu: %s", RULE, n, n ? a[0]->message : "");
}

static void expect_dedup(const Hansa__Alert *a, const char *dedup)
{
    static const char tag[] = "hansa/incident/v1";
    uint8_t buf[512], id[WIRE_HASH_BYTES];
    size_t n = 0;
    memcpy(buf, tag, sizeof tag);
    n += sizeof tag;
    memcpy(buf + n, RULE, strlen(RULE) + 1);
    n += strlen(RULE) + 1;
    memcpy(buf + n, dedup, strlen(dedup));
    n += strlen(dedup);
    wire_sha256(buf, n, id);
    cr_assert_arr_eq(a->incident_id.data, id, WIRE_HASH_BYTES, "dedup key is not %s", dedup);
}

static void expect_evidence(const Hansa__Alert *a, const char *field, const char *expected,
                            const char *observed)
{
    const Hansa__AlertEvidence *e = rfx_evidence(a, field);
    cr_assert_not_null(e, "no evidence %s", field);
    cr_assert_str_eq(e->expected, expected, "%s expected", field);
    cr_assert_str_eq(e->observed, observed, "%s observed", field);
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

/* Request fid on BANK-A's L-A against orders; returns the approval. */
static struct fx_result approve_on(const char *fid, const char *const *orders, size_t n,
                                   int64_t amount_minor)
{
    tr_ok(tr_request(&r, TR_MER, fid, "BANK-A", "L-A", orders, n, amount_minor));
    take_none(); /* a request alone is not financing */
    return tr_approve(&r, "BANK-A", TR_MER, fid);
}

static void line_at(uint32_t rate_bps)
{
    tr_ok(tr_open_line(&r, "BANK-A", "L-A", TR_MER, 100000000, rate_bps));
}

/* ---- positive ---- */

Test(over_advance, approval_above_the_cap_on_one_order_is_high)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    line_at(9500);
    const char *orders[] = {"SO-1"};
    struct fx_result res = approve_on("F-1", orders, 1, 95000);
    tr_ok(res);

    Hansa__Alert *a = take_one();
    cr_assert_str_eq(a->rule_id, RULE);
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    expect_dedup(a, "order/" TR_MER "/SO-1");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, res.tx_id, 32, "the approval is the evidence");
    cr_assert_eq(a->n_audience, 2);
    cr_assert(rfx_audience_has(a, TR_MER) && rfx_audience_has(a, "BANK-A"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, TR_MER, "SO-1"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-1"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, "BANK-A", "L-A"));
    expect_evidence(a, "order.financed_share_minor", "90000", "95000");
    expect_evidence(a, "financing.advance_bps", "9000", "9500");
    expect_evidence(a, "order.actual_paid_minor", "", "100000");
    expect_evidence(a, "financing.amount_minor", "", "95000");
    expect_evidence(a, "credit_line.advance_rate_bps", "", "9500");
    cr_assert(strstr(a->message, "SO-1") != NULL, "%s", a->message);
}

Test(over_advance, one_minor_unit_above_the_cap_alerts)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    line_at(10000);
    const char *orders[] = {"SO-1"};
    tr_ok(approve_on("F-1", orders, 1, 90001));
    Hansa__Alert *a = take_one();
    expect_evidence(a, "order.financed_share_minor", "90000", "90001");
    expect_evidence(a, "financing.advance_bps", "9000", "9001");
}

Test(over_advance, a_financing_over_several_orders_counts_pro_rata_against_each)
{
    tr_matched(&r, TR_MER, "SO-1", 10000);
    tr_matched(&r, TR_MER, "SO-2", 30000);
    line_at(10000);
    const char *orders[] = {"SO-1", "SO-2"};
    /* 36,001 over 40,000: 9,000.25 on SO-1 and 27,000.75 on SO-2. */
    tr_ok(approve_on("F-1", orders, 2, 36001));
    Hansa__Alert *a[4];
    cr_assert_eq(take(a, 4), 2);
    expect_dedup(a[0], "order/" TR_MER "/SO-1");
    expect_evidence(a[0], "order.financed_share_minor", "9000", "9000");
    expect_evidence(a[0], "order.actual_paid_minor", "", "10000");
    expect_dedup(a[1], "order/" TR_MER "/SO-2");
    expect_evidence(a[1], "order.financed_share_minor", "27000", "27000");
    expect_evidence(a[1], "financing.advance_bps", "9000", "9001");
}

/* ---- negative ---- */

Test(over_advance, exactly_the_cap_is_silent)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    line_at(10000);
    const char *orders[] = {"SO-1"};
    tr_ok(approve_on("F-1", orders, 1, 90000));
    take_none();
}

Test(over_advance, several_orders_at_the_cap_in_total_are_silent)
{
    tr_matched(&r, TR_MER, "SO-1", 10000);
    tr_matched(&r, TR_MER, "SO-2", 30000);
    line_at(10000);
    const char *orders[] = {"SO-1", "SO-2"};
    tr_ok(approve_on("F-1", orders, 2, 36000));
    take_none();
}

Test(over_advance, a_request_rejected_by_the_bank_is_silent)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    line_at(10000);
    const char *orders[] = {"SO-1"};
    tr_ok(tr_request(&r, TR_MER, "F-1", "BANK-A", "L-A", orders, 1, 100000));
    tr_ok(tr_reject(&r, "BANK-A", TR_MER, "F-1"));
    take_none();
}

Test(over_advance, the_cap_comes_from_the_ruleset)
{
    rfx_close(&r);
    rfx_init(&r, "[OVER-ADVANCE]\ncap_bps = 9500\nseverity = CRITICAL\n");
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_matched(&r, TR_MER, "SO-2", 100000);
    line_at(10000);
    const char *o1[] = {"SO-1"}, *o2[] = {"SO-2"};
    tr_ok(approve_on("F-1", o1, 1, 95000));
    take_none();
    tr_ok(approve_on("F-2", o2, 1, 95001));
    Hansa__Alert *a = take_one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    expect_evidence(a, "financing.advance_bps", "9500", "9501");
}

Test(over_advance, a_disabled_rule_stays_silent)
{
    rfx_close(&r);
    rfx_init(&r, "[OVER-ADVANCE]\nenabled = false\n");
    tr_matched(&r, TR_MER, "SO-1", 100000);
    line_at(10000);
    const char *orders[] = {"SO-1"};
    tr_ok(approve_on("F-1", orders, 1, 100000));
    take_none();
}
