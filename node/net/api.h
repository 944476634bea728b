/*
 * The client API server (DESIGN.md §6): nng rep0 with contexts on a
 * tls+tcp:// listener (server certificate of the consortium CA) and an
 * optional tcp:// listener on loopback.
 *
 * nng callbacks only decode the envelope and enqueue a job on a bounded
 * queue (a full queue answers ERROR_BUSY at once); worker threads do the
 * work: admission of submitted transactions (signature checks included)
 * into the mempool, signed queries answered under DOMAIN.md's read rules
 * with a read-audit log, node status. A receipt query with wait_ms parks
 * its context until the transaction commits (api_on_commit) or the wait
 * ends (api_tick), never blocking a thread.
 *
 * Every malformed, oversized, unsigned, wrongly signed or unauthorized
 * request gets a Response with a precise ErrorCode and message; the server
 * keeps serving.
 */
#ifndef HANSA_NET_API_H
#define HANSA_NET_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "hansa/error.h"
#include "mempool.h"
#include "store.h"

struct api;

struct api_deps {
    const struct node_config *cfg;
    struct store *store;     /* committed state, blocks, tx index */
    struct mempool *mempool; /* admitted transactions go here */
    /* Fill the node-level fields of a status answer (heights, consensus,
     * peers); the API adds mempool figures. Called on worker threads. */
    void (*status)(void *ctx, Hansa__NodeStatus *st);
    void *status_ctx;
    /* The node's clock in ms since the epoch (admission's replay window). */
    uint64_t (*now_ms)(void *ctx);
    void *now_ctx;
    /* Optional: told about every transaction a client submitted and the
     * mempool admitted (the node gossips them to its peers). Called on
     * worker threads; must not block. */
    void (*admitted)(void *ctx, const uint8_t *tx, size_t len);
    void *admitted_ctx;
};

/* Start listening. why says which URL or file failed. */
HANSA_MUST_USE hansa_err api_open(const struct api_deps *deps, struct api **out, char *why,
                                  size_t why_len);
/* Stop listening, answer parked requests with ERROR_UNAVAILABLE-like errors,
 * join workers. Accepts NULL. */
void api_close(struct api *api);

/* After a block is committed (called from the node's event loop): complete
 * parked receipt queries for these transactions. */
void api_on_commit(struct api *api, uint64_t height, uint64_t block_time_ms,
                   const Hansa__BlockResults *results);
/* New alerts were committed (the risk thread): parked alert polls look
 * again. Any thread. */
void api_on_alerts(struct api *api);
/* Expire parked receipt queries whose wait ended (event loop, ~every 100 ms). */
void api_tick(struct api *api, uint64_t now_ms);

/* The TCP port the TLS (tls = true) or plain tcp listener is bound to; 0 if
 * that listener is off. Lets tests and tools listen on port 0. */
uint16_t api_bound_port(const struct api *api, bool tls);

/* Receipt queries parked right now (for status and tests). */
size_t api_parked_count(struct api *api);

#endif
