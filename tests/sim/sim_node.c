/*
 * One validator's shell: what node.c does for real, on the simulated
 * network and disk.
 *
 *   event in                      shell                         core
 *   message --verify, check block-->  CS_EV_PROPOSAL / CS_EV_VOTE  --> step
 *   timer, fsync done          ---->  CS_EV_TIMEOUT / PERSISTED    --> step
 *                                   <-- actions, carried out in order:
 *     PERSIST   write the durable state after a simulated fsync delay
 *     PROPOSE   check the signer record, sign, broadcast with the block
 *     VOTE      check the signer record, sign, broadcast, feed back
 *     SCHEDULE  a timer event
 *     GET_VALUE build a block (the one already signed, after a restart)
 *     DECIDE    verify the commit, execute, append to the chain
 *     EVIDENCE  checked by sim_check
 *
 * Events that carrying out actions produces (own votes, built values) are
 * queued locally and stepped after the current action list: the core's
 * action pointers stay valid only until the next step call.
 *
 * Disk and crash: the chain and the signer record are written
 * synchronously (node.c syncs both before anything leaves the node); a
 * persist lands only when its fsync completes. A crash keeps the disk and
 * loses everything else; booting restores the core from the persisted
 * durable state when it is for the next height, else starts the next
 * height fresh.
 *
 * Catch-up: a validator that learns (STATUS) that a peer is ahead asks it
 * for committed blocks; each answer is applied only if its commit verifies
 * and the block is valid on this chain, and the core is reopened at the new
 * height.
 *
 * Invariant (checked after every step): an up validator's core is at its
 * chain height + 1, and its (height, round, step) never moves backwards
 * while the core stays open.
 */
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "ledger_fixture.h"
#include "sim.h"

#define FSYNC_MIN_MS 1u
#define FSYNC_MAX_MS 12u
#define BUILD_MIN_MS 100u
#define BUILD_MAX_MS 600u

static const char *step_name(enum cs_step s)
{
    return s == CS_STEP_PROPOSE ? "propose" : s == CS_STEP_PREVOTE ? "prevote" : "precommit";
}

uint64_t sim_node_height(const struct sim_node *n)
{
    return sim_chain_height(&n->disk.chain) + 1;
}

uint32_t sim_node_round(const struct sim_node *n)
{
    struct cs_durable d;
    consensus_durable(n->cs, &d);
    return d.round;
}

void sim_node_init(struct sim_world *w, struct sim_node *n, uint32_t index)
{
    memset(n, 0, sizeof *n);
    n->index = index;
    n->byzantine = index == w->byz;
    sim_chain_init(&n->disk.chain);
    n->cache = calloc(SIM_CACHE_MAX, sizeof *n->cache);
    n->future = calloc(SIM_FUTURE_MAX, sizeof *n->future);
    n->arrival_ms = calloc(sim_pool_get()->n, sizeof *n->arrival_ms);
    HANSA_ASSERT(n->cache && n->future && n->arrival_ms);
}

static void cache_clear(struct sim_node *n)
{
    for (size_t i = 0; i < n->n_cache; i++)
        ledger_output_free(&n->cache[i].out);
    n->n_cache = 0;
}

/* Forget everything of the current height that only memory held. */
static void forget_height(struct sim_node *n)
{
    cache_clear(n);
    free(n->seen);
    n->seen = NULL;
    n->n_seen = 0;
    n->n_sent = 0;
    n->has_relay = false;
    n->n_fed = 0;
    n->has_alt = false;
}

void sim_node_free(struct sim_node *n)
{
    consensus_close(n->cs);
    forget_height(n);
    free(n->cache);
    free(n->future);
    free(n->arrival_ms);
    sim_chain_free(&n->disk.chain);
    memset(n, 0, sizeof *n);
}

/* ---- blocks known at this height ------------------------------------------------ */

static struct sim_cached *cache_find(struct sim_node *n, const uint8_t hash[CS_HASH_BYTES])
{
    for (size_t i = 0; i < n->n_cache; i++)
        if (memcmp(n->cache[i].block.hash, hash, CS_HASH_BYTES) == 0)
            return &n->cache[i];
    return NULL;
}

