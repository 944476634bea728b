/*
 * Credit lines (DOMAIN.md "Trade credit"): a bank opens a line to one
 * merchant, changes its limit, suspends, resumes and closes it. The
 * financing drawn on a line lives in financing.c, which keeps the line's
 * counters.
 *
 *            open                suspend
 *     (none) ─────▶ ACTIVE ◀──────────────▶ SUSPENDED
 *                     │         resume          │
 *                     └──── close ──▶ CLOSED ◀──┘   (nothing outstanding or approved)
 *
 * Invariants:
 *   1. A line is acted on only by its bank: the LineRef names the bank, so
 *      another bank's line is NOT_AUTHORIZED before the line is even read
 *      (ownership before state, DOMAIN "Precise points").
 *   2. CLOSED is final; a line is closed only with outstanding_minor == 0
 *      and approved_undisbursed_minor == 0.
 *   3. Expiry never changes the status: a line whose expiry_ms lies before
 *      block time acts as inactive for financing (financing.c) but may still
 *      be suspended, resumed, re-limited or closed.
 *   4. The limit may be set below what is outstanding; "available" is then
 *      0 (financing.c computes it, never below zero).
 *   5. Every change writes the whole record and one history entry carrying
 *      its CreditEvent (OPENED, LIMIT_CHANGED, SUSPENDED, RESUMED, CLOSED).
 */
#include <stdio.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"

#define OK               HANSA__RESULT_CODE__RESULT_OK
#define INVALID_DOCUMENT HANSA__RESULT_CODE__RESULT_INVALID_DOCUMENT
#define MALFORMED        HANSA__RESULT_CODE__RESULT_MALFORMED

/* ---- stateless document checks ---- */

static Hansa__ResultCode check_line_ref(const Hansa__LineRef *ref, char *why, size_t why_len)
{
    if (ref == NULL) {
        snprintf(why, why_len, "the credit line reference is missing");
        return MALFORMED;
    }
    if (!wire_id_valid(ref->bank) || !wire_id_valid(ref->line_id)) {
        snprintf(why, why_len, "the credit line reference has an invalid bank or line id");
        return INVALID_DOCUMENT;
    }
    return OK;
}

static Hansa__ResultCode check_open(const Hansa__OpenCreditLine *a, char *why, size_t why_len)
{
    if (a == NULL) {
        snprintf(why, why_len, "open_credit_line is missing");
        return MALFORMED;
    }
    const char *bad = NULL;
    if (!wire_id_valid(a->line_id))
        bad = "line_id is not a valid id";
    else if (!wire_id_valid(a->borrower))
        bad = "borrower is not a valid party id";
    else if (!ledger_currency_valid(a->currency))
        bad = "currency is not an ISO 4217 alpha-3 code";
    else if (!ledger_amount_valid(a->limit_minor))
        bad = "limit_minor must be 0..10^15";
    else if (a->advance_rate_bps > 10000)
        bad = "advance_rate_bps must be 1..10000 (0 for the default)";
    else if (a->expiry_ms == 0)
        bad = "expiry_ms must be positive";
    if (bad == NULL)
        return OK;
    snprintf(why, why_len, "line %s: %s", a->line_id, bad);
    return INVALID_DOCUMENT;
}

