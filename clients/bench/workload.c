/*
 * The benchmark's load, generated and signed before the clock starts
 * (clients signing on the same machine would cost 33 µs per transaction:
 * LIBNOTES §7). One chain per order of the testnet's demo parties:
 *
 *   ORDER (merchant, or its platform on odd chains)
 *     ├── PAYMENT (PAY-0001, same payer commitment and amount: MATCHED)
 *     └── WAYBILL (LOG-0001, same consignee commitments)
 *            └── EVENT DEPARTED (LOG-0001)
 *   every 8th chain, once PAYMENT and WAYBILL are committed:
 *     FIN_REQUEST (merchant, on the bank's line, half the order's value)
 *            └── FIN_APPROVE (BANK-A)
 *
 * Every id carries the run tag, so a rerun on the same network never
 * collides. Each transaction is kept as the encoded Request{submit}, ready
 * to send. Invariant: a step's prerequisites are exactly the steps whose
 * dependents (bench_step_dependents) name it, and deps_left counts them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#define FIN_EVERY  8
#define DAY_MS     86400000ull
#define LINE_LIMIT 900000000000000ll

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *bench_step_name(enum bench_step s)
{
    static const char *names[STEP_COUNT] = {"order", "payment",     "waybill",
                                            "event", "fin-request", "fin-approve"};
    return s < STEP_COUNT ? names[s] : "?";
}

int bench_step_dependents(enum bench_step s, enum bench_step out[2])
{
    switch (s) {
    case STEP_ORDER:
        out[0] = STEP_PAYMENT;
        out[1] = STEP_WAYBILL;
        return 2;
    case STEP_PAYMENT:
        out[0] = STEP_FIN_REQUEST;
        return 1;
    case STEP_WAYBILL:
        out[0] = STEP_EVENT;
        out[1] = STEP_FIN_REQUEST;
        return 2;
    case STEP_FIN_REQUEST:
        out[0] = STEP_FIN_APPROVE;
        return 1;
    default:
        return 0;
    }
}

int bench_keys_load(const char *net_dir, struct bench_keys *k)
{
    struct {
        const char *party;
        struct wire_keypair *kp;
    } want[] = {{"MER-SZ-0001", &k->merchant},
                {"PLT-0001", &k->platform},
                {"PAY-0001", &k->payment},
                {"LOG-0001", &k->logistics},
                {"BANK-A", &k->bank}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char path[700], party[64], why[256] = "";
        snprintf(path, sizeof path, "%s/parties/%s.key", net_dir, want[i].party);
        if (wire_keyfile_load(path, want[i].kp, party, sizeof party, why, sizeof why) != HANSA_OK) {
            fprintf(stderr, "hansa-bench: %s: %s\n", path, why);
            return -1;
        }
    }
    return 0;
}

/* Sign body with kp and wrap it in an encoded Request{submit}. */
static int make_request(const Hansa__TxBody *body, const struct wire_keypair *kp,
                        uint64_t request_id, uint8_t **req, size_t *req_len,
                        uint8_t id[WIRE_HASH_BYTES], uint32_t *body_len)
{
    uint8_t *tx = NULL;
    size_t tx_len = 0;
    if (wire_tx_build(body, kp, &tx, &tx_len, id) != HANSA_OK)
        return -1;
    if (body_len)
        *body_len = (uint32_t)protobuf_c_message_get_packed_size(&body->base);
    Hansa__SubmitTx s = HANSA__SUBMIT_TX__INIT;
    s.tx = (ProtobufCBinaryData){tx_len, tx};
    Hansa__Request r = HANSA__REQUEST__INIT;
    r.request_id = request_id;
    r.kind_case = HANSA__REQUEST__KIND_SUBMIT;
    r.submit = &s;
    size_t len = hansa__request__get_packed_size(&r);
    *req = malloc(len);
    if (*req == NULL) {
        free(tx);
        return -1;
    }
    *req_len = hansa__request__pack(&r, *req);
    free(tx);
    return 0;
}

int bench_line_request(const struct bench_keys *k, const char *chain_id, const char *line_id,
                       uint8_t **req, size_t *len, uint8_t id[WIRE_HASH_BYTES])
{
    uint64_t now = now_ms();
    Hansa__OpenCreditLine a = HANSA__OPEN_CREDIT_LINE__INIT;
    a.line_id = (char *)line_id;
    a.borrower = "MER-SZ-0001";
    a.currency = "CNY";
    a.limit_minor = LINE_LIMIT;
    a.advance_rate_bps = 8000;
    a.expiry_ms = now + 365 * DAY_MS;
    Hansa__TxBody b = HANSA__TX_BODY__INIT;
    b.chain_id = (char *)chain_id;
    b.signer = "BANK-A";
    b.created_ms = now;
    b.action_case = HANSA__TX_BODY__ACTION_OPEN_CREDIT_LINE;
    b.open_credit_line = &a;
    return make_request(&b, &k->bank, 1, req, len, id, NULL);
}

