/*
 * chain.c: blocks built here are valid; a tampered header, a short commit
 * or a bad transaction makes one invalid; evidence of an equivocation is
 * accepted once, in canonical order, and kept after its block commits;
 * signatures checked in parallel give the sequential verdict; a block's
 * transactions meet the replay window and size limit in force (governed,
 * not genesis), are not committed before, not twice, and signed by a
 * registered key, and the proposer drops pooled ones that no longer pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "admission.h"
#include "chain.h"
#include "keys.h"

#define CHAIN "hansa-chain-1"

static char dir[64];
static struct store *store;
static struct genesis_doc g;
static struct chain c;
static struct mempool *mp;
static struct wire_keypair vals[4];

static void setup(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
    strcpy(dir, "/tmp/hansa-chain-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char text[4096], hex[4][65];
    for (int i = 0; i < 4; i++) {
        uint8_t seed[32] = {(uint8_t)(i + 1)};
        wire_keypair_from_seed(&vals[i], seed);
        wire_hex_encode(vals[i].public_key, 32, hex[i]);
    }
    snprintf(text, sizeof text,
             "{\"chain_id\": \"%s\", \"genesis_time_ms\": 1700000000000, \"parameters\": {},"
             " \"parties\": [{\"id\": \"ADMIN-1\", \"display_name\": \"Admin\", \"country\":"
             " \"CN\", \"roles\": [\"ADMIN\"], \"keys\": [\"%s\"]}],"
             " \"validators\": [{\"id\": \"v0\", \"key\": \"%s\"}, {\"id\": \"v1\", \"key\":"
             " \"%s\"}, {\"id\": \"v2\", \"key\": \"%s\"}, {\"id\": \"v3\", \"key\": \"%s\"}]}",
             CHAIN, hex[0], hex[0], hex[1], hex[2], hex[3]);
    char why[256] = "";
    cr_assert_eq(genesis_parse(text, strlen(text), "genesis", &g, why, sizeof why), HANSA_OK, "%s",
                 why);
    cr_assert_eq(store_open(dir, &store, why, sizeof why), HANSA_OK, "%s", why);
    struct ledger_genesis lg = genesis_ledger(&g);
    struct ledger_output out;
    cr_assert_eq(ledger_genesis(&lg, &out, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(store_commit_genesis(store, &out), HANSA_OK);
    ledger_output_free(&out);
    cr_assert_eq(chain_open(&c, store, &g, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(mempool_open(16, 1 << 20, &mp), HANSA_OK);
}

static void teardown(void)
{
    mempool_close(mp);
    chain_close(&c);
    store_close(store);
    genesis_doc_free(&g);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

TestSuite(chain, .init = setup, .fini = teardown, .timeout = 30);
TestSuite(chain_sigs, .init = setup, .fini = teardown, .timeout = 60);

/* A signed vote of validator i; block_hash NULL = nil. Caller wire_free()s. */
static Hansa__SignedVote *vote(int i, Hansa__VoteType type, uint64_t height, uint32_t round,
                               const uint8_t *block_hash)
{
    char id[16];
    snprintf(id, sizeof id, "v%d", i);
    Hansa__Vote v = HANSA__VOTE__INIT;
    v.type = type;
    v.height = height;
    v.round = round;
    if (block_hash)
        v.block_hash = (ProtobufCBinaryData){32, (uint8_t *)block_hash};
    v.validator = id;
    v.chain_id = CHAIN;
    uint8_t *bytes = NULL, sig[64];
    size_t len = 0;
    cr_assert_eq(wire_encode(&v.base, HANSA_VOTE_BYTES_MAX, &bytes, &len), HANSA_OK);
    cr_assert_eq(wire_sign(WIRE_TAG_VOTE, CHAIN, bytes, len, vals[i].secret_key, sig), HANSA_OK);
    Hansa__SignedVote sv = HANSA__SIGNED_VOTE__INIT;
    sv.vote = (ProtobufCBinaryData){len, bytes};
    sv.signature = (ProtobufCBinaryData){64, sig};
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    cr_assert_eq(wire_encode(&sv.base, 4096, &enc, &enc_len), HANSA_OK);
    Hansa__SignedVote *out = NULL;
    cr_assert_eq(wire_decode(&hansa__signed_vote__descriptor, enc, enc_len, 4096, WIRE_LENIENT,
                             (ProtobufCMessage **)&out),
                 HANSA_OK);
    free(bytes);
    free(enc);
    return out;
}

