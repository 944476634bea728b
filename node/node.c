/*
 * The node shell: wiring and the event loop (see node.h).
 *
 *   loop:
 *     wait until transactions are pooled, the heartbeat is due, or stop;
 *       then until block_interval_ms has passed since the last block
 *     take up to block_txs_max transactions (oldest first), drop those
 *       committed meanwhile or outside the replay window (chain.c)
 *     build the block, sign its precommit, commit block + commit + results
 *       + state in one synced batch (chain.c), then wake receipt waiters
 *       and publish events
 *
 * Block time is the node clock, forced strictly increasing. The block at
 * height 1 names the SHA-256 of genesis.json as its previous block hash.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "chain.h"
#include "events.h"
#include "hansa/assert.h"
#include "ledger.h"
#include "log.h"
#include "mempool.h"
#include "node.h"
#include "signer.h"
#include "store.h"

#define NODE_PROTOCOL_VERSION "hansa/1"
#define NODE_SOFTWARE_VERSION "hansad 0.1.0"
/* The loop wakes at least this often to expire receipt waits. */
#define NODE_TICK_MS 100u

struct node {
    struct node_config cfg;
    struct genesis_doc genesis;
    struct store *store;
    struct chain chain;
    bool chain_open;
    struct signer signer;
    struct mempool *mp;
    struct api *api;
    struct events *ev;
    struct wire_keypair key;
    atomic_bool stop;
    uint64_t last_block_ms; /* monotonic clock of the last commit */
};

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now_cb(void *ctx)
{
    (void)ctx;
    return wall_ms();
}

static void status_cb(void *ctx, Hansa__NodeStatus *st)
{
    struct node *n = ctx;
    static const char protocol[] = NODE_PROTOCOL_VERSION, software[] = NODE_SOFTWARE_VERSION;
    /* Per worker thread: valid until this thread's next status answer, long
     * after the answer is encoded. */
    static _Thread_local uint8_t hash[WIRE_HASH_BYTES], validators[WIRE_HASH_BYTES];
    st->chain_id = n->cfg.chain_id;
    st->node_id = n->cfg.node_id;
    st->protocol_version = (char *)protocol;
    st->software_version = (char *)software;
    chain_tip(&n->chain, &st->latest_height, hash, &st->latest_block_time_ms);
    st->consensus_height = st->latest_height + 1;
    memcpy(validators, n->chain.validators_hash, WIRE_HASH_BYTES);
    st->latest_block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, hash};
    st->validators_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, validators};
    st->local_time_ms = wall_ms();
}

/* ---- startup ---- */

static hansa_err ensure_genesis(struct node *n, char *why, size_t why_len)
{
    static const uint8_t meta_key[] = "genesis_hash";
    if (store_height(n->store) == UINT64_MAX) {
        struct ledger_genesis g = genesis_ledger(&n->genesis);
        struct ledger_output out;
        hansa_err rv = ledger_genesis(&g, &out, why, why_len);
        if (rv != HANSA_OK)
            return rv;
        struct store_put put = {STORE_META, meta_key, sizeof meta_key - 1, n->genesis.file_hash,
                                WIRE_HASH_BYTES};
        rv = store_write_sync(n->store, &put, 1);
        if (rv == HANSA_OK)
            rv = store_commit_genesis(n->store, &out);
        ledger_output_free(&out);
        if (rv != HANSA_OK) {
            snprintf(why, why_len, "cannot commit genesis: %s", hansa_strerror(rv));
            return rv;
        }
        log_info("NODE-GENESIS", "committed genesis of chain %s with %zu parties",
                 n->genesis.chain_id, n->genesis.n_parties);
        return HANSA_OK;
    }
    uint8_t *stored = NULL;
    size_t len = 0;
    hansa_err rv = store_get(n->store, STORE_META, meta_key, sizeof meta_key - 1, &stored, &len);
    bool same = rv == HANSA_OK && len == WIRE_HASH_BYTES &&
                memcmp(stored, n->genesis.file_hash, WIRE_HASH_BYTES) == 0;
    free(stored);
    if (!same) {
        snprintf(why, why_len,
                 "the database in %s was created from a different genesis.json than %s",
                 n->cfg.data_dir, n->cfg.genesis_path);
        return HANSA_EFORMAT;
    }
    return HANSA_OK;
}

