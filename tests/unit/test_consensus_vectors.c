/*
 * Known-answer vectors for the messages whose bytes are hashed into block
 * headers, signed, sent between validators, stored or published:
 *
 *   consensus.txt  Commit and last_commit_hash, Evidence and its id, a block
 *                  whose header carries both (evidence_root), and every
 *                  ConsensusMessage kind;
 *   storage.txt    TxLocation, BlockResults with TxResults, StoredBlock;
 *   events.txt     Alert records with their incident and alert ids, and
 *                  Events as published (topic, 0x00, encoded Event).
 *
 * gen_vectors.py writes them from its own proto3 encoder and its own
 * transcription of hansa.proto's field numbers and types; here the same
 * messages are built with protobuf-c from the records (vec_build, through
 * the generated descriptors) and must encode to exactly the same bytes. A
 * field renumbered or retyped in hansa.proto, a changed hash rule or a
 * changed framing fails here. Do not "fix" a failure by regenerating the
 * vectors: every chain, database and subscriber depends on these bytes.
 *
 * The files continue block.txt's chain (block 2 is committed by the Commit
 * of consensus.txt and stored in storage.txt) and sign with signed.txt's
 * seeds; the tests check those cross-references too.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "hansa/wire.h"
#include "leakcheck.h"
#include "vectors.h"

static void init(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
}

TestSuite(consensus_vectors, .init = init);
TestSuite(storage_vectors, .init = init);
TestSuite(event_vectors, .init = init);

/* ---- helpers ------------------------------------------------------------------------------- */

/* The n-th record (from 0) whose `what` is what; fails the test if none. */
static const struct vec_record *record(const struct vec_file *f, const char *what, size_t n)
{
    for (size_t i = 0; i < f->n_records; i++) {
        const char *w = vec_find(&f->records[i], "what");
        if (w != NULL && strcmp(w, what) == 0 && n-- == 0)
            return &f->records[i];
    }
    cr_assert_fail("%s has no record '%s' number %zu", f->name, what, n);
    return NULL;
}

/* Encode msg (caller frees), compare with the record's hex key. protobuf-c's
 * own packing (events.c, the store) must give the same size. */
static uint8_t *expect_bytes(const struct vec_file *f, const struct vec_record *r,
                             const ProtobufCMessage *msg, const char *key, size_t *len)
{
    uint8_t *got = NULL;
    cr_assert_eq(wire_encode(msg, HANSA_PEER_MESSAGE_BYTES_MAX, &got, len), HANSA_OK);
    cr_assert_eq(protobuf_c_message_get_packed_size(msg), *len);
    size_t want_len = 0;
    uint8_t *want = vec_hex_alloc(f, r, key, &want_len);
    cr_assert_eq(*len, want_len, "%s:%u: %s is %zu bytes, the vector %zu", f->name, r->line, key,
                 *len, want_len);
    cr_assert_arr_eq(got, want, want_len, "%s:%u: %s bytes differ from the vector", f->name,
                     r->line, key);
    free(want);
    return got;
}

/* The same for a message whose bytes the test does not need. */
static void expect_encoding(const struct vec_file *f, const struct vec_record *r,
                            const ProtobufCMessage *msg, const char *key)
{
    size_t len = 0;
    free(expect_bytes(f, r, msg, key, &len));
}

/* got equals the record's hex key (exactly n bytes). */
static void expect_hex(const struct vec_file *f, const struct vec_record *r, const char *key,
                       const uint8_t *got, size_t n)
{
    uint8_t *want = malloc(n ? n : 1);
    cr_assert(want != NULL);
    vec_hex_exact(f, r, key, want, n);
    cr_assert_arr_eq(got, want, n, "%s:%u: %s differs from the vector", f->name, r->line, key);
    free(want);
}

static void expect_data(const ProtobufCBinaryData *got, const uint8_t *want, size_t n,
                        const char *what)
{
    cr_assert_eq(got->len, n, "%s: %zu bytes, expected %zu", what, got->len, n);
    cr_assert_arr_eq(got->data, want, n, "%s differs", what);
}

