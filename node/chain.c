/* See chain.h. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "hansa/assert.h"
#include "log.h"

/* A StoredBlock holds a block plus its commit and results. */
#define STORED_BLOCK_BYTES_MAX (2u * HANSA_PEER_MESSAGE_BYTES_MAX)

__attribute__((format(printf, 3, 4))) static bool invalid(char *why, size_t why_len,
                                                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
    return false;
}

/* ---- the tip ---- */

static hansa_err load_tip(struct chain *c, char *why, size_t why_len)
{
    c->height = store_height(c->store);
    if (c->height == 0)
        return HANSA_OK; /* tip_hash / tip_time are the genesis values */
    uint8_t *bytes = NULL;
    size_t len = 0;
    hansa_err rv = store_get_block(c->store, c->height, &bytes, &len);
    Hansa__StoredBlock *sb = NULL;
    if (rv == HANSA_OK)
        rv = wire_decode(&hansa__stored_block__descriptor, bytes, len, STORED_BLOCK_BYTES_MAX,
                         WIRE_LENIENT, (ProtobufCMessage **)&sb);
    free(bytes);
    Hansa__BlockHeader *h = NULL;
    if (rv == HANSA_OK && (sb->block == NULL || sb->commit == NULL))
        rv = HANSA_EFORMAT;
    if (rv == HANSA_OK)
        rv = wire_block_header_decode(sb->block->header.data, sb->block->header.len, &h);
    if (rv == HANSA_OK) {
        wire_block_hash(sb->block->header.data, sb->block->header.len, c->tip_hash);
        c->tip_time_ms = h->time_ms;
        rv = wire_encode(&sb->commit->base, HANSA_PEER_MESSAGE_BYTES_MAX, &c->tip_commit,
                         &c->tip_commit_len);
    }
    if (rv != HANSA_OK)
        snprintf(why, why_len, "cannot read the last committed block %" PRIu64 ": %s", c->height,
                 hansa_strerror(rv));
    wire_free(h);
    wire_free(sb);
    return rv;
}

hansa_err chain_open(struct chain *c, struct store *store, const struct genesis_doc *g, char *why,
                     size_t why_len)
{
    memset(c, 0, sizeof *c);
    c->store = store;
    snprintf(c->chain_id, sizeof c->chain_id, "%s", g->chain_id);
    HANSA_ASSERT(g->n_validators <= GENESIS_VALIDATORS_MAX);
    for (size_t i = 0; i < g->n_validators; i++) {
        snprintf(c->vals[i].id, sizeof c->vals[i].id, "%s", g->validators[i]->id);
        HANSA_ASSERT(g->validators[i]->key.len == WIRE_PUBKEY_BYTES);
        memcpy(c->vals[i].key, g->validators[i]->key.data, WIRE_PUBKEY_BYTES);
    }
    c->n_vals = (uint32_t)g->n_validators;
    memcpy(c->genesis_hash, g->file_hash, WIRE_HASH_BYTES);
    memcpy(c->tip_hash, g->file_hash, WIRE_HASH_BYTES); /* block 1's previous hash */
    c->tip_time_ms = g->time_ms;

    Hansa__ValidatorSet set;
    genesis_validator_set(g, &set);
    uint8_t *bytes = NULL;
    size_t len = 0;
    hansa_err rv = wire_encode(&set.base, HANSA_PEER_MESSAGE_BYTES_MAX, &bytes, &len);
    if (rv == HANSA_OK)
        wire_sha256(bytes, len, c->validators_hash);
    free(bytes);
    pthread_mutex_init(&c->mu, NULL);
    if (rv == HANSA_OK)
        rv = load_tip(c, why, why_len);
    return rv;
}

void chain_close(struct chain *c)
{
    if (c == NULL)
        return;
    free(c->tip_commit);
    pthread_mutex_destroy(&c->mu);
    memset(c, 0, sizeof *c);
}

