/*
 * node/consensus: Tendermint (Buchman, Kwon, Milosevic, "The latest gossip
 * on BFT consensus", 2018, Algorithm 1) as a pure state machine.
 *
 *     consensus_step(cs, event) -> actions
 *
 * The core does no IO, reads no clock and draws no randomness. Events bring
 * everything in (verified messages, fired timeouts, completed persists,
 * built blocks); actions ask the shell (node/node.c, or the simulator in
 * tests/sim) to do everything out (persist, sign and broadcast, schedule a
 * timeout, build a block, decide, report evidence). Given the same events
 * in the same order, the core emits the same actions: the simulator relies
 * on this to replay a run from its seed.
 *
 * What the shell guarantees before an event reaches the core:
 *   - proposals and votes carry a valid signature of a validator of the set
 *     at that height, and name the right chain; a proposal comes from the
 *     proposer of its (height, round);
 *   - CS_EV_PROPOSAL.valid says whether the proposed block is valid(v) in
 *     the paper's sense (header, transactions, execution);
 *   - the shell feeds this validator's own signed votes back as CS_EV_VOTE
 *     events (the core never holds a key; it counts its own vote like any
 *     other);
 *   - actions are carried out in the order emitted.
 *
 * Never signing twice. The core emits CS_ACT_PERSIST with its durable state
 * (cs_durable: height, round, step, lock, valid value) and holds every
 * sign-and-broadcast action of that step until CS_EV_PERSISTED with the same
 * sequence number arrives (sequence numbers restart at 1 with each core: a
 * shell drops PERSISTED events meant for a core it replaced). The shell
 * additionally refuses to sign a second, different message for one
 * height/round/step (node.c keeps the signed bytes, synced, and re-sends
 * them): a restarted validator resumes from cs_durable.
 *
 * Evidence. Two different votes of one validator for one height, round and
 * type produce CS_ACT_EVIDENCE with both signed votes (the first received
 * and the conflicting one). Both still count, each for its own value, as in
 * the paper and CometBFT's vote sets: counting only the first could hide a
 * polka some correct validators saw and stall them (simulator, seed 9). At
 * most CS_VOTE_VALUES_MAX values are kept per validator, round and type.
 *
 * Restart. At a restored prevote or precommit step the core signs nothing
 * more in that round and schedules timeoutPrecommit, as if line 47 had
 * fired: the other validators' votes of that round are gone with the crash,
 * and the shell re-sends only this node's last signed message.
 *
 * Bounds: votes are kept for the current height only (all its rounds so far,
 * which lines 28 and 49 need, and rounds up to round + CS_FUTURE_ROUNDS_MAX;
 * later rounds are dropped: a peer cannot make the core allocate without
 * bound); at most CS_VALIDATORS_MAX validators.
 */
#ifndef HANSA_CONSENSUS_H
#define HANSA_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hansa/error.h"

#define CS_HASH_BYTES 32u
/* The ValidatorSet bound of hansa.proto. */
#define CS_VALIDATORS_MAX 64u
/* Rounds ahead of the current one whose messages are kept: enough for the
 * f+1 round skip (line 55) to find a live round after a long partition,
 * while bounding what a peer can make the core keep. */
#define CS_FUTURE_ROUNDS_MAX 16u
/* Actions one event can produce (a decision with its commit, a new round's
 * persist, proposal, timeout, ...). */
#define CS_ACTIONS_MAX 16u
/* Encoded SignedVote bytes the core keeps per vote (commit and evidence). */
#define CS_SIGNED_VOTE_BYTES_MAX 1200u

enum cs_vote_type { CS_PREVOTE = 1, CS_PRECOMMIT = 2 };
enum cs_step { CS_STEP_PROPOSE = 1, CS_STEP_PREVOTE = 2, CS_STEP_PRECOMMIT = 3 };

/* A block id: its hash. nil is represented by cs_value.nil. */
struct cs_value {
    bool nil;
    uint8_t hash[CS_HASH_BYTES];
};

struct cs_vote {
    enum cs_vote_type type;
    uint64_t height;
    uint32_t round;
    struct cs_value value;
    uint32_t validator; /* index in the validator set */
    /* The encoded SignedVote, opaque to the core; copied when kept. */
    const uint8_t *signed_bytes;
    size_t signed_len;
};

struct cs_proposal {
    uint64_t height;
    uint32_t round;
    int32_t valid_round; /* -1: none (the paper's vr) */
    uint8_t hash[CS_HASH_BYTES];
    bool valid; /* valid(v), decided by the shell */
};

/* Timeouts grow linearly with the round (paper, section 3). */
struct cs_params {
    uint32_t n_validators; /* equal voting power; proposer = (height + round) % n */
    uint32_t self;         /* this validator's index; UINT32_MAX = observer (never signs) */
    uint32_t propose_base_ms, propose_delta_ms;
    uint32_t prevote_base_ms, prevote_delta_ms;
    uint32_t precommit_base_ms, precommit_delta_ms;
};