/* Everything one chain's documents share. */
struct chain_doc {
    char order_no[64], pay_id[64], waybill_no[64], fin_id[64];
    uint8_t buyer[32], name[32], phone[32], address[32];
    int64_t price_minor[2], qty_milli[2], goods_minor, freight_minor, tax_minor, paid_minor;
};

static void chain_doc_init(struct chain_doc *d, const char *run, uint32_t c)
{
    snprintf(d->order_no, sizeof d->order_no, "SO-%s-%07" PRIu32, run, c);
    snprintf(d->pay_id, sizeof d->pay_id, "PAY-%s-%07" PRIu32, run, c);
    snprintf(d->waybill_no, sizeof d->waybill_no, "WB-%s-%07" PRIu32, run, c);
    snprintf(d->fin_id, sizeof d->fin_id, "FIN-%s-%07" PRIu32, run, c);
    char seed[96];
    snprintf(seed, sizeof seed, "buyer-%" PRIu32, c % 5000); /* buyers repeat, as they do */
    wire_sha256(seed, strlen(seed), d->buyer);
    snprintf(seed, sizeof seed, "name-%" PRIu32, c % 5000);
    wire_sha256(seed, strlen(seed), d->name);
    snprintf(seed, sizeof seed, "phone-%" PRIu32, c % 5000);
    wire_sha256(seed, strlen(seed), d->phone);
    snprintf(seed, sizeof seed, "address-%" PRIu32, c % 5000);
    wire_sha256(seed, strlen(seed), d->address);
    d->price_minor[0] = 4990 + (int64_t)(c % 97) * 10;
    d->price_minor[1] = 1250 + (int64_t)(c % 13) * 5;
    d->qty_milli[0] = 2000;
    d->qty_milli[1] = 1000;
    d->goods_minor = d->price_minor[0] * 2 + d->price_minor[1];
    d->freight_minor = 1500;
    d->tax_minor = 0;
    d->paid_minor = d->goods_minor + d->freight_minor + d->tax_minor;
}

static void body_init(Hansa__TxBody *b, const char *chain_id, const char *signer, uint64_t now)
{
    hansa__tx_body__init(b);
    b->chain_id = (char *)chain_id;
    b->signer = (char *)signer;
    b->created_ms = now;
}

static int add_tx(struct bench_load *l, const Hansa__TxBody *b, const struct wire_keypair *kp,
                  uint32_t chain, enum bench_step step)
{
    struct bench_tx *t = &l->tx[l->n_tx];
    uint8_t *req = NULL;
    size_t len = 0;
    if (make_request(b, kp, l->n_tx + 1, &req, &len, t->id, &t->body_len) != 0)
        return -1;
    t->req = req;
    t->req_len = (uint32_t)len;
    t->chain = chain;
    t->step = (uint8_t)step;
    atomic_init(&t->state, 0);
    atomic_init(&t->deps_left, 0);
    l->steps[chain][step] = (uint32_t)l->n_tx;
    l->body_bytes += t->body_len;
    l->n_tx++;
    return 0;
}

static int gen_order(struct bench_load *l, const struct bench_keys *k, const char *chain_id,
                     const struct chain_doc *d, uint32_t c, uint64_t now)
{
    Hansa__OrderItem it[2], *items[2] = {&it[0], &it[1]};
    static const char *names[2] = {"Solar garden lamp, stainless", "USB-C charging cable 1m"};
    static const char *hs[2] = {"9405400000", "8544429000"};
    for (int i = 0; i < 2; i++) {
        hansa__order_item__init(&it[i]);
        it[i].line_no = (uint32_t)i + 1;
        it[i].item_name = (char *)names[i];
        it[i].hs_code = (char *)hs[i];
        it[i].quantity_milli = d->qty_milli[i];
        it[i].unit = "PCE";
        it[i].unit_price_minor = d->price_minor[i];
        it[i].line_total_minor = d->price_minor[i] * d->qty_milli[i] / 1000;
    }
    Hansa__CreateOrder o = HANSA__CREATE_ORDER__INIT;
    o.order_no = (char *)d->order_no;
    o.merchant = "MER-SZ-0001";
    o.platform = "PLT-0001";
    o.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_EXPORT;
    o.buyer_commitment = (ProtobufCBinaryData){32, (uint8_t *)d->buyer};
    o.consignee_name_commitment = (ProtobufCBinaryData){32, (uint8_t *)d->name};
    o.consignee_phone_commitment = (ProtobufCBinaryData){32, (uint8_t *)d->phone};
    o.consignee_address_commitment = (ProtobufCBinaryData){32, (uint8_t *)d->address};
    o.n_items = 2;
    o.items = items;
    o.goods_value_minor = d->goods_minor;
    o.freight_minor = d->freight_minor;
    o.tax_total_minor = d->tax_minor;
    o.actual_paid_minor = d->paid_minor;
    o.currency = "CNY";
    o.origin_country = "CN";
    o.destination_country = "DE";
    bool by_platform = c % 2 == 1;
    Hansa__TxBody b;
    body_init(&b, chain_id, by_platform ? "PLT-0001" : "MER-SZ-0001", now);
    b.action_case = HANSA__TX_BODY__ACTION_CREATE_ORDER;
    b.create_order = &o;
    return add_tx(l, &b, by_platform ? &k->platform : &k->merchant, c, STEP_ORDER);
}