hansa_err node_open(const struct node_config *cfg, struct node **out, char *why, size_t why_len)
{
    struct node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return HANSA_ENOMEM;
    n->cfg = *cfg;
    hansa_err rv = genesis_load(cfg->genesis_path, &n->genesis, why, why_len);
    if (rv == HANSA_OK)
        rv = node_config_check_genesis(cfg, &n->genesis, why, why_len);
    char party[HANSA_ID_LEN_MAX + 1];
    if (rv == HANSA_OK)
        rv = wire_keyfile_load(cfg->validator_key_path, &n->key, party, sizeof party, why, why_len);
    if (rv == HANSA_OK) {
        const Hansa__Validator *v = genesis_validator(&n->genesis, cfg->node_id);
        if (v == NULL || v->key.len != WIRE_PUBKEY_BYTES ||
            memcmp(v->key.data, n->key.public_key, WIRE_PUBKEY_BYTES) != 0) {
            snprintf(why, why_len, "%s does not hold the key genesis registers for validator %s",
                     cfg->validator_key_path, cfg->node_id);
            rv = HANSA_EBADKEY;
        }
    }
    if (rv == HANSA_OK)
        rv = store_open(cfg->data_dir, &n->store, why, why_len);
    if (rv == HANSA_OK)
        rv = ensure_genesis(n, why, why_len);
    if (rv == HANSA_OK) {
        rv = chain_open(&n->chain, n->store, &n->genesis, why, why_len);
        n->chain_open = rv == HANSA_OK;
    }
    if (rv == HANSA_OK) {
        rv = signer_open(&n->signer, n->store, &n->key, n->cfg.chain_id);
        if (rv != HANSA_OK)
            snprintf(why, why_len, "cannot read the last signature from %s: %s", cfg->data_dir,
                     hansa_strerror(rv));
    }
    if (rv == HANSA_OK) {
        rv = mempool_open(cfg->mempool_txs_max, cfg->mempool_bytes_max, &n->mp);
        if (rv != HANSA_OK)
            snprintf(why, why_len, "cannot allocate the mempool: %s", hansa_strerror(rv));
    }
    if (rv == HANSA_OK)
        rv = events_open(&n->cfg, &n->ev, why, why_len);
    if (rv == HANSA_OK) {
        struct api_deps deps = {.cfg = &n->cfg,
                                .store = n->store,
                                .mempool = n->mp,
                                .status = status_cb,
                                .status_ctx = n,
                                .now_ms = now_cb,
                                .now_ctx = n};
        rv = api_open(&deps, &n->api, why, why_len);
    }
    if (rv != HANSA_OK) {
        node_close(n);
        return rv;
    }
    n->last_block_ms = mono_ms();
    *out = n;
    return HANSA_OK;
}

void node_stop(struct node *n)
{
    atomic_store(&n->stop, true);
    mempool_wake(n->mp);
}

void node_close(struct node *n)
{
    if (n == NULL)
        return;
    api_close(n->api); /* first: no more admissions */
    events_close(n->ev);
    mempool_close(n->mp);
    signer_close(&n->signer);
    if (n->chain_open)
        chain_close(&n->chain);
    store_close(n->store);
    genesis_doc_free(&n->genesis);
    wire_keypair_wipe(&n->key);
    free(n);
}

/* ---- block production ---- */

/* The proposer's signed precommit for the block: the block's commit. */
static hansa_err own_commit(struct node *n, const struct chain_block *b, uint8_t **vote,
                            size_t *vote_len, uint8_t sig[WIRE_SIG_BYTES])
{
    Hansa__Vote v = HANSA__VOTE__INIT;
    v.type = HANSA__VOTE_TYPE__VOTE_TYPE_PRECOMMIT;
    v.height = b->header->height;
    v.round = 0;
    v.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)b->hash};
    v.validator = n->cfg.node_id;
    v.chain_id = n->cfg.chain_id;
    hansa_err rv = wire_encode(&v.base, HANSA_VOTE_BYTES_MAX, vote, vote_len);
    if (rv == HANSA_OK)
        rv = signer_sign(&n->signer, v.height, 0, HANSA__CONSENSUS_STEP__CONSENSUS_STEP_PRECOMMIT,
                         WIRE_TAG_VOTE, *vote, *vote_len, sig);
    return rv;
}