/* The cached entry for b, validating it on first sight; NULL when the cache
 * is full (the proposal is then ignored, as a busy node would). */
struct sim_cached *sim_node_cache_validate(struct sim_world *w, struct sim_node *n,
                                           const struct sim_block *b)
{
    struct sim_cached *c = cache_find(n, b->hash);
    if (c != NULL)
        return c;
    if (n->n_cache == SIM_CACHE_MAX)
        return NULL;
    c = &n->cache[n->n_cache++];
    memset(c, 0, sizeof *c);
    c->block = *b;
    char why[256] = "";
    c->valid = sim_chain_validate(&n->disk.chain, b, w->now_ms, &c->out, why, sizeof why);
    if (!c->valid) {
        char hb[9];
        sim_trace(w, n->index, "invalid block h%llu %s: %s", (unsigned long long)b->height,
                  sim_short(b->hash, hb), why);
        w->stats.invalid_proposals++;
        if (w->cfg.mutation == SIM_MUTATE_ACCEPT_INVALID && b->height == sim_node_height(n)) {
            /* The broken shell: execute whatever the block holds. */
            struct ledger_state view = n->disk.chain.view;
            struct wire_tx txs[SIM_BLOCK_TXS_MAX];
            const struct sim_pool *pool = sim_pool_get();
            bool ok = b->n_txs <= SIM_BLOCK_TXS_MAX;
            for (uint16_t i = 0; ok && i < b->n_txs; i++) {
                ok = b->txs[i] < pool->n && pool->txs[b->txs[i]].opened;
                if (ok)
                    txs[i] = pool->txs[b->txs[i]].tx;
            }
            struct ledger_block blk = {.chain_id = FX_CHAIN_ID,
                                       .height = b->height,
                                       .time_ms = b->time_ms,
                                       .txs = txs,
                                       .n_txs = b->n_txs};
            memcpy(blk.prev_state_root, n->disk.chain.root, CS_HASH_BYTES);
            if (ok && memcmp(b->state_root, n->disk.chain.root, CS_HASH_BYTES) == 0 &&
                ledger_execute(&view, &blk, &c->out) == HANSA_OK)
                c->valid = true;
        }
    }
    return c;
}

/* ---- sending ------------------------------------------------------------------- */

void sim_node_broadcast(struct sim_world *w, struct sim_node *n, const struct sim_msg *m)
{
    for (uint32_t to = 0; to < w->n; to++)
        if (to != n->index)
            sim_send(w, n->index, to, m);
}

static void remember_sent(struct sim_node *n, const struct sim_msg *m)
{
    if (n->n_sent == SIM_SENT_MAX) {
        memmove(&n->sent[0], &n->sent[1], (SIM_SENT_MAX - 1) * sizeof n->sent[0]);
        n->n_sent--;
    }
    n->sent[n->n_sent++] = *m;
}

static int pos_cmp(uint64_t h1, uint32_t r1, int s1, uint64_t h2, uint32_t r2, int s2)
{
    if (h1 != h2)
        return h1 < h2 ? -1 : 1;
    if (r1 != r2)
        return r1 < r2 ? -1 : 1;
    return (s1 > s2) - (s1 < s2);
}

/* The signer record (DESIGN §4): sign (h, r, step) only if nothing was
 * signed there, or the same message was (then re-send the same bytes).
 * Returns true when m may go out. */
static bool signer_allow(struct sim_world *w, struct sim_node *n, uint64_t h, uint32_t r,
                         enum sim_step step, const uint8_t digest[32], const struct sim_msg *m)
{
    struct sim_signer *s = &n->disk.signer;
    if (n->byzantine)
        return true; /* no discipline */
    if (s->any) {
        int c = pos_cmp(h, r, (int)step, s->height, s->round, (int)s->step);
        if (c < 0) {
            sim_fail(w, "sign-regress",
                     "v%u asked to sign h%llu r%u step %d after signing h%llu r%u step %d",
                     n->index, (unsigned long long)h, r, (int)step, (unsigned long long)s->height,
                     s->round, (int)s->step);
            return false;
        }
        if (c == 0) {
            if (memcmp(digest, s->digest, 32) == 0) {
                w->stats.resends++;
                return true;
            }
            /* The check records the conflict as a double-sign request. */
            (void)sim_check_sign(w, n->index, h, r, step, digest);
            return false;
        }
    }
    if (!sim_check_sign(w, n->index, h, r, step, digest))
        return false;
    s->any = true;
    s->height = h;
    s->round = r;
    s->step = step;
    memcpy(s->digest, digest, 32);
    s->msg = *m;
    return true;
}

