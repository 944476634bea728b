/*
 * Receivables financing against a merchant's MATCHED orders (DOMAIN.md
 * "Trade credit", "Duplicate-financing lock", "Credit events").
 *
 *   REQUESTED ──approve──▶ APPROVED ──disburse──▶ DISBURSED ──repay to 0──▶ SETTLED
 *       │                     │                      │                       ▲
 *       └──reject──▶ REJECTED ◀──reject (withdraw)    │ first block past      │ repay to 0
 *                                                    ▼ maturity              │
 *                                                 OVERDUE ────────────────────┘
 *                                                    │ declare default
 *                                                    ▼
 *                                                DEFAULTED (repayments allowed, stays DEFAULTED)
 *
 * The checks of a request run again at approval, in DOMAIN's order with the
 * wire protocol's refinements (proto RequestFinancing): financing id, order
 * ownership (by the refs alone, so ownership comes before any state), the
 * line (exists, borrower, ACTIVE and not expired), the orders (exist,
 * MATCHED, not CANCELLED or RETURNED), pledges, currency, available limit,
 * advance rate. Each order check is one pass over all orders, so the first
 * failing check, not the first failing order, names the code.
 *
 * Invariants:
 *   1. The duplicate-financing lock: an order's pledged_by names the
 *      financing it is pledged to, from approval until SETTLED or REJECTED
 *      (kept when DEFAULTED); Financing.pledged_orders lists exactly those
 *      orders. An order is pledged to at most one financing.
 *   2. Per line: outstanding_minor = Σ principal_outstanding_minor of its
 *      DISBURSED, OVERDUE and DEFAULTED financing; approved_undisbursed_minor
 *      = Σ amount_minor of its APPROVED financing; both ≥ 0, and their sum
 *      never exceeds the limit in force at the latest approval.
 *   3. A DISBURSED financing has principal > 0 and exactly one timer
 *      due/<maturity>/overdue/<financing key>; the timer goes when the
 *      financing becomes OVERDUE or SETTLED.
 *   4. Every change of a financing is one history entry with its
 *      CreditEvent. When the same transaction changes the line's counters,
 *      the line gets one history entry carrying the same event (same height
 *      and ordinal): the proto's CreditEvent lives "in the history of its
 *      line and financing", and the credit-event log holds it once.
 *      Amounts follow CreditEventType: REJECTED carries what the line's
 *      reservation released (the amount when an approval is withdrawn, 0
 *      for a request rejected before approval); a repayment that brings
 *      principal to 0 is one SETTLED event carrying that repayment (one
 *      state change, one event), except on DEFAULTED, where it is REPAID.
 *   5. Amount rules use 128-bit intermediates: no input can overflow them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"

#define OK                 HANSA__RESULT_CODE__RESULT_OK
#define MALFORMED          HANSA__RESULT_CODE__RESULT_MALFORMED
#define INVALID_DOCUMENT   HANSA__RESULT_CODE__RESULT_INVALID_DOCUMENT
#define TIMER_KIND_OVERDUE "overdue"
/* Offsets in a timer key "due/<16 hex ms>/overdue/<financing key>" (keys.c). */
#define DUE_TIME_AT    (sizeof LEDGER_DUE_PREFIX - 1)
#define DUE_KIND_AT    (DUE_TIME_AT + 16 + 1)
#define DUE_SUBJECT_AT (DUE_KIND_AT + sizeof TIMER_KIND_OVERDUE "/" - 1)

#define FS(x) HANSA__FINANCING_STATUS__FINANCING_STATUS_##x
#define EV(x) HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_##x

/* ---- stateless document checks ---- */

static Hansa__ResultCode check_financing_ref(const Hansa__FinancingRef *ref, char *why,
                                             size_t why_len)
{
    if (ref == NULL) {
        snprintf(why, why_len, "the financing reference is missing");
        return MALFORMED;
    }
    if (!wire_id_valid(ref->merchant) || !wire_id_valid(ref->financing_id)) {
        snprintf(why, why_len, "the financing reference has an invalid merchant or id");
        return INVALID_DOCUMENT;
    }
    return OK;
}

