/*
 * Trade credit (DOMAIN.md "Trade credit", "Duplicate-financing lock",
 * "Credit events", "Precise points"; hansa.proto "Credit lines",
 * "Financing"): every transition of lines and financing, every rejection
 * code with the orderings the rules fix (ownership before state, currency
 * after the order checks and before the limits), the line counters, the
 * pledges, overdue at the first block past maturity, and the credit-event
 * stream.
 *
 * The cast: BANK-A and BANK-B lend; MER-SZ-0001 borrows; MER-SZ-0002 is the
 * other merchant. Orders come from fx_matched_order (CNY, actual_paid = the
 * amount given).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "internal.h" /* ledger_key_due, LEDGER_AMOUNT_MAX */
#include "ledger_fixture.h"

#define RC(x)        HANSA__RESULT_CODE__RESULT_##x
#define LS(x)        HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_##x
#define FS(x)        HANSA__FINANCING_STATUS__FINANCING_STATUS_##x
#define EV(x)        HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_##x
#define ACT(x)       HANSA__TX_BODY__ACTION_##x
#define MER          "MER-SZ-0001"
#define MER2         "MER-SZ-0002"
#define DAY_MS       (UINT64_C(24) * 3600 * 1000)
#define YEAR_MS      (365 * DAY_MS)
#define BLOCK_ORIGIN UINT32_MAX /* HistoryEntry.tx_index of changes made by the block */

static struct fx f;

static void setup(void)
{
    fx_init(&f);
}

static void teardown(void)
{
    fx_close(&f);
}

