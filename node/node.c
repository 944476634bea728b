/*
 * The node shell: wiring (see node.h). Store, chain, signer, mempool, the
 * client API, live events, the validator links, and the consensus shell
 * (cshell.c), whose loop runs on the thread that calls node_run.
 *
 * Start-up order: genesis and config agree; the validator key is the one
 * genesis registers; the store holds genesis (committed on first start);
 * the chain's tip and the last signature are loaded; then the sockets open.
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
#include "cshell.h"
#include "events.h"
#include "hansa/assert.h"
#include "ledger.h"
#include "log.h"
#include "control.h"
#include "memtrim.h"
#include "mempool.h"
#include "node.h"
#include "riskrun.h"
#include "signer.h"
#include "store.h"

#define NODE_PROTOCOL_VERSION "hansa/1"
#define NODE_SOFTWARE_VERSION "hansad 0.1.0"
/* Messages from peers waiting for the event loop: a few rounds of votes of
 * every validator plus gossip batches; beyond it they are dropped and the
 * senders' re-broadcasts cover the gap. */
#define NODE_PEER_QUEUE_MAX 4096u

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
    struct peers *peers;
    struct cshell *cs;
    struct riskrun *risk;
    struct memtrim *trim;
    struct control *control;
    struct risk_ruleset ruleset;
    Hansa__ValidatorSet validators; /* of genesis; points into n->genesis */
    struct wire_keypair key;
    atomic_bool stop;
};

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
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
    if (n->cs != NULL) {
        int step = 0;
        cshell_position(n->cs, &st->consensus_height, &st->consensus_round, &step,
                        &st->peers_connected);
        st->consensus_step = (Hansa__ConsensusStep)step;
    }
    memcpy(validators, n->chain.validators_hash, WIRE_HASH_BYTES);
    st->latest_block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, hash};
    st->validators_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, validators};
    st->local_time_ms = wall_ms();
}

static void committed_cb(void *ctx)
{
    struct node *n = ctx;
    riskrun_kick(n->risk);
    memtrim_kick(n->trim);
}

static void admitted_cb(void *ctx, const uint8_t *tx, size_t len)
{
    struct node *n = ctx;
    if (n->cs != NULL)
        cshell_admitted(n->cs, tx, len);
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
    if (rv == HANSA_OK) {
        rv = risk_ruleset_load(cfg->risk_ruleset_path, &n->ruleset, why, why_len);
        if (rv == HANSA_ENOENT)
            snprintf(why, why_len,
                     "risk ruleset %s does not exist ([risk] ruleset in %s); write the default "
                     "with: hansad risk default > %s",
                     cfg->risk_ruleset_path, cfg->file, cfg->risk_ruleset_path);
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
                                .now_ctx = n,
                                .admitted = admitted_cb,
                                .admitted_ctx = n};
        rv = api_open(&deps, &n->api, why, why_len);
    }
    if (rv == HANSA_OK) {
        genesis_validator_set(&n->genesis, &n->validators);
        struct riskrun_deps deps = {.store = n->store,
                                    .validators = &n->validators,
                                    .events = n->ev,
                                    .api = n->api,
                                    .chain_id = n->cfg.chain_id,
                                    .node_id = n->cfg.node_id,
                                    .rs = &n->ruleset,
                                    .retention_blocks = n->cfg.risk_retention_blocks};
        rv = riskrun_open(&deps, &n->risk, why, why_len);
    }
    if (rv == HANSA_OK) {
        rv = memtrim_open(MEMTRIM_INTERVAL_MS, &n->trim);
        if (rv != HANSA_OK)
            snprintf(why, why_len, "cannot start the memory trimmer: %s", hansa_strerror(rv));
    }
    if (rv == HANSA_OK)
        rv = peers_open(&n->cfg, NODE_PEER_QUEUE_MAX, &n->peers, why, why_len);
    if (rv == HANSA_OK) {
        struct cshell_deps deps = {
            .cfg = &n->cfg,
            .chain = &n->chain,
            .store = n->store,
            .signer = &n->signer,
            .mempool = n->mp,
            .api = n->api,
            .events = n->ev,
            .peers = n->peers,
            .admission = {.store = n->store,
                          .mempool = n->mp,
                          .chain_id = n->cfg.chain_id,
                          .now_ms = now_cb,
                          .now_ctx = n},
            .committed = committed_cb,
            .committed_ctx = n,
        };
        rv = cshell_open(&deps, &n->cs, why, why_len);
    }
    if (rv == HANSA_OK)
        rv = control_open(n->cfg.home, n->store, &n->control, why, why_len);
    if (rv != HANSA_OK) {
        node_close(n);
        return rv;
    }
    *out = n;
    return HANSA_OK;
}

void node_stop(struct node *n)
{
    atomic_store(&n->stop, true);
    if (n->cs != NULL)
        cshell_wake(n->cs);
}

void node_close(struct node *n)
{
    if (n == NULL)
        return;
    control_close(n->control); /* a backup in progress ends first */
    riskrun_close(n->risk);    /* then: it wakes the API and publishes events */
    api_close(n->api);         /* then: no more admissions */
    cshell_close(n->cs);
    memtrim_close(n->trim);
    /* Nothing uses the store any more: close it before the nng sockets,
     * whose close can hang in nng 1.5.2 (LIBNOTES 1.9; main.c's watchdog
     * then ends the process with the database already closed). */
    signer_close(&n->signer);
    if (n->chain_open)
        chain_close(&n->chain);
    store_close(n->store);
    n->store = NULL;
    peers_close(n->peers);
    events_close(n->ev);
    mempool_close(n->mp);
    genesis_doc_free(&n->genesis);
    wire_keypair_wipe(&n->key);
    free(n);
}

hansa_err node_run(struct node *n)
{
    log_info("NODE-START", "chain=%s height=%" PRIu64 " validators=%u api=%s p2p=%s",
             n->cfg.chain_id, n->chain.height, n->chain.n_vals, n->cfg.api_listen_tls.url,
             n->cfg.p2p_listen.url);
    hansa_err rv = cshell_run(n->cs, &n->stop);
    if (rv != HANSA_OK)
        log_error("NODE-FATAL", "stopping at height %" PRIu64 ": %s", n->chain.height,
                  hansa_strerror(rv));
    log_info("NODE-STOP", "height=%" PRIu64, n->chain.height);
    return rv;
}