/* 1..max orders, each a valid ref, none listed twice. */
static Hansa__ResultCode check_order_refs(const Hansa__RequestFinancing *a, uint32_t max, char *why,
                                          size_t why_len)
{
    if (a->n_orders == 0 || a->n_orders > max) {
        snprintf(why, why_len, "financing %s lists %zu orders; 1..%u are allowed", a->financing_id,
                 a->n_orders, max);
        return INVALID_DOCUMENT;
    }
    for (size_t i = 0; i < a->n_orders; i++) {
        const Hansa__OrderRef *o = a->orders[i];
        if (o == NULL) {
            snprintf(why, why_len, "financing %s: order reference %zu is missing", a->financing_id,
                     i);
            return MALFORMED;
        }
        if (!wire_id_valid(o->merchant) || !wire_id_valid(o->order_no)) {
            snprintf(why, why_len, "financing %s: order reference %zu is not valid",
                     a->financing_id, i);
            return INVALID_DOCUMENT;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(a->orders[j]->merchant, o->merchant) == 0 &&
                strcmp(a->orders[j]->order_no, o->order_no) == 0) {
                snprintf(why, why_len, "financing %s lists order %s/%s twice", a->financing_id,
                         o->merchant, o->order_no);
                return INVALID_DOCUMENT;
            }
    }
    return OK;
}

static Hansa__ResultCode check_request(const Hansa__RequestFinancing *a, const Hansa__Parameters *p,
                                       char *why, size_t why_len)
{
    if (a == NULL || a->line == NULL) {
        snprintf(why, why_len, "request_financing or its line reference is missing");
        return MALFORMED;
    }
    if (!wire_id_valid(a->financing_id)) {
        snprintf(why, why_len, "financing_id is not a valid id");
        return INVALID_DOCUMENT;
    }
    if (!wire_id_valid(a->line->bank) || !wire_id_valid(a->line->line_id)) {
        snprintf(why, why_len, "financing %s: the line reference is not valid", a->financing_id);
        return INVALID_DOCUMENT;
    }
    uint32_t max = p->max_financing_orders < HANSA_FINANCING_ORDERS_MAX
                       ? p->max_financing_orders
                       : HANSA_FINANCING_ORDERS_MAX;
    Hansa__ResultCode code = check_order_refs(a, max, why, why_len);
    if (code != OK)
        return code;
    const char *bad = NULL;
    if (a->amount_minor <= 0 || !ledger_amount_valid(a->amount_minor))
        bad = "amount_minor must be 1..10^15";
    else if (!ledger_currency_valid(a->currency))
        bad = "currency is not an ISO 4217 alpha-3 code";
    else if (a->maturity_ms == 0)
        bad = "maturity_ms must be positive";
    if (bad == NULL)
        return OK;
    snprintf(why, why_len, "financing %s: %s", a->financing_id, bad);
    return INVALID_DOCUMENT;
}

static Hansa__ResultCode check_repayment(const Hansa__RecordRepayment *a, char *why, size_t why_len)
{
    Hansa__ResultCode code = check_financing_ref(a ? a->financing : NULL, why, why_len);
    if (code == OK && (a->amount_minor <= 0 || !ledger_amount_valid(a->amount_minor))) {
        snprintf(why, why_len, "repayment of %s/%s: amount_minor must be 1..10^15",
                 a->financing->merchant, a->financing->financing_id);
        code = INVALID_DOCUMENT;
    }
    return code;
}

Hansa__ResultCode ledger_financing_check(const Hansa__TxBody *b, const Hansa__Parameters *p,
                                         char *why, size_t why_len)
{
    HANSA_ASSERT(b != NULL && p != NULL);
    switch (b->action_case) {
    case HANSA__TX_BODY__ACTION_REQUEST_FINANCING:
        return check_request(b->request_financing, p, why, why_len);
    case HANSA__TX_BODY__ACTION_APPROVE_FINANCING:
        return check_financing_ref(b->approve_financing ? b->approve_financing->financing : NULL,
                                   why, why_len);
    case HANSA__TX_BODY__ACTION_REJECT_FINANCING:
        return check_financing_ref(b->reject_financing ? b->reject_financing->financing : NULL, why,
                                   why_len);
    case HANSA__TX_BODY__ACTION_DISBURSE_FINANCING:
        return check_financing_ref(b->disburse_financing ? b->disburse_financing->financing : NULL,
                                   why, why_len);
    case HANSA__TX_BODY__ACTION_RECORD_REPAYMENT:
        return check_repayment(b->record_repayment, why, why_len);
    case HANSA__TX_BODY__ACTION_DECLARE_DEFAULT:
        return check_financing_ref(b->declare_default ? b->declare_default->financing : NULL, why,
                                   why_len);
    default:
        snprintf(why, why_len, "not a financing action");
        return MALFORMED;
    }
}

