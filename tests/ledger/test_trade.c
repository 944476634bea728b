/*
 * The trade documents of DOMAIN.md: orders, payments, waybills and their
 * shipment events, and three-document matching with the retail-import
 * limits. Every rule of "Documents", "Three-document matching" and the
 * "Precise points" about them has a test here that fails without the rule,
 * and every code the modules return appears at least once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ledger_fixture.h"

#define OK                 HANSA__RESULT_CODE__RESULT_OK
#define MALFORMED          HANSA__RESULT_CODE__RESULT_MALFORMED
#define NOT_AUTHORIZED     HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED
#define INVALID_DOCUMENT   HANSA__RESULT_CODE__RESULT_INVALID_DOCUMENT
#define NOT_FOUND          HANSA__RESULT_CODE__RESULT_NOT_FOUND
#define DUPLICATE_ID       HANSA__RESULT_CODE__RESULT_DUPLICATE_ID
#define INVALID_TRANSITION HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION
#define IMPLAUSIBLE_EVENT  HANSA__RESULT_CODE__RESULT_IMPLAUSIBLE_EVENT

#define A_CREATE  HANSA__TX_BODY__ACTION_CREATE_ORDER
#define A_CANCEL  HANSA__TX_BODY__ACTION_CANCEL_ORDER
#define A_PAY     HANSA__TX_BODY__ACTION_RECORD_PAYMENT
#define A_WAYBILL HANSA__TX_BODY__ACTION_CREATE_WAYBILL
#define A_EVENT   HANSA__TX_BODY__ACTION_ADD_SHIPMENT_EVENT

#define ST_CREATED   HANSA__ORDER_STATUS__ORDER_STATUS_CREATED
#define ST_SHIPPED   HANSA__ORDER_STATUS__ORDER_STATUS_SHIPPED
#define ST_DELIVERED HANSA__ORDER_STATUS__ORDER_STATUS_DELIVERED
#define ST_RETURNED  HANSA__ORDER_STATUS__ORDER_STATUS_RETURNED
#define ST_CANCELLED HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED

#define EV_RECEIVED  HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_RECEIVED
#define EV_DEPARTED  HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_DEPARTED
#define EV_ARRIVED   HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_ARRIVED
#define EV_DELIVERED HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_DELIVERED
#define EV_EXCEPTION HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_EXCEPTION
#define EV_RETURNED  HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_RETURNED

#define M_PENDING    HANSA__MATCH_STATUS__MATCH_STATUS_PENDING
#define M_MATCHED    HANSA__MATCH_STATUS__MATCH_STATUS_MATCHED
#define M_MISMATCHED HANSA__MATCH_STATUS__MATCH_STATUS_MISMATCHED

#define R_AMOUNT    HANSA__MATCH_REASON__MATCH_REASON_AMOUNT
#define R_CURRENCY  HANSA__MATCH_REASON__MATCH_REASON_CURRENCY
#define R_PAYER     HANSA__MATCH_REASON__MATCH_REASON_PAYER
#define R_CONSIGNEE HANSA__MATCH_REASON__MATCH_REASON_CONSIGNEE
#define R_PER_ORDER HANSA__MATCH_REASON__MATCH_REASON_PER_ORDER_LIMIT
#define R_ANNUAL    HANSA__MATCH_REASON__MATCH_REASON_ANNUAL_LIMIT

#define MER  "MER-SZ-0001"
#define MER2 "MER-SZ-0002"
#define PLT  "PLT-0001"
#define PAY  "PAY-0001"
#define LOG  "LOG-0001"
#define LOG2 "LOG-0002"

/* 2026-12-31 15:59 UTC (still 2026 at UTC+8) and 17:00 UTC (2027 at UTC+8). */
#define T_2026_12_31_1559_UTC UINT64_C(1798732740000)
#define T_2026_12_31_1700_UTC UINT64_C(1798736400000)

static const uint8_t OTHER[WIRE_HASH_BYTES] = {0xEE, 0x01};
static const uint8_t BUYER2[WIRE_HASH_BYTES] = {0xB0, 0x02};

static struct fx f;
static void setup(void)
{
    fx_init(&f);
}
static void teardown(void)
{
    fx_close(&f);
}

/* ---- helpers ---- */

/* Each macro evaluates r (often a submission) exactly once. */
#define EXPECT(r, c)                                                                               \
    do {                                                                                           \
        struct fx_result r_ = (r);                                                                 \
        cr_assert_eq(r_.code, (c), "expected %s, got %s: %s", ledger_result_name(c),               \
                     ledger_result_name(r_.code), r_.why);                                         \
    } while (0)
/* Admitted, then executed with code c (state-dependent rejections). */
#define EXPECT_EXEC(r, c)                                                                          \
    do {                                                                                           \
        struct fx_result x_ = (r);                                                                 \
        cr_assert(x_.admitted, "refused at admission: %s: %s", ledger_result_name(x_.code),        \
                  x_.why);                                                                         \
        EXPECT(x_, c);                                                                             \
    } while (0)
/* Refused at admission with code c (never in a block). */
#define EXPECT_REFUSED(r, c)                                                                       \
    do {                                                                                           \
        struct fx_result x_ = (r);                                                                 \
        cr_assert_not(x_.admitted, "admitted, result %s", ledger_result_name(x_.code));            \
        EXPECT(x_, c);                                                                             \
    } while (0)

static struct fx_result submit(const char *signer, Hansa__TxBody__ActionCase which, void *doc)
{
    Hansa__TxBody b;
    fx_body(&b, which, doc);
    return fx_submit(&f, signer, &b);
}

static struct fx_result create(const char *merchant, const char *no, int64_t amount_minor)
{
    struct fx_order_doc o;
    fx_order_doc(&o, merchant, no, amount_minor);
    return submit(merchant, A_CREATE, &o.doc);
}

static void retail_doc(struct fx_order_doc *o, const char *no, int64_t amount_minor)
{
    fx_order_doc(o, MER, no, amount_minor);
    o->doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_RETAIL_IMPORT;
    o->doc.origin_country = "DE";
    o->doc.destination_country = "CN";
}

static struct fx_result pay(const char *no, const char *pay_id, int64_t amount_minor)
{
    struct fx_payment_doc p;
    fx_payment_doc(&p, MER, no, pay_id, amount_minor);
    return submit(PAY, A_PAY, &p.doc);
}

static struct fx_result ship(const char *carrier, const char *no, const char *wb)
{
    struct fx_waybill_doc w;
    fx_waybill_doc(&w, MER, no, wb);
    return submit(carrier, A_WAYBILL, &w.doc);
}

static struct fx_result event(const char *signer, const char *carrier, const char *wb,
                              Hansa__ShipmentEventType type, uint64_t time_ms)
{
    Hansa__WaybillRef ref = HANSA__WAYBILL_REF__INIT;
    ref.carrier = (char *)carrier;
    ref.logistics_no = (char *)wb;
    Hansa__AddShipmentEvent e = HANSA__ADD_SHIPMENT_EVENT__INIT;
    e.waybill = &ref;
    e.type = type;
    e.location_locode = "CNSZX";
    e.event_time_ms = time_ms;
    return submit(signer, A_EVENT, &e);
}

static struct fx_result cancel(const char *signer, const char *merchant, const char *no)
{
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = (char *)merchant;
    ref.order_no = (char *)no;
    Hansa__CancelOrder c = HANSA__CANCEL_ORDER__INIT;
    c.order = &ref;
    return submit(signer, A_CANCEL, &c);
}

static Hansa__OrderStatus status_of(const char *merchant, const char *no)
{
    Hansa__Order *o = fx_get_order(&f, merchant, no);
    cr_assert_not_null(o, "order %s/%s missing", merchant, no);
    Hansa__OrderStatus s = o->status;
    wire_free(o);
    return s;
}

static bool has_key(const char *key)
{
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = f.view.get(f.view.ctx, (const uint8_t *)key, strlen(key), &val, &len);
    free(val);
    return rv == HANSA_OK;
}

/* History entries of the last block under prefix; optionally the first one. */
static size_t history(const char *prefix, Hansa__HistoryEntry **first)
{
    Hansa__HistoryEntry **h = NULL;
    size_t n = fx_last_history(&f, prefix, &h);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 && first != NULL)
            *first = h[i];
        else
            wire_free(h[i]);
    }
    free(h);
    return n;
}

static int64_t annual_total(const uint8_t buyer[WIRE_HASH_BYTES], unsigned year)
{
    char hex[2 * WIRE_HASH_BYTES + 1], key[128];
    wire_hex_encode(buyer, WIRE_HASH_BYTES, hex);
    snprintf(key, sizeof key, "annual/%s/%u", hex, year);
    Hansa__RetailImportAnnualTotal *t =
        fx_get(&f, &hansa__retail_import_annual_total__descriptor, key);
    int64_t v = t != NULL ? t->matched_total_minor : -1; /* -1: no record */
    wire_free(t);
    return v;
}

/* Submit the three legs as given (order by its merchant, payment by
 * PAY-0001, waybill by LOG-0001), each expected OK; the order afterwards. */
static Hansa__Order *three_legs(struct fx_order_doc *o, struct fx_payment_doc *p,
                                struct fx_waybill_doc *w)
{
    EXPECT_EXEC(submit(o->doc.merchant, A_CREATE, &o->doc), OK);
    EXPECT_EXEC(submit(PAY, A_PAY, &p->doc), OK);
    EXPECT_EXEC(submit(LOG, A_WAYBILL, &w->doc), OK);
    Hansa__Order *order = fx_get_order(&f, o->doc.merchant, o->doc.order_no);
    cr_assert_not_null(order);
    cr_assert_not_null(order->match);
    return order;
}