/* A commit of the first n validators' precommits for (height, hash). */
static void commit_of(int n, uint64_t height, const uint8_t hash[32], Hansa__Commit *cm,
                      Hansa__SignedVote **pcs)
{
    hansa__commit__init(cm);
    for (int i = 0; i < n; i++)
        pcs[i] = vote(i, HANSA__VOTE_TYPE__VOTE_TYPE_PRECOMMIT, height, 0, hash);
    cm->height = height;
    cm->block_hash = (ProtobufCBinaryData){32, (uint8_t *)hash};
    cm->n_precommits = (size_t)n;
    cm->precommits = pcs;
}

static void commit_block(struct chain_block *b)
{
    Hansa__Commit cm;
    Hansa__SignedVote *pcs[4];
    commit_of(3, b->header->height, b->hash, &cm, pcs);
    struct ledger_output out;
    cr_assert_eq(chain_commit(&c, b, &cm, &out), HANSA_OK);
    ledger_output_free(&out);
    for (int i = 0; i < 3; i++)
        wire_free(pcs[i]);
}

static uint64_t next_time(void)
{
    return c.tip_time_ms + 1000;
}

Test(chain, a_block_must_name_a_validator_as_proposer_but_not_the_rounds)
{
    /* A valid value re-proposed in a later round (Alg. 1 line 16) keeps
     * the proposer that built it and must stay valid there. */
    struct chain_block b;
    char why[256] = "";
    cr_assert_eq(chain_build(&c, "v3", NULL, 0, NULL, 0, next_time(), &b), HANSA_OK);
    cr_assert(chain_validate(&c, &b, next_time(), mp, why, sizeof why), "%s", why);
    chain_block_free(&b);
    cr_assert_eq(chain_build(&c, "v9", NULL, 0, NULL, 0, next_time(), &b), HANSA_OK);
    cr_assert_not(chain_validate(&c, &b, next_time(), mp, why, sizeof why));
    cr_assert_str_eq(why, "the block names v9 as proposer, not a validator");
    chain_block_free(&b);
    cr_assert_eq(chain_build(&c, "v1", NULL, 0, NULL, 0, next_time(), &b), HANSA_OK);
    cr_assert(chain_validate(&c, &b, next_time(), mp, why, sizeof why), "%s", why);
    cr_assert_not(
        chain_validate(&c, &b, b.header->time_ms - CHAIN_FUTURE_MS - 1, mp, why, sizeof why),
        "a block far ahead of the local clock");
    chain_block_free(&b);
}

Test(chain, the_next_block_must_carry_a_commit_of_two_thirds)
{
    struct chain_block b1, b2;
    cr_assert_eq(chain_build(&c, "v1", NULL, 0, NULL, 0, next_time(), &b1), HANSA_OK);
    Hansa__Commit cm;
    Hansa__SignedVote *pcs[4];
    commit_of(2, 1, b1.hash, &cm, pcs);
    char why[256] = "";
    cr_assert_neq(chain_verify_commit(&c, 1, b1.hash, &cm, why, sizeof why), HANSA_OK,
                  "2 of 4 precommits are not a commit");
    for (int i = 0; i < 2; i++)
        wire_free(pcs[i]);
    commit_block(&b1);
    cr_assert_eq(c.height, 1);
    cr_assert_eq(chain_build(&c, "v2", NULL, 0, NULL, 0, next_time(), &b2), HANSA_OK);
    cr_assert_not_null(b2.block->last_commit);
    cr_assert(chain_validate(&c, &b2, next_time(), mp, why, sizeof why), "%s", why);
    chain_block_free(&b1);
    chain_block_free(&b2);
}

