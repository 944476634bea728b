/*
 * The rules on precommits (Alg. 1, lines 47 and 49) and moving to the next
 * height.
 *
 *   line 47  2f+1 precommits of the current round, for anything, first
 *            time: schedule timeoutPrecommit;
 *   line 49  a proposal v of ANY round r of this height with 2f+1 precommits
 *            for id(v) in r: if valid(v), decide v. The round need not be
 *            the current one: a validator that moved on still decides when
 *            the precommits of an earlier round reach it.
 *
 * Deciding emits CS_ACT_DECIDE with every kept precommit for v in r (each
 * validator at most once, at least 2f+1 of them, none for another value),
 * then moves to height + 1 with the lock and the valid value reset and
 * starts round 0 (lines 54, 56) in the same step: the shell carries the
 * actions out in order, so the block is committed before anything of the
 * next height. The decided height's book is kept until the next step call
 * because the action points into it.
 *
 * Invariant: a height is decided at most once (deciding moves past it, and
 * the new book holds nothing of the old height).
 */
#include <string.h>

#include "consensus_internal.h"
#include "hansa/assert.h"

bool consensus_rule_precommit_any(struct consensus *cs)
{
    if (cs->precommit_timeout_done)
        return false;
    if (consensus_book_count(&cs->book, cs->round, CS_PRECOMMIT, NULL) < cs->quorum)
        return false;
    cs->precommit_timeout_done = true;
    consensus_schedule_timeout(cs, CS_STEP_PRECOMMIT); /* Alg. 1, line 48 */
    return true;
}

static void emit_decide(struct consensus *cs, const struct cs_round *slot, uint32_t round)
{
    struct cs_value v = consensus_value_of(slot->proposal.hash);
    struct cs_action a = {.kind = CS_ACT_DECIDE};
    a.decide.height = cs->height;
    a.decide.round = round;
    memcpy(a.decide.hash, v.hash, CS_HASH_BYTES);
    for (uint32_t i = 0; i < cs->p.n_validators; i++) {
        const struct cs_voter *voter =
            consensus_book_voter_c(slot, cs->p.n_validators, CS_PRECOMMIT, i);
        const struct cs_kept_vote *k = consensus_book_vote_for(voter, &v);
        if (k == NULL)
            continue;
        a.decide.precommits[a.decide.n_precommits] = k->bytes;
        a.decide.precommit_lens[a.decide.n_precommits] = k->len;
        a.decide.n_precommits++;
    }
    HANSA_ASSERT(a.decide.n_precommits >= cs->quorum);
    consensus_emit(cs, &a);
}

/* Lines 51-56 after decide: the next height starts from scratch. */
static void next_height(struct consensus *cs)
{
    HANSA_ASSERT(cs->retired.n_rounds == 0); /* one decision per step */
    cs->retired = cs->book;
    consensus_book_init(&cs->book, cs->p.n_validators);
    cs->height++;
    cs->locked_round = -1;
    memset(cs->locked_hash, 0, CS_HASH_BYTES);
    cs->valid_round = -1;
    memset(cs->valid_hash, 0, CS_HASH_BYTES);
    consensus_start_round(cs, 0);
}

bool consensus_rule_decide(struct consensus *cs)
{
    if (cs->height == UINT64_MAX)
        return false; /* no next height to move to (never reached) */
    for (uint32_t r = 0; r < cs->book.n_rounds; r++) {
        const struct cs_round *slot = consensus_book_round(&cs->book, r);
        if (slot == NULL || !slot->has_proposal || !slot->proposal.valid)
            continue;
        struct cs_value v = consensus_value_of(slot->proposal.hash);
        if (consensus_book_count(&cs->book, r, CS_PRECOMMIT, &v) < cs->quorum)
            continue;
        emit_decide(cs, slot, r); /* Alg. 1, line 51 */
        next_height(cs);
        return true;
    }
    return false;
}
