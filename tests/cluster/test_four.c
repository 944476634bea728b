/*
 * Four validators as real processes over mutual TLS, a client submitting
 * signed transactions throughout (the cluster's load: about 50 a second,
 * round-robin over the running validators, from setup to the final check),
 * and the faults of the consensus issue:
 *   (a) SIGKILL one validator with transactions in flight: the chain keeps
 *       committing; restart: it catches up;
 *   (b) stop two: the chain halts without forking; restart: it resumes;
 *   (d) SIGSTOP the proposer for 10 s, then SIGCONT: the others go on,
 *       and it catches up.
 * At the end of each (cluster_check_agreement): one height, identical block
 * hashes and state roots everywhere, every acknowledged transaction
 * committed exactly once.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include <criterion/criterion.h>

#include "cluster.h"

#define LOAD_TX_PER_S 50u

static struct cluster c;

static void setup(void)
{
    cluster_init(&c, 4, "hansa-four-1");
    for (int i = 0; i < 4; i++)
        cluster_start(&c, i);
    cr_assert(cluster_wait_ready(&c, -1, 30000), "the validators did not start");
    cluster_load_start(&c, LOAD_TX_PER_S);
}

static void teardown(void)
{
    cluster_fini(&c, false);
}

TestSuite(four, .init = setup, .fini = teardown, .timeout = 600);

/* Wait until the load has seen `more` further transactions committed. */
static void expect_commits(size_t more, uint32_t timeout_ms, const char *when)
{
    size_t from = cluster_load_acked(&c);
    cr_assert(cluster_load_wait_acked(&c, from + more, timeout_ms),
              "%s: only %zu of %zu more transactions committed in %u ms", when,
              cluster_load_acked(&c) - from, more, timeout_ms);
}

static void expect_height(int i, uint64_t h, uint32_t timeout_ms, const char *what)
{
    if (!cluster_wait_height(&c, i, h, timeout_ms)) {
        if (i >= 0)
            cluster_dump_log(&c, i, 40);
        cr_assert_fail("%s: not at height %llu within %u ms", what, (unsigned long long)h,
                       timeout_ms);
    }
}

Test(four, commits_with_one_validator_killed_and_catches_it_up)
{
    expect_commits(20, 30000, "four up");
    /* Kill it while it holds admitted transactions not yet committed. */
    cr_assert(cluster_load_wait_in_flight(&c, 3, 10000), "node3 never held a transaction");
    cluster_kill(&c, 3);
    expect_commits(100, 60000, "node3 down");
    uint64_t h = cluster_height(&c, 0);
    cluster_start(&c, 3);
    expect_height(3, h, 60000, "node3 after its restart");
    expect_commits(20, 30000, "node3 back");
    cr_assert_eq(cluster_submit(&c, 3, 5, 20000), 5, "node3 does not serve after catch-up");
    cluster_check_agreement(&c);
}

/* Every running node is at height h. */
static bool all_at(uint64_t h)
{
    for (int i = 0; i < 4; i++)
        if (c.running[i] && cluster_height(&c, i) != h)
            return false;
    return true;
}

/* All running nodes show one height, the same as at the last look (*arg,
 * UINT64_MAX at first): no block is still on its way. */
static bool settled(void *arg)
{
    uint64_t *h = arg, last = *h;
    *h = cluster_height(&c, 0);
    return *h == last && all_at(*h);
}

Test(four, halts_without_two_and_resumes_when_they_return)
{
    expect_commits(20, 30000, "four up");
    cluster_kill(&c, 2);
    cluster_kill(&c, 3);
    /* A block the two had voted for may still commit: wait for the two left
     * to agree on where they stopped. */
    uint64_t h = UINT64_MAX;
    cr_assert(proc_wait_until(settled, &h, 20000), "nodes 0 and 1 never showed one height");
    /* The load goes on to nodes 0 and 1: 150 more transactions admitted
     * (about 3 s, several propose timeouts) and not one block. */
    size_t admitted = cluster_load_admitted(&c);
    cr_assert(cluster_load_wait_admitted(&c, admitted + 150, 30000),
              "nodes 0 and 1 stopped admitting transactions");
    cr_assert(all_at(h), "the chain moved past %llu without a quorum", (unsigned long long)h);
    cr_assert_leq(cluster_load_top_height(&c), h, "a transaction committed without a quorum");
    cluster_start(&c, 2);
    cluster_start(&c, 3);
    expect_height(-1, h + 1, 60000, "the chain after two returned");
    expect_commits(100, 60000, "all four back");
    cluster_check_agreement(&c);
}

static bool pause_over(void *arg)
{
    return proc_mono_ms() - *(const uint64_t *)arg >= 10000;
}

Test(four, survives_a_paused_proposer)
{
    expect_commits(20, 30000, "four up");
    uint64_t h = cluster_height(&c, 0);
    int proposer = (int)((h + 1) % 4); /* round 0 proposer of the next height */
    int other = (proposer + 1) % 4;
    size_t acked = cluster_load_acked(&c);
    uint64_t from = cluster_height(&c, other);
    cluster_signal(&c, proposer, SIGSTOP);
    uint64_t paused_at = proc_mono_ms();
    /* The others go on for the 10 s of the pause (every fourth height waits
     * out the 3 s propose timeout), committing the load's transactions. */
    cr_assert(proc_wait_until(pause_over, &paused_at, 15000));
    uint64_t to = cluster_height(&c, other);
    acked = cluster_load_acked(&c) - acked;
    fprintf(stderr, "node%d paused 10 s: heights %llu to %llu, %zu transactions committed\n",
            proposer, (unsigned long long)from, (unsigned long long)to, acked);
    cr_assert_gt(to, from, "the chain stalled during the pause");
    cr_assert_geq(acked, 10, "only %zu transactions committed during the pause", acked);
    cluster_signal(&c, proposer, SIGCONT);
    uint64_t now = cluster_height(&c, other);
    expect_height(proposer, now, 60000, "the paused node after SIGCONT");
    expect_commits(20, 30000, "the proposer back");
    cluster_check_agreement(&c);
}