/* ---- records, history and pledges ---- */

/* Totals "ever disbursed / repaid" are statistics, never rule inputs; they
 * saturate rather than overflow after ~9,000 full-limit cycles. */
static int64_t total_add(int64_t total_minor, int64_t amount_minor)
{
    HANSA_ASSERT(total_minor >= 0 && amount_minor >= 0);
    return total_minor > INT64_MAX - amount_minor ? INT64_MAX : total_minor + amount_minor;
}

/* ACTIVE and not past its expiry at this block's time. */
static bool line_usable(const struct ledger_exec *ex, const Hansa__CreditLine *line)
{
    return line->status == HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_ACTIVE &&
           ex->time_ms <= line->expiry_ms;
}

/* Write fin (and line, when line_changed) with their history entries and
 * the event of this change; see invariant 4. */
static void financing_changed(struct ledger_exec *ex, Hansa__Financing *fin,
                              Hansa__CreditLine *line, bool line_changed,
                              Hansa__CreditEventType type, int64_t amount_minor)
{
    char key[LEDGER_KEY_BYTES_MAX];
    fin->updated_height = ex->height;
    ledger_put(ex, key, ledger_key_financing(key, fin->merchant, fin->financing_id), &fin->base);
    if (line_changed) {
        line->updated_height = ex->height;
        ledger_put(ex, key, ledger_key_line(key, line->bank, line->line_id), &line->base);
    }

    Hansa__FinancingRef ref = HANSA__FINANCING_REF__INIT;
    ref.merchant = fin->merchant;
    ref.financing_id = fin->financing_id;
    Hansa__CreditEvent ev = HANSA__CREDIT_EVENT__INIT;
    ev.type = type;
    ev.line = fin->line;
    ev.borrower = fin->merchant;
    ev.financing = &ref;
    ev.amount_minor = amount_minor;
    ev.currency = fin->currency;
    ev.line_outstanding_minor = line->outstanding_minor;
    ev.line_approved_undisbursed_minor = line->approved_undisbursed_minor;
    ev.principal_outstanding_minor = fin->principal_outstanding_minor;

    Hansa__Record rec = HANSA__RECORD__INIT;
    rec.kind_case = HANSA__RECORD__KIND_FINANCING;
    rec.financing = fin;
    ledger_history(ex, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, fin->merchant, fin->financing_id,
                   &rec, &ev);
    if (line_changed && ex->fatal == HANSA_OK) {
        /* The same, already stamped event: one ordinal for both histories. */
        Hansa__Record lrec = HANSA__RECORD__INIT;
        lrec.kind_case = HANSA__RECORD__KIND_CREDIT_LINE;
        lrec.credit_line = line;
        ledger_history(ex, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, line->bank, line->line_id,
                       &lrec, &ev);
    }
}

/* Set (by != NULL) or clear an order's pledge, with its history entry. */
static void order_pledge(struct ledger_exec *ex, const Hansa__Order *order, Hansa__FinancingRef *by)
{
    Hansa__Order next = *order; /* shallow: the loaded copy keeps its own pointers */
    next.pledged_by = by;
    next.updated_height = ex->height;
    ledger_order_write(ex, &next);
}

/* Release the orders pledged to fin (SETTLED or REJECTED). */
static void release_pledges(struct ledger_exec *ex, const Hansa__Financing *fin)
{
    for (size_t i = 0; i < fin->n_pledged_orders; i++) {
        const Hansa__OrderRef *r = fin->pledged_orders[i];
        const Hansa__Order *o = ledger_load_order(ex, r->merchant, r->order_no);
        if (o == NULL || o->pledged_by == NULL ||
            strcmp(o->pledged_by->merchant, fin->merchant) != 0 ||
            strcmp(o->pledged_by->financing_id, fin->financing_id) != 0)
            continue; /* not pledged to fin (invariant 1 says this cannot happen) */
        order_pledge(ex, o, NULL);
    }
}

