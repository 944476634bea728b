/*
 * Catch-up after a long outage, and the door closed to outsiders:
 *   (c) a validator down for 1,000 blocks catches up (blocks verified by
 *       their commits, applied in order, progress in its log);
 *   (e) a fifth process holding a validator's identity but a certificate
 *       of another CA cannot join: it never receives a block, while the
 *       chain goes on without it.
 * Empty blocks come every 50 ms here (heartbeat) so that 1,000 heights
 * pass quickly.
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
    cluster_init(&c, 4, "hansa-outage-1");
    /* Short timeouts: with node3 down, every fourth height waits for its
     * proposer's timeout. */
    for (int i = 0; i < 4; i++) {
        cluster_config_set(&c, i, "heartbeat_ms", "50");
        cluster_config_set(&c, i, "propose_timeout_ms", "200");
        cluster_config_set(&c, i, "vote_timeout_ms", "200");
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

Test(outage, validator_down_for_a_thousand_blocks_catches_up)
{
    for (int i = 0; i < 3; i++)
        cluster_start(&c, i);
    cr_assert_gt(cluster_submit(&c, 0, 5, 20000), 0);
    uint64_t target = cluster_height(&c, 0) + 1000;
    cr_assert(cluster_wait_height(&c, 0, target, 600000), "the chain did not reach %llu",
              (unsigned long long)target);
    cluster_start(&c, 3);
    if (!cluster_wait_height(&c, 3, target, 600000)) {
        cluster_dump_log(&c, 3, 60);
        cluster_dump_log(&c, 0, 20);
        cr_assert_fail("node3 did not catch up (at %llu of %llu)",
                       (unsigned long long)cluster_height(&c, 3), (unsigned long long)target);
    }
    cr_assert(log_mentions(3, "CATCHUP-PROGRESS"), "no catch-up progress in node3's log");
    cr_assert_gt(cluster_submit(&c, 3, 5, 20000), 0, "node3 does not serve after catch-up");
    cluster_check_agreement(&c);
}

Test(outage, process_with_a_foreign_certificate_cannot_join)
{
    for (int i = 0; i < 3; i++)
        cluster_start(&c, i);
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
    /* It runs (and answers) - it just never gets in. */
    cr_assert(cluster_wait_ready(&c, 3, 30000), "the impostor did not start");
    uint64_t h = cluster_height(&c, 0);
    cr_assert(cluster_wait_height(&c, 0, h + 20, 60000), "the chain stopped");
    cr_assert_eq(cluster_height(&c, 3), 0, "the impostor received blocks");
    cluster_kill(&c, 3);
    for (int i = 0; i < 3; i++)
        cluster_stop(&c, i);
}
