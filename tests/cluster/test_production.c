/*
 * Block production on four real validators (issue: "Block production is
 * immediate when transactions wait; empty blocks only on a configurable
 * heartbeat", and "Mempool gossip"):
 *
 *   (a) heartbeat_ms = 0: an idle chain makes no block over 6 s; a
 *       transaction submitted to a validator that is not the next proposer
 *       is committed within a second or two, in round 0 of a block that
 *       proposer built: only gossip can have brought it there, and only
 *       immediate production can have built the block (there is no
 *       heartbeat). Afterwards the chain is idle again.
 *   (b) heartbeat_ms = 1000: an idle chain makes empty blocks at about that
 *       rate (2-12 over 6 s), each carrying no transaction, at least 3/4 of
 *       a heartbeat apart.
 *   (c) heartbeat_ms = 600000: transactions submitted to each of the four
 *       validators, one at a time and then a few each at once, are
 *       committed within seconds on all four (same block hashes), and no
 *       block of the chain is empty.
 *
 * The idle windows are the only fixed sleeps: they measure that nothing
 * happens, and are several times the period a wrong behaviour would show
 * (interval_ms = 50 ms, or the 5,000 ms default heartbeat). Everything
 * else waits on a condition with a deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "cluster.h"
#include "store.h"

static struct cluster c;
static int order_seq; /* "PR-" order numbers: distinct from cluster.c's "CL-" */

static void teardown(void)
{
    cluster_fini(&c, false);
}

TestSuite(production, .fini = teardown, .timeout = 300);

/* Four validators with [blocks] heartbeat_ms = heartbeat_ms, running. */
static void start_four(const char *chain, const char *heartbeat_ms)
{
    cluster_init(&c, 4, chain);
    for (int i = 0; i < 4; i++)
        cluster_config_set(&c, i, "heartbeat_ms", heartbeat_ms);
    for (int i = 0; i < 4; i++)
        cluster_start(&c, i);
    cr_assert(cluster_wait_ready(&c, -1, 30000), "the validators did not start");
}

/* Measuring that nothing happens over an interval (not a wait for a
 * condition). */
static void idle_for(uint32_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void heights(uint64_t h[4])
{
    for (int i = 0; i < 4; i++)
        h[i] = cluster_height(&c, i);
}

static uint64_t max_height(void)
{
    uint64_t h[4], m = 0;
    heights(h);
    for (int i = 0; i < 4; i++)
        m = h[i] > m ? h[i] : m;
    return m;
}

/* Submit one new order to node i; asserts it was admitted. */
static void submit_one(int i, uint8_t id[WIRE_HASH_BYTES])
{
    char order_no[32];
    snprintf(order_no, sizeof order_no, "PR-%06d", ++order_seq);
    uint8_t *bytes = NULL;
    size_t len = 0;
    cr_assert_eq(tc_order_tx(c.chain, "MER-SZ-0001", &c.merchant, order_no, 5000 + order_seq,
                             tc_now_ms(), &bytes, &len, id),
                 HANSA_OK);
    struct tc *t = cluster_client(&c, i, 10000);
    Hansa__Response *r = NULL;
    cr_assert_eq(tc_submit(t, bytes, len, &r), HANSA_OK, "node%d did not answer a submit", i);
    cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_SUBMIT);
    cr_assert_eq(r->submit->result, HANSA__RESULT_CODE__RESULT_OK, "node%d refused %s (%d)", i,
                 order_no, (int)r->submit->result);
    wire_free(r);
    tc_close(t);
    free(bytes);
}

/* Wait until node i reports tx id committed, or the deadline (monotonic ms)
 * passes; the commit height on success, 0 otherwise. */
static uint64_t wait_committed(int i, const uint8_t id[WIRE_HASH_BYTES], uint64_t deadline)
{
    struct tc *t = cluster_client(&c, i, 35000);
    uint64_t height = 0;
    for (uint64_t now = proc_mono_ms(); height == 0 && now < deadline; now = proc_mono_ms()) {
        uint64_t left = deadline - now;
        Hansa__GetReceipt g = HANSA__GET_RECEIPT__INIT;
        g.tx_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)id};
        g.wait_ms = (uint32_t)(left < 30000 ? left : 30000);
        Hansa__Query q = HANSA__QUERY__INIT;
        q.kind_case = HANSA__QUERY__KIND_RECEIPT;
        q.receipt = &g;
        Hansa__Response *r = NULL;
        if (tc_query(t, c.chain, "MER-SZ-0001", &c.merchant, &q, &r) == HANSA_OK &&
            r->kind_case == HANSA__RESPONSE__KIND_RECEIPT &&
            r->receipt->status == HANSA__TX_STATUS__TX_STATUS_COMMITTED)
            height = r->receipt->receipt->height;
        wire_free(r);
    }
    tc_close(t);
    return height;
}

/* What the tests read of a stored block. */
struct block_info {
    size_t n_txs, n_results;
    uint32_t commit_round;
    uint64_t time_ms;
    char proposer[65];
};

