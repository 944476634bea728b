/*
 * The consensus shell: everything node/consensus (pure) asks for, done for
 * real, and everything the network brings, turned into core events.
 *
 *   peer messages ──▶ check (signature, height, proposer, block validity)
 *                      ──▶ consensus_step ──▶ actions:
 *     PERSIST         synced write of the durable core state, then PERSISTED
 *     PROPOSE         sign (signer.c) and broadcast proposal + block
 *     VOTE            sign, broadcast, and feed back as the core's own vote
 *     SCHEDULE_TIMEOUT  a timer of the event loop
 *     GET_VALUE       build a block from the mempool (chain.c); while the
 *                     mempool is empty and the heartbeat is not due, wait
 *     DECIDE          commit the block with its commit (chain.c), announce
 *     EVIDENCE        log, keep and gossip the two conflicting votes
 *
 * Idle chains stay idle (issue: "empty blocks only on a configurable
 * heartbeat"): at round 0 of a height the proposer waits for transactions
 * before building, and the others hold their propose timeout until they see
 * transactions (gossiped to them) or the heartbeat is due. Later rounds are
 * never held.
 *
 * Catch-up: a validator that sees a peer ahead (PeerStatus, or a message of
 * a later height) asks it for committed blocks over the validator links;
 * each block's commit (2f+1 valid precommits) and validity are checked
 * before it is executed and committed; progress is logged.
 *
 * Runs on the event loop thread only, except cshell_admitted (API workers).
 */
#ifndef HANSA_NODE_CSHELL_H
#define HANSA_NODE_CSHELL_H

#include <stdint.h>

#include "admission.h"
#include "api.h"
#include "chain.h"
#include "config.h"
#include "consensus.h"
#include "events.h"
#include "peers.h"
#include "signer.h"

struct cshell;

struct cshell_deps {
    const struct node_config *cfg;
    struct chain *chain;
    struct store *store;
    struct signer *signer;
    struct mempool *mempool;
    struct api *api;
    struct events *events;
    struct peers *peers; /* NULL for a network of one validator */
    struct admission admission;
    /* Told after every committed block (the risk thread; never blocks). */
    void (*committed)(void *ctx);
    void *committed_ctx;
};

HANSA_MUST_USE hansa_err cshell_open(const struct cshell_deps *deps, struct cshell **out, char *why,
                                     size_t why_len);
void cshell_close(struct cshell *s);

/* Run until *stop; HANSA_OK on a clean stop, a storage error otherwise. */
HANSA_MUST_USE hansa_err cshell_run(struct cshell *s, const _Atomic bool *stop);
/* Wake the loop (stop requested, or new work). Thread-safe. */
void cshell_wake(struct cshell *s);

/* The API admitted a client's transaction: gossip it (thread-safe, never
 * blocks; a full outbox drops the copy — the transaction is still pooled
 * here and gets into a block when this node proposes). */
void cshell_admitted(void *s, const uint8_t *tx, size_t len);

/* For status. */
void cshell_position(struct cshell *s, uint64_t *height, uint32_t *round, int *step,
                     uint32_t *peers_connected);

#endif