Test(chain, evidence_is_accepted_once_in_canonical_order_and_kept)
{
    uint8_t x[32] = {1}, y[32] = {2};
    Hansa__SignedVote *a = vote(3, HANSA__VOTE_TYPE__VOTE_TYPE_PREVOTE, 1, 0, x);
    Hansa__SignedVote *b = vote(3, HANSA__VOTE_TYPE__VOTE_TYPE_PREVOTE, 1, 0, y);
    Hansa__SignedVote *same = vote(3, HANSA__VOTE_TYPE__VOTE_TYPE_PREVOTE, 1, 0, x);
    Hansa__SignedVote *other = vote(2, HANSA__VOTE_TYPE__VOTE_TYPE_PREVOTE, 1, 0, y);
    Hansa__Evidence e = HANSA__EVIDENCE__INIT;
    bool a_first = memcmp(a->vote.data, b->vote.data,
                          a->vote.len < b->vote.len ? a->vote.len : b->vote.len) < 0;
    e.vote_a = a_first ? a : b;
    e.vote_b = a_first ? b : a;
    char why[256] = "";
    cr_assert(chain_check_evidence(&c, &e, why, sizeof why), "%s", why);
    Hansa__Evidence swapped = {.base = e.base, .vote_a = e.vote_b, .vote_b = e.vote_a};
    cr_assert_not(chain_check_evidence(&c, &swapped, why, sizeof why));
    Hansa__Evidence no_conflict = {.base = e.base, .vote_a = a, .vote_b = same};
    cr_assert_not(chain_check_evidence(&c, &no_conflict, why, sizeof why), "the same vote twice");
    Hansa__Evidence two_validators = {.base = e.base, .vote_a = a, .vote_b = other};
    cr_assert_not(chain_check_evidence(&c, &two_validators, why, sizeof why));
    e.vote_b->signature.data[0] ^= 1;
    cr_assert_not(chain_check_evidence(&c, &e, why, sizeof why), "a bad signature");
    e.vote_b->signature.data[0] ^= 1;

    Hansa__Evidence *ev[1] = {&e};
    struct chain_block blk;
    cr_assert_eq(chain_build(&c, "v1", NULL, 0, ev, 1, next_time(), &blk), HANSA_OK);
    cr_assert(chain_validate(&c, &blk, next_time(), mp, why, sizeof why), "%s", why);
    commit_block(&blk);
    cr_assert_not(chain_check_evidence(&c, &e, why, sizeof why));
    cr_assert(strstr(why, "already committed") != NULL, "why: %s", why);
    chain_block_free(&blk);
    wire_free(a);
    wire_free(b);
    wire_free(same);
    wire_free(other);
}

/* ---- signatures of transactions this node has not verified yet ----
 * From CHAIN_VERIFY_PARALLEL_MIN of them on, chain_validate checks them on
 * several threads; the verdict must be the sequential one exactly (the
 * first bad signature in block order is the one reported). */

/* n signed transactions of ADMIN-1 (key vals[0]), in mempool_tx form for
 * chain_build but not added to mp; tx bad[k] gets a flipped signature bit. */
static struct mempool_tx **make_txs(size_t n, const size_t *bad, size_t n_bad, uint64_t time_ms)
{
    struct mempool_tx **txs = calloc(n, sizeof *txs);
    for (size_t i = 0; i < n; i++) {
        Hansa__VoteGovernance vg = HANSA__VOTE_GOVERNANCE__INIT;
        uint8_t pid[32] = {7}, nonce[8];
        vg.proposal_id = (ProtobufCBinaryData){32, pid};
        vg.ballot = HANSA__GOVERNANCE_BALLOT__GOVERNANCE_BALLOT_YES;
        for (int k = 0; k < 8; k++)
            nonce[k] = (uint8_t)(i >> (8 * k));
        Hansa__TxBody body = HANSA__TX_BODY__INIT;
        body.chain_id = CHAIN;
        body.signer = "ADMIN-1";
        body.created_ms = time_ms;
        body.nonce = (ProtobufCBinaryData){8, nonce};
        body.action_case = HANSA__TX_BODY__ACTION_VOTE_GOVERNANCE;
        body.vote_governance = &vg;
        uint8_t *bytes = NULL, id[32];
        size_t len = 0;
        cr_assert_eq(wire_tx_build(&body, &vals[0], &bytes, &len, id), HANSA_OK);
        for (size_t k = 0; k < n_bad; k++)
            if (bad[k] == i)
                bytes[len - 1] ^= 1; /* the signature is the last field */
        txs[i] = calloc(1, sizeof *txs[i]);
        txs[i]->bytes = bytes;
        txs[i]->len = len;
        cr_assert_eq(wire_tx_open(&txs[i]->tx, bytes, len, CHAIN), HANSA_OK);
    }
    return txs;
}

