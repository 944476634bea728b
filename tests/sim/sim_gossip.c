/*
 * The message side of a validator's shell: what arrives from peers and
 * what it re-sends.
 *
 *   receive   verify (signature, proposer of the round, block hash), hold
 *             messages of the next height until the core gets there, drop
 *             older ones and exact duplicate votes (before verifying, as a
 *             node's dedup cache would), check the block once per hash, feed
 *             the core; a vote of the Byzantine validator that conflicts
 *             with one fed before must come back as evidence in that step;
 *   record    the first vote of each validator, type and round of the
 *             current height, kept for gossip;
 *   gossip    every tick (about a second): STATUS with the chain height, the
 *             own messages of this and the previous round, the last signed
 *             message from disk (after a restart memory has nothing else),
 *             the proposal of the current round and the prevotes of its
 *             valid round (its POL: without them a validator that missed the
 *             polka can never accept the re-proposal);
 *   catch-up  a peer's STATUS ahead of us asks it for committed blocks; each
 *             is applied only if its commit verifies and the block is valid
 *             here, and the core is reopened at the next height.
 *
 * Invariant: nothing here feeds the core a message of another height, an
 * unverified vote, or a proposal whose block this validator has not checked.
 */
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "sim.h"

#define CATCHUP_RETRY_MS 400u

static void on_vote(struct sim_world *w, struct sim_node *n, const struct sim_msg *m);

/* ---- votes seen at this height (for gossip) ---------------------------------------- */

/* The round field of an encoded vote (layout in sim_msg.c). */
static uint32_t vote_round(const uint8_t *vote)
{
    return (uint32_t)vote[9] | (uint32_t)vote[10] << 8 | (uint32_t)vote[11] << 16 |
           (uint32_t)vote[12] << 24;
}

void sim_gossip_record(struct sim_node *n, const struct sim_vote *v, const uint8_t *bytes)
{
    if (v->round >= SIM_SEEN_ROUNDS_MAX)
        return;
    if (v->round >= n->n_seen) {
        uint32_t grown = v->round + 1;
        n->seen = realloc(n->seen, grown * sizeof *n->seen);
        HANSA_ASSERT(n->seen != NULL);
        memset(n->seen + n->n_seen, 0, (grown - n->n_seen) * sizeof *n->seen);
        n->n_seen = grown;
    }
    struct sim_seen_round *r = &n->seen[v->round];
    int t = v->type == CS_PREVOTE ? 0 : 1;
    uint8_t *count = &r->n[t][v->validator];
    for (uint8_t i = 0; i < *count; i++)
        if (memcmp(r->bytes[t][v->validator][i], bytes, SIM_VOTE_BYTES) == 0)
            return;
    if (*count < 2)
        memcpy(r->bytes[t][v->validator][(*count)++], bytes, SIM_VOTE_BYTES);
}

uint32_t sim_gossip_collect_pol(const struct sim_world *w, const struct sim_node *n, uint32_t round,
                                const uint8_t hash[CS_HASH_BYTES],
                                uint8_t out[SIM_VALIDATORS_MAX][SIM_VOTE_BYTES])
{
    uint32_t count = 0;
    if (round >= n->n_seen)
        return 0;
    const struct sim_seen_round *r = &n->seen[round];
    for (uint32_t v = 0; v < w->n; v++)
        for (uint8_t i = 0; i < r->n[0][v]; i++)
            if (sim_vote_is_for(r->bytes[0][v][i], hash)) {
                memcpy(out[count++], r->bytes[0][v][i], SIM_VOTE_BYTES);
                break;
            }
    return count;
}

/* Send the prevotes of round vr for hash that this validator has seen. */
static void gossip_pol(struct sim_world *w, struct sim_node *n, int32_t vr,
                       const uint8_t hash[CS_HASH_BYTES])
{
    uint8_t pol[SIM_VALIDATORS_MAX][SIM_VOTE_BYTES];
    if (vr < 0)
        return;
    uint32_t count = sim_gossip_collect_pol(w, n, (uint32_t)vr, hash, pol);
    struct sim_msg m;
    memset(&m, 0, sizeof m);
    m.kind = SIM_MSG_VOTE;
    m.from = n->index;
    for (uint32_t i = 0; i < count; i++) {
        memcpy(m.vote, pol[i], SIM_VOTE_BYTES);
        sim_node_broadcast(w, n, &m);
    }
}

