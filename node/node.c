/*
 * The node shell: wiring and the event loop (see node.h).
 *
 *   loop:
 *     wait until transactions are pooled, the heartbeat is due, or stop;
 *       then until block_interval_ms has passed since the last block
 *     take up to block_txs_max transactions (oldest first)
 *     drop those already committed or outside the replay window of the
 *       block time (they were admitted earlier against an older state)
 *     header(height, time, prev hash, tx root, state root, proposer, ...)
 *     execute the block on the ledger (pure), sign the precommit
 *     commit block + commit + results + state in one synced batch
 *     then: wake receipt waiters, publish events
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
#include "events.h"
#include "hansa/assert.h"
#include "ledger.h"
#include "log.h"
#include "mempool.h"
#include "node.h"
#include "store.h"

#define NODE_PROTOCOL_VERSION "hansa/1"
#define NODE_SOFTWARE_VERSION "hansad 0.1.0"
/* The loop wakes at least this often to expire receipt waits. */
#define NODE_TICK_MS 100u

struct node {
    struct node_config cfg;
    struct genesis_doc genesis;
    struct store *store;
    struct mempool *mp;
    struct api *api;
    struct events *ev;
    struct wire_keypair key;
    atomic_bool stop;

    /* The chain tip; written by the event loop under tip_mu, read by API
     * workers through the status callback. */
    pthread_mutex_t tip_mu;
    uint64_t height;
    uint8_t tip_hash[WIRE_HASH_BYTES];
    uint64_t tip_time_ms;
    uint8_t *tip_commit; /* encoded Commit of the tip; NULL at genesis */
    size_t tip_commit_len;
    uint8_t validators_hash[WIRE_HASH_BYTES];
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
    st->chain_id = n->cfg.chain_id;
    st->node_id = n->cfg.node_id;
    st->protocol_version = (char *)protocol;
    st->software_version = (char *)software;
    pthread_mutex_lock(&n->tip_mu);
    st->latest_height = n->height;
    st->latest_block_time_ms = n->tip_time_ms;
    st->consensus_height = n->height + 1;
    pthread_mutex_unlock(&n->tip_mu);
    /* The byte fields point into the node; the caller encodes before the
     * next block can change them only in the unlikely race of a commit in
     * between, which at worst reports a hash one block newer. */
    st->latest_block_hash.data = n->tip_hash;
    st->latest_block_hash.len = WIRE_HASH_BYTES;
    st->validators_hash.data = n->validators_hash;
    st->validators_hash.len = WIRE_HASH_BYTES;
    st->local_time_ms = wall_ms();
}

/* ---- startup ---- */

