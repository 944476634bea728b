/*
 * node/consensus internals: the state of one core and the functions its
 * files share. Nothing here is part of the contract of consensus.h.
 *
 * Files, one per concern of Algorithm 1:
 *   consensus.c  open/close, the step dispatch, the "upon" loop, quorums
 *   round.c      StartRound (line 11), the start event, the round skip (55)
 *   proposal.c   proposals and values: receiving, proposing, lines 22 and 28
 *   vote.c       receiving a vote, equivocation evidence
 *   book.c       the vote book: messages per round, tallies
 *   prevote.c    the rules on prevotes: lines 34, 36 and 44
 *   decide.c     the rules on precommits: lines 47 and 49
 *   timeout.c    scheduling timeouts and lines 57, 61 and 65
 *   sign.c       the sign queue, the durable state and its persistence
 *
 * Invariants of struct consensus (checked in consensus_check):
 *   1. round <= CS_ROUND_MAX; step is PROPOSE, PREVOTE or PRECOMMIT.
 *   2. -1 <= locked_round <= valid_round <= round: a lock is taken together
 *      with a valid value of the same round (line 36), and the valid value
 *      only moves to later rounds.
 *   3. The book holds messages of `height` only, of rounds at most
 *      round + CS_FUTURE_ROUNDS_MAX.
 *   4. Every queued sign action has the sequence number of a CS_ACT_PERSIST
 *      already emitted, or of the one the current step will emit; actions
 *      are queued in the order of their positions (height, round, step), so
 *      the shell's signer never sees a position go backwards.
 *   5. An observer (self == UINT32_MAX) never queues a sign action.
 */
#ifndef HANSA_CONSENSUS_INTERNAL_H
#define HANSA_CONSENSUS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus.h"

/* The highest round the core enters or keeps messages of: valid rounds are
 * int32 on the wire (Proposal.pol_round) and round + CS_FUTURE_ROUNDS_MAX
 * must not overflow. No honest run comes near it (timeouts grow with the
 * round). */
#define CS_ROUND_MAX ((uint32_t)INT32_MAX - CS_FUTURE_ROUNDS_MAX)

/* Sign actions waiting for their persist. One step queues at most three
 * (proposal, prevote, precommit); the shell answers every persist, so the
 * queue holds a few. Bounded by CS_ACTIONS_MAX so that one CS_EV_PERSISTED
 * can release all of them. */
#define CS_PENDING_MAX CS_ACTIONS_MAX

#define CS_OBSERVER UINT32_MAX

/* Distinct votes kept per validator, round and type. A correct validator
 * sends one; an equivocator is counted for each value it voted for (the
 * paper counts messages received, and that is what lets every correct
 * validator eventually see the same quorums: a polka that one of them saw,
 * through an equivocator's vote, must be visible to the others once the
 * vote is relayed). Bounded so that an equivocator cannot make the book
 * grow: a vote beyond the bound is dropped, which only an equivocator that
 * was already reported can cause, and which costs at most liveness. */
#define CS_VOTE_VALUES_MAX 4u

/* One signed vote as received. */
struct cs_kept_vote {
    struct cs_value value;
    uint8_t *bytes; /* owned copy of the signed vote; NULL when len is 0 */
    size_t len;
};

/* What one validator sent of one type in one round: kept[0] is the first
 * vote, later ones have other values. */
struct cs_voter {
    uint32_t n_kept;
    bool evidence_sent; /* an equivocation was reported once */
    struct cs_kept_vote kept[CS_VOTE_VALUES_MAX];
};

/* Everything received for one round of the current height. */
struct cs_round {
    bool has_proposal;
    struct cs_proposal proposal; /* the first one from the round's proposer */
    uint32_t proposer;
    /* voters[(type - 1) * n_validators + validator] */
    struct cs_voter voters[];
};

/* The messages of one height, by round. rounds[r] is NULL until something
 * of round r arrives. */
struct cs_book {
    uint32_t n_validators;
    uint32_t n_rounds;   /* highest round with a slot + 1 */
    uint32_t cap_rounds; /* entries allocated in rounds[] */
    struct cs_round **rounds;
};

struct cs_pending {
    uint64_t seq; /* released by CS_EV_PERSISTED with this or a later number */
    struct cs_action action;
};

struct consensus {
    struct cs_params p;
    uint32_t quorum;      /* 2f+1 */
    uint32_t weak_quorum; /* f+1 */
    bool started;         /* CS_EV_START seen; no rule runs before it */

    /* Algorithm 1, lines 2-8 (decision is implicit: deciding moves on). */
    uint64_t height;
    uint32_t round;
    enum cs_step step;
    int32_t locked_round;
    uint8_t locked_hash[CS_HASH_BYTES];
    int32_t valid_round;
    uint8_t valid_hash[CS_HASH_BYTES];

