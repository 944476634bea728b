/* See ledger_fixture.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "ledger_fixture.h"

const uint8_t FX_BUYER[WIRE_HASH_BYTES] = {0xB0, 0x01};
const uint8_t FX_CONSIGNEE_NAME[WIRE_HASH_BYTES] = {0xC0, 0x01};
const uint8_t FX_CONSIGNEE_PHONE[WIRE_HASH_BYTES] = {0xC0, 0x02};
const uint8_t FX_CONSIGNEE_ADDRESS[WIRE_HASH_BYTES] = {0xC0, 0x03};

struct cast_member {
    const char *id;
    const char *country;
    Hansa__Role role;
};

static const struct cast_member cast[] = {
    {"MER-SZ-0001", "CN", HANSA__ROLE__ROLE_MERCHANT},
    {"MER-SZ-0002", "CN", HANSA__ROLE__ROLE_MERCHANT},
    {"PLT-0001", "CN", HANSA__ROLE__ROLE_PLATFORM},
    {"PAY-0001", "CN", HANSA__ROLE__ROLE_PAYMENT},
    {"LOG-0001", "CN", HANSA__ROLE__ROLE_LOGISTICS},
    {"LOG-0002", "DE", HANSA__ROLE__ROLE_LOGISTICS},
    {"BANK-A", "CN", HANSA__ROLE__ROLE_BANK},
    {"BANK-B", "DE", HANSA__ROLE__ROLE_BANK},
    {"CUS-0001", "CN", HANSA__ROLE__ROLE_REGULATOR},
    {"BUYER-DE-1", "DE", HANSA__ROLE__ROLE_MERCHANT},
    {"ADMIN-1", "CN", HANSA__ROLE__ROLE_ADMIN},
    {"ADMIN-2", "DE", HANSA__ROLE__ROLE_ADMIN},
    {"ADMIN-3", "SG", HANSA__ROLE__ROLE_ADMIN},
};
#define CAST_N (sizeof cast / sizeof cast[0])

void fx_keypair(const char *party, struct wire_keypair *kp)
{
    uint8_t seed[WIRE_SEED_BYTES];
    wire_sha256(party, strlen(party), seed);
    wire_keypair_from_seed(kp, seed);
}

void fx_init(struct fx *f)
{
    Hansa__Parameters p;
    ledger_params_default(&p);
    fx_init_params(f, &p);
}

void fx_genesis_output(const Hansa__Parameters *p, struct ledger_output *out)
{
    HANSA_ASSERT(wire_global_init() == HANSA_OK);
    Hansa__Party parties[CAST_N], *pp[CAST_N];
    Hansa__Role roles[CAST_N];
    ProtobufCBinaryData keys[CAST_N];
    struct wire_keypair kps[CAST_N];
    for (size_t i = 0; i < CAST_N; i++) {
        hansa__party__init(&parties[i]);
        fx_keypair(cast[i].id, &kps[i]);
        roles[i] = cast[i].role;
        keys[i].data = kps[i].public_key;
        keys[i].len = WIRE_PUBKEY_BYTES;
        parties[i].id = (char *)cast[i].id;
        parties[i].display_name = (char *)cast[i].id;
        parties[i].country = (char *)cast[i].country;
        parties[i].n_roles = 1;
        parties[i].roles = &roles[i];
        parties[i].n_keys = 1;
        parties[i].keys = &keys[i];
        pp[i] = &parties[i];
    }
    struct ledger_genesis g = {.chain_id = FX_CHAIN_ID,
                               .time_ms = FX_GENESIS_MS,
                               .params = p,
                               .parties = pp,
                               .n_parties = CAST_N};
    char why[256] = "";
    hansa_err rv = ledger_genesis(&g, out, why, sizeof why);
    if (rv != HANSA_OK) {
        fprintf(stderr, "fx: genesis failed: %s: %s\n", hansa_strerror(rv), why);
        abort();
    }
}

void fx_init_params(struct fx *f, const Hansa__Parameters *p)
{
    memset(f, 0, sizeof *f);
    f->params = *p;
    f->ms = memstate_new();
    f->view = memstate_view(f->ms);
    fx_genesis_output(&f->params, &f->last);
    memstate_apply(f->ms, &f->last);
    memcpy(f->root, f->last.state_root, WIRE_HASH_BYTES);
    f->time_ms = FX_GENESIS_MS + FX_BLOCK_MS;
}

void fx_close(struct fx *f)
{
    ledger_output_free(&f->last);
    memstate_free(f->ms);
    memset(f, 0, sizeof *f);
}

void fx_body(Hansa__TxBody *b, Hansa__TxBody__ActionCase which, void *action)
{
    hansa__tx_body__init(b);
    b->action_case = which;
    b->create_order = action; /* every member of the oneof union is a message pointer */
}

