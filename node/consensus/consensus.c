/*
 * The consensus core: open and close, the step dispatch, and the loop that
 * runs the "upon" rules of Algorithm 1 until none applies.
 *
 * The paper states its rules as guarded commands that fire whenever their
 * guard holds. consensus_step first applies the event (stores a message,
 * handles a timeout, a value or a persist), then evaluates every rule in a
 * fixed order and starts over after each one that fired, until none fires:
 * after every step the core is at a fixpoint, so a rule whose guard became
 * true is never missed and the result depends only on the events, in order.
 * Order: deciding first (line 49: once a height is decided the rest of it is
 * moot), then the round skip (55), then the rules of the current round in
 * the order of the paper (22, 28, 34, 36, 44, 47).
 *
 * Each rule fires only when it changes the state (a step, a round, a height,
 * or a "first time" flag), so the loop ends: per round, the step moves
 * forward at most twice and each flag is set once, and one event moves the
 * round or the height only a few times (see CS_UPON_ITERATIONS_MAX).
 *
 * Invariants: see consensus_internal.h; consensus_check asserts them after
 * every step.
 */
#include <stdlib.h>
#include <string.h>

#include "consensus_internal.h"
#include "hansa/assert.h"

/* An event can: decide (1), skip rounds (1), time out into the next round
 * (1), and in each round reached fire at most the seven rules of one round.
 * Far more than that is a bug (a rule firing without changing the state). */
#define CS_UPON_ITERATIONS_MAX 64u

uint32_t consensus_quorum(uint32_t n_validators)
{
    return (uint32_t)(((uint64_t)n_validators * 2u) / 3u) + 1u;
}

uint32_t consensus_weak_quorum(uint32_t n_validators)
{
    /* n - quorum is the number of faults tolerated (f): any n - quorum + 1
     * validators include a correct one. (n = 0 gives 0: no set, no quorum.) */
    return n_validators - consensus_quorum(n_validators) + 1u;
}

uint32_t consensus_proposer(const struct consensus *cs, uint64_t height, uint32_t round)
{
    uint32_t n = cs->p.n_validators;
    /* (height + round) % n without overflow. */
    return (uint32_t)(((height % n) + (round % n)) % n);
}

static bool params_ok(const struct cs_params *p)
{
    if (p->n_validators < 1 || p->n_validators > CS_VALIDATORS_MAX)
        return false;
    return p->self == CS_OBSERVER || p->self < p->n_validators;
}

static bool durable_ok(const struct cs_durable *d)
{
    if (d->height == UINT64_MAX || d->round > CS_ROUND_MAX)
        return false;
    if (d->step != CS_STEP_PROPOSE && d->step != CS_STEP_PREVOTE && d->step != CS_STEP_PRECOMMIT)
        return false;
    if (d->locked_round < -1 || d->valid_round < -1)
        return false;
    /* Invariant 2 of consensus_internal.h. */
    return d->locked_round <= d->valid_round && (int64_t)d->valid_round <= (int64_t)d->round;
}

hansa_err consensus_open(const struct cs_params *p, const struct cs_durable *start,
                         struct consensus **out)
{
    if (p == NULL || start == NULL || out == NULL)
        return HANSA_EINVAL;
    *out = NULL;
    if (!params_ok(p) || !durable_ok(start))
        return HANSA_EINVAL;
    struct consensus *cs = calloc(1, sizeof(*cs));
    if (cs == NULL)
        return HANSA_ENOMEM;
    cs->p = *p;
    cs->quorum = consensus_quorum(p->n_validators);
    cs->weak_quorum = consensus_weak_quorum(p->n_validators);
    cs->height = start->height;
    cs->round = start->round;
    cs->step = start->step;
    cs->locked_round = start->locked_round;
    cs->valid_round = start->valid_round;
    if (start->locked_round >= 0)
        memcpy(cs->locked_hash, start->locked_hash, CS_HASH_BYTES);
    if (start->valid_round >= 0)
        memcpy(cs->valid_hash, start->valid_hash, CS_HASH_BYTES);
    consensus_book_init(&cs->book, p->n_validators);
    consensus_book_init(&cs->retired, p->n_validators);
    *out = cs;
    return HANSA_OK;
}

void consensus_close(struct consensus *cs)
{
    if (cs == NULL)
        return;
    consensus_book_free(&cs->book);
    consensus_book_free(&cs->retired);
    free(cs);
}

uint32_t consensus_pol(const struct consensus *cs, uint32_t round,
                       const uint8_t hash[CS_HASH_BYTES], const uint8_t **bytes, size_t *lens,
                       uint32_t max)
{
    const struct cs_round *slot = consensus_book_round(&cs->book, round);
    if (slot == NULL)
        return 0;
    struct cs_value value = {.nil = false};
    memcpy(value.hash, hash, CS_HASH_BYTES);
    uint32_t n = 0;
    for (uint32_t v = 0; v < cs->book.n_validators && n < max; v++) {
        const struct cs_kept_vote *k = consensus_book_vote_for(
            consensus_book_voter_c(slot, cs->book.n_validators, CS_PREVOTE, v), &value);
        if (k != NULL && k->len > 0) {
            bytes[n] = k->bytes;
            lens[n] = k->len;
            n++;
        }
    }
    return n;
}