static void sha256_of(const ProtobufCMessage *msg, uint8_t out[WIRE_HASH_BYTES])
{
    uint8_t *b = NULL;
    size_t len = 0;
    cr_assert_eq(wire_encode(msg, HANSA_PEER_MESSAGE_BYTES_MAX, &b, &len), HANSA_OK);
    wire_sha256(b, len, out);
    free(b);
}

/* Canonical decoding gives the message back (nodes refuse anything else). */
static void expect_canonical(const ProtobufCMessageDescriptor *desc, const uint8_t *b, size_t len)
{
    ProtobufCMessage *m = NULL;
    cr_assert_eq(wire_decode(desc, b, len, HANSA_PEER_MESSAGE_BYTES_MAX, WIRE_CANONICAL, &m),
                 HANSA_OK, "%s: the vector bytes are not canonical", desc->name);
    wire_free(m);
}

/* Build the Vote under prefix (its seed and public key beside it), check its
 * bytes against payload and its signature against sig: the seeds are
 * signed.txt's. */
static void expect_signed_vote(struct vec_arena *arena, const struct vec_file *f,
                               const struct vec_record *r, const char *prefix,
                               const Hansa__SignedVote *sv)
{
    char seed_key[64], pk_key[64];
    snprintf(seed_key, sizeof seed_key, "%sseed", prefix);
    snprintf(pk_key, sizeof pk_key, "%spublic_key", prefix);
    const char *const skip[] = {seed_key, pk_key, NULL};
    const Hansa__Vote *v =
        (const Hansa__Vote *)vec_build(arena, f, r, &hansa__vote__descriptor, prefix, skip);
    uint8_t *payload = NULL;
    size_t len = 0;
    cr_assert_eq(wire_encode(&v->base, HANSA_VOTE_BYTES_MAX, &payload, &len), HANSA_OK);
    cr_assert(sv != NULL);
    expect_data(&sv->vote, payload, len, "the SignedVote's vote bytes");
    Hansa__Vote *back = NULL;
    cr_assert_eq(wire_vote_decode(payload, len, &back), HANSA_OK);
    wire_free(back);

    uint8_t seed[WIRE_SEED_BYTES], pk[WIRE_PUBKEY_BYTES], sig[WIRE_SIG_BYTES];
    vec_hex_exact(f, r, seed_key, seed, sizeof seed);
    vec_hex_exact(f, r, pk_key, pk, sizeof pk);
    struct wire_keypair kp;
    wire_keypair_from_seed(&kp, seed);
    cr_assert_arr_eq(kp.public_key, pk, sizeof pk);
    cr_assert_eq(wire_sign(WIRE_TAG_VOTE, v->chain_id, payload, len, kp.secret_key, sig), HANSA_OK);
    expect_data(&sv->signature, sig, sizeof sig, "the SignedVote's signature");
    cr_assert_eq(wire_verify(WIRE_TAG_VOTE, v->chain_id, payload, len, pk, sig), HANSA_OK);
    wire_keypair_wipe(&kp);
    free(payload);
}

/* ---- consensus.txt ------------------------------------------------------------------------- */

Test(consensus_vectors, commit_precommits_bytes_and_last_commit_hash_match_the_vector)
{
    struct vec_file f, blocks;
    vec_open(&f, "consensus.txt", 13);
    vec_open(&blocks, "block.txt", 2);
    const struct vec_record *r = record(&f, "commit", 0);
    struct vec_arena arena = {0};
    const Hansa__Commit *c = (const Hansa__Commit *)vec_build(
        &arena, &f, r, &hansa__commit__descriptor, "commit.", NULL);
    cr_assert_eq(c->n_precommits, 3);
    for (size_t i = 0; i < c->n_precommits; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "vote.%zu.", i);
        expect_signed_vote(&arena, &f, r, prefix, c->precommits[i]);
    }
    /* It commits block.txt's block 2. */
    uint8_t block2[WIRE_HASH_BYTES];
    vec_hex_exact(&blocks, &blocks.records[1], "block_hash", block2, sizeof block2);
    expect_data(&c->block_hash, block2, sizeof block2, "the commit's block hash");

    size_t len = 0;
    uint8_t *enc = expect_bytes(&f, r, &c->base, "encoded", &len);
    expect_canonical(&hansa__commit__descriptor, enc, len);
    /* BlockHeader.last_commit_hash as node/chain.c computes it. */
    uint8_t h[WIRE_HASH_BYTES];
    wire_sha256(enc, len, h);
    expect_hex(&f, r, "last_commit_hash", h, sizeof h);
    free(enc);
    vec_arena_free(&arena);
    vec_close(&blocks);
    vec_close(&f);
    EXPECT_NO_LEAKS();
}

