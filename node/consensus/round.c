/*
 * Rounds: StartRound (Alg. 1, lines 11-21), the start event that begins or
 * resumes consensus, and the round skip of line 55.
 *
 * StartRound(r) resets the step to propose and the "first time" flags of
 * lines 34, 36 and 47 (they are per round, and rounds only grow). The
 * proposer proposes its valid value if it has one, else asks the shell for
 * a block (CS_ACT_GET_VALUE) and proposes when CS_EV_VALUE answers; every
 * other validator schedules timeoutPropose.
 *
 * Resuming (CS_EV_START after consensus_open with a durable state). The
 * durable state is persisted in every step that signs, before the signature
 * is released, and (height, round, step) only grow; so the restored state is
 * at or after the position of everything signed before the crash. The core
 * resumes the restored round without replaying it:
 *   - at step propose it runs StartRound for that round. A proposer that
 *     signed a proposal there and stayed at step propose proposed its valid
 *     value (a fresh value is prevoted in the same step, which persists step
 *     prevote), and the valid value is part of the restored state: the
 *     proposal is the same message again, which the shell's signer accepts.
 *   - at step prevote or precommit it signs nothing of that step again:
 *     the next vote it can sign is at a later step or round than any it
 *     signed. It acts as if line 47 had fired: timeoutPrecommit is
 *     scheduled, and unless the round ends sooner by the rules, line 65
 *     starts the next one. The votes it had counted were lost in the crash
 *     and may never come again (the shell re-sends only each validator's
 *     last signed message; after a restart of several validators nobody
 *     may hold the rest), so without a timer the round could never end.
 *     Ending the round, rather than timing out the step, signs nothing more
 *     in it, so the vote the shell keeps re-sending for this validator stays
 *     the one the others may be missing. This is the one place the core
 *     departs from the paper's guards (the paper has no crash-recovery); it
 *     is safe because starting a later round never makes anyone lock or
 *     decide, and line 65 may fire at any step.
 *
 * Invariants: round only grows within a height; StartRound is the only
 * place that sets the step back to propose.
 */
#include "consensus_internal.h"
#include "hansa/assert.h"

void consensus_start_round(struct consensus *cs, uint32_t round)
{
    HANSA_ASSERT(round <= CS_ROUND_MAX);
    cs->round = round; /* line 12 */
    cs->step = CS_STEP_PROPOSE;
    cs->prevote_timeout_done = false;
    cs->polka_done = false;
    cs->precommit_timeout_done = false;
    cs->awaiting_value = false;
    if (consensus_proposer(cs, cs->height, round) != cs->p.self) {
        consensus_schedule_timeout(cs, CS_STEP_PROPOSE); /* line 21 */
        return;
    }
    if (cs->valid_round >= 0) {
        consensus_propose(cs, cs->valid_hash, cs->valid_round); /* lines 15-16 */
        return;
    }
    /* Line 18: getValue(), answered by CS_EV_VALUE. */
    cs->awaiting_value = true;
    struct cs_action a = {.kind = CS_ACT_GET_VALUE};
    a.get_value.height = cs->height;
    a.get_value.round = round;
    consensus_emit(cs, &a);
}

void consensus_on_start(struct consensus *cs)
{
    if (cs->started)
        return;
    cs->started = true;
    if (cs->step == CS_STEP_PROPOSE) {
        consensus_start_round(cs, cs->round);
        return;
    }
    cs->precommit_timeout_done = true; /* as if line 47 had fired */
    consensus_schedule_timeout(cs, CS_STEP_PRECOMMIT);
}

/* Line 55: f+1 distinct validators sent messages of (h, r') with r' > round:
 * StartRound(r'). The highest such round is taken, so one skip suffices. */
bool consensus_rule_round_skip(struct consensus *cs)
{
    for (uint32_t r = cs->book.n_rounds; r > cs->round + 1u; r--) {
        uint32_t candidate = r - 1u;
        if (consensus_book_senders(&cs->book, candidate) >= cs->weak_quorum) {
            HANSA_ASSERT(candidate > cs->round);
            consensus_start_round(cs, candidate);
            return true;
        }
    }
    return false;
}
