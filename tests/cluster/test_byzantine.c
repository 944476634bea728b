/*
 * A Byzantine validator as a real peer: byz_validator plays node3 with
 * node3's own TLS certificate and validator key (its home in the testnet),
 * while validators 0-2 run as hansad processes with the cluster's load. It
 * misbehaves at every height, at once and again every second:
 *
 *   proposals  for every round it proposes in (up to the 16 future rounds
 *              the core admits) it signs 40 different blocks and sends them
 *              all. The correct validators must take the first proposal of
 *              each round and ignore the rest (CONSENSUS-PROPOSER-
 *              EQUIVOCATION, once per height) and never lose the block they
 *              decide (CONSENSUS-NO-BLOCK). Before the shell ignored the
 *              extra proposals, each took a slot of its 32-block cache and
 *              pushed out others, the block about to be decided among them,
 *              and the validator stopped.
 *   catchup    it asks every validator for the first 16 blocks, hundreds
 *              of times a second. Each must answer it at most once per 50 ms
 *              (before, it answered every request, with up to 16 MiB of
 *              blocks each, on the thread that runs consensus).
 *   votes      it signs a prevote and a precommit for rounds 0-16 and
 *              100-399, and a second, different pair for rounds 0-16. The
 *              correct validators must commit its double votes as evidence
 *              and relay none of its junk: no vote of a round the core does
 *              not admit and no second vote of a round. Before, every
 *              validator kept up to 512 such votes a height and re-sent all
 *              of them to every peer every second, more than a peer's send
 *              queue (256) holds.
 *
 * In every mode the three correct validators keep committing the load's
 * transactions and agree at the end.
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

/* Run byz_validator as node3 in mode for FLOOD_S seconds; then the three
 * correct validators must be running, have committed at least min_heights
 * heights and 100 of the load's transactions meanwhile, and agree. The end
 * of its output (its counts) goes to out. */
static void run_byzantine(const char *mode, uint64_t min_heights, char *out, size_t out_len)
{
    char home[400], api[64], secs[16], log[400];
    snprintf(home, sizeof home, "%s/node%d", c.net, BYZ);
    snprintf(api, sizeof api, "tcp://127.0.0.1:%d", c.base_port + 2); /* node0's plain API */
    snprintf(secs, sizeof secs, "%d", FLOOD_S);
    snprintf(log, sizeof log, "%s/byz.log", c.dir);
    size_t acked = cluster_load_acked(&c);
    uint64_t h0 = cluster_height(&c, 0);
    struct proc byz;
    char *argv[] = {HANSA_BIN_DIR "/byz_validator", home, api, secs, (char *)mode, NULL};
    cr_assert_eq(proc_spawn(&byz, argv, log), 0);
    int status = proc_wait(&byz, (FLOOD_S + 60) * 1000);
    if (status < 0) {
        proc_signal(&byz, SIGKILL);
        proc_wait(&byz, 10000);
    }
    char cmd[500];
    snprintf(cmd, sizeof cmd, "tail -n 5 %s >&2", log);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(status, 0, "byz_validator failed (status %d)", status);
    FILE *f = fopen(log, "r");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    cr_assert_eq(fseek(f, size > (long)out_len - 1 ? size - ((long)out_len - 1) : 0, SEEK_SET), 0);
    size_t n = fread(out, 1, out_len - 1, f);
    out[n] = '\0';
    fclose(f);

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
    }
    /* Blocks come slower, but they come, and they hold the load's
     * transactions. */
    cr_assert_geq(h1, h0 + min_heights, "the chain stalled under the flood");
    cr_assert_geq(acked, 100, "the load's transactions stopped committing");
    cluster_check_agreement_of(&c, 0x7);
}

Test(byzantine, an_equivocating_proposer_cannot_stop_the_others)
{
    char out[4096];
    /* Every message of the flood is checked before it is found useless. */
    run_byzantine("proposals", 10, out, sizeof out);
    for (int i = 0; i < N_VALIDATORS; i++)
        if (i != BYZ)
            cr_assert_gt(log_count(i, "CONSENSUS-PROPOSER-EQUIVOCATION"), 0,
                         "node%d did not notice the equivocation", i);
}

Test(byzantine, a_catch_up_flood_is_answered_at_a_bounded_rate)
{
    char out[4096];
    /* It proposes nothing either (see below). */
    run_byzantine("catchup", 6, out, sizeof out);
    unsigned long answers = 0;
    const char *line = strstr(out, "catch-up answers ");
    cr_assert(line != NULL && sscanf(line, "catch-up answers %lu", &answers) == 1,
              "no answer count in byz_validator's output");
    /* Three validators, one answer each per 50 ms at most; it asked each
     * hundreds of times a second. */
    unsigned long most = 3ul * (FLOOD_S + 2) * 1000 / 50;
    fprintf(stderr, "%lu catch-up answers in %d s (at most %lu)\n", answers, FLOOD_S, most);
    cr_assert_gt(answers, 0, "nobody answered node%d's catch-up requests", BYZ);
    cr_assert_leq(answers, most, "%lu catch-up answers: not paced", answers);
}

Test(byzantine, double_votes_become_evidence_and_junk_votes_are_not_relayed)
{
    char out[4096];
    /* It proposes nothing: a height whose first proposer it is waits for
     * the propose timeout (4 s or so there, against 0.1-0.5 s elsewhere). */
    run_byzantine("votes", 6, out, sizeof out);
    unsigned long relayed = 0, junk = 0, second = 0;
    const char *line = strstr(out, "relayed ");
    cr_assert(line != NULL && sscanf(line, "relayed %lu votes: %lu of rounds 100 or later, %lu",
                                     &relayed, &junk, &second) == 3,
              "no relay count in byz_validator's output");
    /* The first vote of each admitted round is relayed (so the count sees
     * relays at all); nothing else of the flood is. */
    cr_assert_gt(relayed, 0, "no vote of node%d was relayed", BYZ);
    cr_assert_eq(junk, 0, "%lu votes of rounds no core admits were relayed", junk);
    cr_assert_eq(second, 0, "%lu second votes of a round were relayed", second);
    for (int i = 0; i < N_VALIDATORS; i++)
        if (i != BYZ)
            cr_assert_gt(log_count(i, "CONSENSUS-EVIDENCE-COMMITTED"), 0,
                         "node%d committed no evidence of the double votes", i);
}
