/*
 * What the ledger's modules share: the execution context of one block and
 * the helpers every transaction handler uses.
 *
 * A handler is
 *     Hansa__ResultCode ledger_<module>_<action>(struct ledger_exec *ex,
 *                                                const Hansa__<Action> *a);
 * It reads records with ledger_load_*() (decoded copies, freed automatically
 * when the transaction ends), checks the rules of DOMAIN.md in the order
 * DOMAIN.md lists them, and writes with ledger_put() / ledger_history() /
 * ledger_index(). It returns RESULT_OK, or the first failing code after
 * ledger_why() has said why. On any code but RESULT_OK the executor rolls
 * back every write of the transaction, so handlers may write before a later
 * check fails.
 *
 * Storage failures: loaders return NULL and set ex->fatal; the executor
 * stops the block. Handlers need not check ex->fatal themselves.
 */
#ifndef HANSA_LEDGER_INTERNAL_H
#define HANSA_LEDGER_INTERNAL_H

#include <stdarg.h>

#include "keys.h"
#include "ledger.h"

/* Result messages are one sentence for the client and the audit trail. */
#define LEDGER_WHY_BYTES_MAX 256u

struct ledger_overlay;  /* overlay.c */
struct ledger_deferred; /* below */

struct ledger_exec {
    const struct ledger_state *base;
    struct ledger_overlay *ov;
    const char *chain_id;
    uint64_t height;
    uint64_t time_ms;
    Hansa__Parameters *params; /* in force for this block */

    /* The transaction being executed (NULL in block-start hooks). */
    const struct wire_tx *tx;
    uint32_t tx_index;
    const char *signer; /* tx->body->signer */

    uint32_t credit_ordinal; /* CreditEvent.ordinal within the block */
    uint32_t history_seq;    /* history entries so far in the block */
    char why[LEDGER_WHY_BYTES_MAX];
    hansa_err fatal;

    /* Owned by the executor (ledger.c): released at the end of each
     * transaction, or rolled back with it. */
    struct ledger_deferred *deferred;
    size_t n_deferred, cap_deferred;
    struct ledger_write *history;
    size_t n_history, cap_history;
};

struct ledger_deferred {
    void *p;
    void (*fn)(void *);
};

/* ---- the executor (ledger.c) ---- */
/* Open a context for one block (or genesis at height 0). */
HANSA_MUST_USE hansa_err ledger_exec_open(struct ledger_exec *ex, const struct ledger_state *st,
                                          const char *chain_id, uint64_t height, uint64_t time_ms,
                                          const uint8_t prev_root[WIRE_HASH_BYTES]);
/* Move the write set, history and state root into out. */
HANSA_MUST_USE hansa_err ledger_exec_finish(struct ledger_exec *ex,
                                            const uint8_t prev_root[WIRE_HASH_BYTES],
                                            struct ledger_output *out);
void ledger_exec_close(struct ledger_exec *ex);
/* Admission rules that execution repeats because state may have changed
 * since admission (admit.c): signer still registered with this key and
 * role (else NOT_AUTHORIZED), document checks under the parameters now in
 * force (INVALID_DOCUMENT). */
Hansa__ResultCode ledger_exec_recheck(struct ledger_exec *ex, const struct wire_tx *tx);

/* ---- results ---- */
__attribute__((format(printf, 2, 3))) void ledger_why(struct ledger_exec *ex, const char *fmt, ...);

/* ---- records (record.c) ---- */
/* Decoded copy of the record at key, or NULL (absent, or ex->fatal set).
 * Freed when the transaction (or block-start hook) ends. */
void *ledger_load(struct ledger_exec *ex, const ProtobufCMessageDescriptor *desc, const char *key,
                  size_t key_len);
Hansa__Party *ledger_load_party(struct ledger_exec *ex, const char *party);
Hansa__Order *ledger_load_order(struct ledger_exec *ex, const char *merchant, const char *order_no);
Hansa__Payment *ledger_load_payment(struct ledger_exec *ex, const char *institution,
                                    const char *pay_transaction_id);
Hansa__Waybill *ledger_load_waybill(struct ledger_exec *ex, const char *carrier,
                                    const char *logistics_no);
