/*
 * Four validators as real processes over mutual TLS, a client submitting
 * signed transactions throughout, and the faults of the consensus issue:
 *   (a) SIGKILL one validator: the chain keeps committing; restart: it
 *       catches up;
 *   (b) stop two: the chain halts without forking; restart: it resumes;
 *   (d) SIGSTOP the proposer for 10 s, then SIGCONT: the others go on,
 *       and it catches up.
 * At the end of each: identical block hashes and state roots everywhere,
 * every acknowledged transaction committed exactly once.
 */
#include <signal.h>

#include <criterion/criterion.h>

#include "cluster.h"

static struct cluster c;

static void setup(void)
{
    cluster_init(&c, 4, "hansa-four-1");
    for (int i = 0; i < 4; i++)
        cluster_start(&c, i);
    cr_assert(cluster_wait_ready(&c, -1, 30000), "the validators did not start");
}

static void teardown(void)
{
    cluster_fini(&c, false);
}

TestSuite(four, .init = setup, .fini = teardown, .timeout = 600);

Test(four, commits_with_one_validator_killed_and_catches_it_up)
{
    cr_assert_gt(cluster_submit(&c, 0, 20, 20000), 0, "nothing committed with four up");
    cluster_kill(&c, 3);
    size_t done = cluster_submit(&c, 0, 20, 20000);
    cr_assert_eq(done, 20, "with one of four down, only %zu of 20 committed", done);
    uint64_t h = cluster_height(&c, 0);
    cluster_start(&c, 3);
    cr_assert(cluster_wait_height(&c, 3, h, 60000), "node3 did not catch up to %llu",
              (unsigned long long)h);
    cr_assert_eq(cluster_submit(&c, 3, 10, 20000), 10);
    cluster_check_agreement(&c);
}

Test(four, halts_without_two_and_resumes_when_they_return)
{
    cr_assert_gt(cluster_submit(&c, 0, 10, 20000), 0);
    cluster_kill(&c, 2);
    cluster_kill(&c, 3);
    uint64_t h = cluster_height(&c, 0);
    cr_assert_eq(cluster_submit(&c, 0, 5, 3000), 0, "committed without a quorum");
    cr_assert_eq(cluster_height(&c, 0), h, "the chain moved without a quorum");
    cluster_start(&c, 2);
    cluster_start(&c, 3);
    cr_assert(cluster_wait_height(&c, -1, h + 1, 60000), "the chain did not resume");
    cr_assert_gt(cluster_submit(&c, 1, 10, 20000), 0);
    cluster_check_agreement(&c);
}

Test(four, survives_a_paused_proposer)
{
    cr_assert_gt(cluster_submit(&c, 0, 10, 20000), 0);
    uint64_t h = cluster_height(&c, 0);
    int proposer = (int)((h + 1) % 4); /* round 0 proposer of the next height */
    cluster_signal(&c, proposer, SIGSTOP);
    uint64_t paused_at = proc_mono_ms();
    int other = (proposer + 1) % 4;
    /* Keep the chain busy through the others for the 10 s of the pause. */
    size_t done = 0, sent = 0;
    while (proc_mono_ms() - paused_at < 10000) {
        done += cluster_submit(&c, other, 5, 30000);
        sent += 5;
    }
    cr_assert_eq(done, sent, "with the proposer paused only %zu of %zu committed", done, sent);
    cluster_signal(&c, proposer, SIGCONT);
    uint64_t now = cluster_height(&c, other);
    cr_assert(cluster_wait_height(&c, proposer, now, 60000), "the paused node did not catch up");
    cluster_check_agreement(&c);
}
