/*
 * Signing and persistence: no proposal or vote leaves the core before the
 * state that covers it is on disk (DESIGN.md §4, "Never double-sign").
 *
 * A rule that decides to sign queues the CS_ACT_PROPOSE or CS_ACT_VOTE
 * instead of emitting it. At the end of a step in which something was
 * queued, the core emits one CS_ACT_PERSIST with the next sequence number
 * and its durable state as it is then; the queued actions carry that
 * number and are emitted, in the order queued, by the CS_EV_PERSISTED that
 * names it (or a later one). Persisting the end-of-step state is enough:
 * within a step (height, round, step) only grow, and every rule that signs
 * moves the step to the position it signed in or further (a proposal is
 * signed at step propose, a prevote moves to prevote, a precommit to
 * precommit), so the persisted position is at or after every position
 * signed in the step. After a crash the core restarts there (round.c).
 *
 * Bounds: the queue holds CS_PENDING_MAX actions. A shell that persists
 * keeps it at a few; if it is full the new message is not signed at all,
 * which can cost liveness, never safety (not voting is always safe).
 *
 * Invariants:
 *   1. pending[] is ordered by sequence number and by position.
 *   2. An observer queues nothing and so never persists.
 *   3. Every queued sequence number is at most persist_seq + 1, and equals
 *      it only during the step that queued it.
 */
#include <string.h>

#include "consensus_internal.h"
#include "hansa/assert.h"

bool consensus_is_observer(const struct consensus *cs)
{
    return cs->p.self == CS_OBSERVER;
}

bool consensus_sign(struct consensus *cs, const struct cs_action *a)
{
    HANSA_ASSERT(a->kind == CS_ACT_PROPOSE || a->kind == CS_ACT_VOTE);
    if (consensus_is_observer(cs) || cs->n_pending == CS_PENDING_MAX)
        return false;
    cs->pending[cs->n_pending].seq = cs->persist_seq + 1u;
    cs->pending[cs->n_pending].action = *a;
    cs->n_pending++;
    cs->signed_this_step = true;
    return true;
}

void consensus_sign_vote(struct consensus *cs, enum cs_vote_type type, const struct cs_value *value)
{
    struct cs_action a = {.kind = CS_ACT_VOTE};
    a.vote.type = type;
    a.vote.height = cs->height;
    a.vote.round = cs->round;
    a.vote.value = value->nil ? consensus_value_nil() : *value;
    (void)consensus_sign(cs, &a);
}

void consensus_persist_if_signed(struct consensus *cs)
{
    if (!cs->signed_this_step)
        return;
    HANSA_ASSERT(!consensus_is_observer(cs));
    cs->persist_seq++;
    struct cs_action a = {.kind = CS_ACT_PERSIST};
    a.persist.seq = cs->persist_seq;
    consensus_durable(cs, &a.persist.state);
    consensus_emit(cs, &a);
    cs->signed_this_step = false;
}

void consensus_on_persisted(struct consensus *cs, uint64_t seq)
{
    /* A number beyond the last persist releases what is queued: all of it
     * belongs to persists already emitted (invariant 3). */
    size_t released = 0;
    while (released < cs->n_pending && cs->pending[released].seq <= seq) {
        consensus_emit(cs, &cs->pending[released].action);
        released++;
    }
    memmove(cs->pending, cs->pending + released,
            (cs->n_pending - released) * sizeof(cs->pending[0]));
    cs->n_pending -= released;
}