uint32_t chain_validator_index(const struct chain *c, const char *id)
{
    for (uint32_t i = 0; i < c->n_vals; i++)
        if (strcmp(c->vals[i].id, id) == 0)
            return i;
    return UINT32_MAX;
}

const char *chain_proposer(const struct chain *c, uint64_t height, uint32_t round)
{
    return c->vals[(height + round) % c->n_vals].id;
}

void chain_tip(struct chain *c, uint64_t *height, uint8_t hash[WIRE_HASH_BYTES], uint64_t *time_ms)
{
    pthread_mutex_lock(&c->mu);
    *height = c->height;
    memcpy(hash, c->tip_hash, WIRE_HASH_BYTES);
    *time_ms = c->tip_time_ms;
    pthread_mutex_unlock(&c->mu);
}

/* ---- blocks ---- */

void chain_block_free(struct chain_block *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n_txs; i++)
        wire_tx_close(&b->txs[i]);
    free(b->txs);
    wire_free(b->header);
    wire_free(b->block);
    free(b->bytes);
    memset(b, 0, sizeof *b);
}

hansa_err chain_block_adopt(const char *chain_id, uint8_t *bytes, size_t len,
                            struct chain_block *out)
{
    memset(out, 0, sizeof *out);
    out->bytes = bytes;
    out->len = len;
    hansa_err rv = wire_block_decode(bytes, len, &out->block);
    if (rv == HANSA_OK)
        rv =
            wire_block_header_decode(out->block->header.data, out->block->header.len, &out->header);
    if (rv == HANSA_OK && out->block->n_txs > HANSA_BLOCK_TXS_MAX)
        rv = HANSA_ETOOLARGE;
    if (rv == HANSA_OK) {
        wire_block_hash(out->block->header.data, out->block->header.len, out->hash);
        out->txs = calloc(out->block->n_txs ? out->block->n_txs : 1, sizeof *out->txs);
        rv = out->txs ? HANSA_OK : HANSA_ENOMEM;
    }
    for (size_t i = 0; rv == HANSA_OK && i < out->block->n_txs; i++) {
        rv = wire_tx_open(&out->txs[i], out->block->txs[i].data, out->block->txs[i].len, chain_id);
        if (rv == HANSA_OK)
            out->n_txs++;
    }
    if (rv != HANSA_OK)
        chain_block_free(out);
    return rv;
}

hansa_err chain_block_open(const char *chain_id, const uint8_t *bytes, size_t len,
                           struct chain_block *out)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return HANSA_ENOMEM;
    memcpy(copy, bytes, len);
    return chain_block_adopt(chain_id, copy, len, out);
}

/* The governed replay window and size limit a block's transactions must
 * meet: those of the committed state, which every validator reads alike and
 * admission uses too. A parameter change effective at height h is applied by
 * block h's own begin-block, so for these two checks it counts from block
 * h+1 on (ARCHITECTURE.md, "Parameters in force"). */
static hansa_err limits_in_force(struct chain *c, uint64_t *window_ms, uint32_t *max_tx_bytes)
{
    struct ledger_state st = store_ledger_state(c->store);
    struct ledger_admission a = {0};
    hansa_err rv = ledger_admission_params(&st, &a);
    if (rv == HANSA_OK) {
        *window_ms = a.params->tx_replay_window_ms;
        *max_tx_bytes = a.params->max_tx_bytes;
    }
    ledger_admission_free(&a);
    return rv;
}

