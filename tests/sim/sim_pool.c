/*
 * The transactions every seed draws from: built and signed once per process
 * with the ledger fixture's cast and keys (wire_tx_build, real Ed25519), and
 * shared read-only by every seed. A seed decides only when each transaction
 * reaches each validator, so one pool serves 2,000 seeds and the cost of
 * Ed25519 is paid once (a node caches verified tx ids the same way).
 *
 * The mix, per order k (k = 0 .. SIM_POOL_ORDERS - 1), 0.5 s apart:
 *   CreateOrder by its merchant, RecordPayment by PAY-0001, CreateWaybill by
 *   LOG-0001 (matching rules run when all three meet), and for every fourth
 *   order one invalid transaction that admission refuses: a corrupted
 *   signature, a key not registered to the signer, a role that may not act
 *   (LOG-0001 creating an order), an unknown signer. Correct proposers never
 *   include the invalid ones; the Byzantine proposer does, and correct
 *   validators must then refuse its block.
 *
 * Invariant checked at build time: a transaction is admissible (opens,
 * signature verifies, admission says OK at its creation time on the
 * genesis state) exactly when it is not of an invalid kind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "ledger_fixture.h"
#include "sim.h"

#define SIM_POOL_ORDERS  48u
#define ORDER_SPACING_MS 500u

static struct sim_pool pool;
static bool pool_built;

enum invalid_kind { BAD_SIG, WRONG_KEY, UNAUTHORIZED, UNKNOWN_SIGNER };

static void corrupt_signature(uint8_t **bytes, size_t *len)
{
    Hansa__Tx *env = NULL;
    hansa_err rv = wire_tx_decode(*bytes, *len, &env);
    HANSA_ASSERT(rv == HANSA_OK && env->signature.len > 0);
    env->signature.data[0] ^= 0x01;
    free(*bytes);
    rv = wire_encode(&env->base, HANSA_TX_BYTES_MAX, bytes, len);
    HANSA_ASSERT(rv == HANSA_OK);
    wire_free(env);
}

/* Sign body as signer with key_party's key and append it to the pool. */
static void add_tx(Hansa__TxBody *b, const char *signer, const char *key_party, uint64_t offset_ms,
                   const char *kind, bool corrupt)
{
    static uint64_t nonce_counter;
    struct wire_keypair kp;
    fx_keypair(key_party, &kp);
    uint8_t nonce[8];
    uint64_t nc = ++nonce_counter;
    memcpy(nonce, &nc, sizeof nonce);
    b->chain_id = FX_CHAIN_ID;
    b->signer = (char *)signer;
    b->created_ms = FX_GENESIS_MS + offset_ms;
    b->nonce = (ProtobufCBinaryData){sizeof nonce, nonce};
    struct sim_tx *t = &pool.txs[pool.n++];
    memset(t, 0, sizeof *t);
    hansa_err rv = wire_tx_build(b, &kp, &t->bytes, &t->len, NULL);
    HANSA_ASSERT(rv == HANSA_OK);
    wire_keypair_wipe(&kp);
    if (corrupt)
        corrupt_signature(&t->bytes, &t->len);
    t->created_offset_ms = offset_ms;
    t->kind = kind;
}

static void add_invalid(uint32_t k, enum invalid_kind which, uint64_t offset_ms)
{
    char order_no[32];
    snprintf(order_no, sizeof order_no, "BAD-%03u", k);
    struct fx_order_doc o;
    fx_order_doc(&o, "MER-SZ-0001", order_no, 5000);
    Hansa__TxBody b;
    fx_body(&b, HANSA__TX_BODY__ACTION_CREATE_ORDER, &o.doc);
    switch (which) {
    case BAD_SIG:
        add_tx(&b, "MER-SZ-0001", "MER-SZ-0001", offset_ms, "bad-sig", true);
        break;
    case WRONG_KEY:
        add_tx(&b, "MER-SZ-0001", "MER-SZ-0002", offset_ms, "wrong-key", false);
        break;
    case UNAUTHORIZED:
        add_tx(&b, "LOG-0001", "LOG-0001", offset_ms, "unauthorized", false);
        break;
    case UNKNOWN_SIGNER:
        add_tx(&b, "MER-XX-9999", "MER-XX-9999", offset_ms, "unknown-signer", false);
        break;
    }
}