/* ---- actions -------------------------------------------------------------------- */

static void push_local(struct sim_node *n, const struct cs_event *ev, const uint8_t *bytes)
{
    HANSA_ASSERT(n->local_n < sizeof n->local / sizeof n->local[0]);
    size_t cap = sizeof n->local / sizeof n->local[0];
    struct sim_local *l = &n->local[(n->local_head + n->local_n) % cap];
    l->ev = *ev;
    if (bytes != NULL) {
        memcpy(l->bytes, bytes, SIM_VOTE_BYTES);
        l->ev.vote.signed_bytes = NULL; /* pointed at l->bytes when popped */
        l->ev.vote.signed_len = SIM_VOTE_BYTES;
    }
    n->local_n++;
}

static void act_persist(struct sim_world *w, struct sim_node *n, const struct cs_action *a)
{
    const struct cs_durable *d = &a->persist.state;
    struct sim_saved *wr = calloc(1, sizeof *wr);
    HANSA_ASSERT(wr != NULL);
    wr->durable = *d;
    struct sim_cached *c;
    if (d->locked_round >= 0 && (c = cache_find(n, d->locked_hash)) != NULL) {
        wr->has_locked = true;
        wr->locked = c->block;
    }
    if (d->valid_round >= 0 && (c = cache_find(n, d->valid_hash)) != NULL) {
        wr->has_valid = true;
        wr->valid = c->block;
    }
    if (d->valid_round >= 0)
        wr->n_pol = sim_gossip_collect_pol(w, n, (uint32_t)d->valid_round, d->valid_hash, wr->pol);
    uint64_t start = n->disk.busy_until_ms > w->now_ms ? n->disk.busy_until_ms : w->now_ms;
    uint64_t done = start + sim_rng_range(&w->rng_node, FSYNC_MIN_MS, FSYNC_MAX_MS);
    n->disk.busy_until_ms = done;
    struct sim_event ev = {.kind = SIM_EV_PERSISTED, .node = n->index};
    ev.persisted.seq = a->persist.seq;
    ev.persisted.write = wr;
    sim_schedule(w, done - w->now_ms, &ev);
    w->stats.persists++;
    sim_trace(w, n->index, "persist #%llu h%llu r%u %s lock %d valid %d",
              (unsigned long long)a->persist.seq, (unsigned long long)d->height, d->round,
              step_name(d->step), d->locked_round, d->valid_round);
}

static void act_propose(struct sim_world *w, struct sim_node *n, const struct cs_action *a)
{
    char hb[9];
    if (a->propose.height < sim_node_height(n)) {
        /* Released by a persist that completed after the height was
         * decided: its block is gone and nobody needs it (not signing is
         * always safe). */
        w->stats.stale_proposals++;
        sim_trace(w, n->index, "stale proposal h%llu r%u %s not sent",
                  (unsigned long long)a->propose.height, a->propose.round,
                  sim_short(a->propose.hash, hb));
        return;
    }
    struct sim_cached *c = cache_find(n, a->propose.hash);
    if (c == NULL) {
        sim_fail(w, "shell", "v%u: the core proposes %s at h%llu r%u, a block it never saw",
                 n->index, sim_short(a->propose.hash, hb), (unsigned long long)a->propose.height,
                 a->propose.round);
        return;
    }
    struct sim_msg m;
    memset(&m, 0, sizeof m);
    m.kind = SIM_MSG_PROPOSAL;
    m.from = n->index;
    struct sim_proposal *p = &m.proposal;
    p->height = a->propose.height;
    p->round = a->propose.round;
    p->valid_round = a->propose.valid_round;
    memcpy(p->hash, a->propose.hash, CS_HASH_BYTES);
    p->proposer = n->index;
    p->block = c->block;
    sim_proposal_sign(p);
    uint8_t digest[32];
    sim_proposal_digest(p, digest);
    if (!signer_allow(w, n, p->height, p->round, SIM_SIGN_PROPOSAL, digest, &m))
        return;
    w->stats.proposals++;
    sim_trace(w, n->index, "propose h%llu r%u vr%d %s txs %u", (unsigned long long)p->height,
              p->round, p->valid_round, sim_short(p->hash, hb), p->block.n_txs);
    remember_sent(n, &m);
    n->relay = *p;
    n->has_relay = true;
    if (n->byzantine)
        sim_byz_propose(w, n, &m);
    else
        sim_node_broadcast(w, n, &m);
}