Hansa__CreditLine *ledger_load_line(struct ledger_exec *ex, const char *bank, const char *line_id);
Hansa__Financing *ledger_load_financing(struct ledger_exec *ex, const char *merchant,
                                        const char *financing_id);
/* The same, owned by the caller (wire_free). */
void *ledger_load_keep(struct ledger_exec *ex, const ProtobufCMessageDescriptor *desc,
                       const char *key, size_t key_len);
/* Keep p alive until the transaction ends, then free_fn(p). */
void ledger_defer_free(struct ledger_exec *ex, void *p, void (*free_fn)(void *));

/* Encode m and write it at key (rolled back if the transaction fails). */
void ledger_put(struct ledger_exec *ex, const char *key, size_t key_len, const ProtobufCMessage *m);
void ledger_put_raw(struct ledger_exec *ex, const char *key, size_t key_len, const uint8_t *val,
                    size_t val_len);
void ledger_delete(struct ledger_exec *ex, const char *key, size_t key_len);
/* Visit committed keys with prefix merged with this block's writes so far,
 * in key order; stops when visit returns false (and so does the store's
 * iteration). The visitor may write; its writes do not show in this scan. */
void ledger_scan(struct ledger_exec *ex, const char *prefix, ledger_visit_fn visit, void *arg);

/* Append to the entity's history: the record after the change, and the
 * credit event when there is one. A new event (height 0) is stamped here
 * with height, ordinal, tx id and time; passing the same, already stamped
 * event again records that one event in a second entity's history (a
 * financing and its line) under the same ordinal. */
void ledger_history(struct ledger_exec *ex, Hansa__EntityType type, const char *owner,
                    const char *id, const Hansa__Record *after, Hansa__CreditEvent *ev);
/* Index entity_key under party for "list by party": "ix/<party>/<type>/<key>". */
void ledger_index(struct ledger_exec *ex, const char *party, Hansa__EntityType type,
                  const char *entity_key);

/* ---- parameters (params.c): one range table for genesis and governance ---- */
/* Field name of a parameter, or NULL for an unknown id. */
const char *ledger_param_name(Hansa__ParameterId id);
/* True if id is known and value within its range; else why says which. */
bool ledger_param_check(Hansa__ParameterId id, int64_t value, char *why, size_t why_len);
int64_t ledger_param_get(const Hansa__Parameters *p, Hansa__ParameterId id);
/* Set a checked value (asserts ledger_param_check). */
void ledger_param_set(Hansa__Parameters *p, Hansa__ParameterId id, int64_t value);
/* Every parameter within its range ("genesis parameters: ..." in why). */
bool ledger_params_valid(const Hansa__Parameters *p, char *why, size_t why_len);

/* ---- parties and roles (admit.c) ---- */
bool ledger_party_has_role(const Hansa__Party *p, Hansa__Role role);
bool ledger_party_has_key(const Hansa__Party *p, const uint8_t key[WIRE_PUBKEY_BYTES]);
/* The party exists, is active and holds role. */
bool ledger_party_active_with_role(struct ledger_exec *ex, const char *party, Hansa__Role role);

/* ---- arithmetic (ledger.c): exact, with 128-bit intermediates ---- */
#define LEDGER_AMOUNT_MAX INT64_C(1000000000000000) /* 10^15 minor units */
bool ledger_amount_valid(int64_t amount_minor);
/* floor(amount * bps / 10000) */
int64_t ledger_apply_bps(int64_t amount_minor, uint32_t bps);
/* Calendar year of t (ms since epoch) at a UTC offset in minutes. */
uint32_t ledger_year_at_offset(uint64_t time_ms, int32_t offset_minutes);
/* ISO 3166-1 alpha-2 / ISO 4217 alpha-3 / UN/LOCODE shape checks. */
bool ledger_country_valid(const char *c);
bool ledger_currency_valid(const char *c);
bool ledger_locode_valid(const char *c);
/* 1..max_bytes bytes of well-formed UTF-8 (no overlongs, surrogates or code
 * points past U+10FFFF); NULL counts as empty. */
bool ledger_text_valid(const char *s, size_t max_bytes);
/* An HS code: 6 to 10 digits. */
bool ledger_hs_code_valid(const char *s);

