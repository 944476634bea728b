/*
 * A Byzantine validator as a real peer: byz_proposer plays node3 with
 * node3's own TLS certificate and validator key (its home in the testnet),
 * while validators 0-2 run as hansad processes with the cluster's load. As
 * proposer it equivocates at every height: for every round it proposes in
 * (up to the 16 future rounds the core admits), it signs 40 different
 * blocks and sends them all, at once and again every second.
 *
 * The three correct validators must take the first proposal of each round
 * and ignore the rest (CONSENSUS-PROPOSER-EQUIVOCATION, once per height),
 * keep committing the load's transactions, never lose the block they
 * decide (CONSENSUS-NO-BLOCK), and agree at the end. Before the shell
 * ignored the extra proposals, each one took a slot of its 32-block cache
 * and pushed out others, the block about to be decided among them, and the
 * validator stopped.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cluster.h"

#define BYZ          3
#define N_VALIDATORS 4
#define FLOOD_S      15

static struct cluster c;

static void setup(void)
{
    cluster_init(&c, N_VALIDATORS, "hansa-byz-1");
    for (int i = 0; i < N_VALIDATORS; i++)
        if (i != BYZ)
            cluster_start(&c, i);
    cr_assert(cluster_wait_ready(&c, -1, 30000), "the validators did not start");
    cluster_load_start(&c, 50);
}

static void teardown(void)
{
    cluster_fini(&c, false);
}

TestSuite(byzantine, .init = setup, .fini = teardown, .timeout = 600);

/* Log lines of node i holding needle. */
static size_t log_count(int i, const char *needle)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "grep -c '%s' %s/node%d.log", needle, c.dir, i);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    unsigned long n = 0;
    if (fscanf(f, "%lu", &n) != 1)
        n = 0;
    pclose(f);
    return (size_t)n;
}

Test(byzantine, an_equivocating_proposer_cannot_stop_the_others)
{
    char home[400], api[64], secs[16], log[400];
    snprintf(home, sizeof home, "%s/node%d", c.net, BYZ);
    snprintf(api, sizeof api, "tcp://127.0.0.1:%d", c.base_port + 2); /* node0's plain API */
    snprintf(secs, sizeof secs, "%d", FLOOD_S);
    snprintf(log, sizeof log, "%s/byz.log", c.dir);
    size_t acked = cluster_load_acked(&c);
    uint64_t h0 = cluster_height(&c, 0);
    struct proc byz;
    char *argv[] = {HANSA_BIN_DIR "/byz_proposer", home, api, secs, NULL};
    cr_assert_eq(proc_spawn(&byz, argv, log), 0);
    int status = proc_wait(&byz, (FLOOD_S + 60) * 1000);
    if (status < 0) {
        proc_signal(&byz, SIGKILL);
        proc_wait(&byz, 10000);
    }
    char cmd[500];
    snprintf(cmd, sizeof cmd, "tail -n 5 %s >&2", log);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(status, 0, "byz_proposer failed (status %d)", status);

    uint64_t h1 = cluster_height(&c, 0);
    acked = cluster_load_acked(&c) - acked;
    fprintf(stderr, "heights %" PRIu64 " to %" PRIu64 ", %zu transactions committed meanwhile\n",
            h0, h1, acked);
    for (int i = 0; i < N_VALIDATORS; i++) {
        if (i == BYZ)
            continue;
        bool stopped = !c.running[i] || proc_exited(&c.nodes[i], NULL);
        if (stopped || log_count(i, "CONSENSUS-NO-BLOCK") > 0) {
            cluster_dump_log(&c, i, 20);
            cr_assert_fail("node%d %s", i, stopped ? "stopped" : "lost a decided block");
        }
        cr_assert_gt(log_count(i, "CONSENSUS-PROPOSER-EQUIVOCATION"), 0,
                     "node%d did not notice the equivocation", i);
    }
    /* Blocks come slower (every proposal is checked before it is found to
     * be a second one), but they come, and they hold the load's
     * transactions. */
    cr_assert_geq(h1, h0 + 10, "the chain stalled under the flood");
    cr_assert_geq(acked, 100, "the load's transactions stopped committing");
    cluster_check_agreement_of(&c, 0x7);
}
