/*
 * Waybills (CEB511) and shipment events, DOMAIN.md "Documents": a carrier
 * creates the waybill of an order (its third leg, see match.c) and records
 * shipment events on it, which move the order along its lifecycle:
 *
 *   event          order before         order after
 *   DEPARTED       CREATED              SHIPPED   (only the first matters)
 *   DELIVERED      CREATED or SHIPPED   DELIVERED
 *   RETURNED       CREATED or SHIPPED   RETURNED
 *   anything else  -                    unchanged
 *
 * Checks on entry (ledger_waybill_check; INVALID_DOCUMENT, MALFORMED when a
 * reference is missing). CreateWaybill: ids valid; freight and insured fee
 * 0..10^15 in an ISO 4217 currency; gross weight 1..10^12 g; 1..1,000,000
 * packages; description 1-512 bytes UTF-8; 1-200 HS codes of 6-10 digits;
 * consignee commitments 32 bytes; UN/LOCODEs. AddShipmentEvent: ids valid,
 * a known event type, a UN/LOCODE.
 *
 * Execution (hansa.proto order). CreateWaybill: the order exists
 * (NOT_FOUND); logistics_no is new for this carrier and the order has no
 * waybill yet (DUPLICATE_ID); the order is not CANCELLED
 * (INVALID_TRANSITION). AddShipmentEvent: the waybill is the signer's
 * (NOT_AUTHORIZED, before any other check); it exists (NOT_FOUND); its order
 * is not CANCELLED (INVALID_TRANSITION); plausibility (IMPLAUSIBLE_EVENT):
 * after DELIVERED or RETURNED only EXCEPTION, not before the previous event,
 * not after block time + event_future_bound_ms, at most max_waybill_events.
 *
 * Invariants:
 *   1. waybill/<carrier>/<logistics_no> is written once at creation; after
 *      that only events are appended, in the order recorded.
 *   2. Event times never decrease along a waybill, and once a DELIVERED or
 *      RETURNED event is recorded every later event is an EXCEPTION, so an
 *      order leaves DELIVERED or RETURNED never.
 *   3. An order has at most one waybill, and Order.waybill names it.
 *   4. The waybill is listed for its carrier, the order's merchant and the
 *      platform that created the order; the order is listed for the carrier
 *      ("waybills it created and their orders").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"

#define OK      HANSA__RESULT_CODE__RESULT_OK
#define INVALID HANSA__RESULT_CODE__RESULT_INVALID_DOCUMENT

/* CreateWaybill field limits (hansa.proto). */
#define WAYBILL_WEIGHT_GRAMS_MAX      UINT64_C(1000000000000) /* 10^12 */
#define WAYBILL_PACKAGES_MAX          1000000u
#define WAYBILL_DESCRIPTION_BYTES_MAX 512u
#define WAYBILL_HS_CODES_MAX          200u

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

static bool commitment_valid(ProtobufCBinaryData c)
{
    return c.len == WIRE_HASH_BYTES && c.data != NULL;
}