TestSuite(credit_line, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(financing, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(credit_events, .init = setup, .fini = teardown, .timeout = 60);

/* Each takes a result by value, so a call may be passed directly. */
static void expect_code_at(struct fx_result r, Hansa__ResultCode c, int line)
{
    cr_assert_eq(r.code, c, "line %d: expected %s, got %s: %s", line, ledger_result_name(c),
                 ledger_result_name(r.code), r.why);
}

/* Refused at admission: never in a block. */
static void expect_refused_at(struct fx_result r, Hansa__ResultCode c, int line)
{
    cr_assert_not(r.admitted, "line %d: admitted, result %s", line, ledger_result_name(r.code));
    expect_code_at(r, c, line);
}

/* Committed in a block with a rejection code (or OK). */
static void expect_rejected_at(struct fx_result r, Hansa__ResultCode c, int line)
{
    cr_assert(r.admitted, "line %d: refused at admission: %s: %s", line, ledger_result_name(r.code),
              r.why);
    expect_code_at(r, c, line);
}

#define expect_ok(r)          expect_rejected_at((r), RC(OK), __LINE__)
#define expect_refused(r, c)  expect_refused_at((r), (c), __LINE__)
#define expect_rejected(r, c) expect_rejected_at((r), (c), __LINE__)

/* ---- credit line actions ---- */

static struct fx_result open_line_full(const char *bank, const char *line_id, const char *borrower,
                                       const char *currency, int64_t limit_minor, uint32_t rate_bps,
                                       uint64_t expiry_ms)
{
    Hansa__OpenCreditLine a = HANSA__OPEN_CREDIT_LINE__INIT;
    a.line_id = (char *)line_id;
    a.borrower = (char *)borrower;
    a.currency = (char *)currency;
    a.limit_minor = limit_minor;
    a.advance_rate_bps = rate_bps;
    a.expiry_ms = expiry_ms;
    Hansa__TxBody b;
    fx_body(&b, ACT(OPEN_CREDIT_LINE), &a);
    return fx_submit(&f, bank, &b);
}

/* A CNY line to MER at 8,000 bps, expiring in a year. */
static void open_line(const char *bank, const char *line_id, int64_t limit_minor)
{
    struct fx_result r =
        open_line_full(bank, line_id, MER, "CNY", limit_minor, 8000, FX_GENESIS_MS + YEAR_MS);
    expect_ok(r);
}

/* Suspend, resume or close (each message is a LineRef only), or change the
 * limit to limit_minor. */
static struct fx_result line_action(const char *signer, Hansa__TxBody__ActionCase which,
                                    const char *bank, const char *line_id, int64_t limit_minor)
{
    Hansa__LineRef ref = HANSA__LINE_REF__INIT;
    ref.bank = (char *)bank;
    ref.line_id = (char *)line_id;
    Hansa__SuspendCreditLine s = HANSA__SUSPEND_CREDIT_LINE__INIT;
    Hansa__ResumeCreditLine re = HANSA__RESUME_CREDIT_LINE__INIT;
    Hansa__CloseCreditLine c = HANSA__CLOSE_CREDIT_LINE__INIT;
    Hansa__ChangeCreditLimit ch = HANSA__CHANGE_CREDIT_LIMIT__INIT;
    s.line = re.line = c.line = ch.line = &ref;
    ch.limit_minor = limit_minor;
    void *msg = which == ACT(SUSPEND_CREDIT_LINE)  ? (void *)&s
                : which == ACT(RESUME_CREDIT_LINE) ? (void *)&re
                : which == ACT(CLOSE_CREDIT_LINE)  ? (void *)&c
                                                   : (void *)&ch;
    Hansa__TxBody b;
    fx_body(&b, which, msg);
    return fx_submit(&f, signer, &b);
}

static struct fx_result suspend(const char *signer, const char *bank, const char *line_id)
{
    return line_action(signer, ACT(SUSPEND_CREDIT_LINE), bank, line_id, 0);
}

static struct fx_result resume(const char *signer, const char *bank, const char *line_id)
{
    return line_action(signer, ACT(RESUME_CREDIT_LINE), bank, line_id, 0);
}

static struct fx_result close_line(const char *signer, const char *bank, const char *line_id)
{
    return line_action(signer, ACT(CLOSE_CREDIT_LINE), bank, line_id, 0);
}

static struct fx_result change_limit(const char *signer, const char *bank, const char *line_id,
                                     int64_t limit_minor)
{
    return line_action(signer, ACT(CHANGE_CREDIT_LIMIT), bank, line_id, limit_minor);
}

static Hansa__CreditLine *get_line(const char *bank, const char *line_id)
{
    Hansa__CreditLine *l = fx_get_line(&f, bank, line_id);
    cr_assert_not_null(l, "line %s/%s missing", bank, line_id);
    return l;
}

static Hansa__CreditLineStatus line_status(const char *bank, const char *line_id)
{
    Hansa__CreditLine *l = get_line(bank, line_id);
    Hansa__CreditLineStatus s = l->status;
    wire_free(l);
    return s;
}

/* ---- financing actions ---- */

/* A RequestFinancing by MER under construction; points into itself. */
struct req {
    Hansa__RequestFinancing doc;
    Hansa__LineRef line;
    Hansa__OrderRef refs[64];
    Hansa__OrderRef *ptrs[64];
    char names[64][2][65];
    char fid[65], bank[65], line_id[65];
};

static void req_init(struct req *q, const char *fid, const char *bank, const char *line_id,
                     int64_t amount_minor)
{
    memset(q, 0, sizeof *q);
    snprintf(q->fid, sizeof q->fid, "%s", fid);
    snprintf(q->bank, sizeof q->bank, "%s", bank);
    snprintf(q->line_id, sizeof q->line_id, "%s", line_id);
    hansa__line_ref__init(&q->line);
    q->line.bank = q->bank;
    q->line.line_id = q->line_id;
    hansa__request_financing__init(&q->doc);
    q->doc.financing_id = q->fid;
    q->doc.line = &q->line;
    q->doc.orders = q->ptrs;
    q->doc.amount_minor = amount_minor;
    q->doc.currency = "CNY";
    q->doc.maturity_ms = f.time_ms + 30 * DAY_MS;
}

static void req_order(struct req *q, const char *merchant, const char *order_no)
{
    size_t i = q->doc.n_orders++;
    cr_assert_lt(i, 64);
    snprintf(q->names[i][0], 65, "%s", merchant);
    snprintf(q->names[i][1], 65, "%s", order_no);
    hansa__order_ref__init(&q->refs[i]);
    q->refs[i].merchant = q->names[i][0];
    q->refs[i].order_no = q->names[i][1];
    q->ptrs[i] = &q->refs[i];
}

static struct fx_result req_submit(struct req *q, const char *signer)
{
    Hansa__TxBody b;
    fx_body(&b, ACT(REQUEST_FINANCING), &q->doc);
    return fx_submit(&f, signer, &b);
}

/* Request fid by MER on bank/line_id against one order. */
static struct fx_result request(const char *fid, const char *bank, const char *line_id,
                                const char *order_no, int64_t amount_minor)
{
    struct req q;
    req_init(&q, fid, bank, line_id, amount_minor);
    req_order(&q, MER, order_no);
    return req_submit(&q, MER);
}

/* Approve, reject, disburse or declare default (each a FinancingRef only). */
static struct fx_result fin_action(const char *signer, Hansa__TxBody__ActionCase which,
                                   const char *merchant, const char *fid)
{
    Hansa__FinancingRef ref = HANSA__FINANCING_REF__INIT;
    ref.merchant = (char *)merchant;
    ref.financing_id = (char *)fid;
    Hansa__ApproveFinancing ap = HANSA__APPROVE_FINANCING__INIT;
    Hansa__RejectFinancing rj = HANSA__REJECT_FINANCING__INIT;
    Hansa__DisburseFinancing ds = HANSA__DISBURSE_FINANCING__INIT;
    Hansa__DeclareDefault df = HANSA__DECLARE_DEFAULT__INIT;
    ap.financing = rj.financing = ds.financing = df.financing = &ref;
    void *msg = which == ACT(APPROVE_FINANCING)    ? (void *)&ap
                : which == ACT(REJECT_FINANCING)   ? (void *)&rj
                : which == ACT(DISBURSE_FINANCING) ? (void *)&ds
                                                   : (void *)&df;
    Hansa__TxBody b;
    fx_body(&b, which, msg);
    return fx_submit(&f, signer, &b);
}

static struct fx_result approve(const char *bank, const char *fid)
{
    return fin_action(bank, ACT(APPROVE_FINANCING), MER, fid);
}

static struct fx_result reject(const char *bank, const char *fid)
{
    return fin_action(bank, ACT(REJECT_FINANCING), MER, fid);
}

static struct fx_result disburse(const char *bank, const char *fid)
{
    return fin_action(bank, ACT(DISBURSE_FINANCING), MER, fid);
}

static struct fx_result declare_default(const char *bank, const char *fid)
{
    return fin_action(bank, ACT(DECLARE_DEFAULT), MER, fid);
}

static struct fx_result repay(const char *bank, const char *fid, int64_t amount_minor)
{
    Hansa__FinancingRef ref = HANSA__FINANCING_REF__INIT;
    ref.merchant = MER;
    ref.financing_id = (char *)fid;
    Hansa__RecordRepayment a = HANSA__RECORD_REPAYMENT__INIT;
    a.financing = &ref;
    a.amount_minor = amount_minor;
    Hansa__TxBody b;
    fx_body(&b, ACT(RECORD_REPAYMENT), &a);
    return fx_submit(&f, bank, &b);
}

static Hansa__Financing *get_fin(const char *fid)
{
    Hansa__Financing *x = fx_get_financing(&f, MER, fid);
    cr_assert_not_null(x, "financing %s missing", fid);
    return x;
}

static Hansa__FinancingStatus fin_status(const char *fid)
{
    Hansa__Financing *x = get_fin(fid);
    Hansa__FinancingStatus s = x->status;
    wire_free(x);
    return s;
}

/* "" when the order is not pledged, else the financing id it is pledged to. */
static void expect_pledge(const char *merchant, const char *order_no, const char *fid)
{
    Hansa__Order *o = fx_get_order(&f, merchant, order_no);
    cr_assert_not_null(o);
    if (fid[0] == '\0') {
        cr_assert_null(o->pledged_by, "order %s is pledged to %s", order_no,
                       o->pledged_by ? o->pledged_by->financing_id : "");
    } else {
        cr_assert_not_null(o->pledged_by, "order %s is not pledged", order_no);
        cr_assert_str_eq(o->pledged_by->merchant, merchant);
        cr_assert_str_eq(o->pledged_by->financing_id, fid);
    }
    wire_free(o);
}

static void expect_line_counters(const char *bank, const char *line_id, int64_t outstanding,
                                 int64_t approved, int64_t disbursed_total, int64_t repaid_total)
{
    Hansa__CreditLine *l = get_line(bank, line_id);
    cr_assert_eq(l->outstanding_minor, outstanding, "outstanding %lld",
                 (long long)l->outstanding_minor);
    cr_assert_eq(l->approved_undisbursed_minor, approved, "approved %lld",
                 (long long)l->approved_undisbursed_minor);
    cr_assert_eq(l->disbursed_total_minor, disbursed_total);
    cr_assert_eq(l->repaid_total_minor, repaid_total);
    wire_free(l);
}

static bool state_has(const char *key)
{
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = f.view.get(f.view.ctx, (const uint8_t *)key, strlen(key), &val, &len);
    free(val);
    return rv == HANSA_OK;
}

static bool overdue_timer_exists(const char *fid, uint64_t maturity_ms)
{
    char fkey[LEDGER_KEY_BYTES_MAX], key[LEDGER_KEY_BYTES_MAX];
    snprintf(fkey, sizeof fkey, "financing/%s/%s", MER, fid);
    ledger_key_due(key, maturity_ms, "overdue", fkey);
    return state_has(key);
}

/* Line L-1 at BANK-A (limit 1,000,000) and a matched order SO-1 of 100,000
 * (80,000 financeable at 8,000 bps). */
static void base_setup(void)
{
    open_line("BANK-A", "L-1", 1000000);
    fx_matched_order(&f, MER, "SO-1", 100000);
}

/* base_setup, then F-1 of amount_minor on SO-1 requested, approved and
 * disbursed; returns its maturity. */
static uint64_t disbursed_setup(int64_t amount_minor, uint64_t maturity_ms)
{
    base_setup();
    struct req q;
    req_init(&q, "F-1", "BANK-A", "L-1", amount_minor);
    req_order(&q, MER, "SO-1");
    if (maturity_ms != 0)
        q.doc.maturity_ms = maturity_ms;
    uint64_t m = q.doc.maturity_ms;
    expect_ok(req_submit(&q, MER));
    expect_ok(approve("BANK-A", "F-1"));
    expect_ok(disburse("BANK-A", "F-1"));
    return m;
}

/* ---- credit events of the last block, once each, in (ordinal) order ---- */

struct seen_events {
    Hansa__CreditEventType types[64];
    int64_t amounts[64];
    size_t n;
};

static void collect_events(struct seen_events *s)
{
    Hansa__HistoryEntry **h = NULL;
    size_t n = fx_last_history(&f, "", &h);
    uint32_t next_ordinal = 0;
    for (size_t i = 0; i < n; i++) {
        const Hansa__CreditEvent *ev = h[i]->credit_event;
        if (ev != NULL && ev->ordinal == next_ordinal) {
            cr_assert_lt(s->n, 64);
            s->types[s->n] = ev->type;
            s->amounts[s->n++] = ev->amount_minor;
            next_ordinal++;
        } else if (ev != NULL) {
            cr_assert_eq(ev->ordinal + 1, next_ordinal, "a shared event repeats the last one");
        }
        wire_free(h[i]);
    }
    free(h);
}

/* ====================================================================== */
/* Credit lines                                                           */
/* ====================================================================== */

Test(credit_line, opens_an_active_line_with_zero_counters_indexed_for_bank_and_borrower)
{
    struct fx_result r =
        open_line_full("BANK-A", "L-1", MER, "CNY", 500000, 7500, FX_GENESIS_MS + YEAR_MS);
    expect_ok(r);
    Hansa__CreditLine *l = get_line("BANK-A", "L-1");
    cr_assert_str_eq(l->bank, "BANK-A");
    cr_assert_str_eq(l->borrower, MER);
    cr_assert_str_eq(l->currency, "CNY");
    cr_assert_eq(l->limit_minor, 500000);
    cr_assert_eq(l->advance_rate_bps, 7500);
    cr_assert_eq(l->expiry_ms, FX_GENESIS_MS + YEAR_MS);
    cr_assert_eq(l->status, LS(ACTIVE));
    cr_assert_eq(l->outstanding_minor + l->approved_undisbursed_minor + l->disbursed_total_minor +
                     l->repaid_total_minor,
                 0);
    cr_assert_eq(l->opened_tx_id.len, 32);
    cr_assert_eq(memcmp(l->opened_tx_id.data, r.tx_id, 32), 0);
    cr_assert_eq(l->opened_height, f.height);
    cr_assert_eq(l->updated_height, f.height);
    wire_free(l);
    cr_assert(state_has("ix/BANK-A/line/line/BANK-A/L-1"));
    cr_assert(state_has("ix/" MER "/line/line/BANK-A/L-1"));
    cr_assert_not(state_has("ix/BANK-B/line/line/BANK-A/L-1"));

    Hansa__HistoryEntry **h = NULL;
    size_t n = fx_last_history(&f, "line/BANK-A/L-1/", &h);
    cr_assert_eq(n, 1);
    cr_assert_not_null(h[0]->credit_event);
    cr_assert_eq(h[0]->credit_event->type, EV(OPENED));
    cr_assert_eq(h[0]->credit_event->amount_minor, 500000);
    cr_assert_str_eq(h[0]->credit_event->borrower, MER);
    cr_assert_str_eq(h[0]->credit_event->currency, "CNY");
    cr_assert_null(h[0]->credit_event->financing);
    cr_assert_eq(h[0]->after->kind_case, HANSA__RECORD__KIND_CREDIT_LINE);
    wire_free(h[0]);
    free(h);
}

Test(credit_line, advance_rate_zero_takes_the_default_parameter)
{
    fx_close(&f);
    Hansa__Parameters p;
    ledger_params_default(&p);
    p.default_advance_rate_bps = 6500;
    fx_init_params(&f, &p);
    expect_ok(open_line_full("BANK-A", "L-1", MER, "CNY", 1000, 0, FX_GENESIS_MS + YEAR_MS));
    Hansa__CreditLine *l = get_line("BANK-A", "L-1");
    cr_assert_eq(l->advance_rate_bps, 6500);
    wire_free(l);
}

Test(credit_line, open_refuses_invalid_documents_at_admission)
{
    static const struct {
        const char *line_id, *borrower, *currency;
        int64_t limit_minor;
        uint32_t rate_bps;
        uint64_t expiry_ms;
    } bad[] = {
        {"L-1", MER, "CNY", 1000, 10001, FX_GENESIS_MS + YEAR_MS},
        {"L-1", MER, "CNY", -1, 8000, FX_GENESIS_MS + YEAR_MS},
        {"L-1", MER, "CNY", LEDGER_AMOUNT_MAX + 1, 8000, FX_GENESIS_MS + YEAR_MS},
        {"L-1", MER, "cny", 1000, 8000, FX_GENESIS_MS + YEAR_MS},
        {"L-1", MER, "CN", 1000, 8000, FX_GENESIS_MS + YEAR_MS},
        {"L-1", MER, "CNY", 1000, 8000, 0},
        {"L/1", MER, "CNY", 1000, 8000, FX_GENESIS_MS + YEAR_MS},
        {"", MER, "CNY", 1000, 8000, FX_GENESIS_MS + YEAR_MS},
        {"L-1", "", "CNY", 1000, 8000, FX_GENESIS_MS + YEAR_MS},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fx_result r =
            open_line_full("BANK-A", bad[i].line_id, bad[i].borrower, bad[i].currency,
                           bad[i].limit_minor, bad[i].rate_bps, bad[i].expiry_ms);
        cr_assert_not(r.admitted, "case %zu admitted", i);
        cr_assert_eq(r.code, RC(INVALID_DOCUMENT), "case %zu: %s: %s", i,
                     ledger_result_name(r.code), r.why);
    }
}

Test(credit_line, open_accepts_the_bounds_of_limit_and_advance_rate)
{
    expect_ok(open_line_full("BANK-A", "L-0", MER, "CNY", 0, 1, FX_GENESIS_MS + YEAR_MS));
    expect_ok(open_line_full("BANK-A", "L-MAX", MER, "CNY", LEDGER_AMOUNT_MAX, 10000,
                             FX_GENESIS_MS + YEAR_MS));
    Hansa__CreditLine *l = get_line("BANK-A", "L-MAX");
    cr_assert_eq(l->limit_minor, LEDGER_AMOUNT_MAX);
    cr_assert_eq(l->advance_rate_bps, 10000);
    wire_free(l);
}

Test(credit_line, line_id_is_unique_per_bank_only)
{
    open_line("BANK-A", "L-1", 1000);
    struct fx_result r =
        open_line_full("BANK-A", "L-1", MER2, "USD", 5, 8000, FX_GENESIS_MS + YEAR_MS);
    expect_rejected(r, RC(DUPLICATE_ID));
    Hansa__CreditLine *l = get_line("BANK-A", "L-1");
    cr_assert_str_eq(l->borrower, MER, "the rejected open changed nothing");
    wire_free(l);
    open_line("BANK-B", "L-1", 1000);
    open_line("BANK-A", "L-2", 1000); /* several lines to one borrower */
}

Test(credit_line, borrower_must_be_a_registered_merchant)
{
    static const char *const not_merchants[] = {"MER-NOBODY", "BANK-B", "PAY-0001"};
    for (size_t i = 0; i < 3; i++) {
        struct fx_result r = open_line_full("BANK-A", "L-1", not_merchants[i], "CNY", 1000, 8000,
                                            FX_GENESIS_MS + YEAR_MS);
        expect_rejected(r, RC(NOT_FOUND));
    }
    cr_assert_null(fx_get_line(&f, "BANK-A", "L-1"));
}

Test(credit_line, only_a_bank_may_act_on_lines)
{
    struct fx_result r =
        open_line_full(MER, "L-1", MER, "CNY", 1000, 8000, FX_GENESIS_MS + YEAR_MS);
    expect_refused(r, RC(NOT_AUTHORIZED));
    open_line("BANK-A", "L-1", 1000);
    expect_refused(suspend(MER, "BANK-A", "L-1"), RC(NOT_AUTHORIZED));
}

Test(credit_line, change_limit_sets_the_limit_and_emits_limit_changed)
{
    open_line("BANK-A", "L-1", 1000);
    expect_ok(change_limit("BANK-A", "BANK-A", "L-1", 2500));
    Hansa__CreditLine *l = get_line("BANK-A", "L-1");
    cr_assert_eq(l->limit_minor, 2500);
    cr_assert_eq(l->updated_height, f.height);
    wire_free(l);
    struct seen_events s = {0};
    collect_events(&s);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.types[0], EV(LIMIT_CHANGED));
    cr_assert_eq(s.amounts[0], 2500);
    expect_ok(change_limit("BANK-A", "BANK-A", "L-1", 0));
}

Test(credit_line, another_banks_line_is_not_authorized_whatever_its_state)
{
    open_line("BANK-A", "L-1", 1000);
    expect_ok(close_line("BANK-A", "BANK-A", "L-1"));
    /* CLOSED would be INVALID_TRANSITION for its own bank: ownership first. */
    expect_rejected(change_limit("BANK-B", "BANK-A", "L-1", 5), RC(NOT_AUTHORIZED));
    expect_rejected(suspend("BANK-B", "BANK-A", "L-1"), RC(NOT_AUTHORIZED));
    expect_rejected(resume("BANK-B", "BANK-A", "L-1"), RC(NOT_AUTHORIZED));
    expect_rejected(close_line("BANK-B", "BANK-A", "L-1"), RC(NOT_AUTHORIZED));
    /* Even a line that does not exist is named as another bank's. */
    expect_rejected(suspend("BANK-B", "BANK-A", "L-NONE"), RC(NOT_AUTHORIZED));
}

Test(credit_line, unknown_line_is_not_found)
{
    expect_rejected(change_limit("BANK-A", "BANK-A", "L-9", 5), RC(NOT_FOUND));
    expect_rejected(suspend("BANK-A", "BANK-A", "L-9"), RC(NOT_FOUND));
    expect_rejected(resume("BANK-A", "BANK-A", "L-9"), RC(NOT_FOUND));
    expect_rejected(close_line("BANK-A", "BANK-A", "L-9"), RC(NOT_FOUND));
}

Test(credit_line, suspend_and_resume_move_between_active_and_suspended)
{
    open_line("BANK-A", "L-1", 1000);
    expect_ok(suspend("BANK-A", "BANK-A", "L-1"));
    cr_assert_eq(line_status("BANK-A", "L-1"), LS(SUSPENDED));
    struct seen_events s = {0};
    collect_events(&s);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.types[0], EV(SUSPENDED));
    expect_ok(change_limit("BANK-A", "BANK-A", "L-1", 700)); /* allowed while suspended */
    expect_ok(resume("BANK-A", "BANK-A", "L-1"));
    cr_assert_eq(line_status("BANK-A", "L-1"), LS(ACTIVE));
    collect_events(&s);
    cr_assert_eq(s.types[1], EV(RESUMED));
    cr_assert_eq(s.amounts[1], 0);
}

