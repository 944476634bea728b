/*
 * What several rules do the same way, written once (rules/common.c). It is
 * no rule: it defines no risk_rule_<name>, and rules/list.h does not name
 * it.
 *
 *   - big-endian integers in state keys and values (the engine's keys use
 *     them too);
 *   - state keys: "<kind>/<id>/<id>" pairs and u8-length-prefixed ids, and
 *     fixed-size state values read back with their length checked;
 *   - entities as of the block: a lookup where "not found" is no error,
 *     typed views of a history entry's record, and the order behind a
 *     waybill with the financing its pledge is held by (the audience
 *     merchant, carrier, pledge-holding bank);
 *   - which history entries create or cancel an order, and loops over the
 *     block's entries;
 *   - alert text: dedup keys "<kind>/<owner>/<id>", enum names without
 *     their prefix, amounts "<minor> <currency>", integer evidence, the
 *     jurisdiction list and its revision;
 *   - time differences that never wrap.
 *
 * Invariants:
 *   1. Nothing here keeps state, reads a clock or emits an alert by itself; a
 *      function returning hansa_err fails only on storage or memory trouble
 *      (rule.h), or with HANSA_EFORMAT on a stored value it cannot read.
 *   2. What these helpers write (state keys, dedup keys, evidence text) ends
 *      up in the alerts family and the alert log, byte-identical on every
 *      node (risk.h invariant 1): changing a format changes the alerts or
 *      the state of every rule that uses it.
 */
#ifndef HANSA_RISK_RULES_COMMON_H
#define HANSA_RISK_RULES_COMMON_H

#include "rule.h"

#define RISK_HOUR_MS INT64_C(3600000)
#define RISK_DAY_MS  (24 * RISK_HOUR_MS)
/* Basis points in a whole. */
#define RISK_BPS 10000

/* ---- big-endian integers ---- */

void risk_be16_put(uint8_t *p, uint16_t v);
uint16_t risk_be16_get(const uint8_t *p);
void risk_be32_put(uint8_t *p, uint32_t v);
uint32_t risk_be32_get(const uint8_t *p);
void risk_be64_put(uint8_t *p, uint64_t v);
uint64_t risk_be64_get(const uint8_t *p);

/* ---- state keys and values ---- */

/* The longest "<kind>/<id>/<id>" of two ids the ledger accepts. */
#define RISK_PAIR_KEY_BYTES_MAX (2u + HANSA_ID_LEN_MAX + 1u + HANSA_ID_LEN_MAX)

/* "<kind>/<a>/<b>" into k, which has room for key_max + 1 bytes; the key's
 * length, or 0 if it is longer than key_max (never, for ids the ledger
 * accepted). Ids never contain '/' (hansa.proto id-string), so the key is
 * unambiguous. */
size_t risk_pair_key(uint8_t *k, size_t key_max, char kind, const char *a, const char *b);
/* Split a key risk_pair_key wrote with key_max RISK_PAIR_KEY_BYTES_MAX into
 * its kind and two ids of at most HANSA_ID_LEN_MAX bytes; false if it is no
 * such key (shorter than "k/a/b", longer than the bound, or an id too
 * long). */
bool risk_pair_key_parse(const uint8_t *k, size_t n, char *kind, char a[HANSA_ID_LEN_MAX + 1],
                         char b[HANSA_ID_LEN_MAX + 1]);

/* u8 length + the bytes of id (cut at HANSA_ID_LEN_MAX) at p; the bytes
 * written (at most 1 + HANSA_ID_LEN_MAX). */
size_t risk_key_put_id(uint8_t *p, const char *id);
/* Read such an id at *p, not past end, into out and move *p past it; false
 * if it does not fit. */
bool risk_key_get_id(const uint8_t **p, const uint8_t *end, char out[HANSA_ID_LEN_MAX + 1]);

/* The rule's value at key, which must be exactly len bytes, copied to out:
 * *have false (out untouched) when there is none, HANSA_EFORMAT when its
 * length differs. */
HANSA_MUST_USE hansa_err risk_get_exact(struct risk_ctx *ctx, const void *key, size_t key_len,
                                        void *out, size_t len, bool *have);
/* Whether the rule has a value at key. */
HANSA_MUST_USE hansa_err risk_exists(struct risk_ctx *ctx, const void *key, size_t key_len,
                                     bool *exists);