void fx_advance(struct fx *f, uint64_t ms)
{
    f->time_ms += ms;
}

/* Sign and open; returns false (with r filled) if the tx does not open. */
static bool sign_open(struct fx *f, const char *signer, Hansa__TxBody *b, struct wire_tx *tx,
                      uint8_t **bytes, struct fx_result *r)
{
    struct wire_keypair kp;
    fx_keypair(signer, &kp);
    uint8_t nonce[8];
    uint64_t n = ++f->nonce;
    memcpy(nonce, &n, sizeof nonce);
    b->chain_id = FX_CHAIN_ID;
    b->signer = (char *)signer;
    if (b->created_ms == 0)
        b->created_ms = f->time_ms;
    b->nonce.data = nonce;
    b->nonce.len = sizeof nonce;
    size_t len = 0;
    hansa_err rv = wire_tx_build(b, &kp, bytes, &len, r->tx_id);
    b->nonce.data = NULL;
    b->nonce.len = 0;
    if (rv == HANSA_OK)
        rv = wire_tx_open(tx, *bytes, len, FX_CHAIN_ID);
    if (rv == HANSA_OK)
        rv = wire_tx_verify(tx);
    if (rv != HANSA_OK) {
        r->admitted = false;
        r->code = HANSA__RESULT_CODE__RESULT_MALFORMED;
        snprintf(r->why, sizeof r->why, "cannot build transaction: %s", hansa_strerror(rv));
        return false;
    }
    return true;
}

static void run_block(struct fx *f, const struct wire_tx *txs, size_t n)
{
    struct ledger_block blk = {.chain_id = FX_CHAIN_ID,
                               .height = f->height + 1,
                               .time_ms = f->time_ms,
                               .txs = txs,
                               .n_txs = n};
    memcpy(blk.prev_state_root, f->root, WIRE_HASH_BYTES);
    ledger_output_free(&f->last);
    hansa_err rv = ledger_execute(&f->view, &blk, &f->last);
    if (rv != HANSA_OK) {
        fprintf(stderr, "fx: block %llu failed: %s\n", (unsigned long long)blk.height,
                hansa_strerror(rv));
        abort();
    }
    memstate_apply(f->ms, &f->last);
    memcpy(f->root, f->last.state_root, WIRE_HASH_BYTES);
    if (f->on_block != NULL)
        f->on_block(f->on_block_arg, &blk, &f->last);
    f->height++;
    f->time_ms += FX_BLOCK_MS;
}

void fx_block(struct fx *f, const char *const *signers, Hansa__TxBody *const *bodies, size_t n,
              struct fx_result *results)
{
    struct wire_tx *txs = calloc(n ? n : 1, sizeof *txs);
    uint8_t **bytes = calloc(n ? n : 1, sizeof *bytes);
    size_t *slot = calloc(n ? n : 1, sizeof *slot);
    HANSA_ASSERT(txs && bytes && slot);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct fx_result *r = &results[i];
        memset(r, 0, sizeof *r);
        if (!sign_open(f, signers[i], bodies[i], &txs[k], &bytes[i], r))
            continue;
        r->code = ledger_admit_signer(&f->view, &txs[k], r->why, sizeof r->why);
        if (r->code == HANSA__RESULT_CODE__RESULT_OK)
            r->code = ledger_admit(&f->view, &txs[k], f->time_ms, r->why, sizeof r->why);
        if (r->code != HANSA__RESULT_CODE__RESULT_OK) {
            wire_tx_close(&txs[k]);
            continue;
        }
        r->admitted = true;
        slot[k++] = i;
    }
    run_block(f, txs, k);
    for (size_t j = 0; j < k; j++) {
        struct fx_result *r = &results[slot[j]];
        r->code = f->last.results[j]->result;
        snprintf(r->why, sizeof r->why, "%s", f->last.results[j]->message);
        wire_tx_close(&txs[j]);
    }
    for (size_t i = 0; i < n; i++)
        free(bytes[i]);
    free(bytes);
    free(slot);
    free(txs);
}