static int gen_payment(struct bench_load *l, const struct bench_keys *k, const char *chain_id,
                       const struct chain_doc *d, uint32_t c, uint64_t now)
{
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = "MER-SZ-0001";
    ref.order_no = (char *)d->order_no;
    Hansa__RecordPayment p = HANSA__RECORD_PAYMENT__INIT;
    p.pay_transaction_id = (char *)d->pay_id;
    p.order = &ref;
    p.payer_commitment = (ProtobufCBinaryData){32, (uint8_t *)d->buyer};
    p.amount_paid_minor = d->paid_minor;
    p.currency = "CNY";
    p.pay_time_ms = now;
    Hansa__TxBody b;
    body_init(&b, chain_id, "PAY-0001", now);
    b.action_case = HANSA__TX_BODY__ACTION_RECORD_PAYMENT;
    b.record_payment = &p;
    return add_tx(l, &b, &k->payment, c, STEP_PAYMENT);
}

static int gen_waybill(struct bench_load *l, const struct bench_keys *k, const char *chain_id,
                       const struct chain_doc *d, uint32_t c, uint64_t now)
{
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = "MER-SZ-0001";
    ref.order_no = (char *)d->order_no;
    char *hs[2] = {"9405400000", "8544429000"};
    Hansa__CreateWaybill w = HANSA__CREATE_WAYBILL__INIT;
    w.logistics_no = (char *)d->waybill_no;
    w.order = &ref;
    w.freight_minor = d->freight_minor;
    w.insured_fee_minor = 200;
    w.currency = "CNY";
    w.gross_weight_grams = 1800 + c % 400;
    w.package_count = 1;
    w.goods_description = "Solar garden lamps and charging cables, 1 carton";
    w.n_hs_codes = 2;
    w.hs_codes = hs;
    w.consignee_name_commitment = (ProtobufCBinaryData){32, (uint8_t *)d->name};
    w.consignee_phone_commitment = (ProtobufCBinaryData){32, (uint8_t *)d->phone};
    w.consignee_address_commitment = (ProtobufCBinaryData){32, (uint8_t *)d->address};
    w.origin_locode = "CNSZX";
    w.destination_locode = "DEHAM";
    Hansa__TxBody b;
    body_init(&b, chain_id, "LOG-0001", now);
    b.action_case = HANSA__TX_BODY__ACTION_CREATE_WAYBILL;
    b.create_waybill = &w;
    return add_tx(l, &b, &k->logistics, c, STEP_WAYBILL);
}

static int gen_event(struct bench_load *l, const struct bench_keys *k, const char *chain_id,
                     const struct chain_doc *d, uint32_t c, uint64_t now)
{
    Hansa__WaybillRef ref = HANSA__WAYBILL_REF__INIT;
    ref.carrier = "LOG-0001";
    ref.logistics_no = (char *)d->waybill_no;
    Hansa__AddShipmentEvent e = HANSA__ADD_SHIPMENT_EVENT__INIT;
    e.waybill = &ref;
    e.type = HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_DEPARTED;
    e.location_locode = "CNSZX";
    e.event_time_ms = now;
    Hansa__TxBody b;
    body_init(&b, chain_id, "LOG-0001", now);
    b.action_case = HANSA__TX_BODY__ACTION_ADD_SHIPMENT_EVENT;
    b.add_shipment_event = &e;
    return add_tx(l, &b, &k->logistics, c, STEP_EVENT);
}