/* The reason the waybill document is invalid, or NULL. */
static const char *create_invalid(const Hansa__CreateWaybill *w)
{
    if (!wire_id_valid(w->logistics_no))
        return "logistics_no is not a valid id";
    if (!wire_id_valid(w->order->merchant) || !wire_id_valid(w->order->order_no))
        return "the order reference is not valid";
    if (!ledger_amount_valid(w->freight_minor) || !ledger_amount_valid(w->insured_fee_minor))
        return "freight and insured fee must be 0..10^15";
    if (!ledger_currency_valid(w->currency))
        return "the currency is not an ISO 4217 code";
    if (w->gross_weight_grams < 1 || w->gross_weight_grams > WAYBILL_WEIGHT_GRAMS_MAX)
        return "gross weight must be 1..10^12 grams";
    if (w->package_count < 1 || w->package_count > WAYBILL_PACKAGES_MAX)
        return "package count must be 1..1,000,000";
    if (!ledger_text_valid(w->goods_description, WAYBILL_DESCRIPTION_BYTES_MAX))
        return "the goods description must be 1-512 bytes of UTF-8";
    if (w->n_hs_codes < 1 || w->n_hs_codes > WAYBILL_HS_CODES_MAX)
        return "a waybill lists 1-200 HS codes";
    for (size_t i = 0; i < w->n_hs_codes; i++)
        if (!ledger_hs_code_valid(w->hs_codes[i]))
            return "every HS code must be 6-10 digits";
    if (!commitment_valid(w->consignee_name_commitment) ||
        !commitment_valid(w->consignee_phone_commitment) ||
        !commitment_valid(w->consignee_address_commitment))
        return "consignee commitments must be 32 bytes each";
    if (!ledger_locode_valid(w->origin_locode) || !ledger_locode_valid(w->destination_locode))
        return "origin and destination must be UN/LOCODEs";
    return NULL;
}

static const char *event_invalid(const Hansa__AddShipmentEvent *e)
{
    if (!wire_id_valid(e->waybill->carrier) || !wire_id_valid(e->waybill->logistics_no))
        return "the waybill reference is not valid";
    if (e->type < HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_RECEIVED ||
        e->type > HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_RETURNED)
        return "the event type is not a known one";
    if (!ledger_locode_valid(e->location_locode))
        return "the location is not a UN/LOCODE";
    return NULL;
}

Hansa__ResultCode ledger_waybill_check(const Hansa__TxBody *b, const Hansa__Parameters *p,
                                       char *why, size_t why_len)
{
    HANSA_ASSERT(b != NULL);
    (void)p;
    if (b->action_case == HANSA__TX_BODY__ACTION_CREATE_WAYBILL) {
        const Hansa__CreateWaybill *w = b->create_waybill;
        if (w->order == NULL) {
            snprintf(why, why_len, "CreateWaybill names no order");
            return HANSA__RESULT_CODE__RESULT_MALFORMED;
        }
        const char *bad = create_invalid(w);
        if (bad == NULL)
            return OK;
        snprintf(why, why_len, "waybill %s: %s", str(w->logistics_no), bad);
        return INVALID;
    }
    HANSA_ASSERT(b->action_case == HANSA__TX_BODY__ACTION_ADD_SHIPMENT_EVENT);
    const Hansa__AddShipmentEvent *e = b->add_shipment_event;
    if (e->waybill == NULL) {
        snprintf(why, why_len, "AddShipmentEvent names no waybill");
        return HANSA__RESULT_CODE__RESULT_MALFORMED;
    }
    const char *bad = event_invalid(e);
    if (bad == NULL)
        return OK;
    snprintf(why, why_len, "event on waybill %s: %s", str(e->waybill->logistics_no), bad);
    return INVALID;
}

/* ---- execution ---- */

static void waybill_write(struct ledger_exec *ex, const Hansa__Waybill *w)
{
    char key[LEDGER_KEY_BYTES_MAX];
    size_t n = ledger_key_waybill(key, w->carrier, w->document->logistics_no);
    ledger_put(ex, key, n, &w->base);
    Hansa__Record rec = HANSA__RECORD__INIT;
    rec.kind_case = HANSA__RECORD__KIND_WAYBILL;
    rec.waybill = (Hansa__Waybill *)(uintptr_t)w;
    ledger_history(ex, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, w->carrier,
                   w->document->logistics_no, &rec, NULL);
}

/* Invariant 4. */
static void waybill_index(struct ledger_exec *ex, const Hansa__CreateWaybill *a,
                          const Hansa__Order *o)
{
    char key[LEDGER_KEY_BYTES_MAX];
    ledger_key_waybill(key, ex->signer, a->logistics_no);
    ledger_order_leg_index(ex, o, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, key);
}