static void act_vote(struct sim_world *w, struct sim_node *n, const struct cs_action *a)
{
    struct sim_vote v = {.type = a->vote.type,
                         .height = a->vote.height,
                         .round = a->vote.round,
                         .value = a->vote.value,
                         .validator = n->index};
    struct sim_msg m;
    memset(&m, 0, sizeof m);
    m.kind = SIM_MSG_VOTE;
    m.from = n->index;
    sim_vote_encode(&v, m.vote);
    uint8_t digest[32];
    wire_sha256(m.vote, SIM_VOTE_BYTES, digest);
    enum sim_step step = v.type == CS_PREVOTE ? SIM_SIGN_PREVOTE : SIM_SIGN_PRECOMMIT;
    if (!signer_allow(w, n, v.height, v.round, step, digest, &m))
        return;
    char hb[9];
    w->stats.votes++;
    sim_trace(w, n->index, "vote %s h%llu r%u %s", sim_vote_type_name(v.type),
              (unsigned long long)v.height, v.round, sim_value_short(&v.value, hb));
    remember_sent(n, &m);
    sim_gossip_record(n, &v, m.vote);
    if (n->byzantine)
        sim_byz_vote(w, n, &v);
    else
        sim_node_broadcast(w, n, &m);
    struct cs_event ev = {.kind = CS_EV_VOTE};
    ev.vote.type = v.type;
    ev.vote.height = v.height;
    ev.vote.round = v.round;
    ev.vote.value = v.value;
    ev.vote.validator = n->index;
    push_local(n, &ev, m.vote);
}

static void act_timeout(struct sim_world *w, struct sim_node *n, const struct cs_action *a)
{
    struct sim_event ev = {.kind = SIM_EV_TIMER, .node = n->index};
    ev.timer.height = a->timeout.height;
    ev.timer.round = a->timeout.round;
    ev.timer.step = a->timeout.step;
    sim_schedule(w, a->timeout.delay_ms, &ev);
    sim_trace(w, n->index, "schedule %s h%llu r%u +%ums", step_name(a->timeout.step),
              (unsigned long long)a->timeout.height, a->timeout.round, a->timeout.delay_ms);
}

/* A proposer collects transactions for a while before its block is ready
 * (a block interval); the core may move on meanwhile, and must then ignore
 * the late value. */
static void act_get_value(struct sim_world *w, struct sim_node *n, const struct cs_action *a)
{
    struct sim_event ev = {.kind = SIM_EV_BUILT, .node = n->index};
    ev.timer.height = a->get_value.height;
    ev.timer.round = a->get_value.round;
    uint64_t delay = sim_rng_range(&w->rng_node, BUILD_MIN_MS, BUILD_MAX_MS);
    sim_schedule(w, delay, &ev);
    sim_trace(w, n->index, "get_value h%llu r%u: block ready in %llu ms",
              (unsigned long long)a->get_value.height, a->get_value.round,
              (unsigned long long)delay);
}