struct fx_result fx_submit(struct fx *f, const char *signer, Hansa__TxBody *b)
{
    struct fx_result r;
    const char *signers[1] = {signer};
    Hansa__TxBody *bodies[1] = {b};
    fx_block(f, signers, bodies, 1, &r);
    return r;
}

void fx_empty_block(struct fx *f)
{
    run_block(f, NULL, 0);
}

void *fx_get(struct fx *f, const ProtobufCMessageDescriptor *d, const char *key)
{
    uint8_t *val = NULL;
    size_t len = 0;
    if (f->view.get(f->view.ctx, (const uint8_t *)key, strlen(key), &val, &len) != HANSA_OK)
        return NULL;
    ProtobufCMessage *m = NULL;
    hansa_err rv = wire_decode(d, val, len, HANSA_BLOCK_BYTES_MAX, WIRE_LENIENT, &m);
    free(val);
    HANSA_ASSERT(rv == HANSA_OK);
    return m;
}

Hansa__Order *fx_get_order(struct fx *f, const char *merchant, const char *order_no)
{
    char key[512];
    snprintf(key, sizeof key, "order/%s/%s", merchant, order_no);
    return fx_get(f, &hansa__order__descriptor, key);
}

Hansa__CreditLine *fx_get_line(struct fx *f, const char *bank, const char *line_id)
{
    char key[512];
    snprintf(key, sizeof key, "line/%s/%s", bank, line_id);
    return fx_get(f, &hansa__credit_line__descriptor, key);
}

Hansa__Financing *fx_get_financing(struct fx *f, const char *merchant, const char *id)
{
    char key[512];
    snprintf(key, sizeof key, "financing/%s/%s", merchant, id);
    return fx_get(f, &hansa__financing__descriptor, key);
}

size_t fx_last_history(struct fx *f, const char *prefix, Hansa__HistoryEntry ***out)
{
    size_t plen = strlen(prefix), n = 0;
    *out = calloc(f->last.n_history + 1, sizeof **out);
    HANSA_ASSERT(*out != NULL);
    for (size_t i = 0; i < f->last.n_history; i++) {
        const struct ledger_write *w = &f->last.history[i];
        if (w->key_len < plen || memcmp(w->key, prefix, plen) != 0)
            continue;
        hansa_err rv =
            wire_decode(&hansa__history_entry__descriptor, w->val, w->val_len,
                        HANSA_BLOCK_BYTES_MAX, WIRE_LENIENT, (ProtobufCMessage **)&(*out)[n]);
        HANSA_ASSERT(rv == HANSA_OK);
        n++;
    }
    return n;
}

static void copy_id(char *dst, const char *src)
{
    snprintf(dst, 65, "%s", src);
}

void fx_order_doc(struct fx_order_doc *d, const char *merchant, const char *order_no,
                  int64_t amount_minor)
{
    memset(d, 0, sizeof *d);
    copy_id(d->merchant, merchant);
    copy_id(d->order_no, order_no);
    hansa__order_item__init(&d->item);
    d->item.line_no = 1;
    d->item.item_name = "Bluetooth speaker";
    d->item.hs_code = "851822";
    d->item.quantity_milli = 1000;
    d->item.unit = "PCE";
    d->item.unit_price_minor = amount_minor;
    d->item.line_total_minor = amount_minor;
    d->items[0] = &d->item;
    hansa__create_order__init(&d->doc);
    d->doc.order_no = d->order_no;
    d->doc.merchant = d->merchant;
    d->doc.platform = "PLT-0001";
    d->doc.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_EXPORT;
    d->doc.buyer_commitment = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)FX_BUYER};
    d->doc.consignee_name_commitment =
        (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)FX_CONSIGNEE_NAME};
    d->doc.consignee_phone_commitment =
        (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)FX_CONSIGNEE_PHONE};
    d->doc.consignee_address_commitment =
        (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)FX_CONSIGNEE_ADDRESS};
    d->doc.n_items = 1;
    d->doc.items = d->items;
    d->doc.goods_value_minor = amount_minor;
    d->doc.actual_paid_minor = amount_minor;
    d->doc.currency = "CNY";
    d->doc.origin_country = "CN";
    d->doc.destination_country = "DE";
}