static int gen_financing(struct bench_load *l, const struct bench_keys *k, const char *chain_id,
                         const char *line_id, const struct chain_doc *d, uint32_t c, uint64_t now)
{
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT, *refs[1] = {&ref};
    ref.merchant = "MER-SZ-0001";
    ref.order_no = (char *)d->order_no;
    Hansa__LineRef line = HANSA__LINE_REF__INIT;
    line.bank = "BANK-A";
    line.line_id = (char *)line_id;
    Hansa__RequestFinancing f = HANSA__REQUEST_FINANCING__INIT;
    f.financing_id = (char *)d->fin_id;
    f.line = &line;
    f.n_orders = 1;
    f.orders = refs;
    f.amount_minor = d->paid_minor / 2;
    f.currency = "CNY";
    f.maturity_ms = now + 30 * DAY_MS;
    Hansa__TxBody b;
    body_init(&b, chain_id, "MER-SZ-0001", now);
    b.action_case = HANSA__TX_BODY__ACTION_REQUEST_FINANCING;
    b.request_financing = &f;
    if (add_tx(l, &b, &k->merchant, c, STEP_FIN_REQUEST) != 0)
        return -1;
    Hansa__FinancingRef fr = HANSA__FINANCING_REF__INIT;
    fr.merchant = "MER-SZ-0001";
    fr.financing_id = (char *)d->fin_id;
    Hansa__ApproveFinancing ap = HANSA__APPROVE_FINANCING__INIT;
    ap.financing = &fr;
    body_init(&b, chain_id, "BANK-A", now);
    b.action_case = HANSA__TX_BODY__ACTION_APPROVE_FINANCING;
    b.approve_financing = &ap;
    return add_tx(l, &b, &k->bank, c, STEP_FIN_APPROVE);
}

static uint64_t id_hash(const uint8_t id[WIRE_HASH_BYTES])
{
    uint64_t h;
    memcpy(&h, id, sizeof h);
    return h;
}

static int build_map(struct bench_load *l)
{
    size_t size = 1;
    while (size < l->n_tx * 2)
        size <<= 1;
    l->map = malloc(size * sizeof *l->map);
    if (l->map == NULL)
        return -1;
    memset(l->map, 0xff, size * sizeof *l->map);
    l->map_mask = size - 1;
    for (size_t i = 0; i < l->n_tx; i++) {
        size_t at = id_hash(l->tx[i].id) & l->map_mask;
        while (l->map[at] != UINT32_MAX)
            at = (at + 1) & l->map_mask;
        l->map[at] = (uint32_t)i;
    }
    return 0;
}

long bench_load_find(const struct bench_load *l, const uint8_t id[WIRE_HASH_BYTES])
{
    size_t at = id_hash(id) & l->map_mask;
    while (l->map[at] != UINT32_MAX) {
        if (memcmp(l->tx[l->map[at]].id, id, WIRE_HASH_BYTES) == 0)
            return l->map[at];
        at = (at + 1) & l->map_mask;
    }
    return -1;
}

int bench_load_make(struct bench_load *l, const struct bench_keys *k, const char *chain_id,
                    const char *run, const char *line_id, uint32_t n_chains, enum bench_mix mix,
                    uint64_t span_ms)
{
    memset(l, 0, sizeof *l);
    l->n_chains = n_chains;
    l->tx = calloc((size_t)n_chains * STEP_COUNT, sizeof *l->tx);
    l->steps = malloc((size_t)n_chains * sizeof *l->steps);
    if (l->tx == NULL || l->steps == NULL)
        return -1;
    memset(l->steps, 0xff, (size_t)n_chains * sizeof *l->steps);
    uint64_t start_ms = now_ms();
    for (uint32_t c = 0; c < n_chains; c++) {
        struct chain_doc d;
        chain_doc_init(&d, run, c);
        /* Stamped with the time it is planned to be sent at: a load longer
         * than the replay window (10 minutes) would otherwise be refused
         * OUTSIDE_WINDOW in its last part, or dropped from a mempool once
         * its stamp aged past the window. */
        uint64_t now = start_ms + span_ms * c / n_chains;
        int rv = gen_order(l, k, chain_id, &d, c, now);
        if (rv == 0 && mix == MIX_TRADE) {
            rv = gen_payment(l, k, chain_id, &d, c, now);
            if (rv == 0)
                rv = gen_waybill(l, k, chain_id, &d, c, now);
            if (rv == 0)
                rv = gen_event(l, k, chain_id, &d, c, now);
            if (rv == 0 && c % FIN_EVERY == 0)
                rv = gen_financing(l, k, chain_id, line_id, &d, c, now);
        }
        if (rv != 0)
            return -1;
    }
    /* prerequisites: count, for each present step, the present steps naming it */
    for (uint32_t c = 0; c < n_chains; c++)
        for (int s = 0; s < STEP_COUNT; s++) {
            if (l->steps[c][s] == UINT32_MAX)
                continue;
            enum bench_step dep[2];
            int nd = bench_step_dependents((enum bench_step)s, dep);
            for (int j = 0; j < nd; j++)
                if (l->steps[c][dep[j]] != UINT32_MAX)
                    atomic_fetch_add(&l->tx[l->steps[c][dep[j]]].deps_left, 1);
        }
    return build_map(l);
}

void bench_load_free(struct bench_load *l)
{
    for (size_t i = 0; i < l->n_tx; i++)
        free(l->tx[i].req);
    free(l->tx);
    free(l->steps);
    free(l->map);
    memset(l, 0, sizeof *l);
}
