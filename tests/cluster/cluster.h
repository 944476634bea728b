/*
 * A local network of real hansad processes for cluster tests: testnet
 * generation, start/stop/kill/pause of single validators, an API client
 * per node, a stream of signed transactions, and the end-of-test checks
 * (identical block hashes and state roots on every validator, every
 * transaction acknowledged as committed committed exactly once).
 * Waits are on conditions with deadlines, never fixed sleeps.
 */
#ifndef HANSA_TEST_CLUSTER_H
#define HANSA_TEST_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "proc.h"
#include "testclient.h"

#define CLUSTER_NODES_MAX 8

struct cluster_load;

struct cluster {
    char dir[256];
    char net[300];
    char chain[64];
    int n;
    int base_port;
    struct proc nodes[CLUSTER_NODES_MAX];
    bool running[CLUSTER_NODES_MAX];
    struct wire_keypair merchant, regulator;
    /* Transactions this test submitted and saw committed: (id, height). */
    uint8_t (*acked_ids)[WIRE_HASH_BYTES];
    uint64_t *acked_heights;
    size_t n_acked, cap_acked;
    int seq;
    /* The background submitter while it runs (cluster_load_start). */
    struct cluster_load *load;
};

/* testnet of n validators in a temp dir (asserts on failure). */
void cluster_init(struct cluster *c, int n, const char *chain);
/* Stop everything; remove the temp dir when keep is false. */
void cluster_fini(struct cluster *c, bool keep);

/* Set key = value in section [section] of node i's config.ini (before
 * starting it). */
void cluster_config_set(struct cluster *c, int i, const char *key, const char *value);
void cluster_start(struct cluster *c, int i);
void cluster_kill(struct cluster *c, int i); /* SIGKILL and reap */
void cluster_stop(struct cluster *c, int i); /* SIGTERM, expect exit 0 */
void cluster_signal(struct cluster *c, int i, int sig);
/* The key file of a party of the testnet. */
void cluster_load_key(struct cluster *c, const char *party, struct wire_keypair *kp);
/* A client of node i's plain-tcp API (caller tc_close()s). */
struct tc *cluster_client(struct cluster *c, int i, uint32_t timeout_ms);
/* The node's committed height via its API (0 if it does not answer). */
uint64_t cluster_height(struct cluster *c, int i);
/* Wait until node i (or every running node, i = -1) answers status. */
bool cluster_wait_ready(struct cluster *c, int i, uint32_t timeout_ms);
/* Wait until node i (or every running node, i = -1) reaches height. */
bool cluster_wait_height(struct cluster *c, int i, uint64_t height, uint32_t timeout_ms);
/* Print the last `lines` lines of node i's log to stderr (for a failing
 * wait: the log dies with the temp dir). */
void cluster_dump_log(struct cluster *c, int i, int lines);
/* The index of the running node with the highest height. */
int cluster_leader(struct cluster *c);

/* Submit k new orders to node i and wait up to timeout for each receipt;
 * committed ones are recorded as acknowledged. Returns how many committed. */
size_t cluster_submit(struct cluster *c, int i, size_t k, uint32_t timeout_ms);

/*
 * A client submitting signed transactions throughout: a thread that sends
 * about rate_per_s new orders a second, round-robin over the nodes the test
 * has running (cluster_start/kill/stop keep it informed; a node that
 * refuses or does not answer - paused, just killed, an impostor - is left
 * alone for a while), and polls receipts. Every transaction a node reports
 * committed is recorded as acknowledged, and cluster_load_stop adds them
 * to the cluster's list for cluster_check_agreement. One load at a time.
 */
void cluster_load_start(struct cluster *c, uint32_t rate_per_s);
/* Stop submitting, collect the receipts still due (a few seconds at most),
 * end the thread. *acked (optional): how many it saw committed in all.
 * Does nothing if no load runs. */
void cluster_load_stop(struct cluster *c, size_t *acked);
/* Progress of the running load (0 when none runs): transactions seen
 * committed; admitted by a node; admitted by node i with no commit seen yet
 * (in flight); the highest block height of a transaction seen committed. */
size_t cluster_load_acked(struct cluster *c);
size_t cluster_load_admitted(struct cluster *c);
size_t cluster_load_in_flight(struct cluster *c, int i);
uint64_t cluster_load_top_height(struct cluster *c);
/* Wait until the load has seen n transactions committed (n admitted;
 * node i holding a transaction in flight). False at the deadline or when a
 * running node exits (its log is printed). */
bool cluster_load_wait_acked(struct cluster *c, size_t n, uint32_t timeout_ms);
bool cluster_load_wait_admitted(struct cluster *c, size_t n, uint32_t timeout_ms);
bool cluster_load_wait_in_flight(struct cluster *c, int i, uint32_t timeout_ms);

/*
 * The end-of-test check, over every node:
 *   1. stop the load (cluster_load_stop);
 *   2. wait until every running validator reports the same height H;
 *   3. stop them all (clean exits), open their stores: each that was
 *      running holds at least H blocks;
 *   4. at every height any two have, the same block hash and the same state
 *      root after the block; each store's state root is its top block's;
 *   5. no transaction id in two blocks (or twice in one) on any node, and
 *      every acknowledged transaction in exactly one block, at the height
 *      its receipt gave, on every node that has that height.
 * Failures name the nodes and the height and print the nodes' log tails.
 */
void cluster_check_agreement(struct cluster *c);
/* The same over the nodes whose bit is set in nodes_mask (bit i = node i),
 * e.g. leaving out an impostor; the others are left as they are. */
void cluster_check_agreement_of(struct cluster *c, unsigned nodes_mask);

#endif