void sim_node_built(struct sim_world *w, struct sim_node *n, uint64_t height, uint32_t round)
{
    const struct sim_signer *s = &n->disk.signer;
    char hb[9];
    if (height != sim_node_height(n)) {
        sim_trace(w, n->index, "block for h%llu r%u no longer wanted", (unsigned long long)height,
                  round);
        return;
    }
    struct sim_block b;
    const char *how = "built";
    if (s->any && s->step == SIM_SIGN_PROPOSAL && s->height == height && s->round == round) {
        b = s->msg.proposal.block; /* re-propose exactly what was signed */
        how = "re-used";
    } else {
        sim_chain_build(&n->disk.chain, n->arrival_ms, w->now_ms, n->index, &b);
    }
    struct sim_cached *c = sim_node_cache_validate(w, n, &b);
    if (c == NULL || !c->valid) {
        sim_fail(w, "builder", "v%u built block %s for h%llu that it finds invalid", n->index,
                 sim_short(b.hash, hb), (unsigned long long)b.height);
        return;
    }
    sim_trace(w, n->index, "value h%llu r%u: %s %s txs %u", (unsigned long long)height, round, how,
              sim_short(b.hash, hb), b.n_txs);
    struct cs_event ev = {.kind = CS_EV_VALUE};
    ev.value.height = height;
    ev.value.round = round;
    memcpy(ev.value.hash, b.hash, CS_HASH_BYTES);
    sim_node_feed(w, n, &ev);
}

/* Append b to the chain (after a decision or a caught-up block). */
void sim_node_commit(struct sim_world *w, struct sim_node *n, const struct sim_block *b,
                     const struct sim_commit *cm, const struct ledger_output *out, const char *how)
{
    sim_check_commit(w, n->index, &n->disk.chain, b, cm, out->state_root);
    if (w->failed)
        return;
    sim_chain_commit(&n->disk.chain, b, cm, out);
    char hb[9], hr[9];
    sim_trace(w, n->index, "commit h%llu %s root %s txs %u r%u (%s)", (unsigned long long)b->height,
              sim_short(b->hash, hb), sim_short(out->state_root, hr), b->n_txs, cm->round, how);
    forget_height(n);
    n->height_changed = true;
    sim_world_on_commit(w);
}

static void act_decide(struct sim_world *w, struct sim_node *n, const struct cs_action *a)
{
    char hb[9], why[256];
    struct sim_commit cm;
    memset(&cm, 0, sizeof cm);
    cm.round = a->decide.round;
    for (uint32_t i = 0; i < a->decide.n_precommits && i < SIM_VALIDATORS_MAX; i++) {
        if (a->decide.precommit_lens[i] != SIM_VOTE_BYTES)
            continue; /* sim_commit_verify will count it missing */
        memcpy(cm.precommits[cm.n_precommits++], a->decide.precommits[i], SIM_VOTE_BYTES);
    }
    if (!sim_commit_verify(&cm, w->n, a->decide.height, a->decide.hash, why, sizeof why)) {
        sim_fail(w, "commit-certificate", "v%u decided h%llu %s with a bad commit: %s", n->index,
                 (unsigned long long)a->decide.height, sim_short(a->decide.hash, hb), why);
        return;
    }
    struct sim_cached *c = cache_find(n, a->decide.hash);
    if (c == NULL || !c->valid || a->decide.height != sim_node_height(n)) {
        sim_fail(w, "shell", "v%u decided h%llu %s: %s", n->index,
                 (unsigned long long)a->decide.height, sim_short(a->decide.hash, hb),
                 c == NULL   ? "a block it never saw"
                 : !c->valid ? "an invalid block"
                             : "not its next height");
        return;
    }
    w->stats.decides++;
    sim_trace(w, n->index, "decide h%llu r%u %s with %u precommits",
              (unsigned long long)a->decide.height, a->decide.round, sim_short(c->block.hash, hb),
              cm.n_precommits);
    struct sim_block b = c->block;
    struct ledger_output out = c->out;
    memset(&c->out, 0, sizeof c->out); /* moved: commit_block clears the cache */
    sim_node_commit(w, n, &b, &cm, &out, "decide");
    ledger_output_free(&out);
}

