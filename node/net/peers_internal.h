/*
 * Private state of the validator links (peers.h), shared by peers.c (sockets,
 * receive thread, inbound queue) and peers_watch.c (the watcher thread that
 * turns counters into log lines).
 *
 * Threads and what they touch:
 *   - the caller (the node's event loop): peers_broadcast, peers_send,
 *     peers_next, peers_wake, peers_stats;
 *   - the receive thread: blocking nng_recvmsg on the pull socket, decode,
 *     checks, push onto the inbound queue;
 *   - the watcher thread: wakes every PEERS_WATCH_PERIOD_MS, reads the
 *     counters and nng's listener statistics, logs transitions and
 *     rate-limited warnings, and restarts a listener that stopped accepting
 *     (peers_listen.c). Nothing else logs per message;
 *   - nng's pipe-notify callbacks: run with the socket lock held, so they
 *     touch atomics only (LIBNOTES 1.5).
 *
 * Invariants:
 *   1. Counters are atomics, written with relaxed order; the inbound queue
 *      (ring, head, count) and the wake flag are guarded by mu.
 *   2. 0 <= count <= cap; ring[(head + i) % cap] for i < count are owned
 *      messages; the rest of ring is garbage.
 *   3. link->pipe_id != 0 exactly when that push socket has a live pipe,
 *      and peers_connected counts the links with pipe_id != 0.
 *   4. Watcher-only fields (seen_*, warn_*, excess_*, hang_seen, hang_prev, probe_ms) are touched
 *      by the watcher thread only (and by peers_open before it starts).
 *   5. listener_id names the listener whose pipes listener_closed counts;
 *      it is 0 while a restart is under way or has failed.
 */
#ifndef HANSA_NET_PEERS_INTERNAL_H
#define HANSA_NET_PEERS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <nng/nng.h>

#include "config.h"
#include "peers.h"

/* The watcher looks at counters once a second: connection changes show in
 * the log within a second, and a second of stats snapshots costs nothing. */
#define PEERS_WATCH_PERIOD_MS 1000u
/* A repeated warning of one kind is logged at most once per 10 s, with the
 * count of what happened meanwhile (never one line per message). */
#define PEERS_WARN_PERIOD_MS 10000u
/* A peer without a connection for 10 s is worth a warning (a restart takes
 * less); while it stays down, a reminder every minute. */
#define PEERS_UNREACHABLE_MS        10000u
#define PEERS_UNREACHABLE_REPEAT_MS 60000u

/* Kinds of rate-limited warnings; each has its own counter and period. */
enum peers_warn_kind {
    PEERS_WARN_SEND_DROP,      /* PEER-DROP-SEND: a per-peer send queue was full */
    PEERS_WARN_QUEUE_FULL,     /* PEER-DROP-FULL: the inbound queue was full */
    PEERS_WARN_MALFORMED,      /* PEER-MALFORMED: undecodable or empty message */
    PEERS_WARN_WRONG_CHAIN,    /* PEER-WRONG-CHAIN */
    PEERS_WARN_UNKNOWN_SENDER, /* PEER-UNKNOWN-SENDER */
    PEERS_WARN_INBOUND_FAIL,   /* PEER-INBOUND-REJECT: failed inbound handshakes */
    PEERS_WARN_ENCODE,         /* PEER-ENCODE-FAIL: a message too large to send */
    PEERS_WARN_COUNT
};

/* Why an inbound connection failed before it became a pipe, from the
 * listener's error counters in nng 1.5.2 (peers_listen.c). */
enum peers_reject {
    PEERS_REJECT_TLS,     /* "auth": the TLS handshake failed here (a certificate
                             not of our CA, none, or not TLS at all) */
    PEERS_REJECT_HANG_UP, /* "other", "disconnect", "canceled", "oom" beyond the
                             errors of live pipes: the dialer closed or reset
                             mid-handshake (e.g. it refused our certificate) */
    PEERS_REJECT_TIMEOUT, /* "timeout": no handshake within nng's 10 s */
    PEERS_REJECT_PROTO,   /* "proto": TLS done, SP negotiation failed */
    PEERS_REJECT_COUNT
};

/* One peer: the push socket that dials its listener. */
struct peers_link {
    struct peers *owner;
    char id[HANSA_ID_LEN_MAX + 1];
    char url[NODE_CONFIG_URL_BYTES_MAX];
    nng_socket sock;
    nng_dialer dialer;
    bool sock_open, dialer_open;

    atomic_uint pipe_id;           /* the live pipe, 0 when disconnected */
    atomic_uint_fast64_t connects; /* ADD_POST events ever */

    /* Watcher only. */
    uint64_t seen_connects;
    bool seen_up;
    uint64_t down_since_ms; /* first tick that saw it down, 0 = up */
    uint64_t warn_down_ms;  /* last PEER-UNREACHABLE line, 0 = none */
};

struct peers {
    char node_id[HANSA_ID_LEN_MAX + 1];
    char chain_id[HANSA_CHAIN_ID_LEN_MAX + 1];
    char listen_url[NODE_CONFIG_URL_BYTES_MAX];