static void free_txs(struct mempool_tx **txs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mempool_tx_free(txs[i]);
    free(txs);
}

static bool validate_n(size_t n, const size_t *bad, size_t n_bad, char *why, size_t why_len)
{
    uint64_t t = next_time();
    struct mempool_tx **txs = make_txs(n, bad, n_bad, t);
    struct chain_block b;
    cr_assert_eq(chain_build(&c, "v1", txs, n, NULL, 0, t, &b), HANSA_OK);
    bool ok = chain_validate(&c, &b, t, mp, why, why_len);
    chain_block_free(&b);
    free_txs(txs, n);
    return ok;
}

Test(chain_sigs, a_large_block_of_unseen_good_signatures_is_valid)
{
    char why[256] = "";
    cr_assert(validate_n(1000, NULL, 0, why, sizeof why), "%s", why);
    cr_assert(validate_n(CHAIN_VERIFY_PARALLEL_MIN - 1, NULL, 0, why, sizeof why), "%s", why);
}

Test(chain_sigs, one_bad_signature_among_many_names_that_transaction)
{
    char why[256] = "";
    size_t bad[] = {777};
    cr_assert_not(validate_n(1000, bad, 1, why, sizeof why));
    cr_assert_str_eq(why, "transaction 777 has a bad signature");
    size_t last[] = {999};
    cr_assert_not(validate_n(1000, last, 1, why, sizeof why));
    cr_assert_str_eq(why, "transaction 999 has a bad signature");
}

Test(chain_sigs, the_first_bad_signature_is_reported_as_sequentially)
{
    char why[256] = "";
    size_t bad[] = {950, 3, 400};
    cr_assert_not(validate_n(1000, bad, 3, why, sizeof why));
    cr_assert_str_eq(why, "transaction 3 has a bad signature");
    size_t small[] = {5};
    cr_assert_not(validate_n(10, small, 1, why, sizeof why));
    cr_assert_str_eq(why, "transaction 5 has a bad signature");
}

/* ---- admission with a full mempool ---- */

static uint64_t fixed_now(void *ctx)
{
    return *(const uint64_t *)ctx;
}

Test(chain, a_full_mempool_answers_busy_before_checking_the_signature)
{
    mempool_close(mp);
    cr_assert_eq(mempool_open(2, 1 << 20, &mp), HANSA_OK);
    uint64_t now = next_time();
    struct admission a = {
        .store = store, .mempool = mp, .chain_id = CHAIN, .now_ms = fixed_now, .now_ctx = &now};
    size_t bad[] = {3};
    struct mempool_tx **txs = make_txs(4, bad, 1, now);
    struct admission_result r;
    for (size_t i = 0; i < 2; i++) {
        admission_admit(&a, txs[i]->bytes, txs[i]->len, &r);
        cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_OK, "tx %zu: %s", i, r.why);
    }
    admission_admit(&a, txs[2]->bytes, txs[2]->len, &r);
    cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_BUSY, "%s", r.why);
    admission_admit(&a, txs[3]->bytes, txs[3]->len, &r);
    cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_BUSY,
                 "a bad signature is not even looked at when full: %s", r.why);
    admission_admit(&a, txs[0]->bytes, txs[0]->len, &r);
    cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_ALREADY_PENDING, "%s", r.why);
    /* With room again, the bad signature gets its own answer. */
    struct mempool_tx *out[2];
    cr_assert_eq(mempool_take(mp, out, 2, SIZE_MAX), 2);
    mempool_forget(mp, out, 2);
    for (size_t i = 0; i < 2; i++)
        mempool_tx_free(out[i]);
    admission_admit(&a, txs[3]->bytes, txs[3]->len, &r);
    cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_BAD_SIGNATURE, "%s", r.why);
    free_txs(txs, 4);
}

