/*
 * The risk engine's shell (DESIGN.md §7): a thread that feeds every
 * committed block, in height order, to the pure engine (node/risk) and
 * commits the engine's writes, the alert-log head and its processed height
 * in ONE synced batch (store.h STORE_META_RISK_*). After a crash it resumes at
 * processed height + 1: a block's alerts are either all committed with its
 * height or not at all, so none is lost or repeated.
 *
 * After each batch it publishes one live hint per alert and audience party
 * on topic alert/<SEVERITY>/<RULE>/<party> (alert/<SEVERITY>/<RULE>/ when
 * the audience is empty: regulators only), and wakes long-polling GetAlerts
 * requests.
 *
 * ENGINE-LAG is evaluated here: lag depends on this node's progress, so
 * its alert is node-local (logged as RISK-ENGINE-LAG and published on
 * alert/<SEVERITY>/ENGINE-LAG/<node id> with a zero cursor), never part of
 * the replicated alert log, which stays byte-identical across validators.
 *
 * Retention: with retention_blocks > 0, alerts of blocks at or below
 * processed − retention are deleted in the same batch (at most 10,000 per
 * batch: turning retention on over a long log spreads the deletes over the
 * next blocks), and meta "risk_pruned" records the newest deleted cursor
 * (GetAlerts answers "cursor expired" for anything older).
 *
 * The engine never drops work: a storage failure stops the thread with a
 * RISK-FATAL log line, and the API then reports the engine's height as it
 * stands (subscribers see it stop advancing).
 */
#ifndef HANSA_NODE_RISKRUN_H
#define HANSA_NODE_RISKRUN_H

#include <stdint.h>

#include "api.h"
#include "events.h"
#include "risk.h"
#include "store.h"

struct riskrun;

struct riskrun_deps {
    struct store *store;
    struct events *events; /* may be NULL (no live hints) */
    struct api *api;       /* may be NULL (no long-poll wake-ups) */
    const char *chain_id;
    const char *node_id;
    const struct risk_ruleset *rs;         /* copied */
    const Hansa__ValidatorSet *validators; /* borrowed; outlives the runner; may be NULL */
    uint64_t retention_blocks;             /* 0 = keep all */
};

/* Start the thread. It catches up with the store's committed height at
 * once. */
HANSA_MUST_USE hansa_err riskrun_open(const struct riskrun_deps *deps, struct riskrun **out,
                                      char *why, size_t why_len);
/* A block was committed (event loop; never blocks). */
void riskrun_kick(struct riskrun *r);
/* Stop and join. Accepts NULL. */
void riskrun_close(struct riskrun *r);

#endif