static void overdue_timer(struct ledger_exec *ex, const Hansa__Financing *fin, bool set)
{
    char fkey[LEDGER_KEY_BYTES_MAX], key[LEDGER_KEY_BYTES_MAX];
    ledger_key_financing(fkey, fin->merchant, fin->financing_id);
    size_t n = ledger_key_due(key, fin->maturity_ms, TIMER_KIND_OVERDUE, fkey);
    if (set)
        ledger_put_raw(ex, key, n, (const uint8_t *)"", 0);
    else
        ledger_delete(ex, key, n);
}

/* ---- the checks of a request, repeated at approval ---- */

struct draw {
    const char *financing_id;
    const char *merchant;
    Hansa__OrderRef *const *orders;
    size_t n_orders;
    const char *currency;
    int64_t amount_minor;
};

/* The line exists, the merchant is its borrower, it is usable. */
static Hansa__ResultCode check_line(struct ledger_exec *ex, const Hansa__LineRef *ref,
                                    const struct draw *d, Hansa__CreditLine **out)
{
    Hansa__CreditLine *line = ledger_load_line(ex, ref->bank, ref->line_id);
    *out = line;
    if (line == NULL) {
        ledger_why(ex, "line %s/%s does not exist", ref->bank, ref->line_id);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    if (strcmp(line->borrower, d->merchant) != 0) {
        ledger_why(ex, "line %s/%s is lent to %s, not to %s", ref->bank, ref->line_id,
                   line->borrower, d->merchant);
        return HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED;
    }
    if (line->status != HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_ACTIVE) {
        ledger_why(ex, "line %s/%s is not ACTIVE", ref->bank, ref->line_id);
        return HANSA__RESULT_CODE__RESULT_LINE_INACTIVE;
    }
    if (!line_usable(ex, line)) {
        ledger_why(ex, "line %s/%s expired at %llu (block time %llu)", ref->bank, ref->line_id,
                   (unsigned long long)line->expiry_ms, (unsigned long long)ex->time_ms);
        return HANSA__RESULT_CODE__RESULT_LINE_INACTIVE;
    }
    return OK;
}

/* Each order exists, is MATCHED, is not CANCELLED or RETURNED, is not
 * pledged, and is in the line's currency; one pass per check. */
static Hansa__ResultCode check_orders(struct ledger_exec *ex, const struct draw *d,
                                      const Hansa__CreditLine *line, Hansa__Order **orders)
{
    for (size_t i = 0; i < d->n_orders; i++) {
        const Hansa__OrderRef *r = d->orders[i];
        orders[i] = ledger_load_order(ex, r->merchant, r->order_no);
        if (orders[i] == NULL) {
            ledger_why(ex, "order %s/%s does not exist", r->merchant, r->order_no);
            return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
        }
        HANSA_ASSERT(orders[i]->document != NULL);
    }
    for (size_t i = 0; i < d->n_orders; i++)
        if (orders[i]->match == NULL ||
            orders[i]->match->status != HANSA__MATCH_STATUS__MATCH_STATUS_MATCHED) {
            ledger_why(ex, "order %s/%s is not MATCHED", d->orders[i]->merchant,
                       d->orders[i]->order_no);
            return HANSA__RESULT_CODE__RESULT_NOT_MATCHED;
        }
    for (size_t i = 0; i < d->n_orders; i++)
        if (orders[i]->status == HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED ||
            orders[i]->status == HANSA__ORDER_STATUS__ORDER_STATUS_RETURNED) {
            ledger_why(ex, "order %s/%s is cancelled or returned", d->orders[i]->merchant,
                       d->orders[i]->order_no);
            return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
        }
    for (size_t i = 0; i < d->n_orders; i++)
        if (orders[i]->pledged_by != NULL) {
            ledger_why(ex, "order %s/%s is already pledged to financing %s/%s",
                       d->orders[i]->merchant, d->orders[i]->order_no,
                       orders[i]->pledged_by->merchant, orders[i]->pledged_by->financing_id);
            return HANSA__RESULT_CODE__RESULT_ASSET_ALREADY_PLEDGED;
        }
    if (strcmp(d->currency, line->currency) != 0) {
        ledger_why(ex, "financing %s is in %s but line %s/%s is in %s", d->financing_id,
                   d->currency, line->bank, line->line_id, line->currency);
        return INVALID_DOCUMENT;
    }
    for (size_t i = 0; i < d->n_orders; i++)
        if (strcmp(orders[i]->document->currency, line->currency) != 0) {
            ledger_why(ex, "order %s/%s is in %s but line %s/%s is in %s", d->orders[i]->merchant,
                       d->orders[i]->order_no, orders[i]->document->currency, line->bank,
                       line->line_id, line->currency);
            return INVALID_DOCUMENT;
        }
    return OK;
}

/* available = limit − outstanding − approved-not-disbursed, never below 0. */
static int64_t line_available(const Hansa__CreditLine *line)
{
    __int128 v =
        (__int128)line->limit_minor - line->outstanding_minor - line->approved_undisbursed_minor;
    return v < 0 ? 0 : (int64_t)v;
}

/* amount ≤ available, and amount × 10,000 ≤ advance rate × Σ actual_paid. */
static Hansa__ResultCode check_amounts(struct ledger_exec *ex, const struct draw *d,
                                       const Hansa__CreditLine *line, Hansa__Order *const *orders)
{
    int64_t available = line_available(line);
    if (d->amount_minor > available) {
        ledger_why(ex, "financing %s asks %lld but line %s/%s has %lld available", d->financing_id,
                   (long long)d->amount_minor, line->bank, line->line_id, (long long)available);
        return HANSA__RESULT_CODE__RESULT_LIMIT_EXCEEDED;
    }
    __int128 paid = 0;
    for (size_t i = 0; i < d->n_orders; i++)
        paid += orders[i]->document->actual_paid_minor;
    if ((__int128)d->amount_minor * 10000 > (__int128)line->advance_rate_bps * paid) {
        ledger_why(ex, "financing %s asks %lld, above %u bps of the orders' %lld actual paid",
                   d->financing_id, (long long)d->amount_minor, line->advance_rate_bps,
                   (long long)paid);
        return HANSA__RESULT_CODE__RESULT_ADVANCE_EXCEEDED;
    }
    return OK;
}

static Hansa__ResultCode check_draw(struct ledger_exec *ex, const Hansa__LineRef *ref,
                                    const struct draw *d, Hansa__CreditLine **line,
                                    Hansa__Order **orders)
{
    HANSA_ASSERT(d->n_orders >= 1 && d->n_orders <= HANSA_FINANCING_ORDERS_MAX);
    Hansa__ResultCode code = check_line(ex, ref, d, line);
    if (code == OK)
        code = check_orders(ex, d, *line, orders);
    if (code == OK)
        code = check_amounts(ex, d, *line, orders);
    return code;
}

/* ---- transactions ---- */

Hansa__ResultCode ledger_financing_request(struct ledger_exec *ex, const Hansa__RequestFinancing *a)
{
    HANSA_ASSERT(ex->tx != NULL);
    if (ledger_load_financing(ex, ex->signer, a->financing_id) != NULL) {
        ledger_why(ex, "merchant %s already has a financing %s", ex->signer, a->financing_id);
        return HANSA__RESULT_CODE__RESULT_DUPLICATE_ID;
    }
    for (size_t i = 0; i < a->n_orders; i++)
        if (strcmp(a->orders[i]->merchant, ex->signer) != 0) {
            ledger_why(ex, "order %s/%s belongs to %s, not to %s", a->orders[i]->merchant,
                       a->orders[i]->order_no, a->orders[i]->merchant, ex->signer);
            return HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED;
        }
    struct draw d = {a->financing_id, ex->signer,  a->orders,
                     a->n_orders,     a->currency, a->amount_minor};
    Hansa__CreditLine *line = NULL;
    Hansa__Order *orders[HANSA_FINANCING_ORDERS_MAX];
    Hansa__ResultCode code = check_draw(ex, a->line, &d, &line, orders);
    if (code != OK)
        return code;

    Hansa__Financing fin = HANSA__FINANCING__INIT;
    fin.merchant = (char *)(uintptr_t)ex->signer;
    fin.financing_id = a->financing_id;
    fin.line = a->line;
    fin.n_orders = a->n_orders;
    fin.orders = a->orders;
    fin.amount_minor = a->amount_minor;
    fin.currency = line->currency;
    fin.maturity_ms = a->maturity_ms;
    fin.status = FS(REQUESTED);
    fin.requested_tx_id.data = (uint8_t *)(uintptr_t)ex->tx->id;
    fin.requested_tx_id.len = WIRE_HASH_BYTES;
    fin.requested_height = ex->height;
    fin.requested_ms = ex->time_ms;
    financing_changed(ex, &fin, line, false, EV(REQUESTED), fin.amount_minor);

    char key[LEDGER_KEY_BYTES_MAX];
    ledger_key_financing(key, fin.merchant, fin.financing_id);
    ledger_index(ex, fin.merchant, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, key);
    ledger_index(ex, line->bank, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, key);
    return OK;
}

/* The financing named by ref, acted on by its line's bank: unknown is
 * NOT_FOUND, another bank NOT_AUTHORIZED (before its state is looked at). */
static Hansa__ResultCode bank_financing(struct ledger_exec *ex, const Hansa__FinancingRef *ref,
                                        Hansa__Financing **out)
{
    *out = ledger_load_financing(ex, ref->merchant, ref->financing_id);
    if (*out == NULL) {
        ledger_why(ex, "financing %s/%s does not exist", ref->merchant, ref->financing_id);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    HANSA_ASSERT((*out)->line != NULL);
    if (strcmp((*out)->line->bank, ex->signer) != 0) {
        ledger_why(ex, "financing %s/%s is on a line of %s, not of %s", ref->merchant,
                   ref->financing_id, (*out)->line->bank, ex->signer);
        return HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED;
    }
    return OK;
}

static const char *status_name(Hansa__FinancingStatus s)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&hansa__financing_status__descriptor, (int)s);
    return v ? v->name + strlen("FINANCING_STATUS_") : "UNSPECIFIED";
}