Test(consensus_vectors, a_block_without_a_commit_carries_the_hash_of_the_empty_string)
{
    struct vec_file blocks;
    vec_open(&blocks, "block.txt", 2);
    uint8_t empty[WIRE_HASH_BYTES];
    wire_sha256("", 0, empty);
    expect_hex(&blocks, &blocks.records[0], "header.last_commit_hash", empty, sizeof empty);
    vec_close(&blocks);
}

Test(consensus_vectors, evidence_bytes_and_evidence_id_match_the_vector)
{
    struct vec_file f;
    vec_open(&f, "consensus.txt", 13);
    for (size_t n = 0; n < 2; n++) {
        const struct vec_record *r = record(&f, "evidence", n);
        struct vec_arena arena = {0};
        const Hansa__Evidence *e = (const Hansa__Evidence *)vec_build(
            &arena, &f, r, &hansa__evidence__descriptor, "evidence.", NULL);
        /* Both votes: the seed and key are the record's (one validator). */
        for (int k = 0; k < 2; k++) {
            const char *prefix = k == 0 ? "vote_a." : "vote_b.";
            const Hansa__Vote *v = (const Hansa__Vote *)vec_build(
                &arena, &f, r, &hansa__vote__descriptor, prefix, NULL);
            const Hansa__SignedVote *sv = k == 0 ? e->vote_a : e->vote_b;
            cr_assert(sv != NULL);
            uint8_t *payload = NULL;
            size_t len = 0;
            cr_assert_eq(wire_encode(&v->base, HANSA_VOTE_BYTES_MAX, &payload, &len), HANSA_OK);
            expect_data(&sv->vote, payload, len, prefix);
            uint8_t seed[WIRE_SEED_BYTES], sig[WIRE_SIG_BYTES];
            vec_hex_exact(&f, r, "seed", seed, sizeof seed);
            struct wire_keypair kp;
            wire_keypair_from_seed(&kp, seed);
            expect_hex(&f, r, "public_key", kp.public_key, sizeof kp.public_key);
            cr_assert_eq(wire_sign(WIRE_TAG_VOTE, v->chain_id, payload, len, kp.secret_key, sig),
                         HANSA_OK);
            expect_data(&sv->signature, sig, sizeof sig, "evidence vote signature");
            wire_keypair_wipe(&kp);
            free(payload);
        }
        /* vote_a holds the lexicographically smaller encoded vote. */
        size_t la = e->vote_a->vote.len, lb = e->vote_b->vote.len;
        int cmp = memcmp(e->vote_a->vote.data, e->vote_b->vote.data, la < lb ? la : lb);
        cr_assert(cmp < 0 || (cmp == 0 && la < lb), "consensus.txt:%u: votes out of order",
                  r->line);

        size_t len = 0;
        uint8_t *enc = expect_bytes(&f, r, &e->base, "encoded", &len);
        expect_canonical(&hansa__evidence__descriptor, enc, len);
        /* The evidence id (chain_evidence_id): SHA-256 of the encoding. */
        uint8_t id[WIRE_HASH_BYTES];
        wire_sha256(enc, len, id);
        expect_hex(&f, r, "evidence_id", id, sizeof id);
        free(enc);
        vec_arena_free(&arena);
    }
    vec_close(&f);
    EXPECT_NO_LEAKS();
}