/* Give the restarted core (and the gossip record) the persisted POL. */
void sim_gossip_replay_pol(struct sim_world *w, struct sim_node *n, const struct sim_saved *s)
{
    struct sim_msg m;
    memset(&m, 0, sizeof m);
    m.kind = SIM_MSG_VOTE;
    m.from = n->index;
    for (uint32_t i = 0; i < s->n_pol && n->up && !w->failed; i++) {
        memcpy(m.vote, s->pol[i], SIM_VOTE_BYTES);
        on_vote(w, n, &m);
    }
}

/* ---- messages ------------------------------------------------------------------------ */

static void hold_for_next_height(struct sim_node *n, const struct sim_msg *m)
{
    if (n->n_future < SIM_FUTURE_MAX)
        n->future[n->n_future++] = *m;
}

void sim_gossip_deliver_held(struct sim_world *w, struct sim_node *n)
{
    size_t count = n->n_future;
    if (count == 0)
        return;
    struct sim_msg *held = malloc(count * sizeof *held);
    HANSA_ASSERT(held != NULL);
    memcpy(held, n->future, count * sizeof *held);
    n->n_future = 0;
    for (size_t i = 0; i < count && n->up && !w->failed; i++)
        sim_node_deliver(w, n, &held[i]);
    free(held);
}

static void on_proposal(struct sim_world *w, struct sim_node *n, const struct sim_msg *m)
{
    const struct sim_proposal *p = &m->proposal;
    char hb[9];
    uint64_t height = sim_node_height(n);
    if (!sim_proposal_verify(p, w->n) ||
        p->proposer != consensus_proposer(n->cs, p->height, p->round) ||
        memcmp(p->hash, p->block.hash, CS_HASH_BYTES) != 0) {
        sim_trace(w, n->index, "drop proposal from v%u: bad signature, proposer or hash", m->from);
        return;
    }
    if (p->height != height) {
        if (p->height == height + 1)
            hold_for_next_height(n, m);
        return;
    }
    struct sim_cached *c = sim_node_cache_validate(w, n, &p->block);
    if (c == NULL)
        return;
    sim_trace(w, n->index, "recv proposal h%llu r%u vr%d %s from v%u %s",
              (unsigned long long)p->height, p->round, p->valid_round, sim_short(p->hash, hb),
              m->from, c->valid ? "valid" : "invalid");
    if (c->valid && (!n->has_relay || p->round >= n->relay.round)) {
        n->relay = *p;
        n->has_relay = true;
    }
    struct cs_event ev = {.kind = CS_EV_PROPOSAL};
    ev.proposal.height = p->height;
    ev.proposal.round = p->round;
    ev.proposal.valid_round = p->valid_round;
    memcpy(ev.proposal.hash, p->hash, CS_HASH_BYTES);
    ev.proposal.valid = c->valid;
    sim_node_feed(w, n, &ev);
}

/* Evidence bookkeeping: a Byzantine vote the core will keep (its height,
 * within the future-round bound); true when it conflicts with one fed
 * before, so the core must report it in this step. */
static bool track_byzantine_vote(struct sim_node *n, const struct sim_vote *v)
{
    struct cs_durable d;
    consensus_durable(n->cs, &d);
    if (v->height != d.height || (uint64_t)v->round > (uint64_t)d.round + CS_FUTURE_ROUNDS_MAX)
        return false;
    for (size_t i = 0; i < n->n_fed; i++) {
        struct sim_fed_vote *f = &n->fed[i];
        if (f->height != v->height || f->round != v->round || f->type != v->type)
            continue;
        bool same = f->value.nil == v->value.nil &&
                    (f->value.nil || memcmp(f->value.hash, v->value.hash, CS_HASH_BYTES) == 0);
        if (same || f->conflict_seen)
            return false;
        f->conflict_seen = true;
        return true;
    }
    if (n->n_fed < SIM_EQUIV_MAX)
        n->fed[n->n_fed++] = (struct sim_fed_vote){v->height, v->round, v->type, v->value, false};
    return false;
}

