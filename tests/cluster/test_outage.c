/*
 * Catch-up after a long outage, and the door closed to outsiders:
 *   (c) a validator down for 1,000 blocks catches up (blocks verified by
 *       their commits, applied in order, progress in its log);
 *   (e) a fifth process holding a validator's identity but a certificate
 *       of another CA cannot join: it never receives or stores a block,
 *       and the chain goes on without it.
 * A client submits signed transactions throughout (the cluster's load,
 * about 50 a second, round-robin over the running nodes, the impostor
 * included), and each test ends with cluster_check_agreement over the
 * validators: one height, identical block hashes and state roots, every
 * acknowledged transaction committed exactly once.
 * Blocks come every 10 ms with transactions waiting and every 20 ms
 * without (heartbeat), so that 1,000 heights pass in about a minute and a
 * half.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cluster.h"
#include "store.h"

#define LOAD_TX_PER_S 50u

static struct cluster c;

static void setup(void)
{
    cluster_init(&c, 4, "hansa-outage-1");
    /* Fast blocks: with transactions waiting a block follows the last one
     * after interval_ms, without after heartbeat_ms. Short timeouts: with
     * node3 down, every fourth height waits for its proposer's timeout. */
    for (int i = 0; i < 4; i++) {
        cluster_config_set(&c, i, "interval_ms", "10");
        cluster_config_set(&c, i, "heartbeat_ms", "20");
        cluster_config_set(&c, i, "propose_timeout_ms", "100");
        cluster_config_set(&c, i, "vote_timeout_ms", "100");
    }
}

static void teardown(void)
{
    cluster_fini(&c, false);
}

TestSuite(outage, .init = setup, .fini = teardown, .timeout = 900);

static bool log_mentions(int i, const char *what)
{
    char path[400];
    snprintf(path, sizeof path, "%s/node%d.log", c.dir, i);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f) != NULL)
        found = strstr(line, what) != NULL;
    fclose(f);
    return found;
}

/* Every validator (nodes 0-2) has logged a refused inbound connection. */
static bool validators_logged_reject(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        if (!log_mentions(i, "PEER-INBOUND-REJECT"))
            return false;
    return true;
}

/* Wait until the load has seen `more` further transactions committed. */
static void expect_commits(size_t more, uint32_t timeout_ms, const char *when)
{
    size_t from = cluster_load_acked(&c);
    cr_assert(cluster_load_wait_acked(&c, from + more, timeout_ms),
              "%s: only %zu of %zu more transactions committed in %u ms", when,
              cluster_load_acked(&c) - from, more, timeout_ms);
}

/* Wait for node i at height h, printing progress every 15 s (the long waits
 * of this file); on failure print its log and node0's. */
static void expect_height(int i, uint64_t h, uint32_t timeout_ms, const char *what)
{
    uint64_t start = proc_mono_ms();
    for (;;) {
        uint64_t left = timeout_ms - (proc_mono_ms() - start);
        if (cluster_wait_height(&c, i, h, left < 15000 ? (uint32_t)left : 15000))
            break;
        uint64_t spent = proc_mono_ms() - start;
        fprintf(stderr, "%s: node%d at %llu of %llu after %llu s\n", what, i,
                (unsigned long long)cluster_height(&c, i), (unsigned long long)h,
                (unsigned long long)(spent / 1000));
        if (spent >= timeout_ms || !c.running[i]) {
            cluster_dump_log(&c, i, 60);
            if (i != 0)
                cluster_dump_log(&c, 0, 20);
            cr_assert_fail("%s: node%d not at height %llu within %u ms", what, i,
                           (unsigned long long)h, timeout_ms);
        }
    }
}