size_t chain_filter_txs(struct chain *c, struct mempool *mp, struct mempool_tx **txs, size_t k,
                        uint64_t time_ms)
{
    uint64_t window_ms = 0;
    uint32_t max_bytes = 0;
    hansa_err err = limits_in_force(c, &window_ms, &max_bytes);
    if (err != HANSA_OK) {
        /* Nothing is dropped: the block is checked again by every validator. */
        log_error("BLOCK-PARAMS-READ", "cannot read the parameters in force: %s",
                  hansa_strerror(err));
        return k;
    }
    size_t kept = 0;
    for (size_t i = 0; i < k; i++) {
        uint64_t created = txs[i]->tx.body->created_ms;
        uint64_t skew = created > time_ms ? created - time_ms : time_ms - created;
        uint64_t h;
        uint32_t idx;
        const char *drop = NULL;
        if (skew > window_ms)
            drop = "outside the replay window";
        else if (txs[i]->len > max_bytes)
            drop = "larger than max_tx_bytes";
        else if (store_tx_location(c->store, txs[i]->tx.id, &h, &idx) != HANSA_ENOENT)
            drop = "already committed";
        if (drop != NULL) {
            log_debug("BLOCK-DROP-TX", "dropping a pooled tx: %s", drop);
            mempool_forget(mp, &txs[i], 1);
            mempool_tx_free(txs[i]);
            continue;
        }
        txs[kept++] = txs[i];
    }
    return kept;
}

static void commit_hash(const uint8_t *commit, size_t len, uint8_t out[WIRE_HASH_BYTES])
{
    wire_sha256(commit ? commit : (const uint8_t *)"", commit ? len : 0, out);
}

static const char evidence_prefix[] = "evidence/";

hansa_err chain_evidence_id(const Hansa__Evidence *e, uint8_t id[WIRE_HASH_BYTES])
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    hansa_err rv = wire_encode(&e->base, HANSA_PEER_MESSAGE_BYTES_MAX, &bytes, &len);
    if (rv == HANSA_OK)
        wire_sha256(bytes, len, id);
    free(bytes);
    return rv;
}

static size_t evidence_key(const uint8_t id[WIRE_HASH_BYTES], uint8_t *key)
{
    memcpy(key, evidence_prefix, sizeof evidence_prefix - 1);
    memcpy(key + sizeof evidence_prefix - 1, id, WIRE_HASH_BYTES);
    return sizeof evidence_prefix - 1 + WIRE_HASH_BYTES;
}

static int bytes_cmp(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
    int r = memcmp(a->data, b->data, a->len < b->len ? a->len : b->len);
    return r != 0 ? r : (a->len > b->len) - (a->len < b->len);
}

bool chain_check_evidence(const struct chain *c, const Hansa__Evidence *e, char *why,
                          size_t why_len)
{
    if (e->vote_a == NULL || e->vote_b == NULL)
        return invalid(why, why_len, "evidence needs two votes");
    if (bytes_cmp(&e->vote_a->vote, &e->vote_b->vote) >= 0)
        return invalid(why, why_len, "evidence votes are not in canonical order");
    Hansa__Vote *a = NULL, *b = NULL;
    bool ok = wire_vote_decode(e->vote_a->vote.data, e->vote_a->vote.len, &a) == HANSA_OK &&
              wire_vote_decode(e->vote_b->vote.data, e->vote_b->vote.len, &b) == HANSA_OK;
    uint32_t who = ok ? chain_validator_index(c, a->validator) : UINT32_MAX;
    if (!ok)
        invalid(why, why_len, "an evidence vote does not decode");
    else if (who == UINT32_MAX || strcmp(a->validator, b->validator) != 0 ||
             a->height != b->height || a->round != b->round || a->type != b->type ||
             strcmp(a->chain_id, c->chain_id) != 0 || strcmp(b->chain_id, c->chain_id) != 0)
        ok = invalid(why, why_len, "evidence votes are not one validator's at one position");
    else if (bytes_cmp(&a->block_hash, &b->block_hash) == 0)
        ok = invalid(why, why_len, "evidence votes name the same block");
    else if (e->vote_a->signature.len != WIRE_SIG_BYTES ||
             e->vote_b->signature.len != WIRE_SIG_BYTES ||
             wire_verify(WIRE_TAG_VOTE, c->chain_id, e->vote_a->vote.data, e->vote_a->vote.len,
                         c->vals[who].key, e->vote_a->signature.data) != HANSA_OK ||
             wire_verify(WIRE_TAG_VOTE, c->chain_id, e->vote_b->vote.data, e->vote_b->vote.len,
                         c->vals[who].key, e->vote_b->signature.data) != HANSA_OK)
        ok = invalid(why, why_len, "an evidence vote is not signed by %s", a->validator);
    if (ok) {
        uint8_t id[WIRE_HASH_BYTES], key[64], *val = NULL;
        size_t len = 0;
        hansa_err rv = chain_evidence_id(e, id);
        if (rv == HANSA_OK)
            rv = store_get(c->store, STORE_META, key, evidence_key(id, key), &val, &len);
        free(val);
        if (rv != HANSA_ENOENT)
            ok = invalid(why, why_len, "the evidence is already committed");
    }
    wire_free(a);
    wire_free(b);
    return ok;
}