/* ---- entities as of the block ---- */

/* risk_entity where an unknown entity is no error: *h is then NULL.
 * Caller wire_free()s *h. */
HANSA_MUST_USE hansa_err risk_lookup(struct risk_ctx *ctx, Hansa__EntityType type,
                                     const char *owner, const char *id, Hansa__HistoryEntry **h);
/* The record of h if it is of that kind, else NULL (also for h NULL). */
const Hansa__Order *risk_entry_order(const Hansa__HistoryEntry *h);
const Hansa__Financing *risk_entry_financing(const Hansa__HistoryEntry *h);
const Hansa__Waybill *risk_entry_waybill(const Hansa__HistoryEntry *h);
const Hansa__Payment *risk_entry_payment(const Hansa__HistoryEntry *h);
const Hansa__Party *risk_entry_party(const Hansa__HistoryEntry *h);

/* The record with its document as of the block, or *out NULL when the
 * entity is unknown or has none; *h owned (set even when *out is NULL). */
HANSA_MUST_USE hansa_err risk_order_load(struct risk_ctx *ctx, const char *merchant,
                                         const char *order_no, Hansa__HistoryEntry **h,
                                         const Hansa__Order **out);
HANSA_MUST_USE hansa_err risk_waybill_load(struct risk_ctx *ctx, const Hansa__WaybillRef *ref,
                                           Hansa__HistoryEntry **h, const Hansa__Waybill **out);
HANSA_MUST_USE hansa_err risk_payment_load(struct risk_ctx *ctx, const Hansa__PaymentRef *ref,
                                           Hansa__HistoryEntry **h, const Hansa__Payment **out);

/* An order as of the block with the financing its pledge is held by. */
struct risk_order_view {
    Hansa__HistoryEntry *order_h, *fin_h; /* owned */
    const Hansa__Order *order;            /* NULL if the order is unknown */
    const Hansa__Financing *fin;          /* the pledge holder, or NULL */
};

/* Load merchant's order order_no. On error *ov holds nothing to free. */
HANSA_MUST_USE hansa_err risk_order_view_load(struct risk_ctx *ctx, const char *merchant,
                                              const char *order_no, struct risk_order_view *ov);
/* Accepts a zeroed view. */
void risk_order_view_free(struct risk_order_view *ov);

/* ---- the block's history ---- */

typedef hansa_err (*risk_entry_fn)(struct risk_ctx *ctx, const Hansa__HistoryEntry *h);
typedef hansa_err (*risk_order_created_fn)(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                                           const Hansa__Order *o);
typedef hansa_err (*risk_order_cancelled_fn)(struct risk_ctx *ctx, const Hansa__Order *o);
typedef hansa_err (*risk_credit_event_fn)(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                                          const Hansa__Financing *f, Hansa__CreditEventType t);
typedef hansa_err (*risk_shipment_event_fn)(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                                            const Hansa__Waybill *w);

/* fn on every history entry of the block, in execution order; stops at the
 * first error and returns it. */
HANSA_MUST_USE hansa_err risk_each_entry(struct risk_ctx *ctx, risk_entry_fn fn);
/* For every order entry (with its document) of the block, in execution
 * order: created() on the order's creation, cancelled() on its
 * cancellation (risk_entry_cancels_order); stops at the first error. */
HANSA_MUST_USE hansa_err risk_each_order_change(struct risk_ctx *ctx, risk_order_created_fn created,
                                                risk_order_cancelled_fn cancelled);
/* fn on every financing entry of the block that carries a credit event,
 * with the event's type; stops at the first error. */
HANSA_MUST_USE hansa_err risk_each_credit_event(struct risk_ctx *ctx, risk_credit_event_fn fn);
/* fn on every waybill entry of the block (with its document and order)
 * that records a new shipment event: the last of w's events. A waybill's
 * creation (no events yet) is skipped. Stops at the first error. */
HANSA_MUST_USE hansa_err risk_each_shipment_event(struct risk_ctx *ctx, risk_shipment_event_fn fn);

