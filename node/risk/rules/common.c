/*
 * Helpers shared by the rules (common.h). No rule is defined here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

/* ---- big-endian integers ---- */

void risk_be16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

uint16_t risk_be16_get(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

void risk_be32_put(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

uint32_t risk_be32_get(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void risk_be64_put(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

uint64_t risk_be64_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- state keys and values ---- */

size_t risk_pair_key(uint8_t *k, size_t key_max, char kind, const char *a, const char *b)
{
    int n = snprintf((char *)k, key_max + 1, "%c/%s/%s", kind, a, b);
    return n > 0 && (size_t)n <= key_max ? (size_t)n : 0;
}

bool risk_pair_key_parse(const uint8_t *k, size_t n, char *kind, char a[HANSA_ID_LEN_MAX + 1],
                         char b[HANSA_ID_LEN_MAX + 1])
{
    char buf[RISK_PAIR_KEY_BYTES_MAX + 1];
    if (n < 5 || n > RISK_PAIR_KEY_BYTES_MAX || k[1] != '/')
        return false;
    memcpy(buf, k, n);
    buf[n] = '\0';
    char *slash = strchr(buf + 2, '/');
    if (slash == NULL || (size_t)(slash - (buf + 2)) > HANSA_ID_LEN_MAX ||
        strlen(slash + 1) > HANSA_ID_LEN_MAX)
        return false;
    *slash = '\0';
    *kind = buf[0];
    strcpy(a, buf + 2);
    strcpy(b, slash + 1);
    return true;
}

size_t risk_key_put_id(uint8_t *p, const char *id)
{
    size_t n = strnlen(id, HANSA_ID_LEN_MAX);
    p[0] = (uint8_t)n;
    memcpy(p + 1, id, n);
    return 1 + n;
}

bool risk_key_get_id(const uint8_t **p, const uint8_t *end, char out[HANSA_ID_LEN_MAX + 1])
{
    if (*p >= end || (*p)[0] > HANSA_ID_LEN_MAX || (size_t)(end - *p) < 1u + (*p)[0])
        return false;
    size_t n = (*p)[0];
    memcpy(out, *p + 1, n);
    out[n] = '\0';
    *p += 1 + n;
    return true;
}

hansa_err risk_get_exact(struct risk_ctx *ctx, const void *key, size_t key_len, void *out,
                         size_t len, bool *have)
{
    uint8_t *v = NULL;
    size_t got = 0;
    *have = false;
    hansa_err rv = risk_get(ctx, key, key_len, &v, &got);
    if (rv == HANSA_ENOENT)
        return HANSA_OK;
    if (rv != HANSA_OK)
        return rv;
    if (got == len) {
        memcpy(out, v, len);
        *have = true;
    }
    free(v);
    return got == len ? HANSA_OK : HANSA_EFORMAT;
}

hansa_err risk_exists(struct risk_ctx *ctx, const void *key, size_t key_len, bool *exists)
{
    uint8_t *v = NULL;
    size_t len = 0;
    hansa_err rv = risk_get(ctx, key, key_len, &v, &len);
    free(v);
    *exists = rv == HANSA_OK;
    return rv == HANSA_ENOENT ? HANSA_OK : rv;
}

/* ---- entities as of the block ---- */

hansa_err risk_lookup(struct risk_ctx *ctx, Hansa__EntityType type, const char *owner,
                      const char *id, Hansa__HistoryEntry **h)
{
    *h = NULL;
    hansa_err rv = risk_entity(ctx, type, owner, id, h);
    if (rv == HANSA_OK)
        HANSA_ASSERT(*h != NULL);
    return rv == HANSA_ENOENT ? HANSA_OK : rv;
}

static const Hansa__Record *record_of(const Hansa__HistoryEntry *h, Hansa__Record__KindCase kind)
{
    return h != NULL && h->after != NULL && h->after->kind_case == kind ? h->after : NULL;
}

const Hansa__Order *risk_entry_order(const Hansa__HistoryEntry *h)
{
    const Hansa__Record *r = record_of(h, HANSA__RECORD__KIND_ORDER);
    return r != NULL ? r->order : NULL;
}

const Hansa__Financing *risk_entry_financing(const Hansa__HistoryEntry *h)
{
    const Hansa__Record *r = record_of(h, HANSA__RECORD__KIND_FINANCING);
    return r != NULL ? r->financing : NULL;
}

const Hansa__Waybill *risk_entry_waybill(const Hansa__HistoryEntry *h)
{
    const Hansa__Record *r = record_of(h, HANSA__RECORD__KIND_WAYBILL);
    return r != NULL ? r->waybill : NULL;
}

const Hansa__Payment *risk_entry_payment(const Hansa__HistoryEntry *h)
{
    const Hansa__Record *r = record_of(h, HANSA__RECORD__KIND_PAYMENT);
    return r != NULL ? r->payment : NULL;
}

const Hansa__Party *risk_entry_party(const Hansa__HistoryEntry *h)
{
    const Hansa__Record *r = record_of(h, HANSA__RECORD__KIND_PARTY);
    return r != NULL ? r->party : NULL;
}

hansa_err risk_order_load(struct risk_ctx *ctx, const char *merchant, const char *order_no,
                          Hansa__HistoryEntry **h, const Hansa__Order **out)
{
    hansa_err rv = risk_lookup(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, merchant, order_no, h);
    const Hansa__Order *o = risk_entry_order(*h);
    *out = o != NULL && o->document != NULL ? o : NULL;
    return rv;
}

hansa_err risk_waybill_load(struct risk_ctx *ctx, const Hansa__WaybillRef *ref,
                            Hansa__HistoryEntry **h, const Hansa__Waybill **out)
{
    hansa_err rv = risk_lookup(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, ref->carrier,
                               ref->logistics_no, h);
    const Hansa__Waybill *w = risk_entry_waybill(*h);
    *out = w != NULL && w->document != NULL ? w : NULL;
    return rv;
}

hansa_err risk_payment_load(struct risk_ctx *ctx, const Hansa__PaymentRef *ref,
                            Hansa__HistoryEntry **h, const Hansa__Payment **out)
{
    hansa_err rv = risk_lookup(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_PAYMENT, ref->institution,
                               ref->pay_transaction_id, h);
    const Hansa__Payment *p = risk_entry_payment(*h);
    *out = p != NULL && p->document != NULL ? p : NULL;
    return rv;
}

hansa_err risk_order_view_load(struct risk_ctx *ctx, const char *merchant, const char *order_no,
                               struct risk_order_view *ov)
{
    memset(ov, 0, sizeof *ov);
    hansa_err rv =
        risk_lookup(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, merchant, order_no, &ov->order_h);
    ov->order = risk_entry_order(ov->order_h);
    const Hansa__FinancingRef *f = ov->order != NULL ? ov->order->pledged_by : NULL;
    if (rv == HANSA_OK && f != NULL)
        rv = risk_lookup(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, f->merchant,
                         f->financing_id, &ov->fin_h);
    ov->fin = risk_entry_financing(ov->fin_h);
    if (rv != HANSA_OK)
        risk_order_view_free(ov);
    return rv;
}

void risk_order_view_free(struct risk_order_view *ov)
{
    wire_free(ov->order_h);
    wire_free(ov->fin_h);
    memset(ov, 0, sizeof *ov);
}

/* ---- the block's history ---- */

hansa_err risk_each_entry(struct risk_ctx *ctx, risk_entry_fn fn)
{
    const struct risk_block *b = risk_ctx_block(ctx);
    for (size_t i = 0; i < b->n_history; i++) {
        HANSA_ASSERT(b->history[i] != NULL);
        hansa_err rv = fn(ctx, b->history[i]);
        if (rv != HANSA_OK)
            return rv;
    }
    return HANSA_OK;
}

hansa_err risk_each_order_change(struct risk_ctx *ctx, risk_order_created_fn created,
                                 risk_order_cancelled_fn cancelled)
{
    const struct risk_block *b = risk_ctx_block(ctx);
    for (size_t i = 0; i < b->n_history; i++) {
        const Hansa__HistoryEntry *h = b->history[i];
        const Hansa__Order *o = risk_entry_order(h);
        if (o == NULL || o->document == NULL)
            continue;
        hansa_err rv = HANSA_OK;
        if (risk_entry_creates_order(h, o))
            rv = created(ctx, h, o);
        else if (risk_entry_cancels_order(ctx, h, o))
            rv = cancelled(ctx, o);
        if (rv != HANSA_OK)
            return rv;
    }
    return HANSA_OK;
}

hansa_err risk_each_credit_event(struct risk_ctx *ctx, risk_credit_event_fn fn)
{
    const struct risk_block *b = risk_ctx_block(ctx);
    for (size_t i = 0; i < b->n_history; i++) {
        const Hansa__HistoryEntry *h = b->history[i];
        const Hansa__Financing *f = risk_entry_financing(h);
        if (h->credit_event == NULL || f == NULL)
            continue;
        hansa_err rv = fn(ctx, h, f, h->credit_event->type);
        if (rv != HANSA_OK)
            return rv;
    }
    return HANSA_OK;
}

hansa_err risk_each_shipment_event(struct risk_ctx *ctx, risk_shipment_event_fn fn)
{
    const struct risk_block *b = risk_ctx_block(ctx);
    for (size_t i = 0; i < b->n_history; i++) {
        const Hansa__HistoryEntry *h = b->history[i];
        const Hansa__Waybill *w = risk_entry_waybill(h);
        if (w == NULL || w->n_events == 0 || w->document == NULL || w->document->order == NULL)
            continue;
        hansa_err rv = fn(ctx, h, w);
        if (rv != HANSA_OK)
            return rv;
    }
    return HANSA_OK;
}

const uint8_t *risk_tx_or_null(const ProtobufCBinaryData *id)
{
    return id->len == WIRE_HASH_BYTES ? id->data : NULL;
}

bool risk_same_tx(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
    return a->len == WIRE_HASH_BYTES && b->len == WIRE_HASH_BYTES &&
           memcmp(a->data, b->data, WIRE_HASH_BYTES) == 0;
}

Hansa__TxBody__ActionCase risk_entry_action(const struct risk_ctx *ctx,
                                            const Hansa__HistoryEntry *h)
{
    if (h->tx_index >= risk_ctx_block(ctx)->n_txs)
        return HANSA__TX_BODY__ACTION__NOT_SET;
    return risk_tx_action(ctx, h->tx_index);
}

bool risk_entry_creates_order(const Hansa__HistoryEntry *h, const Hansa__Order *o)
{
    return risk_same_tx(&h->tx_id, &o->created_tx_id);
}

bool risk_entry_cancels_order(const struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                              const Hansa__Order *o)
{
    return o->status == HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED &&
           risk_entry_action(ctx, h) == HANSA__TX_BODY__ACTION_CANCEL_ORDER;
}

/* ---- alerts ---- */

/* Kinds are short words ("order", "waybill", "financing"). */
#define DEDUP_KEY_BYTES (32u + 2u * HANSA_ID_LEN_MAX + 2u)

struct risk_alert *risk_alert_for(struct risk_ctx *ctx, const char *kind, const char *owner,
                                  const char *id, Hansa__Severity severity)
{
    char dedup[DEDUP_KEY_BYTES];
    snprintf(dedup, sizeof dedup, "%s/%s/%s", kind, owner, id);
    return risk_alert_new(ctx, dedup, severity);
}

void risk_alert_pledge(struct risk_alert *a, const Hansa__Financing *fin)
{
    if (fin == NULL || fin->line == NULL)
        return;
    risk_alert_party(a, HANSA__ROLE__ROLE_BANK, fin->line->bank);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, fin->merchant,
                       fin->financing_id);
}

void risk_alert_shipment(struct risk_alert *a, const char *carrier, const char *logistics_no,
                         const char *merchant, const char *order_no, const Hansa__Financing *fin)
{
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, merchant);
    risk_alert_party(a, HANSA__ROLE__ROLE_LOGISTICS, carrier);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL, carrier, logistics_no);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, merchant, order_no);
    risk_alert_pledge(a, fin);
}