/* A retail-import order of amount_minor with matching legs; its match. */
static Hansa__MatchStatus retail_matched(const char *no, int64_t amount_minor,
                                         const uint8_t buyer[WIRE_HASH_BYTES])
{
    struct fx_order_doc o;
    struct fx_payment_doc p;
    struct fx_waybill_doc w;
    char pay_id[65], wb[65];
    snprintf(pay_id, sizeof pay_id, "P-%s", no);
    snprintf(wb, sizeof wb, "W-%s", no);
    retail_doc(&o, no, amount_minor);
    o.doc.buyer_commitment.data = (uint8_t *)buyer;
    fx_payment_doc(&p, MER, no, pay_id, amount_minor);
    p.doc.payer_commitment.data = (uint8_t *)buyer;
    fx_waybill_doc(&w, MER, no, wb);
    Hansa__Order *order = three_legs(&o, &p, &w);
    Hansa__MatchStatus s = order->match->status;
    wire_free(order);
    return s;
}

static void assert_reasons(const Hansa__Order *o, const Hansa__MatchReason *want, size_t n,
                           const char *what)
{
    cr_assert_eq(o->match->status, n ? M_MISMATCHED : M_MATCHED, "%s: status %d", what,
                 (int)o->match->status);
    cr_assert_eq(o->match->n_reasons, n, "%s: %zu reasons, want %zu", what, o->match->n_reasons, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(o->match->reasons[i], want[i], "%s: reason %zu is %d, want %d", what, i,
                     (int)o->match->reasons[i], (int)want[i]);
}

/* Put the order into state as pledged to financing F-1, as an approval by
 * financing.c would (that module is tested on its own). */
static void pledge_in_state(const char *merchant, const char *no)
{
    Hansa__Order *o = fx_get_order(&f, merchant, no);
    cr_assert_not_null(o);
    Hansa__FinancingRef fr = HANSA__FINANCING_REF__INIT;
    fr.merchant = (char *)merchant;
    fr.financing_id = "F-1";
    Hansa__Order upd = *o;
    upd.pledged_by = &fr;
    char key[256];
    snprintf(key, sizeof key, "order/%s/%s", merchant, no);
    uint8_t *val = NULL;
    size_t len = 0;
    cr_assert_eq(wire_encode(&upd.base, HANSA_BLOCK_BYTES_MAX, &val, &len), HANSA_OK);
    struct ledger_write w = {(uint8_t *)key, strlen(key), val, len};
    struct ledger_output out;
    memset(&out, 0, sizeof out);
    out.state = &w;
    out.n_state = 1;
    memstate_apply(f.ms, &out);
    free(val);
    wire_free(o);
}

/* ======================================================================== */
TestSuite(order, .init = setup, .fini = teardown, .timeout = 60);

Test(order, merchant_creates_order_created_pending_with_history_and_index)
{
    struct fx_result r = create(MER, "SO-1", 12345);
    EXPECT_EXEC(r, OK);
    Hansa__Order *o = fx_get_order(&f, MER, "SO-1");
    cr_assert_not_null(o);
    cr_assert_eq(o->status, ST_CREATED);
    cr_assert_eq(o->match->status, M_PENDING);
    cr_assert_eq(o->match->decided_height, 0);
    cr_assert_str_eq(o->created_by, MER);
    cr_assert_eq(o->created_height, f.height);
    cr_assert_eq(memcmp(o->created_tx_id.data, r.tx_id, 32), 0);
    cr_assert_eq(o->document->actual_paid_minor, 12345);
    cr_assert_null(o->payment);
    cr_assert_null(o->waybill);
    wire_free(o);
    Hansa__HistoryEntry *h = NULL;
    cr_assert_eq(history("order/" MER "/SO-1/", &h), 1);
    cr_assert_eq(h->after->kind_case, HANSA__RECORD__KIND_ORDER);
    cr_assert_eq(h->after->order->status, ST_CREATED);
    wire_free(h);
    cr_assert(has_key("ix/" MER "/order/order/" MER "/SO-1"));
    cr_assert_not(has_key("ix/" PLT "/order/order/" MER "/SO-1"),
                  "a platform lists only the orders it created");
}

Test(order, platform_creates_order_naming_itself_and_may_list_it)
{
    struct fx_order_doc o;
    fx_order_doc(&o, MER, "SO-P", 500);
    EXPECT_EXEC(submit(PLT, A_CREATE, &o.doc), OK);
    Hansa__Order *rec = fx_get_order(&f, MER, "SO-P");
    cr_assert_str_eq(rec->created_by, PLT);
    wire_free(rec);
    cr_assert(has_key("ix/" PLT "/order/order/" MER "/SO-P"));
    cr_assert(has_key("ix/" MER "/order/order/" MER "/SO-P"));
}

Test(order, platform_not_named_as_the_orders_platform_is_refused_at_admission)
{
    struct fx_order_doc o;
    fx_order_doc(&o, MER, "SO-1", 500);
    o.doc.platform = "PLT-9999";
    EXPECT_REFUSED(submit(PLT, A_CREATE, &o.doc), NOT_AUTHORIZED);
    fx_order_doc(&o, MER, "SO-1", 500);
    EXPECT_REFUSED(submit(MER2, A_CREATE, &o.doc), NOT_AUTHORIZED);
}

Test(order, b2b_order_is_listed_for_its_merchant_not_its_buyer)
{
    /* The buyer may not read the order (DOMAIN.md "may read"), so it is
     * not listed under it either (tests/net/test_api.c). */
    struct fx_order_doc o;
    fx_order_doc(&o, MER, "SO-B2B", 500);
    o.doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_B2B;
    o.doc.buyer_party = "BUYER-DE-1";
    EXPECT_EXEC(submit(MER, A_CREATE, &o.doc), OK);
    cr_assert(has_key("ix/" MER "/order/order/" MER "/SO-B2B"));
    cr_assert_not(has_key("ix/BUYER-DE-1/order/order/" MER "/SO-B2B"));
}

Test(order, b2b_order_with_an_unregistered_buyer_is_not_found)
{
    struct fx_order_doc o;
    fx_order_doc(&o, MER, "SO-B2B", 500);
    o.doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_B2B;
    o.doc.buyer_party = "BUYER-NOBODY";
    EXPECT_EXEC(submit(MER, A_CREATE, &o.doc), NOT_FOUND);
    cr_assert_null(fx_get_order(&f, MER, "SO-B2B"));
}

Test(order, order_for_a_party_that_is_not_a_registered_merchant_is_not_found)
{
    struct fx_order_doc o;
    fx_order_doc(&o, "MER-NOBODY", "SO-1", 500);
    EXPECT_EXEC(submit(PLT, A_CREATE, &o.doc), NOT_FOUND);
    fx_order_doc(&o, PAY, "SO-1", 500); /* registered, but a payment institution */
    EXPECT_EXEC(submit(PLT, A_CREATE, &o.doc), NOT_FOUND);
    cr_assert_null(fx_get_order(&f, PAY, "SO-1"));
}

Test(order, order_no_is_unique_per_merchant_forever)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_EXEC(create(MER, "SO-1", 700), DUPLICATE_ID);
    EXPECT_EXEC(create(MER2, "SO-1", 700), OK); /* another merchant's numbering */
    EXPECT_EXEC(cancel(MER, MER, "SO-1"), OK);
    EXPECT_EXEC(create(MER, "SO-1", 700), DUPLICATE_ID); /* even once cancelled */
    Hansa__Order *o = fx_get_order(&f, MER, "SO-1");
    cr_assert_eq(o->document->actual_paid_minor, 500);
    wire_free(o);
}

Test(order, accepts_exact_fractional_quantities_and_the_full_amount_formula)
{
    struct fx_order_doc o;
    fx_order_doc(&o, MER, "SO-1", 0);
    Hansa__OrderItem second = HANSA__ORDER_ITEM__INIT;
    second.line_no = 7;
    second.item_name = "Tee, 1.5 kg \xE8\x8C\xB6"; /* UTF-8 */
    second.hs_code = "0902101000";
    second.quantity_milli = 1500;
    second.unit = "KGM";
    second.unit_price_minor = 334;
    second.line_total_minor = 501; /* 1.5 x 334 */
    o.item.unit_price_minor = 1000;
    o.item.line_total_minor = 1000;
    Hansa__OrderItem *items[2] = {&o.item, &second};
    o.doc.items = items;
    o.doc.n_items = 2;
    o.doc.goods_value_minor = 1501;
    o.doc.freight_minor = 200;
    o.doc.tax_total_minor = 99;
    o.doc.discount_minor = 300;
    o.doc.actual_paid_minor = 1500;
    EXPECT_EXEC(submit(MER, A_CREATE, &o.doc), OK);
}

/* Each case breaks one rule of a valid order, signed by signer. */
struct order_case {
    const char *name;
    void (*mutate)(struct fx_order_doc *o);
    const char *signer;
};