Test(credit_line, transitions_from_the_wrong_state_are_invalid)
{
    open_line("BANK-A", "L-1", 1000);
    expect_rejected(resume("BANK-A", "BANK-A", "L-1"), RC(INVALID_TRANSITION));
    expect_ok(suspend("BANK-A", "BANK-A", "L-1"));
    expect_rejected(suspend("BANK-A", "BANK-A", "L-1"), RC(INVALID_TRANSITION));
    expect_ok(close_line("BANK-A", "BANK-A", "L-1")); /* SUSPENDED may be closed */
    cr_assert_eq(line_status("BANK-A", "L-1"), LS(CLOSED));
    expect_rejected(suspend("BANK-A", "BANK-A", "L-1"), RC(INVALID_TRANSITION));
    expect_rejected(resume("BANK-A", "BANK-A", "L-1"), RC(INVALID_TRANSITION));
    expect_rejected(change_limit("BANK-A", "BANK-A", "L-1", 9), RC(INVALID_TRANSITION));
    expect_rejected(close_line("BANK-A", "BANK-A", "L-1"), RC(INVALID_TRANSITION));
    cr_assert_eq(line_status("BANK-A", "L-1"), LS(CLOSED));
}

Test(credit_line, active_line_closes_with_a_closed_event)
{
    open_line("BANK-A", "L-1", 1000);
    expect_ok(close_line("BANK-A", "BANK-A", "L-1"));
    cr_assert_eq(line_status("BANK-A", "L-1"), LS(CLOSED));
    struct seen_events s = {0};
    collect_events(&s);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.types[0], EV(CLOSED));
}

Test(credit_line, line_actions_check_their_documents_at_admission)
{
    open_line("BANK-A", "L-1", 1000);
    expect_refused(change_limit("BANK-A", "BANK-A", "L-1", -1), RC(INVALID_DOCUMENT));
    expect_refused(change_limit("BANK-A", "BANK-A", "L-1", LEDGER_AMOUNT_MAX + 1),
                   RC(INVALID_DOCUMENT));
    expect_refused(suspend("BANK-A", "BANK-A", "L 1"), RC(INVALID_DOCUMENT));
    expect_refused(close_line("BANK-A", "", "L-1"), RC(INVALID_DOCUMENT));

    Hansa__SuspendCreditLine s = HANSA__SUSPEND_CREDIT_LINE__INIT; /* no line */
    Hansa__TxBody b;
    fx_body(&b, ACT(SUSPEND_CREDIT_LINE), &s);
    expect_refused(fx_submit(&f, "BANK-A", &b), RC(MALFORMED));
    expect_ok(change_limit("BANK-A", "BANK-A", "L-1", LEDGER_AMOUNT_MAX));
}

Test(credit_line, expired_line_keeps_its_status_and_can_still_be_managed)
{
    uint64_t expiry = f.time_ms + 5000;
    expect_ok(open_line_full("BANK-A", "L-1", MER, "CNY", 1000, 8000, expiry));
    fx_advance(&f, 60000);
    fx_empty_block(&f);
    cr_assert_eq(line_status("BANK-A", "L-1"), LS(ACTIVE));
    expect_ok(suspend("BANK-A", "BANK-A", "L-1"));
    expect_ok(resume("BANK-A", "BANK-A", "L-1"));
    expect_ok(change_limit("BANK-A", "BANK-A", "L-1", 5000));
    cr_assert_eq(line_status("BANK-A", "L-1"), LS(ACTIVE));
    expect_ok(close_line("BANK-A", "BANK-A", "L-1"));
}

/* ====================================================================== */
/* Financing: request                                                     */
/* ====================================================================== */

Test(financing, request_records_a_requested_financing_indexed_for_merchant_and_bank)
{
    base_setup();
    struct req q;
    req_init(&q, "F-1", "BANK-A", "L-1", 50000);
    req_order(&q, MER, "SO-1");
    uint64_t maturity = q.doc.maturity_ms;
    struct fx_result r = req_submit(&q, MER);
    expect_ok(r);
    Hansa__Financing *x = get_fin("F-1");
    cr_assert_str_eq(x->merchant, MER);
    cr_assert_str_eq(x->line->bank, "BANK-A");
    cr_assert_str_eq(x->line->line_id, "L-1");
    cr_assert_eq(x->n_orders, 1);
    cr_assert_str_eq(x->orders[0]->order_no, "SO-1");
    cr_assert_eq(x->amount_minor, 50000);
    cr_assert_str_eq(x->currency, "CNY");
    cr_assert_eq(x->maturity_ms, maturity);
    cr_assert_eq(x->status, FS(REQUESTED));
    cr_assert_eq(x->principal_outstanding_minor, 0);
    cr_assert_eq(x->n_pledged_orders, 0);
    cr_assert_eq(memcmp(x->requested_tx_id.data, r.tx_id, 32), 0);
    cr_assert_eq(x->requested_height, f.height);
    wire_free(x);
    expect_pledge(MER, "SO-1", ""); /* a request pledges nothing */
    expect_line_counters("BANK-A", "L-1", 0, 0, 0, 0);
    cr_assert(state_has("ix/" MER "/financing/financing/" MER "/F-1"));
    cr_assert(state_has("ix/BANK-A/financing/financing/" MER "/F-1"));
    struct seen_events s = {0};
    collect_events(&s);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.types[0], EV(REQUESTED));
    cr_assert_eq(s.amounts[0], 50000);
}

Test(financing, financing_id_is_unique_per_merchant)
{
    base_setup();
    open_line("BANK-B", "L-B", 1000000);
    fx_matched_order(&f, MER, "SO-2", 100000);
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    expect_rejected(request("F-1", "BANK-B", "L-B", "SO-2", 1000), RC(DUPLICATE_ID));
}

Test(financing, only_a_merchant_may_request)
{
    base_setup();
    struct req q;
    req_init(&q, "F-1", "BANK-A", "L-1", 1000);
    req_order(&q, MER, "SO-1");
    expect_refused(req_submit(&q, "BANK-A"), RC(NOT_AUTHORIZED));
}