hansa_err chain_build(struct chain *c, const char *proposer, struct mempool_tx *const *txs,
                      size_t k, Hansa__Evidence *const *evidence, size_t n_evidence,
                      uint64_t time_ms, struct chain_block *out)
{
    HANSA_ASSERT(n_evidence <= CHAIN_EVIDENCE_MAX);
    struct wire_merkle m;
    wire_merkle_init(&m);
    for (size_t i = 0; i < k; i++)
        wire_merkle_add(&m, txs[i]->tx.id);
    uint8_t tx_root[WIRE_HASH_BYTES], state_root[WIRE_HASH_BYTES], last_commit[WIRE_HASH_BYTES],
        evidence_root[WIRE_HASH_BYTES];
    wire_merkle_final(&m, tx_root);
    store_state_root(c->store, state_root);
    commit_hash(c->tip_commit, c->tip_commit_len, last_commit);
    wire_merkle_init(&m);
    for (size_t i = 0; i < n_evidence; i++) {
        uint8_t leaf[WIRE_HASH_BYTES];
        if (chain_evidence_id(evidence[i], leaf) != HANSA_OK)
            return HANSA_ENOMEM;
        wire_merkle_add(&m, leaf);
    }
    wire_merkle_final(&m, evidence_root);

    Hansa__BlockHeader h = HANSA__BLOCK_HEADER__INIT;
    h.chain_id = c->chain_id;
    h.height = c->height + 1;
    h.time_ms = time_ms;
    h.prev_block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, c->tip_hash};
    h.tx_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, tx_root};
    h.state_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, state_root};
    h.proposer = (char *)proposer;
    h.validators_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, c->validators_hash};
    h.last_commit_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, last_commit};
    h.evidence_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, evidence_root};
    uint8_t *header = NULL, *bytes = NULL;
    size_t header_len = 0, len = 0;
    hansa_err rv = wire_encode(&h.base, HANSA_BLOCK_BYTES_MAX, &header, &header_len);

    Hansa__Commit *tip_commit = NULL;
    if (rv == HANSA_OK && c->tip_commit != NULL)
        rv = wire_decode(&hansa__commit__descriptor, c->tip_commit, c->tip_commit_len,
                         HANSA_PEER_MESSAGE_BYTES_MAX, WIRE_LENIENT,
                         (ProtobufCMessage **)&tip_commit);
    ProtobufCBinaryData *tx_bytes = calloc(k ? k : 1, sizeof *tx_bytes);
    if (rv == HANSA_OK && tx_bytes == NULL)
        rv = HANSA_ENOMEM;
    if (rv == HANSA_OK) {
        for (size_t i = 0; i < k; i++)
            tx_bytes[i] = (ProtobufCBinaryData){txs[i]->len, txs[i]->bytes};
        Hansa__Block block = HANSA__BLOCK__INIT;
        block.header = (ProtobufCBinaryData){header_len, header};
        block.n_txs = k;
        block.txs = tx_bytes;
        block.last_commit = tip_commit;
        block.n_evidence = n_evidence;
        block.evidence = (Hansa__Evidence **)evidence;
        rv = wire_encode(&block.base, HANSA_BLOCK_BYTES_MAX, &bytes, &len);
    }
    free(tx_bytes);
    free(header);
    wire_free(tip_commit);
    if (rv == HANSA_OK)
        rv = chain_block_adopt(c->chain_id, bytes, len, out);
    else
        free(bytes);
    return rv;
}

