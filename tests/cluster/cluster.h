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

/* Stop every node, then compare their stores: identical block hashes and
 * state roots at every height all have, the same height everywhere, and
 * every acknowledged tx committed at its height exactly once. */
void cluster_check_agreement(struct cluster *c);

#endif
