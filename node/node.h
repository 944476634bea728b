/*
 * A running Hansa node: configuration, store, mempool, client API, events,
 * and the event loop that produces and commits blocks.
 *
 * Threads (DESIGN.md §7): the caller of node_run is the event loop; it alone
 * executes blocks and commits them. API workers admit transactions into the
 * mempool concurrently. node_stop may be called from any thread (not from a
 * signal handler: main.c uses a sigwait thread).
 *
 * Block production in this milestone: one validator proposes and commits
 * alone, as soon as transactions wait and block_interval_ms (default 50 ms)
 * has passed since the last block, and an empty block only after
 * block_heartbeat_ms of idleness. Every block still carries a signed
 * precommit of its proposer as its commit, so the chain format does not
 * change when Tendermint consensus replaces this loop.
 */
#ifndef HANSA_NODE_H
#define HANSA_NODE_H

#include "config.h"
#include "hansa/error.h"

struct node;

/* Load everything under cfg->home and start listening. why receives the
 * operator-facing reason on failure. */
HANSA_MUST_USE hansa_err node_open(const struct node_config *cfg, struct node **out, char *why,
                                   size_t why_len);
/* Run the event loop until node_stop. Returns HANSA_OK on a clean stop, or a
 * storage error (the node stops rather than run on a broken store). */
HANSA_MUST_USE hansa_err node_run(struct node *n);
void node_stop(struct node *n);
void node_close(struct node *n);

#endif