/* An int64 in decimal is at most 20 bytes; a currency code 3 (at most a few
 * dozen for anything the ledger could hold). */
#define INT_TEXT_BYTES    32u
#define AMOUNT_TEXT_BYTES 96u

void risk_evidence_i64(struct risk_alert *a, const char *field, const char *expected,
                       int64_t observed, const uint8_t *source_tx)
{
    char v[INT_TEXT_BYTES];
    risk_fmt_i64(v, sizeof v, observed);
    risk_alert_evidence(a, field, expected, v, source_tx);
}

void risk_evidence_u64(struct risk_alert *a, const char *field, const char *expected,
                       uint64_t observed, const uint8_t *source_tx)
{
    char v[INT_TEXT_BYTES];
    risk_fmt_u64(v, sizeof v, observed);
    risk_alert_evidence(a, field, expected, v, source_tx);
}

void risk_evidence_amount(struct risk_alert *a, const char *field, const char *expected,
                          int64_t observed_minor, const char *currency, const uint8_t *source_tx)
{
    char v[AMOUNT_TEXT_BYTES];
    risk_fmt_amount(v, sizeof v, observed_minor, currency);
    risk_alert_evidence(a, field, expected, v, source_tx);
}

void risk_fmt_i64(char *buf, size_t cap, int64_t v)
{
    snprintf(buf, cap, "%" PRId64, v);
}