static Hansa__ResultCode wrong_state(struct ledger_exec *ex, const Hansa__Financing *fin,
                                     const char *action)
{
    ledger_why(ex, "financing %s/%s is %s; it cannot be %s", fin->merchant, fin->financing_id,
               status_name(fin->status), action);
    return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
}

/* The line of an existing financing (lines are never deleted). */
static Hansa__CreditLine *financing_line(struct ledger_exec *ex, const Hansa__Financing *fin)
{
    Hansa__CreditLine *line = ledger_load_line(ex, fin->line->bank, fin->line->line_id);
    if (line == NULL)
        ledger_why(ex, "line %s/%s of financing %s/%s does not exist", fin->line->bank,
                   fin->line->line_id, fin->merchant, fin->financing_id);
    return line;
}

Hansa__ResultCode ledger_financing_approve(struct ledger_exec *ex, const Hansa__ApproveFinancing *a)
{
    Hansa__Financing *fin;
    Hansa__ResultCode code = bank_financing(ex, a->financing, &fin);
    if (code != OK)
        return code;
    if (fin->status != FS(REQUESTED))
        return wrong_state(ex, fin, "approved");
    struct draw d = {fin->financing_id, fin->merchant, fin->orders,
                     fin->n_orders,     fin->currency, fin->amount_minor};
    Hansa__CreditLine *line = NULL;
    Hansa__Order *orders[HANSA_FINANCING_ORDERS_MAX];
    code = check_draw(ex, fin->line, &d, &line, orders);
    if (code != OK)
        return code;

    Hansa__FinancingRef by = HANSA__FINANCING_REF__INIT;
    by.merchant = fin->merchant;
    by.financing_id = fin->financing_id;
    for (size_t i = 0; i < fin->n_orders; i++)
        order_pledge(ex, orders[i], &by);
    line->approved_undisbursed_minor += fin->amount_minor;
    Hansa__Financing next = *fin; /* shallow: fin keeps its own pointers */
    next.status = FS(APPROVED);
    next.approved_ms = ex->time_ms;
    next.n_pledged_orders = fin->n_orders;
    next.pledged_orders = fin->orders;
    financing_changed(ex, &next, line, true, EV(APPROVED), fin->amount_minor);
    return OK;
}

