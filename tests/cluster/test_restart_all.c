/*
 * Every validator killed at the same moment, mid-height and under load, and
 * restarted: the network resumes the height it left. Each node restores its
 * durable consensus state, the blocks of its lock and valid value, its last
 * signed vote and the valid value's POL (the prevotes that justify a
 * re-proposal, Alg. 1 line 28) from its own disk, because after a restart
 * of all of them no peer holds anything else. Nothing acknowledged is lost
 * and the validators agree at the end.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cluster.h"

static struct cluster c;

static void setup(void)
{
    cluster_init(&c, 4, "hansa-restart-1");
    for (int i = 0; i < 4; i++)
        cluster_start(&c, i);
    cr_assert(cluster_wait_ready(&c, -1, 30000), "the validators did not start");
}

static void teardown(void)
{
    cluster_fini(&c, false);
}

TestSuite(restart_all, .init = setup, .fini = teardown, .timeout = 600);

/* Submit n orders round-robin over the nodes without waiting for receipts,
 * so the kill lands with blocks being agreed on. */
static void submit_burst(int n, int *seq)
{
    struct wire_keypair merchant;
    cluster_load_key(&c, "MER-SZ-0001", &merchant);
    struct tc *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = cluster_client(&c, i, 10000);
    for (int k = 0; k < n; k++) {
        char order_no[32];
        snprintf(order_no, sizeof order_no, "RA-%06d", ++*seq);
        uint8_t *bytes = NULL, id[WIRE_HASH_BYTES];
        size_t len = 0;
        cr_assert_eq(tc_order_tx(c.chain, "MER-SZ-0001", &merchant, order_no, 1000 + *seq,
                                 tc_now_ms(), &bytes, &len, id),
                     HANSA_OK);
        Hansa__Response *r = NULL;
        if (tc_submit(t[k % 4], bytes, len, &r) == HANSA_OK)
            wire_free(r);
        free(bytes);
    }
    for (int i = 0; i < 4; i++)
        tc_close(t[i]);
}

/* How many lines of node i's log contain what. */
static int log_count(int i, const char *what)
{
    char path[400], line[2048];
    snprintf(path, sizeof path, "%s/node%d.log", c.dir, i);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strstr(line, what) != NULL)
            n++;
    if (f != NULL)
        fclose(f);
    return n;
}

Test(restart_all, every_validator_killed_at_once_resumes_where_it_left)
{
    int seq = 0;
    for (int round = 0; round < 3; round++) {
        uint64_t before = cluster_height(&c, cluster_leader(&c));
        submit_burst(400, &seq);
        if (!cluster_wait_height(&c, -1, before + 1, 60000)) {
            for (int i = 0; i < 4; i++)
                cluster_dump_log(&c, i, 30);
            cr_assert_fail("round %d: no block after the burst", round);
        }
        /* All four at the same moment: signals first, then reap. */
        for (int i = 0; i < 4; i++)
            cluster_signal(&c, i, SIGKILL);
        for (int i = 0; i < 4; i++) {
            cr_assert_eq(proc_wait(&c.nodes[i], 10000), 128 + SIGKILL);
            c.running[i] = false;
        }
        for (int i = 0; i < 4; i++)
            cluster_start(&c, i);
        cr_assert(cluster_wait_ready(&c, -1, 30000), "round %d: the validators did not restart",
                  round);
        uint64_t at = cluster_height(&c, cluster_leader(&c));
        if (!cluster_wait_height(&c, -1, at + 2, 90000)) {
            for (int i = 0; i < 4; i++)
                cluster_dump_log(&c, i, 40);
            cr_assert_fail("round %d: the network did not resume after height %llu", round,
                           (unsigned long long)at);
        }
    }
    int resumed = 0, pol = 0;
    for (int i = 0; i < 4; i++) {
        resumed += log_count(i, "CONSENSUS-RESUME ");
        pol += log_count(i, "CONSENSUS-RESUME-POL");
    }
    cr_log_info("restarts that resumed a vote: %d, that fed a saved POL back: %d", resumed, pol);
    cr_assert_eq(cluster_submit(&c, 1, 5, 60000), 5, "the chain does not commit after restarts");
    cluster_check_agreement(&c);
}
