/*
 * EQUIVOCATION: each committed Evidence (two conflicting signed votes of
 * one validator for one height, round and type) is a CRITICAL alert, one
 * incident per validator and height. Evidence is built by hand: the engine
 * trusts committed evidence (consensus verified the signatures), so the
 * signatures here are arbitrary bytes. Without a validator set no operator
 * party is named and only regulators see the alert; with one, the
 * validator's operator is told in its role.
 */
#include <stdlib.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE "EQUIVOCATION"
#define VAL  "VAL-BANK-A"

RFX_SUITE(equivocation);

static const uint8_t HASH_X[WIRE_HASH_BYTES] = {0xab, 0xcd, 0x01};
static const uint8_t HASH_Y[WIRE_HASH_BYTES] = {0x12, 0x34, 0x02};

struct vote_spec {
    const char *validator;
    uint64_t height;
    uint32_t round;
    Hansa__VoteType type;
    const uint8_t *hash; /* NULL = nil */
};

/* Encoded Vote of s (heap, caller frees). */
static uint8_t *encode_vote(const struct vote_spec *s, size_t *len)
{
    Hansa__Vote v = HANSA__VOTE__INIT;
    v.type = s->type;
    v.height = s->height;
    v.round = s->round;
    if (s->hash != NULL)
        v.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)s->hash};
    v.validator = (char *)s->validator;
    v.chain_id = FX_CHAIN_ID;
    uint8_t *out = NULL;
    cr_assert_eq(wire_encode(&v.base, 1024, &out, len), HANSA_OK);
    return out;
}

/* An empty block carrying the evidence of votes a and b. */
static void evidence_block(const struct vote_spec *a, const struct vote_spec *b)
{
    static uint8_t sig[WIRE_SIG_BYTES] = {1};
    size_t la = 0, lb = 0;
    uint8_t *ea = encode_vote(a, &la), *eb = encode_vote(b, &lb);
    Hansa__SignedVote sa = HANSA__SIGNED_VOTE__INIT, sb = HANSA__SIGNED_VOTE__INIT;
    sa.vote = (ProtobufCBinaryData){la, ea};
    sb.vote = (ProtobufCBinaryData){lb, eb};
    sa.signature = sb.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
    Hansa__Evidence ev = HANSA__EVIDENCE__INIT;
    ev.vote_a = &sa;
    ev.vote_b = &sb;
    rfx_evidence_block(&r, &ev);
    free(ea);
    free(eb);
}

static struct vote_spec precommit(uint64_t height, uint32_t round, const uint8_t *hash)
{
    return (struct vote_spec){VAL, height, round, HANSA__VOTE_TYPE__VOTE_TYPE_PRECOMMIT, hash};
}

Test(equivocation, two_precommits_for_one_height_and_round_raise_critical_for_regulators)
{
    struct vote_spec a = precommit(42, 1, HASH_X), b = precommit(42, 1, NULL);
    evidence_block(&a, &b);
    Hansa__Alert *al = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                      HANSA__SEVERITY__SEVERITY_CRITICAL);
    cr_assert_eq(al->height, r.f.height, "the evidence is in this block");
    cr_assert_eq(al->n_tx_ids, 0);
    cr_assert_eq(al->n_parties, 0);
    cr_assert_eq(al->n_audience, 0, "no operator known: regulators only");
    cr_assert_eq(al->n_subjects, 1);
    cr_assert_eq(al->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_VALIDATOR);
    cr_assert_str_eq(al->subjects[0]->owner, "");
    cr_assert_str_eq(al->subjects[0]->id, VAL);
    cr_assert_str_eq(rfx_evidence(al, "vote.validator")->observed, VAL);
    cr_assert_str_eq(rfx_evidence(al, "vote.height")->observed, "42");
    cr_assert_str_eq(rfx_evidence(al, "vote.round")->observed, "1");
    cr_assert_str_eq(rfx_evidence(al, "vote.type")->observed, "PRECOMMIT");
    char hex[2 * WIRE_HASH_BYTES + 1];
    wire_hex_encode(HASH_X, WIRE_HASH_BYTES, hex);
    cr_assert_str_eq(rfx_evidence(al, "vote_a.block_hash")->observed, hex);
    cr_assert_str_eq(rfx_evidence(al, "vote_b.block_hash")->observed, "nil");

    uint8_t want[WIRE_HASH_BYTES];
    const char tag[] = "hansa/incident/v1\0EQUIVOCATION\0validator/" VAL "/height/42";
    wire_sha256(tag, sizeof tag - 1, want);
    cr_assert_arr_eq(al->incident_id.data, want, WIRE_HASH_BYTES, "validator + height");
}