Hansa__ResultCode ledger_credit_check(const Hansa__TxBody *b, const Hansa__Parameters *p, char *why,
                                      size_t why_len)
{
    HANSA_ASSERT(b != NULL && p != NULL);
    switch (b->action_case) {
    case HANSA__TX_BODY__ACTION_OPEN_CREDIT_LINE:
        return check_open(b->open_credit_line, why, why_len);
    case HANSA__TX_BODY__ACTION_CHANGE_CREDIT_LIMIT: {
        const Hansa__ChangeCreditLimit *a = b->change_credit_limit;
        Hansa__ResultCode code = check_line_ref(a ? a->line : NULL, why, why_len);
        if (code == OK && !ledger_amount_valid(a->limit_minor)) {
            snprintf(why, why_len, "line %s: limit_minor must be 0..10^15", a->line->line_id);
            code = INVALID_DOCUMENT;
        }
        return code;
    }
    case HANSA__TX_BODY__ACTION_SUSPEND_CREDIT_LINE:
        return check_line_ref(b->suspend_credit_line ? b->suspend_credit_line->line : NULL, why,
                              why_len);
    case HANSA__TX_BODY__ACTION_RESUME_CREDIT_LINE:
        return check_line_ref(b->resume_credit_line ? b->resume_credit_line->line : NULL, why,
                              why_len);
    case HANSA__TX_BODY__ACTION_CLOSE_CREDIT_LINE:
        return check_line_ref(b->close_credit_line ? b->close_credit_line->line : NULL, why,
                              why_len);
    default:
        snprintf(why, why_len, "not a credit line action");
        return MALFORMED;
    }
}

/* ---- execution ---- */

/* Write the line and its history entry with a line event of type. */
static void line_changed(struct ledger_exec *ex, Hansa__CreditLine *line,
                         Hansa__CreditEventType type, int64_t amount_minor)
{
    line->updated_height = ex->height;
    char key[LEDGER_KEY_BYTES_MAX];
    size_t n = ledger_key_line(key, line->bank, line->line_id);
    ledger_put(ex, key, n, &line->base);

    Hansa__LineRef ref = HANSA__LINE_REF__INIT;
    ref.bank = line->bank;
    ref.line_id = line->line_id;
    Hansa__CreditEvent ev = HANSA__CREDIT_EVENT__INIT;
    ev.type = type;
    ev.line = &ref;
    ev.borrower = line->borrower;
    ev.amount_minor = amount_minor;
    ev.currency = line->currency;
    ev.line_outstanding_minor = line->outstanding_minor;
    ev.line_approved_undisbursed_minor = line->approved_undisbursed_minor;
    Hansa__Record rec = HANSA__RECORD__INIT;
    rec.kind_case = HANSA__RECORD__KIND_CREDIT_LINE;
    rec.credit_line = line;
    ledger_history(ex, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, line->bank, line->line_id, &rec,
                   &ev);
}

/* The signer's line named by ref: another bank's is NOT_AUTHORIZED (before
 * anything is read), an unknown one NOT_FOUND. */
