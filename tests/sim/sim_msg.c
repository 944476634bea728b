/*
 * The simulated wire. Votes travel as fixed 82-byte records (the core keeps
 * them opaque and hands them back in commits and evidence); proposals as
 * structs with their block. Both are "signed" with a deterministic stand-in:
 * SHA-256(key || tag || payload), where key is the validator's 32-byte key.
 * Block hashes are real: SHA-256 of the encoded Hansa BlockHeader, as
 * node.c computes them, so the header commits to height, previous block,
 * transaction Merkle root and state root.
 *
 * Vote layout (little-endian): type u8, height u64, round u32, nil u8,
 * hash [32], validator u32, signature [32].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "ledger_fixture.h"
#include "sim.h"

#define TAG_VOTE     "sim/vote"
#define TAG_PROPOSAL "sim/proposal"

void sim_key(uint32_t validator, uint8_t key[32])
{
    /* Computed once per process: every signature and check needs one. */
    static uint8_t keys[SIM_VALIDATORS_MAX][32];
    static bool have[SIM_VALIDATORS_MAX];
    if (validator < SIM_VALIDATORS_MAX && have[validator]) {
        memcpy(key, keys[validator], 32);
        return;
    }
    char seed[48];
    int len = snprintf(seed, sizeof seed, "hansa-sim-validator-%u", validator);
    wire_sha256(seed, (size_t)len, key);
    if (validator < SIM_VALIDATORS_MAX) {
        memcpy(keys[validator], key, 32);
        have[validator] = true;
    }
}

