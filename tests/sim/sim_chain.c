/*
 * One validator's committed chain and ledger state: what node/store keeps in
 * RocksDB, here in memory (the fake disk: it survives a simulated crash).
 *
 *   build     the proposer's block: pending transactions that have reached
 *             this validator, pass admission at the block time and are not
 *             committed yet, in pool order, at most SIM_BLOCK_TXS_MAX;
 *   validate  valid(v) of the paper for a proposed or caught-up block:
 *             header (height, previous hash, state root after the previous
 *             block, time, tx Merkle root, hash), every transaction as
 *             admission would check it (opens, signature, signer, window,
 *             role, document, not committed before, not twice), then
 *             execution on this validator's state;
 *   commit    apply the execution output and append the block.
 *
 * Invariant: blocks[i] holds height i + 1 and root is the state root after
 * the last block (the genesis root on an empty chain).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "ledger_fixture.h"
#include "sim.h"

/* How far a block time may run ahead of the validator's clock. */
#define SIM_CLOCK_BOUND_MS 2000u

void sim_chain_init(struct sim_chain *c)
{
    const struct sim_pool *pool = sim_pool_get();
    memset(c, 0, sizeof *c);
    c->ms = memstate_clone(pool->genesis);
    c->view = memstate_view(c->ms);
    memcpy(c->root, pool->genesis_root, CS_HASH_BYTES);
    c->committed_tx = calloc(pool->n, 1);
    HANSA_ASSERT(c->committed_tx != NULL);
}

void sim_chain_free(struct sim_chain *c)
{
    memstate_free(c->ms);
    free(c->blocks);
    free(c->committed_tx);
    memset(c, 0, sizeof *c);
}

uint64_t sim_chain_height(const struct sim_chain *c)
{
    return c->n;
}

const struct sim_committed *sim_chain_at(const struct sim_chain *c, uint64_t height)
{
    if (height == 0 || height > c->n)
        return NULL;
    return &c->blocks[height - 1];
}

static uint64_t last_time_ms(const struct sim_chain *c)
{
    return c->n ? c->blocks[c->n - 1].block.time_ms : FX_GENESIS_MS;
}

static void tx_root(const struct sim_block *b, uint8_t out[CS_HASH_BYTES])
{
    const struct sim_pool *pool = sim_pool_get();
    uint8_t ids[SIM_BLOCK_TXS_MAX][CS_HASH_BYTES];
    for (uint16_t i = 0; i < b->n_txs; i++)
        memcpy(ids[i], pool->txs[b->txs[i]].tx.id, CS_HASH_BYTES);
    wire_merkle_root(&ids[0][0], b->n_txs, out);
}

/* Admission of one transaction for this chain at time_ms. */
static bool tx_admissible(const struct sim_chain *c, uint16_t idx, uint64_t time_ms, char *why,
                          size_t why_len)
{
    const struct sim_pool *pool = sim_pool_get();
    if (idx >= pool->n) {
        snprintf(why, why_len, "tx %u is not a transaction", idx);
        return false;
    }
    const struct sim_tx *t = &pool->txs[idx];
    if (!t->opened || !t->sig_ok) {
        snprintf(why, why_len, "tx %u (%s): %s", idx, t->kind,
                 t->opened ? "BAD_SIGNATURE" : "MALFORMED");
        return false;
    }
    if (c->committed_tx[idx]) {
        snprintf(why, why_len, "tx %u: ALREADY_COMMITTED", idx);
        return false;
    }
    Hansa__ResultCode code = ledger_admit_signer(&c->view, &t->tx, why, why_len);
    if (code == HANSA__RESULT_CODE__RESULT_OK)
        code = ledger_admit(&c->view, &t->tx, time_ms, why, why_len);
    return code == HANSA__RESULT_CODE__RESULT_OK;
}