static void act_evidence(struct sim_world *w, struct sim_node *n, const struct cs_action *a)
{
    w->stats.evidence++;
    n->evidence_seen = true;
    sim_trace(w, n->index, "evidence against v%u", a->evidence.validator);
    sim_check_evidence(w, n->index, a);
}

static void do_action(struct sim_world *w, struct sim_node *n, const struct cs_action *a)
{
    switch (a->kind) {
    case CS_ACT_PERSIST:
        act_persist(w, n, a);
        break;
    case CS_ACT_PROPOSE:
        act_propose(w, n, a);
        break;
    case CS_ACT_VOTE:
        act_vote(w, n, a);
        break;
    case CS_ACT_SCHEDULE_TIMEOUT:
        act_timeout(w, n, a);
        break;
    case CS_ACT_GET_VALUE:
        act_get_value(w, n, a);
        break;
    case CS_ACT_DECIDE:
        act_decide(w, n, a);
        break;
    case CS_ACT_EVIDENCE:
        act_evidence(w, n, a);
        break;
    }
}

/* ---- stepping the core ------------------------------------------------------------ */

/* After every step: the core is at chain height + 1 and never moved back. */
static void check_position(struct sim_world *w, struct sim_node *n)
{
    struct cs_durable d;
    consensus_durable(n->cs, &d);
    if (d.height != sim_node_height(n)) {
        sim_fail(w, "shell", "v%u: core at h%llu, chain at h%llu", n->index,
                 (unsigned long long)d.height,
                 (unsigned long long)sim_chain_height(&n->disk.chain));
        return;
    }
    if (pos_cmp(d.height, d.round, (int)d.step, n->pos_height, n->pos_round, (int)n->pos_step) < 0)
        sim_fail(w, "core-position", "v%u moved back from h%llu r%u %s to h%llu r%u %s", n->index,
                 (unsigned long long)n->pos_height, n->pos_round, step_name(n->pos_step),
                 (unsigned long long)d.height, d.round, step_name(d.step));
    if (d.round > w->stats.max_round)
        w->stats.max_round = d.round;
    n->pos_height = d.height;
    n->pos_round = d.round;
    n->pos_step = d.step;
}

static void step_once(struct sim_world *w, struct sim_node *n, const struct cs_event *ev)
{
    struct cs_actions acts;
    n->evidence_seen = false;
    consensus_step(n->cs, ev, &acts);
    for (size_t i = 0; i < acts.n && !w->failed; i++)
        do_action(w, n, &acts.items[i]);
    if (n->evidence_expected && !n->evidence_seen && !w->failed)
        sim_fail(w, "evidence",
                 "v%u received conflicting votes of v%u for h%llu r%u %s and reported nothing",
                 n->index, ev->vote.validator, (unsigned long long)ev->vote.height, ev->vote.round,
                 sim_vote_type_name(ev->vote.type));
    n->evidence_expected = false;
    if (!w->failed)
        check_position(w, n);
}

void sim_node_feed(struct sim_world *w, struct sim_node *n, const struct cs_event *ev)
{
    HANSA_ASSERT(n->up && n->cs != NULL && !n->stepping);
    n->stepping = true;
    step_once(w, n, ev);
    size_t cap = sizeof n->local / sizeof n->local[0];
    while (n->local_n > 0 && !w->failed) {
        struct sim_local l = n->local[n->local_head];
        n->local_head = (n->local_head + 1) % cap;
        n->local_n--;
        if (l.ev.kind == CS_EV_VOTE)
            l.ev.vote.signed_bytes = l.bytes;
        step_once(w, n, &l.ev);
    }
    n->local_head = n->local_n = 0;
    n->stepping = false;
    if (n->height_changed && !w->failed) {
        n->height_changed = false;
        sim_gossip_deliver_held(w, n);
    }
}

/* ---- boot and crash ------------------------------------------------------------------ */

static void open_core(struct sim_world *w, struct sim_node *n, const struct cs_durable *start)
{
    consensus_close(n->cs);
    n->cs = NULL;
    struct cs_params p = w->params;
    p.self = n->index;
    hansa_err rv = consensus_open(&p, start, &n->cs);
    HANSA_ASSERT(rv == HANSA_OK);
    n->epoch++;
    n->pos_height = start->height;
    n->pos_round = start->round;
    n->pos_step = start->step;
    n->local_head = n->local_n = 0;
    struct cs_event ev = {.kind = CS_EV_START};
    sim_node_feed(w, n, &ev);
}