/* What must survive a crash (written by CS_ACT_PERSIST, synced). */
struct cs_durable {
    uint64_t height;
    uint32_t round;
    enum cs_step step;
    int32_t locked_round; /* -1: none */
    uint8_t locked_hash[CS_HASH_BYTES];
    int32_t valid_round; /* -1: none */
    uint8_t valid_hash[CS_HASH_BYTES];
};

enum cs_event_kind {
    CS_EV_START,     /* begin consensus at durable.height (first event after open) */
    CS_EV_PROPOSAL,  /* .proposal */
    CS_EV_VOTE,      /* .vote */
    CS_EV_TIMEOUT,   /* .timeout: a timeout scheduled earlier fired */
    CS_EV_PERSISTED, /* .persisted_seq: the CS_ACT_PERSIST of that number is on disk */
    CS_EV_VALUE,     /* .value: the block built for a CS_ACT_GET_VALUE */
};

struct cs_event {
    enum cs_event_kind kind;
    union {
        struct cs_proposal proposal;
        struct cs_vote vote;
        struct {
            uint64_t height;
            uint32_t round;
            enum cs_step step;
        } timeout;
        uint64_t persisted_seq;
        struct {
            uint64_t height;
            uint32_t round;
            uint8_t hash[CS_HASH_BYTES];
        } value;
    };
};

enum cs_action_kind {
    CS_ACT_PERSIST,          /* .persist: write synced, then send CS_EV_PERSISTED(seq) */
    CS_ACT_PROPOSE,          /* .propose: sign and broadcast this proposal with its block */
    CS_ACT_VOTE,             /* .vote: sign, broadcast, and feed back as CS_EV_VOTE */
    CS_ACT_SCHEDULE_TIMEOUT, /* .timeout: deliver CS_EV_TIMEOUT after delay_ms */
    CS_ACT_GET_VALUE,        /* .get_value: build a block, answer with CS_EV_VALUE */
    CS_ACT_DECIDE,           /* .decide: commit this block; the core moves to height + 1 */
    CS_ACT_EVIDENCE,         /* .evidence: two conflicting signed votes */
};

struct cs_action {
    enum cs_action_kind kind;
    union {
        struct {
            uint64_t seq;
            struct cs_durable state;
        } persist;
        struct {
            uint64_t height;
            uint32_t round;
            int32_t valid_round;
            uint8_t hash[CS_HASH_BYTES];
        } propose;
        struct {
            enum cs_vote_type type;
            uint64_t height;
            uint32_t round;
            struct cs_value value;
        } vote;
        struct {
            uint64_t height;
            uint32_t round;
            enum cs_step step;
            uint32_t delay_ms;
        } timeout;
        struct {
            uint64_t height;
            uint32_t round;
        } get_value;
        struct {
            uint64_t height;
            uint32_t round;
            uint8_t hash[CS_HASH_BYTES];
            /* The signed precommits for hash at round (2f+1 or more); they
             * point into the core and stay valid until the next step call. */
            const uint8_t *precommits[CS_VALIDATORS_MAX];
            size_t precommit_lens[CS_VALIDATORS_MAX];
            uint32_t n_precommits;
        } decide;
        struct {
            const uint8_t *vote_a, *vote_b; /* valid until the next step call */
            size_t len_a, len_b;
            uint32_t validator;
        } evidence;
    };
};

struct cs_actions {
    struct cs_action items[CS_ACTIONS_MAX];
    size_t n;
};

struct consensus;

/* 2f+1 and f+1 for n equal validators: quorum = floor(2n/3) + 1. */
uint32_t consensus_quorum(uint32_t n_validators);
uint32_t consensus_weak_quorum(uint32_t n_validators);

/* A core at state (height from the last committed block + 1, round 0, no
 * lock) or at a restored durable state. HANSA_EINVAL for bad params. */
HANSA_MUST_USE hansa_err consensus_open(const struct cs_params *p, const struct cs_durable *start,
                                        struct consensus **out);
void consensus_close(struct consensus *cs);

/* Feed one event; out receives the actions, in the order to carry out. */
void consensus_step(struct consensus *cs, const struct cs_event *ev, struct cs_actions *out);

/* Read-only views for status, tests and the simulator's checkers. */
void consensus_durable(const struct consensus *cs, struct cs_durable *out);
uint32_t consensus_proposer(const struct consensus *cs, uint64_t height, uint32_t round);
/* The signed prevotes the core holds for hash at round of its height, at
 * most one per validator, into bytes/lens (at most max; they point into the
 * core and stay valid until the next step call); returns how many. With
 * 2f+1 of them this is the proof of a lock ("POL") that lets others accept
 * a re-proposal at that valid round (line 28): the shell persists it with
 * the durable state and sends it with such a proposal, since after a
 * restart of every validator nobody else holds it. */
uint32_t consensus_pol(const struct consensus *cs, uint32_t round,
                       const uint8_t hash[CS_HASH_BYTES], const uint8_t **bytes, size_t *lens,
                       uint32_t max);

#endif
