/*
 * DUP-PLEDGE: every request or approval the ledger refuses with
 * ASSET_ALREADY_PLEDGED is an alert on the order, CRITICAL when the bank of
 * the attempt is not the pledge holder's, HIGH when it is; one incident per
 * order. The attempts are real transactions refused by the ledger's
 * duplicate-financing lock.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE    "DUP-PLEDGE"
#define ACT(x)  HANSA__TX_BODY__ACTION_##x
#define PLEDGED HANSA__RESULT_CODE__RESULT_ASSET_ALREADY_PLEDGED

static struct rfx r;

static void setup(void)
{
    rfx_init(&r, NULL);
}

static void teardown(void)
{
    rfx_close(&r);
}

TestSuite(dup_pledge, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---- */

/* Exactly one new alert of this rule (alerts of other rules ignored). */
static Hansa__Alert *take_one(void)
{
    Hansa__Alert *a[8];
    size_t n = rfx_take_rule(&r, RULE, a, 8);
    cr_assert_eq(n, 1, "expected one %s alert, got %zu", RULE, n);
    return a[0];
}

static void take_none(void)
{
    Hansa__Alert *a[8];
    size_t n = rfx_take_rule(&r, RULE, a, 8);
    cr_assert_eq(n, 0, "expected no %s alert, got %zu: %s", RULE, n, n ? a[0]->message : "");
}

/* The incident id the engine derives from (rule, dedup key). */
static void incident_of(const char *dedup, uint8_t out[WIRE_HASH_BYTES])
{
    uint8_t buf[512];
    static const char tag[] = "hansa/incident/v1";
    size_t n = 0;
    memcpy(buf, tag, sizeof tag);
    n += sizeof tag;
    memcpy(buf + n, RULE, strlen(RULE) + 1);
    n += strlen(RULE) + 1;
    memcpy(buf + n, dedup, strlen(dedup));
    n += strlen(dedup);
    wire_sha256(buf, n, out);
}

static void expect_dedup(const Hansa__Alert *a, const char *dedup)
{
    uint8_t id[WIRE_HASH_BYTES];
    incident_of(dedup, id);
    cr_assert_eq(a->incident_id.len, WIRE_HASH_BYTES);
    cr_assert_arr_eq(a->incident_id.data, id, WIRE_HASH_BYTES, "dedup key is not %s", dedup);
}

static bool has_tx(const Hansa__Alert *a, const uint8_t id[WIRE_HASH_BYTES])
{
    for (size_t i = 0; i < a->n_tx_ids; i++)
        if (a->tx_ids[i].len == WIRE_HASH_BYTES && memcmp(a->tx_ids[i].data, id, 32) == 0)
            return true;
    return false;
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

static void expect_evidence(const Hansa__Alert *a, const char *field, const char *expected,
                            const char *observed)
{
    const Hansa__AlertEvidence *e = rfx_evidence(a, field);
    cr_assert_not_null(e, "no evidence %s", field);
    cr_assert_str_eq(e->expected, expected, "%s expected", field);
    cr_assert_str_eq(e->observed, observed, "%s observed", field);
}

static void expect_code(struct fx_result res, Hansa__ResultCode code)
{
    cr_assert(res.admitted, "not admitted: %s", res.why);
    cr_assert_eq(res.code, code, "expected %s, got %s (%s)", ledger_result_name(code),
                 ledger_result_name(res.code), res.why);
}

static struct fx_result request1(const char *fid, const char *bank, const char *line,
                                 const char *order_no, int64_t amount_minor)
{
    const char *orders[] = {order_no};
    return tr_request(&r, TR_MER, fid, bank, line, orders, 1, amount_minor);
}

/* SO-1 matched (100,000), lines L-A at BANK-A and L-B at BANK-B, and F-1
 * at BANK-A approved on SO-1: SO-1 is pledged to F-1. */
static void pledged_at_bank_a(void)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_ok(tr_open_line(&r, "BANK-A", "L-A", TR_MER, 10000000, 8000));
    tr_ok(tr_open_line(&r, "BANK-B", "L-B", TR_MER, 10000000, 8000));
    tr_ok(request1("F-1", "BANK-A", "L-A", "SO-1", 50000));
    tr_ok(tr_approve(&r, "BANK-A", TR_MER, "F-1"));
    take_none();
}