Hansa__ResultCode ledger_financing_reject(struct ledger_exec *ex, const Hansa__RejectFinancing *a)
{
    Hansa__Financing *fin;
    Hansa__ResultCode code = bank_financing(ex, a->financing, &fin);
    if (code != OK)
        return code;
    if (fin->status != FS(REQUESTED) && fin->status != FS(APPROVED))
        return wrong_state(ex, fin, "rejected");
    Hansa__CreditLine *line = financing_line(ex, fin);
    if (line == NULL)
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;

    bool was_approved = fin->status == FS(APPROVED);
    int64_t released_minor = 0;
    if (was_approved) {
        /* Withdrawing an approval releases the pledges and the reservation. */
        release_pledges(ex, fin);
        HANSA_ASSERT(line->approved_undisbursed_minor >= fin->amount_minor);
        line->approved_undisbursed_minor -= fin->amount_minor;
        released_minor = fin->amount_minor;
    }
    Hansa__Financing next = *fin;
    next.status = FS(REJECTED);
    next.rejected_ms = ex->time_ms;
    next.n_pledged_orders = 0;
    next.pledged_orders = NULL;
    financing_changed(ex, &next, line, was_approved, EV(REJECTED), released_minor);
    return OK;
}

Hansa__ResultCode ledger_financing_disburse(struct ledger_exec *ex,
                                            const Hansa__DisburseFinancing *a)
{
    Hansa__Financing *fin;
    Hansa__ResultCode code = bank_financing(ex, a->financing, &fin);
    if (code != OK)
        return code;
    if (fin->status != FS(APPROVED))
        return wrong_state(ex, fin, "disbursed");
    Hansa__CreditLine *line = financing_line(ex, fin);
    if (line == NULL)
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    if (!line_usable(ex, line)) {
        ledger_why(ex,
                   "line %s/%s is not ACTIVE or has expired; financing %s/%s cannot be "
                   "disbursed",
                   line->bank, line->line_id, fin->merchant, fin->financing_id);
        return HANSA__RESULT_CODE__RESULT_LINE_INACTIVE;
    }

    HANSA_ASSERT(line->approved_undisbursed_minor >= fin->amount_minor);
    line->approved_undisbursed_minor -= fin->amount_minor;
    line->outstanding_minor += fin->amount_minor;
    line->disbursed_total_minor = total_add(line->disbursed_total_minor, fin->amount_minor);
    fin->status = FS(DISBURSED);
    fin->disbursed_ms = ex->time_ms;
    fin->principal_outstanding_minor = fin->amount_minor;
    HANSA_ASSERT(fin->principal_outstanding_minor > 0);
    overdue_timer(ex, fin, true);
    financing_changed(ex, fin, line, true, EV(DISBURSED), fin->amount_minor);
    return OK;
}