/* A vote with exactly these bytes was seen before (so it verified then). */
static bool seen_before(const struct sim_node *n, const uint8_t *vote)
{
    uint32_t round = vote_round(vote);
    uint32_t validator = (uint32_t)vote[46] | (uint32_t)vote[47] << 8 | (uint32_t)vote[48] << 16 |
                         (uint32_t)vote[49] << 24;
    int t = vote[0] == CS_PREVOTE ? 0 : 1;
    if (round >= n->n_seen || validator >= SIM_VALIDATORS_MAX ||
        (vote[0] != CS_PREVOTE && vote[0] != CS_PRECOMMIT))
        return false;
    const struct sim_seen_round *r = &n->seen[round];
    for (uint8_t i = 0; i < r->n[t][validator]; i++)
        if (memcmp(r->bytes[t][validator][i], vote, SIM_VOTE_BYTES) == 0)
            return true;
    return false;
}

static void on_vote(struct sim_world *w, struct sim_node *n, const struct sim_msg *m)
{
    struct sim_vote v;
    if (seen_before(n, m->vote)) {
        /* The core would ignore it too; skip the signature check. */
        w->stats.duplicates++;
        return;
    }
    if (!sim_vote_decode(m->vote, SIM_VOTE_BYTES, w->n, &v)) {
        sim_trace(w, n->index, "drop vote from v%u: does not verify", m->from);
        return;
    }
    uint64_t height = sim_node_height(n);
    if (v.height != height) {
        if (v.height == height + 1)
            hold_for_next_height(n, m);
        return;
    }
    char hb[9];
    sim_trace(w, n->index, "recv vote %s h%llu r%u %s of v%u from v%u", sim_vote_type_name(v.type),
              (unsigned long long)v.height, v.round, sim_value_short(&v.value, hb), v.validator,
              m->from);
    sim_gossip_record(n, &v, m->vote);
    if (v.validator == w->byz && !n->byzantine && track_byzantine_vote(n, &v)) {
        n->evidence_expected = true;
        w->stats.evidence_expected++;
    }
    struct cs_event ev = {.kind = CS_EV_VOTE};
    ev.vote.type = v.type;
    ev.vote.height = v.height;
    ev.vote.round = v.round;
    ev.vote.value = v.value;
    ev.vote.validator = v.validator;
    ev.vote.signed_bytes = m->vote;
    ev.vote.signed_len = SIM_VOTE_BYTES;
    sim_node_feed(w, n, &ev);
}

static void request_catchup(struct sim_world *w, struct sim_node *n, uint32_t peer)
{
    if (n->catchup_pending && w->now_ms < n->catchup_sent_ms + CATCHUP_RETRY_MS)
        return;
    n->catchup_pending = true;
    n->catchup_sent_ms = w->now_ms;
    struct sim_msg m;
    memset(&m, 0, sizeof m);
    m.kind = SIM_MSG_CATCHUP_REQ;
    m.from = n->index;
    m.catchup_from = sim_node_height(n);
    sim_trace(w, n->index, "catch-up request to v%u from h%llu", peer,
              (unsigned long long)m.catchup_from);
    sim_send(w, n->index, peer, &m);
}

static void on_catchup_request(struct sim_world *w, struct sim_node *n, const struct sim_msg *m)
{
    const struct sim_chain *c = &n->disk.chain;
    for (uint64_t h = m->catchup_from;
         h <= sim_chain_height(c) && h < m->catchup_from + SIM_CATCHUP_BLOCKS; h++) {
        const struct sim_committed *e = sim_chain_at(c, h);
        if (e == NULL)
            break;
        struct sim_msg r;
        memset(&r, 0, sizeof r);
        r.kind = SIM_MSG_CATCHUP_RESP;
        r.from = n->index;
        r.catchup.block = e->block;
        r.catchup.commit = e->commit;
        sim_send(w, n->index, m->from, &r);
    }
}