Test(consensus_vectors, block_header_carries_the_commit_hash_and_the_evidence_root)
{
    struct vec_file f, blocks;
    vec_open(&f, "consensus.txt", 13);
    vec_open(&blocks, "block.txt", 2);
    const struct vec_record *r = record(&f, "block", 0);
    struct vec_arena arena = {0};
    const Hansa__BlockHeader *h = (const Hansa__BlockHeader *)vec_build(
        &arena, &f, r, &hansa__block_header__descriptor, "header.", NULL);
    size_t hlen = 0, blen = 0;
    uint8_t *header = expect_bytes(&f, r, &h->base, "header_encoded", &hlen);
    uint8_t hash[WIRE_HASH_BYTES];
    wire_block_hash(header, hlen, hash);
    expect_hex(&f, r, "block_hash", hash, sizeof hash);
    /* It follows block.txt's block 2. */
    uint8_t prev[WIRE_HASH_BYTES];
    vec_hex_exact(&blocks, &blocks.records[1], "block_hash", prev, sizeof prev);
    expect_data(&h->prev_block_hash, prev, sizeof prev, "prev_block_hash");

    const Hansa__Block *b =
        (const Hansa__Block *)vec_build(&arena, &f, r, &hansa__block__descriptor, "block.", NULL);
    expect_data(&b->header, header, hlen, "the block's header");
    uint8_t *block = expect_bytes(&f, r, &b->base, "encoded", &blen);
    Hansa__Block *back = NULL;
    cr_assert_eq(wire_block_decode(block, blen, &back), HANSA_OK);
    cr_assert_eq(back->n_evidence, 2);
    cr_assert(back->last_commit != NULL);
    wire_free(back);

    /* last_commit_hash: SHA-256 of the block's encoded last_commit, which is
     * the commit record. */
    uint8_t got[WIRE_HASH_BYTES];
    cr_assert(b->last_commit != NULL);
    sha256_of(&b->last_commit->base, got);
    expect_data(&h->last_commit_hash, got, sizeof got, "last_commit_hash");
    expect_hex(&f, record(&f, "commit", 0), "last_commit_hash", got, sizeof got);

    /* evidence_root: the tx Merkle tree over the evidence ids, in block order. */
    cr_assert_eq(b->n_evidence, 2);
    uint8_t ids[2 * WIRE_HASH_BYTES], root[WIRE_HASH_BYTES];
    for (size_t i = 0; i < b->n_evidence; i++) {
        sha256_of(&b->evidence[i]->base, ids + i * WIRE_HASH_BYTES);
        expect_hex(&f, record(&f, "evidence", i), "evidence_id", ids + i * WIRE_HASH_BYTES,
                   WIRE_HASH_BYTES);
    }
    wire_merkle_root(ids, b->n_evidence, root);
    expect_data(&h->evidence_root, root, sizeof root, "evidence_root");
    /* tx_root over its one transaction. */
    cr_assert_eq(b->n_txs, 1);
    wire_tx_id(b->txs[0].data, b->txs[0].len, ids);
    wire_merkle_root(ids, 1, root);
    expect_data(&h->tx_root, root, sizeof root, "tx_root");

    free(block);
    free(header);
    vec_arena_free(&arena);
    vec_close(&blocks);
    vec_close(&f);
    EXPECT_NO_LEAKS();
}

