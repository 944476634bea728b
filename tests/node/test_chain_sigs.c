/*
 * chain_validate's signature checks of transactions this node has not
 * verified yet: from CHAIN_VERIFY_PARALLEL_MIN of them on they run on
 * several threads, and the verdict must be the sequential one exactly (the
 * first bad signature in block order is the one reported).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "chain.h"

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

TestSuite(chain_sigs, .init = setup, .fini = teardown, .timeout = 60);

static uint64_t next_time(void)
{
    return c.tip_time_ms + 1000;
}

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
    bool ok = chain_validate(&c, &b, "v1", t, mp, why, why_len);
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