void risk_fmt_u64(char *buf, size_t cap, uint64_t v)
{
    snprintf(buf, cap, "%" PRIu64, v);
}

void risk_fmt_amount(char *buf, size_t cap, int64_t minor, const char *currency)
{
    snprintf(buf, cap, "%" PRId64 " %s", minor, currency);
}

const char *risk_enum_name(const ProtobufCEnumDescriptor *d, int value, const char *prefix)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    if (v == NULL)
        return "UNSPECIFIED";
    size_t skip = strlen(prefix);
    return strncmp(v->name, prefix, skip) == 0 ? v->name + skip : v->name;
}

const char *risk_event_type_name(Hansa__ShipmentEventType t)
{
    return risk_enum_name(&hansa__shipment_event_type__descriptor, (int)t, "SHIPMENT_EVENT_TYPE_");
}

const char *risk_role_name(Hansa__Role r)
{
    return risk_enum_name(&hansa__role__descriptor, (int)r, "ROLE_");
}

const char *risk_order_status_name(Hansa__OrderStatus s)
{
    return risk_enum_name(&hansa__order_status__descriptor, (int)s, "ORDER_STATUS_");
}

/* ---- jurisdictions ---- */

#define LOCODE_BYTES_MIN 2u

bool risk_locode_country(const char *locode, char out[3])
{
    out[0] = '\0';
    if (locode == NULL || strlen(locode) < LOCODE_BYTES_MIN)
        return false;
    out[0] = locode[0];
    out[1] = locode[1];
    out[2] = '\0';
    return true;
}