Test(equivocation, the_validators_operator_is_told_in_its_role)
{
    Hansa__Validator v = HANSA__VALIDATOR__INIT, other = HANSA__VALIDATOR__INIT;
    v.id = VAL;
    v.operator_party = "BANK-A";
    other.id = "VAL-OTHER";
    other.operator_party = "LOG-0001";
    Hansa__Validator *vs[] = {&other, &v};
    Hansa__ValidatorSet set = HANSA__VALIDATOR_SET__INIT;
    set.validators = vs;
    set.n_validators = 2;
    r.validators = &set;
    struct vote_spec a = precommit(9, 0, HASH_X), b = precommit(9, 0, NULL);
    evidence_block(&a, &b);
    Hansa__Alert *al = rfx_take_one(&r, RULE);
    cr_assert_eq(al->n_parties, 1);
    cr_assert_str_eq(al->parties[0]->party_id, "BANK-A");
    cr_assert_eq(al->parties[0]->role, HANSA__ROLE__ROLE_BANK);
    cr_assert_eq(al->n_audience, 1);
    cr_assert_str_eq(al->audience[0], "BANK-A");
    r.validators = NULL;
}

Test(equivocation, conflicting_prevotes_for_two_blocks_are_equivocation_too)
{
    struct vote_spec a = {VAL, 7, 0, HANSA__VOTE_TYPE__VOTE_TYPE_PREVOTE, HASH_X};
    struct vote_spec b = {VAL, 7, 0, HANSA__VOTE_TYPE__VOTE_TYPE_PREVOTE, HASH_Y};
    evidence_block(&a, &b);
    Hansa__Alert *al = rfx_take_one(&r, RULE);
    cr_assert_str_eq(rfx_evidence(al, "vote.type")->observed, "PREVOTE");
}

Test(equivocation, more_evidence_for_the_same_validator_and_height_adds_nothing)
{
    struct vote_spec a = precommit(42, 0, HASH_X), b = precommit(42, 0, HASH_Y);
    evidence_block(&a, &b);
    rfx_take_one(&r, RULE);
    struct vote_spec c = precommit(42, 1, HASH_X), d = precommit(42, 1, NULL);
    evidence_block(&c, &d);
    rfx_take_none(&r, RULE);
    struct vote_spec e = precommit(43, 0, HASH_X), f = precommit(43, 0, NULL);
    evidence_block(&e, &f);
    rfx_take_one(&r, RULE);
}

Test(equivocation, votes_that_do_not_conflict_are_no_evidence)
{
    struct vote_spec a = precommit(42, 0, HASH_X);
    struct vote_spec same = precommit(42, 0, HASH_X);
    evidence_block(&a, &same);
    struct vote_spec other_round = precommit(42, 1, HASH_Y);
    evidence_block(&a, &other_round);
    struct vote_spec other_height = precommit(41, 0, HASH_Y);
    evidence_block(&a, &other_height);
    struct vote_spec other_type = {VAL, 42, 0, HANSA__VOTE_TYPE__VOTE_TYPE_PREVOTE, HASH_Y};
    evidence_block(&a, &other_type);
    struct vote_spec other_validator = {"VAL-BANK-B", 42, 0, HANSA__VOTE_TYPE__VOTE_TYPE_PRECOMMIT,
                                        HASH_Y};
    evidence_block(&a, &other_validator);
    rfx_take_none(&r, RULE);
}

Test(equivocation, evidence_whose_votes_do_not_decode_is_ignored)
{
    static uint8_t junk[] = {0xff, 0xff, 0xff};
    static uint8_t sig[WIRE_SIG_BYTES];
    Hansa__SignedVote sa = HANSA__SIGNED_VOTE__INIT, sb = HANSA__SIGNED_VOTE__INIT;
    sa.vote = sb.vote = (ProtobufCBinaryData){sizeof junk, junk};
    sa.signature = sb.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
    Hansa__Evidence ev = HANSA__EVIDENCE__INIT;
    ev.vote_a = &sa;
    ev.vote_b = &sb;
    rfx_evidence_block(&r, &ev);
    Hansa__Evidence empty = HANSA__EVIDENCE__INIT;
    rfx_evidence_block(&r, &empty);
    rfx_take_none(&r, RULE);
}

Test(equivocation, the_severity_comes_from_the_ruleset)
{
    rfx_reinit(&r, "[EQUIVOCATION]\nseverity = HIGH\n");
    struct vote_spec a = precommit(42, 1, HASH_X), b = precommit(42, 1, NULL);
    evidence_block(&a, &b);
    cr_assert_eq(rfx_take_one(&r, RULE)->severity, HANSA__SEVERITY__SEVERITY_HIGH);
}

Test(equivocation, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[EQUIVOCATION]\nenabled = false\n");
    struct vote_spec a = precommit(42, 1, HASH_X), b = precommit(42, 1, NULL);
    evidence_block(&a, &b);
    rfx_take_none(&r, RULE);
}
