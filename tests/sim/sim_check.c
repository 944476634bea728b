/*
 * The checkers. Each runs at the moment the state it judges changes, so
 * together they hold after every event:
 *
 *   agreement          no two different blocks committed at one height, on
 *                      any validators, by decision or by catch-up;
 *   state-root         equal heights have equal state roots;
 *   tx-validity        every committed transaction passes admission as the
 *                      pool classified it at setup (opens, signature,
 *                      registered signer, role, document), lies within the
 *                      replay window of its block, and is committed once;
 *   commit-certificate every commit carries 2f+1 distinct, validly signed
 *                      precommits for its (height, round, block);
 *   double-sign        no correct validator signs, or asks its signer to
 *                      sign, two different messages at one (height, round,
 *                      step): a global record that survives restarts;
 *   evidence           evidence names the Byzantine validator with two
 *                      valid, conflicting votes; never a correct one. (That
 *                      a delivered pair produces evidence is checked where
 *                      the vote is fed: sim_node.)
 * The world adds liveness (a new height within SIM_PROGRESS_BOUND_MS of a
 * calm window) and sim_node the core-position monotonicity.
 */
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "ledger_fixture.h"
#include "sim.h"

void sim_check_init(struct sim_check *c)
{
    memset(c, 0, sizeof *c);
}

void sim_check_free(struct sim_check *c)
{
    free(c->signs);
    free(c->decided);
    memset(c, 0, sizeof *c);
}

/* ---- the global signing record: open addressing on (node, step, h, r) ------------ */

static uint64_t sign_slot(const struct sim_check *c, uint32_t node_step, uint64_t h, uint32_t r)
{
    uint64_t x = h * UINT64_C(0x9E3779B97F4A7C15) ^ ((uint64_t)r << 32 | node_step);
    x ^= x >> 29;
    x *= UINT64_C(0xBF58476D1CE4E5B9);
    x ^= x >> 32;
    return x & (c->signs_cap - 1);
}

static struct sim_sign_rec *sign_find(struct sim_check *c, uint32_t node_step, uint64_t h,
                                      uint32_t r)
{
    uint64_t i = sign_slot(c, node_step, h, r);
    for (;;) {
        struct sim_sign_rec *e = &c->signs[i];
        if (e->node_step == 0 || (e->node_step == node_step && e->height == h && e->round == r))
            return e;
        i = (i + 1) & (c->signs_cap - 1);
    }
}

static void sign_grow(struct sim_check *c)
{
    struct sim_sign_rec *old = c->signs;
    size_t old_cap = c->signs_cap;
    c->signs_cap = old_cap ? old_cap * 2 : 1024;
    c->signs = calloc(c->signs_cap, sizeof *c->signs);
    HANSA_ASSERT(c->signs != NULL);
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].node_step != 0)
            *sign_find(c, old[i].node_step, old[i].height, old[i].round) = old[i];
    free(old);
}

static const char *sign_step_name(enum sim_step s)
{
    return s == SIM_SIGN_PROPOSAL ? "proposal" : s == SIM_SIGN_PREVOTE ? "prevote" : "precommit";
}

bool sim_check_sign(struct sim_world *w, uint32_t node, uint64_t height, uint32_t round,
                    enum sim_step step, const uint8_t digest[32])
{
    if (!sim_is_correct(w, node))
        return true;
    struct sim_check *c = &w->check;
    if ((c->signs_n + 1) * 2 > c->signs_cap)
        sign_grow(c);
    uint32_t node_step = (node + 1) << 8 | (uint32_t)step;
    struct sim_sign_rec *e = sign_find(c, node_step, height, round);
    if (e->node_step == 0) {
        e->node_step = node_step;
        e->height = height;
        e->round = round;
        memcpy(e->digest, digest, 32);
        c->signs_n++;
        return true;
    }
    if (memcmp(e->digest, digest, 32) == 0)
        return true;
    char a[9], b[9];
    sim_fail(w, "double-sign",
             "correct v%u asked to sign a second, different %s at h%llu r%u (first %s, now %s)",
             node, sign_step_name(step), (unsigned long long)height, round, sim_short(e->digest, a),
             sim_short(digest, b));
    return false;
}

/* ---- commits -------------------------------------------------------------------------- */

static struct sim_decided *decided_at(struct sim_check *c, uint64_t height)
{
    if (height >= c->decided_cap) {
        size_t cap = c->decided_cap ? c->decided_cap : 64;
        while (cap <= height)
            cap *= 2;
        c->decided = realloc(c->decided, cap * sizeof *c->decided);
        HANSA_ASSERT(c->decided != NULL);
        memset(c->decided + c->decided_cap, 0, (cap - c->decided_cap) * sizeof *c->decided);
        c->decided_cap = cap;
    }
    return &c->decided[height];
}

