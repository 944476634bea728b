/*
 * Admission of a transaction into the mempool (DESIGN.md §3 step 2), in
 * DOMAIN.md's order of checks; the first failure names the result code:
 *
 *   size          > Parameters.max_tx_bytes                TOO_LARGE
 *   decoding      envelope and body, canonical, lengths    MALFORMED
 *   chain id                                               WRONG_CHAIN
 *   signer, key   ledger_admit_signer                      UNKNOWN_SIGNER
 *   signature     wire_tx_verify                           BAD_SIGNATURE
 *   window        ledger_admit, node clock                 OUTSIDE_WINDOW
 *   committed     tx index                                 ALREADY_COMMITTED
 *   role          ledger_admit                             NOT_AUTHORIZED
 *   document      ledger_admit                             INVALID_DOCUMENT
 *   mempool       mempool_add                              ALREADY_PENDING / BUSY
 *
 * ledger_admit checks window, role and document in one call; the tx index
 * lookup happens before it, and a committed transaction is answered
 * OUTSIDE_WINDOW if the window fails and ALREADY_COMMITTED otherwise, which
 * is exactly the place DOMAIN gives it.
 *
 * A full mempool answers BUSY first, before any of the checks above, as
 * CometBFT's CheckTx does: a node at capacity must not spend a signature
 * verification on each retry of a transaction it cannot take (at max load
 * the benchmark's clients retried tens of thousands of times a minute).
 * Two answers keep their meaning: a transaction already pending is still
 * ALREADY_PENDING, and one already committed still ALREADY_COMMITTED.
 *
 * A signature is verified at most once per transaction on this node: a tx
 * id in the mempool or in the tx index names bytes whose signature this
 * node has already verified (the id is the hash of the exact envelope,
 * signature included), so the check is skipped for them.
 *
 * Used by the client API (submitted transactions) and by the node for
 * transactions gossiped by peers. Thread-safe.
 */
#ifndef HANSA_MEMPOOL_ADMISSION_H
#define HANSA_MEMPOOL_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>

#include "mempool.h"
#include "store.h"

struct admission {
    struct store *store;
    struct mempool *mempool;
    const char *chain_id;
    uint64_t (*now_ms)(void *ctx); /* the node's clock (replay window) */
    void *now_ctx;
};

struct admission_result {
    Hansa__ResultCode code; /* RESULT_OK: now in the mempool */
    char why[256];          /* one sentence; "" with RESULT_OK */
    uint8_t tx_id[WIRE_HASH_BYTES];
    /* ALREADY_COMMITTED: where. */
    uint64_t height;
    uint32_t index;
    /* Set (with code RESULT_UNSPECIFIED) when the node could not read its
     * own state or ran out of memory: not the transaction's fault. */
    hansa_err failure;
};

/* Admit bytes (a Tx envelope); r says what happened. */
void admission_admit(const struct admission *a, const uint8_t *bytes, size_t len,
                     struct admission_result *r);

/* Signatures admission_admit has verified in this process, all nodes
 * together: for tests of "a verified tx is never verified again". */
uint64_t admission_verify_count(void);

#endif