/* ---- validity ---- */

hansa_err chain_verify_commit(const struct chain *c, uint64_t height,
                              const uint8_t hash[WIRE_HASH_BYTES], const Hansa__Commit *commit,
                              char *why, size_t why_len)
{
    if (commit == NULL || commit->height != height || commit->block_hash.len != WIRE_HASH_BYTES ||
        memcmp(commit->block_hash.data, hash, WIRE_HASH_BYTES) != 0) {
        snprintf(why, why_len, "the commit does not name block %" PRIu64, height);
        return HANSA_EINVAL;
    }
    bool seen[GENESIS_VALIDATORS_MAX] = {false};
    uint32_t good = 0;
    for (size_t i = 0; i < commit->n_precommits; i++) {
        const Hansa__SignedVote *sv = commit->precommits[i];
        Hansa__Vote *v = NULL;
        if (sv == NULL || sv->signature.len != WIRE_SIG_BYTES ||
            wire_vote_decode(sv->vote.data, sv->vote.len, &v) != HANSA_OK)
            continue;
        uint32_t who = chain_validator_index(c, v->validator);
        bool ok = who != UINT32_MAX && !seen[who] &&
                  v->type == HANSA__VOTE_TYPE__VOTE_TYPE_PRECOMMIT && v->height == height &&
                  v->round == commit->round && strcmp(v->chain_id, c->chain_id) == 0 &&
                  v->block_hash.len == WIRE_HASH_BYTES &&
                  memcmp(v->block_hash.data, hash, WIRE_HASH_BYTES) == 0 &&
                  wire_verify(WIRE_TAG_VOTE, c->chain_id, sv->vote.data, sv->vote.len,
                              c->vals[who].key, sv->signature.data) == HANSA_OK;
        if (ok) {
            seen[who] = true;
            good++;
        }
        wire_free(v);
    }
    uint32_t quorum = c->n_vals * 2 / 3 + 1;
    if (good < quorum) {
        snprintf(why, why_len,
                 "the commit of block %" PRIu64 " has %u valid precommits; %u are needed", height,
                 good, quorum);
        return HANSA_EINVAL;
    }
    return HANSA_OK;
}

static bool hash_is(const ProtobufCBinaryData *b, const uint8_t want[WIRE_HASH_BYTES])
{
    return b->len == WIRE_HASH_BYTES && memcmp(b->data, want, WIRE_HASH_BYTES) == 0;
}