static void sign(uint32_t validator, const char *tag, const uint8_t *payload, size_t len,
                 uint8_t sig[SIM_SIG_BYTES])
{
    uint8_t buf[32 + 16 + 96];
    size_t tag_len = strlen(tag);
    HANSA_ASSERT(tag_len <= 16 && len <= 96);
    sim_key(validator, buf);
    memcpy(buf + 32, tag, tag_len);
    memcpy(buf + 32 + tag_len, payload, len);
    wire_sha256(buf, 32 + tag_len + len, sig);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void sim_vote_encode(const struct sim_vote *v, uint8_t out[SIM_VOTE_BYTES])
{
    memset(out, 0, SIM_VOTE_BYTES);
    out[0] = (uint8_t)v->type;
    put_u64(out + 1, v->height);
    put_u32(out + 9, v->round);
    out[13] = v->value.nil ? 1 : 0;
    if (!v->value.nil)
        memcpy(out + 14, v->value.hash, CS_HASH_BYTES);
    put_u32(out + 14 + CS_HASH_BYTES, v->validator);
    sign(v->validator, TAG_VOTE, out, SIM_VOTE_PAYLOAD_BYTES, out + SIM_VOTE_PAYLOAD_BYTES);
}

bool sim_vote_decode(const uint8_t *buf, size_t len, uint32_t n_validators, struct sim_vote *out)
{
    if (len != SIM_VOTE_BYTES || (buf[0] != CS_PREVOTE && buf[0] != CS_PRECOMMIT) || buf[13] > 1)
        return false;
    memset(out, 0, sizeof *out);
    out->type = (enum cs_vote_type)buf[0];
    out->height = get_u64(buf + 1);
    out->round = get_u32(buf + 9);
    out->value.nil = buf[13] == 1;
    memcpy(out->value.hash, buf + 14, CS_HASH_BYTES);
    out->validator = get_u32(buf + 14 + CS_HASH_BYTES);
    if (out->validator >= n_validators)
        return false;
    uint8_t sig[SIM_SIG_BYTES];
    sign(out->validator, TAG_VOTE, buf, SIM_VOTE_PAYLOAD_BYTES, sig);
    return memcmp(sig, buf + SIM_VOTE_PAYLOAD_BYTES, SIM_SIG_BYTES) == 0;
}

/* height, round, valid round, hash, proposer. */
static size_t proposal_payload(const struct sim_proposal *p, uint8_t out[52])
{
    put_u64(out, p->height);
    put_u32(out + 8, p->round);
    put_u32(out + 12, (uint32_t)p->valid_round);
    memcpy(out + 16, p->hash, CS_HASH_BYTES);
    put_u32(out + 48, p->proposer);
    return 52;
}

bool sim_vote_is_for(const uint8_t vote[SIM_VOTE_BYTES], const uint8_t hash[CS_HASH_BYTES])
{
    return vote[13] == 0 && memcmp(vote + 14, hash, CS_HASH_BYTES) == 0;
}

void sim_proposal_digest(const struct sim_proposal *p, uint8_t out[32])
{
    uint8_t payload[52];
    wire_sha256(payload, proposal_payload(p, payload), out);
}

void sim_proposal_sign(struct sim_proposal *p)
{
    uint8_t payload[52];
    size_t len = proposal_payload(p, payload);
    sign(p->proposer, TAG_PROPOSAL, payload, len, p->sig);
}

bool sim_proposal_verify(const struct sim_proposal *p, uint32_t n_validators)
{
    if (p->proposer >= n_validators || p->valid_round < -1 ||
        (p->valid_round >= 0 && (uint32_t)p->valid_round >= p->round))
        return false;
    uint8_t payload[52], sig[SIM_SIG_BYTES];
    size_t len = proposal_payload(p, payload);
    sign(p->proposer, TAG_PROPOSAL, payload, len, sig);
    return memcmp(sig, p->sig, SIM_SIG_BYTES) == 0;
}

void sim_block_hash(const struct sim_block *b, uint8_t out[CS_HASH_BYTES])
{
    static uint8_t empty[CS_HASH_BYTES], validators[CS_HASH_BYTES];
    static bool init;
    if (!init) {
        wire_sha256("", 0, empty);
        wire_sha256("hansa-sim-validator-set", 23, validators);
        init = true;
    }
    char proposer[16];
    snprintf(proposer, sizeof proposer, "v%u", b->proposer);
    Hansa__BlockHeader h;
    hansa__block_header__init(&h);
    h.chain_id = FX_CHAIN_ID;
    h.height = b->height;
    h.time_ms = b->time_ms;
    if (b->height > 1)
        h.prev_block_hash = (ProtobufCBinaryData){CS_HASH_BYTES, (uint8_t *)b->prev_hash};
    h.tx_root = (ProtobufCBinaryData){CS_HASH_BYTES, (uint8_t *)b->tx_root};
    h.state_root = (ProtobufCBinaryData){CS_HASH_BYTES, (uint8_t *)b->state_root};
    h.proposer = proposer;
    h.validators_hash = (ProtobufCBinaryData){CS_HASH_BYTES, validators};
    h.last_commit_hash = (ProtobufCBinaryData){CS_HASH_BYTES, empty};
    h.evidence_root = (ProtobufCBinaryData){CS_HASH_BYTES, empty};
    uint8_t *buf = NULL;
    size_t len = 0;
    hansa_err rv = wire_encode(&h.base, 4096, &buf, &len);
    HANSA_ASSERT(rv == HANSA_OK);
    wire_block_hash(buf, len, out);
    free(buf);
}

const char *sim_vote_type_name(enum cs_vote_type t)
{
    return t == CS_PREVOTE ? "pv" : "pc";
}

const char *sim_short(const uint8_t *hash, char buf[9])
{
    wire_hex_encode(hash, 4, buf);
    return buf;
}

const char *sim_value_short(const struct cs_value *v, char buf[9])
{
    if (v->nil) {
        memcpy(buf, "nil", 4);
        return buf;
    }
    return sim_short(v->hash, buf);
}

bool sim_commit_verify(const struct sim_commit *c, uint32_t n_validators, uint64_t height,
                       const uint8_t hash[CS_HASH_BYTES], char *why, size_t why_len)
{
    bool seen[SIM_VALIDATORS_MAX] = {false};
    uint32_t count = 0;
    if (c->n_precommits > n_validators) {
        snprintf(why, why_len, "%u precommits for %u validators", c->n_precommits, n_validators);
        return false;
    }
    for (uint32_t i = 0; i < c->n_precommits; i++) {
        struct sim_vote v;
        if (!sim_vote_decode(c->precommits[i], SIM_VOTE_BYTES, n_validators, &v)) {
            snprintf(why, why_len, "precommit %u does not verify", i);
            return false;
        }
        if (v.type != CS_PRECOMMIT || v.height != height || v.round != c->round || v.value.nil ||
            memcmp(v.value.hash, hash, CS_HASH_BYTES) != 0) {
            snprintf(why, why_len, "precommit %u of v%u is not for h%llu r%u", i, v.validator,
                     (unsigned long long)height, c->round);
            return false;
        }
        if (seen[v.validator]) {
            snprintf(why, why_len, "v%u precommits twice", v.validator);
            return false;
        }
        seen[v.validator] = true;
        count++;
    }
    if (count < consensus_quorum(n_validators)) {
        snprintf(why, why_len, "%u precommits, quorum is %u", count,
                 consensus_quorum(n_validators));
        return false;
    }
    return true;
}