Hansa__ResultCode ledger_financing_repay(struct ledger_exec *ex, const Hansa__RecordRepayment *a)
{
    Hansa__Financing *fin;
    Hansa__ResultCode code = bank_financing(ex, a->financing, &fin);
    if (code != OK)
        return code;
    Hansa__FinancingStatus was = fin->status;
    if (was != FS(DISBURSED) && was != FS(OVERDUE) && was != FS(DEFAULTED))
        return wrong_state(ex, fin, "repaid");
    if (a->amount_minor > fin->principal_outstanding_minor) {
        ledger_why(ex, "repayment of %lld exceeds the %lld principal outstanding of %s/%s",
                   (long long)a->amount_minor, (long long)fin->principal_outstanding_minor,
                   fin->merchant, fin->financing_id);
        return HANSA__RESULT_CODE__RESULT_OVERPAYMENT;
    }
    Hansa__CreditLine *line = financing_line(ex, fin);
    if (line == NULL)
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;

    HANSA_ASSERT(line->outstanding_minor >= a->amount_minor);
    line->outstanding_minor -= a->amount_minor;
    line->repaid_total_minor = total_add(line->repaid_total_minor, a->amount_minor);
    Hansa__Financing next = *fin;
    next.principal_outstanding_minor -= a->amount_minor;
    next.repaid_total_minor += a->amount_minor;
    Hansa__CreditEventType type = EV(REPAID);
    if (next.principal_outstanding_minor == 0 && was != FS(DEFAULTED)) {
        /* DEFAULTED stays DEFAULTED and keeps its pledges (recoveries). */
        type = EV(SETTLED);
        next.status = FS(SETTLED);
        next.settled_ms = ex->time_ms;
        release_pledges(ex, fin);
        next.n_pledged_orders = 0;
        next.pledged_orders = NULL;
        if (was == FS(DISBURSED))
            overdue_timer(ex, fin, false);
    }
    financing_changed(ex, &next, line, true, type, a->amount_minor);
    return OK;
}