    struct node_config *cfg; /* heap copy: TLS files and the listen address,
                                for listener restarts and probes */
    nng_socket pull;
    bool pull_open;
    atomic_uint listener_id;              /* the current listener, 0 = none */
    atomic_uint_fast64_t listener_closed; /* its pipes closed (REM_POST) */
    /* Failed inbound handshakes of earlier listeners, by cause. */
    atomic_uint_fast64_t rejects_base[PEERS_REJECT_COUNT];
    /* The current listener's hang-ups, as the watcher settled them. */
    atomic_uint_fast64_t hang_ups;
    atomic_bool check_requested; /* peers_listener_request_check */
    uint16_t port;               /* bound at open; restarts keep it */

    struct peers_link *links;
    size_t n_links;

    /* Inbound queue and wake flag (invariant 1, 2). */
    pthread_mutex_t mu;
    pthread_cond_t cv_msg;      /* a message was queued, or peers_wake */
    pthread_cond_t cv_progress; /* the receive thread handled a message */
    pthread_cond_t cv_watch;    /* the watcher should stop */
    bool sync_ready;            /* mu and the conds are initialised */
    Hansa__ConsensusMessage **ring;
    size_t cap, head, count;
    bool wake;
    bool stopping;
    atomic_uint progress_waiters;

    pthread_t recv_thread, watch_thread;
    bool recv_started, watch_started;

    /* Counters (peers_stats and peers_inbound_stats). */
    atomic_uint_fast64_t sent, send_dropped;
    atomic_uint_fast64_t received, recv_dropped;
    atomic_uint_fast64_t malformed, wrong_chain, unknown_sender;
    atomic_uint_fast64_t encode_failed; /* logged only; its copies count in send_dropped */
    atomic_uint connected;
    atomic_uint_fast64_t inbound_opened, inbound_closed; /* pull pipes: ADD_PRE, REM_POST */

    /* Watcher only: last reported totals and times per warning kind. */
    uint64_t warn_total[PEERS_WARN_COUNT];
    uint64_t warn_ms[PEERS_WARN_COUNT];
    /* Watcher only: the listener check of peers_listen.c. */
    int64_t excess_base, excess_prev; /* listener errors not matched by closes */
    uint64_t probe_ms;                /* last probe or restart attempt, 0 = none */
    /* Watcher only: hang-up accounting (peers_listener_settle). */
    int64_t hang_seen, hang_prev; /* listener errors not matched by closes */
    /* Watcher only: the causes at the last PEER-INBOUND-REJECT line. */
    uint64_t warn_rejects[PEERS_REJECT_COUNT];
};

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t peers_now_ms(void);
/* The CLOCK_MONOTONIC time timeout_ms from now, for pthread_cond_timedwait
 * on the conds of struct peers (created with CLOCK_MONOTONIC). */
struct timespec peers_deadline_after(uint32_t timeout_ms);

/* ---- peers_listen.c: the pull listener -------------------------------------- */

/* A probe of the listener waits this long for its pipe to reach the socket
 * (a TLS handshake takes ~40 ms here; 5 s leaves room for a loaded host),
 * and probes or restarts happen at most this often. */
#define PEERS_PROBE_TIMEOUT_MS 5000u
#define PEERS_PROBE_PERIOD_MS  5000u

/* Create and start a listener on url for p->pull (TLS auth REQUIRED,
 * RECVMAXSZ) and make it the current one. */
hansa_err peers_listener_open(struct peers *p, const char *url, char *why, size_t why_len);
/* Failed inbound handshakes so far by cause (out[PEERS_REJECT_COUNT]),
 * across listener restarts, from nng's statistics (root: a snapshot, or
 * NULL to take one) and the hang-ups the watcher settled. Any thread. */
void peers_listener_rejects(struct peers *p, nng_stat *root, uint64_t out[]);
/* Their sum. */
uint64_t peers_listener_failures(struct peers *p, nng_stat *root);
/* Watcher, every tick: count the hang-ups in the snapshot root. nng files
 * them under the same counters as the errors of live pipes; a pipe's error
 * is matched by its close (REM_POST) within a tick, so what stays
 * unmatched for two ticks is a hang-up. */
void peers_listener_settle(struct peers *p, nng_stat *root);
/* The address the listener is bound to, as a URL (the bound port in place
 * of port 0). */
void peers_listener_url(const struct peers *p, char *url, size_t url_len);
/* Dial the listener as a peer would; true if its pipe reached the socket
 * within PEERS_PROBE_TIMEOUT_MS (or the links are closing). Blocks. */
bool peers_listener_probe(struct peers *p);
/* Close the current listener and listen again on the same address. */
hansa_err peers_listener_restart(struct peers *p);
/* Have the watcher probe the listener on its next tick (and restart it if
 * it is dead), whatever the counters say. For tests. */
void peers_listener_request_check(struct peers *p);
/* The watcher's check: probe on an unexplained failed negotiation, or when
 * requested; restart a listener that no longer accepts. */
void peers_listener_check(struct peers *p, nng_stat *root, uint64_t now_ms);

/* The watcher thread's body; arg is the struct peers. */
void *peers_watch_main(void *arg);

#endif
