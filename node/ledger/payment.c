/*
 * Payments (CEB411), DOMAIN.md "Documents": a payment institution records
 * the payment of an order; the order gains its payment leg and, if its
 * waybill is already there, its match result (match.c).
 *
 * Checks on entry (ledger_payment_check; INVALID_DOCUMENT, MALFORMED when
 * the order reference is missing): pay_transaction_id and the order
 * reference are valid ids; the payer commitment is 32 bytes; the amount is
 * 0..10^15; the currency is an ISO 4217 code. pay_time_ms is the
 * institution's record and is not compared with block time.
 *
 * Execution, in the order of hansa.proto's RecordPayment: the order exists
 * (NOT_FOUND); pay_transaction_id is new for this institution and the order
 * has no payment yet (DUPLICATE_ID); the order is not CANCELLED
 * (INVALID_TRANSITION).
 *
 * Invariants:
 *   1. payment/<institution>/<pay_transaction_id> is written once and never
 *      changed (immutable in this milestone).
 *   2. An order has at most one payment, and Order.payment names it.
 *   3. The payment is listed for its institution, the order's merchant and
 *      the platform that created the order; the order is listed for the
 *      institution ("payments it recorded and their orders").
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"

#define OK      HANSA__RESULT_CODE__RESULT_OK
#define INVALID HANSA__RESULT_CODE__RESULT_INVALID_DOCUMENT

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

Hansa__ResultCode ledger_payment_check(const Hansa__TxBody *b, const Hansa__Parameters *p,
                                       char *why, size_t why_len)
{
    HANSA_ASSERT(b != NULL && b->action_case == HANSA__TX_BODY__ACTION_RECORD_PAYMENT);
    (void)p;
    const Hansa__RecordPayment *a = b->record_payment;
    if (a->order == NULL) {
        snprintf(why, why_len, "RecordPayment names no order");
        return HANSA__RESULT_CODE__RESULT_MALFORMED;
    }
    const char *bad = NULL;
    if (!wire_id_valid(a->pay_transaction_id))
        bad = "pay_transaction_id is not a valid id";
    else if (!wire_id_valid(a->order->merchant) || !wire_id_valid(a->order->order_no))
        bad = "the order reference is not valid";
    else if (a->payer_commitment.len != WIRE_HASH_BYTES || a->payer_commitment.data == NULL)
        bad = "the payer commitment must be 32 bytes";
    else if (!ledger_amount_valid(a->amount_paid_minor))
        bad = "amount_paid must be 0..10^15";
    else if (!ledger_currency_valid(a->currency))
        bad = "the currency is not an ISO 4217 code";
    if (bad == NULL)
        return OK;
    snprintf(why, why_len, "payment %s: %s", str(a->pay_transaction_id), bad);
    return INVALID;
}

static void payment_write(struct ledger_exec *ex, const Hansa__RecordPayment *a,
                          const Hansa__Order *o)
{
    Hansa__Payment p = HANSA__PAYMENT__INIT;
    p.document = (Hansa__RecordPayment *)(uintptr_t)a;
    p.institution = (char *)(uintptr_t)ex->signer;
    p.tx_id.data = (uint8_t *)(uintptr_t)ex->tx->id;
    p.tx_id.len = WIRE_HASH_BYTES;
    p.recorded_height = ex->height;
    p.recorded_ms = ex->time_ms;
    char key[LEDGER_KEY_BYTES_MAX];
    size_t n = ledger_key_payment(key, ex->signer, a->pay_transaction_id);
    ledger_put(ex, key, n, &p.base);
    Hansa__Record rec = HANSA__RECORD__INIT;
    rec.kind_case = HANSA__RECORD__KIND_PAYMENT;
    rec.payment = &p;
    ledger_history(ex, HANSA__ENTITY_TYPE__ENTITY_TYPE_PAYMENT, ex->signer, a->pay_transaction_id,
                   &rec, NULL);

    /* Invariant 3. */
    ledger_order_leg_index(ex, o, HANSA__ENTITY_TYPE__ENTITY_TYPE_PAYMENT, key);
}

Hansa__ResultCode ledger_payment_record(struct ledger_exec *ex, const Hansa__RecordPayment *a)
{
    const Hansa__OrderRef *r = a->order;
    const Hansa__Order *o = ledger_load_order(ex, r->merchant, r->order_no);
    if (o == NULL) {
        ledger_why(ex, "order %s/%s does not exist", r->merchant, r->order_no);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    if (ledger_load_payment(ex, ex->signer, a->pay_transaction_id) != NULL) {
        ledger_why(ex, "%s has already used pay_transaction_id %s", ex->signer,
                   a->pay_transaction_id);
        return HANSA__RESULT_CODE__RESULT_DUPLICATE_ID;
    }
    if (o->payment != NULL) {
        ledger_why(ex, "order %s/%s already has payment %s/%s", r->merchant, r->order_no,
                   str(o->payment->institution), str(o->payment->pay_transaction_id));
        return HANSA__RESULT_CODE__RESULT_DUPLICATE_ID;
    }
    if (o->status == HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED) {
        ledger_why(ex, "order %s/%s is cancelled", r->merchant, r->order_no);
        return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
    }

    payment_write(ex, a, o);
    Hansa__PaymentRef ref = HANSA__PAYMENT_REF__INIT;
    ref.institution = (char *)(uintptr_t)ex->signer;
    ref.pay_transaction_id = a->pay_transaction_id;
    Hansa__Order upd = *o;
    upd.payment = &ref;
    upd.updated_height = ex->height;
    ledger_match_update(ex, &upd);
    ledger_order_write(ex, &upd);
    return OK;
}