static void m_order_no_slash(struct fx_order_doc *o)
{
    o->doc.order_no = "SO/1";
}
static void m_order_no_empty(struct fx_order_doc *o)
{
    o->doc.order_no = "";
}
static void m_merchant_bad(struct fx_order_doc *o)
{
    o->doc.merchant = "MER SZ";
}
static void m_platform_bad(struct fx_order_doc *o)
{
    o->doc.platform = "PLT/1";
}
static void m_mode_unspecified(struct fx_order_doc *o)
{
    o->doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_UNSPECIFIED;
}
static void m_mode_unknown(struct fx_order_doc *o)
{
    o->doc.trade_mode = (Hansa__TradeMode)42;
}
static void m_buyer_party_on_export(struct fx_order_doc *o)
{
    o->doc.buyer_party = "BUYER-DE-1";
}
static void m_b2b_without_buyer(struct fx_order_doc *o)
{
    o->doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_B2B;
}
static void m_buyer_31_bytes(struct fx_order_doc *o)
{
    o->doc.buyer_commitment.len = 31;
}
static void m_consignee_phone_empty(struct fx_order_doc *o)
{
    o->doc.consignee_phone_commitment.len = 0;
    o->doc.consignee_phone_commitment.data = NULL;
}
static void m_currency_lower(struct fx_order_doc *o)
{
    o->doc.currency = "cny";
}
static void m_currency_short(struct fx_order_doc *o)
{
    o->doc.currency = "CN";
}
static void m_origin_alpha3(struct fx_order_doc *o)
{
    o->doc.origin_country = "CHN";
}
static void m_destination_empty(struct fx_order_doc *o)
{
    o->doc.destination_country = "";
}
static void m_retail_in_usd(struct fx_order_doc *o)
{
    o->doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_RETAIL_IMPORT;
    o->doc.destination_country = "CN";
    o->doc.currency = "USD";
}
static void m_retail_to_de(struct fx_order_doc *o)
{
    o->doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_RETAIL_IMPORT;
}
static void m_no_lines(struct fx_order_doc *o)
{
    o->doc.n_items = 0;
}
static void m_line_no_zero(struct fx_order_doc *o)
{
    o->item.line_no = 0;
}
static void m_line_no_10000(struct fx_order_doc *o)
{
    o->item.line_no = 10000;
}
static void m_name_empty(struct fx_order_doc *o)
{
    o->item.item_name = "";
}
static void m_name_257_bytes(struct fx_order_doc *o)
{
    static char name[258];
    memset(name, 'x', 257);
    o->item.item_name = name;
}
static void m_name_bad_utf8(struct fx_order_doc *o)
{
    o->item.item_name = "caf\xC3\x28";
}
static void m_name_overlong_utf8(struct fx_order_doc *o)
{
    o->item.item_name = "a\xC0\xAF";
}
static void m_hs_5_digits(struct fx_order_doc *o)
{
    o->item.hs_code = "85182";
}
static void m_hs_11_digits(struct fx_order_doc *o)
{
    o->item.hs_code = "85182200001";
}
static void m_hs_letter(struct fx_order_doc *o)
{
    o->item.hs_code = "85182A";
}
static void m_quantity_zero(struct fx_order_doc *o)
{
    o->item.quantity_milli = 0;
}
static void m_quantity_too_big(struct fx_order_doc *o)
{
    o->item.quantity_milli = UINT64_C(1000000000001);
}
static void m_unit_empty(struct fx_order_doc *o)
{
    o->item.unit = "";
}
static void m_unit_lower(struct fx_order_doc *o)
{
    o->item.unit = "pce";
}
static void m_unit_9_chars(struct fx_order_doc *o)
{
    o->item.unit = "ABCDEFGHI";
}
static void m_price_negative(struct fx_order_doc *o)
{
    o->item.unit_price_minor = -1000;
    o->item.line_total_minor = -1000;
    o->doc.goods_value_minor = -1000;
    o->doc.actual_paid_minor = -1000;
}
static void m_line_total_wrong(struct fx_order_doc *o)
{
    o->item.line_total_minor += 1;
    o->doc.goods_value_minor += 1;
    o->doc.actual_paid_minor += 1;
}
static void m_fraction_not_exact(struct fx_order_doc *o)
{
    o->item.quantity_milli = 1500; /* 1.5 x 333 = 499.5 */
    o->item.unit_price_minor = 333;
    o->item.line_total_minor = 500;
    o->doc.goods_value_minor = 500;
    o->doc.actual_paid_minor = 500;
}
static void m_product_wraps_64_bits(struct fx_order_doc *o)
{
    /* 2^39 x 2^25 = 2^64: zero in 64-bit arithmetic, so only an exact
     * product sees that the line total 0 is wrong. */
    o->item.quantity_milli = UINT64_C(549755813888);
    o->item.unit_price_minor = 33554432;
    o->item.line_total_minor = 0;
    o->doc.goods_value_minor = 0;
    o->doc.actual_paid_minor = 0;
}
static void m_amount_over_max(struct fx_order_doc *o)
{
    int64_t v = INT64_C(1000000000000001);
    o->item.unit_price_minor = v;
    o->item.line_total_minor = v;
    o->doc.goods_value_minor = v;
    o->doc.actual_paid_minor = v;
}
static void m_goods_not_sum(struct fx_order_doc *o)
{
    o->doc.goods_value_minor += 1;
    o->doc.actual_paid_minor += 1;
}
static void m_actual_paid_wrong(struct fx_order_doc *o)
{
    o->doc.freight_minor = 100;
    o->doc.tax_total_minor = 10;
    o->doc.discount_minor = 5;
    o->doc.actual_paid_minor += 100; /* should be +105 */
}
static void m_freight_negative(struct fx_order_doc *o)
{
    o->doc.freight_minor = -10;
    o->doc.actual_paid_minor -= 10;
}
static void m_discount_above_total(struct fx_order_doc *o)
{
    o->doc.discount_minor = o->doc.goods_value_minor + 1;
    o->doc.actual_paid_minor = -1;
}

static const struct order_case order_cases[] = {
    {"order_no with '/'", m_order_no_slash, MER},
    {"empty order_no", m_order_no_empty, MER},
    {"invalid merchant id", m_merchant_bad, PLT},
    {"invalid platform id", m_platform_bad, MER},
    {"trade mode unspecified", m_mode_unspecified, MER},
    {"unknown trade mode", m_mode_unknown, MER},
    {"buyer party on an EXPORT order", m_buyer_party_on_export, MER},
    {"B2B without buyer party", m_b2b_without_buyer, MER},
    {"buyer commitment of 31 bytes", m_buyer_31_bytes, MER},
    {"empty consignee phone commitment", m_consignee_phone_empty, MER},
    {"lower-case currency", m_currency_lower, MER},
    {"two-letter currency", m_currency_short, MER},
    {"alpha-3 origin", m_origin_alpha3, MER},
    {"empty destination", m_destination_empty, MER},
    {"retail import in USD", m_retail_in_usd, MER},
    {"retail import to DE", m_retail_to_de, MER},
    {"no lines", m_no_lines, MER},
    {"line number 0", m_line_no_zero, MER},
    {"line number 10000", m_line_no_10000, MER},
    {"empty item name", m_name_empty, MER},
    {"item name of 257 bytes", m_name_257_bytes, MER},
    {"item name not UTF-8", m_name_bad_utf8, MER},
    {"item name with an overlong UTF-8 form", m_name_overlong_utf8, MER},
    {"HS code of 5 digits", m_hs_5_digits, MER},
    {"HS code of 11 digits", m_hs_11_digits, MER},
    {"HS code with a letter", m_hs_letter, MER},
    {"quantity 0", m_quantity_zero, MER},
    {"quantity over 10^12", m_quantity_too_big, MER},
    {"empty unit", m_unit_empty, MER},
    {"lower-case unit", m_unit_lower, MER},
    {"unit of 9 characters", m_unit_9_chars, MER},
    {"negative prices", m_price_negative, MER},
    {"line total not quantity x price", m_line_total_wrong, MER},
    {"fractional line total", m_fraction_not_exact, MER},
    {"product that wraps in 64 bits", m_product_wraps_64_bits, MER},
    {"amounts over 10^15", m_amount_over_max, MER},
    {"goods value not the sum of lines", m_goods_not_sum, MER},
    {"actual_paid not goods + freight + tax - discount", m_actual_paid_wrong, MER},
    {"negative freight", m_freight_negative, MER},
    {"discount above the total (negative actual_paid)", m_discount_above_total, MER},
};

Test(order, every_document_rule_refuses_a_broken_order_at_admission)
{
    for (size_t i = 0; i < sizeof order_cases / sizeof order_cases[0]; i++) {
        const struct order_case *c = &order_cases[i];
        struct fx_order_doc o;
        fx_order_doc(&o, MER, "SO-1", 1000);
        c->mutate(&o);
        struct fx_result r = submit(c->signer, A_CREATE, &o.doc);
        cr_assert_not(r.admitted, "%s: admitted", c->name);
        cr_assert_eq(r.code, INVALID_DOCUMENT, "%s: got %s: %s", c->name,
                     ledger_result_name(r.code), r.why);
    }
    cr_assert_null(fx_get_order(&f, MER, "SO-1"));
    /* The same valid document goes through. */
    EXPECT_EXEC(create(MER, "SO-1", 1000), OK);
}

static void lines_doc(struct fx_order_doc *o, Hansa__OrderItem *items, Hansa__OrderItem **ptrs,
                      size_t n)
{
    fx_order_doc(o, MER, "SO-L", 1);
    for (size_t i = 0; i < n; i++) {
        items[i] = o->item;
        items[i].line_no = (uint32_t)(i + 1);
        ptrs[i] = &items[i];
    }
    o->doc.items = ptrs;
    o->doc.n_items = n;
    o->doc.goods_value_minor = (int64_t)n;
    o->doc.actual_paid_minor = (int64_t)n;
}

Test(order, at_most_max_order_lines_lines)
{
    static Hansa__OrderItem items[201];
    static Hansa__OrderItem *ptrs[201];
    struct fx_order_doc o;
    lines_doc(&o, items, ptrs, 201);
    EXPECT_REFUSED(submit(MER, A_CREATE, &o.doc), INVALID_DOCUMENT);
    lines_doc(&o, items, ptrs, 200);
    EXPECT_EXEC(submit(MER, A_CREATE, &o.doc), OK);
}

