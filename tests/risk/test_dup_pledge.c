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

RFX_SUITE(dup_pledge);

/* ---- helpers ---- */

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
    const char *orders[] = {"SO-1"};
    tr_ok(tr_request_approve(&r, TR_MER, "F-1", "BANK-A", "L-A", orders, 1, 50000));
    rfx_take_none(&r, RULE);
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

    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_CRITICAL);
    cr_assert_str_eq(a->rule_id, RULE);
    rfx_expect_incident(a, RULE, "order/" TR_MER "/SO-1");
    cr_assert_eq(a->height, r.f.height, "evidence is the refused transaction's block");
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert(rfx_has_tx(a, res.tx_id));
    cr_assert_eq(a->n_audience, 3);
    cr_assert(rfx_audience_has(a, TR_MER));
    cr_assert(rfx_audience_has(a, "BANK-A"));
    cr_assert(rfx_audience_has(a, "BANK-B"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, TR_MER, "SO-1"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-1"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, "BANK-A", "L-A"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, "BANK-B", "L-B"));
    rfx_expect_evidence(a, "tx.result", "OK", "ASSET_ALREADY_PLEDGED");
    rfx_expect_evidence(a, "tx.action", "", "REQUEST_FINANCING");
    rfx_expect_evidence(a, "order.pledged_by", "", TR_MER "/F-1");
    rfx_expect_evidence(a, "attempt.bank", "BANK-A", "BANK-B");
    rfx_expect_evidence(a, "attempt.financing", "", TR_MER "/F-2");
    cr_assert_arr_eq(rfx_evidence(a, "tx.result")->source_tx_id.data, res.tx_id, 32);
    cr_assert(strstr(a->message, "SO-1") != NULL && strstr(a->message, "BANK-A") != NULL, "%s",
              a->message);
}

Test(dup_pledge, request_at_the_holders_own_bank_is_high)
{
    pledged_at_bank_a();
    tr_ok(tr_open_line(&r, "BANK-A", "L-A2", TR_MER, 10000000, 8000));
    expect_code(request1("F-2", "BANK-A", "L-A2", "SO-1", 50000), PLEDGED);
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    rfx_expect_evidence(a, "attempt.bank", "BANK-A", "BANK-A");
    cr_assert_eq(a->n_audience, 2);
    cr_assert(!rfx_audience_has(a, "BANK-B"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, "BANK-A", "L-A2"));
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
    rfx_take_none(&r, RULE);
    struct fx_result res = tr_approve(&r, "BANK-B", TR_MER, "F-2");
    expect_code(res, PLEDGED);

    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    rfx_expect_incident(a, RULE, "order/" TR_MER "/SO-1");
    cr_assert(rfx_has_tx(a, res.tx_id));
    rfx_expect_evidence(a, "tx.action", "", "APPROVE_FINANCING");
    rfx_expect_evidence(a, "attempt.bank", "BANK-A", "BANK-B");
    rfx_expect_evidence(a, "attempt.financing", "", TR_MER "/F-2");
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-2"));
    cr_assert(rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, TR_MER, "F-1"));
    cr_assert(rfx_audience_has(a, "BANK-A") && rfx_audience_has(a, "BANK-B") &&
              rfx_audience_has(a, TR_MER));
}

Test(dup_pledge, a_later_attempt_by_another_bank_escalates_the_same_incident)
{
    pledged_at_bank_a();
    tr_ok(tr_open_line(&r, "BANK-A", "L-A2", TR_MER, 10000000, 8000));
    expect_code(request1("F-2", "BANK-A", "L-A2", "SO-1", 50000), PLEDGED);
    Hansa__Alert *first = rfx_take_one(&r, RULE);
    cr_assert_eq(first->severity, HANSA__SEVERITY__SEVERITY_HIGH);

    /* Same bank again: same incident, same severity, nothing new. */
    expect_code(request1("F-3", "BANK-A", "L-A", "SO-1", 50000), PLEDGED);
    rfx_take_none(&r, RULE);

    expect_code(request1("F-4", "BANK-B", "L-B", "SO-1", 50000), PLEDGED);
    Hansa__Alert *up = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_UPDATE,
                                      HANSA__SEVERITY__SEVERITY_CRITICAL);
    cr_assert_eq(up->event_no, 1);
    cr_assert_arr_eq(up->incident_id.data, first->incident_id.data, 32);

    expect_code(request1("F-5", "BANK-B", "L-B", "SO-1", 50000), PLEDGED);
    rfx_take_none(&r, RULE);
}

Test(dup_pledge, only_the_pledged_orders_of_a_multi_order_request_alert)
{
    pledged_at_bank_a();
    tr_matched(&r, TR_MER, "SO-2", 100000);
    const char *orders[] = {"SO-2", "SO-1"};
    expect_code(tr_request(&r, TR_MER, "F-2", "BANK-B", "L-B", orders, 2, 80000), PLEDGED);
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    rfx_expect_incident(a, RULE, "order/" TR_MER "/SO-1");
    cr_assert(!rfx_has_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, TR_MER, "SO-2"));
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

    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
    rfx_expect_evidence(a, "order.pledged_by", "", TR_MER "/F-1");
    rfx_expect_evidence(a, "attempt.bank", "BANK-A", "BANK-B");
    cr_assert(rfx_has_tx(a, res[0].tx_id) && !rfx_has_tx(a, res[1].tx_id));
}

Test(dup_pledge, a_refusal_after_a_pledge_in_the_same_block_names_that_pledge)
{
    tr_matched(&r, TR_MER, "SO-1", 100000);
    tr_ok(tr_open_line(&r, "BANK-A", "L-A", TR_MER, 10000000, 8000));
    tr_ok(tr_open_line(&r, "BANK-B", "L-B", TR_MER, 10000000, 8000));
    tr_ok(request1("F-1", "BANK-A", "L-A", "SO-1", 50000));
    rfx_take_none(&r, RULE);
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
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
    rfx_expect_evidence(a, "order.pledged_by", "", TR_MER "/F-1");
}

/* ---- negative ---- */

Test(dup_pledge, a_request_after_the_pledge_was_released_is_silent)
{
    pledged_at_bank_a();
    tr_ok(tr_reject(&r, "BANK-A", TR_MER, "F-1"));
    tr_ok(request1("F-2", "BANK-B", "L-B", "SO-1", 50000));
    tr_ok(tr_approve(&r, "BANK-B", TR_MER, "F-2"));
    rfx_take_none(&r, RULE);
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
    rfx_take_none(&r, RULE);
}

Test(dup_pledge, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[DUP-PLEDGE]\nenabled = false\n");
    pledged_at_bank_a();
    expect_code(request1("F-2", "BANK-B", "L-B", "SO-1", 50000), PLEDGED);
    rfx_take_none(&r, RULE);
}

Test(dup_pledge, severities_come_from_the_ruleset)
{
    rfx_reinit(&r, "[DUP-PLEDGE]\nseverity_other_bank = MEDIUM\nseverity_same_bank = LOW\n");
    pledged_at_bank_a();
    expect_code(request1("F-2", "BANK-A", "L-A", "SO-1", 50000), PLEDGED);
    cr_assert_eq(rfx_take_one(&r, RULE)->severity, HANSA__SEVERITY__SEVERITY_LOW);
    expect_code(request1("F-3", "BANK-B", "L-B", "SO-1", 50000), PLEDGED);
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_eq(a->kind, HANSA__ALERT_KIND__ALERT_KIND_UPDATE);
}
