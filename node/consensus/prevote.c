/*
 * The rules on prevotes of the current round (Alg. 1, lines 34, 36, 44).
 *
 *   line 34  2f+1 prevotes for anything, step prevote, first time:
 *            schedule timeoutPrevote;
 *   line 36  the round's proposal v, valid, with 2f+1 prevotes for id(v),
 *            step >= prevote, first time: at step prevote lock v and
 *            precommit it; in any case v becomes the valid value;
 *   line 44  2f+1 prevotes for nil, step prevote: precommit nil.
 *
 * Lines 36 and 44 cannot both hold while at most f validators are faulty:
 * two quorums of one round share f+1 validators, one of them correct, and
 * a correct validator prevotes once per round.
 *
 * Invariants:
 *   1. locked_round <= valid_round after line 36 (both become round).
 *   2. At most one precommit is signed per round: both rules leave step
 *      prevote, and only step prevote signs one.
 */
#include <string.h>

#include "consensus_internal.h"
#include "hansa/assert.h"

bool consensus_rule_prevote_any(struct consensus *cs)
{
    if (cs->step != CS_STEP_PREVOTE || cs->prevote_timeout_done)
        return false;
    if (consensus_book_count(&cs->book, cs->round, CS_PREVOTE, NULL) < cs->quorum)
        return false;
    cs->prevote_timeout_done = true;
    consensus_schedule_timeout(cs, CS_STEP_PREVOTE); /* Alg. 1, line 35 */
    return true;
}

bool consensus_rule_polka(struct consensus *cs)
{
    if (cs->polka_done || cs->step < CS_STEP_PREVOTE)
        return false;
    const struct cs_round *slot = consensus_book_round(&cs->book, cs->round);
    if (slot == NULL || !slot->has_proposal || !slot->proposal.valid)
        return false;
    struct cs_value v = consensus_value_of(slot->proposal.hash);
    if (consensus_book_count(&cs->book, cs->round, CS_PREVOTE, &v) < cs->quorum)
        return false;
    cs->polka_done = true;
    HANSA_ASSERT(cs->round <= (uint32_t)INT32_MAX);
    if (cs->step == CS_STEP_PREVOTE) {
        /* Alg. 1, lines 38-41 */
        memcpy(cs->locked_hash, v.hash, CS_HASH_BYTES);
        cs->locked_round = (int32_t)cs->round;
        consensus_sign_vote(cs, CS_PRECOMMIT, &v);
        cs->step = CS_STEP_PRECOMMIT;
    }
    /* Alg. 1, lines 42-43 */
    memcpy(cs->valid_hash, v.hash, CS_HASH_BYTES);
    cs->valid_round = (int32_t)cs->round;
    HANSA_ASSERT(cs->locked_round <= cs->valid_round);
    return true;
}

bool consensus_rule_polka_nil(struct consensus *cs)
{
    if (cs->step != CS_STEP_PREVOTE)
        return false;
    struct cs_value nil = consensus_value_nil();
    if (consensus_book_count(&cs->book, cs->round, CS_PREVOTE, &nil) < cs->quorum)
        return false;
    consensus_sign_vote(cs, CS_PRECOMMIT, &nil); /* Alg. 1, line 45 */
    cs->step = CS_STEP_PRECOMMIT;                /* line 46 */
    return true;
}
