/*
 * The trade state machine of DOMAIN.md: a pure function from (committed
 * state, block) to (state writes, history, results, state root).
 *
 * Pure means: no IO, no clock, no randomness. Committed state is read
 * through struct ledger_state, which the node backs with RocksDB and the
 * simulator with memory; block time arrives with the block. Everything the
 * block changes comes back in struct ledger_output, which the store commits
 * in one synced batch. Two validators that execute the same block on the
 * same state therefore produce byte-identical outputs and state roots.
 *
 * Invariants:
 *   1. A transaction rejected at execution changes nothing: its writes are
 *      rolled back, it keeps its place in the block with its result code.
 *   2. Output state writes are sorted by key and unique; the state root is
 *      SHA-256 over them chained with the previous root (state.c).
 *   3. A storage failure is never a consensus outcome: execution stops with
 *      the storage error and the node must not commit the block.
 */
#ifndef HANSA_LEDGER_H
#define HANSA_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hansa/wire.h"

/* Visitor for ledger_state.scan; return false to stop. key/val are valid only
 * during the call. */
typedef bool (*ledger_visit_fn)(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                                size_t val_len);

/* Committed state as of the end of the previous block (read-only). */
struct ledger_state {
    void *ctx;
    /* HANSA_OK with a malloc'd copy in *val (caller frees), HANSA_ENOENT, or
     * a storage error. */
    hansa_err (*get)(void *ctx, const uint8_t *key, size_t key_len, uint8_t **val, size_t *val_len);
    /* Visit, in byte order, every key that starts with prefix. */
    hansa_err (*scan)(void *ctx, const uint8_t *prefix, size_t prefix_len, ledger_visit_fn visit,
                      void *arg);
    /* Optional (NULL: scan, with the visitor stopping itself): the same,
     * only keys before until (exclusive). A store-backed state bounds its
     * iterator with it, which matters where deleted keys pile up past the
     * last key wanted (the risk engine's cancelled timers). */
    hansa_err (*scan_until)(void *ctx, const uint8_t *prefix, size_t prefix_len,
                            const uint8_t *until, size_t until_len, ledger_visit_fn visit,
                            void *arg);
    /* Optional (NULL where nothing needs it; the risk engine's history
     * view must have it): visit, in reverse byte order, every
     * key that starts with prefix and is at or before from, so the latest
     * entry below a bound is one seek instead of a scan of everything
     * before it (the risk engine's entities as of a block). */
    hansa_err (*scan_back)(void *ctx, const uint8_t *prefix, size_t prefix_len, const uint8_t *from,
                           size_t from_len, ledger_visit_fn visit, void *arg);
};

/* One output write; val == NULL deletes key. Buffers owned by the output. */
struct ledger_write {
    uint8_t *key;
    size_t key_len;
    uint8_t *val;
    size_t val_len;
};

struct ledger_output {
    struct ledger_write *state; /* state family: sorted by key, unique */
    size_t n_state;
    struct ledger_write *history; /* history family: puts, in execution order */
    size_t n_history;
    Hansa__TxResult **results; /* one per transaction, in block order */
    size_t n_results;
    uint8_t state_root[WIRE_HASH_BYTES];
};

/* Everything a block brings to execution. Transactions are opened
 * (wire_tx_open) and their signatures already verified by the caller. */
struct ledger_block {
    const char *chain_id;
    uint64_t height;
    uint64_t time_ms;
    uint8_t prev_state_root[WIRE_HASH_BYTES];
    const struct wire_tx *txs;
    size_t n_txs;
};

/* Execute a block. On HANSA_OK *out holds the outputs (free with
 * ledger_output_free); any other value is a storage or memory failure and
 * *out is empty. */
HANSA_MUST_USE hansa_err ledger_execute(const struct ledger_state *st,
                                        const struct ledger_block *blk, struct ledger_output *out);
/* Accepts a zeroed or partly filled output. */
void ledger_output_free(struct ledger_output *out);

/* The genesis state: parameters and parties (DOMAIN.md "Who takes part"). */
struct ledger_genesis {
    const char *chain_id;
    uint64_t time_ms;
    const Hansa__Parameters *params;
    Hansa__Party *const *parties;
    size_t n_parties;
};
/* Default genesis parameters (DOMAIN.md's numbers). */
void ledger_params_default(Hansa__Parameters *p);
/* HANSA_EINVAL with why for an invalid genesis (duplicate party, no role,
 * bad key, parameter out of range). Height 0, state root chained from 32
 * zero bytes. */
HANSA_MUST_USE hansa_err ledger_genesis(const struct ledger_genesis *g, struct ledger_output *out,
                                        char *why, size_t why_len);

/*
 * Admission (DOMAIN.md "Order of checks"); wire_tx_open has already checked
 * size, decoding and chain id. In order:
 *   ledger_admit_signer: the signer is a registered, active party and the
 *     key is registered to it (UNKNOWN_SIGNER);
 *   -- the caller verifies the signature here (BAD_SIGNATURE) --
 *   ledger_admit: creation time within the replay window of now_ms
 *     (OUTSIDE_WINDOW); [the caller checks ALREADY_COMMITTED against its tx
 *     index]; the signer's role allows the action (NOT_AUTHORIZED); the
 *     document checks that need no state (INVALID_DOCUMENT).
 * Both return RESULT_OK or the first failing code, with a sentence in why.
 * A storage failure returns RESULT_UNSPECIFIED with the error in why.
 */
Hansa__ResultCode ledger_admit_signer(const struct ledger_state *st, const struct wire_tx *tx,
                                      char *why, size_t why_len);
/* The same checks on state read once: ledger_admission_load reads the
 * parameters and the signer's party (NULL if unknown) for both, so an
 * admission makes two state reads instead of four. The loaded records are
 * the caller's until ledger_admission_free. A storage failure returns its
 * error with a sentence in why. */
struct ledger_admission {
    Hansa__Parameters *params;
    Hansa__Party *signer;
};
HANSA_MUST_USE hansa_err ledger_admission_load(const struct ledger_state *st, const char *signer,
                                               struct ledger_admission *a, char *why,
                                               size_t why_len);
/* The two reads of ledger_admission_load one at a time (a zeroed first),
 * for a caller that needs the parameters before it knows the signer (the
 * size limit comes before decoding). */
HANSA_MUST_USE hansa_err ledger_admission_params(const struct ledger_state *st,
                                                 struct ledger_admission *a);
HANSA_MUST_USE hansa_err ledger_admission_signer(const struct ledger_state *st, const char *signer,
                                                 struct ledger_admission *a);
void ledger_admission_free(struct ledger_admission *a);
Hansa__ResultCode ledger_admit_signer_with(const struct ledger_admission *a,
                                           const struct wire_tx *tx, char *why, size_t why_len);
Hansa__ResultCode ledger_admit_with(const struct ledger_admission *a, const struct wire_tx *tx,
                                    uint64_t now_ms, char *why, size_t why_len);
Hansa__ResultCode ledger_admit(const struct ledger_state *st, const struct wire_tx *tx,
                               uint64_t now_ms, char *why, size_t why_len);

/* "RESULT_ASSET_ALREADY_PLEDGED" -> "ASSET_ALREADY_PLEDGED"; never NULL. */
const char *ledger_result_name(Hansa__ResultCode code);

#endif
