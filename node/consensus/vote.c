/*
 * Receiving a vote (CS_EV_VOTE): admission to the book and equivocation.
 *
 * The shell has checked the signature and that the voter is a validator of
 * the height; the core still bounds everything it keeps, without trusting
 * the event:
 *   - votes of another height are dropped (the book is per height; a
 *     validator that falls behind catches up with committed blocks);
 *   - votes of rounds beyond round + CS_FUTURE_ROUNDS_MAX are dropped, so a
 *     peer cannot make the book grow; earlier rounds are kept (lines 28, 49);
 *   - an unknown type, a validator index out of the set, or signed bytes
 *     longer than CS_SIGNED_VOTE_BYTES_MAX are dropped.
 *
 * Equivocation: a validator's vote with a value it already voted for in
 * that round and type is a duplicate (ignored). One with another value (nil
 * counts as a value) is reported, the first time, as CS_ACT_EVIDENCE with
 * the validator's first vote and the new one; it is also kept and counted
 * toward its own value, up to CS_VOTE_VALUES_MAX values per validator (see
 * consensus_internal.h: the paper counts every message received, and
 * counting only the first vote lets an equivocator split the correct
 * validators' views for ever). Counting both is safe while at most f
 * validators are faulty: two quorums for different values of one round
 * would need a correct validator in both.
 *
 * The rules that votes enable run afterwards, in consensus.c's loop.
 */
#include <stdlib.h>
#include <string.h>

#include "consensus_internal.h"
#include "hansa/assert.h"

static bool vote_admissible(const struct consensus *cs, const struct cs_vote *v)
{
    if (v->height != cs->height)
        return false;
    if ((uint64_t)v->round > (uint64_t)cs->round + CS_FUTURE_ROUNDS_MAX)
        return false;
    if (v->type != CS_PREVOTE && v->type != CS_PRECOMMIT)
        return false;
    if (v->validator >= cs->p.n_validators)
        return false;
    if (v->signed_len > CS_SIGNED_VOTE_BYTES_MAX || (v->signed_len > 0 && v->signed_bytes == NULL))
        return false;
    return true;
}

static void report_equivocation(struct consensus *cs, struct cs_voter *voter,
                                const struct cs_vote *v)
{
    if (voter->evidence_sent)
        return;
    voter->evidence_sent = true;
    if (v->signed_len > 0)
        memcpy(cs->evidence_bytes, v->signed_bytes, v->signed_len);
    struct cs_action a = {.kind = CS_ACT_EVIDENCE};
    a.evidence.vote_a = voter->kept[0].bytes;
    a.evidence.len_a = voter->kept[0].len;
    a.evidence.vote_b = cs->evidence_bytes;
    a.evidence.len_b = v->signed_len;
    a.evidence.validator = v->validator;
    consensus_emit(cs, &a);
}

/* Keep v among the voter's votes; nothing when the voter is full or out of
 * memory (then the vote is as if never received: only liveness can
 * suffer). */
static void keep(struct cs_voter *voter, const struct cs_vote *v)
{
    if (voter->n_kept == CS_VOTE_VALUES_MAX)
        return;
    uint8_t *copy = NULL;
    if (v->signed_len > 0) {
        copy = malloc(v->signed_len);
        if (copy == NULL)
            return;
        memcpy(copy, v->signed_bytes, v->signed_len);
    }
    struct cs_kept_vote *k = &voter->kept[voter->n_kept++];
    k->value = v->value.nil ? consensus_value_nil() : consensus_value_of(v->value.hash);
    k->bytes = copy;
    k->len = v->signed_len;
}

/* Some kept proposal of this height carries hash. */
static bool proposed(const struct consensus *cs, const uint8_t *hash)
{
    for (uint32_t r = 0; r < cs->book.n_rounds; r++) {
        const struct cs_round *slot = consensus_book_round(&cs->book, r);
        if (slot != NULL && slot->has_proposal &&
            memcmp(slot->proposal.hash, hash, CS_HASH_BYTES) == 0)
            return true;
    }
    return false;
}

/* Drop one kept vote (never the first) for a value no rule can count. */
static void evict_junk(const struct consensus *cs, struct cs_voter *voter)
{
    for (uint32_t i = 1; i < voter->n_kept; i++) {
        struct cs_kept_vote *k = &voter->kept[i];
        if (k->value.nil || proposed(cs, k->value.hash))
            continue;
        free(k->bytes);
        memmove(k, k + 1, (voter->n_kept - i - 1) * sizeof *k);
        voter->n_kept--;
        return;
    }
}

void consensus_on_vote(struct consensus *cs, const struct cs_vote *v)
{
    if (!vote_admissible(cs, v))
        return;
    struct cs_round *slot = consensus_book_round_get(&cs->book, v->round);
    if (slot == NULL)
        return;
    struct cs_voter *voter = consensus_book_voter(slot, cs->p.n_validators, v->type, v->validator);
    if (consensus_book_vote_for(voter, &v->value) != NULL)
        return; /* a duplicate */
    if (voter->n_kept > 0)
        report_equivocation(cs, voter, v);
    if (voter->n_kept == CS_VOTE_VALUES_MAX && (v->value.nil || proposed(cs, v->value.hash)))
        evict_junk(cs, voter);
    keep(voter, v);
}