Test(financing, another_merchants_order_is_not_authorized_before_line_state)
{
    base_setup();
    fx_matched_order(&f, MER2, "SO-X", 100000);
    expect_ok(suspend("BANK-A", "BANK-A", "L-1"));
    struct req q;
    req_init(&q, "F-1", "BANK-A", "L-1", 1000);
    req_order(&q, MER, "SO-1");
    req_order(&q, MER2, "SO-X");
    /* The line is SUSPENDED (LINE_INACTIVE), but ownership comes first. */
    expect_rejected(req_submit(&q, MER), RC(NOT_AUTHORIZED));
}

Test(financing, another_merchants_pledged_order_is_not_authorized_not_already_pledged)
{
    base_setup();
    expect_ok(open_line_full("BANK-B", "L-2", MER2, "CNY", 1000000, 8000, FX_GENESIS_MS + YEAR_MS));
    fx_matched_order(&f, MER2, "SO-X", 100000);
    struct req q2;
    req_init(&q2, "F-X", "BANK-B", "L-2", 1000);
    req_order(&q2, MER2, "SO-X");
    expect_ok(req_submit(&q2, MER2));
    expect_ok(fin_action("BANK-B", ACT(APPROVE_FINANCING), MER2, "F-X"));
    expect_pledge(MER2, "SO-X", "F-X");

    struct req q;
    req_init(&q, "F-1", "BANK-A", "L-1", 1000);
    req_order(&q, MER2, "SO-X");
    expect_rejected(req_submit(&q, MER), RC(NOT_AUTHORIZED));
}

Test(financing, line_lent_to_someone_else_is_not_authorized_even_when_suspended)
{
    base_setup();
    expect_ok(open_line_full("BANK-A", "L-2", MER2, "CNY", 1000000, 8000, FX_GENESIS_MS + YEAR_MS));
    expect_ok(suspend("BANK-A", "BANK-A", "L-2"));
    expect_rejected(request("F-1", "BANK-A", "L-2", "SO-1", 1000), RC(NOT_AUTHORIZED));
}

Test(financing, unknown_line_is_not_found)
{
    base_setup();
    expect_rejected(request("F-1", "BANK-A", "L-9", "SO-1", 1000), RC(NOT_FOUND));
    expect_rejected(request("F-1", "BANK-B", "L-1", "SO-1", 1000), RC(NOT_FOUND));
}

Test(financing, suspended_or_closed_line_is_inactive)
{
    base_setup();
    expect_ok(suspend("BANK-A", "BANK-A", "L-1"));
    expect_rejected(request("F-1", "BANK-A", "L-1", "SO-1", 1000), RC(LINE_INACTIVE));
    expect_ok(resume("BANK-A", "BANK-A", "L-1"));
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    open_line("BANK-A", "L-2", 1000000);
    expect_ok(close_line("BANK-A", "BANK-A", "L-2"));
    expect_rejected(request("F-2", "BANK-A", "L-2", "SO-1", 1000), RC(LINE_INACTIVE));
}

Test(financing, line_is_inactive_only_in_blocks_past_its_expiry)
{
    fx_matched_order(&f, MER, "SO-1", 100000);
    uint64_t expiry = f.time_ms + 2 * FX_BLOCK_MS; /* the block after the open */
    expect_ok(open_line_full("BANK-A", "L-1", MER, "CNY", 1000000, 8000, expiry));
    cr_assert_eq(f.time_ms, expiry - FX_BLOCK_MS);
    fx_advance(&f, FX_BLOCK_MS); /* next block time == expiry: not past it */
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    cr_assert_gt(f.time_ms, expiry);
    struct fx_result r = request("F-2", "BANK-A", "L-1", "SO-1", 1000);
    expect_rejected(r, RC(LINE_INACTIVE));
    cr_assert(strstr(r.why, "expired") != NULL, "why: %s", r.why);
    cr_assert_eq(line_status("BANK-A", "L-1"), LS(ACTIVE), "expiry keeps the status");
}

Test(financing, unknown_order_is_not_found)
{
    base_setup();
    struct req q;
    req_init(&q, "F-1", "BANK-A", "L-1", 1000);
    req_order(&q, MER, "SO-1");
    req_order(&q, MER, "SO-NONE");
    expect_rejected(req_submit(&q, MER), RC(NOT_FOUND));
}

Test(financing, order_not_matched_is_not_matched)
{
    base_setup();
    /* PENDING: the order alone. */
    struct fx_order_doc o;
    fx_order_doc(&o, MER, "SO-P", 100000);
    Hansa__TxBody b;
    fx_body(&b, ACT(CREATE_ORDER), &o.doc);
    expect_ok(fx_submit(&f, MER, &b));
    expect_rejected(request("F-1", "BANK-A", "L-1", "SO-P", 1000), RC(NOT_MATCHED));

    /* MISMATCHED: the payment disagrees on the amount. */
    fx_order_doc(&o, MER, "SO-M", 100000);
    fx_body(&b, ACT(CREATE_ORDER), &o.doc);
    expect_ok(fx_submit(&f, MER, &b));
    struct fx_payment_doc p;
    fx_payment_doc(&p, MER, "SO-M", "PAY-M", 99999);
    fx_body(&b, ACT(RECORD_PAYMENT), &p.doc);
    expect_ok(fx_submit(&f, "PAY-0001", &b));
    struct fx_waybill_doc w;
    fx_waybill_doc(&w, MER, "SO-M", "WB-M");
    fx_body(&b, ACT(CREATE_WAYBILL), &w.doc);
    expect_ok(fx_submit(&f, "LOG-0001", &b));
    Hansa__Order *ord = fx_get_order(&f, MER, "SO-M");
    cr_assert_eq(ord->match->status, HANSA__MATCH_STATUS__MATCH_STATUS_MISMATCHED);
    wire_free(ord);
    expect_rejected(request("F-1", "BANK-A", "L-1", "SO-M", 1000), RC(NOT_MATCHED));
}

Test(financing, cancelled_matched_order_is_invalid_transition)
{
    base_setup();
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = MER;
    ref.order_no = "SO-1";
    Hansa__CancelOrder c = HANSA__CANCEL_ORDER__INIT;
    c.order = &ref;
    Hansa__TxBody b;
    fx_body(&b, ACT(CANCEL_ORDER), &c);
    expect_ok(fx_submit(&f, MER, &b));
    expect_rejected(request("F-1", "BANK-A", "L-1", "SO-1", 1000), RC(INVALID_TRANSITION));
}

Test(financing, returned_order_is_invalid_transition)
{
    base_setup();
    Hansa__WaybillRef ref = HANSA__WAYBILL_REF__INIT;
    ref.carrier = "LOG-0001";
    ref.logistics_no = "WB-SO-1";
    Hansa__AddShipmentEvent e = HANSA__ADD_SHIPMENT_EVENT__INIT;
    e.waybill = &ref;
    e.type = HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_RETURNED;
    e.location_locode = "CNSZX";
    e.event_time_ms = f.time_ms;
    Hansa__TxBody b;
    fx_body(&b, ACT(ADD_SHIPMENT_EVENT), &e);
    expect_ok(fx_submit(&f, "LOG-0001", &b));
    Hansa__Order *o = fx_get_order(&f, MER, "SO-1");
    cr_assert_eq(o->status, HANSA__ORDER_STATUS__ORDER_STATUS_RETURNED);
    wire_free(o);
    expect_rejected(request("F-1", "BANK-A", "L-1", "SO-1", 1000), RC(INVALID_TRANSITION));
}

Test(financing, currency_other_than_the_lines_is_invalid_document_at_execution)
{
    base_setup();
    struct req q;
    req_init(&q, "F-1", "BANK-A", "L-1", 1000);
    req_order(&q, MER, "SO-1");
    q.doc.currency = "USD";
    expect_rejected(req_submit(&q, MER), RC(INVALID_DOCUMENT));

    /* CNY orders on a USD line, the request in USD. */
    expect_ok(
        open_line_full("BANK-B", "L-USD", MER, "USD", 1000000, 8000, FX_GENESIS_MS + YEAR_MS));
    req_init(&q, "F-2", "BANK-B", "L-USD", 1000);
    req_order(&q, MER, "SO-1");
    q.doc.currency = "USD";
    expect_rejected(req_submit(&q, MER), RC(INVALID_DOCUMENT));
}

Test(financing, currency_is_checked_after_the_orders_and_before_the_limits)
{
    base_setup();
    expect_ok(open_line_full("BANK-B", "L-USD", MER, "USD", 10, 8000, FX_GENESIS_MS + YEAR_MS));
    struct fx_order_doc o;
    fx_order_doc(&o, MER, "SO-P", 100000);
    Hansa__TxBody b;
    fx_body(&b, ACT(CREATE_ORDER), &o.doc);
    expect_ok(fx_submit(&f, MER, &b));

    struct req q;
    req_init(&q, "F-1", "BANK-B", "L-USD", 1000);
    req_order(&q, MER, "SO-P");
    q.doc.currency = "USD";
    expect_rejected(req_submit(&q, MER), RC(NOT_MATCHED)); /* order check first */
    req_init(&q, "F-1", "BANK-B", "L-USD", 1000);          /* 1000 > limit 10 */
    req_order(&q, MER, "SO-1");
    q.doc.currency = "USD";
    expect_rejected(req_submit(&q, MER), RC(INVALID_DOCUMENT)); /* before LIMIT_EXCEEDED */
}

Test(financing, pledge_is_checked_before_currency)
{
    /* hansa.proto RequestFinancing lists ASSET_ALREADY_PLEDGED before the
     * currency check: the DUP-PLEDGE alert is not masked by a wrong line. */
    base_setup();
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    expect_ok(approve("BANK-A", "F-1"));
    expect_ok(
        open_line_full("BANK-B", "L-USD", MER, "USD", 1000000, 8000, FX_GENESIS_MS + YEAR_MS));
    struct req q;
    req_init(&q, "F-2", "BANK-B", "L-USD", 1000);
    req_order(&q, MER, "SO-1");
    q.doc.currency = "USD";
    expect_rejected(req_submit(&q, MER), RC(ASSET_ALREADY_PLEDGED));
}

Test(financing, amount_above_available_is_limit_exceeded)
{
    expect_ok(open_line_full("BANK-A", "L-1", MER, "CNY", 50000, 10000, FX_GENESIS_MS + YEAR_MS));
    fx_matched_order(&f, MER, "SO-1", 100000);
    struct fx_result r = request("F-1", "BANK-A", "L-1", "SO-1", 50001);
    expect_rejected(r, RC(LIMIT_EXCEEDED));
    cr_assert(strstr(r.why, "50000") != NULL, "why names the available amount: %s", r.why);
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 50000));
}

