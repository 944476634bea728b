/*
 * Three-document matching (三单对碰), DOMAIN.md "Three-document matching":
 * the order (CEB311), its payment (CEB411) and its waybill (CEB511) must
 * agree before financing may reference the order. This is a consensus rule.
 *
 *   PENDING --last of payment / waybill arrives--> MATCHED
 *                                             \--> MISMATCHED {reasons}
 *
 * payment.c and waybill.c call ledger_match_update() whenever they attach a
 * leg to an order, so the result is computed in the block where the last leg
 * arrives, whichever it is. The reasons, each checked independently:
 *
 *   AMOUNT           |amount_paid - actual_paid| > match_amount_tolerance_minor
 *   CURRENCY         payment currency != order currency
 *   PAYER            payer commitment != buyer commitment
 *   CONSIGNEE        any of the waybill's three consignee commitments differs
 *   PER_ORDER_LIMIT  RETAIL_IMPORT: actual_paid > per-order limit
 *   ANNUAL_LIMIT     RETAIL_IMPORT: the buyer's matched total of the calendar
 *                    year of block time (at annual_limit_utc_offset_minutes),
 *                    this order included, > annual limit
 *
 * Invariants:
 *   1. A result other than PENDING is computed once and never changes:
 *      payments and waybills are immutable and one per order.
 *   2. MISMATCHED carries every reason that applies, each once, ascending
 *      (they are tested in enum order); MATCHED carries none.
 *   3. annual/<buyer>/<year> holds the sum of actual_paid over the buyer's
 *      MATCHED, not cancelled RETAIL_IMPORT orders decided in that year.
 *      Matching adds here; cancelling subtracts (order.c). A mismatched
 *      order never counts, so an order refused for ANNUAL_LIMIT does not
 *      use up the allowance.
 *   4. All arithmetic is exact: sums and differences of amounts in 128 bits.
 */
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"

/* MatchReason values AMOUNT..ANNUAL_LIMIT: at most one of each. */
#define MATCH_REASONS_MAX 6u

/* The new result and its reasons, owned by the transaction (deferred free),
 * not by the order record that points at it. */
struct match_store {
    Hansa__MatchResult result;
    Hansa__MatchReason reasons[MATCH_REASONS_MAX];
};