static bool header_valid(struct chain *c, const struct chain_block *b, uint64_t now_ms, char *why,
                         size_t why_len)
{
    const Hansa__BlockHeader *h = b->header;
    uint8_t root[WIRE_HASH_BYTES], expect[WIRE_HASH_BYTES];
    if (strcmp(h->chain_id, c->chain_id) != 0)
        return invalid(why, why_len, "the block is for chain %s", h->chain_id);
    if (h->height != c->height + 1)
        return invalid(why, why_len, "the block is at height %" PRIu64 ", not %" PRIu64, h->height,
                       c->height + 1);
    if (!hash_is(&h->prev_block_hash, c->tip_hash))
        return invalid(why, why_len, "the block does not extend the committed tip");
    if (h->time_ms <= c->tip_time_ms || h->time_ms > now_ms + CHAIN_FUTURE_MS)
        return invalid(why, why_len,
                       "block time %" PRIu64 " is not after %" PRIu64
                       " or too far ahead of this node's clock",
                       h->time_ms, c->tip_time_ms);
    if (chain_validator_index(c, h->proposer) == UINT32_MAX)
        return invalid(why, why_len, "the block names %s as proposer, not a validator",
                       h->proposer);
    store_state_root(c->store, root);
    if (!hash_is(&h->state_root, root))
        return invalid(why, why_len, "the state root is not the one after block %" PRIu64,
                       c->height);
    if (!hash_is(&h->validators_hash, c->validators_hash))
        return invalid(why, why_len, "the validator set hash differs");
    struct wire_merkle m;
    wire_merkle_init(&m);
    for (size_t i = 0; i < b->n_txs; i++)
        wire_merkle_add(&m, b->txs[i].id);
    wire_merkle_final(&m, root);
    if (!hash_is(&h->tx_root, root))
        return invalid(why, why_len, "the tx root does not match the transactions");
    if (b->block->n_evidence > CHAIN_EVIDENCE_MAX)
        return invalid(why, why_len, "the block carries %zu pieces of evidence; at most %u",
                       b->block->n_evidence, CHAIN_EVIDENCE_MAX);
    wire_merkle_init(&m);
    for (size_t i = 0; i < b->block->n_evidence; i++) {
        uint8_t leaf[WIRE_HASH_BYTES];
        if (!chain_check_evidence(c, b->block->evidence[i], why, why_len))
            return false;
        if (chain_evidence_id(b->block->evidence[i], leaf) != HANSA_OK)
            return invalid(why, why_len, "evidence %zu does not encode", i);
        wire_merkle_add(&m, leaf);
    }
    wire_merkle_final(&m, root);
    if (!hash_is(&h->evidence_root, root))
        return invalid(why, why_len, "the evidence root does not match the evidence");
    uint8_t *lc = NULL;
    size_t lc_len = 0;
    if (b->block->last_commit != NULL &&
        wire_encode(&b->block->last_commit->base, HANSA_PEER_MESSAGE_BYTES_MAX, &lc, &lc_len) !=
            HANSA_OK)
        return invalid(why, why_len, "the last commit does not encode");
    commit_hash(lc, lc_len, expect);
    free(lc);
    if (!hash_is(&h->last_commit_hash, expect))
        return invalid(why, why_len, "the last commit hash does not match the last commit");
    if (c->height > 0 && chain_verify_commit(c, c->height, c->tip_hash, b->block->last_commit, why,
                                             why_len) != HANSA_OK)
        return false;
    if (c->height == 0 && b->block->last_commit != NULL)
        return invalid(why, why_len, "block 1 carries a last commit");
    return true;
}

static int id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, WIRE_HASH_BYTES);
}

/*
 * Signatures of a proposed block, checked before the sequential checks.
 *
 * The transactions this node has not admitted itself (not in its mempool:
 * the tx id covers the signature, so a pooled id means these exact bytes
 * were verified) are verified here, spread over up to CHAIN_VERIFY_THREADS_MAX
 * threads, the caller's included; the others count as verified. Each
 * result is wire_tx_verify's, which depends on the transaction alone, so
 * chain_validate reaches the same verdict, with the same reason, as it would
 * verifying one by one in its loop. If a helper thread cannot start, the
 * caller does its share.
 */
struct sig_batch {
    const struct wire_tx *txs;
    const uint32_t *todo; /* indices into txs to verify */
    size_t n_todo;
    bool *bad; /* bad[i]: transaction i fails verification */
    atomic_size_t next;
};

static void *sig_batch_work(void *arg)
{
    struct sig_batch *sb = arg;
    for (;;) {
        size_t from = atomic_fetch_add(&sb->next, CHAIN_VERIFY_CHUNK);
        if (from >= sb->n_todo)
            return NULL;
        size_t to = from + CHAIN_VERIFY_CHUNK < sb->n_todo ? from + CHAIN_VERIFY_CHUNK : sb->n_todo;
        for (size_t k = from; k < to; k++) {
            uint32_t i = sb->todo[k];
            sb->bad[i] = wire_tx_verify(&sb->txs[i]) != HANSA_OK;
        }
    }
}

static size_t sig_helpers(size_t n_todo)
{
    if (n_todo < CHAIN_VERIFY_PARALLEL_MIN)
        return 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t threads = cores < 1 ? 1 : (size_t)cores;
    if (threads > CHAIN_VERIFY_THREADS_MAX)
        threads = CHAIN_VERIFY_THREADS_MAX;
    return threads - 1;
}

