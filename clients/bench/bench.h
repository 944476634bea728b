/*
 * hansa-bench: committed transactions per second and submit-to-commit
 * latency of a local validator network, against the machine's own Ed25519
 * bound (ISSUE 7, DESIGN.md §9). Not a test: a measurement.
 *
 * Modules:
 *   nodes.c     the network: `hansad testnet`, config.ini reading, starting
 *               and stopping the hansad processes, free ports
 *   workload.c  pre-generated, pre-signed transactions in chains of
 *               dependent steps (order -> payment, waybill -> shipment event
 *               -> financing request -> approval), each step valid once its
 *               prerequisites are committed, so everything commits RESULT_OK
 *   run.c       submitters (nng req0 contexts spread over the nodes),
 *               event subscribers (sub0 on every node), the ready queue,
 *               the measurement windows and the report
 *   main.c      options, the Ed25519 rate, the order of things
 *
 * Invariants: a transaction is submitted only after every prerequisite was
 * seen committed (receipt on some node's events); a transaction counts as
 * committed once, the first time any node reports it; committed tx/s comes
 * from block events (union over nodes by height), so a dropped receipt
 * loses a latency sample, never a committed transaction.
 */
#ifndef HANSA_BENCH_H
#define HANSA_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <nng/nng.h>

#include "hansa/wire.h"

#define BENCH_NODES_MAX 16

/* ---- the network ---- */

struct bench_node {
    char id[32];
    char home[600];
    char api_tls[128];
    char api_tcp[128];
    char events[128];
    pid_t pid; /* > 0: started by us */
};

struct bench_net {
    char dir[512];
    char chain_id[96];
    char ca_path[1300];
    int n;
    struct bench_node node[BENCH_NODES_MAX];
};

/* Write a testnet of n validators into dir with hansad at hansad_path, on
 * free ports below 32768. 0 on success; prints the reason otherwise. */
int bench_net_create(const char *hansad_path, const char *dir, int n);
/* Read dir/node<i>/config.ini for i = 0.. while present. */
int bench_net_load(const char *dir, struct bench_net *net);
/* Start every node not already answering; wait until all answer status. */
int bench_net_start(const char *hansad_path, struct bench_net *net, uint32_t timeout_ms);
/* SIGTERM the nodes we started, wait (SIGKILL after timeout_ms). */
void bench_net_stop(struct bench_net *net, uint32_t timeout_ms);
/* Resident set of a process in KiB (0 if unknown). */
uint64_t bench_rss_kib(pid_t pid);
/* CPU time (user + system) a process has used, µs (0 if unknown). */
uint64_t bench_cpu_us(pid_t pid);
/* Transactions in node i's mempool, from its status (-1 on failure). */
long bench_node_mempool(const struct bench_net *net, int i);
/* Height reported by node i's status over plain tcp (0 on failure). */
uint64_t bench_node_height(const struct bench_net *net, int i);

/* ---- the workload ---- */

enum bench_step {
    STEP_ORDER,
    STEP_PAYMENT,
    STEP_WAYBILL,
    STEP_EVENT,
    STEP_FIN_REQUEST,
    STEP_FIN_APPROVE,
    STEP_COUNT
};

struct bench_tx {
    uint8_t *req; /* the encoded Request{submit} */
    uint32_t req_len;
    uint32_t body_len;
    uint8_t id[WIRE_HASH_BYTES];
    uint32_t chain;
    uint8_t step;
    atomic_int deps_left; /* prerequisites not yet committed */
    atomic_int state;     /* 0 new, 1 submitted, 2 committed, 3 lost */
    uint8_t unknown;      /* reconciler passes that found no node knowing it */
    uint64_t submit_ns;
    uint64_t commit_ns;
    int result;
};

struct bench_load {
    struct bench_tx *tx;
    size_t n_tx;
    uint32_t n_chains;
    /* chain c's steps, index into tx or UINT32_MAX */
    uint32_t (*steps)[STEP_COUNT];
    /* tx id -> index, open addressing, size a power of two */
    uint32_t *map;
    size_t map_mask;
    uint64_t body_bytes;
};

struct bench_keys {
    struct wire_keypair merchant, platform, payment, logistics, bank;
};

enum bench_mix { MIX_TRADE, MIX_ORDERS };

int bench_keys_load(const char *net_dir, struct bench_keys *k);
/* Pre-generate n_chains chains, signed, under run tag run (unique ids).
 * Chain c is stamped (created_ms) span_ms × c ÷ n_chains after now: the
 * load is planned to be sent over span_ms. */
int bench_load_make(struct bench_load *l, const struct bench_keys *k, const char *chain_id,
                    const char *run, const char *line_id, uint32_t n_chains, enum bench_mix mix,
                    uint64_t span_ms);
void bench_load_free(struct bench_load *l);
/* Index of the tx with this id, or -1. */
long bench_load_find(const struct bench_load *l, const uint8_t id[WIRE_HASH_BYTES]);
/* Dependents of step s (indices of steps), n returned. */
int bench_step_dependents(enum bench_step s, enum bench_step out[2]);
const char *bench_step_name(enum bench_step s);
/* A signed OpenCreditLine (BANK-A -> MER-SZ-0001) as a Request. */
int bench_line_request(const struct bench_keys *k, const char *chain_id, const char *line_id,
                       uint8_t **req, size_t *len, uint8_t id[WIRE_HASH_BYTES]);

/* ---- the run ---- */

struct bench_opts {
    int clients;
    double rate; /* 0 = as fast as possible */
    int seconds;
    int warmup;
    int progress_s;
    bool poll; /* receipts by GetReceipt only, no tx/ events */
    const char *label;
};

struct bench_result {
    double tps, ok_tps, p50_ms, p90_ms, p99_ms;
    uint64_t committed, committed_ok, submitted, accepted, busy, rejected, samples;
    uint64_t blocks;
    uint64_t recovered;   /* receipts the reconciler found (pub/sub dropped them) */
    uint64_t lost;        /* admitted, then unknown to every node */
    double cpu_us_per_tx; /* CPU of the started nodes ÷ committed, over the window; 0 if none */
    bool exhausted;
};

uint64_t bench_now_ns(void);
/* nng_close each socket, giving up (and leaving them to the process exit)
 * if that hangs for 10 s (nng 1.5.2, LIBNOTES 1.9). */
void bench_close(const nng_socket *socks, int n);
/* Submit one Request and wait for the commit of tx_id (setup transactions). */
int bench_submit_wait(const struct bench_net *net, const uint8_t *req, size_t len,
                      const uint8_t id[WIRE_HASH_BYTES], uint32_t timeout_ms);
int bench_run(const struct bench_net *net, struct bench_load *l, const struct bench_opts *o,
              struct bench_result *r);

#endif