static hansa_err load_tip(struct node *n, char *why, size_t why_len)
{
    n->height = store_height(n->store);
    if (n->height == 0) {
        memcpy(n->tip_hash, n->genesis.file_hash, WIRE_HASH_BYTES);
        n->tip_time_ms = n->genesis.time_ms;
        return HANSA_OK;
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    hansa_err rv = store_get_block(n->store, n->height, &bytes, &len);
    Hansa__StoredBlock *sb = NULL;
    if (rv == HANSA_OK)
        rv = wire_decode(&hansa__stored_block__descriptor, bytes, len,
                         HANSA_PEER_MESSAGE_BYTES_MAX * 2, WIRE_LENIENT, (ProtobufCMessage **)&sb);
    free(bytes);
    Hansa__BlockHeader *h = NULL;
    if (rv == HANSA_OK && (sb->block == NULL || sb->commit == NULL))
        rv = HANSA_EFORMAT;
    if (rv == HANSA_OK)
        rv = wire_block_header_decode(sb->block->header.data, sb->block->header.len, &h);
    if (rv == HANSA_OK) {
        wire_block_hash(sb->block->header.data, sb->block->header.len, n->tip_hash);
        n->tip_time_ms = h->time_ms;
        rv = wire_encode(&sb->commit->base, HANSA_PEER_MESSAGE_BYTES_MAX, &n->tip_commit,
                         &n->tip_commit_len);
    }
    if (rv != HANSA_OK)
        snprintf(why, why_len, "cannot read the last committed block %" PRIu64 ": %s", n->height,
                 hansa_strerror(rv));
    wire_free(h);
    wire_free(sb);
    return rv;
}

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
    pthread_mutex_init(&n->tip_mu, NULL);
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
    if (rv == HANSA_OK) {
        Hansa__ValidatorSet set;
        genesis_validator_set(&n->genesis, &set);
        uint8_t *bytes = NULL;
        size_t len = 0;
        rv = wire_encode(&set.base, HANSA_PEER_MESSAGE_BYTES_MAX, &bytes, &len);
        if (rv == HANSA_OK)
            wire_sha256(bytes, len, n->validators_hash);
        free(bytes);
    }
    if (rv == HANSA_OK)
        rv = store_open(cfg->data_dir, &n->store, why, why_len);
    if (rv == HANSA_OK)
        rv = ensure_genesis(n, why, why_len);
    if (rv == HANSA_OK)
        rv = load_tip(n, why, why_len);
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
    store_close(n->store);
    genesis_doc_free(&n->genesis);
    wire_keypair_wipe(&n->key);
    free(n->tip_commit);
    pthread_mutex_destroy(&n->tip_mu);
    free(n);
}

/* ---- block production ---- */

/* Keep the transactions that may go into a block at time_ms. */
static size_t filter_txs(struct node *n, struct mempool_tx **txs, size_t k, uint64_t time_ms,
                         uint64_t window_ms)
{
    size_t kept = 0;
    for (size_t i = 0; i < k; i++) {
        uint64_t created = txs[i]->tx.body->created_ms;
        uint64_t skew = created > time_ms ? created - time_ms : time_ms - created;
        uint64_t h;
        uint32_t idx;
        hansa_err rv = store_tx_location(n->store, txs[i]->tx.id, &h, &idx);
        if (skew > window_ms || rv != HANSA_ENOENT) {
            log_debug("BLOCK-DROP-TX", "dropping a pooled tx: %s",
                      skew > window_ms ? "outside the replay window" : "already committed");
            mempool_forget(n->mp, &txs[i], 1);
            mempool_tx_free(txs[i]);
            continue;
        }
        txs[kept++] = txs[i];
    }
    return kept;
}

struct built {
    uint8_t *header;
    size_t header_len;
    uint8_t hash[WIRE_HASH_BYTES];
};

static hansa_err build_header(struct node *n, struct mempool_tx **txs, size_t k, uint64_t height,
                              uint64_t time_ms, struct built *b)
{
    struct wire_merkle m;
    wire_merkle_init(&m);
    for (size_t i = 0; i < k; i++)
        wire_merkle_add(&m, txs[i]->tx.id);
    uint8_t tx_root[WIRE_HASH_BYTES], state_root[WIRE_HASH_BYTES], commit_hash[WIRE_HASH_BYTES],
        evidence_root[WIRE_HASH_BYTES];
    wire_merkle_final(&m, tx_root);
    store_state_root(n->store, state_root);
    wire_sha256(n->tip_commit ? n->tip_commit : (const uint8_t *)"", n->tip_commit_len,
                commit_hash);
    wire_merkle_root(NULL, 0, evidence_root);

    Hansa__BlockHeader h = HANSA__BLOCK_HEADER__INIT;
    h.chain_id = n->cfg.chain_id;
    h.height = height;
    h.time_ms = time_ms;
    h.prev_block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, n->tip_hash};
    h.tx_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, tx_root};
    h.state_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, state_root};
    h.proposer = n->cfg.node_id;
    h.validators_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, n->validators_hash};
    h.last_commit_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, commit_hash};
    h.evidence_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, evidence_root};
    hansa_err rv = wire_encode(&h.base, HANSA_BLOCK_BYTES_MAX, &b->header, &b->header_len);
    if (rv == HANSA_OK)
        wire_block_hash(b->header, b->header_len, b->hash);
    return rv;
}