Test(financing, available_subtracts_approved_not_yet_disbursed_financing)
{
    expect_ok(open_line_full("BANK-A", "L-1", MER, "CNY", 100000, 10000, FX_GENESIS_MS + YEAR_MS));
    fx_matched_order(&f, MER, "SO-1", 100000);
    fx_matched_order(&f, MER, "SO-2", 100000);
    fx_matched_order(&f, MER, "SO-3", 100000);
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 60000));
    /* A request reserves nothing: F-2 may ask the whole limit. */
    expect_ok(request("F-2", "BANK-A", "L-1", "SO-2", 100000));
    expect_ok(approve("BANK-A", "F-1"));
    expect_line_counters("BANK-A", "L-1", 0, 60000, 0, 0);
    /* Now 40,000 are available: F-2 can no longer be approved. */
    expect_rejected(approve("BANK-A", "F-2"), RC(LIMIT_EXCEEDED));
    expect_rejected(request("F-3", "BANK-A", "L-1", "SO-3", 40001), RC(LIMIT_EXCEEDED));
    expect_ok(disburse("BANK-A", "F-1")); /* moves 60,000 to outstanding: same availability */
    expect_line_counters("BANK-A", "L-1", 60000, 0, 60000, 0);
    expect_rejected(request("F-3", "BANK-A", "L-1", "SO-3", 40001), RC(LIMIT_EXCEEDED));
    expect_ok(request("F-3", "BANK-A", "L-1", "SO-3", 40000));
}

Test(financing, limit_lowered_below_outstanding_leaves_nothing_available)
{
    disbursed_setup(60000, 0);
    fx_matched_order(&f, MER, "SO-2", 100000);
    expect_ok(change_limit("BANK-A", "BANK-A", "L-1", 10000));
    expect_line_counters("BANK-A", "L-1", 60000, 0, 60000, 0);
    struct fx_result r = request("F-2", "BANK-A", "L-1", "SO-2", 1);
    expect_rejected(r, RC(LIMIT_EXCEEDED));
    cr_assert(strstr(r.why, "has 0 available") != NULL, "never below zero: %s", r.why);
    /* Repaying 55,000 leaves 5,000 outstanding: 5,000 available again. */
    expect_ok(repay("BANK-A", "F-1", 55000));
    expect_rejected(request("F-2", "BANK-A", "L-1", "SO-2", 5001), RC(LIMIT_EXCEEDED));
    expect_ok(request("F-2", "BANK-A", "L-1", "SO-2", 5000));
}

Test(financing, amount_above_the_advance_rate_is_advance_exceeded)
{
    base_setup(); /* 8,000 bps, SO-1 actual_paid 100,000 */
    fx_matched_order(&f, MER, "SO-2", 50001);
    struct fx_result r = request("F-1", "BANK-A", "L-1", "SO-1", 80001);
    expect_rejected(r, RC(ADVANCE_EXCEEDED));
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 80000));
    /* Over several orders: 8,000 bps of 150,001 = 120,000.8. */
    struct req q;
    req_init(&q, "F-2", "BANK-A", "L-1", 120001);
    req_order(&q, MER, "SO-1");
    req_order(&q, MER, "SO-2");
    expect_rejected(req_submit(&q, MER), RC(ADVANCE_EXCEEDED));
    q.doc.amount_minor = 120000;
    expect_ok(req_submit(&q, MER));
}

Test(financing, limit_is_checked_before_the_advance_rate)
{
    expect_ok(open_line_full("BANK-A", "L-1", MER, "CNY", 1000, 8000, FX_GENESIS_MS + YEAR_MS));
    fx_matched_order(&f, MER, "SO-1", 100);
    expect_rejected(request("F-1", "BANK-A", "L-1", "SO-1", 2000), RC(LIMIT_EXCEEDED));
}

Test(financing, advance_check_is_exact_at_the_largest_amounts)
{
    /* 10^15 × 10,000 overflows 64 bits; the rule must still hold exactly. */
    expect_ok(open_line_full("BANK-A", "L-1", MER, "CNY", LEDGER_AMOUNT_MAX, 10000,
                             FX_GENESIS_MS + YEAR_MS));
    expect_ok(open_line_full("BANK-A", "L-2", MER, "CNY", LEDGER_AMOUNT_MAX, 9999,
                             FX_GENESIS_MS + YEAR_MS));
    fx_matched_order(&f, MER, "SO-BIG", LEDGER_AMOUNT_MAX);
    expect_rejected(request("F-2", "BANK-A", "L-2", "SO-BIG", LEDGER_AMOUNT_MAX),
                    RC(ADVANCE_EXCEEDED));
    expect_ok(request("F-2", "BANK-A", "L-2", "SO-BIG", LEDGER_AMOUNT_MAX / 10000 * 9999));
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-BIG", LEDGER_AMOUNT_MAX));
}

Test(financing, request_refuses_invalid_documents_at_admission)
{
    base_setup();
    struct req q;
    enum { ZERO_ORDERS, TOO_MANY, TWICE, AMOUNT_0, AMOUNT_BIG, MATURITY_0, CURRENCY, ID, REF };
    for (int c = ZERO_ORDERS; c <= REF; c++) {
        req_init(&q, "F-1", "BANK-A", "L-1", 1000);
        if (c != ZERO_ORDERS)
            req_order(&q, MER, "SO-1");
        if (c == TOO_MANY)
            for (int i = 0; i < 50; i++) {
                char no[16];
                snprintf(no, sizeof no, "SO-X%d", i);
                req_order(&q, MER, no);
            }
        if (c == TWICE)
            req_order(&q, MER, "SO-1");
        if (c == AMOUNT_0)
            q.doc.amount_minor = 0;
        if (c == AMOUNT_BIG)
            q.doc.amount_minor = LEDGER_AMOUNT_MAX + 1;
        if (c == MATURITY_0)
            q.doc.maturity_ms = 0;
        if (c == CURRENCY)
            q.doc.currency = "yuan";
        if (c == ID)
            q.doc.financing_id = "F/1";
        if (c == REF)
            q.refs[0].order_no = "";
        struct fx_result r = req_submit(&q, MER);
        cr_assert_not(r.admitted, "case %d admitted", c);
        cr_assert_eq(r.code, RC(INVALID_DOCUMENT), "case %d: %s: %s", c, ledger_result_name(r.code),
                     r.why);
    }
    req_init(&q, "F-1", "BANK-A", "L-1", 1000);
    req_order(&q, MER, "SO-1");
    q.doc.line = NULL;
    expect_refused(req_submit(&q, MER), RC(MALFORMED));
}

Test(financing, max_financing_orders_parameter_bounds_the_order_count)
{
    fx_close(&f);
    Hansa__Parameters p;
    ledger_params_default(&p);
    p.max_financing_orders = 2;
    fx_init_params(&f, &p);
    base_setup();
    fx_matched_order(&f, MER, "SO-2", 100000);
    fx_matched_order(&f, MER, "SO-3", 100000);
    struct req q;
    req_init(&q, "F-1", "BANK-A", "L-1", 1000);
    req_order(&q, MER, "SO-1");
    req_order(&q, MER, "SO-2");
    req_order(&q, MER, "SO-3");
    expect_refused(req_submit(&q, MER), RC(INVALID_DOCUMENT));
    q.doc.n_orders = 2;
    expect_ok(req_submit(&q, MER));
}

/* ====================================================================== */
/* Financing: approval and the duplicate-financing lock                   */
/* ====================================================================== */

Test(financing, approve_pledges_every_order_and_reserves_the_amount)
{
    base_setup();
    fx_matched_order(&f, MER, "SO-2", 100000);
    struct req q;
    req_init(&q, "F-1", "BANK-A", "L-1", 150000);
    req_order(&q, MER, "SO-1");
    req_order(&q, MER, "SO-2");
    expect_ok(req_submit(&q, MER));
    expect_ok(approve("BANK-A", "F-1"));
    Hansa__Financing *x = get_fin("F-1");
    cr_assert_eq(x->status, FS(APPROVED));
    cr_assert_eq(x->approved_ms, f.time_ms - FX_BLOCK_MS);
    cr_assert_eq(x->n_pledged_orders, 2);
    cr_assert_str_eq(x->pledged_orders[1]->order_no, "SO-2");
    wire_free(x);
    expect_pledge(MER, "SO-1", "F-1");
    expect_pledge(MER, "SO-2", "F-1");
    expect_line_counters("BANK-A", "L-1", 0, 150000, 0, 0);
    Hansa__HistoryEntry **h = NULL;
    size_t n = fx_last_history(&f, "order/" MER "/SO-1/", &h);
    cr_assert_eq(n, 1, "the pledge is in the order's history");
    cr_assert_not_null(h[0]->after->order->pledged_by);
    wire_free(h[0]);
    free(h);
}

Test(financing, approval_by_another_bank_is_not_authorized_before_state)
{
    base_setup();
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    expect_ok(approve("BANK-A", "F-1"));
    /* APPROVED would be INVALID_TRANSITION for its bank: ownership first. */
    expect_rejected(approve("BANK-B", "F-1"), RC(NOT_AUTHORIZED));
    expect_rejected(reject("BANK-B", "F-1"), RC(NOT_AUTHORIZED));
    expect_rejected(disburse("BANK-B", "F-1"), RC(NOT_AUTHORIZED));
    expect_rejected(repay("BANK-B", "F-1", 1), RC(NOT_AUTHORIZED));
    expect_rejected(declare_default("BANK-B", "F-1"), RC(NOT_AUTHORIZED));
    expect_refused(approve(MER, "F-1"), RC(NOT_AUTHORIZED)); /* no BANK role */
}

Test(financing, unknown_financing_is_not_found)
{
    expect_rejected(approve("BANK-A", "F-9"), RC(NOT_FOUND));
    expect_rejected(reject("BANK-A", "F-9"), RC(NOT_FOUND));
    expect_rejected(disburse("BANK-A", "F-9"), RC(NOT_FOUND));
    expect_rejected(repay("BANK-A", "F-9", 1), RC(NOT_FOUND));
    expect_rejected(declare_default("BANK-A", "F-9"), RC(NOT_FOUND));
}

Test(financing, financing_actions_check_their_documents_at_admission)
{
    expect_refused(approve("BANK-A", "F 1"), RC(INVALID_DOCUMENT));
    expect_refused(fin_action("BANK-A", ACT(DECLARE_DEFAULT), "", "F-1"), RC(INVALID_DOCUMENT));
    expect_refused(repay("BANK-A", "F-1", 0), RC(INVALID_DOCUMENT));
    expect_refused(repay("BANK-A", "F-1", LEDGER_AMOUNT_MAX + 1), RC(INVALID_DOCUMENT));
    Hansa__DisburseFinancing d = HANSA__DISBURSE_FINANCING__INIT; /* no financing */
    Hansa__TxBody b;
    fx_body(&b, ACT(DISBURSE_FINANCING), &d);
    expect_refused(fx_submit(&f, "BANK-A", &b), RC(MALFORMED));
}