static bool check_txs(struct sim_world *w, uint32_t node, const struct sim_chain *before,
                      const struct sim_block *b)
{
    const struct sim_pool *pool = sim_pool_get();
    for (uint16_t i = 0; i < b->n_txs; i++) {
        uint16_t idx = b->txs[i];
        const char *why = NULL;
        if (idx >= pool->n)
            why = "is not a pool transaction";
        else if (!pool->txs[idx].admissible)
            why = "fails admission";
        else if (before->committed_tx[idx])
            why = "was committed before";
        else {
            uint64_t created = FX_GENESIS_MS + pool->txs[idx].created_offset_ms;
            uint64_t gap = created > b->time_ms ? created - b->time_ms : b->time_ms - created;
            if (gap > pool->replay_window_ms)
                why = "is outside the replay window";
            for (uint16_t j = 0; j < i && why == NULL; j++)
                if (b->txs[j] == idx)
                    why = "appears twice";
        }
        if (why != NULL) {
            sim_fail(w, "tx-validity", "v%u commits h%llu with tx %u (%s) that %s", node,
                     (unsigned long long)b->height, idx, idx < pool->n ? pool->txs[idx].kind : "?",
                     why);
            return false;
        }
    }
    return true;
}

void sim_check_commit(struct sim_world *w, uint32_t node, const struct sim_chain *before,
                      const struct sim_block *b, const struct sim_commit *cm,
                      const uint8_t root_after[CS_HASH_BYTES])
{
    char why[256], h1[9], h2[9];
    if (!sim_commit_verify(cm, w->n, b->height, b->hash, why, sizeof why)) {
        sim_fail(w, "commit-certificate", "v%u commits h%llu %s: %s", node,
                 (unsigned long long)b->height, sim_short(b->hash, h1), why);
        return;
    }
    if (b->height != sim_chain_height(before) + 1 ||
        memcmp(b->state_root, before->root, CS_HASH_BYTES) != 0) {
        sim_fail(w, "state-root", "v%u commits h%llu on a chain at h%llu with another root", node,
                 (unsigned long long)b->height, (unsigned long long)sim_chain_height(before));
        return;
    }
    if (!check_txs(w, node, before, b))
        return;
    struct sim_decided *d = decided_at(&w->check, b->height);
    if (!d->set) {
        d->set = true;
        memcpy(d->hash, b->hash, CS_HASH_BYTES);
        memcpy(d->root, root_after, CS_HASH_BYTES);
        d->node = node;
        return;
    }
    if (memcmp(d->hash, b->hash, CS_HASH_BYTES) != 0) {
        sim_fail(w, "agreement", "h%llu: v%u committed %s, v%u commits %s",
                 (unsigned long long)b->height, d->node, sim_short(d->hash, h1), node,
                 sim_short(b->hash, h2));
        return;
    }
    if (memcmp(d->root, root_after, CS_HASH_BYTES) != 0)
        sim_fail(w, "state-root", "h%llu: v%u has root %s after it, v%u has %s",
                 (unsigned long long)b->height, d->node, sim_short(d->root, h1), node,
                 sim_short(root_after, h2));
}

/* ---- evidence -------------------------------------------------------------------------- */

void sim_check_evidence(struct sim_world *w, uint32_t node, const struct cs_action *a)
{
    struct sim_vote x, y;
    const char *why = NULL;
    if (!sim_vote_decode(a->evidence.vote_a, a->evidence.len_a, w->n, &x) ||
        !sim_vote_decode(a->evidence.vote_b, a->evidence.len_b, w->n, &y))
        why = "a vote does not verify";
    else if (x.validator != a->evidence.validator || y.validator != a->evidence.validator)
        why = "the votes are not the named validator's";
    else if (x.height != y.height || x.round != y.round || x.type != y.type)
        why = "the votes are for different positions";
    else if (x.value.nil == y.value.nil &&
             (x.value.nil || memcmp(x.value.hash, y.value.hash, CS_HASH_BYTES) == 0))
        why = "the votes do not conflict";
    else if (sim_is_correct(w, a->evidence.validator))
        why = "it accuses a correct validator";
    if (why != NULL)
        sim_fail(w, "evidence", "v%u reports evidence against v%u: %s", node, a->evidence.validator,
                 why);
}
