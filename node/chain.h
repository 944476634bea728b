/*
 * The chain as the node shell sees it: the committed tip, and the three
 * things done to blocks - build one (proposer), check one (valid(v) of the
 * Tendermint paper, for proposals and for catch-up), commit one with its
 * commit (execution + one synced store batch).
 *
 * A block is valid at height h when (DESIGN.md §3 step 5):
 *   - its header names this chain, height h, the tip's hash as previous
 *     hash, a time after the tip's and at most CHAIN_FUTURE_MS ahead of the
 *     local clock, the state root after h-1, a validator of this set as
 *     its proposer (not necessarily the round's: a valid value re-proposed
 *     in a later round, Alg. 1 line 16, keeps the proposer that built it,
 *     and must stay valid there), this validator set's hash, the Merkle
 *     root of its tx ids, the root of its evidence, and the hash of its
 *     last commit;
 *   - its last commit (h > 1) holds 2f+1 valid precommits for block h-1;
 *   - each piece of evidence passes chain_check_evidence (at most
 *     CHAIN_EVIDENCE_MAX per block);
 *   - every transaction opens (canonical, this chain), is signed by a key
 *     registered to its signer, lies within the replay window of the block
 *     time, is not committed yet, and appears once. Signatures of
 *     transactions already in this node's mempool are not verified again;
 *     the others are verified in parallel before the sequential checks.
 * Rules that depend on state beyond that (roles revoked, documents) are the
 * ledger's: such a transaction stays in the block with its rejection code.
 *
 * Threads: everything here runs on the event loop, except chain_tip, which
 * API workers call for status, and the helper threads chain_validate starts
 * and joins to verify signatures.
 */
#ifndef HANSA_NODE_CHAIN_H
#define HANSA_NODE_CHAIN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "genesis.h"
#include "ledger.h"
#include "mempool.h"
#include "store.h"

/* A proposal may run ahead of the local clock by this much (clock skew
 * between validators); more is refused. */
#define CHAIN_FUTURE_MS 5000u
/* Evidence pieces in one block: equivocation is rare; a handful per block
 * commits a burst within a few heights and bounds the work of checking. */
#define CHAIN_EVIDENCE_MAX 8u
/* chain_validate verifies the signatures of transactions it has not seen
 * on up to this many threads (one per core, the caller's included), when
 * there are at least CHAIN_VERIFY_PARALLEL_MIN of them (fewer are not worth
 * starting a thread), taking CHAIN_VERIFY_CHUNK at a time. */
#define CHAIN_VERIFY_THREADS_MAX  8u
#define CHAIN_VERIFY_PARALLEL_MIN 64u
#define CHAIN_VERIFY_CHUNK        32u

struct chain_validator {
    char id[HANSA_ID_LEN_MAX + 1];
    uint8_t key[WIRE_PUBKEY_BYTES];
};

struct chain {
    struct store *store;
    char chain_id[HANSA_CHAIN_ID_LEN_MAX + 1];
    struct chain_validator vals[GENESIS_VALIDATORS_MAX];
    uint32_t n_vals;
    uint8_t validators_hash[WIRE_HASH_BYTES];
    uint8_t genesis_hash[WIRE_HASH_BYTES];

    pthread_mutex_t mu; /* the tip, for readers on other threads */
    uint64_t height;
    uint8_t tip_hash[WIRE_HASH_BYTES];
    uint64_t tip_time_ms;
    uint8_t *tip_commit; /* encoded Commit of the tip; NULL at genesis */
    size_t tip_commit_len;
};

/* A block decoded from its bytes (everything owned). */
struct chain_block {
    uint8_t *bytes; /* encoded Block */
    size_t len;
    Hansa__Block *block;
    Hansa__BlockHeader *header;
    uint8_t hash[WIRE_HASH_BYTES];
    struct wire_tx *txs;
    size_t n_txs;
};

/* Load the tip from a store that holds genesis at least. */
HANSA_MUST_USE hansa_err chain_open(struct chain *c, struct store *store,
                                    const struct genesis_doc *g, char *why, size_t why_len);
void chain_close(struct chain *c);

/* Index of a validator id, or UINT32_MAX. Proposer of (h, r): vals[(h + r) % n]. */
uint32_t chain_validator_index(const struct chain *c, const char *id);
const char *chain_proposer(const struct chain *c, uint64_t height, uint32_t round);

/* A copy of the tip for status (thread-safe). */
void chain_tip(struct chain *c, uint64_t *height, uint8_t hash[WIRE_HASH_BYTES], uint64_t *time_ms);

/* Decode bytes as a block (no checks beyond decoding). */
HANSA_MUST_USE hansa_err chain_block_open(const char *chain_id, const uint8_t *bytes, size_t len,
                                          struct chain_block *out);
/* Take ownership of bytes (malloc'd) instead of copying. */
HANSA_MUST_USE hansa_err chain_block_adopt(const char *chain_id, uint8_t *bytes, size_t len,
                                           struct chain_block *out);
void chain_block_free(struct chain_block *b);

/* Build the block at tip + 1 from txs (already filtered: see
 * chain_filter_txs) and evidence (each checked with chain_check_evidence),
 * proposed by proposer, carrying the tip's commit. */
HANSA_MUST_USE hansa_err chain_build(struct chain *c, const char *proposer,
                                     struct mempool_tx *const *txs, size_t k,
                                     Hansa__Evidence *const *evidence, size_t n_evidence,
                                     uint64_t time_ms, struct chain_block *out);
/* Equivocation evidence worth committing: two canonical votes of one
 * validator of this chain for one height, round and type, naming different
 * blocks, both correctly signed, in canonical order (vote_a encodes
 * smaller), and not committed before. */
bool chain_check_evidence(const struct chain *c, const Hansa__Evidence *e, char *why,
                          size_t why_len);
/* SHA-256 of the evidence's canonical encoding (its identity). */
HANSA_MUST_USE hansa_err chain_evidence_id(const Hansa__Evidence *e, uint8_t id[WIRE_HASH_BYTES]);
/* Drop (forget and free) the pooled transactions that may not go into a
 * block at time_ms (committed meanwhile, outside the window); returns how
 * many remain at the front of txs. */
size_t chain_filter_txs(struct chain *c, struct mempool *mp, struct mempool_tx **txs, size_t k,
                        uint64_t time_ms);

/* now_ms for chain_validate of a block that already carries its commit
 * (catch-up): 2f+1 validators accepted its time when it was proposed, so
 * this node's clock, possibly behind, must not refuse it. */
#define CHAIN_ANY_TIME (UINT64_MAX - CHAIN_FUTURE_MS)

/* valid(v) at tip + 1 (see the top of this file). */
bool chain_validate(struct chain *c, const struct chain_block *b, uint64_t now_ms,
                    struct mempool *mp, char *why, size_t why_len);
/* 2f+1 distinct validators' valid precommits for (height, hash). */
HANSA_MUST_USE hansa_err chain_verify_commit(const struct chain *c, uint64_t height,
                                             const uint8_t hash[WIRE_HASH_BYTES],
                                             const Hansa__Commit *commit, char *why,
                                             size_t why_len);

/* Execute b at tip + 1 and store it with commit in one synced batch; the
 * tip moves. *out (caller frees with ledger_output_free) holds the results
 * and state root for receipts and events. */
HANSA_MUST_USE hansa_err chain_commit(struct chain *c, const struct chain_block *b,
                                      const Hansa__Commit *commit, struct ledger_output *out);

#endif