Test(financing, approve_only_from_requested)
{
    base_setup();
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    expect_ok(approve("BANK-A", "F-1"));
    expect_rejected(approve("BANK-A", "F-1"), RC(INVALID_TRANSITION));
    expect_ok(reject("BANK-A", "F-1"));
    expect_rejected(approve("BANK-A", "F-1"), RC(INVALID_TRANSITION));
}

Test(financing, approval_repeats_the_request_checks)
{
    base_setup();
    fx_matched_order(&f, MER, "SO-2", 100000);
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 50000));
    expect_ok(request("F-2", "BANK-A", "L-1", "SO-2", 50000));

    expect_ok(suspend("BANK-A", "BANK-A", "L-1"));
    expect_rejected(approve("BANK-A", "F-1"), RC(LINE_INACTIVE));
    expect_ok(resume("BANK-A", "BANK-A", "L-1"));

    expect_ok(change_limit("BANK-A", "BANK-A", "L-1", 49999));
    expect_rejected(approve("BANK-A", "F-1"), RC(LIMIT_EXCEEDED));
    expect_ok(change_limit("BANK-A", "BANK-A", "L-1", 1000000));

    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = MER;
    ref.order_no = "SO-2";
    Hansa__CancelOrder c = HANSA__CANCEL_ORDER__INIT;
    c.order = &ref;
    Hansa__TxBody b;
    fx_body(&b, ACT(CANCEL_ORDER), &c);
    expect_ok(fx_submit(&f, MER, &b));
    expect_rejected(approve("BANK-A", "F-2"), RC(INVALID_TRANSITION));

    expect_ok(approve("BANK-A", "F-1"));
    cr_assert_eq(fin_status("F-2"), FS(REQUESTED), "a rejected approval changes nothing");
    expect_pledge(MER, "SO-2", "");
}

Test(financing, approval_after_expiry_is_line_inactive)
{
    fx_matched_order(&f, MER, "SO-1", 100000);
    expect_ok(open_line_full("BANK-A", "L-1", MER, "CNY", 1000000, 8000, f.time_ms + FX_BLOCK_MS));
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    expect_rejected(approve("BANK-A", "F-1"), RC(LINE_INACTIVE));
}

Test(financing, rejects_second_pledge_from_other_bank)
{
    base_setup();
    open_line("BANK-B", "L-B", 1000000);
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 50000));
    expect_ok(approve("BANK-A", "F-1"));
    /* The same order at another bank, on another line. */
    struct fx_result r = request("F-2", "BANK-B", "L-B", "SO-1", 50000);
    expect_rejected(r, RC(ASSET_ALREADY_PLEDGED));
    cr_assert(strstr(r.why, "F-1") != NULL, "why names the pledge holder: %s", r.why);
    /* And at the same bank, on the same line. */
    expect_rejected(request("F-3", "BANK-A", "L-1", "SO-1", 1000), RC(ASSET_ALREADY_PLEDGED));
    cr_assert_null(fx_get_financing(&f, MER, "F-2"));
    expect_pledge(MER, "SO-1", "F-1");
}

Test(financing, second_approval_of_a_pledged_order_stays_in_its_block_rejected)
{
    base_setup();
    open_line("BANK-B", "L-B", 1000000);
    fx_matched_order(&f, MER, "SO-2", 100000);
    struct req q;
    req_init(&q, "F-2", "BANK-B", "L-B", 50000);
    req_order(&q, MER, "SO-2");
    req_order(&q, MER, "SO-1");
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 50000));
    expect_ok(req_submit(&q, MER)); /* requests pledge nothing */

    Hansa__FinancingRef r1 = {PROTOBUF_C_MESSAGE_INIT(&hansa__financing_ref__descriptor), MER,
                              "F-1"};
    Hansa__FinancingRef r2 = {PROTOBUF_C_MESSAGE_INIT(&hansa__financing_ref__descriptor), MER,
                              "F-2"};
    Hansa__ApproveFinancing a1 = HANSA__APPROVE_FINANCING__INIT, a2 = a1;
    a1.financing = &r1;
    a2.financing = &r2;
    Hansa__TxBody b1, b2;
    fx_body(&b1, ACT(APPROVE_FINANCING), &a1);
    fx_body(&b2, ACT(APPROVE_FINANCING), &a2);
    const char *signers[2] = {"BANK-A", "BANK-B"};
    Hansa__TxBody *bodies[2] = {&b1, &b2};
    struct fx_result res[2];
    fx_block(&f, signers, bodies, 2, res);
    expect_ok(res[0]);
    expect_rejected(res[1], RC(ASSET_ALREADY_PLEDGED));
    cr_assert_eq(f.last.n_results, 2, "the rejected approval stays in the block");
    cr_assert_eq(f.last.results[1]->result, RC(ASSET_ALREADY_PLEDGED));
    /* Rolled back: SO-2 is not pledged, F-2 still REQUESTED, nothing reserved. */
    expect_pledge(MER, "SO-2", "");
    expect_pledge(MER, "SO-1", "F-1");
    cr_assert_eq(fin_status("F-2"), FS(REQUESTED));
    expect_line_counters("BANK-B", "L-B", 0, 0, 0, 0);
}

Test(financing, pledged_order_cannot_be_cancelled)
{
    base_setup();
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    expect_ok(approve("BANK-A", "F-1"));
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = MER;
    ref.order_no = "SO-1";
    Hansa__CancelOrder c = HANSA__CANCEL_ORDER__INIT;
    c.order = &ref;
    Hansa__TxBody b;
    fx_body(&b, ACT(CANCEL_ORDER), &c);
    expect_rejected(fx_submit(&f, MER, &b), RC(INVALID_TRANSITION));
}

/* ====================================================================== */
/* Financing: reject, disburse, repay, default                            */
/* ====================================================================== */

Test(financing, reject_from_requested_releases_nothing_and_is_final)
{
    base_setup();
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    expect_ok(reject("BANK-A", "F-1"));
    Hansa__Financing *x = get_fin("F-1");
    cr_assert_eq(x->status, FS(REJECTED));
    cr_assert_eq(x->rejected_ms, f.time_ms - FX_BLOCK_MS);
    wire_free(x);
    struct seen_events s = {0};
    collect_events(&s);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.types[0], EV(REJECTED));
    cr_assert_eq(s.amounts[0], 0, "nothing was reserved");
    Hansa__HistoryEntry **h = NULL;
    cr_assert_eq(fx_last_history(&f, "line/", &h), 0, "the line did not change");
    free(h);
    expect_rejected(reject("BANK-A", "F-1"), RC(INVALID_TRANSITION));
    expect_rejected(disburse("BANK-A", "F-1"), RC(INVALID_TRANSITION));
}

Test(financing, reject_after_approval_releases_pledges_and_the_approved_amount)
{
    base_setup();
    open_line("BANK-B", "L-B", 1000000);
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 70000));
    expect_ok(approve("BANK-A", "F-1"));
    expect_line_counters("BANK-A", "L-1", 0, 70000, 0, 0);
    expect_ok(reject("BANK-A", "F-1"));
    expect_line_counters("BANK-A", "L-1", 0, 0, 0, 0);
    expect_pledge(MER, "SO-1", "");
    Hansa__Financing *x = get_fin("F-1");
    cr_assert_eq(x->status, FS(REJECTED));
    cr_assert_eq(x->n_pledged_orders, 0);
    wire_free(x);
    struct seen_events s = {0};
    collect_events(&s);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.types[0], EV(REJECTED));
    cr_assert_eq(s.amounts[0], 70000);
    /* The order is free again, at any bank. */
    expect_ok(request("F-2", "BANK-B", "L-B", "SO-1", 70000));
    expect_ok(fin_action("BANK-B", ACT(APPROVE_FINANCING), MER, "F-2"));
    expect_pledge(MER, "SO-1", "F-2");
}

Test(financing, disburse_moves_the_approved_amount_to_outstanding)
{
    uint64_t maturity = disbursed_setup(80000, 0);
    Hansa__Financing *x = get_fin("F-1");
    cr_assert_eq(x->status, FS(DISBURSED));
    cr_assert_eq(x->principal_outstanding_minor, 80000);
    cr_assert_eq(x->disbursed_ms, f.time_ms - FX_BLOCK_MS);
    cr_assert_eq(x->n_pledged_orders, 1, "disbursal keeps the pledges");
    wire_free(x);
    expect_pledge(MER, "SO-1", "F-1");
    expect_line_counters("BANK-A", "L-1", 80000, 0, 80000, 0);
    cr_assert(overdue_timer_exists("F-1", maturity));
}

Test(financing, disburse_only_from_approved)
{
    base_setup();
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    expect_rejected(disburse("BANK-A", "F-1"), RC(INVALID_TRANSITION));
    expect_ok(approve("BANK-A", "F-1"));
    expect_ok(disburse("BANK-A", "F-1"));
    expect_rejected(disburse("BANK-A", "F-1"), RC(INVALID_TRANSITION));
}

Test(financing, disburse_on_a_suspended_or_expired_line_is_line_inactive)
{
    fx_matched_order(&f, MER, "SO-1", 100000);
    uint64_t expiry = f.time_ms + 10 * FX_BLOCK_MS;
    expect_ok(open_line_full("BANK-A", "L-1", MER, "CNY", 1000000, 8000, expiry));
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    expect_ok(approve("BANK-A", "F-1"));
    expect_ok(suspend("BANK-A", "BANK-A", "L-1"));
    expect_rejected(disburse("BANK-A", "F-1"), RC(LINE_INACTIVE));
    expect_ok(resume("BANK-A", "BANK-A", "L-1"));
    fx_advance(&f, 60000);
    expect_rejected(disburse("BANK-A", "F-1"), RC(LINE_INACTIVE));
    cr_assert_eq(fin_status("F-1"), FS(APPROVED));
    /* The bank may still withdraw the approval. */
    expect_ok(reject("BANK-A", "F-1"));
    expect_pledge(MER, "SO-1", "");
}