/* ---- the block's transaction checks, under the parameters in force ---- */

/* One signed transaction: a governance vote of signer with key, created at
 * created_ms; nonce tells transactions apart. */
static struct mempool_tx *one_tx(const char *signer, const struct wire_keypair *key,
                                 uint64_t created_ms, uint64_t nonce)
{
    Hansa__VoteGovernance vg = HANSA__VOTE_GOVERNANCE__INIT;
    uint8_t pid[32] = {7}, n[8];
    for (int k = 0; k < 8; k++)
        n[k] = (uint8_t)(nonce >> (8 * k));
    vg.proposal_id = (ProtobufCBinaryData){32, pid};
    vg.ballot = HANSA__GOVERNANCE_BALLOT__GOVERNANCE_BALLOT_YES;
    Hansa__TxBody body = HANSA__TX_BODY__INIT;
    body.chain_id = CHAIN;
    body.signer = (char *)signer;
    body.created_ms = created_ms;
    body.nonce = (ProtobufCBinaryData){8, n};
    body.action_case = HANSA__TX_BODY__ACTION_VOTE_GOVERNANCE;
    body.vote_governance = &vg;
    struct mempool_tx *t = calloc(1, sizeof *t);
    cr_assert_not_null(t);
    uint8_t id[32];
    cr_assert_eq(wire_tx_build(&body, key, &t->bytes, &t->len, id), HANSA_OK);
    cr_assert_eq(wire_tx_open(&t->tx, t->bytes, t->len, CHAIN), HANSA_OK);
    return t;
}

/* chain_validate of a block of these transactions at time t. */
static bool validate_at(struct mempool_tx **txs, size_t n, uint64_t t, char *why, size_t why_len)
{
    struct chain_block b;
    cr_assert_eq(chain_build(&c, "v1", txs, n, NULL, 0, t, &b), HANSA_OK);
    bool ok = chain_validate(&c, &b, t, mp, why, why_len);
    chain_block_free(&b);
    return ok;
}

/* Governed parameters written into the committed state, as a passed
 * proposal leaves them (the checks read them from there). */
static void set_params(uint64_t window_ms, uint32_t max_tx_bytes)
{
    struct ledger_state st = store_ledger_state(store);
    struct ledger_admission a = {0};
    cr_assert_eq(ledger_admission_params(&st, &a), HANSA_OK);
    a.params->tx_replay_window_ms = window_ms;
    a.params->max_tx_bytes = max_tx_bytes;
    uint8_t *bytes = NULL;
    size_t len = 0;
    cr_assert_eq(wire_encode(&a.params->base, 1 << 16, &bytes, &len), HANSA_OK);
    struct store_put put = {STORE_STATE, (const uint8_t *)LEDGER_KEY_PARAMS,
                            strlen(LEDGER_KEY_PARAMS), bytes, len};
    cr_assert_eq(store_write_sync(store, &put, 1), HANSA_OK);
    free(bytes);
    ledger_admission_free(&a);
}

#define GENESIS_WINDOW_MS (10u * 60 * 1000)

Test(chain, a_transaction_outside_the_replay_window_of_the_block_time_is_invalid)
{
    char why[256] = "";
    uint64_t t = next_time();
    struct mempool_tx *edge = one_tx("ADMIN-1", &vals[0], t - GENESIS_WINDOW_MS, 1);
    struct mempool_tx *late = one_tx("ADMIN-1", &vals[0], t + GENESIS_WINDOW_MS + 1, 2);
    cr_assert(validate_at(&edge, 1, t, why, sizeof why), "%s", why);
    cr_assert_not(validate_at(&late, 1, t, why, sizeof why));
    cr_assert_str_eq(why, "transaction 0 lies outside the replay window");
    mempool_tx_free(edge);
    mempool_tx_free(late);
}

