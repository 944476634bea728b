/*
 * The Byzantine validator's shell. Its core is a correct core (it decides,
 * locks and counts like any other), but the shell that carries out the
 * core's sign actions has no discipline:
 *
 *   propose  often builds a second block for the same (height, round) (one
 *            transaction fewer, one invalid transaction more, or another
 *            time) and sends each peer one of the two, or both in either
 *            order;
 *   vote     often signs a second vote for the same (height, round, type)
 *            with another value (nil for a block, a block for nil) and
 *            sends each peer one, the other, or both; or, some of the time,
 *            floods some peers with FLOOD_VOTES votes for junk values before
 *            its real vote (a core that keeps a bounded number of values per
 *            voter must not lose the real one to the junk for good).
 *
 * Its own core is fed only its real vote. What must follow: safety holds
 * (sim_check), and a correct validator whose core receives both votes of a
 * pair reports CS_ACT_EVIDENCE in that step (sim_node's evidence check).
 * The Byzantine validator never crashes, so a run has at most f faulty
 * validators besides the crashed ones the schedule allows.
 */
#include <string.h>

#include "hansa/assert.h"
#include "sim.h"

#define EQUIVOCATE_PROPOSAL_PM 600u
#define EQUIVOCATE_VOTE_PM     500u
/* Of the double votes, how many flood some peers with junk values first. */
#define FLOOD_PM 300u
/* Junk votes per flooded peer: more than the core keeps per voter today
 * (CS_VOTE_VALUES_MAX, 4, in consensus_internal.h). */
#define FLOOD_VOTES 6u

/* Send a, b, or both (in a random order) to each peer. */
static void split_send(struct sim_world *w, struct sim_node *n, const struct sim_msg *a,
                       const struct sim_msg *b)
{
    for (uint32_t to = 0; to < w->n; to++) {
        if (to == n->index)
            continue;
        switch (sim_rng_below(&w->rng_byz, 4)) {
        case 0:
            sim_send(w, n->index, to, a);
            break;
        case 1:
            sim_send(w, n->index, to, b);
            break;
        case 2:
            sim_send(w, n->index, to, a);
            sim_send(w, n->index, to, b);
            break;
        default:
            sim_send(w, n->index, to, b);
            sim_send(w, n->index, to, a);
            break;
        }
    }
}

/* First pool transaction admission refuses and b does not hold. */
static bool add_invalid_tx(struct sim_block *b)
{
    const struct sim_pool *pool = sim_pool_get();
    if (b->n_txs == SIM_BLOCK_TXS_MAX)
        return false;
    for (size_t i = 0; i < pool->n; i++)
        if (!pool->txs[i].admissible) {
            b->txs[b->n_txs++] = (uint16_t)i;
            return true;
        }
    return false;
}

static void make_alt_block(struct sim_world *w, const struct sim_block *a, struct sim_block *b)
{
    const struct sim_pool *pool = sim_pool_get();
    *b = *a;
    switch (sim_rng_below(&w->rng_byz, 3)) {
    case 0:
        if (b->n_txs > 0) {
            b->n_txs--;
            break;
        }
        b->time_ms++;
        break;
    case 1:
        if (!add_invalid_tx(b))
            b->time_ms++;
        break;
    default:
        b->time_ms++;
        break;
    }
    uint8_t ids[SIM_BLOCK_TXS_MAX][CS_HASH_BYTES];
    for (uint16_t i = 0; i < b->n_txs; i++)
        memcpy(ids[i], pool->txs[b->txs[i]].tx.id, CS_HASH_BYTES);
    wire_merkle_root(&ids[0][0], b->n_txs, b->tx_root);
    sim_block_hash(b, b->hash);
}