/* The proposer's signed precommit for the block: the block's commit. */
static hansa_err sign_commit(struct node *n, uint64_t height, const uint8_t hash[WIRE_HASH_BYTES],
                             uint8_t **vote, size_t *vote_len, uint8_t sig[WIRE_SIG_BYTES])
{
    Hansa__Vote v = HANSA__VOTE__INIT;
    v.type = HANSA__VOTE_TYPE__VOTE_TYPE_PRECOMMIT;
    v.height = height;
    v.round = 0;
    v.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)hash};
    v.validator = n->cfg.node_id;
    v.chain_id = n->cfg.chain_id;
    hansa_err rv = wire_encode(&v.base, HANSA_VOTE_BYTES_MAX, vote, vote_len);
    if (rv == HANSA_OK)
        rv = wire_sign(WIRE_TAG_VOTE, n->cfg.chain_id, *vote, *vote_len, n->key.secret_key, sig);
    return rv;
}

static hansa_err commit_block(struct node *n, struct mempool_tx **txs, size_t k, uint64_t time_ms)
{
    uint64_t height = n->height + 1;
    struct built b = {0};
    struct ledger_output out = {0};
    uint8_t *vote = NULL, *stored = NULL, *commit = NULL;
    size_t vote_len = 0, stored_len = 0, commit_len = 0;
    uint8_t sig[WIRE_SIG_BYTES];
    struct wire_tx *opened = calloc(k ? k : 1, sizeof *opened);
    ProtobufCBinaryData *tx_bytes = calloc(k ? k : 1, sizeof *tx_bytes);
    uint8_t *ids = malloc((k ? k : 1) * WIRE_HASH_BYTES);
    hansa_err rv = (opened && tx_bytes && ids) ? HANSA_OK : HANSA_ENOMEM;
    for (size_t i = 0; rv == HANSA_OK && i < k; i++) {
        opened[i] = txs[i]->tx; /* shallow: the mempool entry keeps ownership */
        tx_bytes[i] = (ProtobufCBinaryData){txs[i]->len, txs[i]->bytes};
        memcpy(ids + i * WIRE_HASH_BYTES, txs[i]->tx.id, WIRE_HASH_BYTES);
    }
    if (rv == HANSA_OK)
        rv = build_header(n, txs, k, height, time_ms, &b);

    /* Execute on the committed state. */
    struct ledger_state st = store_ledger_state(n->store);
    struct ledger_block blk = {.chain_id = n->cfg.chain_id,
                               .height = height,
                               .time_ms = time_ms,
                               .txs = opened,
                               .n_txs = k};
    store_state_root(n->store, blk.prev_state_root);
    if (rv == HANSA_OK)
        rv = ledger_execute(&st, &blk, &out);
    if (rv == HANSA_OK)
        rv = sign_commit(n, height, b.hash, &vote, &vote_len, sig);

    /* Block, its commit and its results, stored together. */
    Hansa__Commit *last_commit = NULL;
    if (rv == HANSA_OK && n->tip_commit != NULL)
        rv = wire_decode(&hansa__commit__descriptor, n->tip_commit, n->tip_commit_len,
                         HANSA_PEER_MESSAGE_BYTES_MAX, WIRE_LENIENT,
                         (ProtobufCMessage **)&last_commit);
    Hansa__Block block = HANSA__BLOCK__INIT;
    block.header = (ProtobufCBinaryData){b.header_len, b.header};
    block.n_txs = k;
    block.txs = tx_bytes;
    block.last_commit = last_commit;
    Hansa__SignedVote sv = HANSA__SIGNED_VOTE__INIT, *svp = &sv;
    sv.vote = (ProtobufCBinaryData){vote_len, vote};
    sv.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
    Hansa__Commit c = HANSA__COMMIT__INIT;
    c.height = height;
    c.round = 0;
    c.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, b.hash};
    c.n_precommits = 1;
    c.precommits = &svp;
    Hansa__BlockResults results = HANSA__BLOCK_RESULTS__INIT;
    results.height = height;
    results.block_hash = c.block_hash;
    results.n_results = out.n_results;
    results.results = out.results;
    results.state_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, out.state_root};
    Hansa__StoredBlock sb = HANSA__STORED_BLOCK__INIT;
    sb.block = &block;
    sb.commit = &c;
    sb.results = &results;
    if (rv == HANSA_OK)
        rv = wire_encode(&sb.base, HANSA_PEER_MESSAGE_BYTES_MAX * 2, &stored, &stored_len);
    if (rv == HANSA_OK)
        rv = wire_encode(&c.base, HANSA_PEER_MESSAGE_BYTES_MAX, &commit, &commit_len);
    if (rv == HANSA_OK) {
        struct store_commit sc = {.height = height,
                                  .block_hash = b.hash,
                                  .stored_block = stored,
                                  .stored_block_len = stored_len,
                                  .tx_ids = ids,
                                  .n_txs = k,
                                  .out = &out};
        rv = store_commit_block(n->store, &sc);
    }
    if (rv == HANSA_OK) {
        pthread_mutex_lock(&n->tip_mu);
        n->height = height;
        memcpy(n->tip_hash, b.hash, WIRE_HASH_BYTES);
        n->tip_time_ms = time_ms;
        free(n->tip_commit);
        n->tip_commit = commit;
        n->tip_commit_len = commit_len;
        commit = NULL;
        pthread_mutex_unlock(&n->tip_mu);
        size_t ok = 0;
        for (size_t i = 0; i < out.n_results; i++)
            ok += out.results[i]->result == HANSA__RESULT_CODE__RESULT_OK;
        log_info("BLOCK-COMMIT", "height=%" PRIu64 " txs=%zu ok=%zu time_ms=%" PRIu64, height, k,
                 ok, time_ms);
        api_on_commit(n->api, height, time_ms, &results);
        events_publish_block(n->ev, height, b.hash, time_ms, n->cfg.node_id, &results);
    }
    wire_free(last_commit);
    free(opened);
    free(tx_bytes);
    free(ids);
    free(vote);
    free(stored);
    free(commit);
    free(b.header);
    ledger_output_free(&out);
    return rv;
}

