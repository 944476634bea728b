/*
 * The vote book: every proposal and vote the core keeps for the current
 * height, by round, and the tallies the rules ask for.
 *
 * A round's slot is allocated when its first message arrives and holds the
 * round's proposal and, per (type, validator), the votes received: the
 * first, and for an equivocator up to CS_VOTE_VALUES_MAX - 1 more with
 * other values.
 * The slot array grows to the highest round seen; the callers (vote.c,
 * proposal.c) admit nothing beyond round + CS_FUTURE_ROUNDS_MAX, so a peer
 * cannot make the book grow, and past rounds of the height stay because
 * lines 28 (a polka at an earlier valid round) and 49 (a decision in any
 * round) read them. The book is dropped as a whole when the height is
 * decided.
 *
 * Tallies are counted on demand: at most CS_VALIDATORS_MAX x
 * CS_VOTE_VALUES_MAX entries per (round, type), cheaper than keeping
 * counters consistent.
 *
 * Invariants:
 *   1. rounds[r] for r < n_rounds <= cap_rounds is NULL or a slot with
 *      2 x n_validators voters; rounds[r] for r >= n_rounds is NULL.
 *   2. A kept vote's bytes are owned by the book (freed with it).
 *   3. A voter's kept votes have pairwise different values, so a validator
 *      counts at most once per (round, type, value), and once toward
 *      "anything".
 */
#include <stdlib.h>
#include <string.h>

#include "consensus_internal.h"
#include "hansa/assert.h"

void consensus_book_init(struct cs_book *b, uint32_t n_validators)
{
    HANSA_ASSERT(n_validators >= 1 && n_validators <= CS_VALIDATORS_MAX);
    b->n_validators = n_validators;
    b->n_rounds = 0;
    b->cap_rounds = 0;
    b->rounds = NULL;
}

static void slot_free(struct cs_round *slot, uint32_t n_validators)
{
    if (slot == NULL)
        return;
    for (uint32_t i = 0; i < 2u * n_validators; i++)
        for (uint32_t k = 0; k < slot->voters[i].n_kept; k++)
            free(slot->voters[i].kept[k].bytes);
    free(slot);
}

void consensus_book_free(struct cs_book *b)
{
    for (uint32_t r = 0; r < b->n_rounds; r++)
        slot_free(b->rounds[r], b->n_validators);
    free(b->rounds);
    b->rounds = NULL;
    b->n_rounds = 0;
    b->cap_rounds = 0;
}

const struct cs_round *consensus_book_round(const struct cs_book *b, uint32_t round)
{
    return round < b->n_rounds ? b->rounds[round] : NULL;
}

/* Make rounds[round] addressable: n_rounds becomes at least round + 1;
 * the array's capacity doubles so that growing round by round is cheap. */
static bool book_reserve(struct cs_book *b, uint32_t round)
{
    if (round < b->n_rounds)
        return true;
    if (round >= b->cap_rounds) {
        uint64_t cap = (uint64_t)b->cap_rounds * 2u;
        if (cap < (uint64_t)round + 1u)
            cap = (uint64_t)round + 1u;
        if (cap < 8u)
            cap = 8u;
        struct cs_round **grown = realloc(b->rounds, (size_t)cap * sizeof(*grown));
        if (grown == NULL)
            return false;
        memset(grown + b->cap_rounds, 0, (size_t)(cap - b->cap_rounds) * sizeof(*grown));
        b->rounds = grown;
        b->cap_rounds = (uint32_t)cap;
    }
    b->n_rounds = round + 1u;
    HANSA_ASSERT(b->n_rounds <= b->cap_rounds);
    return true;
}

struct cs_round *consensus_book_round_get(struct cs_book *b, uint32_t round)
{
    if (!book_reserve(b, round))
        return NULL;
    if (b->rounds[round] == NULL) {
        size_t voters = 2u * (size_t)b->n_validators;
        b->rounds[round] = calloc(1, sizeof(struct cs_round) + voters * sizeof(struct cs_voter));
    }
    return b->rounds[round];
}

struct cs_voter *consensus_book_voter(struct cs_round *slot, uint32_t n_validators,
                                      enum cs_vote_type type, uint32_t validator)
{
    HANSA_ASSERT(type == CS_PREVOTE || type == CS_PRECOMMIT);
    HANSA_ASSERT(validator < n_validators);
    return &slot->voters[((size_t)type - 1u) * n_validators + validator];
}

const struct cs_voter *consensus_book_voter_c(const struct cs_round *slot, uint32_t n_validators,
                                              enum cs_vote_type type, uint32_t validator)
{
    HANSA_ASSERT(type == CS_PREVOTE || type == CS_PRECOMMIT);
    HANSA_ASSERT(validator < n_validators);
    return &slot->voters[((size_t)type - 1u) * n_validators + validator];
}

const struct cs_kept_vote *consensus_book_vote_for(const struct cs_voter *voter,
                                                   const struct cs_value *value)
{
    HANSA_ASSERT(voter->n_kept <= CS_VOTE_VALUES_MAX);
    for (uint32_t k = 0; k < voter->n_kept; k++)
        if (consensus_value_eq(&voter->kept[k].value, value))
            return &voter->kept[k];
    return NULL;
}

uint32_t consensus_book_count(const struct cs_book *b, uint32_t round, enum cs_vote_type type,
                              const struct cs_value *value)
{
    const struct cs_round *slot = consensus_book_round(b, round);
    if (slot == NULL)
        return 0;
    uint32_t n = 0;
    for (uint32_t v = 0; v < b->n_validators; v++) {
        const struct cs_voter *voter = consensus_book_voter_c(slot, b->n_validators, type, v);
        bool counts =
            value == NULL ? voter->n_kept > 0 : consensus_book_vote_for(voter, value) != NULL;
        if (counts)
            n++;
    }
    HANSA_ASSERT(n <= b->n_validators);
    return n;
}

uint32_t consensus_book_senders(const struct cs_book *b, uint32_t round)
{
    const struct cs_round *slot = consensus_book_round(b, round);
    if (slot == NULL)
        return 0;
    uint32_t n = 0;
    for (uint32_t v = 0; v < b->n_validators; v++) {
        bool sent = (slot->has_proposal && slot->proposer == v) ||
                    consensus_book_voter_c(slot, b->n_validators, CS_PREVOTE, v)->n_kept > 0 ||
                    consensus_book_voter_c(slot, b->n_validators, CS_PRECOMMIT, v)->n_kept > 0;
        if (sent)
            n++;
    }
    return n;
}