Test(order, max_order_lines_parameter_bounds_the_lines)
{
    fx_close(&f);
    Hansa__Parameters p;
    ledger_params_default(&p);
    p.max_order_lines = 2;
    fx_init_params(&f, &p);
    Hansa__OrderItem items[3], *ptrs[3];
    struct fx_order_doc o;
    lines_doc(&o, items, ptrs, 3);
    EXPECT_REFUSED(submit(MER, A_CREATE, &o.doc), INVALID_DOCUMENT);
    lines_doc(&o, items, ptrs, 2);
    EXPECT_EXEC(submit(MER, A_CREATE, &o.doc), OK);
}

Test(order, line_numbers_must_ascend)
{
    Hansa__OrderItem items[2], *ptrs[2];
    struct fx_order_doc o;
    lines_doc(&o, items, ptrs, 2);
    items[1].line_no = 1; /* repeated */
    EXPECT_REFUSED(submit(MER, A_CREATE, &o.doc), INVALID_DOCUMENT);
    items[0].line_no = 5;
    items[1].line_no = 3; /* descending */
    EXPECT_REFUSED(submit(MER, A_CREATE, &o.doc), INVALID_DOCUMENT);
    items[1].line_no = 6;
    EXPECT_EXEC(submit(MER, A_CREATE, &o.doc), OK);
}

/* ======================================================================== */
TestSuite(cancel, .init = setup, .fini = teardown, .timeout = 60);

Test(cancel, merchant_cancels_its_created_order)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_EXEC(cancel(MER, MER, "SO-1"), OK);
    cr_assert_eq(status_of(MER, "SO-1"), ST_CANCELLED);
    Hansa__HistoryEntry *h = NULL;
    cr_assert_eq(history("order/" MER "/SO-1/", &h), 1);
    cr_assert_eq(h->after->order->status, ST_CANCELLED);
    cr_assert_eq(h->after->order->updated_height, f.height);
    wire_free(h);
}

Test(cancel, platform_that_created_the_order_may_cancel_it)
{
    struct fx_order_doc o;
    fx_order_doc(&o, MER, "SO-P", 500);
    EXPECT_EXEC(submit(PLT, A_CREATE, &o.doc), OK);
    EXPECT_EXEC(cancel(PLT, MER, "SO-P"), OK);
    cr_assert_eq(status_of(MER, "SO-P"), ST_CANCELLED);
}

Test(cancel, platform_named_on_an_order_it_did_not_create_may_not_cancel)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK); /* names PLT-0001, created by the merchant */
    EXPECT_EXEC(cancel(PLT, MER, "SO-1"), NOT_AUTHORIZED);
    cr_assert_eq(status_of(MER, "SO-1"), ST_CREATED);
}

Test(cancel, another_merchant_may_not_cancel_even_in_a_wrong_state)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_EXEC(cancel(MER2, MER, "SO-1"), NOT_AUTHORIZED);
    EXPECT_EXEC(ship(LOG, "SO-1", "W-1"), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_DEPARTED, f.time_ms), OK);
    /* Ownership is checked before state: not INVALID_TRANSITION. */
    EXPECT_EXEC(cancel(MER2, MER, "SO-1"), NOT_AUTHORIZED);
    pledge_in_state(MER, "SO-1");
    EXPECT_EXEC(cancel(MER2, MER, "SO-1"), NOT_AUTHORIZED);
}

Test(cancel, a_party_without_merchant_or_platform_role_is_refused_at_admission)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_REFUSED(cancel("BANK-A", MER, "SO-1"), NOT_AUTHORIZED);
}

Test(cancel, unknown_order_is_not_found)
{
    EXPECT_EXEC(cancel(MER, MER, "SO-404"), NOT_FOUND);
}

Test(cancel, only_a_created_order_can_be_cancelled)
{
    EXPECT_EXEC(create(MER, "SO-S", 500), OK);
    EXPECT_EXEC(ship(LOG, "SO-S", "W-S"), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-S", EV_DEPARTED, f.time_ms), OK);
    EXPECT_EXEC(cancel(MER, MER, "SO-S"), INVALID_TRANSITION);
    cr_assert_eq(status_of(MER, "SO-S"), ST_SHIPPED);

    EXPECT_EXEC(create(MER, "SO-D", 500), OK);
    EXPECT_EXEC(ship(LOG, "SO-D", "W-D"), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-D", EV_DELIVERED, f.time_ms), OK);
    EXPECT_EXEC(cancel(MER, MER, "SO-D"), INVALID_TRANSITION);

    EXPECT_EXEC(create(MER, "SO-R", 500), OK);
    EXPECT_EXEC(ship(LOG, "SO-R", "W-R"), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-R", EV_RETURNED, f.time_ms), OK);
    EXPECT_EXEC(cancel(MER, MER, "SO-R"), INVALID_TRANSITION);

    EXPECT_EXEC(create(MER, "SO-C", 500), OK);
    EXPECT_EXEC(cancel(MER, MER, "SO-C"), OK);
    EXPECT_EXEC(cancel(MER, MER, "SO-C"), INVALID_TRANSITION);
}

Test(cancel, a_pledged_order_cannot_be_cancelled)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    pledge_in_state(MER, "SO-1");
    EXPECT_EXEC(cancel(MER, MER, "SO-1"), INVALID_TRANSITION);
    cr_assert_eq(status_of(MER, "SO-1"), ST_CREATED);
}

Test(cancel, a_cancel_without_an_order_is_malformed_and_a_bad_reference_invalid)
{
    Hansa__CancelOrder c = HANSA__CANCEL_ORDER__INIT;
    EXPECT_REFUSED(submit(MER, A_CANCEL, &c), MALFORMED);
    EXPECT_REFUSED(cancel(MER, MER, "SO/1"), INVALID_DOCUMENT);
    EXPECT_REFUSED(cancel(MER, "", "SO-1"), INVALID_DOCUMENT);
}

Test(cancel, legs_and_events_on_a_cancelled_order_are_invalid_transitions)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_EXEC(ship(LOG, "SO-1", "W-1"), OK);
    EXPECT_EXEC(cancel(MER, MER, "SO-1"), OK);
    EXPECT_EXEC(pay("SO-1", "P-1", 500), INVALID_TRANSITION);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_RECEIVED, f.time_ms), INVALID_TRANSITION);
    EXPECT_EXEC(create(MER, "SO-2", 500), OK);
    EXPECT_EXEC(cancel(MER, MER, "SO-2"), OK);
    EXPECT_EXEC(ship(LOG, "SO-2", "W-2"), INVALID_TRANSITION);
    Hansa__Order *o = fx_get_order(&f, MER, "SO-1");
    cr_assert_null(o->payment);
    wire_free(o);
    cr_assert_not(has_key("payment/" PAY "/P-1"));
    cr_assert_not(has_key("waybill/" LOG "/W-2"));
}

/* ======================================================================== */
TestSuite(payment, .init = setup, .fini = teardown, .timeout = 60);

Test(payment, records_payment_with_history_and_lists_it_for_the_order_parties)
{
    struct fx_order_doc o;
    fx_order_doc(&o, MER, "SO-P", 500);
    EXPECT_EXEC(submit(PLT, A_CREATE, &o.doc), OK);
    struct fx_result r = pay("SO-P", "P-1", 500);
    EXPECT_EXEC(r, OK);
    Hansa__Payment *p = fx_get(&f, &hansa__payment__descriptor, "payment/" PAY "/P-1");
    cr_assert_not_null(p);
    cr_assert_str_eq(p->institution, PAY);
    cr_assert_eq(p->recorded_height, f.height);
    cr_assert_eq(memcmp(p->tx_id.data, r.tx_id, 32), 0);
    cr_assert_eq(p->document->amount_paid_minor, 500);
    wire_free(p);
    Hansa__Order *rec = fx_get_order(&f, MER, "SO-P");
    cr_assert_str_eq(rec->payment->institution, PAY);
    cr_assert_str_eq(rec->payment->pay_transaction_id, "P-1");
    cr_assert_eq(rec->match->status, M_PENDING, "no waybill yet");
    cr_assert_eq(rec->updated_height, f.height);
    wire_free(rec);
    cr_assert_eq(history("payment/" PAY "/P-1/", NULL), 1);
    cr_assert_eq(history("order/" MER "/SO-P/", NULL), 1);
    cr_assert(has_key("ix/" PAY "/payment/payment/" PAY "/P-1"));
    cr_assert(has_key("ix/" MER "/payment/payment/" PAY "/P-1"));
    cr_assert(has_key("ix/" PLT "/payment/payment/" PAY "/P-1"));
    cr_assert(has_key("ix/" PAY "/order/order/" MER "/SO-P"));
}

Test(payment, payment_for_an_unknown_order_is_not_found)
{
    EXPECT_EXEC(pay("SO-404", "P-1", 500), NOT_FOUND);
    cr_assert_not(has_key("payment/" PAY "/P-1"));
}

Test(payment, an_order_has_one_payment)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_EXEC(pay("SO-1", "P-1", 500), OK);
    EXPECT_EXEC(pay("SO-1", "P-2", 500), DUPLICATE_ID);
    cr_assert_not(has_key("payment/" PAY "/P-2"));
}

Test(payment, pay_transaction_id_is_unique_per_institution)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_EXEC(create(MER, "SO-2", 500), OK);
    EXPECT_EXEC(pay("SO-1", "P-1", 500), OK);
    EXPECT_EXEC(pay("SO-2", "P-1", 500), DUPLICATE_ID);
    Hansa__Order *o = fx_get_order(&f, MER, "SO-2");
    cr_assert_null(o->payment);
    wire_free(o);
}

