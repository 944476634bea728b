/*
 * A single-node ledger for unit tests: genesis with a fixed cast of parties,
 * an in-memory state, and helpers that sign transactions, run them through
 * admission and execution as one block, and apply the result.
 *
 *   struct fx f; fx_init(&f);
 *   struct fx_order_doc o; fx_order_doc(&o, "MER-SZ-0001", "SO-1", 100000);
 *   Hansa__TxBody b; fx_body(&b, HANSA__TX_BODY__ACTION_CREATE_ORDER, &o.doc);
 *   struct fx_result r = fx_submit(&f, "MER-SZ-0001", &b);
 *   cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_OK, "%s", r.why);
 *   fx_close(&f);
 *
 * Parties (key seed = SHA-256 of the party id):
 *   MER-SZ-0001, MER-SZ-0002  MERCHANT (CN)     PLT-0001  PLATFORM (CN)
 *   PAY-0001                  PAYMENT (CN)      LOG-0001  LOGISTICS (CN)
 *   LOG-0002                  LOGISTICS (DE)    BANK-A    BANK (CN)
 *   BANK-B                    BANK (DE)         CUS-0001  REGULATOR (CN)
 *   BUYER-DE-1                MERCHANT (DE)     ADMIN-1..ADMIN-3  ADMIN (CN)
 */
#ifndef HANSA_TEST_LEDGER_FIXTURE_H
#define HANSA_TEST_LEDGER_FIXTURE_H

#include "ledger.h"
#include "memstate.h"

#define FX_CHAIN_ID "hansa-unit-1"
/* 2026-01-15 00:00:00 UTC */
#define FX_GENESIS_MS UINT64_C(1768435200000)
#define FX_BLOCK_MS   1000u

struct fx {
    struct memstate *ms;
    struct ledger_state view;
    Hansa__Parameters params; /* genesis parameters */
    uint64_t height;          /* last executed block */
    uint64_t time_ms;         /* time of the next block */
    uint8_t root[WIRE_HASH_BYTES];
    uint64_t nonce;
    struct ledger_output last; /* output of the last block (history, results) */
    /* Called after each block is executed and applied (the risk fixture
     * feeds its engine from here); NULL for none. */
    void (*on_block)(void *arg, const struct ledger_block *blk, const struct ledger_output *out);
    void *on_block_arg;
};

struct fx_result {
    bool admitted;          /* passed admission */
    Hansa__ResultCode code; /* admission code if not admitted, else execution result */
    char why[256];
    uint8_t tx_id[WIRE_HASH_BYTES];
};

/* Genesis with default parameters, or with p (copied). */
void fx_init(struct fx *f);
void fx_init_params(struct fx *f, const Hansa__Parameters *p);
void fx_close(struct fx *f);

/* The ledger's genesis output for the cast with parameters p, chain
 * FX_CHAIN_ID at FX_GENESIS_MS: what fx_init applies to its memory state,
 * for tools that commit it elsewhere (store_commit_genesis). Aborts if the
 * genesis is refused. Free *out with ledger_output_free. */
void fx_genesis_output(const Hansa__Parameters *p, struct ledger_output *out);

/* The fixed key pair of a party of the cast. */
void fx_keypair(const char *party, struct wire_keypair *kp);

/* Point b at action (one of the TxBody oneof messages). */
void fx_body(Hansa__TxBody *b, Hansa__TxBody__ActionCase which, void *action);

/* Sign b as signer (chain id, signer, created_ms = block time and a fresh
 * nonce are filled in), run admission, and if admitted execute it alone in
 * the next block. */
struct fx_result fx_submit(struct fx *f, const char *signer, Hansa__TxBody *b);
/* Several transactions in one block (admission first for each; refused ones
 * are left out of the block). */
void fx_block(struct fx *f, const char *const *signers, Hansa__TxBody *const *bodies, size_t n,
              struct fx_result *results);
/* A block with no transactions (timers run). */
void fx_empty_block(struct fx *f);
/* Move the time of the next block forward. */
void fx_advance(struct fx *f, uint64_t ms);

/* Decoded state record (caller wire_free()s) or NULL. */
void *fx_get(struct fx *f, const ProtobufCMessageDescriptor *d, const char *key);
Hansa__Order *fx_get_order(struct fx *f, const char *merchant, const char *order_no);
Hansa__CreditLine *fx_get_line(struct fx *f, const char *bank, const char *line_id);
Hansa__Financing *fx_get_financing(struct fx *f, const char *merchant, const char *id);
/* Decoded history entries of the last block whose key starts with prefix
 * (e.g. "financing/MER-SZ-0001/F-1/"); caller frees each with wire_free and
 * the array with free(). */
size_t fx_last_history(struct fx *f, const char *prefix, Hansa__HistoryEntry ***out);

/* ---- valid documents, ready to adjust ---- */

/* An EXPORT order in CNY from CN to DE: one line of quantity 1 (1000 milli)
 * at amount_minor, freight/tax/discount 0, actual_paid = amount_minor;
 * buyer FX_BUYER, consignee FX_CONSIGNEE_*. */
struct fx_order_doc {
    Hansa__CreateOrder doc;
    Hansa__OrderItem item;
    Hansa__OrderItem *items[1];
    char merchant[65], order_no[65];
};
void fx_order_doc(struct fx_order_doc *d, const char *merchant, const char *order_no,
                  int64_t amount_minor);

/* A payment by PAY-0001 of amount_minor CNY, payer FX_BUYER. */
struct fx_payment_doc {
    Hansa__RecordPayment doc;
    Hansa__OrderRef order;
    char pay_id[65], merchant[65], order_no[65];
};
void fx_payment_doc(struct fx_payment_doc *d, const char *merchant, const char *order_no,
                    const char *pay_id, int64_t amount_minor);

/* A waybill by LOG-0001 from CNSZX to DEHAM with the order's consignee. */
struct fx_waybill_doc {
    Hansa__CreateWaybill doc;
    Hansa__OrderRef order;
    char *hs_codes[1];
    char logistics_no[65], merchant[65], order_no[65];
};
void fx_waybill_doc(struct fx_waybill_doc *d, const char *merchant, const char *order_no,
                    const char *logistics_no);

/* Order + payment + waybill in three blocks; asserts each is OK and the
 * order ends MATCHED. */
void fx_matched_order(struct fx *f, const char *merchant, const char *order_no,
                      int64_t amount_minor);

extern const uint8_t FX_BUYER[WIRE_HASH_BYTES];
extern const uint8_t FX_CONSIGNEE_NAME[WIRE_HASH_BYTES];
extern const uint8_t FX_CONSIGNEE_PHONE[WIRE_HASH_BYTES];
extern const uint8_t FX_CONSIGNEE_ADDRESS[WIRE_HASH_BYTES];

#endif