Test(consensus_vectors, every_consensus_message_kind_encodes_to_the_vector_bytes)
{
    struct vec_file f, signed_file, txs;
    vec_open(&f, "consensus.txt", 13);
    vec_open(&signed_file, "signed.txt", 1);
    vec_open(&txs, "tx.txt", 3);
    const ProtobufCMessageDescriptor *desc = &hansa__consensus_message__descriptor;
    bool seen[64] = {false};
    size_t n = 0;
    for (size_t i = 0; i < f.n_records; i++) {
        const struct vec_record *r = &f.records[i];
        const char *what = vec_find(r, "what");
        if (what == NULL || strcmp(what, "message") != 0)
            continue;
        n++;
        const ProtobufCFieldDescriptor *kind =
            protobuf_c_message_descriptor_get_field_by_name(desc, vec_str(&f, r, "kind"));
        cr_assert(kind != NULL && (kind->flags & PROTOBUF_C_FIELD_FLAG_ONEOF),
                  "consensus.txt:%u: kind is not a ConsensusMessage kind", r->line);
        seen[kind - desc->fields] = true;

        struct vec_arena arena = {0};
        const char *const skip[] = {"proposal.seed", "proposal.public_key", NULL};
        const Hansa__ConsensusMessage *m =
            (const Hansa__ConsensusMessage *)vec_build(&arena, &f, r, desc, "msg.", NULL);
        cr_assert_eq((unsigned)m->kind_case, kind->id);
        size_t len = 0;
        uint8_t *enc = expect_bytes(&f, r, &m->base, "encoded", &len);
        Hansa__ConsensusMessage *back = NULL;
        cr_assert_eq(wire_consensus_decode(enc, len, &back), HANSA_OK);
        cr_assert_eq(back->kind_case, m->kind_case);
        wire_free(back);

        switch (m->kind_case) {
        case HANSA__CONSENSUS_MESSAGE__KIND_VOTE:
            /* The vote is signed.txt's first record, envelope and all. */
            expect_encoding(&signed_file, &signed_file.records[0], &m->vote->base, "envelope");
            break;
        case HANSA__CONSENSUS_MESSAGE__KIND_PROPOSAL: {
            const Hansa__Proposal *p = (const Hansa__Proposal *)vec_build(
                &arena, &f, r, &hansa__proposal__descriptor, "proposal.", skip);
            const Hansa__SignedProposal *sp = m->proposal->proposal;
            cr_assert(sp != NULL && m->proposal->block != NULL);
            uint8_t *payload = NULL, seed[WIRE_SEED_BYTES], sig[WIRE_SIG_BYTES];
            size_t plen = 0;
            cr_assert_eq(wire_encode(&p->base, HANSA_VOTE_BYTES_MAX, &payload, &plen), HANSA_OK);
            expect_data(&sp->proposal, payload, plen, "the SignedProposal's proposal bytes");
            vec_hex_exact(&f, r, "proposal.seed", seed, sizeof seed);
            struct wire_keypair kp;
            wire_keypair_from_seed(&kp, seed);
            expect_hex(&f, r, "proposal.public_key", kp.public_key, sizeof kp.public_key);
            cr_assert_eq(
                wire_sign(WIRE_TAG_PROPOSAL, p->chain_id, payload, plen, kp.secret_key, sig),
                HANSA_OK);
            expect_data(&sp->signature, sig, sizeof sig, "the proposal's signature");
            wire_keypair_wipe(&kp);
            /* The block is the block record, and the proposal names its hash. */
            uint8_t hash[WIRE_HASH_BYTES];
            wire_block_hash(m->proposal->block->header.data, m->proposal->block->header.len, hash);
            expect_data(&p->block_hash, hash, sizeof hash, "the proposal's block hash");
            expect_encoding(&f, record(&f, "block", 0), &m->proposal->block->base, "encoded");
            free(payload);
            break;
        }
        case HANSA__CONSENSUS_MESSAGE__KIND_EVIDENCE:
            expect_encoding(&f, record(&f, "evidence", 0), &m->evidence->base, "encoded");
            break;
        case HANSA__CONSENSUS_MESSAGE__KIND_TXS:
            /* tx.txt's first records, exactly. */
            cr_assert_eq(m->txs->n_txs, 3);
            for (size_t k = 0; k < m->txs->n_txs; k++)
                expect_hex(&txs, &txs.records[k], "tx", m->txs->txs[k].data, m->txs->txs[k].len);
            break;
        case HANSA__CONSENSUS_MESSAGE__KIND_CATCH_UP_RESPONSE:
            /* A block with its commit: block.txt's block 2 and the commit record. */
            if (m->catch_up_response->n_blocks > 0) {
                const Hansa__CommittedBlock *cb = m->catch_up_response->blocks[0];
                expect_encoding(&f, record(&f, "commit", 0), &cb->commit->base, "encoded");
                struct vec_file blocks;
                vec_open(&blocks, "block.txt", 2);
                expect_encoding(&blocks, &blocks.records[1], &cb->block->base, "block_encoded");
                vec_close(&blocks);
            }
            break;
        default:
            break;
        }
        free(enc);
        vec_arena_free(&arena);
    }
    cr_assert_geq(n, 7);
    /* Every member of the oneof has a vector. */
    for (unsigned k = 0; k < desc->n_fields; k++)
        if (desc->fields[k].flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            cr_assert(seen[k], "consensus.txt has no ConsensusMessage %s", desc->fields[k].name);
    vec_close(&txs);
    vec_close(&signed_file);
    vec_close(&f);
    EXPECT_NO_LEAKS();
}

/* ---- storage.txt --------------------------------------------------------------------------- */

/* The id of block.txt's block 2's tx i. */
static void block2_tx_id(size_t i, uint8_t id[WIRE_HASH_BYTES])
{
    struct vec_file blocks;
    vec_open(&blocks, "block.txt", 2);
    char key[32];
    snprintf(key, sizeof key, "block.txs.%zu", i);
    size_t len = 0;
    uint8_t *tx = vec_hex_alloc(&blocks, &blocks.records[1], key, &len);
    wire_tx_id(tx, len, id);
    free(tx);
    vec_close(&blocks);
}

Test(storage_vectors, tx_locations_encode_to_the_vector_bytes)
{
    struct vec_file f;
    vec_open(&f, "storage.txt", 4);
    for (size_t n = 0; n < 2; n++) {
        const struct vec_record *r = record(&f, "tx_location", n);
        struct vec_arena arena = {0};
        const Hansa__TxLocation *loc = (const Hansa__TxLocation *)vec_build(
            &arena, &f, r, &hansa__tx_location__descriptor, "location.", NULL);
        expect_encoding(&f, r, &loc->base, "encoded");
        /* It locates the tx of block.txt's block 2 with that id. */
        cr_assert_eq(loc->height, 2);
        uint8_t id[WIRE_HASH_BYTES];
        block2_tx_id(loc->index, id);
        expect_hex(&f, r, "tx_id", id, sizeof id);
        vec_arena_free(&arena);
    }
    vec_close(&f);
}

Test(storage_vectors, block_results_and_stored_block_encode_to_the_vector_bytes)
{
    struct vec_file f, cons, blocks;
    vec_open(&f, "storage.txt", 4);
    vec_open(&cons, "consensus.txt", 13);
    vec_open(&blocks, "block.txt", 2);
    struct vec_arena arena = {0};

    const struct vec_record *r = record(&f, "block_results", 0);
    const Hansa__BlockResults *res = (const Hansa__BlockResults *)vec_build(
        &arena, &f, r, &hansa__block_results__descriptor, "results.", NULL);
    expect_encoding(&f, r, &res->base, "encoded");
    cr_assert_eq(res->n_results, 2);
    for (size_t i = 0; i < res->n_results; i++) {
        uint8_t id[WIRE_HASH_BYTES];
        block2_tx_id(i, id);
        expect_data(&res->results[i]->tx_id, id, sizeof id, "a result's tx id");
    }
    /* The state root after block 2 is what block 3's header carries. */
    expect_hex(&cons, record(&cons, "block", 0), "header.state_root", res->state_root.data,
               res->state_root.len);

    r = record(&f, "stored_block", 0);
    const Hansa__StoredBlock *sb = (const Hansa__StoredBlock *)vec_build(
        &arena, &f, r, &hansa__stored_block__descriptor, "stored.", NULL);
    size_t len = 0, cb_len = 0;
    uint8_t *enc = expect_bytes(&f, r, &sb->base, "encoded", &len);
    /* Its parts are the other vectors: block.txt's block 2, the commit, the results. */
    cr_assert(sb->block != NULL && sb->commit != NULL && sb->results != NULL);
    expect_encoding(&blocks, &blocks.records[1], &sb->block->base, "block_encoded");
    expect_encoding(&cons, record(&cons, "commit", 0), &sb->commit->base, "encoded");
    expect_encoding(&f, record(&f, "block_results", 0), &sb->results->base, "encoded");
    /* Fields 1-2 are CommittedBlock's: its encoding is a prefix. */
    Hansa__CommittedBlock cb = HANSA__COMMITTED_BLOCK__INIT;
    cb.block = sb->block;
    cb.commit = sb->commit;
    uint8_t *cb_enc = expect_bytes(&f, r, &cb.base, "committed_block_encoded", &cb_len);
    cr_assert_lt(cb_len, len);
    cr_assert_arr_eq(enc, cb_enc, cb_len);
    ProtobufCMessage *back = NULL;
    cr_assert_eq(wire_decode(&hansa__stored_block__descriptor, enc, len,
                             HANSA_PEER_MESSAGE_BYTES_MAX, WIRE_CANONICAL, &back),
                 HANSA_OK);
    wire_free(back);

    free(cb_enc);
    free(enc);
    vec_arena_free(&arena);
    vec_close(&blocks);
    vec_close(&cons);
    vec_close(&f);
    EXPECT_NO_LEAKS();
}

/* ---- events.txt ---------------------------------------------------------------------------- */

Test(event_vectors, alert_records_encode_to_the_vector_bytes_and_carry_their_ids)
{
    struct vec_file f;
    vec_open(&f, "events.txt", 7);
    bool wide_event_no = false;
    for (size_t n = 0; n < 2; n++) {
        const struct vec_record *r = record(&f, "alert", n);
        struct vec_arena arena = {0};
        const Hansa__Alert *a = (const Hansa__Alert *)vec_build(
            &arena, &f, r, &hansa__alert__descriptor, "alert.", NULL);
        size_t len = 0;
        uint8_t *enc = expect_bytes(&f, r, &a->base, "encoded", &len);
        expect_canonical(&hansa__alert__descriptor, enc, len);

        /* incident_id = SHA-256("hansa/incident/v1" 0x00 rule_id 0x00 dedup key) */
        const char *dedup = vec_str(&f, r, "dedup_key");
        static const char itag[] = "hansa/incident/v1", atag[] = "hansa/alert/v1";
        struct wire_sha256_ctx ctx;
        uint8_t incident[WIRE_HASH_BYTES], id[WIRE_HASH_BYTES];
        wire_sha256_init(&ctx);
        wire_sha256_update(&ctx, itag, sizeof itag); /* with its NUL */
        wire_sha256_update(&ctx, a->rule_id, strlen(a->rule_id) + 1);
        wire_sha256_update(&ctx, dedup, strlen(dedup));
        wire_sha256_final(&ctx, incident);
        expect_data(&a->incident_id, incident, sizeof incident, "incident_id");
        /* alert_id = SHA-256("hansa/alert/v1" 0x00 incident_id || be32 event_no) */
        uint8_t be[4] = {(uint8_t)(a->event_no >> 24), (uint8_t)(a->event_no >> 16),
                         (uint8_t)(a->event_no >> 8), (uint8_t)a->event_no};
        wire_sha256_init(&ctx);
        wire_sha256_update(&ctx, atag, sizeof atag);
        wire_sha256_update(&ctx, incident, sizeof incident);
        wire_sha256_update(&ctx, be, sizeof be);
        wire_sha256_final(&ctx, id);
        expect_data(&a->alert_id, id, sizeof id, "alert_id");
        wide_event_no |= a->event_no > 0xff;
        free(enc);
        vec_arena_free(&arena);
    }
    cr_assert(wide_event_no, "an alert vector pins more than the low byte of event_no");
    vec_close(&f);
    EXPECT_NO_LEAKS();
}

/* The severity's name without its prefix (riskrun.c's topic: "CRITICAL"). */
static const char *severity_name(Hansa__Severity s)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&hansa__severity__descriptor, (int)s);
    cr_assert(v != NULL && strncmp(v->name, "SEVERITY_", 9) == 0);
    return v->name + 9;
}