Test(payment, every_document_rule_refuses_a_broken_payment_at_admission)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    struct fx_payment_doc p;
    fx_payment_doc(&p, MER, "SO-1", "P-1", 500);
    p.doc.order = NULL;
    EXPECT_REFUSED(submit(PAY, A_PAY, &p.doc), MALFORMED);
    static const char *const bad_ids[] = {"", "P/1"};
    for (size_t i = 0; i < 2; i++) {
        fx_payment_doc(&p, MER, "SO-1", "P-1", 500);
        p.doc.pay_transaction_id = (char *)bad_ids[i];
        EXPECT_REFUSED(submit(PAY, A_PAY, &p.doc), INVALID_DOCUMENT);
    }
    fx_payment_doc(&p, MER, "SO-1", "P-1", 500);
    p.order.order_no = "SO 1";
    EXPECT_REFUSED(submit(PAY, A_PAY, &p.doc), INVALID_DOCUMENT);
    fx_payment_doc(&p, MER, "SO-1", "P-1", 500);
    static const uint8_t long33[33] = {0xB0, 0x01};
    p.doc.payer_commitment = (ProtobufCBinaryData){33, (uint8_t *)long33};
    EXPECT_REFUSED(submit(PAY, A_PAY, &p.doc), INVALID_DOCUMENT);
    fx_payment_doc(&p, MER, "SO-1", "P-1", -1);
    EXPECT_REFUSED(submit(PAY, A_PAY, &p.doc), INVALID_DOCUMENT);
    fx_payment_doc(&p, MER, "SO-1", "P-1", INT64_C(1000000000000001));
    EXPECT_REFUSED(submit(PAY, A_PAY, &p.doc), INVALID_DOCUMENT);
    fx_payment_doc(&p, MER, "SO-1", "P-1", 500);
    p.doc.currency = "RMB1";
    EXPECT_REFUSED(submit(PAY, A_PAY, &p.doc), INVALID_DOCUMENT);
    fx_payment_doc(&p, MER, "SO-1", "P-1", INT64_C(1000000000000000)); /* the maximum */
    EXPECT_EXEC(submit(PAY, A_PAY, &p.doc), OK);
}

/* ======================================================================== */
TestSuite(waybill, .init = setup, .fini = teardown, .timeout = 60);

Test(waybill, creates_waybill_with_history_and_lists_it_for_the_order_parties)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    struct fx_result r = ship(LOG, "SO-1", "W-1");
    EXPECT_EXEC(r, OK);
    Hansa__Waybill *w = fx_get(&f, &hansa__waybill__descriptor, "waybill/" LOG "/W-1");
    cr_assert_not_null(w);
    cr_assert_str_eq(w->carrier, LOG);
    cr_assert_eq(w->n_events, 0);
    cr_assert_eq(w->created_height, f.height);
    cr_assert_eq(memcmp(w->tx_id.data, r.tx_id, 32), 0);
    wire_free(w);
    Hansa__Order *o = fx_get_order(&f, MER, "SO-1");
    cr_assert_str_eq(o->waybill->carrier, LOG);
    cr_assert_str_eq(o->waybill->logistics_no, "W-1");
    cr_assert_eq(o->match->status, M_PENDING, "no payment yet");
    wire_free(o);
    cr_assert_eq(history("waybill/" LOG "/W-1/", NULL), 1);
    cr_assert_eq(history("order/" MER "/SO-1/", NULL), 1);
    cr_assert(has_key("ix/" LOG "/waybill/waybill/" LOG "/W-1"));
    cr_assert(has_key("ix/" MER "/waybill/waybill/" LOG "/W-1"));
    cr_assert(has_key("ix/" LOG "/order/order/" MER "/SO-1"));
}

Test(waybill, waybill_for_an_unknown_order_is_not_found)
{
    EXPECT_EXEC(ship(LOG, "SO-404", "W-1"), NOT_FOUND);
}

Test(waybill, an_order_has_one_waybill_from_any_carrier)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_EXEC(ship(LOG, "SO-1", "W-1"), OK);
    EXPECT_EXEC(ship(LOG, "SO-1", "W-2"), DUPLICATE_ID);
    EXPECT_EXEC(ship(LOG2, "SO-1", "W-9"), DUPLICATE_ID);
    cr_assert_not(has_key("waybill/" LOG2 "/W-9"));
}

Test(waybill, logistics_no_is_unique_per_carrier)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_EXEC(create(MER, "SO-2", 500), OK);
    EXPECT_EXEC(create(MER, "SO-3", 500), OK);
    EXPECT_EXEC(ship(LOG, "SO-1", "W-1"), OK);
    EXPECT_EXEC(ship(LOG, "SO-2", "W-1"), DUPLICATE_ID);
    EXPECT_EXEC(ship(LOG2, "SO-3", "W-1"), OK); /* another carrier's numbering */
}

/* Each case breaks one rule of a valid waybill. */
struct waybill_case {
    const char *name;
    void (*mutate)(struct fx_waybill_doc *w);
};

static void w_no_bad(struct fx_waybill_doc *w)
{
    w->doc.logistics_no = "W/1";
}
static void w_order_bad(struct fx_waybill_doc *w)
{
    w->order.merchant = "";
}
static void w_freight_negative(struct fx_waybill_doc *w)
{
    w->doc.freight_minor = -1;
}
static void w_insured_over_max(struct fx_waybill_doc *w)
{
    w->doc.insured_fee_minor = INT64_C(1000000000000001);
}
static void w_currency_bad(struct fx_waybill_doc *w)
{
    w->doc.currency = "C1Y";
}
static void w_weight_zero(struct fx_waybill_doc *w)
{
    w->doc.gross_weight_grams = 0;
}
static void w_weight_too_big(struct fx_waybill_doc *w)
{
    w->doc.gross_weight_grams = UINT64_C(1000000000001);
}
static void w_packages_zero(struct fx_waybill_doc *w)
{
    w->doc.package_count = 0;
}
static void w_packages_too_many(struct fx_waybill_doc *w)
{
    w->doc.package_count = 1000001;
}
static void w_description_empty(struct fx_waybill_doc *w)
{
    w->doc.goods_description = "";
}
static void w_description_513_bytes(struct fx_waybill_doc *w)
{
    static char d[514];
    memset(d, 'd', 513);
    w->doc.goods_description = d;
}
static void w_description_bad_utf8(struct fx_waybill_doc *w)
{
    w->doc.goods_description = "\xED\xA0\x80"; /* a UTF-16 surrogate */
}
static void w_no_hs_codes(struct fx_waybill_doc *w)
{
    w->doc.n_hs_codes = 0;
}
static void w_hs_code_bad(struct fx_waybill_doc *w)
{
    w->hs_codes[0] = "8518";
}
static void w_consignee_short(struct fx_waybill_doc *w)
{
    w->doc.consignee_address_commitment.len = 16;
}
static void w_origin_bad(struct fx_waybill_doc *w)
{
    w->doc.origin_locode = "CNSZ";
}
static void w_destination_bad(struct fx_waybill_doc *w)
{
    w->doc.destination_locode = "dEHAM";
}

static const struct waybill_case waybill_cases[] = {
    {"logistics_no with '/'", w_no_bad},
    {"empty merchant in the order reference", w_order_bad},
    {"negative freight", w_freight_negative},
    {"insured fee over 10^15", w_insured_over_max},
    {"currency with a digit", w_currency_bad},
    {"zero weight", w_weight_zero},
    {"weight over 10^12 g", w_weight_too_big},
    {"zero packages", w_packages_zero},
    {"over 1,000,000 packages", w_packages_too_many},
    {"empty description", w_description_empty},
    {"description of 513 bytes", w_description_513_bytes},
    {"description not UTF-8", w_description_bad_utf8},
    {"no HS codes", w_no_hs_codes},
    {"HS code of 4 digits", w_hs_code_bad},
    {"consignee commitment of 16 bytes", w_consignee_short},
    {"origin of 4 characters", w_origin_bad},
    {"lower-case destination", w_destination_bad},
};

Test(waybill, every_document_rule_refuses_a_broken_waybill_at_admission)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    for (size_t i = 0; i < sizeof waybill_cases / sizeof waybill_cases[0]; i++) {
        struct fx_waybill_doc w;
        fx_waybill_doc(&w, MER, "SO-1", "W-1");
        waybill_cases[i].mutate(&w);
        struct fx_result r = submit(LOG, A_WAYBILL, &w.doc);
        cr_assert_not(r.admitted, "%s: admitted", waybill_cases[i].name);
        cr_assert_eq(r.code, INVALID_DOCUMENT, "%s: got %s: %s", waybill_cases[i].name,
                     ledger_result_name(r.code), r.why);
    }
    struct fx_waybill_doc w;
    fx_waybill_doc(&w, MER, "SO-1", "W-1");
    w.doc.order = NULL;
    EXPECT_REFUSED(submit(LOG, A_WAYBILL, &w.doc), MALFORMED);
    EXPECT_EXEC(ship(LOG, "SO-1", "W-1"), OK);
}

/* ======================================================================== */
TestSuite(shipment, .init = setup, .fini = teardown, .timeout = 60);

static void order_with_waybill(const char *no, const char *wb)
{
    EXPECT_EXEC(create(MER, no, 500), OK);
    EXPECT_EXEC(ship(LOG, no, wb), OK);
}

