/*
 * Proposals: receiving one (CS_EV_PROPOSAL), proposing (Alg. 1, lines
 * 14-19 with CS_EV_VALUE for getValue), and the two rules that prevote on
 * the round's proposal (lines 22 and 28).
 *
 * The shell guarantees a proposal comes from the proposer of its (height,
 * round) and says whether its block is valid(v). The core keeps the first
 * proposal of each round of the current height (rounds up to round +
 * CS_FUTURE_ROUNDS_MAX, like votes). A second, different proposal for a
 * round is the proposer equivocating: it is ignored (there is no vote to
 * report; the shell holds the signed proposals if it wants to).
 *
 * The core's own proposal is not necessarily fed back by the shell: it is
 * kept in the book when it is queued for signing, marked valid (the shell
 * built the block, or it is the valid value, which passed valid(v) at line
 * 36). If the shell does feed it back, it is a duplicate.
 *
 * Invariants:
 *   1. A proposer proposes at most once per round, and the value it asks
 *      for (awaiting_value) belongs to the current round and step propose.
 *   2. Lines 22 and 28 fire only at step propose and move it to prevote, so
 *      at most one prevote is signed per round.
 */
#include <string.h>

#include "consensus_internal.h"
#include "hansa/assert.h"

static void keep_proposal(struct consensus *cs, const struct cs_proposal *pr)
{
    struct cs_round *slot = consensus_book_round_get(&cs->book, pr->round);
    if (slot == NULL || slot->has_proposal)
        return; /* out of memory, a duplicate, or an equivocating proposer */
    slot->has_proposal = true;
    slot->proposal = *pr;
    slot->proposer = consensus_proposer(cs, pr->height, pr->round);
}

void consensus_on_proposal(struct consensus *cs, const struct cs_proposal *pr)
{
    if (pr->height != cs->height)
        return;
    if ((uint64_t)pr->round > (uint64_t)cs->round + CS_FUTURE_ROUNDS_MAX)
        return;
    keep_proposal(cs, pr);
}

/* Lines 16-19: sign PROPOSAL(h, round, hash, valid_round). */
void consensus_propose(struct consensus *cs, const uint8_t hash[CS_HASH_BYTES], int32_t valid_round)
{
    HANSA_ASSERT(cs->step == CS_STEP_PROPOSE);
    HANSA_ASSERT(consensus_proposer(cs, cs->height, cs->round) == cs->p.self);
    struct cs_action a = {.kind = CS_ACT_PROPOSE};
    a.propose.height = cs->height;
    a.propose.round = cs->round;
    a.propose.valid_round = valid_round;
    memcpy(a.propose.hash, hash, CS_HASH_BYTES);
    if (!consensus_sign(cs, &a))
        return;
    struct cs_proposal own = {
        .height = cs->height,
        .round = cs->round,
        .valid_round = valid_round,
        .valid = true,
    };
    memcpy(own.hash, hash, CS_HASH_BYTES);
    keep_proposal(cs, &own);
}

/* Line 18: the value getValue() returned, for the round that asked. */
void consensus_on_value(struct consensus *cs, uint64_t height, uint32_t round,
                        const uint8_t hash[CS_HASH_BYTES])
{
    if (!cs->awaiting_value || height != cs->height || round != cs->round ||
        cs->step != CS_STEP_PROPOSE)
        return; /* stale: the round moved on while the block was built */
    cs->awaiting_value = false;
    consensus_propose(cs, hash, -1);
}

static bool locked_on(const struct consensus *cs, const uint8_t hash[CS_HASH_BYTES])
{
    return cs->locked_round >= 0 && memcmp(cs->locked_hash, hash, CS_HASH_BYTES) == 0;
}

/* Line 22: PROPOSAL(h, round, v, -1) while step = propose. */
static bool accept_fresh(const struct consensus *cs, const struct cs_proposal *pr)
{
    return pr->valid && (cs->locked_round == -1 || locked_on(cs, pr->hash));
}

/* Line 28: PROPOSAL(h, round, v, vr) with 2f+1 PREVOTE(h, vr, id(v)), 0 <= vr
 * < round, while step = propose. */
static bool polka_at_valid_round(const struct consensus *cs, const struct cs_proposal *pr)
{
    if (pr->valid_round < 0 || (uint32_t)pr->valid_round >= cs->round)
        return false;
    struct cs_value v = consensus_value_of(pr->hash);
    return consensus_book_count(&cs->book, (uint32_t)pr->valid_round, CS_PREVOTE, &v) >= cs->quorum;
}

static bool accept_polka(const struct consensus *cs, const struct cs_proposal *pr)
{
    return pr->valid && (cs->locked_round <= pr->valid_round || locked_on(cs, pr->hash));
}

bool consensus_rule_proposal(struct consensus *cs)
{
    if (cs->step != CS_STEP_PROPOSE)
        return false;
    const struct cs_round *slot = consensus_book_round(&cs->book, cs->round);
    if (slot == NULL || !slot->has_proposal)
        return false;
    const struct cs_proposal *pr = &slot->proposal;
    bool accept;
    if (pr->valid_round == -1)
        accept = accept_fresh(cs, pr); /* Alg. 1, line 22 */
    else if (polka_at_valid_round(cs, pr))
        accept = accept_polka(cs, pr); /* Alg. 1, line 28 */
    else
        return false;
    struct cs_value v = accept ? consensus_value_of(pr->hash) : consensus_value_nil();
    consensus_sign_vote(cs, CS_PREVOTE, &v); /* lines 24/26, 30/32 */
    cs->step = CS_STEP_PREVOTE;              /* lines 27, 33 */
    return true;
}