void consensus_durable(const struct consensus *cs, struct cs_durable *out)
{
    memset(out, 0, sizeof(*out));
    out->height = cs->height;
    out->round = cs->round;
    out->step = cs->step;
    out->locked_round = cs->locked_round;
    out->valid_round = cs->valid_round;
    if (cs->locked_round >= 0)
        memcpy(out->locked_hash, cs->locked_hash, CS_HASH_BYTES);
    if (cs->valid_round >= 0)
        memcpy(out->valid_hash, cs->valid_hash, CS_HASH_BYTES);
}

void consensus_emit(struct consensus *cs, const struct cs_action *a)
{
    HANSA_ASSERT(cs->out != NULL);
    HANSA_ASSERT(cs->out->n < CS_ACTIONS_MAX);
    cs->out->items[cs->out->n++] = *a;
}

bool consensus_value_eq(const struct cs_value *a, const struct cs_value *b)
{
    if (a->nil || b->nil)
        return a->nil == b->nil;
    return memcmp(a->hash, b->hash, CS_HASH_BYTES) == 0;
}

struct cs_value consensus_value_of(const uint8_t hash[CS_HASH_BYTES])
{
    struct cs_value v = {.nil = false};
    memcpy(v.hash, hash, CS_HASH_BYTES);
    return v;
}

struct cs_value consensus_value_nil(void)
{
    struct cs_value v;
    memset(&v, 0, sizeof(v));
    v.nil = true;
    return v;
}

/* One pass over the rules; true when one fired (then the state changed). */
static bool upon_once(struct consensus *cs)
{
    return consensus_rule_decide(cs)           /* line 49 */
           || consensus_rule_round_skip(cs)    /* line 55 */
           || consensus_rule_proposal(cs)      /* lines 22, 28 */
           || consensus_rule_prevote_any(cs)   /* line 34 */
           || consensus_rule_polka(cs)         /* line 36 */
           || consensus_rule_polka_nil(cs)     /* line 44 */
           || consensus_rule_precommit_any(cs) /* line 47 */
        ;
}

static void upon(struct consensus *cs)
{
    unsigned iterations = 0;
    while (upon_once(cs)) {
        iterations++;
        HANSA_ASSERT(iterations < CS_UPON_ITERATIONS_MAX);
    }
}

static void consensus_check(const struct consensus *cs)
{
    HANSA_ASSERT(cs->round <= CS_ROUND_MAX);
    HANSA_ASSERT(cs->step >= CS_STEP_PROPOSE && cs->step <= CS_STEP_PRECOMMIT);
    HANSA_ASSERT(cs->locked_round >= -1 && cs->locked_round <= cs->valid_round);
    HANSA_ASSERT((int64_t)cs->valid_round <= (int64_t)cs->round);
    HANSA_ASSERT(cs->book.n_rounds <= cs->round + CS_FUTURE_ROUNDS_MAX + 1u);
    HANSA_ASSERT(cs->n_pending <= CS_PENDING_MAX);
    HANSA_ASSERT(!consensus_is_observer(cs) || cs->n_pending == 0);
}

void consensus_step(struct consensus *cs, const struct cs_event *ev, struct cs_actions *out)
{
    HANSA_ASSERT(cs != NULL && ev != NULL && out != NULL);
    out->n = 0;
    /* The pointers handed out by the previous step expire now. */
    consensus_book_free(&cs->retired);
    consensus_book_init(&cs->retired, cs->p.n_validators);
    cs->out = out;
    cs->signed_this_step = false;

    switch (ev->kind) {
    case CS_EV_START:
        consensus_on_start(cs);
        break;
    case CS_EV_PROPOSAL:
        consensus_on_proposal(cs, &ev->proposal);
        break;
    case CS_EV_VOTE:
        consensus_on_vote(cs, &ev->vote);
        break;
    case CS_EV_TIMEOUT:
        consensus_on_timeout(cs, ev->timeout.height, ev->timeout.round, ev->timeout.step);
        break;
    case CS_EV_PERSISTED:
        consensus_on_persisted(cs, ev->persisted_seq);
        break;
    case CS_EV_VALUE:
        consensus_on_value(cs, ev->value.height, ev->value.round, ev->value.hash);
        break;
    default:
        break; /* an unknown event changes nothing */
    }
    if (cs->started)
        upon(cs);
    consensus_persist_if_signed(cs);
    consensus_check(cs);
    cs->out = NULL;
}