Test(outage, validator_down_for_a_thousand_blocks_catches_up)
{
    for (int i = 0; i < 4; i++)
        cluster_start(&c, i);
    cr_assert(cluster_wait_ready(&c, -1, 30000), "the validators did not start");
    cluster_load_start(&c, LOAD_TX_PER_S);
    /* node3 takes part first: it commits blocks holding the load's
     * transactions before it goes down. */
    expect_commits(30, 30000, "four up");
    expect_height(3, cluster_load_top_height(&c), 30000, "node3 before its outage");
    cluster_kill(&c, 3);
    uint64_t target = cluster_height(&c, 0) + 1000;
    uint64_t down_at = proc_mono_ms();
    expect_height(0, target, 600000, "the chain during node3's outage");
    fprintf(stderr, "1000 blocks without node3 in %llu s\n",
            (unsigned long long)((proc_mono_ms() - down_at) / 1000));
    cluster_start(&c, 3);
    uint64_t back_at = proc_mono_ms();
    expect_height(3, target, 600000, "node3 catching up");
    fprintf(stderr, "node3 caught up 1000 blocks in %llu s\n",
            (unsigned long long)((proc_mono_ms() - back_at) / 1000));
    cr_assert(log_mentions(3, "CATCHUP-PROGRESS"), "no catch-up progress in node3's log");
    expect_commits(20, 30000, "node3 back");
    cr_assert_eq(cluster_submit(&c, 3, 5, 20000), 5, "node3 does not serve after catch-up");
    cluster_check_agreement(&c);
}

/* The height of node i's store (the node stopped). */
static uint64_t store_height_of(int i)
{
    char data[400], why[256];
    snprintf(data, sizeof data, "%s/node%d/data", c.net, i);
    struct store *s = NULL;
    cr_assert_eq(store_open_readonly(data, &s, why, sizeof why), HANSA_OK, "node%d: %s", i, why);
    uint64_t h = store_height(s);
    store_close(s);
    return h;
}

Test(outage, process_with_a_foreign_certificate_cannot_join)
{
    for (int i = 0; i < 3; i++)
        cluster_start(&c, i);
    cr_assert(cluster_wait_ready(&c, -1, 30000), "the validators did not start");
    cluster_load_start(&c, LOAD_TX_PER_S);
    expect_commits(20, 30000, "three up");
    /* A second network: its CA is not ours. Its node certificate replaces
     * node3's, so the impostor has node3's id and validator key but not a
     * certificate of the consortium CA. */
    char other[400], cmd[4096], port[16];
    snprintf(other, sizeof other, "%s/other", c.dir);
    snprintf(port, sizeof port, "%d", proc_free_port_base(10));
    char *argv[] = {HANSA_BIN_DIR "/hansad",
                    "testnet",
                    "--validators",
                    "1",
                    "--dir",
                    other,
                    "--base-port",
                    port,
                    "--chain-id",
                    "hansa-outage-1",
                    NULL};
    char log[400];
    snprintf(log, sizeof log, "%s/other.log", c.dir);
    cr_assert_eq(proc_run(argv, log, 60000), 0);
    snprintf(cmd, sizeof cmd,
             "cp %s/node0/tls/node.crt %s/node3/tls/node.crt && "
             "cp %s/node0/tls/node.key %s/node3/tls/node.key && "
             "cp %s/node0/ca.crt %s/node3/ca.crt",
             other, c.net, other, c.net, other, c.net);
    cr_assert_eq(system(cmd), 0);
    cluster_start(&c, 3);
    /* It runs (and answers, and the load submits to it too) - it just never
     * gets in: the chain goes on without it, committing the load's
     * transactions, and what it admitted stays with it. */
    cr_assert(cluster_wait_ready(&c, 3, 30000), "the impostor did not start");
    cr_assert(cluster_load_wait_in_flight(&c, 3, 30000), "the impostor admitted nothing");
    uint64_t h = cluster_height(&c, 0);
    expect_height(0, h + 20, 60000, "the chain with the impostor running");
    expect_commits(50, 60000, "the impostor running");
    cr_assert_eq(cluster_height(&c, 3), 0, "the impostor received blocks");
    /* Its dials are refused and each validator says so in its log (at most
     * one line per 10 s). */
    if (!proc_wait_until(validators_logged_reject, NULL, 30000)) {
        for (int i = 0; i < 3; i++)
            cluster_dump_log(&c, i, 20);
        cr_assert_fail("a validator did not log PEER-INBOUND-REJECT for the impostor's dials");
    }
    cluster_kill(&c, 3);
    cr_assert_eq(store_height_of(3), 0, "the impostor stored blocks");
    cluster_check_agreement_of(&c, 0x7u); /* the validators, not the impostor */
}