/* bad[i] for every transaction of b (false for those in mp). */
static hansa_err verify_signatures(const struct chain_block *b, struct mempool *mp, bool *bad)
{
    uint32_t *todo = malloc((b->n_txs ? b->n_txs : 1) * sizeof *todo);
    if (todo == NULL)
        return HANSA_ENOMEM;
    struct sig_batch sb = {.txs = b->txs, .todo = todo, .bad = bad};
    atomic_init(&sb.next, 0);
    for (size_t i = 0; i < b->n_txs; i++) {
        bad[i] = false;
        if (!mempool_contains(mp, b->txs[i].id))
            todo[sb.n_todo++] = (uint32_t)i;
    }
    pthread_t helpers[CHAIN_VERIFY_THREADS_MAX];
    size_t n_helpers = 0, want = sig_helpers(sb.n_todo);
    while (n_helpers < want && pthread_create(&helpers[n_helpers], NULL, sig_batch_work, &sb) == 0)
        n_helpers++;
    sig_batch_work(&sb);
    for (size_t k = 0; k < n_helpers; k++)
        pthread_join(helpers[k], NULL);
    HANSA_ASSERT(atomic_load(&sb.next) >= sb.n_todo);
    log_debug("BLOCK-VERIFY-SIGS", "verified %zu of %zu signatures on %zu threads", sb.n_todo,
              b->n_txs, n_helpers + 1);
    free(todo);
    return HANSA_OK;
}

bool chain_validate(struct chain *c, const struct chain_block *b, uint64_t now_ms,
                    struct mempool *mp, char *why, size_t why_len)
{
    if (!header_valid(c, b, now_ms, why, why_len))
        return false;
    uint8_t *ids = malloc((b->n_txs ? b->n_txs : 1) * WIRE_HASH_BYTES);
    bool *bad_sig = malloc((b->n_txs ? b->n_txs : 1) * sizeof *bad_sig);
    if (ids == NULL || bad_sig == NULL || verify_signatures(b, mp, bad_sig) != HANSA_OK) {
        free(ids);
        free(bad_sig);
        return invalid(why, why_len, "out of memory checking the block");
    }
    struct ledger_state st = store_ledger_state(c->store);
    uint64_t window_ms = 0;
    uint32_t max_bytes = 0;
    bool ok = limits_in_force(c, &window_ms, &max_bytes) == HANSA_OK ||
              invalid(why, why_len, "cannot read the parameters in force");
    for (size_t i = 0; ok && i < b->n_txs; i++) {
        const struct wire_tx *tx = &b->txs[i];
        memcpy(ids + i * WIRE_HASH_BYTES, tx->id, WIRE_HASH_BYTES);
        uint64_t created = tx->body->created_ms, t = b->header->time_ms;
        uint64_t h;
        uint32_t idx;
        char reason[256];
        if ((created > t ? created - t : t - created) > window_ms)
            ok = invalid(why, why_len, "transaction %zu lies outside the replay window", i);
        else if (b->block->txs[i].len > max_bytes)
            ok = invalid(why, why_len, "transaction %zu is larger than max_tx_bytes (%u)", i,
                         (unsigned)max_bytes);
        else if (store_tx_location(c->store, tx->id, &h, &idx) != HANSA_ENOENT)
            ok = invalid(why, why_len, "transaction %zu is already committed", i);
        else if (ledger_admit_signer(&st, tx, reason, sizeof reason) !=
                 HANSA__RESULT_CODE__RESULT_OK)
            ok = invalid(why, why_len, "transaction %zu: %s", i, reason);
        else if (bad_sig[i])
            ok = invalid(why, why_len, "transaction %zu has a bad signature", i);
    }
    if (ok && b->n_txs > 1) {
        qsort(ids, b->n_txs, WIRE_HASH_BYTES, id_cmp);
        for (size_t i = 1; ok && i < b->n_txs; i++)
            if (memcmp(ids + (i - 1) * WIRE_HASH_BYTES, ids + i * WIRE_HASH_BYTES,
                       WIRE_HASH_BYTES) == 0)
                ok = invalid(why, why_len, "a transaction appears twice");
    }
    free(ids);
    free(bad_sig);
    return ok;
}