void fx_payment_doc(struct fx_payment_doc *d, const char *merchant, const char *order_no,
                    const char *pay_id, int64_t amount_minor)
{
    memset(d, 0, sizeof *d);
    copy_id(d->pay_id, pay_id);
    copy_id(d->merchant, merchant);
    copy_id(d->order_no, order_no);
    hansa__order_ref__init(&d->order);
    d->order.merchant = d->merchant;
    d->order.order_no = d->order_no;
    hansa__record_payment__init(&d->doc);
    d->doc.pay_transaction_id = d->pay_id;
    d->doc.order = &d->order;
    d->doc.payer_commitment = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)FX_BUYER};
    d->doc.amount_paid_minor = amount_minor;
    d->doc.currency = "CNY";
    d->doc.pay_time_ms = FX_GENESIS_MS;
}

void fx_waybill_doc(struct fx_waybill_doc *d, const char *merchant, const char *order_no,
                    const char *logistics_no)
{
    memset(d, 0, sizeof *d);
    copy_id(d->logistics_no, logistics_no);
    copy_id(d->merchant, merchant);
    copy_id(d->order_no, order_no);
    hansa__order_ref__init(&d->order);
    d->order.merchant = d->merchant;
    d->order.order_no = d->order_no;
    d->hs_codes[0] = "851822";
    hansa__create_waybill__init(&d->doc);
    d->doc.logistics_no = d->logistics_no;
    d->doc.order = &d->order;
    d->doc.currency = "CNY";
    d->doc.gross_weight_grams = 1500;
    d->doc.package_count = 1;
    d->doc.goods_description = "Bluetooth speaker";
    d->doc.n_hs_codes = 1;
    d->doc.hs_codes = d->hs_codes;
    d->doc.consignee_name_commitment =
        (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)FX_CONSIGNEE_NAME};
    d->doc.consignee_phone_commitment =
        (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)FX_CONSIGNEE_PHONE};
    d->doc.consignee_address_commitment =
        (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)FX_CONSIGNEE_ADDRESS};
    d->doc.origin_locode = "CNSZX";
    d->doc.destination_locode = "DEHAM";
}

static void expect_ok(const struct fx_result *r, const char *what)
{
    if (r->code != HANSA__RESULT_CODE__RESULT_OK) {
        fprintf(stderr, "fx_matched_order: %s gave %s: %s\n", what, ledger_result_name(r->code),
                r->why);
        abort();
    }
}

void fx_matched_order(struct fx *f, const char *merchant, const char *order_no,
                      int64_t amount_minor)
{
    struct fx_order_doc o;
    struct fx_payment_doc p;
    struct fx_waybill_doc w;
    char pay_id[65], wb_no[65];
    snprintf(pay_id, sizeof pay_id, "PAY-%s", order_no);
    snprintf(wb_no, sizeof wb_no, "WB-%s", order_no);
    fx_order_doc(&o, merchant, order_no, amount_minor);
    fx_payment_doc(&p, merchant, order_no, pay_id, amount_minor);
    fx_waybill_doc(&w, merchant, order_no, wb_no);
    Hansa__TxBody b;
    fx_body(&b, HANSA__TX_BODY__ACTION_CREATE_ORDER, &o.doc);
    struct fx_result r = fx_submit(f, merchant, &b);
    expect_ok(&r, "create order");
    fx_body(&b, HANSA__TX_BODY__ACTION_RECORD_PAYMENT, &p.doc);
    r = fx_submit(f, "PAY-0001", &b);
    expect_ok(&r, "record payment");
    fx_body(&b, HANSA__TX_BODY__ACTION_CREATE_WAYBILL, &w.doc);
    r = fx_submit(f, "LOG-0001", &b);
    expect_ok(&r, "create waybill");
    Hansa__Order *order = fx_get_order(f, merchant, order_no);
    HANSA_ASSERT(order != NULL && order->match != NULL &&
                 order->match->status == HANSA__MATCH_STATUS__MATCH_STATUS_MATCHED);
    wire_free(order);
}