static Hansa__ResultCode own_line(struct ledger_exec *ex, const Hansa__LineRef *ref,
                                  Hansa__CreditLine **out)
{
    *out = NULL;
    if (strcmp(ref->bank, ex->signer) != 0) {
        ledger_why(ex, "line %s/%s belongs to bank %s, not to %s", ref->bank, ref->line_id,
                   ref->bank, ex->signer);
        return HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED;
    }
    *out = ledger_load_line(ex, ref->bank, ref->line_id);
    if (*out == NULL) {
        ledger_why(ex, "line %s/%s does not exist", ref->bank, ref->line_id);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    return OK;
}

static const char *line_status_name(Hansa__CreditLineStatus s)
{
    switch (s) {
    case HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_ACTIVE:
        return "ACTIVE";
    case HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_SUSPENDED:
        return "SUSPENDED";
    case HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_CLOSED:
        return "CLOSED";
    default:
        return "UNSPECIFIED";
    }
}

Hansa__ResultCode ledger_credit_open(struct ledger_exec *ex, const Hansa__OpenCreditLine *a)
{
    HANSA_ASSERT(ex->tx != NULL);
    if (ledger_load_line(ex, ex->signer, a->line_id) != NULL) {
        ledger_why(ex, "bank %s already has a line %s", ex->signer, a->line_id);
        return HANSA__RESULT_CODE__RESULT_DUPLICATE_ID;
    }
    if (!ledger_party_active_with_role(ex, a->borrower, HANSA__ROLE__ROLE_MERCHANT)) {
        ledger_why(ex, "borrower %s is not a registered merchant", a->borrower);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }

    Hansa__CreditLine line = HANSA__CREDIT_LINE__INIT;
    line.bank = (char *)(uintptr_t)ex->signer;
    line.line_id = a->line_id;
    line.borrower = a->borrower;
    line.currency = a->currency;
    line.limit_minor = a->limit_minor;
    line.advance_rate_bps =
        a->advance_rate_bps != 0 ? a->advance_rate_bps : ex->params->default_advance_rate_bps;
    line.expiry_ms = a->expiry_ms;
    line.status = HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_ACTIVE;
    line.opened_tx_id.data = (uint8_t *)(uintptr_t)ex->tx->id;
    line.opened_tx_id.len = WIRE_HASH_BYTES;
    line.opened_height = ex->height;
    line.opened_ms = ex->time_ms;
    HANSA_ASSERT(line.advance_rate_bps >= 1 && line.advance_rate_bps <= 10000);

    line_changed(ex, &line, HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_OPENED, line.limit_minor);
    char key[LEDGER_KEY_BYTES_MAX];
    ledger_key_line(key, line.bank, line.line_id);
    ledger_index(ex, line.bank, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, key);
    ledger_index(ex, line.borrower, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, key);
    return OK;
}

Hansa__ResultCode ledger_credit_change_limit(struct ledger_exec *ex,
                                             const Hansa__ChangeCreditLimit *a)
{
    Hansa__CreditLine *line;
    Hansa__ResultCode code = own_line(ex, a->line, &line);
    if (code != OK)
        return code;
    if (line->status == HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_CLOSED) {
        ledger_why(ex, "line %s/%s is CLOSED; its limit cannot change", line->bank, line->line_id);
        return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
    }
    line->limit_minor = a->limit_minor;
    line_changed(ex, line, HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_LIMIT_CHANGED,
                 a->limit_minor);
    return OK;
}

/* ACTIVE ⇄ SUSPENDED: from must be the current status. */
static Hansa__ResultCode move_line(struct ledger_exec *ex, const Hansa__LineRef *ref,
                                   Hansa__CreditLineStatus from, Hansa__CreditLineStatus to,
                                   Hansa__CreditEventType type)
{
    Hansa__CreditLine *line;
    Hansa__ResultCode code = own_line(ex, ref, &line);
    if (code != OK)
        return code;
    if (line->status != from) {
        ledger_why(ex, "line %s/%s is %s, not %s", line->bank, line->line_id,
                   line_status_name(line->status), line_status_name(from));
        return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
    }
    line->status = to;
    line_changed(ex, line, type, 0);
    return OK;
}

Hansa__ResultCode ledger_credit_suspend(struct ledger_exec *ex, const Hansa__SuspendCreditLine *a)
{
    return move_line(ex, a->line, HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_ACTIVE,
                     HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_SUSPENDED,
                     HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_SUSPENDED);
}

Hansa__ResultCode ledger_credit_resume(struct ledger_exec *ex, const Hansa__ResumeCreditLine *a)
{
    return move_line(ex, a->line, HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_SUSPENDED,
                     HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_ACTIVE,
                     HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_RESUMED);
}

Hansa__ResultCode ledger_credit_close(struct ledger_exec *ex, const Hansa__CloseCreditLine *a)
{
    Hansa__CreditLine *line;
    Hansa__ResultCode code = own_line(ex, a->line, &line);
    if (code != OK)
        return code;
    if (line->status == HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_CLOSED) {
        ledger_why(ex, "line %s/%s is already CLOSED", line->bank, line->line_id);
        return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
    }
    if (line->outstanding_minor != 0 || line->approved_undisbursed_minor != 0) {
        ledger_why(ex, "line %s/%s still has %lld outstanding and %lld approved, not disbursed",
                   line->bank, line->line_id, (long long)line->outstanding_minor,
                   (long long)line->approved_undisbursed_minor);
        return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
    }
    line->status = HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_CLOSED;
    line_changed(ex, line, HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_CLOSED, 0);
    return OK;
}