static bool commitment_eq(ProtobufCBinaryData a, ProtobufCBinaryData b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool consignee_differs(const Hansa__CreateOrder *o, const Hansa__CreateWaybill *w)
{
    return !commitment_eq(o->consignee_name_commitment, w->consignee_name_commitment) ||
           !commitment_eq(o->consignee_phone_commitment, w->consignee_phone_commitment) ||
           !commitment_eq(o->consignee_address_commitment, w->consignee_address_commitment);
}

static bool amount_differs(const Hansa__CreateOrder *o, const Hansa__RecordPayment *p,
                           int64_t tolerance_minor)
{
    __int128 diff = (__int128)p->amount_paid_minor - (__int128)o->actual_paid_minor;
    if (diff < 0)
        diff = -diff;
    return diff > (__int128)tolerance_minor;
}

/* The buyer's matched retail-import total for year, 0 when none yet. */
static int64_t annual_total(struct ledger_exec *ex, const ProtobufCBinaryData *buyer, uint32_t year)
{
    char key[LEDGER_KEY_BYTES_MAX];
    size_t n = ledger_key_annual(key, buyer->data, year);
    const Hansa__RetailImportAnnualTotal *t =
        ledger_load(ex, &hansa__retail_import_annual_total__descriptor, key, n);
    return t != NULL ? t->matched_total_minor : 0;
}

static void annual_put(struct ledger_exec *ex, const ProtobufCBinaryData *buyer, uint32_t year,
                       int64_t total_minor)
{
    char key[LEDGER_KEY_BYTES_MAX];
    size_t n = ledger_key_annual(key, buyer->data, year);
    Hansa__RetailImportAnnualTotal t = HANSA__RETAIL_IMPORT_ANNUAL_TOTAL__INIT;
    t.buyer_commitment = *buyer;
    t.year = year;
    t.matched_total_minor = total_minor;
    ledger_put(ex, key, n, &t.base);
}

/* Fill reasons[] in ascending enum order; returns how many apply. For a
 * retail-import order *year receives the calendar year counted. */
static size_t match_reasons(struct ledger_exec *ex, const Hansa__CreateOrder *o,
                            const Hansa__RecordPayment *p, const Hansa__CreateWaybill *w,
                            Hansa__MatchReason reasons[MATCH_REASONS_MAX], uint32_t *year)
{
    const Hansa__Parameters *prm = ex->params;
    size_t n = 0;
    if (amount_differs(o, p, prm->match_amount_tolerance_minor))
        reasons[n++] = HANSA__MATCH_REASON__MATCH_REASON_AMOUNT;
    if (!str_eq(p->currency, o->currency))
        reasons[n++] = HANSA__MATCH_REASON__MATCH_REASON_CURRENCY;
    if (!commitment_eq(p->payer_commitment, o->buyer_commitment))
        reasons[n++] = HANSA__MATCH_REASON__MATCH_REASON_PAYER;
    if (consignee_differs(o, w))
        reasons[n++] = HANSA__MATCH_REASON__MATCH_REASON_CONSIGNEE;
    if (o->trade_mode == HANSA__TRADE_MODE__TRADE_MODE_RETAIL_IMPORT) {
        if (o->actual_paid_minor > prm->retail_import_per_order_limit_minor)
            reasons[n++] = HANSA__MATCH_REASON__MATCH_REASON_PER_ORDER_LIMIT;
        *year = ledger_year_at_offset(ex->time_ms, prm->annual_limit_utc_offset_minutes);
        __int128 total =
            (__int128)annual_total(ex, &o->buyer_commitment, *year) + o->actual_paid_minor;
        if (total > (__int128)prm->retail_import_annual_limit_minor)
            reasons[n++] = HANSA__MATCH_REASON__MATCH_REASON_ANNUAL_LIMIT;
    }
    HANSA_ASSERT(n <= MATCH_REASONS_MAX);
    return n;
}

/*
 * order is the caller's working copy of the record about to be written (a
 * shallow copy of a loaded Order, never the loaded record itself): when the
 * result is decided, order->match is pointed at a MatchResult owned by the
 * transaction, and the previous one is left to its owner. The caller writes
 * the order afterwards, with its history entry.
 */
void ledger_match_update(struct ledger_exec *ex, Hansa__Order *order)
{
    HANSA_ASSERT(order != NULL && order->document != NULL);
    if (order->match != NULL && order->match->status != HANSA__MATCH_STATUS__MATCH_STATUS_PENDING &&
        order->match->status != HANSA__MATCH_STATUS__MATCH_STATUS_UNSPECIFIED)
        return; /* invariant 1: decided once */
    if (order->payment == NULL || order->waybill == NULL)
        return; /* PENDING until all legs exist */

    const Hansa__Payment *pay =
        ledger_load_payment(ex, order->payment->institution, order->payment->pay_transaction_id);
    const Hansa__Waybill *wb =
        ledger_load_waybill(ex, order->waybill->carrier, order->waybill->logistics_no);
    if (pay == NULL || wb == NULL || pay->document == NULL || wb->document == NULL) {
        /* The order names a leg that is not in state: corrupt state, not a
         * consensus outcome. */
        if (ex->fatal == HANSA_OK)
            ex->fatal = HANSA_EFORMAT;
        return;
    }

    struct match_store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        if (ex->fatal == HANSA_OK)
            ex->fatal = HANSA_ENOMEM;
        return;
    }
    ledger_defer_free(ex, s, free);
    if (ex->fatal != HANSA_OK)
        return;

    const Hansa__CreateOrder *o = order->document;
    uint32_t year = 0;
    size_t n = match_reasons(ex, o, pay->document, wb->document, s->reasons, &year);
    hansa__match_result__init(&s->result);
    s->result.status = n == 0 ? HANSA__MATCH_STATUS__MATCH_STATUS_MATCHED
                              : HANSA__MATCH_STATUS__MATCH_STATUS_MISMATCHED;
    s->result.n_reasons = n;
    s->result.reasons = n ? s->reasons : NULL;
    s->result.decided_height = ex->height;
    s->result.decided_ms = ex->time_ms;
    order->match = &s->result;

    if (n == 0 && o->trade_mode == HANSA__TRADE_MODE__TRADE_MODE_RETAIL_IMPORT) {
        /* Invariant 3. Not over the limit, so the sum fits an amount. */
        int64_t total = annual_total(ex, &o->buyer_commitment, year) + o->actual_paid_minor;
        HANSA_ASSERT(total <= ex->params->retail_import_annual_limit_minor);
        annual_put(ex, &o->buyer_commitment, year, total);
    }
}