Hansa__ResultCode ledger_financing_default(struct ledger_exec *ex, const Hansa__DeclareDefault *a)
{
    Hansa__Financing *fin;
    Hansa__ResultCode code = bank_financing(ex, a->financing, &fin);
    if (code != OK)
        return code;
    if (fin->status != FS(OVERDUE))
        return wrong_state(ex, fin, "declared in default");
    Hansa__CreditLine *line = financing_line(ex, fin);
    if (line == NULL)
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    fin->status = FS(DEFAULTED);
    fin->defaulted_ms = ex->time_ms;
    financing_changed(ex, fin, line, false, EV(DEFAULTED), fin->principal_outstanding_minor);
    return OK;
}

/* ---- block start: DISBURSED past maturity -> OVERDUE ---- */

struct due_scan {
    uint64_t now_ms;
    char **keys; /* overdue timers due before now, in key (= time) order */
    size_t n, cap;
    bool failed;
};

static bool hex_u64(const uint8_t *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return true;
}

/* Timer keys are "due/<16 hex>/<kind>/<subject>", sorted by time. */
static bool due_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                      size_t val_len)
{
    struct due_scan *s = arg;
    uint64_t due_ms;
    if (key_len < DUE_KIND_AT || key[DUE_KIND_AT - 1] != '/' ||
        !hex_u64(key + DUE_TIME_AT, 16, &due_ms))
        return true; /* not a timer key: nothing of ours */
    if (due_ms >= s->now_ms)
        return false; /* sorted: nothing later is due */
    if (key_len <= DUE_SUBJECT_AT ||
        memcmp(key + DUE_KIND_AT, TIMER_KIND_OVERDUE "/", DUE_SUBJECT_AT - DUE_KIND_AT) != 0)
        return true; /* another module's timer */
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **k = realloc(s->keys, cap * sizeof *k);
        if (k == NULL) {
            s->failed = true;
            return false;
        }
        s->keys = k;
        s->cap = cap;
    }
    char *copy = malloc(key_len + 1);
    if (copy == NULL) {
        s->failed = true;
        return false;
    }
    memcpy(copy, key, key_len);
    copy[key_len] = '\0';
    s->keys[s->n++] = copy;
    return true;
}

/* Handle one due timer: its financing becomes OVERDUE if still DISBURSED. */
static void fire_overdue(struct ledger_exec *ex, const char *timer_key)
{
    const char *subject = timer_key + DUE_SUBJECT_AT;
    ledger_delete(ex, timer_key, strlen(timer_key));
    Hansa__Financing *fin =
        ledger_load(ex, &hansa__financing__descriptor, subject, strlen(subject));
    if (fin == NULL || fin->status != FS(DISBURSED) || fin->principal_outstanding_minor <= 0 ||
        fin->maturity_ms >= ex->time_ms)
        return; /* invariant 3 says the timer would have gone */
    Hansa__CreditLine *line = financing_line(ex, fin);
    if (line == NULL)
        return;
    fin->status = FS(OVERDUE);
    fin->overdue_ms = ex->time_ms;
    financing_changed(ex, fin, line, false, EV(OVERDUE), fin->principal_outstanding_minor);
}

void ledger_financing_begin_block(struct ledger_exec *ex)
{
    HANSA_ASSERT(ex->tx == NULL);
    ex->tx_index = UINT32_MAX; /* HistoryEntry: changes made by the block itself */
    struct due_scan s = {.now_ms = ex->time_ms};
    ledger_scan(ex, LEDGER_DUE_PREFIX, due_visit, &s);
    if (s.failed && ex->fatal == HANSA_OK)
        ex->fatal = HANSA_ENOMEM;
    for (size_t i = 0; i < s.n && ex->fatal == HANSA_OK; i++)
        fire_overdue(ex, s.keys[i]);
    for (size_t i = 0; i < s.n; i++)
        free(s.keys[i]);
    free(s.keys);
}