Test(financing, partial_repayment_reduces_principal_and_outstanding)
{
    disbursed_setup(80000, 0);
    expect_ok(repay("BANK-A", "F-1", 30000));
    Hansa__Financing *x = get_fin("F-1");
    cr_assert_eq(x->status, FS(DISBURSED));
    cr_assert_eq(x->principal_outstanding_minor, 50000);
    cr_assert_eq(x->repaid_total_minor, 30000);
    wire_free(x);
    expect_line_counters("BANK-A", "L-1", 50000, 0, 80000, 30000);
    expect_pledge(MER, "SO-1", "F-1");
    struct seen_events s = {0};
    collect_events(&s);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.types[0], EV(REPAID));
    cr_assert_eq(s.amounts[0], 30000);
}

Test(financing, repayment_above_principal_is_overpayment)
{
    disbursed_setup(80000, 0);
    expect_ok(repay("BANK-A", "F-1", 30000));
    struct fx_result r = repay("BANK-A", "F-1", 50001);
    expect_rejected(r, RC(OVERPAYMENT));
    cr_assert(strstr(r.why, "50000") != NULL, "why: %s", r.why);
    expect_line_counters("BANK-A", "L-1", 50000, 0, 80000, 30000);
}

Test(financing, pledges_are_released_on_settlement)
{
    uint64_t maturity = disbursed_setup(80000, 0);
    open_line("BANK-B", "L-B", 1000000);
    expect_ok(repay("BANK-A", "F-1", 80000));
    Hansa__Financing *x = get_fin("F-1");
    cr_assert_eq(x->status, FS(SETTLED));
    cr_assert_eq(x->principal_outstanding_minor, 0);
    cr_assert_eq(x->settled_ms, f.time_ms - FX_BLOCK_MS);
    cr_assert_eq(x->n_pledged_orders, 0);
    wire_free(x);
    expect_pledge(MER, "SO-1", "");
    expect_line_counters("BANK-A", "L-1", 0, 0, 80000, 80000);
    cr_assert_not(overdue_timer_exists("F-1", maturity), "the timer goes with settlement");
    struct seen_events s = {0};
    collect_events(&s);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.types[0], EV(SETTLED));
    cr_assert_eq(s.amounts[0], 80000, "SETTLED carries the last repayment");
    expect_rejected(repay("BANK-A", "F-1", 1), RC(INVALID_TRANSITION));
    expect_ok(request("F-2", "BANK-B", "L-B", "SO-1", 1000)); /* free again */
}

Test(financing, repayment_outside_disbursed_overdue_defaulted_is_invalid_transition)
{
    base_setup();
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    expect_rejected(repay("BANK-A", "F-1", 1), RC(INVALID_TRANSITION));
    expect_ok(approve("BANK-A", "F-1"));
    expect_rejected(repay("BANK-A", "F-1", 1), RC(INVALID_TRANSITION));
    expect_ok(reject("BANK-A", "F-1"));
    expect_rejected(repay("BANK-A", "F-1", 1), RC(INVALID_TRANSITION));
}

Test(financing, default_only_from_overdue)
{
    base_setup();
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 1000));
    expect_rejected(declare_default("BANK-A", "F-1"), RC(INVALID_TRANSITION));
    expect_ok(approve("BANK-A", "F-1"));
    expect_rejected(declare_default("BANK-A", "F-1"), RC(INVALID_TRANSITION));
    expect_ok(disburse("BANK-A", "F-1"));
    expect_rejected(declare_default("BANK-A", "F-1"), RC(INVALID_TRANSITION));
}

Test(financing, pledges_are_kept_on_default_and_recoveries_keep_defaulted)
{
    uint64_t maturity = disbursed_setup(80000, f.time_ms + 20 * FX_BLOCK_MS);
    open_line("BANK-B", "L-B", 1000000);
    fx_advance(&f, maturity - f.time_ms + 1);
    fx_empty_block(&f);
    cr_assert_eq(fin_status("F-1"), FS(OVERDUE));
    expect_ok(declare_default("BANK-A", "F-1"));
    Hansa__Financing *x = get_fin("F-1");
    cr_assert_eq(x->status, FS(DEFAULTED));
    cr_assert_eq(x->defaulted_ms, f.time_ms - FX_BLOCK_MS);
    cr_assert_eq(x->n_pledged_orders, 1);
    wire_free(x);
    struct seen_events s = {0};
    collect_events(&s);
    cr_assert_eq(s.types[0], EV(DEFAULTED));
    cr_assert_eq(s.amounts[0], 80000);
    expect_pledge(MER, "SO-1", "F-1");
    expect_line_counters("BANK-A", "L-1", 80000, 0, 80000, 0);
    expect_rejected(declare_default("BANK-A", "F-1"), RC(INVALID_TRANSITION));

    expect_rejected(repay("BANK-A", "F-1", 80001), RC(OVERPAYMENT));
    expect_ok(repay("BANK-A", "F-1", 30000));
    expect_ok(repay("BANK-A", "F-1", 50000)); /* principal reaches 0 */
    x = get_fin("F-1");
    cr_assert_eq(x->status, FS(DEFAULTED), "recoveries keep DEFAULTED");
    cr_assert_eq(x->principal_outstanding_minor, 0);
    cr_assert_eq(x->n_pledged_orders, 1);
    wire_free(x);
    struct seen_events s2 = {0};
    collect_events(&s2);
    cr_assert_eq(s2.types[0], EV(REPAID));
    expect_pledge(MER, "SO-1", "F-1");
    expect_line_counters("BANK-A", "L-1", 0, 0, 80000, 80000);
    expect_rejected(request("F-2", "BANK-B", "L-B", "SO-1", 1000), RC(ASSET_ALREADY_PLEDGED));
    expect_rejected(repay("BANK-A", "F-1", 1), RC(OVERPAYMENT));
}

Test(financing, close_is_refused_while_anything_is_outstanding_or_approved)
{
    base_setup();
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 50000));
    expect_ok(close_line("BANK-A", "BANK-A", "L-1")); /* a request reserves nothing */
    expect_ok(open_line_full("BANK-A", "L-2", MER, "CNY", 1000000, 8000, FX_GENESIS_MS + YEAR_MS));
    expect_ok(request("F-2", "BANK-A", "L-2", "SO-1", 50000));
    expect_ok(approve("BANK-A", "F-2"));
    struct fx_result r = close_line("BANK-A", "BANK-A", "L-2");
    expect_rejected(r, RC(INVALID_TRANSITION));
    expect_ok(disburse("BANK-A", "F-2"));
    expect_ok(suspend("BANK-A", "BANK-A", "L-2"));
    expect_rejected(close_line("BANK-A", "BANK-A", "L-2"), RC(INVALID_TRANSITION));
    expect_ok(repay("BANK-A", "F-2", 49999));
    expect_rejected(close_line("BANK-A", "BANK-A", "L-2"), RC(INVALID_TRANSITION));
    expect_ok(repay("BANK-A", "F-2", 1));
    expect_ok(close_line("BANK-A", "BANK-A", "L-2"));
    cr_assert_eq(line_status("BANK-A", "L-2"), LS(CLOSED));
}

/* ====================================================================== */
/* Overdue                                                                */
/* ====================================================================== */

Test(financing, becomes_overdue_at_the_first_block_past_maturity)
{
    uint64_t maturity = disbursed_setup(80000, f.time_ms + 20 * FX_BLOCK_MS);
    expect_ok(repay("BANK-A", "F-1", 20000));
    fx_advance(&f, maturity - f.time_ms); /* next block at exactly maturity */
    fx_empty_block(&f);
    cr_assert_eq(fin_status("F-1"), FS(DISBURSED), "not past maturity yet");
    cr_assert(overdue_timer_exists("F-1", maturity));
    fx_empty_block(&f); /* first block past maturity */
    Hansa__Financing *x = get_fin("F-1");
    cr_assert_eq(x->status, FS(OVERDUE));
    cr_assert_eq(x->overdue_ms, maturity + FX_BLOCK_MS);
    cr_assert_eq(x->n_pledged_orders, 1);
    wire_free(x);
    cr_assert_not(overdue_timer_exists("F-1", maturity));
    Hansa__HistoryEntry **h = NULL;
    size_t n = fx_last_history(&f, "financing/" MER "/F-1/", &h);
    cr_assert_eq(n, 1);
    cr_assert_eq(h[0]->tx_index, BLOCK_ORIGIN);
    cr_assert_eq(h[0]->tx_id.len, 0);
    cr_assert_eq(h[0]->credit_event->type, EV(OVERDUE));
    cr_assert_eq(h[0]->credit_event->amount_minor, 60000);
    cr_assert_eq(h[0]->credit_event->tx_id.len, 0);
    cr_assert_eq(h[0]->credit_event->line_outstanding_minor, 60000);
    wire_free(h[0]);
    free(h);
    fx_empty_block(&f);
    cr_assert_eq(fx_last_history(&f, "financing/", &h), 0, "OVERDUE happens once");
    free(h);
}

Test(financing, overdue_financing_settles_when_repaid)
{
    uint64_t maturity = disbursed_setup(80000, f.time_ms + 10 * FX_BLOCK_MS);
    fx_advance(&f, maturity - f.time_ms + 5000);
    expect_ok(repay("BANK-A", "F-1", 1000)); /* the block first marks it OVERDUE */
    cr_assert_eq(fin_status("F-1"), FS(OVERDUE));
    expect_ok(repay("BANK-A", "F-1", 79000));
    cr_assert_eq(fin_status("F-1"), FS(SETTLED));
    expect_pledge(MER, "SO-1", "");
    expect_line_counters("BANK-A", "L-1", 0, 0, 80000, 80000);
}

Test(financing, settled_financing_never_becomes_overdue)
{
    uint64_t maturity = disbursed_setup(80000, f.time_ms + 10 * FX_BLOCK_MS);
    expect_ok(repay("BANK-A", "F-1", 80000));
    fx_advance(&f, maturity - f.time_ms + 60000);
    fx_empty_block(&f);
    cr_assert_eq(fin_status("F-1"), FS(SETTLED));
    Hansa__HistoryEntry **h = NULL;
    cr_assert_eq(fx_last_history(&f, "", &h), 0);
    free(h);
}