/* Transaction bodies for several transactions in one block. */
struct fin_ref_body {
    Hansa__FinancingRef ref;
    Hansa__RejectFinancing reject;
    Hansa__ApproveFinancing approve;
    Hansa__TxBody body;
};

static void reject_body(struct fin_ref_body *b, const char *fid)
{
    hansa__financing_ref__init(&b->ref);
    b->ref.merchant = TR_MER;
    b->ref.financing_id = (char *)fid;
    hansa__reject_financing__init(&b->reject);
    b->reject.financing = &b->ref;
    fx_body(&b->body, ACT(REJECT_FINANCING), &b->reject);
}

static void approve_body(struct fin_ref_body *b, const char *fid)
{
    hansa__financing_ref__init(&b->ref);
    b->ref.merchant = TR_MER;
    b->ref.financing_id = (char *)fid;
    hansa__approve_financing__init(&b->approve);
    b->approve.financing = &b->ref;
    fx_body(&b->body, ACT(APPROVE_FINANCING), &b->approve);
}

struct request_body {
    Hansa__LineRef line;
    Hansa__OrderRef ref;
    Hansa__OrderRef *refs[1];
    Hansa__RequestFinancing q;
    Hansa__TxBody body;
};

static void request_body(struct request_body *b, const char *fid, const char *bank,
                         const char *line, const char *order_no, int64_t amount_minor)
{
    hansa__line_ref__init(&b->line);
    b->line.bank = (char *)bank;
    b->line.line_id = (char *)line;
    hansa__order_ref__init(&b->ref);
    b->ref.merchant = TR_MER;
    b->ref.order_no = (char *)order_no;
    b->refs[0] = &b->ref;
    hansa__request_financing__init(&b->q);
    b->q.financing_id = (char *)fid;
    b->q.line = &b->line;
    b->q.orders = b->refs;
    b->q.n_orders = 1;
    b->q.amount_minor = amount_minor;
    b->q.currency = "CNY";
    b->q.maturity_ms = r.f.time_ms + 30 * TR_DAY_MS;
    fx_body(&b->body, ACT(REQUEST_FINANCING), &b->q);
}

/* ---- positive ---- */