static void add_order(uint32_t k)
{
    const char *merchant = k % 2 ? "MER-SZ-0002" : "MER-SZ-0001";
    char order_no[32], pay_id[32], wb_no[32];
    snprintf(order_no, sizeof order_no, "SO-%03u", k);
    snprintf(pay_id, sizeof pay_id, "PAY-%03u", k);
    snprintf(wb_no, sizeof wb_no, "WB-%03u", k);
    int64_t amount_minor = 10000 + 100 * (int64_t)k;
    uint64_t base_ms = (uint64_t)k * ORDER_SPACING_MS;
    Hansa__TxBody b;
    struct fx_order_doc o;
    fx_order_doc(&o, merchant, order_no, amount_minor);
    fx_body(&b, HANSA__TX_BODY__ACTION_CREATE_ORDER, &o.doc);
    add_tx(&b, merchant, merchant, base_ms, "order", false);
    if (k % 4 == 3)
        add_invalid(k, (enum invalid_kind)(k / 4 % 4), base_ms + 100);
    struct fx_payment_doc p;
    fx_payment_doc(&p, merchant, order_no, pay_id, amount_minor);
    fx_body(&b, HANSA__TX_BODY__ACTION_RECORD_PAYMENT, &p.doc);
    add_tx(&b, "PAY-0001", "PAY-0001", base_ms + 200, "payment", false);
    struct fx_waybill_doc wb;
    fx_waybill_doc(&wb, merchant, order_no, wb_no);
    fx_body(&b, HANSA__TX_BODY__ACTION_CREATE_WAYBILL, &wb.doc);
    add_tx(&b, "LOG-0001", "LOG-0001", base_ms + 350, "waybill", false);
}

/* Open, verify and admit each transaction once, on the genesis state. */
static void classify(struct sim_tx *t)
{
    struct ledger_state view = memstate_view(pool.genesis);
    char why[256];
    t->opened = wire_tx_open(&t->tx, t->bytes, t->len, FX_CHAIN_ID) == HANSA_OK;
    if (!t->opened)
        return;
    t->sig_ok = wire_tx_verify(&t->tx) == HANSA_OK;
    t->admissible =
        t->sig_ok &&
        ledger_admit_signer(&view, &t->tx, why, sizeof why) == HANSA__RESULT_CODE__RESULT_OK &&
        ledger_admit(&view, &t->tx, FX_GENESIS_MS + t->created_offset_ms, why, sizeof why) ==
            HANSA__RESULT_CODE__RESULT_OK;
    bool invalid_kind = strcmp(t->kind, "order") != 0 && strcmp(t->kind, "payment") != 0 &&
                        strcmp(t->kind, "waybill") != 0;
    if (t->admissible == invalid_kind) {
        fprintf(stderr, "sim_pool: %s transaction %s admission (%s)\n", t->kind,
                t->admissible ? "passed" : "failed", why);
        abort();
    }
}

const struct sim_pool *sim_pool_get(void)
{
    if (pool_built)
        return &pool;
    HANSA_ASSERT(wire_global_init() == HANSA_OK);
    Hansa__Parameters params;
    ledger_params_default(&params);
    pool.replay_window_ms = params.tx_replay_window_ms;
    struct ledger_output g;
    memset(&g, 0, sizeof g);
    fx_genesis_output(&params, &g);
    pool.genesis = memstate_new();
    memstate_apply(pool.genesis, &g);
    memcpy(pool.genesis_root, g.state_root, CS_HASH_BYTES);
    ledger_output_free(&g);
    pool.txs = calloc(SIM_POOL_ORDERS * 4, sizeof *pool.txs);
    HANSA_ASSERT(pool.txs != NULL);
    for (uint32_t k = 0; k < SIM_POOL_ORDERS; k++)
        add_order(k);
    HANSA_ASSERT(pool.n <= SIM_POOL_ORDERS * 4 && pool.n < UINT16_MAX);
    for (size_t i = 0; i < pool.n; i++)
        classify(&pool.txs[i]);
    pool_built = true;
    return &pool;
}