/* ---- handlers, by module ---- */
/* governance.c */
Hansa__ResultCode ledger_governance_check(const Hansa__TxBody *b, char *why, size_t why_len);
Hansa__ResultCode ledger_governance_propose(struct ledger_exec *ex,
                                            const Hansa__ProposeGovernance *a);
Hansa__ResultCode ledger_governance_vote(struct ledger_exec *ex, const Hansa__VoteGovernance *a);
void ledger_governance_begin_block(struct ledger_exec *ex);

/* order.c, payment.c, waybill.c, match.c */
Hansa__ResultCode ledger_order_check(const Hansa__TxBody *b, const Hansa__Parameters *p, char *why,
                                     size_t why_len);
Hansa__ResultCode ledger_order_create(struct ledger_exec *ex, const Hansa__CreateOrder *a);
Hansa__ResultCode ledger_order_cancel(struct ledger_exec *ex, const Hansa__CancelOrder *a);
Hansa__ResultCode ledger_payment_check(const Hansa__TxBody *b, const Hansa__Parameters *p,
                                       char *why, size_t why_len);
Hansa__ResultCode ledger_payment_record(struct ledger_exec *ex, const Hansa__RecordPayment *a);
Hansa__ResultCode ledger_waybill_check(const Hansa__TxBody *b, const Hansa__Parameters *p,
                                       char *why, size_t why_len);
Hansa__ResultCode ledger_waybill_create(struct ledger_exec *ex, const Hansa__CreateWaybill *a);
Hansa__ResultCode ledger_waybill_event(struct ledger_exec *ex, const Hansa__AddShipmentEvent *a);
/* Index a new leg (payment or waybill, at leg_key) of order o for the
 * parties that may list it: its institution or carrier (the signer), the
 * merchant, the platform that created the order; and the order for the
 * signer. */
void ledger_order_leg_index(struct ledger_exec *ex, const Hansa__Order *o, Hansa__EntityType type,
                            const char *leg_key);
/* Write an order and its history entry (the record after the change). */
void ledger_order_write(struct ledger_exec *ex, const Hansa__Order *o);
/* Recompute and store the match result once all three legs exist. */
void ledger_match_update(struct ledger_exec *ex, Hansa__Order *order);

/* credit.c, financing.c */
Hansa__ResultCode ledger_credit_check(const Hansa__TxBody *b, const Hansa__Parameters *p, char *why,
                                      size_t why_len);
Hansa__ResultCode ledger_credit_open(struct ledger_exec *ex, const Hansa__OpenCreditLine *a);
Hansa__ResultCode ledger_credit_change_limit(struct ledger_exec *ex,
                                             const Hansa__ChangeCreditLimit *a);
Hansa__ResultCode ledger_credit_suspend(struct ledger_exec *ex, const Hansa__SuspendCreditLine *a);
Hansa__ResultCode ledger_credit_resume(struct ledger_exec *ex, const Hansa__ResumeCreditLine *a);
Hansa__ResultCode ledger_credit_close(struct ledger_exec *ex, const Hansa__CloseCreditLine *a);
Hansa__ResultCode ledger_financing_check(const Hansa__TxBody *b, const Hansa__Parameters *p,
                                         char *why, size_t why_len);
Hansa__ResultCode ledger_financing_request(struct ledger_exec *ex,
                                           const Hansa__RequestFinancing *a);
Hansa__ResultCode ledger_financing_approve(struct ledger_exec *ex,
                                           const Hansa__ApproveFinancing *a);
Hansa__ResultCode ledger_financing_reject(struct ledger_exec *ex, const Hansa__RejectFinancing *a);
Hansa__ResultCode ledger_financing_disburse(struct ledger_exec *ex,
                                            const Hansa__DisburseFinancing *a);
Hansa__ResultCode ledger_financing_repay(struct ledger_exec *ex, const Hansa__RecordRepayment *a);
Hansa__ResultCode ledger_financing_default(struct ledger_exec *ex, const Hansa__DeclareDefault *a);
/* Mark DISBURSED financing OVERDUE at the first block past maturity. */
void ledger_financing_begin_block(struct ledger_exec *ex);

#endif