Hansa__ResultCode ledger_waybill_create(struct ledger_exec *ex, const Hansa__CreateWaybill *a)
{
    const Hansa__OrderRef *r = a->order;
    const Hansa__Order *o = ledger_load_order(ex, r->merchant, r->order_no);
    if (o == NULL) {
        ledger_why(ex, "order %s/%s does not exist", r->merchant, r->order_no);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    if (ledger_load_waybill(ex, ex->signer, a->logistics_no) != NULL) {
        ledger_why(ex, "%s has already used logistics_no %s", ex->signer, a->logistics_no);
        return HANSA__RESULT_CODE__RESULT_DUPLICATE_ID;
    }
    if (o->waybill != NULL) {
        ledger_why(ex, "order %s/%s already has waybill %s/%s", r->merchant, r->order_no,
                   str(o->waybill->carrier), str(o->waybill->logistics_no));
        return HANSA__RESULT_CODE__RESULT_DUPLICATE_ID;
    }
    if (o->status == HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED) {
        ledger_why(ex, "order %s/%s is cancelled", r->merchant, r->order_no);
        return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
    }

    Hansa__Waybill w = HANSA__WAYBILL__INIT;
    w.document = (Hansa__CreateWaybill *)(uintptr_t)a;
    w.carrier = (char *)(uintptr_t)ex->signer;
    w.tx_id.data = (uint8_t *)(uintptr_t)ex->tx->id;
    w.tx_id.len = WIRE_HASH_BYTES;
    w.created_height = ex->height;
    w.created_ms = ex->time_ms;
    waybill_write(ex, &w);
    waybill_index(ex, a, o);

    Hansa__WaybillRef ref = HANSA__WAYBILL_REF__INIT;
    ref.carrier = (char *)(uintptr_t)ex->signer;
    ref.logistics_no = a->logistics_no;
    Hansa__Order upd = *o;
    upd.waybill = &ref;
    upd.updated_height = ex->height;
    ledger_match_update(ex, &upd);
    ledger_order_write(ex, &upd);
    return OK;
}

static bool is_final_event(Hansa__ShipmentEventType t)
{
    return t == HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_DELIVERED ||
           t == HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_RETURNED;
}

/* IMPLAUSIBLE_EVENT rules, in hansa.proto's order; OK or the code with why. */
static Hansa__ResultCode check_plausible(struct ledger_exec *ex, const Hansa__Waybill *w,
                                         const Hansa__AddShipmentEvent *a)
{
    const char *no = a->waybill->logistics_no;
    for (size_t i = 0; i < w->n_events; i++)
        if (is_final_event(w->events[i]->type) &&
            a->type != HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_EXCEPTION) {
            ledger_why(ex,
                       "waybill %s was delivered or returned at event %zu; only EXCEPTION "
                       "may follow",
                       no, i + 1);
            return HANSA__RESULT_CODE__RESULT_IMPLAUSIBLE_EVENT;
        }
    if (w->n_events > 0 && a->event_time_ms < w->events[w->n_events - 1]->event_time_ms) {
        ledger_why(ex, "event time %llu on waybill %s is before the previous event's %llu",
                   (unsigned long long)a->event_time_ms, no,
                   (unsigned long long)w->events[w->n_events - 1]->event_time_ms);
        return HANSA__RESULT_CODE__RESULT_IMPLAUSIBLE_EVENT;
    }
    uint64_t bound_ms = ex->params->event_future_bound_ms;
    if (a->event_time_ms > ex->time_ms && a->event_time_ms - ex->time_ms > bound_ms) {
        ledger_why(ex, "event time %llu on waybill %s is more than %llu ms after block time %llu",
                   (unsigned long long)a->event_time_ms, no, (unsigned long long)bound_ms,
                   (unsigned long long)ex->time_ms);
        return HANSA__RESULT_CODE__RESULT_IMPLAUSIBLE_EVENT;
    }
    if (w->n_events >= ex->params->max_waybill_events) {
        ledger_why(ex, "waybill %s already has %zu events, the most allowed", no, w->n_events);
        return HANSA__RESULT_CODE__RESULT_IMPLAUSIBLE_EVENT;
    }
    return OK;
}

static Hansa__OrderStatus status_after(Hansa__OrderStatus s, Hansa__ShipmentEventType t)
{
    bool open = s == HANSA__ORDER_STATUS__ORDER_STATUS_CREATED ||
                s == HANSA__ORDER_STATUS__ORDER_STATUS_SHIPPED;
    switch (t) {
    case HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_DEPARTED:
        return s == HANSA__ORDER_STATUS__ORDER_STATUS_CREATED
                   ? HANSA__ORDER_STATUS__ORDER_STATUS_SHIPPED
                   : s;
    case HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_DELIVERED:
        return open ? HANSA__ORDER_STATUS__ORDER_STATUS_DELIVERED : s;
    case HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_RETURNED:
        return open ? HANSA__ORDER_STATUS__ORDER_STATUS_RETURNED : s;
    default:
        return s;
    }
}

/* Append the event: the new events array is owned by the transaction. */
static void append_event(struct ledger_exec *ex, const Hansa__Waybill *w,
                         const Hansa__AddShipmentEvent *a)
{
    Hansa__ShipmentEvent **events = malloc((w->n_events + 1) * sizeof *events);
    if (events == NULL) {
        if (ex->fatal == HANSA_OK)
            ex->fatal = HANSA_ENOMEM;
        return;
    }
    ledger_defer_free(ex, events, free);
    if (ex->fatal != HANSA_OK)
        return;
    if (w->n_events > 0)
        memcpy(events, w->events, w->n_events * sizeof *events);
    Hansa__ShipmentEvent ev = HANSA__SHIPMENT_EVENT__INIT;
    ev.type = a->type;
    ev.location_locode = a->location_locode;
    ev.event_time_ms = a->event_time_ms;
    ev.tx_id.data = (uint8_t *)(uintptr_t)ex->tx->id;
    ev.tx_id.len = WIRE_HASH_BYTES;
    ev.recorded_height = ex->height;
    ev.recorded_ms = ex->time_ms;
    events[w->n_events] = &ev;
    Hansa__Waybill upd = *w;
    upd.events = events;
    upd.n_events = w->n_events + 1;
    waybill_write(ex, &upd);
}

Hansa__ResultCode ledger_waybill_event(struct ledger_exec *ex, const Hansa__AddShipmentEvent *a)
{
    const Hansa__WaybillRef *r = a->waybill;
    if (strcmp(r->carrier, ex->signer) != 0) {
        ledger_why(ex, "waybill %s/%s is not %s's", r->carrier, r->logistics_no, ex->signer);
        return HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED;
    }
    const Hansa__Waybill *w = ledger_load_waybill(ex, r->carrier, r->logistics_no);
    if (w == NULL) {
        ledger_why(ex, "waybill %s/%s does not exist", r->carrier, r->logistics_no);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    const Hansa__OrderRef *oref = w->document->order;
    const Hansa__Order *o = ledger_load_order(ex, oref->merchant, oref->order_no);
    if (o == NULL) {
        ledger_why(ex, "order %s/%s of waybill %s does not exist", oref->merchant, oref->order_no,
                   r->logistics_no);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    if (o->status == HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED) {
        ledger_why(ex, "order %s/%s of waybill %s is cancelled", oref->merchant, oref->order_no,
                   r->logistics_no);
        return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
    }
    Hansa__ResultCode code = check_plausible(ex, w, a);
    if (code != OK)
        return code;

    append_event(ex, w, a);
    Hansa__OrderStatus next = status_after(o->status, a->type);
    if (next != o->status) {
        Hansa__Order upd = *o;
        upd.status = next;
        upd.updated_height = ex->height;
        ledger_order_write(ex, &upd);
    }
    return OK;
}
