/*
 * Orders (CEB311): the document checks, creation and cancellation
 * (DOMAIN.md "Documents", "Precise points"). Shipment events move an order
 * along its lifecycle in waybill.c; its legs and match result are attached
 * by payment.c, waybill.c and match.c.
 *
 *   CREATED             --first DEPARTED event-->  SHIPPED
 *   CREATED or SHIPPED  --DELIVERED event-->        DELIVERED
 *   CREATED or SHIPPED  --RETURNED event-->         RETURNED
 *   CREATED, unpledged  --cancel by its merchant or
 *                         the platform that created it-->  CANCELLED (final)
 *
 * Checks on entry (ledger_order_check, at admission and again at
 * execution; INVALID_DOCUMENT): ids and codes well-formed; 1..max_order_lines
 * lines, line numbers 1..9,999 ascending; per line quantity_milli x
 * unit_price = line_total x 1,000 exactly; the sum of line totals is
 * goods_value; actual_paid = goods_value + freight + tax_total - discount;
 * every amount 0..10^15; RETAIL_IMPORT in CNY to CN; a B2B order names its
 * buyer party, the others do not.
 *
 * Invariants:
 *   1. order/<merchant>/<order_no> is written at creation and never deleted,
 *      so an order_no is used once per merchant, forever, cancelled or not.
 *   2. The stored document passed ledger_order_check; the amounts it holds
 *      are exact (128-bit products and sums).
 *   3. CANCELLED is final and only a CREATED, unpledged order reaches it.
 *   4. Cancelling a MATCHED RETAIL_IMPORT order takes its actual_paid off
 *      its buyer's annual total of the year it was matched in (match.c
 *      added it), so cancelled orders never count toward ANNUAL_LIMIT.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"

#define OK      HANSA__RESULT_CODE__RESULT_OK
#define INVALID HANSA__RESULT_CODE__RESULT_INVALID_DOCUMENT

/* OrderItem field limits (hansa.proto). */
#define ORDER_LINE_NO_MAX         9999u
#define ORDER_ITEM_NAME_BYTES_MAX 256u
#define ORDER_QUANTITY_MILLI_MAX  UINT64_C(1000000000000) /* 10^12 */
#define ORDER_UNIT_LEN_MAX        8u

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

__attribute__((format(printf, 3, 4))) static Hansa__ResultCode invalid(char *why, size_t why_len,
                                                                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
    return INVALID;
}