/* For an alert hint that names an alert record: the hint repeats it. */
static void expect_hint_of_record(const struct vec_file *f, const Hansa__AlertHint *hint)
{
    for (size_t i = 0; i < f->n_records; i++) {
        const char *what = vec_find(&f->records[i], "what");
        if (what == NULL || strcmp(what, "alert") != 0)
            continue;
        struct vec_arena arena = {0};
        const Hansa__Alert *a = (const Hansa__Alert *)vec_build(
            &arena, f, &f->records[i], &hansa__alert__descriptor, "alert.", NULL);
        bool same = a->alert_id.len == hint->alert_id.len &&
                    memcmp(a->alert_id.data, hint->alert_id.data, a->alert_id.len) == 0;
        if (same) {
            cr_assert_str_eq(a->rule_id, hint->rule_id);
            cr_assert_eq(a->severity, hint->severity);
            cr_assert_eq(a->kind, hint->kind);
            cr_assert(a->cursor != NULL && hint->cursor != NULL);
            cr_assert_eq(a->cursor->height, hint->cursor->height);
            cr_assert_eq(a->cursor->ordinal, hint->cursor->ordinal);
        }
        vec_arena_free(&arena);
        if (same)
            return;
    }
    cr_assert_fail("events.txt: the hint for %s names no alert record", hint->rule_id);
}