/* The id if it is a transaction id (32 bytes), else NULL. */
const uint8_t *risk_tx_or_null(const ProtobufCBinaryData *id);
/* Both are the same transaction id. */
bool risk_same_tx(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b);
/* The action of the transaction that wrote h, or ACTION__NOT_SET for a
 * change the block made itself (maturity, governance). */
Hansa__TxBody__ActionCase risk_entry_action(const struct risk_ctx *ctx,
                                            const Hansa__HistoryEntry *h);
/* h is o's creation: the entry of its CreateOrder transaction. */
bool risk_entry_creates_order(const Hansa__HistoryEntry *h, const Hansa__Order *o);
/* h is a CancelOrder of this block that left o CANCELLED. */
bool risk_entry_cancels_order(const struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                              const Hansa__Order *o);

/* ---- alerts ---- */

/* risk_alert_new with the dedup key "<kind>/<owner>/<id>". */
struct risk_alert *risk_alert_for(struct risk_ctx *ctx, const char *kind, const char *owner,
                                  const char *id, Hansa__Severity severity);
/* The bank holding an order's pledge (party BANK) and its financing
 * (subject), if fin and its line are known. */
void risk_alert_pledge(struct risk_alert *a, const Hansa__Financing *fin);
/* The audience of a shipment's alert: parties merchant, carrier and
 * pledge-holding bank; subjects waybill, order and the pledge's financing. */
void risk_alert_shipment(struct risk_alert *a, const char *carrier, const char *logistics_no,
                         const char *merchant, const char *order_no, const Hansa__Financing *fin);

/* Evidence whose observed value is an integer (decimal) or an amount. */
void risk_evidence_i64(struct risk_alert *a, const char *field, const char *expected,
                       int64_t observed, const uint8_t *source_tx);
void risk_evidence_u64(struct risk_alert *a, const char *field, const char *expected,
                       uint64_t observed, const uint8_t *source_tx);
void risk_evidence_amount(struct risk_alert *a, const char *field, const char *expected,
                          int64_t observed_minor, const char *currency, const uint8_t *source_tx);

/* "-12" / "12" / "100000 CNY" into buf (cut to cap). */
void risk_fmt_i64(char *buf, size_t cap, int64_t v);
void risk_fmt_u64(char *buf, size_t cap, uint64_t v);
void risk_fmt_amount(char *buf, size_t cap, int64_t minor, const char *currency);

/* The name of value in enum d without prefix ("SHIPMENT_EVENT_TYPE_DEPARTED"
 * less "SHIPMENT_EVENT_TYPE_" is "DEPARTED"); "UNSPECIFIED" for a value d
 * does not know. Static storage. */
const char *risk_enum_name(const ProtobufCEnumDescriptor *d, int value, const char *prefix);
const char *risk_event_type_name(Hansa__ShipmentEventType t);
const char *risk_role_name(Hansa__Role r);
const char *risk_order_status_name(Hansa__OrderStatus s);

/* ---- jurisdictions ---- */

/* "not in KP,IR,MM": three bytes per listed code. */
#define RISK_NOT_LISTED_TEXT_BYTES (3u * RISK_JURISDICTIONS_MAX + 16u)

/* The country of a UN/LOCODE (its first two letters) into out; false, with
 * out "", if the code is shorter. */
bool risk_locode_country(const char *locode, char out[3]);
/* "not in KP,IR,MM" for the ruleset's list: the expected side of a listed
 * finding. cap is at least RISK_NOT_LISTED_TEXT_BYTES. */
void risk_not_listed_text(const struct risk_ctx *ctx, char *buf, size_t cap);
/* Evidence (field, "not in <list>", observed, source_tx). */
void risk_listed_evidence(const struct risk_ctx *ctx, struct risk_alert *a, const char *field,
                          const char *observed, const uint8_t *source_tx);
/* Evidence ("jurisdictions.revision", "", the list's revision). */
void risk_revision_evidence(const struct risk_ctx *ctx, struct risk_alert *a);

/* ---- time ---- */

/* now_ms - then_ms, or 0 if then_ms is later. */
uint64_t risk_elapsed_ms(uint64_t now_ms, uint64_t then_ms);
/* The start of the window of window_ms ending at now_ms (0 if the window
 * reaches back before time 0): what lies at or before it is outside. */
uint64_t risk_window_start_ms(uint64_t now_ms, uint64_t window_ms);

#endif