Test(dup_pledge, request_at_another_bank_for_a_pledged_order_is_critical)
{
    pledged_at_bank_a();
    struct fx_result res = request1("F-2", "BANK-B", "L-B", "SO-1", 50000);
    expect_code(res, PLEDGED);

    Hansa__Alert *a = take_one();
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    cr_assert_str_eq(a->rule_id, RULE);
    expect_dedup(a, "order/" TR_MER "/SO-1");
    cr_assert_eq(a->height, r.f.height, "evidence is the refused transaction's block");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert(has_tx(a, res.tx_id));
    cr_assert_eq(a->n_audience, 3);
    cr_assert(rfx_audience_has(a, TR_MER));
    cr_assert(rfx_audience_has(a, "BANK-A"));
    cr_assert(rfx_audience_has(a, "BANK-B"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, TR_MER, "SO-1"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-1"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, "BANK-A", "L-A"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, "BANK-B", "L-B"));
    expect_evidence(a, "tx.result", "OK", "ASSET_ALREADY_PLEDGED");
    expect_evidence(a, "tx.action", "", "REQUEST_FINANCING");
    expect_evidence(a, "order.pledged_by", "", TR_MER "/F-1");
    expect_evidence(a, "attempt.bank", "BANK-A", "BANK-B");
    expect_evidence(a, "attempt.financing", "", TR_MER "/F-2");
    cr_assert_arr_eq(rfx_evidence(a, "tx.result")->source_tx_id.data, res.tx_id, 32);
    cr_assert(strstr(a->message, "SO-1") != NULL && strstr(a->message, "BANK-A") != NULL, "%s",
              a->message);
}

Test(dup_pledge, request_at_the_holders_own_bank_is_high)
{
    pledged_at_bank_a();
    tr_ok(tr_open_line(&r, "BANK-A", "L-A2", TR_MER, 10000000, 8000));
    expect_code(request1("F-2", "BANK-A", "L-A2", "SO-1", 50000), PLEDGED);
    Hansa__Alert *a = take_one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    expect_evidence(a, "attempt.bank", "BANK-A", "BANK-A");
    cr_assert_eq(a->n_audience, 2);
    cr_assert(!rfx_audience_has(a, "BANK-B"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, "BANK-A", "L-A2"));
}

Test(dup_pledge, approval_refused_because_another_bank_approved_first_is_critical)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_ok(tr_open_line(&r, "BANK-A", "L-A", TR_MER, 10000000, 8000));
    tr_ok(tr_open_line(&r, "BANK-B", "L-B", TR_MER, 10000000, 8000));
    /* Both requests pass while SO-1 is free; the first approval pledges it. */
    tr_ok(request1("F-1", "BANK-A", "L-A", "SO-1", 50000));
    tr_ok(request1("F-2", "BANK-B", "L-B", "SO-1", 50000));
    tr_ok(tr_approve(&r, "BANK-A", TR_MER, "F-1"));
    take_none();
    struct fx_result res = tr_approve(&r, "BANK-B", TR_MER, "F-2");
    expect_code(res, PLEDGED);

    Hansa__Alert *a = take_one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    expect_dedup(a, "order/" TR_MER "/SO-1");
    cr_assert(has_tx(a, res.tx_id));
    expect_evidence(a, "tx.action", "", "APPROVE_FINANCING");
    expect_evidence(a, "attempt.bank", "BANK-A", "BANK-B");
    expect_evidence(a, "attempt.financing", "", TR_MER "/F-2");
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-2"));
    cr_assert(has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-1"));
    cr_assert(rfx_audience_has(a, "BANK-A") && rfx_audience_has(a, "BANK-B") &&
              rfx_audience_has(a, TR_MER));
}

Test(dup_pledge, a_later_attempt_by_another_bank_escalates_the_same_incident)
{
    pledged_at_bank_a();
    tr_ok(tr_open_line(&r, "BANK-A", "L-A2", TR_MER, 10000000, 8000));
    expect_code(request1("F-2", "BANK-A", "L-A2", "SO-1", 50000), PLEDGED);
    Hansa__Alert *first = take_one();
    cr_assert_eq(first->severity, HANSA__SEVERITY__SEVERITY_HIGH);

    /* Same bank again: same incident, same severity, nothing new. */
    expect_code(request1("F-3", "BANK-A", "L-A", "SO-1", 50000), PLEDGED);
    take_none();

    expect_code(request1("F-4", "BANK-B", "L-B", "SO-1", 50000), PLEDGED);
    Hansa__Alert *up = take_one();
    cr_assert_eq(up->kind, HANSA__ALERT_KIND__ALERT_KIND_UPDATE);
    cr_assert_eq(up->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    cr_assert_eq(up->event_no, 1);
    cr_assert_arr_eq(up->incident_id.data, first->incident_id.data, 32);

    expect_code(request1("F-5", "BANK-B", "L-B", "SO-1", 50000), PLEDGED);
    take_none();
}

Test(dup_pledge, only_the_pledged_orders_of_a_multi_order_request_alert)
{
    pledged_at_bank_a();
    tr_matched(&r, TR_MER, "SO-2", 100000);
    const char *orders[] = {"SO-2", "SO-1"};
    expect_code(tr_request(&r, TR_MER, "F-2", "BANK-B", "L-B", orders, 2, 80000), PLEDGED);
    Hansa__Alert *a = take_one();
    expect_dedup(a, "order/" TR_MER "/SO-1");
    cr_assert(!has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, TR_MER, "SO-2"));
}

Test(dup_pledge, a_refusal_before_a_release_in_the_same_block_names_the_released_holder)
{
    pledged_at_bank_a();
    /* One block: BANK-B's request is refused (SO-1 still pledged), then
     * BANK-A withdraws its approval and releases SO-1. The order's latest
     * record shows no pledge; the holder is F-1 all the same. */
    struct request_body q;
    struct fin_ref_body rj;
    request_body(&q, "F-2", "BANK-B", "L-B", "SO-1", 50000);
    reject_body(&rj, "F-1");
    const char *signers[] = {TR_MER, "BANK-A"};
    Hansa__TxBody *bodies[] = {&q.body, &rj.body};
    struct fx_result res[2];
    fx_block(&r.f, signers, bodies, 2, res);
    expect_code(res[0], PLEDGED);
    expect_code(res[1], HANSA__RESULT_CODE__RESULT_OK);
    Hansa__Order *o = fx_get_order(&r.f, TR_MER, "SO-1");
    cr_assert_null(o->pledged_by, "the release took effect");
    wire_free(o);

    Hansa__Alert *a = take_one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    expect_evidence(a, "order.pledged_by", "", TR_MER "/F-1");
    expect_evidence(a, "attempt.bank", "BANK-A", "BANK-B");
    cr_assert(has_tx(a, res[0].tx_id) && !has_tx(a, res[1].tx_id));
}

Test(dup_pledge, a_refusal_after_a_pledge_in_the_same_block_names_that_pledge)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_ok(tr_open_line(&r, "BANK-A", "L-A", TR_MER, 10000000, 8000));
    tr_ok(tr_open_line(&r, "BANK-B", "L-B", TR_MER, 10000000, 8000));
    tr_ok(request1("F-1", "BANK-A", "L-A", "SO-1", 50000));
    take_none();
    struct fin_ref_body ap;
    struct request_body q;
    approve_body(&ap, "F-1");
    request_body(&q, "F-2", "BANK-A", "L-A", "SO-1", 40000);
    const char *signers[] = {"BANK-A", TR_MER};
    Hansa__TxBody *bodies[] = {&ap.body, &q.body};
    struct fx_result res[2];
    fx_block(&r.f, signers, bodies, 2, res);
    expect_code(res[0], HANSA__RESULT_CODE__RESULT_OK);
    expect_code(res[1], PLEDGED);
    Hansa__Alert *a = take_one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    expect_evidence(a, "order.pledged_by", "", TR_MER "/F-1");
}

/* ---- negative ---- */

Test(dup_pledge, a_request_after_the_pledge_was_released_is_silent)
{
    pledged_at_bank_a();
    tr_ok(tr_reject(&r, "BANK-A", TR_MER, "F-1"));
    tr_ok(request1("F-2", "BANK-B", "L-B", "SO-1", 50000));
    tr_ok(tr_approve(&r, "BANK-B", TR_MER, "F-2"));
    take_none();
}

Test(dup_pledge, other_refusals_of_a_request_are_silent)
{
    pledged_at_bank_a();
    tr_ok(tr_order(&r, TR_MER, "SO-2", 100000)); /* not matched */
    expect_code(request1("F-2", "BANK-B", "L-B", "SO-2", 50000),
                HANSA__RESULT_CODE__RESULT_NOT_MATCHED);
    tr_matched(&r, TR_MER, "SO-3", 100000);
    expect_code(request1("F-3", "BANK-B", "L-B", "SO-3", 90000),
                HANSA__RESULT_CODE__RESULT_ADVANCE_EXCEEDED);
    take_none();
}

Test(dup_pledge, a_disabled_rule_stays_silent)
{
    rfx_close(&r);
    rfx_init(&r, "[DUP-PLEDGE]\nenabled = false\n");
    pledged_at_bank_a();
    expect_code(request1("F-2", "BANK-B", "L-B", "SO-1", 50000), PLEDGED);
    take_none();
}

Test(dup_pledge, severities_come_from_the_ruleset)
{
    rfx_close(&r);
    rfx_init(&r, "[DUP-PLEDGE]\nseverity_other_bank = MEDIUM\nseverity_same_bank = LOW\n");
    pledged_at_bank_a();
    expect_code(request1("F-2", "BANK-A", "L-A", "SO-1", 50000), PLEDGED);
    cr_assert_eq(take_one()->severity, HANSA__SEVERITY__SEVERITY_LOW);
    expect_code(request1("F-3", "BANK-B", "L-B", "SO-1", 50000), PLEDGED);
    Hansa__Alert *a = take_one();
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_UPDATE);
}