static bool unit_valid(const char *s)
{
    size_t n = strlen(str(s));
    if (n < 1 || n > ORDER_UNIT_LEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

static bool commitment_valid(ProtobufCBinaryData c)
{
    return c.len == WIRE_HASH_BYTES && c.data != NULL;
}

static Hansa__ResultCode check_parties(const Hansa__CreateOrder *o, char *why, size_t why_len)
{
    if (!wire_id_valid(o->order_no))
        return invalid(why, why_len, "order_no '%s' is not a valid id", str(o->order_no));
    if (!wire_id_valid(o->merchant))
        return invalid(why, why_len, "merchant '%s' is not a valid party id", str(o->merchant));
    if (str(o->platform)[0] != '\0' && !wire_id_valid(o->platform))
        return invalid(why, why_len, "platform '%s' is not a valid party id", o->platform);
    switch (o->trade_mode) {
    case HANSA__TRADE_MODE__TRADE_MODE_EXPORT:
    case HANSA__TRADE_MODE__TRADE_MODE_RETAIL_IMPORT:
        if (str(o->buyer_party)[0] != '\0')
            return invalid(why, why_len, "only a B2B order names a buyer party, not %s",
                           o->buyer_party);
        return OK;
    case HANSA__TRADE_MODE__TRADE_MODE_B2B:
        if (!wire_id_valid(o->buyer_party))
            return invalid(why, why_len, "a B2B order needs a valid buyer party id, not '%s'",
                           str(o->buyer_party));
        return OK;
    default:
        return invalid(why, why_len, "trade mode %d is not EXPORT, RETAIL_IMPORT or B2B",
                       (int)o->trade_mode);
    }
}

static Hansa__ResultCode check_codes(const Hansa__CreateOrder *o, char *why, size_t why_len)
{
    if (!commitment_valid(o->buyer_commitment) || !commitment_valid(o->consignee_name_commitment) ||
        !commitment_valid(o->consignee_phone_commitment) ||
        !commitment_valid(o->consignee_address_commitment))
        return invalid(why, why_len,
                       "order %s: buyer and consignee commitments must be 32 bytes each",
                       o->order_no);
    if (!ledger_currency_valid(o->currency))
        return invalid(why, why_len, "order %s: currency '%s' is not an ISO 4217 code", o->order_no,
                       str(o->currency));
    if (!ledger_country_valid(o->origin_country) || !ledger_country_valid(o->destination_country))
        return invalid(why, why_len,
                       "order %s: origin '%s' and destination '%s' must be ISO "
                       "3166-1 alpha-2 codes",
                       o->order_no, str(o->origin_country), str(o->destination_country));
    if (o->trade_mode == HANSA__TRADE_MODE__TRADE_MODE_RETAIL_IMPORT &&
        (strcmp(o->currency, "CNY") != 0 || strcmp(o->destination_country, "CN") != 0))
        return invalid(why, why_len, "retail-import order %s must be in CNY to CN, not %s to %s",
                       o->order_no, o->currency, o->destination_country);
    return OK;
}

/* One line; prev_line_no is the previous line's number (0 before the first). */
static Hansa__ResultCode check_item(const Hansa__CreateOrder *o, size_t i, uint32_t prev_line_no,
                                    char *why, size_t why_len)
{
    const Hansa__OrderItem *it = o->items[i];
    if (it->line_no < 1 || it->line_no > ORDER_LINE_NO_MAX || it->line_no <= prev_line_no)
        return invalid(why, why_len,
                       "order %s: line number %u must be 1..9999 and above the "
                       "previous line's %u",
                       o->order_no, it->line_no, prev_line_no);
    if (!ledger_text_valid(it->item_name, ORDER_ITEM_NAME_BYTES_MAX))
        return invalid(why, why_len, "order %s line %u: item name must be 1-256 bytes of UTF-8",
                       o->order_no, it->line_no);
    if (!ledger_hs_code_valid(it->hs_code))
        return invalid(why, why_len, "order %s line %u: HS code '%s' must be 6-10 digits",
                       o->order_no, it->line_no, str(it->hs_code));
    if (!unit_valid(it->unit))
        return invalid(why, why_len, "order %s line %u: unit '%s' must be 1-8 of A-Z 0-9",
                       o->order_no, it->line_no, str(it->unit));
    if (it->quantity_milli < 1 || it->quantity_milli > ORDER_QUANTITY_MILLI_MAX)
        return invalid(why, why_len, "order %s line %u: quantity_milli %llu is not 1..10^12",
                       o->order_no, it->line_no, (unsigned long long)it->quantity_milli);
    if (!ledger_amount_valid(it->unit_price_minor) || !ledger_amount_valid(it->line_total_minor))
        return invalid(why, why_len,
                       "order %s line %u: unit price %lld and line total %lld "
                       "must be 0..10^15",
                       o->order_no, it->line_no, (long long)it->unit_price_minor,
                       (long long)it->line_total_minor);
    /* quantity is in thousandths of the unit: q_milli x price = total x 1000,
     * exactly; 10^12 x 10^15 needs the 128 bits. */
    if ((unsigned __int128)it->quantity_milli * (uint64_t)it->unit_price_minor !=
        (unsigned __int128)(uint64_t)it->line_total_minor * 1000u)
        return invalid(why, why_len,
                       "order %s line %u: quantity %llu/1000 x unit price %lld "
                       "is not the line total %lld",
                       o->order_no, it->line_no, (unsigned long long)it->quantity_milli,
                       (long long)it->unit_price_minor, (long long)it->line_total_minor);
    return OK;
}

static Hansa__ResultCode check_items(const Hansa__CreateOrder *o, const Hansa__Parameters *p,
                                     char *why, size_t why_len)
{
    if (o->n_items < 1 || o->n_items > p->max_order_lines)
        return invalid(why, why_len, "order %s has %zu lines; 1..%u are allowed", o->order_no,
                       o->n_items, p->max_order_lines);
    uint32_t prev = 0;
    for (size_t i = 0; i < o->n_items; i++) {
        if (o->items[i] == NULL) {
            snprintf(why, why_len, "order %s: line %zu is missing", o->order_no, i + 1);
            return HANSA__RESULT_CODE__RESULT_MALFORMED;
        }
        Hansa__ResultCode code = check_item(o, i, prev, why, why_len);
        if (code != OK)
            return code;
        prev = o->items[i]->line_no;
    }
    return OK;
}

static Hansa__ResultCode check_amounts(const Hansa__CreateOrder *o, char *why, size_t why_len)
{
    if (!ledger_amount_valid(o->goods_value_minor) || !ledger_amount_valid(o->freight_minor) ||
        !ledger_amount_valid(o->discount_minor) || !ledger_amount_valid(o->tax_total_minor) ||
        !ledger_amount_valid(o->actual_paid_minor))
        return invalid(why, why_len, "order %s: every amount must be 0..10^15", o->order_no);
    __int128 lines = 0;
    for (size_t i = 0; i < o->n_items; i++)
        lines += o->items[i]->line_total_minor;
    if (lines != o->goods_value_minor)
        return invalid(why, why_len, "order %s: line totals add up to %lld, not goods value %lld",
                       o->order_no, (long long)lines, (long long)o->goods_value_minor);
    __int128 due =
        (__int128)o->goods_value_minor + o->freight_minor + o->tax_total_minor - o->discount_minor;
    if (due != o->actual_paid_minor)
        return invalid(why, why_len,
                       "order %s: goods %lld + freight %lld + tax %lld - discount "
                       "%lld is not actual_paid %lld",
                       o->order_no, (long long)o->goods_value_minor, (long long)o->freight_minor,
                       (long long)o->tax_total_minor, (long long)o->discount_minor,
                       (long long)o->actual_paid_minor);
    return OK;
}

static Hansa__ResultCode check_create(const Hansa__CreateOrder *o, const Hansa__Parameters *p,
                                      char *why, size_t why_len)
{
    Hansa__ResultCode code = check_parties(o, why, why_len);
    if (code == OK)
        code = check_codes(o, why, why_len);
    if (code == OK)
        code = check_items(o, p, why, why_len);
    if (code == OK)
        code = check_amounts(o, why, why_len);
    return code;
}

static Hansa__ResultCode check_cancel(const Hansa__CancelOrder *c, char *why, size_t why_len)
{
    if (c->order == NULL) {
        snprintf(why, why_len, "CancelOrder names no order");
        return HANSA__RESULT_CODE__RESULT_MALFORMED;
    }
    if (!wire_id_valid(c->order->merchant) || !wire_id_valid(c->order->order_no))
        return invalid(why, why_len, "order reference %s/%s is not valid", str(c->order->merchant),
                       str(c->order->order_no));
    return OK;
}

Hansa__ResultCode ledger_order_check(const Hansa__TxBody *b, const Hansa__Parameters *p, char *why,
                                     size_t why_len)
{
    HANSA_ASSERT(b != NULL && p != NULL);
    if (b->action_case == HANSA__TX_BODY__ACTION_CREATE_ORDER)
        return check_create(b->create_order, p, why, why_len);
    HANSA_ASSERT(b->action_case == HANSA__TX_BODY__ACTION_CANCEL_ORDER);
    return check_cancel(b->cancel_order, why, why_len);
}

/* ---- execution ---- */

void ledger_order_write(struct ledger_exec *ex, const Hansa__Order *o)
{
    const Hansa__CreateOrder *d = o->document;
    char key[LEDGER_KEY_BYTES_MAX];
    size_t n = ledger_key_order(key, d->merchant, d->order_no);
    ledger_put(ex, key, n, &o->base);
    Hansa__Record rec = HANSA__RECORD__INIT;
    rec.kind_case = HANSA__RECORD__KIND_ORDER;
    rec.order = (Hansa__Order *)(uintptr_t)o;
    ledger_history(ex, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, d->merchant, d->order_no, &rec, NULL);
}

/* The parties that may list a new order: its merchant and the platform
 * that created it. Payment institutions and carriers are added when they
 * attach their leg. Not a B2B buyer: no read rule lets it read the order
 * (DOMAIN.md "may read", "A reader's own records"), so an index entry would
 * only list what it is refused. */
static void order_index(struct ledger_exec *ex, const Hansa__CreateOrder *a)
{
    char key[LEDGER_KEY_BYTES_MAX];
    ledger_key_order(key, a->merchant, a->order_no);
    const Hansa__EntityType t = HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER;
    ledger_index(ex, a->merchant, t, key);
    if (strcmp(ex->signer, a->merchant) != 0)
        ledger_index(ex, ex->signer, t, key);
}

static bool party_active(struct ledger_exec *ex, const char *id)
{
    const Hansa__Party *p = ledger_load_party(ex, id);
    return p != NULL && p->status == HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE;
}

Hansa__ResultCode ledger_order_create(struct ledger_exec *ex, const Hansa__CreateOrder *a)
{
    if (ledger_load_order(ex, a->merchant, a->order_no) != NULL) {
        ledger_why(ex, "merchant %s has already used order_no %s", a->merchant, a->order_no);
        return HANSA__RESULT_CODE__RESULT_DUPLICATE_ID;
    }
    if (!ledger_party_active_with_role(ex, a->merchant, HANSA__ROLE__ROLE_MERCHANT)) {
        ledger_why(ex, "%s is not a registered active MERCHANT", a->merchant);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    if (a->trade_mode == HANSA__TRADE_MODE__TRADE_MODE_B2B && !party_active(ex, a->buyer_party)) {
        ledger_why(ex, "B2B buyer %s of order %s is not a registered party", a->buyer_party,
                   a->order_no);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }

    Hansa__MatchResult match = HANSA__MATCH_RESULT__INIT;
    match.status = HANSA__MATCH_STATUS__MATCH_STATUS_PENDING;
    Hansa__Order o = HANSA__ORDER__INIT;
    o.document = (Hansa__CreateOrder *)(uintptr_t)a;
    o.created_by = (char *)(uintptr_t)ex->signer;
    o.created_tx_id.data = (uint8_t *)(uintptr_t)ex->tx->id;
    o.created_tx_id.len = WIRE_HASH_BYTES;
    o.created_height = ex->height;
    o.created_ms = ex->time_ms;
    o.status = HANSA__ORDER_STATUS__ORDER_STATUS_CREATED;
    o.match = &match;
    o.updated_height = ex->height;
    ledger_order_write(ex, &o);
    order_index(ex, a);
    return OK;
}

static const char *status_name(Hansa__OrderStatus s)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&hansa__order_status__descriptor, (int)s);
    return v != NULL ? v->name + strlen("ORDER_STATUS_") : "?";
}

static bool order_pledged(const Hansa__Order *o)
{
    return o->pledged_by != NULL; /* financing.c clears it on release */
}

/* Invariant 4: the year is that of the match, at the offset now in force. A
 * total that would go below zero (the offset was changed by governance since
 * the match moved it to a neighbouring year) stops at zero. */
static void annual_release(struct ledger_exec *ex, const Hansa__Order *o)
{
    const Hansa__CreateOrder *d = o->document;
    uint32_t year =
        ledger_year_at_offset(o->match->decided_ms, ex->params->annual_limit_utc_offset_minutes);
    char key[LEDGER_KEY_BYTES_MAX];
    size_t n = ledger_key_annual(key, d->buyer_commitment.data, year);
    const Hansa__RetailImportAnnualTotal *t =
        ledger_load(ex, &hansa__retail_import_annual_total__descriptor, key, n);
    Hansa__RetailImportAnnualTotal upd = HANSA__RETAIL_IMPORT_ANNUAL_TOTAL__INIT;
    upd.buyer_commitment = d->buyer_commitment;
    upd.year = year;
    int64_t before = t != NULL ? t->matched_total_minor : 0;
    upd.matched_total_minor = before > d->actual_paid_minor ? before - d->actual_paid_minor : 0;
    ledger_put(ex, key, n, &upd.base);
}

Hansa__ResultCode ledger_order_cancel(struct ledger_exec *ex, const Hansa__CancelOrder *a)
{
    const Hansa__OrderRef *r = a->order;
    const Hansa__Order *o = ledger_load_order(ex, r->merchant, r->order_no);
    if (o == NULL) {
        ledger_why(ex, "order %s/%s does not exist", r->merchant, r->order_no);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    if (strcmp(ex->signer, o->document->merchant) != 0 &&
        strcmp(ex->signer, str(o->created_by)) != 0) {
        ledger_why(ex,
                   "%s is neither the merchant of order %s/%s nor the platform that "
                   "created it",
                   ex->signer, r->merchant, r->order_no);
        return HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED;
    }
    if (order_pledged(o)) {
        ledger_why(ex, "order %s/%s is pledged to financing %s/%s", r->merchant, r->order_no,
                   str(o->pledged_by->merchant), str(o->pledged_by->financing_id));
        return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
    }
    if (o->status != HANSA__ORDER_STATUS__ORDER_STATUS_CREATED) {
        ledger_why(ex, "order %s/%s can be cancelled only while CREATED, it is %s", r->merchant,
                   r->order_no, status_name(o->status));
        return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
    }

    Hansa__Order upd = *o;
    upd.status = HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED;
    upd.updated_height = ex->height;
    if (o->document->trade_mode == HANSA__TRADE_MODE__TRADE_MODE_RETAIL_IMPORT &&
        o->match != NULL && o->match->status == HANSA__MATCH_STATUS__MATCH_STATUS_MATCHED)
        annual_release(ex, o);
    ledger_order_write(ex, &upd);
    return OK;
}

void ledger_order_leg_index(struct ledger_exec *ex, const Hansa__Order *o, Hansa__EntityType type,
                            const char *leg_key)
{
    const char *merchant = o->document->merchant;
    const char *creator = o->created_by != NULL ? o->created_by : "";
    ledger_index(ex, ex->signer, type, leg_key);
    ledger_index(ex, merchant, type, leg_key);
    if (strcmp(creator, merchant) != 0)
        ledger_index(ex, creator, type, leg_key);
    char okey[LEDGER_KEY_BYTES_MAX];
    ledger_key_order(okey, merchant, o->document->order_no);
    ledger_index(ex, ex->signer, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, okey);
}