void risk_not_listed_text(const struct risk_ctx *ctx, char *buf, size_t cap)
{
    const struct risk_ruleset *rs = risk_ctx_ruleset(ctx);
    size_t n = (size_t)snprintf(buf, cap, "not in ");
    for (size_t i = 0; i < rs->n_jurisdictions && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i > 0 ? "," : "", rs->jurisdictions[i]);
}

void risk_listed_evidence(const struct risk_ctx *ctx, struct risk_alert *a, const char *field,
                          const char *observed, const uint8_t *source_tx)
{
    char expected[RISK_NOT_LISTED_TEXT_BYTES];
    risk_not_listed_text(ctx, expected, sizeof expected);
    risk_alert_evidence(a, field, expected, observed, source_tx);
}

void risk_revision_evidence(const struct risk_ctx *ctx, struct risk_alert *a)
{
    risk_alert_evidence(a, "jurisdictions.revision", "", risk_ctx_ruleset(ctx)->jurisdictions_rev,
                        NULL);
}

/* ---- time ---- */

uint64_t risk_elapsed_ms(uint64_t now_ms, uint64_t then_ms)
{
    return now_ms > then_ms ? now_ms - then_ms : 0;
}

uint64_t risk_window_start_ms(uint64_t now_ms, uint64_t window_ms)
{
    return now_ms > window_ms ? now_ms - window_ms : 0;
}
