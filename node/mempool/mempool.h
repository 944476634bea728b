/*
 * The mempool: admitted transactions waiting for a block, in arrival order.
 *
 * Bounded in count and bytes; a full pool answers HANSA_EBUSY and the client
 * gets RESULT_BUSY. Deduplicated by tx id (RESULT_ALREADY_PENDING). Every
 * transaction in the pool has passed admission on this node, signature
 * included, so the block producer never verifies it again.
 *
 * Thread safety: every function takes the pool's mutex; producers are the
 * API workers, the consumer is the node's event loop.
 */
#ifndef HANSA_MEMPOOL_H
#define HANSA_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hansa/wire.h"

struct mempool;

/* One admitted transaction; the pool owns bytes and the opened tx. */
struct mempool_tx {
    uint8_t *bytes;
    size_t len;
    struct wire_tx tx; /* opened from bytes; tx.id is the tx id */
    uint64_t admitted_ms;
};

HANSA_MUST_USE hansa_err mempool_open(size_t max_txs, size_t max_bytes, struct mempool **out);
void mempool_close(struct mempool *mp);

/* Take ownership of *tx on HANSA_OK. HANSA_EEXIST: same id already pooled;
 * HANSA_EBUSY: full. On error *tx stays with the caller. */
HANSA_MUST_USE hansa_err mempool_add(struct mempool *mp, struct mempool_tx *tx);
/* True if a transaction of len bytes would fit now (count and bytes); a
 * later mempool_add may still answer HANSA_EBUSY if others came first. */
bool mempool_has_room(struct mempool *mp, size_t len);
/* True if a transaction with this id is pooled. */
bool mempool_contains(struct mempool *mp, const uint8_t id[WIRE_HASH_BYTES]);
/* Move up to max_txs (and max_bytes, but always one) of the oldest
 * transactions out of the pool into out[], for a block. They stay "pending"
 * for deduplication (mempool_add answers HANSA_EEXIST, mempool_contains
 * true) until the caller, once their block is committed or abandoned, calls
 * mempool_forget and then frees each with mempool_tx_free. Returns count. */
size_t mempool_take(struct mempool *mp, struct mempool_tx **out, size_t max_txs, size_t max_bytes);
/* Remove pooled transactions with these ids (committed in a block another
 * validator proposed). In-flight ones are left to mempool_forget. */
void mempool_remove_ids(struct mempool *mp, const uint8_t *const *ids, size_t n);
/* The end of in-flight transactions from mempool_take (before freeing). */
void mempool_forget(struct mempool *mp, struct mempool_tx *const *txs, size_t n);
/* Wait until the pool is non-empty or timeout_ms passes (or mempool_wake).
 * Returns the number pooled. */
size_t mempool_wait(struct mempool *mp, uint64_t timeout_ms);
void mempool_wake(struct mempool *mp);
size_t mempool_count(struct mempool *mp);
size_t mempool_bytes(struct mempool *mp);

void mempool_tx_free(struct mempool_tx *tx);

#endif