    /* "for the first time" flags of the current round, reset by StartRound. */
    bool prevote_timeout_done;   /* line 34 */
    bool polka_done;             /* line 36 */
    bool precommit_timeout_done; /* line 47 */
    /* The proposer asked for a value (line 18) and waits for CS_EV_VALUE. */
    bool awaiting_value;

    struct cs_book book;
    /* The previous height's book after a decision: the CS_ACT_DECIDE and
     * CS_ACT_EVIDENCE pointers into it stay valid until the next step. */
    struct cs_book retired;
    /* The second vote of an equivocation, copied: the event's bytes belong
     * to the caller. */
    uint8_t evidence_bytes[CS_SIGNED_VOTE_BYTES_MAX];

    /* Persistence (sign.c). */
    uint64_t persist_seq;  /* number of the last CS_ACT_PERSIST emitted */
    bool signed_this_step; /* a persist is due at the end of this step */
    struct cs_pending pending[CS_PENDING_MAX];
    size_t n_pending;

    /* The caller's action list, set for the duration of consensus_step. */
    struct cs_actions *out;
};

/* consensus.c */
void consensus_emit(struct consensus *cs, const struct cs_action *a);
bool consensus_value_eq(const struct cs_value *a, const struct cs_value *b);
struct cs_value consensus_value_of(const uint8_t hash[CS_HASH_BYTES]);
struct cs_value consensus_value_nil(void);

/* round.c */
void consensus_start_round(struct consensus *cs, uint32_t round);
void consensus_on_start(struct consensus *cs);
bool consensus_rule_round_skip(struct consensus *cs);

/* proposal.c */
void consensus_on_proposal(struct consensus *cs, const struct cs_proposal *pr);
void consensus_on_value(struct consensus *cs, uint64_t height, uint32_t round,
                        const uint8_t hash[CS_HASH_BYTES]);
void consensus_propose(struct consensus *cs, const uint8_t hash[CS_HASH_BYTES],
                       int32_t valid_round);
bool consensus_rule_proposal(struct consensus *cs);

/* vote.c */
void consensus_on_vote(struct consensus *cs, const struct cs_vote *v);

/* book.c */
void consensus_book_init(struct cs_book *b, uint32_t n_validators);
void consensus_book_free(struct cs_book *b);
const struct cs_round *consensus_book_round(const struct cs_book *b, uint32_t round);
/* The round's slot, allocated on first use; NULL when out of memory. */
struct cs_round *consensus_book_round_get(struct cs_book *b, uint32_t round);
struct cs_voter *consensus_book_voter(struct cs_round *slot, uint32_t n_validators,
                                      enum cs_vote_type type, uint32_t validator);
const struct cs_voter *consensus_book_voter_c(const struct cs_round *slot, uint32_t n_validators,
                                              enum cs_vote_type type, uint32_t validator);
/* The voter's vote for value, or NULL. */
const struct cs_kept_vote *consensus_book_vote_for(const struct cs_voter *voter,
                                                   const struct cs_value *value);
/* Validators with a vote of type in round for value; value NULL counts
 * validators with a vote for anything (each once). */
uint32_t consensus_book_count(const struct cs_book *b, uint32_t round, enum cs_vote_type type,
                              const struct cs_value *value);
/* Distinct validators with any message (proposal, prevote, precommit) in
 * round: the "f+1 messages" of line 55. */
uint32_t consensus_book_senders(const struct cs_book *b, uint32_t round);

/* prevote.c */
bool consensus_rule_prevote_any(struct consensus *cs);
bool consensus_rule_polka(struct consensus *cs);
bool consensus_rule_polka_nil(struct consensus *cs);

/* decide.c */
bool consensus_rule_precommit_any(struct consensus *cs);
bool consensus_rule_decide(struct consensus *cs);

/* timeout.c */
void consensus_schedule_timeout(struct consensus *cs, enum cs_step step);
void consensus_on_timeout(struct consensus *cs, uint64_t height, uint32_t round, enum cs_step step);

/* sign.c */
bool consensus_is_observer(const struct consensus *cs);
/* Queue a sign action of the current step; false when it was not queued
 * (observer, or the queue is full: then nothing is signed). */
bool consensus_sign(struct consensus *cs, const struct cs_action *a);
void consensus_sign_vote(struct consensus *cs, enum cs_vote_type type,
                         const struct cs_value *value);
void consensus_persist_if_signed(struct consensus *cs);
void consensus_on_persisted(struct consensus *cs, uint64_t seq);

#endif