Test(shipment, first_departed_ships_the_order_and_events_are_recorded)
{
    order_with_waybill("SO-1", "W-1");
    uint64_t t0 = f.time_ms - 5000;
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_RECEIVED, t0), OK);
    cr_assert_eq(status_of(MER, "SO-1"), ST_CREATED);
    cr_assert_eq(history("order/" MER "/SO-1/", NULL), 0, "RECEIVED does not change the order");
    cr_assert_eq(history("waybill/" LOG "/W-1/", NULL), 1);
    struct fx_result r = event(LOG, LOG, "W-1", EV_DEPARTED, t0 + 1);
    EXPECT_EXEC(r, OK);
    cr_assert_eq(status_of(MER, "SO-1"), ST_SHIPPED);
    Hansa__HistoryEntry *h = NULL;
    cr_assert_eq(history("order/" MER "/SO-1/", &h), 1);
    cr_assert_eq(h->after->order->status, ST_SHIPPED);
    wire_free(h);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_DEPARTED, t0 + 2), OK);
    cr_assert_eq(history("order/" MER "/SO-1/", NULL), 0, "only the first DEPARTED matters");
    cr_assert_eq(status_of(MER, "SO-1"), ST_SHIPPED);

    Hansa__Waybill *w = fx_get(&f, &hansa__waybill__descriptor, "waybill/" LOG "/W-1");
    cr_assert_eq(w->n_events, 3);
    cr_assert_eq(w->events[0]->type, EV_RECEIVED);
    cr_assert_eq(w->events[1]->type, EV_DEPARTED);
    cr_assert_eq(w->events[1]->event_time_ms, t0 + 1);
    cr_assert_str_eq(w->events[1]->location_locode, "CNSZX");
    cr_assert_eq(memcmp(w->events[1]->tx_id.data, r.tx_id, 32), 0);
    cr_assert_eq(w->events[2]->recorded_height, f.height);
    wire_free(w);
}

Test(shipment, delivered_moves_a_shipped_or_a_created_order_to_delivered)
{
    order_with_waybill("SO-1", "W-1");
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_DEPARTED, f.time_ms), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_DELIVERED, f.time_ms), OK);
    cr_assert_eq(status_of(MER, "SO-1"), ST_DELIVERED);
    order_with_waybill("SO-2", "W-2");
    EXPECT_EXEC(event(LOG, LOG, "W-2", EV_DELIVERED, f.time_ms), OK);
    cr_assert_eq(status_of(MER, "SO-2"), ST_DELIVERED);
}

Test(shipment, returned_moves_the_order_to_returned)
{
    order_with_waybill("SO-1", "W-1");
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_DEPARTED, f.time_ms), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_RETURNED, f.time_ms), OK);
    cr_assert_eq(status_of(MER, "SO-1"), ST_RETURNED);
    order_with_waybill("SO-2", "W-2");
    EXPECT_EXEC(event(LOG, LOG, "W-2", EV_RETURNED, f.time_ms), OK);
    cr_assert_eq(status_of(MER, "SO-2"), ST_RETURNED);
}

Test(shipment, after_delivered_or_returned_only_exception)
{
    order_with_waybill("SO-1", "W-1");
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_DELIVERED, f.time_ms), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_EXCEPTION, f.time_ms), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_ARRIVED, f.time_ms), IMPLAUSIBLE_EVENT);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_RETURNED, f.time_ms), IMPLAUSIBLE_EVENT);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_DELIVERED, f.time_ms), IMPLAUSIBLE_EVENT);
    cr_assert_eq(status_of(MER, "SO-1"), ST_DELIVERED);

    order_with_waybill("SO-2", "W-2");
    EXPECT_EXEC(event(LOG, LOG, "W-2", EV_RETURNED, f.time_ms), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-2", EV_DELIVERED, f.time_ms), IMPLAUSIBLE_EVENT);
    EXPECT_EXEC(event(LOG, LOG, "W-2", EV_DEPARTED, f.time_ms), IMPLAUSIBLE_EVENT);
    EXPECT_EXEC(event(LOG, LOG, "W-2", EV_EXCEPTION, f.time_ms), OK);
    cr_assert_eq(status_of(MER, "SO-2"), ST_RETURNED);
}

Test(shipment, event_time_may_not_go_back)
{
    order_with_waybill("SO-1", "W-1");
    uint64_t t = f.time_ms - 60000;
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_RECEIVED, t), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_DEPARTED, t - 1), IMPLAUSIBLE_EVENT);
    cr_assert_eq(status_of(MER, "SO-1"), ST_CREATED);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_DEPARTED, t), OK); /* the same time is fine */
}

Test(shipment, event_time_at_most_the_future_bound_after_block_time)
{
    order_with_waybill("SO-1", "W-1");
    /* The next block's time is f.time_ms. */
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_RECEIVED, f.time_ms + 3600001), IMPLAUSIBLE_EVENT);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_RECEIVED, f.time_ms + 3600000), OK);
}

Test(shipment, event_future_bound_is_a_parameter)
{
    fx_close(&f);
    Hansa__Parameters p;
    ledger_params_default(&p);
    p.event_future_bound_ms = 0;
    fx_init_params(&f, &p);
    order_with_waybill("SO-1", "W-1");
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_RECEIVED, f.time_ms + 1), IMPLAUSIBLE_EVENT);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_RECEIVED, f.time_ms), OK);
}

Test(shipment, a_waybill_holds_at_most_max_waybill_events)
{
    fx_close(&f);
    Hansa__Parameters p;
    ledger_params_default(&p);
    p.max_waybill_events = 16;
    fx_init_params(&f, &p);
    order_with_waybill("SO-1", "W-1");
    for (int i = 0; i < 16; i++)
        EXPECT_EXEC(event(LOG, LOG, "W-1", EV_ARRIVED, f.time_ms), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_ARRIVED, f.time_ms), IMPLAUSIBLE_EVENT);
    Hansa__Waybill *w = fx_get(&f, &hansa__waybill__descriptor, "waybill/" LOG "/W-1");
    cr_assert_eq(w->n_events, 16);
    wire_free(w);
}

Test(shipment, only_the_waybills_carrier_adds_events_checked_before_anything_else)
{
    order_with_waybill("SO-1", "W-1");
    /* LOG-0002 naming LOG-0001's waybill. */
    EXPECT_EXEC(event(LOG2, LOG, "W-1", EV_RECEIVED, f.time_ms), NOT_AUTHORIZED);
    /* ... even one that does not exist, or whose order is cancelled. */
    EXPECT_EXEC(event(LOG2, LOG, "W-404", EV_RECEIVED, f.time_ms), NOT_AUTHORIZED);
    EXPECT_EXEC(cancel(MER, MER, "SO-1"), OK);
    EXPECT_EXEC(event(LOG2, LOG, "W-1", EV_RECEIVED, f.time_ms), NOT_AUTHORIZED);
    /* Naming itself as the carrier of a waybill it does not have. */
    EXPECT_EXEC(event(LOG2, LOG2, "W-1", EV_RECEIVED, f.time_ms), NOT_FOUND);
    EXPECT_REFUSED(event(PAY, PAY, "W-1", EV_RECEIVED, f.time_ms), NOT_AUTHORIZED);
}

Test(shipment, event_on_an_unknown_waybill_is_not_found)
{
    EXPECT_EXEC(event(LOG, LOG, "W-404", EV_RECEIVED, f.time_ms), NOT_FOUND);
}

Test(shipment, a_broken_event_is_refused_at_admission)
{
    order_with_waybill("SO-1", "W-1");
    EXPECT_REFUSED(event(LOG, LOG, "W-1",
                         HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_UNSPECIFIED, f.time_ms),
                   INVALID_DOCUMENT);
    EXPECT_REFUSED(event(LOG, LOG, "W-1", (Hansa__ShipmentEventType)12, f.time_ms),
                   INVALID_DOCUMENT);
    EXPECT_REFUSED(event(LOG, LOG, "W/1", EV_RECEIVED, f.time_ms), INVALID_DOCUMENT);
    Hansa__WaybillRef ref = HANSA__WAYBILL_REF__INIT;
    ref.carrier = LOG;
    ref.logistics_no = "W-1";
    Hansa__AddShipmentEvent e = HANSA__ADD_SHIPMENT_EVENT__INIT;
    e.waybill = &ref;
    e.type = EV_RECEIVED;
    e.location_locode = "CN-SZ";
    e.event_time_ms = f.time_ms;
    EXPECT_REFUSED(submit(LOG, A_EVENT, &e), INVALID_DOCUMENT);
    e.waybill = NULL;
    e.location_locode = "CNSZX";
    EXPECT_REFUSED(submit(LOG, A_EVENT, &e), MALFORMED);
}

/* ======================================================================== */
TestSuite(match, .init = setup, .fini = teardown, .timeout = 60);

Test(match, order_then_payment_then_waybill_matches_in_the_last_legs_block)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_EXEC(pay("SO-1", "P-1", 500), OK);
    Hansa__Order *o = fx_get_order(&f, MER, "SO-1");
    cr_assert_eq(o->match->status, M_PENDING);
    cr_assert_eq(o->match->decided_height, 0);
    wire_free(o);
    uint64_t block_ms = f.time_ms;
    EXPECT_EXEC(ship(LOG, "SO-1", "W-1"), OK);
    o = fx_get_order(&f, MER, "SO-1");
    assert_reasons(o, NULL, 0, "matched");
    cr_assert_eq(o->match->decided_height, f.height);
    cr_assert_eq(o->match->decided_ms, block_ms);
    wire_free(o);
    Hansa__HistoryEntry *h = NULL;
    cr_assert_eq(history("order/" MER "/SO-1/", &h), 1, "one history entry per change");
    cr_assert_eq(h->after->order->match->status, M_MATCHED);
    wire_free(h);
}

Test(match, waybill_before_payment_matches_when_the_payment_arrives)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_EXEC(ship(LOG, "SO-1", "W-1"), OK);
    Hansa__Order *o = fx_get_order(&f, MER, "SO-1");
    cr_assert_eq(o->match->status, M_PENDING);
    wire_free(o);
    EXPECT_EXEC(pay("SO-1", "P-1", 500), OK);
    o = fx_get_order(&f, MER, "SO-1");
    assert_reasons(o, NULL, 0, "matched");
    cr_assert_eq(o->match->decided_height, f.height);
    wire_free(o);
}