/* ---- commit ---- */

hansa_err chain_commit(struct chain *c, const struct chain_block *b, const Hansa__Commit *commit,
                       struct ledger_output *out)
{
    HANSA_ASSERT(b->header->height == c->height + 1);
    uint64_t height = b->header->height;
    struct ledger_state st = store_ledger_state(c->store);
    struct ledger_block blk = {.chain_id = c->chain_id,
                               .height = height,
                               .time_ms = b->header->time_ms,
                               .txs = b->txs,
                               .n_txs = b->n_txs};
    store_state_root(c->store, blk.prev_state_root);
    hansa_err rv = ledger_execute(&st, &blk, out);
    if (rv != HANSA_OK)
        return rv;

    Hansa__BlockResults results = HANSA__BLOCK_RESULTS__INIT;
    results.height = height;
    results.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)b->hash};
    results.n_results = out->n_results;
    results.results = out->results;
    results.state_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, out->state_root};
    Hansa__StoredBlock sb = HANSA__STORED_BLOCK__INIT;
    sb.block = b->block;
    sb.commit = (Hansa__Commit *)commit;
    sb.results = &results;
    uint8_t *stored = NULL, *commit_bytes = NULL;
    size_t stored_len = 0, commit_len = 0;
    uint8_t *ids = malloc((b->n_txs ? b->n_txs : 1) * WIRE_HASH_BYTES);
    rv = ids ? wire_encode(&sb.base, STORED_BLOCK_BYTES_MAX, &stored, &stored_len) : HANSA_ENOMEM;
    if (rv == HANSA_OK)
        rv = wire_encode(&commit->base, HANSA_PEER_MESSAGE_BYTES_MAX, &commit_bytes, &commit_len);
    if (rv == HANSA_OK) {
        for (size_t i = 0; i < b->n_txs; i++)
            memcpy(ids + i * WIRE_HASH_BYTES, b->txs[i].id, WIRE_HASH_BYTES);
        /* Committed evidence is kept, and never committed twice. */
        uint8_t keys[CHAIN_EVIDENCE_MAX][64], height_be[8];
        struct store_put puts[CHAIN_EVIDENCE_MAX];
        size_t n_puts = 0;
        for (int i = 0; i < 8; i++)
            height_be[i] = (uint8_t)(height >> (56 - 8 * i));
        for (size_t i = 0; i < b->block->n_evidence && i < CHAIN_EVIDENCE_MAX; i++) {
            uint8_t id[WIRE_HASH_BYTES];
            if (chain_evidence_id(b->block->evidence[i], id) != HANSA_OK)
                continue;
            puts[n_puts] = (struct store_put){STORE_META, keys[n_puts],
                                              evidence_key(id, keys[n_puts]), height_be, 8};
            n_puts++;
        }
        struct store_commit sc = {.height = height,
                                  .block_hash = b->hash,
                                  .stored_block = stored,
                                  .stored_block_len = stored_len,
                                  .tx_ids = ids,
                                  .n_txs = b->n_txs,
                                  .out = out,
                                  .extra = n_puts ? puts : NULL,
                                  .n_extra = n_puts};
        rv = store_commit_block(c->store, &sc);
    }
    if (rv == HANSA_OK) {
        pthread_mutex_lock(&c->mu);
        c->height = height;
        memcpy(c->tip_hash, b->hash, WIRE_HASH_BYTES);
        c->tip_time_ms = b->header->time_ms;
        free(c->tip_commit);
        c->tip_commit = commit_bytes;
        c->tip_commit_len = commit_len;
        commit_bytes = NULL;
        pthread_mutex_unlock(&c->mu);
    }
    free(ids);
    free(stored);
    free(commit_bytes);
    if (rv != HANSA_OK)
        ledger_output_free(out);
    return rv;
}