Test(event_vectors, events_are_published_as_topic_nul_encoded_event)
{
    struct vec_file f;
    vec_open(&f, "events.txt", 7);
    const ProtobufCMessageDescriptor *desc = &hansa__event__descriptor;
    bool seen[64] = {false}, empty_cursor = false;
    size_t n = 0;
    for (size_t i = 0; i < f.n_records; i++) {
        const struct vec_record *r = &f.records[i];
        const char *what = vec_find(r, "what");
        if (what == NULL || strcmp(what, "event") != 0)
            continue;
        n++;
        struct vec_arena arena = {0};
        const Hansa__Event *e =
            (const Hansa__Event *)vec_build(&arena, &f, r, desc, "event.", NULL);
        expect_encoding(&f, r, &e->base, "encoded");

        /* The frame exactly as events_publish builds it. */
        const char *topic = vec_str(&f, r, "topic");
        size_t tlen = strlen(topic), elen = protobuf_c_message_get_packed_size(&e->base);
        uint8_t *frame = malloc(tlen + 1 + elen);
        cr_assert(frame != NULL);
        memcpy(frame, topic, tlen);
        frame[tlen] = 0;
        cr_assert_eq(protobuf_c_message_pack(&e->base, frame + tlen + 1), elen);
        expect_hex(&f, r, "published", frame, tlen + 1 + elen);
        Hansa__Event *back = NULL;
        cr_assert_eq(wire_event_decode(frame + tlen + 1, elen, &back), HANSA_OK);
        cr_assert_eq(back->kind_case, e->kind_case);
        wire_free(back);
        free(frame);

        /* The topic follows from the event (events.c, riskrun.c). */
        char want[256];
        switch (e->kind_case) {
        case HANSA__EVENT__KIND_BLOCK:
            snprintf(want, sizeof want, "block/%" PRIu64, e->height);
            cr_assert_str_eq(topic, want);
            break;
        case HANSA__EVENT__KIND_TX: {
            char hex[2 * WIRE_HASH_BYTES + 1];
            cr_assert_eq(e->tx->tx_id.len, WIRE_HASH_BYTES);
            wire_hex_encode(e->tx->tx_id.data, WIRE_HASH_BYTES, hex);
            snprintf(want, sizeof want, "tx/%s", hex);
            cr_assert_str_eq(topic, want);
            cr_assert_eq(e->tx->height, e->height);
            cr_assert_eq(e->tx->block_time_ms, e->block_time_ms);
            expect_data(&e->tx->block_hash, e->block_hash.data, e->block_hash.len,
                        "the receipt's block hash");
            uint8_t id[WIRE_HASH_BYTES];
            block2_tx_id(e->tx->index, id);
            expect_data(&e->tx->tx_id, id, sizeof id, "the receipt's tx id");
            break;
        }
        case HANSA__EVENT__KIND_ALERT: {
            int k = snprintf(want, sizeof want, "alert/%s/%s/", severity_name(e->alert->severity),
                             e->alert->rule_id);
            cr_assert(k > 0 && strncmp(topic, want, (size_t)k) == 0,
                      "events.txt:%u: topic %s does not start with %s", r->line, topic, want);
            cr_assert(e->alert->cursor != NULL);
            if (e->alert->alert_id.len > 0)
                expect_hint_of_record(&f, e->alert);
            else
                empty_cursor |= e->alert->cursor->height == 0;
            break;
        }
        default:
            cr_assert_fail("events.txt:%u: an event without a kind", r->line);
        }
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field(desc, e->kind_case);
        seen[fd - desc->fields] = true;
        vec_arena_free(&arena);
    }
    cr_assert_geq(n, 5);
    cr_assert(empty_cursor, "an ENGINE-LAG hint with its empty (present) cursor is pinned");
    for (unsigned k = 0; k < desc->n_fields; k++)
        if (desc->fields[k].flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            cr_assert(seen[k], "events.txt has no Event %s", desc->fields[k].name);
    vec_close(&f);
    EXPECT_NO_LEAKS();
}