Test(match, legs_after_shipment_events_still_match)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_EXEC(ship(LOG, "SO-1", "W-1"), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_DELIVERED, f.time_ms), OK);
    EXPECT_EXEC(pay("SO-1", "P-1", 500), OK);
    Hansa__Order *o = fx_get_order(&f, MER, "SO-1");
    assert_reasons(o, NULL, 0, "matched");
    cr_assert_eq(o->status, ST_DELIVERED);
    wire_free(o);
}

Test(match, all_three_legs_in_one_block_match)
{
    struct fx_order_doc o;
    struct fx_payment_doc p;
    struct fx_waybill_doc w;
    fx_order_doc(&o, MER, "SO-1", 500);
    fx_payment_doc(&p, MER, "SO-1", "P-1", 500);
    fx_waybill_doc(&w, MER, "SO-1", "W-1");
    Hansa__TxBody bo, bp, bw;
    fx_body(&bo, A_CREATE, &o.doc);
    fx_body(&bw, A_WAYBILL, &w.doc);
    fx_body(&bp, A_PAY, &p.doc);
    const char *signers[3] = {MER, LOG, PAY};
    Hansa__TxBody *bodies[3] = {&bo, &bw, &bp};
    struct fx_result r[3];
    fx_block(&f, signers, bodies, 3, r);
    for (int i = 0; i < 3; i++)
        EXPECT_EXEC(r[i], OK);
    Hansa__Order *order = fx_get_order(&f, MER, "SO-1");
    assert_reasons(order, NULL, 0, "matched");
    wire_free(order);
    cr_assert_eq(history("order/" MER "/SO-1/", NULL), 3, "create, waybill, payment");
}

Test(match, the_fixture_helper_gets_a_matched_order)
{
    fx_matched_order(&f, MER, "SO-FX", 123456);
    Hansa__Order *o = fx_get_order(&f, MER, "SO-FX");
    cr_assert_eq(o->match->status, M_MATCHED);
    cr_assert_eq(o->status, ST_CREATED);
    wire_free(o);
}

/* One mismatch at a time. */
struct mismatch_case {
    const char *name;
    void (*mutate)(struct fx_order_doc *, struct fx_payment_doc *, struct fx_waybill_doc *);
    Hansa__MatchReason reason;
};

static void x_amount_up(struct fx_order_doc *o, struct fx_payment_doc *p, struct fx_waybill_doc *w)
{
    p->doc.amount_paid_minor += 1;
}
static void x_amount_down(struct fx_order_doc *o, struct fx_payment_doc *p,
                          struct fx_waybill_doc *w)
{
    p->doc.amount_paid_minor -= 1;
}
static void x_currency(struct fx_order_doc *o, struct fx_payment_doc *p, struct fx_waybill_doc *w)
{
    p->doc.currency = "USD";
}
static void x_payer(struct fx_order_doc *o, struct fx_payment_doc *p, struct fx_waybill_doc *w)
{
    p->doc.payer_commitment.data = (uint8_t *)OTHER;
}
static void x_consignee_name(struct fx_order_doc *o, struct fx_payment_doc *p,
                             struct fx_waybill_doc *w)
{
    w->doc.consignee_name_commitment.data = (uint8_t *)OTHER;
}
static void x_consignee_phone(struct fx_order_doc *o, struct fx_payment_doc *p,
                              struct fx_waybill_doc *w)
{
    w->doc.consignee_phone_commitment.data = (uint8_t *)OTHER;
}
static void x_consignee_address(struct fx_order_doc *o, struct fx_payment_doc *p,
                                struct fx_waybill_doc *w)
{
    w->doc.consignee_address_commitment.data = (uint8_t *)OTHER;
}
static void x_per_order_limit(struct fx_order_doc *o, struct fx_payment_doc *p,
                              struct fx_waybill_doc *w)
{
    /* A retail-import order of 500,001 fen, paid in full. */
    o->doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_RETAIL_IMPORT;
    o->doc.destination_country = "CN";
    o->item.unit_price_minor = o->item.line_total_minor = 500001;
    o->doc.goods_value_minor = o->doc.actual_paid_minor = 500001;
    p->doc.amount_paid_minor = 500001;
}

static const struct mismatch_case mismatch_cases[] = {
    {"overpaid", x_amount_up, R_AMOUNT},
    {"underpaid", x_amount_down, R_AMOUNT},
    {"payment in USD", x_currency, R_CURRENCY},
    {"another payer", x_payer, R_PAYER},
    {"another consignee name", x_consignee_name, R_CONSIGNEE},
    {"another consignee phone", x_consignee_phone, R_CONSIGNEE},
    {"another consignee address", x_consignee_address, R_CONSIGNEE},
    {"retail import over the per-order limit", x_per_order_limit, R_PER_ORDER},
};

Test(match, each_mismatch_reason_alone)
{
    for (size_t i = 0; i < sizeof mismatch_cases / sizeof mismatch_cases[0]; i++) {
        const struct mismatch_case *c = &mismatch_cases[i];
        char no[16], pay_id[16], wb[16];
        snprintf(no, sizeof no, "SO-%zu", i);
        snprintf(pay_id, sizeof pay_id, "P-%zu", i);
        snprintf(wb, sizeof wb, "W-%zu", i);
        struct fx_order_doc o;
        struct fx_payment_doc p;
        struct fx_waybill_doc w;
        fx_order_doc(&o, MER, no, 1000);
        fx_payment_doc(&p, MER, no, pay_id, 1000);
        fx_waybill_doc(&w, MER, no, wb);
        c->mutate(&o, &p, &w);
        Hansa__Order *order = three_legs(&o, &p, &w);
        assert_reasons(order, &c->reason, 1, c->name);
        cr_assert_eq(order->match->decided_height, f.height, "%s", c->name);
        wire_free(order);
    }
    cr_assert_eq(annual_total(FX_BUYER, 2026), -1, "mismatched orders never count");
}

Test(match, every_reason_that_applies_is_listed_in_ascending_order)
{
    struct fx_order_doc o;
    struct fx_payment_doc p;
    struct fx_waybill_doc w;
    /* Retail import of 2,600,001 fen: over both limits on its own. */
    retail_doc(&o, "SO-ALL", 2600001);
    fx_payment_doc(&p, MER, "SO-ALL", "P-1", 2600000);
    p.doc.currency = "USD";
    p.doc.payer_commitment.data = (uint8_t *)OTHER;
    fx_waybill_doc(&w, MER, "SO-ALL", "W-1");
    w.doc.consignee_phone_commitment.data = (uint8_t *)OTHER;
    Hansa__Order *order = three_legs(&o, &p, &w);
    static const Hansa__MatchReason all[] = {R_AMOUNT,    R_CURRENCY,  R_PAYER,
                                             R_CONSIGNEE, R_PER_ORDER, R_ANNUAL};
    assert_reasons(order, all, 6, "all six");
    wire_free(order);

    fx_order_doc(&o, MER, "SO-TWO", 1000);
    fx_payment_doc(&p, MER, "SO-TWO", "P-2", 999);
    fx_waybill_doc(&w, MER, "SO-TWO", "W-2");
    w.doc.consignee_name_commitment.data = (uint8_t *)OTHER;
    order = three_legs(&o, &p, &w);
    static const Hansa__MatchReason two[] = {R_AMOUNT, R_CONSIGNEE};
    assert_reasons(order, two, 2, "amount and consignee");
    wire_free(order);
}

Test(match, amount_tolerance_is_a_parameter)
{
    fx_close(&f);
    Hansa__Parameters prm;
    ledger_params_default(&prm);
    prm.match_amount_tolerance_minor = 5;
    fx_init_params(&f, &prm);
    static const struct {
        const char *no;
        int64_t paid;
        bool matched;
    } cases[] = {
        {"SO-1", 1005, true}, {"SO-2", 995, true}, {"SO-3", 1006, false}, {"SO-4", 994, false}};
    for (size_t i = 0; i < 4; i++) {
        struct fx_order_doc o;
        struct fx_payment_doc p;
        struct fx_waybill_doc w;
        char pay_id[16], wb[16];
        snprintf(pay_id, sizeof pay_id, "P-%zu", i);
        snprintf(wb, sizeof wb, "W-%zu", i);
        fx_order_doc(&o, MER, cases[i].no, 1000);
        fx_payment_doc(&p, MER, cases[i].no, pay_id, cases[i].paid);
        fx_waybill_doc(&w, MER, cases[i].no, wb);
        Hansa__Order *order = three_legs(&o, &p, &w);
        static const Hansa__MatchReason amount[] = {R_AMOUNT};
        assert_reasons(order, amount, cases[i].matched ? 0 : 1, cases[i].no);
        wire_free(order);
    }
}

Test(match, per_order_limit_applies_to_retail_import_only_and_above_the_limit)
{
    cr_assert_eq(retail_matched("SO-EQ", 500000, FX_BUYER), M_MATCHED, "at the limit");
    /* An export order of the same buyer far above the limit matches. */
    struct fx_order_doc o;
    struct fx_payment_doc p;
    struct fx_waybill_doc w;
    fx_order_doc(&o, MER, "SO-EX", 9000000);
    fx_payment_doc(&p, MER, "SO-EX", "P-EX", 9000000);
    fx_waybill_doc(&w, MER, "SO-EX", "W-EX");
    Hansa__Order *order = three_legs(&o, &p, &w);
    assert_reasons(order, NULL, 0, "export");
    wire_free(order);
    cr_assert_eq(annual_total(FX_BUYER, 2026), 500000, "export orders do not count");
}