static void fresh_durable(const struct sim_node *n, struct cs_durable *d)
{
    memset(d, 0, sizeof *d);
    d->height = sim_node_height(n);
    d->round = 0;
    d->step = CS_STEP_PROPOSE;
    d->locked_round = -1;
    d->valid_round = -1;
}

void sim_node_reopen(struct sim_world *w, struct sim_node *n)
{
    struct cs_durable start;
    fresh_durable(n, &start);
    open_core(w, n, &start);
}

/* Put a persisted locked/valid block back in the cache. */
static void restore_block(struct sim_world *w, struct sim_node *n, const struct sim_block *b)
{
    struct sim_cached *c = sim_node_cache_validate(w, n, b);
    char hb[9];
    if (c == NULL || !c->valid)
        sim_fail(w, "restore", "v%u: persisted block %s of h%llu is not valid after restart",
                 n->index, sim_short(b->hash, hb), (unsigned long long)b->height);
}

void sim_node_boot(struct sim_world *w, struct sim_node *n)
{
    HANSA_ASSERT(!n->up);
    n->up = true;
    struct cs_durable start;
    const struct sim_saved *s = &n->disk.saved;
    bool restored = n->disk.has_saved && s->durable.height == sim_node_height(n);
    if (restored) {
        start = s->durable;
        if (s->has_locked)
            restore_block(w, n, &s->locked);
        if (s->has_valid)
            restore_block(w, n, &s->valid);
    } else {
        HANSA_ASSERT(!n->disk.has_saved || s->durable.height < sim_node_height(n));
        fresh_durable(n, &start);
    }
    sim_trace(w, n->index, "boot h%llu r%u %s (%s)", (unsigned long long)start.height, start.round,
              step_name(start.step), restored ? "restored" : "fresh");
    if (w->failed)
        return;
    open_core(w, n, &start);
    if (restored)
        sim_gossip_replay_pol(w, n, s);
    struct sim_event tick = {.kind = SIM_EV_TICK, .node = n->index};
    sim_schedule(w, sim_rng_range(&w->rng_node, 1, SIM_TICK_MS), &tick);
}

void sim_node_crash(struct sim_world *w, struct sim_node *n)
{
    HANSA_ASSERT(n->up && !n->stepping);
    n->up = false;
    n->incarnation++;
    consensus_close(n->cs);
    n->cs = NULL;
    forget_height(n);
    n->n_future = 0;
    n->catchup_pending = false;
    n->local_head = n->local_n = 0;
    n->height_changed = false;
    sim_trace(w, n->index, "crash at h%llu", (unsigned long long)sim_node_height(n));
}

void sim_node_timeout(struct sim_world *w, struct sim_node *n, uint64_t height, uint32_t round,
                      enum cs_step step)
{
    w->stats.timeouts++;
    sim_trace(w, n->index, "timeout %s h%llu r%u", step_name(step), (unsigned long long)height,
              round);
    struct cs_event ev = {.kind = CS_EV_TIMEOUT};
    ev.timeout.height = height;
    ev.timeout.round = round;
    ev.timeout.step = step;
    sim_node_feed(w, n, &ev);
}

void sim_node_persisted(struct sim_world *w, struct sim_node *n, uint32_t epoch, uint64_t seq,
                        const struct sim_saved *write)
{
    bool lands = w->cfg.mutation != SIM_MUTATE_LYING_FSYNC;
    if (lands) {
        n->disk.has_saved = true;
        n->disk.saved = *write;
    }
    if (epoch != n->epoch)
        return; /* the core that asked was replaced (catch-up); the write stands */
    sim_trace(w, n->index, "persisted #%llu", (unsigned long long)seq);
    struct cs_event ev = {.kind = CS_EV_PERSISTED};
    ev.persisted_seq = seq;
    sim_node_feed(w, n, &ev);
}