static void block_info(struct store *s, uint64_t h, struct block_info *bi)
{
    uint8_t *val = NULL;
    size_t len = 0;
    cr_assert_eq(store_get_block(s, h, &val, &len), HANSA_OK, "no block at %llu",
                 (unsigned long long)h);
    Hansa__StoredBlock *sb = NULL;
    cr_assert_eq(wire_decode(&hansa__stored_block__descriptor, val, len, 1u << 30, WIRE_LENIENT,
                             (ProtobufCMessage **)&sb),
                 HANSA_OK);
    free(val);
    Hansa__BlockHeader *hd = NULL;
    cr_assert_eq(wire_decode(&hansa__block_header__descriptor, sb->block->header.data,
                             sb->block->header.len, 1u << 20, WIRE_LENIENT,
                             (ProtobufCMessage **)&hd),
                 HANSA_OK);
    bi->n_txs = sb->block->n_txs;
    bi->n_results = sb->results != NULL ? sb->results->n_results : 0;
    bi->commit_round = sb->commit != NULL ? sb->commit->round : UINT32_MAX;
    bi->time_ms = hd->time_ms;
    snprintf(bi->proposer, sizeof bi->proposer, "%s", hd->proposer);
    wire_free(hd);
    wire_free(sb);
}

/* After cluster_check_agreement (every node stopped): open the stores and
 * assert they end within max_lag blocks of each other; returns the lowest
 * end. With a heartbeat running, the three nodes still up after the first
 * one stopped may commit one more block, so that test allows 1. */
static uint64_t open_stores(struct store *s[4], uint64_t max_lag)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < 4; i++) {
        char data[400], why[256];
        snprintf(data, sizeof data, "%s/node%d/data", c.net, i);
        cr_assert_eq(store_open_readonly(data, &s[i], why, sizeof why), HANSA_OK, "%s", why);
        uint64_t h = store_height(s[i]);
        lo = h < lo ? h : lo;
        hi = h > hi ? h : hi;
    }
    cr_assert_leq(hi - lo, max_lag, "the validators end at heights %llu to %llu",
                  (unsigned long long)lo, (unsigned long long)hi);
    return lo;
}

static void close_stores(struct store *s[4])
{
    for (int i = 0; i < 4; i++)
        store_close(s[i]);
}

Test(production, without_heartbeat_idle_chain_stays_put_and_a_gossiped_tx_commits_at_once)
{
    start_four("hansa-prod-1", "0");
    uint64_t before[4], after[4];
    heights(before);
    idle_for(6000);
    heights(after);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(after[i], before[i],
                     "idle with heartbeat_ms = 0, node%d went from height %llu to %llu", i,
                     (unsigned long long)before[i], (unsigned long long)after[i]);
    uint64_t h0 = before[0];
    for (int i = 1; i < 4; i++)
        cr_assert_eq(before[i], h0, "idle validators at different heights");

    /* Round 0 of height h0 + 1 is node((h0 + 1) % 4)'s; submit elsewhere. */
    int to = (int)((h0 + 2) % 4);
    uint8_t id[WIRE_HASH_BYTES];
    uint64_t t0 = proc_mono_ms();
    submit_one(to, id);
    uint64_t h = wait_committed(to, id, t0 + 20000);
    uint64_t took_ms = proc_mono_ms() - t0;
    if (h == 0)
        cluster_dump_log(&c, to, 30);
    cr_assert_neq(h, 0, "the transaction was not committed within 20 s (no heartbeat)");
    cr_assert_eq(h, h0 + 1, "committed at %llu, not at the next height %llu", (unsigned long long)h,
                 (unsigned long long)(h0 + 1));
    fprintf(stderr, "production: tx via node%d committed at %llu in %llu ms\n", to,
            (unsigned long long)h, (unsigned long long)took_ms);
    /* Round 0's propose timeout is 3,000 ms: a commit within it is the
     * round-0 proposer's own block. */
    cr_assert_lt(took_ms, 2500, "the transaction took %llu ms to commit",
                 (unsigned long long)took_ms);

    /* The block is committed everywhere; no empty block follows it. */
    cr_assert(cluster_wait_height(&c, -1, h, 20000), "not every validator reached %llu",
              (unsigned long long)h);
    idle_for(3000);
    heights(after);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(after[i], h, "node%d went on to %llu with nothing to commit", i,
                     (unsigned long long)after[i]);

    cluster_check_agreement(&c);
    struct store *s[4];
    cr_assert_eq(open_stores(s, 0), h);
    struct block_info bi;
    block_info(s[0], h, &bi);
    char to_id[16];
    snprintf(to_id, sizeof to_id, "node%d", to);
    cr_assert_eq(bi.n_txs, 1);
    cr_assert_eq(bi.commit_round, 0, "decided in round %u, not round 0", bi.commit_round);
    cr_assert_str_neq(bi.proposer, to_id, "proposed by the node the transaction was sent to");
    for (int i = 0; i < 4; i++) {
        uint64_t at = 0;
        uint32_t idx = 0;
        cr_assert_eq(store_tx_location(s[i], id, &at, &idx), HANSA_OK, "node%d lacks the tx", i);
        cr_assert_eq(at, h);
    }
    close_stores(s);
}