void sim_byz_propose(struct sim_world *w, struct sim_node *n, const struct sim_msg *m)
{
    HANSA_ASSERT(n->byzantine && m->kind == SIM_MSG_PROPOSAL);
    if (!sim_rng_chance(&w->rng_byz, EQUIVOCATE_PROPOSAL_PM)) {
        sim_node_broadcast(w, n, m);
        return;
    }
    struct sim_msg alt = *m;
    make_alt_block(w, &m->proposal.block, &alt.proposal.block);
    memcpy(alt.proposal.hash, alt.proposal.block.hash, CS_HASH_BYTES);
    sim_proposal_sign(&alt.proposal);
    n->has_alt = true;
    n->alt = alt.proposal.block;
    w->stats.byz_proposals++;
    char ha[9], hb[9];
    sim_trace(w, n->index, "byzantine: proposals %s and %s for h%llu r%u",
              sim_short(m->proposal.hash, ha), sim_short(alt.proposal.hash, hb),
              (unsigned long long)m->proposal.height, m->proposal.round);
    split_send(w, n, m, &alt);
}

static void random_hash(struct sim_world *w, uint8_t hash[CS_HASH_BYTES])
{
    for (size_t i = 0; i < CS_HASH_BYTES; i++)
        hash[i] = (uint8_t)sim_rng_below(&w->rng_byz, 256);
}

/* Some peers first get FLOOD_VOTES votes for junk values, then the real
 * vote a; the others get a only. A core that keeps a bounded number of
 * values per voter must not lose a to the junk for good. */
static void flood(struct sim_world *w, struct sim_node *n, const struct sim_vote *v,
                  const struct sim_msg *a)
{
    char ha[9];
    w->stats.byz_floods++;
    sim_trace(w, n->index, "byzantine: junk votes before %s for %s h%llu r%u",
              sim_value_short(&v->value, ha), sim_vote_type_name(v->type),
              (unsigned long long)v->height, v->round);
    for (uint32_t to = 0; to < w->n; to++) {
        if (to == n->index)
            continue;
        if (sim_rng_chance(&w->rng_byz, 500)) {
            struct sim_vote junk = *v;
            struct sim_msg j = *a;
            junk.value.nil = false;
            for (uint32_t k = 0; k < FLOOD_VOTES; k++) {
                random_hash(w, junk.value.hash);
                sim_vote_encode(&junk, j.vote);
                sim_send(w, n->index, to, &j);
            }
        }
        sim_send(w, n->index, to, a);
    }
}

void sim_byz_vote(struct sim_world *w, struct sim_node *n, const struct sim_vote *v)
{
    HANSA_ASSERT(n->byzantine);
    struct sim_msg a;
    memset(&a, 0, sizeof a);
    a.kind = SIM_MSG_VOTE;
    a.from = n->index;
    sim_vote_encode(v, a.vote);
    if (!sim_rng_chance(&w->rng_byz, EQUIVOCATE_VOTE_PM)) {
        sim_node_broadcast(w, n, &a);
        return;
    }
    struct sim_vote other = *v;
    if (!v->value.nil) {
        other.value.nil = true;
        memset(other.value.hash, 0, CS_HASH_BYTES);
    } else if (n->has_alt && n->alt.height == v->height) {
        other.value.nil = false;
        memcpy(other.value.hash, n->alt.hash, CS_HASH_BYTES);
    } else {
        other.value.nil = false;
        random_hash(w, other.value.hash);
    }
    struct sim_msg b = a;
    sim_vote_encode(&other, b.vote);
    w->stats.byz_votes++;
    if (sim_rng_chance(&w->rng_byz, FLOOD_PM)) {
        flood(w, n, v, &a);
        return;
    }
    char ha[9], hb[9];
    sim_trace(w, n->index, "byzantine: votes %s and %s for %s h%llu r%u",
              sim_value_short(&v->value, ha), sim_value_short(&other.value, hb),
              v->type == CS_PREVOTE ? "pv" : "pc", (unsigned long long)v->height, v->round);
    split_send(w, n, &a, &b);
}