Test(financing, several_financings_fall_overdue_in_one_block_in_key_order)
{
    base_setup();
    fx_matched_order(&f, MER, "SO-2", 100000);
    uint64_t maturity = f.time_ms + 20 * FX_BLOCK_MS;
    const char *ids[2] = {"F-2", "F-1"};
    const char *orders[2] = {"SO-2", "SO-1"};
    for (int i = 0; i < 2; i++) {
        struct req q;
        req_init(&q, ids[i], "BANK-A", "L-1", 1000);
        req_order(&q, MER, orders[i]);
        q.doc.maturity_ms = maturity;
        expect_ok(req_submit(&q, MER));
        expect_ok(approve("BANK-A", ids[i]));
        expect_ok(disburse("BANK-A", ids[i]));
    }
    fx_advance(&f, maturity - f.time_ms + 1);
    fx_empty_block(&f);
    cr_assert_eq(fin_status("F-1"), FS(OVERDUE));
    cr_assert_eq(fin_status("F-2"), FS(OVERDUE));
    Hansa__HistoryEntry **h = NULL;
    size_t n = fx_last_history(&f, "financing/", &h);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(h[0]->entity->id, "F-1");
    cr_assert_eq(h[0]->credit_event->ordinal, 0);
    cr_assert_str_eq(h[1]->entity->id, "F-2");
    cr_assert_eq(h[1]->credit_event->ordinal, 1);
    for (size_t i = 0; i < n; i++)
        wire_free(h[i]);
    free(h);
}

/* ====================================================================== */
/* Credit events                                                          */
/* ====================================================================== */

Test(credit_events, full_lifecycle_emits_every_event_in_order)
{
    static const Hansa__CreditEventType want[] = {
        EV(OPENED),    EV(LIMIT_CHANGED), EV(SUSPENDED), EV(RESUMED), EV(REQUESTED), EV(APPROVED),
        EV(DISBURSED), EV(REPAID),        EV(OVERDUE),   EV(SETTLED), EV(CLOSED),
    };
    static const int64_t want_amount[] = {1000000, 900000, 0,     0,     80000, 80000,
                                          80000,   30000,  50000, 50000, 0};
    struct seen_events s = {0};
    fx_matched_order(&f, MER, "SO-1", 100000);
    open_line("BANK-A", "L-1", 1000000);
    collect_events(&s);
    expect_ok(change_limit("BANK-A", "BANK-A", "L-1", 900000));
    collect_events(&s);
    expect_ok(suspend("BANK-A", "BANK-A", "L-1"));
    collect_events(&s);
    expect_ok(resume("BANK-A", "BANK-A", "L-1"));
    collect_events(&s);
    struct req q;
    req_init(&q, "F-1", "BANK-A", "L-1", 80000);
    req_order(&q, MER, "SO-1");
    q.doc.maturity_ms = f.time_ms + 10 * FX_BLOCK_MS;
    expect_ok(req_submit(&q, MER));
    collect_events(&s);
    expect_ok(approve("BANK-A", "F-1"));
    collect_events(&s);
    expect_ok(disburse("BANK-A", "F-1"));
    collect_events(&s);
    expect_ok(repay("BANK-A", "F-1", 30000));
    collect_events(&s);
    fx_advance(&f, q.doc.maturity_ms - f.time_ms + 1);
    fx_empty_block(&f);
    collect_events(&s);
    expect_ok(repay("BANK-A", "F-1", 50000));
    collect_events(&s);
    expect_ok(close_line("BANK-A", "BANK-A", "L-1"));
    collect_events(&s);

    cr_assert_eq(s.n, sizeof want / sizeof want[0], "got %zu events", s.n);
    for (size_t i = 0; i < s.n; i++) {
        cr_assert_eq(s.types[i], want[i], "event %zu is %d, want %d", i, s.types[i], want[i]);
        cr_assert_eq(s.amounts[i], want_amount[i], "event %zu amount %lld", i,
                     (long long)s.amounts[i]);
    }
}

Test(credit_events, line_and_financing_histories_carry_the_same_event)
{
    base_setup();
    expect_ok(request("F-1", "BANK-A", "L-1", "SO-1", 80000));
    expect_ok(approve("BANK-A", "F-1"));
    Hansa__HistoryEntry **fh = NULL, **lh = NULL;
    cr_assert_eq(fx_last_history(&f, "financing/" MER "/F-1/", &fh), 1);
    cr_assert_eq(fx_last_history(&f, "line/BANK-A/L-1/", &lh), 1);
    const Hansa__CreditEvent *a = fh[0]->credit_event, *b = lh[0]->credit_event;
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_eq(a->type, EV(APPROVED));
    cr_assert_eq(b->type, EV(APPROVED));
    cr_assert_eq(a->height, b->height);
    cr_assert_eq(a->ordinal, b->ordinal, "one event, one cursor");
    cr_assert_eq(a->ordinal, 0);
    cr_assert_eq(a->tx_id.len, 32);
    cr_assert_str_eq(a->financing->financing_id, "F-1");
    cr_assert_str_eq(a->line->line_id, "L-1");
    cr_assert_str_eq(a->borrower, MER);
    cr_assert_eq(a->line_approved_undisbursed_minor, 80000);
    cr_assert_eq(a->line_outstanding_minor, 0);
    cr_assert_eq(lh[0]->after->credit_line->approved_undisbursed_minor, 80000);
    cr_assert_eq(fh[0]->after->financing->status, FS(APPROVED));
    wire_free(fh[0]);
    wire_free(lh[0]);
    free(fh);
    free(lh);

    expect_ok(disburse("BANK-A", "F-1"));
    cr_assert_eq(fx_last_history(&f, "financing/" MER "/F-1/", &fh), 1);
    cr_assert_eq(fh[0]->credit_event->line_outstanding_minor, 80000);
    cr_assert_eq(fh[0]->credit_event->line_approved_undisbursed_minor, 0);
    cr_assert_eq(fh[0]->credit_event->principal_outstanding_minor, 80000);
    wire_free(fh[0]);
    free(fh);
}

Test(credit_events, ordinals_count_events_within_a_block)
{
    open_line("BANK-A", "L-1", 1000);
    Hansa__LineRef ref = HANSA__LINE_REF__INIT;
    ref.bank = "BANK-A";
    ref.line_id = "L-1";
    Hansa__SuspendCreditLine s = HANSA__SUSPEND_CREDIT_LINE__INIT;
    Hansa__ResumeCreditLine re = HANSA__RESUME_CREDIT_LINE__INIT;
    Hansa__CloseCreditLine c = HANSA__CLOSE_CREDIT_LINE__INIT;
    s.line = re.line = c.line = &ref;
    Hansa__TxBody b[4];
    fx_body(&b[0], ACT(SUSPEND_CREDIT_LINE), &s);
    fx_body(&b[1], ACT(SUSPEND_CREDIT_LINE), &s); /* rejected: no event, no ordinal */
    fx_body(&b[2], ACT(RESUME_CREDIT_LINE), &re);
    fx_body(&b[3], ACT(CLOSE_CREDIT_LINE), &c);
    const char *signers[4] = {"BANK-A", "BANK-A", "BANK-A", "BANK-A"};
    Hansa__TxBody *bodies[4] = {&b[0], &b[1], &b[2], &b[3]};
    struct fx_result res[4];
    fx_block(&f, signers, bodies, 4, res);
    expect_ok(res[0]);
    expect_rejected(res[1], RC(INVALID_TRANSITION));
    expect_ok(res[2]);
    expect_ok(res[3]);
    Hansa__HistoryEntry **h = NULL;
    size_t n = fx_last_history(&f, "line/", &h);
    cr_assert_eq(n, 3);
    static const Hansa__CreditEventType want[] = {EV(SUSPENDED), EV(RESUMED), EV(CLOSED)};
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(h[i]->credit_event->ordinal, i);
        cr_assert_eq(h[i]->credit_event->type, want[i]);
        wire_free(h[i]);
    }
    free(h);
}

/* ---- a rejected financing leaves nothing behind ----
 * run_tx rolls back whatever a rejected transaction staged
 * (overlay_rollback). Every financing handler runs all its checks before
 * its first write, so these blocks stay empty with or without the
 * rollback; they pin that no write precedes the last check: a rejection
 * found late, after every earlier order of the financing passed. */

/* The block of the last transaction wrote no state and no history. */
static void expect_nothing_written(int line)
{
    cr_assert_eq(f.last.n_state, 0, "line %d: a rejected transaction wrote %zu state keys", line,
                 f.last.n_state);
    cr_assert_eq(f.last.n_history, 0, "line %d: a rejected transaction wrote %zu history entries",
                 line, f.last.n_history);
}

Test(financing, approval_rejected_at_its_last_order_or_its_limit_writes_nothing)
{
    base_setup();
    fx_matched_order(&f, MER, "SO-2", 100000);
    fx_matched_order(&f, MER, "SO-3", 100000);
    struct req q;
    req_init(&q, "F-1", "BANK-A", "L-1", 200000);
    req_order(&q, MER, "SO-1");
    req_order(&q, MER, "SO-2");
    req_order(&q, MER, "SO-3");
    expect_ok(req_submit(&q, MER));
    /* F-2 pledges SO-3, the last order of F-1. */
    expect_ok(request("F-2", "BANK-A", "L-1", "SO-3", 50000));
    expect_ok(approve("BANK-A", "F-2"));

    expect_rejected(approve("BANK-A", "F-1"), RC(ASSET_ALREADY_PLEDGED));
    expect_nothing_written(__LINE__);
    expect_pledge(MER, "SO-1", "");
    expect_pledge(MER, "SO-2", "");
    expect_pledge(MER, "SO-3", "F-2");
    cr_assert_eq(fin_status("F-1"), FS(REQUESTED));
    expect_line_counters("BANK-A", "L-1", 0, 50000, 0, 0);

    /* A request whose last order is pledged is rejected the same way. */
    req_init(&q, "F-3", "BANK-A", "L-1", 100000);
    req_order(&q, MER, "SO-1");
    req_order(&q, MER, "SO-2");
    req_order(&q, MER, "SO-3");
    expect_rejected(req_submit(&q, MER), RC(ASSET_ALREADY_PLEDGED));
    expect_nothing_written(__LINE__);
    cr_assert_null(fx_get_financing(&f, MER, "F-3"));

    /* Every order passes; the limit, checked last, does not. */
    expect_ok(reject("BANK-A", "F-2")); /* releases SO-3 */
    expect_ok(change_limit("BANK-A", "BANK-A", "L-1", 199999));
    expect_rejected(approve("BANK-A", "F-1"), RC(LIMIT_EXCEEDED));
    expect_nothing_written(__LINE__);
    for (int i = 1; i <= 3; i++) {
        char no[8];
        snprintf(no, sizeof no, "SO-%d", i);
        expect_pledge(MER, no, "");
    }
    expect_line_counters("BANK-A", "L-1", 0, 0, 0, 0);
    cr_assert_eq(fin_status("F-1"), FS(REQUESTED));
}
