/*
 * Timeouts: scheduling them (CS_ACT_SCHEDULE_TIMEOUT) and what happens when
 * one fires (Alg. 1, lines 57-66).
 *
 * The delay grows linearly with the round (paper, section 3: after GST the
 * timeouts eventually exceed the message delay): base + round x delta of the
 * step's parameters, computed in 64 bits and capped at UINT32_MAX ms.
 *
 * A timeout carries the (height, round, step) it was scheduled for and acts
 * only if the core is still there, so a late or stale timeout (another
 * height, an earlier round, a step already left) does nothing:
 *   line 57  OnTimeoutPropose(h, r):   at (h, r, propose): prevote nil;
 *   line 61  OnTimeoutPrevote(h, r):   at (h, r, prevote): precommit nil;
 *   line 65  OnTimeoutPrecommit(h, r): at (h, r), any step: StartRound(r+1).
 */
#include "consensus_internal.h"
#include "hansa/assert.h"

static uint32_t delay_ms(const struct consensus *cs, enum cs_step step)
{
    uint64_t base, delta;
    switch (step) {
    case CS_STEP_PROPOSE:
        base = cs->p.propose_base_ms;
        delta = cs->p.propose_delta_ms;
        break;
    case CS_STEP_PREVOTE:
        base = cs->p.prevote_base_ms;
        delta = cs->p.prevote_delta_ms;
        break;
    default:
        HANSA_ASSERT(step == CS_STEP_PRECOMMIT);
        base = cs->p.precommit_base_ms;
        delta = cs->p.precommit_delta_ms;
        break;
    }
    /* round <= CS_ROUND_MAX < 2^31 and delta < 2^32: no 64-bit overflow. */
    uint64_t ms = base + (uint64_t)cs->round * delta;
    return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

void consensus_schedule_timeout(struct consensus *cs, enum cs_step step)
{
    struct cs_action a = {.kind = CS_ACT_SCHEDULE_TIMEOUT};
    a.timeout.height = cs->height;
    a.timeout.round = cs->round;
    a.timeout.step = step;
    a.timeout.delay_ms = delay_ms(cs, step);
    consensus_emit(cs, &a);
}

void consensus_on_timeout(struct consensus *cs, uint64_t height, uint32_t round, enum cs_step step)
{
    if (!cs->started || height != cs->height || round != cs->round)
        return;
    struct cs_value nil = consensus_value_nil();
    switch (step) {
    case CS_STEP_PROPOSE:
        if (cs->step != CS_STEP_PROPOSE)
            return;
        consensus_sign_vote(cs, CS_PREVOTE, &nil); /* Alg. 1, line 59 */
        cs->step = CS_STEP_PREVOTE;
        cs->awaiting_value = false; /* a value arriving now is too late */
        return;
    case CS_STEP_PREVOTE:
        if (cs->step != CS_STEP_PREVOTE)
            return;
        consensus_sign_vote(cs, CS_PRECOMMIT, &nil); /* Alg. 1, line 63 */
        cs->step = CS_STEP_PRECOMMIT;
        return;
    case CS_STEP_PRECOMMIT:
        if (cs->round < CS_ROUND_MAX)
            consensus_start_round(cs, cs->round + 1u); /* Alg. 1, line 67 */
        return;
    default:
        return; /* not a step: not a timeout the core scheduled */
    }
}