hansa_err node_run(struct node *n)
{
    struct mempool_tx **txs = calloc(n->cfg.block_txs_max, sizeof *txs);
    if (txs == NULL)
        return HANSA_ENOMEM;
    uint64_t window_ms = n->genesis.params.tx_replay_window_ms;
    log_info("NODE-START", "chain=%s height=%" PRIu64 " api=%s", n->cfg.chain_id, n->height,
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
        if (time_ms <= n->tip_time_ms)
            time_ms = n->tip_time_ms + 1;
        size_t k = mempool_take(n->mp, txs, n->cfg.block_txs_max, HANSA_BLOCK_BYTES_MAX / 2);
        k = filter_txs(n, txs, k, time_ms, window_ms);
        if (k == 0 && !heartbeat)
            continue;
        rv = commit_block(n, txs, k, time_ms);
        /* Committed (or the node stops): no longer pending. */
        mempool_forget(n->mp, txs, k);
        for (size_t i = 0; i < k; i++)
            mempool_tx_free(txs[i]);
        if (rv != HANSA_OK) {
            log_error("BLOCK-COMMIT-FAIL", "height=%" PRIu64 ": %s; stopping", n->height + 1,
                      hansa_strerror(rv));
            break;
        }
        n->last_block_ms = now;
    }
    free(txs);
    log_info("NODE-STOP", "height=%" PRIu64, n->height);
    return rv;
}