Test(chain, the_replay_window_and_size_limit_are_the_governed_ones)
{
    char why[256] = "";
    uint64_t t = next_time();
    struct mempool_tx *five_s = one_tx("ADMIN-1", &vals[0], t - 5000, 1);
    struct mempool_tx *fifteen_min = one_tx("ADMIN-1", &vals[0], t - 15 * 60 * 1000, 2);
    cr_assert(validate_at(&five_s, 1, t, why, sizeof why), "%s", why);
    cr_assert_not(validate_at(&fifteen_min, 1, t, why, sizeof why), "genesis window: 10 min");

    set_params(2000, HANSA_TX_BYTES_MAX); /* narrowed */
    cr_assert_not(validate_at(&five_s, 1, t, why, sizeof why));
    cr_assert_str_eq(why, "transaction 0 lies outside the replay window");
    set_params(20 * 60 * 1000, HANSA_TX_BYTES_MAX); /* widened */
    cr_assert(validate_at(&fifteen_min, 1, t, why, sizeof why), "%s", why);

    set_params(GENESIS_WINDOW_MS, (uint32_t)five_s->len - 1);
    cr_assert_not(validate_at(&five_s, 1, t, why, sizeof why));
    cr_assert(strstr(why, "transaction 0 is larger than max_tx_bytes") == why, "%s", why);
    mempool_tx_free(five_s);
    mempool_tx_free(fifteen_min);
}

Test(chain, a_committed_duplicated_or_unregistered_transaction_makes_a_block_invalid)
{
    char why[256] = "";
    uint64_t t = next_time();
    struct mempool_tx *a = one_tx("ADMIN-1", &vals[0], t, 1);
    struct chain_block b;
    cr_assert_eq(chain_build(&c, "v1", &a, 1, NULL, 0, t, &b), HANSA_OK);
    commit_block(&b);
    chain_block_free(&b);

    t = next_time();
    cr_assert_not(validate_at(&a, 1, t, why, sizeof why));
    cr_assert_str_eq(why, "transaction 0 is already committed");

    struct mempool_tx *twice[2] = {one_tx("ADMIN-1", &vals[0], t, 2), NULL};
    twice[1] = twice[0];
    cr_assert_not(validate_at(twice, 2, t, why, sizeof why));
    cr_assert_str_eq(why, "a transaction appears twice");

    struct mempool_tx *stranger = one_tx("NOBODY-1", &vals[1], t, 3);
    struct mempool_tx *wrong_key = one_tx("ADMIN-1", &vals[1], t, 4);
    cr_assert_not(validate_at(&stranger, 1, t, why, sizeof why));
    cr_assert(strncmp(why, "transaction 0: ", 15) == 0, "%s", why);
    cr_assert_not(validate_at(&wrong_key, 1, t, why, sizeof why));
    cr_assert(strncmp(why, "transaction 0: ", 15) == 0, "%s", why);
    mempool_tx_free(a);
    mempool_tx_free(twice[0]);
    mempool_tx_free(stranger);
    mempool_tx_free(wrong_key);
}

Test(chain, the_proposer_drops_pooled_transactions_that_no_longer_pass)
{
    uint64_t t0 = next_time();
    struct mempool_tx *done = one_tx("ADMIN-1", &vals[0], t0, 1);
    struct chain_block b;
    cr_assert_eq(chain_build(&c, "v1", &done, 1, NULL, 0, t0, &b), HANSA_OK);
    commit_block(&b);
    chain_block_free(&b);
    mempool_tx_free(done);

    uint64_t t = next_time();
    set_params(60 * 1000, HANSA_TX_BYTES_MAX);
    struct mempool_tx *pool[4] = {
        one_tx("ADMIN-1", &vals[0], t - 1000, 2),      /* kept */
        one_tx("ADMIN-1", &vals[0], t0, 1),            /* the same bytes: committed */
        one_tx("ADMIN-1", &vals[0], t - 61 * 1000, 3), /* outside the governed window */
        one_tx("ADMIN-1", &vals[0], t + 1000, 4),      /* kept */
    };
    uint8_t dropped[2][WIRE_HASH_BYTES];
    memcpy(dropped[0], pool[1]->tx.id, WIRE_HASH_BYTES);
    memcpy(dropped[1], pool[2]->tx.id, WIRE_HASH_BYTES);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(mempool_add(mp, pool[i]), HANSA_OK);
    struct mempool_tx *taken[4];
    size_t n = mempool_take(mp, taken, 4, 1 << 20);
    cr_assert_eq(n, 4);
    size_t kept = chain_filter_txs(&c, mp, taken, n, t);
    cr_assert_eq(kept, 2, "kept %zu", kept);
    for (size_t i = 0; i < kept; i++)
        cr_assert(taken[i]->tx.body->created_ms == t - 1000 ||
                  taken[i]->tx.body->created_ms == t + 1000);
    cr_assert_not(mempool_contains(mp, dropped[0]), "the dropped ones leave the pool");
    cr_assert_not(mempool_contains(mp, dropped[1]));
    cr_assert(mempool_contains(mp, taken[0]->tx.id));
}