/* After a commit: receipts for waiting clients, live events. */
static void announce(struct node *n, const struct chain_block *b, const struct ledger_output *out)
{
    Hansa__BlockResults results = HANSA__BLOCK_RESULTS__INIT;
    results.height = b->header->height;
    results.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)b->hash};
    results.n_results = out->n_results;
    results.results = out->results;
    size_t ok = 0;
    for (size_t i = 0; i < out->n_results; i++)
        ok += out->results[i]->result == HANSA__RESULT_CODE__RESULT_OK;
    log_info("BLOCK-COMMIT", "height=%" PRIu64 " txs=%zu ok=%zu time_ms=%" PRIu64,
             b->header->height, b->n_txs, ok, b->header->time_ms);
    api_on_commit(n->api, b->header->height, b->header->time_ms, &results);
    events_publish_block(n->ev, b->header->height, b->hash, b->header->time_ms, b->header->proposer,
                         &results);
}

static hansa_err produce_block(struct node *n, struct mempool_tx **txs, size_t k, uint64_t time_ms)
{
    struct chain_block b;
    hansa_err rv = chain_build(&n->chain, n->cfg.node_id, txs, k, time_ms, &b);
    if (rv != HANSA_OK)
        return rv;
    uint8_t *vote = NULL;
    size_t vote_len = 0;
    uint8_t sig[WIRE_SIG_BYTES];
    rv = own_commit(n, &b, &vote, &vote_len, sig);
    if (rv == HANSA_OK) {
        Hansa__SignedVote sv = HANSA__SIGNED_VOTE__INIT, *svp = &sv;
        sv.vote = (ProtobufCBinaryData){vote_len, vote};
        sv.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
        Hansa__Commit commit = HANSA__COMMIT__INIT;
        commit.height = b.header->height;
        commit.round = 0;
        commit.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, b.hash};
        commit.n_precommits = 1;
        commit.precommits = &svp;
        struct ledger_output out;
        rv = chain_commit(&n->chain, &b, &commit, &out);
        if (rv == HANSA_OK) {
            announce(n, &b, &out);
            ledger_output_free(&out);
        }
    }
    free(vote);
    chain_block_free(&b);
    return rv;
}

hansa_err node_run(struct node *n)
{
    struct mempool_tx **txs = calloc(n->cfg.block_txs_max, sizeof *txs);
    if (txs == NULL)
        return HANSA_ENOMEM;
    log_info("NODE-START", "chain=%s height=%" PRIu64 " api=%s", n->cfg.chain_id, n->chain.height,
             n->cfg.api_listen_tls.url);
    hansa_err rv = HANSA_OK;
    while (!atomic_load(&n->stop)) {
        size_t pooled = mempool_wait(n->mp, NODE_TICK_MS);
        uint64_t now = mono_ms();
        api_tick(n->api, wall_ms());
        if (atomic_load(&n->stop))
            break;
        bool heartbeat =
            n->cfg.block_heartbeat_ms > 0 && now - n->last_block_ms >= n->cfg.block_heartbeat_ms;
        if (pooled == 0 && !heartbeat)
            continue;
        uint64_t since_ms = now - n->last_block_ms;
        if (since_ms < n->cfg.block_interval_ms) {
            /* Let the next block gather what arrives until the interval ends. */
            uint64_t rest_ms = n->cfg.block_interval_ms - since_ms;
            struct timespec ts = {(time_t)(rest_ms / 1000), (long)(rest_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        uint64_t time_ms = wall_ms();
        if (time_ms <= n->chain.tip_time_ms)
            time_ms = n->chain.tip_time_ms + 1;
        size_t k = mempool_take(n->mp, txs, n->cfg.block_txs_max, HANSA_BLOCK_BYTES_MAX / 2);
        k = chain_filter_txs(&n->chain, n->mp, txs, k, time_ms);
        if (k == 0 && !heartbeat)
            continue;
        rv = produce_block(n, txs, k, time_ms);
        /* Committed (or the node stops): no longer pending. */
        mempool_forget(n->mp, txs, k);
        for (size_t i = 0; i < k; i++)
            mempool_tx_free(txs[i]);
        if (rv != HANSA_OK) {
            log_error("BLOCK-COMMIT-FAIL", "height=%" PRIu64 ": %s; stopping", n->chain.height + 1,
                      hansa_strerror(rv));
            break;
        }
        n->last_block_ms = now;
    }
    free(txs);
    log_info("NODE-STOP", "height=%" PRIu64, n->chain.height);
    return rv;
}
