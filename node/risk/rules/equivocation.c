/*
 * EQUIVOCATION (RISK.md): consensus evidence that a validator signed two
 * different votes for one height, round and type (CRITICAL, one incident
 * per validator and height). A validator that equivocates is attacking
 * safety: with enough such votes two honest nodes could commit different
 * blocks.
 *
 * Input: the Evidence entries of the block (hansa.proto Evidence: two
 * SignedVotes). The engine trusts committed evidence: consensus verified
 * the signatures before putting it in a block, so the rule does not verify
 * them again (it has no validator keys). It does decode both votes and
 * refuses, without an alert, a piece whose votes do not decode, name
 * different validators, heights, rounds or types, or carry the same block
 * hash: that is no equivocation, whatever a faulty proposer committed.
 *
 * Audience: the validator's operator party, if the validator set names one
 * (hansa.proto Validator.operator_party; risk_validator_operator), plus
 * regulators; without an operator only regulators see it. The subject is
 * the validator (type VALIDATOR, owner "").
 *
 * State: none; the engine's incident dedups repeated evidence (a second
 * piece for the same validator and height, e.g. another round, adds
 * nothing).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

enum { P_SEVERITY, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_CRITICAL, 0, 0,
                    "severity of a validator's conflicting votes"},
};

static const char *vote_type_name(Hansa__VoteType t)
{
    return risk_enum_name(&hansa__vote_type__descriptor, (int)t, "VOTE_TYPE_");
}

/* Lower-case hex of a block hash, or "nil" for an empty one. */
static void hash_text(ProtobufCBinaryData h, char out[2 * WIRE_HASH_BYTES + 1])
{
    if (h.len == 0) {
        strcpy(out, "nil");
        return;
    }
    size_t n = h.len < WIRE_HASH_BYTES ? h.len : WIRE_HASH_BYTES;
    wire_hex_encode(h.data, n, out);
}

static bool same_bytes(ProtobufCBinaryData a, ProtobufCBinaryData b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

/* The two votes of ev, if they are an equivocation; caller wire_free()s. */
static bool conflicting(const Hansa__Evidence *ev, Hansa__Vote **a, Hansa__Vote **b)
{
    *a = *b = NULL;
    if (ev->vote_a == NULL || ev->vote_b == NULL ||
        wire_vote_decode(ev->vote_a->vote.data, ev->vote_a->vote.len, a) != HANSA_OK ||
        wire_vote_decode(ev->vote_b->vote.data, ev->vote_b->vote.len, b) != HANSA_OK)
        return false;
    const Hansa__Vote *x = *a, *y = *b;
    return x->validator != NULL && y->validator != NULL && x->validator[0] != '\0' &&
           strlen(x->validator) <= HANSA_ID_LEN_MAX && strcmp(x->validator, y->validator) == 0 &&
           x->height == y->height && x->round == y->round && x->type == y->type &&
           !same_bytes(x->block_hash, y->block_hash);
}

static hansa_err report(struct risk_ctx *ctx, const Hansa__Vote *a, const Hansa__Vote *b)
{
    char dedup[160], ha[2 * WIRE_HASH_BYTES + 1], hb[2 * WIRE_HASH_BYTES + 1];
    snprintf(dedup, sizeof dedup, "validator/%s/height/%" PRIu64, a->validator, a->height);
    hash_text(a->block_hash, ha);
    hash_text(b->block_hash, hb);
    struct risk_alert *al =
        risk_alert_new(ctx, dedup, (Hansa__Severity)risk_param(ctx, P_SEVERITY));
    risk_alert_subject(al, HANSA__ENTITY_TYPE__ENTITY_TYPE_VALIDATOR, "", a->validator);
    const char *op = risk_validator_operator(ctx, a->validator);
    if (op != NULL) {
        /* The operator in its first role (a bank, a logistics firm, ...). */
        Hansa__HistoryEntry *h = NULL;
        hansa_err rv = risk_lookup(ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY, "", op, &h);
        if (rv != HANSA_OK) {
            risk_alert_discard(al);
            return rv;
        }
        const Hansa__Party *p = risk_entry_party(h);
        Hansa__Role role =
            p != NULL && p->n_roles > 0 ? p->roles[0] : HANSA__ROLE__ROLE_UNSPECIFIED;
        wire_free(h);
        risk_alert_party(al, role, op);
    }
    risk_alert_evidence(al, "vote.validator", "", a->validator, NULL);
    risk_evidence_u64(al, "vote.height", "", a->height, NULL);
    risk_evidence_u64(al, "vote.round", "", a->round, NULL);
    risk_alert_evidence(al, "vote.type", "", vote_type_name(a->type), NULL);
    risk_alert_evidence(al, "vote_a.block_hash", "one vote per height, round and type", ha, NULL);
    risk_alert_evidence(al, "vote_b.block_hash", "one vote per height, round and type", hb, NULL);
    risk_alert_message(
        al, "Validator %s signed two different %s votes at height %" PRIu64 ", round %" PRIu32 ".",
        a->validator, vote_type_name(a->type), a->height, a->round);
    return risk_alert_emit(ctx, al, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    const struct risk_block *b = risk_ctx_block(ctx);
    hansa_err rv = HANSA_OK;
    for (size_t i = 0; rv == HANSA_OK && i < b->n_evidence; i++) {
        Hansa__Vote *va = NULL, *vb = NULL;
        if (b->evidence[i] != NULL && conflicting(b->evidence[i], &va, &vb))
            rv = report(ctx, va, vb);
        wire_free(va);
        wire_free(vb);
    }
    return rv;
}

const struct risk_rule risk_rule_equivocation = {
    .id = "EQUIVOCATION",
    .rev = 1,
    .summary = "consensus evidence: a validator signed two different votes for one height, round "
               "and type",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
};