/* ---- verify once: "a verified tx is never verified again on that node" ----
 * (DESIGN.md §3 step 2.) Admission counts its verifications
 * (admission_verify_count). chain_validate has no counter; a transaction
 * put into the pool with a broken signature (as if it had been verified)
 * shows whether it is verified again: the block stays valid only if not. */

Test(chain, a_pooled_or_committed_transaction_is_never_verified_again)
{
    uint64_t now = next_time();
    struct admission a = {
        .store = store, .mempool = mp, .chain_id = CHAIN, .now_ms = fixed_now, .now_ctx = &now};
    size_t bad[] = {2};
    struct mempool_tx **txs = make_txs(3, bad, 1, now);
    struct admission_result r;
    uint64_t v0 = admission_verify_count();
    for (size_t i = 0; i < 2; i++) {
        admission_admit(&a, txs[i]->bytes, txs[i]->len, &r);
        cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_OK, "tx %zu: %s", i, r.why);
    }
    cr_assert_eq(admission_verify_count(), v0 + 2, "one verification per new transaction");

    /* Resubmitting a pending transaction verifies nothing. */
    for (int k = 0; k < 3; k++) {
        admission_admit(&a, txs[0]->bytes, txs[0]->len, &r);
        cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_ALREADY_PENDING, "%s", r.why);
    }
    cr_assert_eq(admission_verify_count(), v0 + 2, "a pending transaction was verified again");
    cr_assert_eq(mempool_add(mp, txs[2]), HANSA_OK); /* the pool owns it now */
    struct mempool_tx *broken = txs[2];
    txs[2] = NULL;
    admission_admit(&a, broken->bytes, broken->len, &r);
    cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_ALREADY_PENDING, "%s", r.why);
    cr_assert_eq(admission_verify_count(), v0 + 2);

    /* A block made of pooled transactions: valid without verifying them;
     * against an empty pool the broken one is found. */
    struct mempool_tx *in_block[3] = {txs[0], txs[1], broken};
    struct chain_block b;
    cr_assert_eq(chain_build(&c, "v1", in_block, 3, NULL, 0, now, &b), HANSA_OK);
    char why[256] = "";
    cr_assert(chain_validate(&c, &b, now, mp, why, sizeof why),
              "pooled transactions were verified again: %s", why);
    struct mempool *empty = NULL;
    cr_assert_eq(mempool_open(16, 1 << 20, &empty), HANSA_OK);
    cr_assert_not(chain_validate(&c, &b, now, empty, why, sizeof why));
    cr_assert_str_eq(why, "transaction 2 has a bad signature");
    mempool_close(empty);

    /* Committed and out of the pool: resubmitting verifies nothing either. */
    commit_block(&b);
    struct mempool_tx *out[3];
    size_t n = mempool_take(mp, out, 3, SIZE_MAX);
    cr_assert_eq(n, 3);
    mempool_forget(mp, out, n);
    for (size_t i = 0; i < n; i++)
        mempool_tx_free(out[i]);
    admission_admit(&a, txs[0]->bytes, txs[0]->len, &r);
    cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_ALREADY_COMMITTED, "%s", r.why);
    cr_assert_eq(admission_verify_count(), v0 + 2, "a committed transaction was verified again");
    chain_block_free(&b);
    free_txs(txs, 3);
}