static bool check_header(const struct sim_chain *c, const struct sim_block *b, uint64_t now_ms,
                         char *why, size_t why_len)
{
    static const uint8_t zero[CS_HASH_BYTES];
    const uint8_t *prev = c->n ? c->blocks[c->n - 1].block.hash : zero;
    uint8_t h[CS_HASH_BYTES];
    if (b->height != c->n + 1)
        snprintf(why, why_len, "height %llu, expected %llu", (unsigned long long)b->height,
                 (unsigned long long)(c->n + 1));
    else if (memcmp(b->prev_hash, prev, CS_HASH_BYTES) != 0)
        snprintf(why, why_len, "previous block hash differs");
    else if (memcmp(b->state_root, c->root, CS_HASH_BYTES) != 0)
        snprintf(why, why_len, "state root differs from ours after the previous block");
    else if (b->time_ms <= last_time_ms(c) ||
             b->time_ms > FX_GENESIS_MS + now_ms + SIM_CLOCK_BOUND_MS)
        snprintf(why, why_len, "block time %llu out of bounds", (unsigned long long)b->time_ms);
    else if (b->n_txs > SIM_BLOCK_TXS_MAX)
        snprintf(why, why_len, "%u transactions", b->n_txs);
    else {
        tx_root(b, h);
        if (memcmp(h, b->tx_root, CS_HASH_BYTES) != 0) {
            snprintf(why, why_len, "tx root differs");
            return false;
        }
        sim_block_hash(b, h);
        if (memcmp(h, b->hash, CS_HASH_BYTES) != 0) {
            snprintf(why, why_len, "block hash differs from its header");
            return false;
        }
        return true;
    }
    return false;
}

static bool execute(const struct sim_chain *c, const struct sim_block *b, struct ledger_output *out,
                    char *why, size_t why_len)
{
    const struct sim_pool *pool = sim_pool_get();
    struct wire_tx txs[SIM_BLOCK_TXS_MAX];
    for (uint16_t i = 0; i < b->n_txs; i++)
        txs[i] = pool->txs[b->txs[i]].tx;
    struct ledger_block blk = {.chain_id = FX_CHAIN_ID,
                               .height = b->height,
                               .time_ms = b->time_ms,
                               .txs = txs,
                               .n_txs = b->n_txs};
    memcpy(blk.prev_state_root, c->root, CS_HASH_BYTES);
    hansa_err rv = ledger_execute(&c->view, &blk, out);
    if (rv != HANSA_OK) {
        snprintf(why, why_len, "execution failed: %s", hansa_strerror(rv));
        return false;
    }
    HANSA_ASSERT(out->n_results == b->n_txs);
    return true;
}

bool sim_chain_validate(const struct sim_chain *c, const struct sim_block *b, uint64_t now_ms,
                        struct ledger_output *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    if (!check_header(c, b, now_ms, why, why_len))
        return false;
    for (uint16_t i = 0; i < b->n_txs; i++) {
        for (uint16_t j = 0; j < i; j++)
            if (b->txs[j] == b->txs[i]) {
                snprintf(why, why_len, "tx %u twice in the block", b->txs[i]);
                return false;
            }
        if (!tx_admissible(c, b->txs[i], b->time_ms, why, why_len))
            return false;
    }
    return execute(c, b, out, why, why_len);
}

void sim_chain_build(const struct sim_chain *c, const uint64_t *arrived, uint64_t now_ms,
                     uint32_t proposer, struct sim_block *out)
{
    const struct sim_pool *pool = sim_pool_get();
    memset(out, 0, sizeof *out);
    out->height = c->n + 1;
    out->proposer = proposer;
    out->time_ms = FX_GENESIS_MS + now_ms;
    if (out->time_ms <= last_time_ms(c))
        out->time_ms = last_time_ms(c) + 1;
    if (c->n)
        memcpy(out->prev_hash, c->blocks[c->n - 1].block.hash, CS_HASH_BYTES);
    memcpy(out->state_root, c->root, CS_HASH_BYTES);
    char why[256];
    for (size_t i = 0; i < pool->n && out->n_txs < SIM_BLOCK_TXS_MAX; i++) {
        if (arrived[i] > now_ms || c->committed_tx[i])
            continue;
        if (tx_admissible(c, (uint16_t)i, out->time_ms, why, sizeof why))
            out->txs[out->n_txs++] = (uint16_t)i;
    }
    tx_root(out, out->tx_root);
    sim_block_hash(out, out->hash);
}

void sim_chain_commit(struct sim_chain *c, const struct sim_block *b, const struct sim_commit *cm,
                      const struct ledger_output *out)
{
    HANSA_ASSERT(b->height == c->n + 1);
    HANSA_ASSERT(memcmp(b->state_root, c->root, CS_HASH_BYTES) == 0);
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->blocks = realloc(c->blocks, c->cap * sizeof *c->blocks);
        HANSA_ASSERT(c->blocks != NULL);
    }
    struct sim_committed *e = &c->blocks[c->n++];
    e->block = *b;
    e->commit = *cm;
    memcpy(e->root_after, out->state_root, CS_HASH_BYTES);
    memstate_apply(c->ms, out);
    memcpy(c->root, out->state_root, CS_HASH_BYTES);
    for (uint16_t i = 0; i < b->n_txs; i++)
        c->committed_tx[b->txs[i]] = 1;
}