static void on_catchup_block(struct sim_world *w, struct sim_node *n, const struct sim_msg *m)
{
    const struct sim_block *b = &m->catchup.block;
    char hb[9], why[256];
    if (b->height != sim_node_height(n))
        return; /* already have it, or a gap: a later status asks again */
    if (!sim_commit_verify(&m->catchup.commit, w->n, b->height, b->hash, why, sizeof why)) {
        sim_trace(w, n->index, "drop caught-up h%llu from v%u: %s", (unsigned long long)b->height,
                  m->from, why);
        return;
    }
    struct ledger_output out;
    if (!sim_chain_validate(&n->disk.chain, b, w->now_ms, &out, why, sizeof why)) {
        /* 2f+1 precommitted it, so correct validators found it valid on the
         * same chain: our state differs from theirs. */
        sim_fail(w, "catch-up", "v%u: committed block h%llu %s from v%u is invalid here: %s",
                 n->index, (unsigned long long)b->height, sim_short(b->hash, hb), m->from, why);
        return;
    }
    w->stats.catchups++;
    n->catchup_pending = false;
    sim_node_commit(w, n, b, &m->catchup.commit, &out, "catch-up");
    ledger_output_free(&out);
    if (w->failed)
        return;
    n->height_changed = false;
    sim_node_reopen(w, n);
    if (!w->failed)
        sim_gossip_deliver_held(w, n);
}

void sim_node_deliver(struct sim_world *w, struct sim_node *n, const struct sim_msg *m)
{
    HANSA_ASSERT(n->up);
    switch (m->kind) {
    case SIM_MSG_PROPOSAL:
        on_proposal(w, n, m);
        break;
    case SIM_MSG_VOTE:
        on_vote(w, n, m);
        break;
    case SIM_MSG_STATUS:
        if (m->status_height > sim_chain_height(&n->disk.chain))
            request_catchup(w, n, m->from);
        break;
    case SIM_MSG_CATCHUP_REQ:
        on_catchup_request(w, n, m);
        break;
    case SIM_MSG_CATCHUP_RESP:
        on_catchup_block(w, n, m);
        break;
    }
}

/* Periodic re-broadcast: transports lose messages (DESIGN §6). */
void sim_node_tick(struct sim_world *w, struct sim_node *n)
{
    struct sim_msg st;
    memset(&st, 0, sizeof st);
    st.kind = SIM_MSG_STATUS;
    st.from = n->index;
    st.status_height = sim_chain_height(&n->disk.chain);
    sim_node_broadcast(w, n, &st);
    uint64_t height = sim_node_height(n);
    uint32_t round = sim_node_round(n);
    uint32_t from_round = round > 0 ? round - 1 : 0;
    bool signer_sent = false;
    const struct sim_signer *s = &n->disk.signer;
    for (size_t i = 0; i < n->n_sent; i++) {
        const struct sim_msg *m = &n->sent[i];
        uint32_t r = m->kind == SIM_MSG_PROPOSAL ? m->proposal.round : vote_round(m->vote);
        if (r >= from_round)
            sim_node_broadcast(w, n, m);
        if (s->any && memcmp(m, &s->msg, sizeof *m) == 0)
            signer_sent = true;
    }
    /* After a restart only the disk remembers the last signed message. */
    if (s->any && s->height == height && !signer_sent)
        sim_node_broadcast(w, n, &s->msg);
    if (n->has_relay && n->relay.round == round) {
        if (n->relay.proposer != n->index) {
            struct sim_msg m;
            memset(&m, 0, sizeof m);
            m.kind = SIM_MSG_PROPOSAL;
            m.from = n->index;
            m.proposal = n->relay;
            sim_node_broadcast(w, n, &m);
        }
        gossip_pol(w, n, n->relay.valid_round, n->relay.hash);
    }
    struct sim_event tick = {.kind = SIM_EV_TICK, .node = n->index};
    sim_schedule(w, SIM_TICK_MS - 100 + sim_rng_below(&w->rng_node, 200), &tick);
}