Test(match, annual_limit_counts_the_buyers_matched_retail_orders_of_the_year)
{
    /* 5 x 500,000 + 100,000 = 2,600,000: exactly the limit. */
    for (int i = 0; i < 5; i++) {
        char no[16];
        snprintf(no, sizeof no, "SO-%d", i);
        cr_assert_eq(retail_matched(no, 500000, FX_BUYER), M_MATCHED, "%s", no);
    }
    cr_assert_eq(retail_matched("SO-5", 100000, FX_BUYER), M_MATCHED);
    cr_assert_eq(annual_total(FX_BUYER, 2026), 2600000);
    /* One more fen is over it, alone among the reasons. */
    struct fx_order_doc o;
    struct fx_payment_doc p;
    struct fx_waybill_doc w;
    retail_doc(&o, "SO-6", 1);
    fx_payment_doc(&p, MER, "SO-6", "P-SO-6", 1);
    fx_waybill_doc(&w, MER, "SO-6", "W-SO-6");
    Hansa__Order *order = three_legs(&o, &p, &w);
    static const Hansa__MatchReason annual[] = {R_ANNUAL};
    assert_reasons(order, annual, 1, "over the annual limit");
    wire_free(order);
    cr_assert_eq(annual_total(FX_BUYER, 2026), 2600000, "a mismatched order does not count");
    /* Another buyer has its own allowance. */
    cr_assert_eq(retail_matched("SO-B2", 500000, BUYER2), M_MATCHED);
    cr_assert_eq(annual_total(BUYER2, 2026), 500000);
}

Test(match, mismatched_retail_orders_do_not_use_up_the_allowance)
{
    fx_close(&f);
    Hansa__Parameters prm;
    ledger_params_default(&prm);
    prm.retail_import_annual_limit_minor = 1000;
    fx_init_params(&f, &prm);
    struct fx_order_doc o;
    struct fx_payment_doc p;
    struct fx_waybill_doc w;
    retail_doc(&o, "SO-1", 800);
    fx_payment_doc(&p, MER, "SO-1", "P-1", 800);
    p.doc.payer_commitment.data = (uint8_t *)OTHER;
    fx_waybill_doc(&w, MER, "SO-1", "W-1");
    Hansa__Order *order = three_legs(&o, &p, &w);
    static const Hansa__MatchReason payer[] = {R_PAYER};
    assert_reasons(order, payer, 1, "payer");
    wire_free(order);
    cr_assert_eq(annual_total(FX_BUYER, 2026), -1);
    cr_assert_eq(retail_matched("SO-2", 800, FX_BUYER), M_MATCHED);
}

Test(match, annual_limit_year_is_the_calendar_year_at_utc_plus_8)
{
    fx_close(&f);
    Hansa__Parameters prm;
    ledger_params_default(&prm);
    prm.retail_import_per_order_limit_minor = 1000000;
    prm.retail_import_annual_limit_minor = 1000000;
    fx_init_params(&f, &prm);
    /* Matched at 2026-12-31 15:59 UTC = 23:59 at UTC+8: counts for 2026. */
    f.time_ms = T_2026_12_31_1559_UTC - 2 * FX_BLOCK_MS;
    cr_assert_eq(retail_matched("SO-A", 1000000, FX_BUYER), M_MATCHED);
    cr_assert_eq(annual_total(FX_BUYER, 2026), 1000000);
    /* Matched at 2026-12-31 17:00 UTC = 2027-01-01 01:00 at UTC+8: a new
     * year, so the full 2026 total does not apply (in UTC it would). */
    f.time_ms = T_2026_12_31_1700_UTC - 2 * FX_BLOCK_MS;
    cr_assert_eq(retail_matched("SO-B", 1000000, FX_BUYER), M_MATCHED);
    Hansa__Order *o = fx_get_order(&f, MER, "SO-B");
    cr_assert_eq(o->match->decided_ms, T_2026_12_31_1700_UTC);
    wire_free(o);
    cr_assert_eq(annual_total(FX_BUYER, 2027), 1000000);
    cr_assert_eq(annual_total(FX_BUYER, 2026), 1000000);
    /* And 2027 is now full. */
    cr_assert_eq(retail_matched("SO-C", 1, FX_BUYER), M_MISMATCHED);
}

Test(match, cancelling_a_matched_retail_order_frees_its_share_of_the_year)
{
    fx_close(&f);
    Hansa__Parameters prm;
    ledger_params_default(&prm);
    prm.retail_import_annual_limit_minor = 1000;
    fx_init_params(&f, &prm);
    cr_assert_eq(retail_matched("SO-A", 600, FX_BUYER), M_MATCHED);
    cr_assert_eq(retail_matched("SO-B", 500, FX_BUYER), M_MISMATCHED, "600 + 500 > 1000");
    EXPECT_EXEC(cancel(MER, MER, "SO-B"), OK); /* mismatched: nothing to take off */
    cr_assert_eq(annual_total(FX_BUYER, 2026), 600);
    EXPECT_EXEC(cancel(MER, MER, "SO-A"), OK);
    cr_assert_eq(annual_total(FX_BUYER, 2026), 0);
    Hansa__Order *o = fx_get_order(&f, MER, "SO-A");
    cr_assert_eq(o->match->status, M_MATCHED, "the match result itself stays");
    wire_free(o);
    cr_assert_eq(retail_matched("SO-C", 1000, FX_BUYER), M_MATCHED);
    cr_assert_eq(annual_total(FX_BUYER, 2026), 1000);
}

Test(match, cancelling_a_matched_export_order_leaves_the_annual_totals)
{
    cr_assert_eq(retail_matched("SO-R", 1000, FX_BUYER), M_MATCHED);
    fx_matched_order(&f, MER, "SO-X", 5000);
    EXPECT_EXEC(cancel(MER, MER, "SO-X"), OK);
    cr_assert_eq(annual_total(FX_BUYER, 2026), 1000);
}

/* ======================================================================== */
TestSuite(rollback, .init = setup, .fini = teardown, .timeout = 60);

Test(rollback, a_rejected_transaction_leaves_no_history_and_no_state)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    EXPECT_EXEC(pay("SO-1", "P-1", 500), OK);
    EXPECT_EXEC(ship(LOG, "SO-1", "W-1"), OK);
    EXPECT_EXEC(event(LOG, LOG, "W-1", EV_DELIVERED, f.time_ms), OK);
    size_t keys = memstate_count(f.ms);
    /* Each runs alone in its block, so that block must write nothing. */
#define REJECTED_ALONE(r, c)                                                                       \
    do {                                                                                           \
        EXPECT_EXEC(r, c);                                                                         \
        cr_assert_eq(f.last.n_state, 0, "%s wrote state", ledger_result_name(c));                  \
        cr_assert_eq(f.last.n_history, 0, "%s wrote history", ledger_result_name(c));              \
    } while (0)
    REJECTED_ALONE(create(MER, "SO-1", 900), DUPLICATE_ID);
    REJECTED_ALONE(pay("SO-1", "P-2", 500), DUPLICATE_ID);
    REJECTED_ALONE(ship(LOG2, "SO-1", "W-2"), DUPLICATE_ID);
    REJECTED_ALONE(event(LOG, LOG, "W-1", EV_ARRIVED, f.time_ms), IMPLAUSIBLE_EVENT);
    REJECTED_ALONE(cancel(MER, MER, "SO-1"), INVALID_TRANSITION);
    REJECTED_ALONE(event(LOG2, LOG, "W-1", EV_EXCEPTION, f.time_ms), NOT_AUTHORIZED);
    REJECTED_ALONE(pay("SO-404", "P-3", 500), NOT_FOUND);
#undef REJECTED_ALONE
    cr_assert_eq(memstate_count(f.ms), keys);
    Hansa__Order *o = fx_get_order(&f, MER, "SO-1");
    cr_assert_eq(o->status, ST_DELIVERED);
    cr_assert_eq(o->document->actual_paid_minor, 500);
    wire_free(o);
}

Test(rollback, in_one_block_the_accepted_transactions_stay_and_the_rejected_leave_nothing)
{
    EXPECT_EXEC(create(MER, "SO-1", 500), OK);
    struct fx_payment_doc p1, p2;
    fx_payment_doc(&p1, MER, "SO-1", "P-1", 500);
    fx_payment_doc(&p2, MER, "SO-1", "P-2", 400);
    struct fx_order_doc o;
    fx_order_doc(&o, MER, "SO-2", 700);
    Hansa__TxBody b1, b2, b3;
    fx_body(&b1, A_PAY, &p1.doc);
    fx_body(&b2, A_PAY, &p2.doc);
    fx_body(&b3, A_CREATE, &o.doc);
    const char *signers[3] = {PAY, PAY, MER};
    Hansa__TxBody *bodies[3] = {&b1, &b2, &b3};
    struct fx_result r[3];
    fx_block(&f, signers, bodies, 3, r);
    EXPECT_EXEC(r[0], OK);
    EXPECT_EXEC(r[1], DUPLICATE_ID);
    EXPECT_EXEC(r[2], OK);
    cr_assert_eq(history("payment/" PAY "/P-1/", NULL), 1);
    cr_assert_eq(history("payment/" PAY "/P-2/", NULL), 0);
    cr_assert_eq(history("order/" MER "/SO-1/", NULL), 1, "only the accepted payment");
    cr_assert_eq(history("order/" MER "/SO-2/", NULL), 1);
    cr_assert_not(has_key("payment/" PAY "/P-2"));
    Hansa__Order *rec = fx_get_order(&f, MER, "SO-1");
    cr_assert_str_eq(rec->payment->pay_transaction_id, "P-1");
    wire_free(rec);
}