Test(production, with_heartbeat_idle_chain_makes_empty_blocks_at_that_rate)
{
    start_four("hansa-prod-2", "1000");
    cr_assert(cluster_wait_height(&c, -1, 1, 20000), "no heartbeat block within 20 s");
    uint64_t h0 = max_height();
    idle_for(6000);
    uint64_t h1 = max_height();
    fprintf(stderr, "production: %llu heartbeat blocks in 6 s idle\n",
            (unsigned long long)(h1 - h0));
    cr_assert_geq(h1 - h0, 2, "only %llu blocks in 6 s with a 1 s heartbeat",
                  (unsigned long long)(h1 - h0));
    cr_assert_leq(h1 - h0, 12, "%llu blocks in 6 s with a 1 s heartbeat",
                  (unsigned long long)(h1 - h0));
    cr_assert(cluster_wait_height(&c, -1, h1, 20000), "the validators did not all reach %llu",
              (unsigned long long)h1);

    cluster_check_agreement(&c);
    struct store *s[4];
    uint64_t top = open_stores(s, 1);
    uint64_t prev_ms = 0;
    for (uint64_t h = 1; h <= top; h++) {
        struct block_info bi;
        block_info(s[0], h, &bi);
        cr_assert_eq(bi.n_txs, 0, "idle block %llu carries %zu transactions", (unsigned long long)h,
                     bi.n_txs);
        cr_assert_eq(bi.n_results, 0);
        if (h > 1)
            cr_assert_geq(bi.time_ms - prev_ms, 750,
                          "blocks %llu and %llu only %llu ms apart (heartbeat 1000 ms)",
                          (unsigned long long)h - 1, (unsigned long long)h,
                          (unsigned long long)(bi.time_ms - prev_ms));
        prev_ms = bi.time_ms;
    }
    close_stores(s);
}

Test(production, txs_submitted_to_every_validator_commit_at_once_on_all)
{
    start_four("hansa-prod-3", "600000");
    enum { EACH = 3 };
    uint8_t ids[4 + 4 * EACH][WIRE_HASH_BYTES];
    size_t n = 0;

    /* One at a time through each validator: each commits on its own. */
    for (int i = 0; i < 4; i++, n++) {
        uint64_t t0 = proc_mono_ms();
        submit_one(i, ids[n]);
        uint64_t h = wait_committed(i, ids[n], t0 + 15000);
        if (h == 0)
            cluster_dump_log(&c, i, 30);
        cr_assert_neq(h, 0, "a tx via node%d was not committed within 15 s", i);
        fprintf(stderr, "production: tx via node%d committed at %llu in %llu ms\n", i,
                (unsigned long long)h, (unsigned long long)(proc_mono_ms() - t0));
    }

    /* A few through each at once, then their receipts. */
    for (int k = 0; k < EACH; k++)
        for (int i = 0; i < 4; i++)
            submit_one(i, ids[4 + (size_t)k * 4 + (size_t)i]);
    uint64_t deadline = proc_mono_ms() + 20000, top = 0;
    for (size_t j = 4; j < 4 + 4 * EACH; j++) {
        int i = (int)((j - 4) % 4);
        uint64_t h = wait_committed(i, ids[j], deadline);
        cr_assert_neq(h, 0, "tx %zu via node%d was not committed within 20 s", j, i);
        top = h > top ? h : top;
    }
    n = 4 + 4 * EACH;
    cr_assert(cluster_wait_height(&c, -1, top, 20000), "not every validator reached %llu",
              (unsigned long long)top);

    cluster_check_agreement(&c);
    struct store *s[4];
    uint64_t end = open_stores(s, 0);
    size_t in_blocks = 0;
    for (uint64_t h = 1; h <= end; h++) {
        struct block_info bi;
        block_info(s[0], h, &bi);
        cr_assert_gt(bi.n_txs, 0, "empty block %llu without a heartbeat", (unsigned long long)h);
        in_blocks += bi.n_txs;
    }
    cr_assert_eq(in_blocks, n, "%zu transactions in blocks, %zu submitted", in_blocks, n);
    for (size_t j = 0; j < n; j++) {
        uint64_t at0 = 0, at = 0;
        uint32_t idx = 0;
        cr_assert_eq(store_tx_location(s[0], ids[j], &at0, &idx), HANSA_OK);
        for (int i = 1; i < 4; i++) {
            cr_assert_eq(store_tx_location(s[i], ids[j], &at, &idx), HANSA_OK,
                         "node%d lacks tx %zu", i, j);
            cr_assert_eq(at, at0, "tx %zu at %llu on node%d, %llu on node0", j,
                         (unsigned long long)at, i, (unsigned long long)at0);
        }
    }
    close_stores(s);
}
