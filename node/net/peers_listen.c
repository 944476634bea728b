/*
 * The pull listener of the validator links: opening it, reading nng's
 * statistics of it, and keeping it alive.
 *
 * Why it needs keeping alive. In nng 1.5.2 a connection that fails during
 * negotiation can stop the listener's accept loop for good: the failure is
 * handed to the listener's accept callback, and one code there (NNG_ECLOSED,
 * what a peer closing at the wrong moment produces) reads as "the listener
 * was closed", after which nothing is ever accepted again (fixed upstream in
 * 1.6.0, where the transport maps it to NNG_ECONNSHUT). The transport still
 * completes TLS and SP handshakes, so dialers believe they are connected
 * and send into a pipe nobody reads. Measured here: a peer restarting
 * within ~100 ms of its first dial left the listener dead about once in 30
 * to 60 restarts; closing and re-creating the listener cured it every time.
 *
 * The same counters tell the watcher how many inbound connections failed
 * their handshake, by cause (peers_listener_rejects, PEER-INBOUND-REJECT):
 * "auth", "timeout" and "proto" directly, and dialers that hung up
 * mid-handshake (a node of another consortium refusing our certificate,
 * whose alert was lost) as the mixed errors that no pipe close matches
 * (peers_listener_settle).
 *
 * How it is detected. Every failed negotiation and every error of an
 * established pipe bumps one of the listener's error counters, and every
 * pipe of it that closes is counted (REM_POST, attributed by listener id).
 * Pipe errors and pipe closes pair up; an error counted in "other",
 * "disconnect", "canceled" or "oom" that no close matches for two watcher
 * ticks is a failed negotiation, which may have killed the accept loop.
 * ("auth", "proto" and "timeout" are left out: nng's accept callback
 * recovers from those, and a certificate of another CA produces "auth" on
 * every retry.) The suspicion is checked, at most every
 * PEERS_PROBE_PERIOD_MS, by dialing the listener as a peer would (own
 * certificate, own id as server name): if no pipe reaches the socket within
 * PEERS_PROBE_TIMEOUT_MS, the listener is closed and opened again on the
 * same port. That drops the inbound connections of the dead listener;
 * their dialers reconnect within 100 ms.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>

#include "log.h"
#include "peers_internal.h"
#include "tls.h"

/* Counters that only a failed negotiation moves, by cause; the accept
 * callback recovers from these. */
static const char *const tls_stats[] = {"auth"};
static const char *const timeout_stats[] = {"timeout"};
static const char *const proto_stats[] = {"proto"};
/* Counters shared by failed negotiations (a dialer hanging up mid-handshake,
 * including the fatal case) and errors of established pipes
 * (nni_pipe_bump_error). */
static const char *const mixed_stats[] = {"other", "disconnect", "canceled", "oom"};
#define N_STATS(a) (sizeof(a) / sizeof(a)[0])

static uint64_t sum_stats(nng_stat *endpoint, const char *const names[], size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; endpoint != NULL && i < n; i++) {
        nng_stat *s = nng_stat_find(endpoint, names[i]);
        if (s != NULL && nng_stat_type(s) == NNG_STAT_COUNTER)
            sum += nng_stat_value(s);
    }
    return sum;
}

/* The current listener's statistics in a snapshot, or NULL. Found by its
 * "id" statistic: nng 1.5.2's nng_stat_find_listener returns the first
 * listener of the process whatever the id (seen with the events, API and
 * peer listeners of one node), so the counters read were another
 * listener's and no refusal was ever logged. */
static nng_stat *current_stats(struct peers *p, nng_stat *root)
{
    unsigned id = atomic_load(&p->listener_id);
    if (root == NULL || id == 0)
        return NULL;
    for (nng_stat *e = nng_stat_child(root); e != NULL; e = nng_stat_next(e)) {
        if (nng_stat_type(e) != NNG_STAT_SCOPE || strcmp(nng_stat_name(e), "listener") != 0)
            continue;
        nng_stat *sid = nng_stat_find(e, "id");
        if (sid != NULL && nng_stat_value(sid) == id)
            return e;
    }
    return NULL;
}

/* The current listener's failed negotiations by cause (zeros if none). */
static void current_rejects(struct peers *p, nng_stat *root, uint64_t out[])
{
    for (int k = 0; k < PEERS_REJECT_COUNT; k++)
        out[k] = 0;
    if (root == NULL || atomic_load(&p->listener_id) == 0)
        return;
    out[PEERS_REJECT_HANG_UP] = atomic_load(&p->hang_ups);
    nng_stat *l = current_stats(p, root);
    out[PEERS_REJECT_TLS] = sum_stats(l, tls_stats, N_STATS(tls_stats));
    out[PEERS_REJECT_TIMEOUT] = sum_stats(l, timeout_stats, N_STATS(timeout_stats));
    out[PEERS_REJECT_PROTO] = sum_stats(l, proto_stats, N_STATS(proto_stats));
}

void peers_listener_rejects(struct peers *p, nng_stat *root, uint64_t out[])
{
    nng_stat *own = NULL;
    if (root == NULL && nng_stats_get(&own) == 0)
        root = own;
    current_rejects(p, root, out);
    for (int k = 0; k < PEERS_REJECT_COUNT; k++)
        out[k] += atomic_load(&p->rejects_base[k]);
    if (own != NULL)
        nng_stats_free(own);
}

uint64_t peers_listener_failures(struct peers *p, nng_stat *root)
{
    uint64_t by_cause[PEERS_REJECT_COUNT], n = 0;
    peers_listener_rejects(p, root, by_cause);
    for (int k = 0; k < PEERS_REJECT_COUNT; k++)
        n += by_cause[k];
    return n;
}

/* Errors in the mixed counters not matched by a pipe close. A live pipe's
 * error is counted before nng closes it (REM_POST), so the excess rises for
 * a moment and falls back; only what stays up for two ticks is a hang-up. A
 * pipe closed without an error lowers it; that too must hold for two ticks
 * (the snapshot and the close count are not read at one instant). */
void peers_listener_settle(struct peers *p, nng_stat *root)
{
    if (root == NULL || atomic_load(&p->listener_id) == 0)
        return;
    nng_stat *l = current_stats(p, root);
    if (l == NULL)
        return; /* closed under us: the listener check repairs it */
    int64_t excess = (int64_t)sum_stats(l, mixed_stats, N_STATS(mixed_stats)) -
                     (int64_t)atomic_load(&p->listener_closed);
    int64_t low = excess < p->hang_prev ? excess : p->hang_prev;
    int64_t high = excess > p->hang_prev ? excess : p->hang_prev;
    p->hang_prev = excess;
    if (low > p->hang_seen) {
        atomic_fetch_add(&p->hang_ups, (uint64_t)(low - p->hang_seen));
        p->hang_seen = low;
    } else if (high < p->hang_seen) {
        p->hang_seen = high;
    }
}

void peers_listener_url(const struct peers *p, char *url, size_t url_len)
{
    const struct node_url *u = &p->cfg->p2p_listen;
    if (u->port != 0 || p->port == 0) {
        snprintf(url, url_len, "%s", u->url);
        return;
    }
    bool v6 = strchr(u->host, ':') != NULL;
    snprintf(url, url_len, "tls+tcp://%s%s%s:%u", v6 ? "[" : "", u->host[0] != '\0' ? u->host : "*",
             v6 ? "]" : "", (unsigned)p->port);
}

/* Where a peer on this host reaches the listener: the listen host, or
 * loopback when it listens on every address. */
static void probe_url(const struct peers *p, char *url, size_t url_len)
{
    const char *host = p->cfg->p2p_listen.host;
    if (host[0] == '\0' || strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    bool v6 = strchr(host, ':') != NULL;
    snprintf(url, url_len, "tls+tcp://%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
             (unsigned)p->port);
}

hansa_err peers_listener_open(struct peers *p, const char *url, char *why, size_t why_len)
{
    nng_listener l;
    int rv = nng_listener_create(&l, p->pull, url);
    if (rv != 0) {
        snprintf(why, why_len, "cannot listen for peers on %s: %s", url, nng_strerror(rv));
        return HANSA_EIO;
    }
    rv = nng_listener_set_size(l, NNG_OPT_RECVMAXSZ, HANSA_PEER_MESSAGE_BYTES_MAX);
    if (rv == 0) {
        nng_tls_config *tls = NULL;
        hansa_err err = net_tls_server(p->cfg, NNG_TLS_AUTH_MODE_REQUIRED, &tls, why, why_len);
        if (err != HANSA_OK) {
            nng_listener_close(l);
            return err;
        }
        /* On the listener, never the socket (LIBNOTES 1.9, #1835); the
         * listener keeps its own reference. */
        rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls);
        nng_tls_config_free(tls);
    }
    if (rv == 0)
        rv = nng_listener_start(l, 0);
    int port = 0;
    if (rv == 0)
        rv = nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
    if (rv != 0) {
        snprintf(why, why_len, "cannot listen for peers on %s: %s", url, nng_strerror(rv));
        nng_listener_close(l);
        return HANSA_EIO;
    }
    if (p->port == 0)
        p->port = (uint16_t)port; /* a restart binds the same port again */
    atomic_store(&p->listener_closed, 0);
    atomic_store(&p->hang_ups, 0);
    atomic_store(&p->listener_id, (unsigned)nng_listener_id(l));
    p->excess_base = 0;
    p->excess_prev = 0;
    p->hang_seen = 0;
    p->hang_prev = 0;
    return HANSA_OK;
}

/* Wait until a new inbound pipe appears (true), the timeout passes or the
 * links close (true: nothing to repair then). */
static bool wait_inbound(struct peers *p, uint64_t before, uint32_t timeout_ms)
{
    uint64_t end_ms = peers_now_ms() + timeout_ms;
    bool seen = false;
    pthread_mutex_lock(&p->mu);
    while (!seen && !p->stopping && peers_now_ms() < end_ms) {
        struct timespec slice = peers_deadline_after(PEERS_WAIT_SLICE_MS);
        pthread_cond_timedwait(&p->cv_watch, &p->mu, &slice);
        seen = atomic_load(&p->inbound_opened) != before;
    }
    seen = seen || p->stopping;
    pthread_mutex_unlock(&p->mu);
    return seen;
}

bool peers_listener_probe(struct peers *p)
{
    char url[2 * NODE_CONFIG_URL_BYTES_MAX], why[256] = "";
    probe_url(p, url, sizeof url);
    uint64_t before = atomic_load(&p->inbound_opened);
    nng_socket s;
    if (nng_push0_open(&s) != 0)
        return true; /* cannot tell: leave the listener alone */
    nng_dialer d;
    nng_tls_config *tls = NULL;
    bool alive = true;
    if (nng_dialer_create(&d, s, url) == 0 &&
        net_tls_client(p->cfg, p->node_id, &tls, why, sizeof why) == HANSA_OK &&
        nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls) == 0 &&
        nng_dialer_start(d, NNG_FLAG_NONBLOCK) == 0)
        alive = wait_inbound(p, before, PEERS_PROBE_TIMEOUT_MS);
    else
        log_warn("PEER-LISTEN-PROBE", "cannot probe the listener at %s: %s", url,
                 why[0] != '\0' ? why : "nng refused the dialer");
    if (tls != NULL)
        nng_tls_config_free(tls);
    nng_close(s);
    return alive;
}

hansa_err peers_listener_restart(struct peers *p)
{
    char url[2 * NODE_CONFIG_URL_BYTES_MAX], why[512] = "";
    peers_listener_url(p, url, sizeof url);
    unsigned id = atomic_load(&p->listener_id);
    if (id != 0) {
        /* Keep the failed-handshake counts across listeners. */
        uint64_t by_cause[PEERS_REJECT_COUNT];
        peers_listener_rejects(p, NULL, by_cause);
        atomic_store(&p->listener_id, 0);
        for (int k = 0; k < PEERS_REJECT_COUNT; k++)
            atomic_store(&p->rejects_base[k], by_cause[k]);
        nng_listener old = NNG_LISTENER_INITIALIZER;
        old.id = id;
        nng_listener_close(old);
    }
    hansa_err err = peers_listener_open(p, url, why, sizeof why);
    if (err != HANSA_OK)
        log_error("PEER-LISTEN-FAIL", "%s (retrying every %u ms)", why, PEERS_PROBE_PERIOD_MS);
    else
        log_warn("PEER-LISTEN-RESTART", "listening for peers again on %s", url);
    return err;
}

void peers_listener_request_check(struct peers *p)
{
    atomic_store(&p->check_requested, true);
}

void peers_listener_check(struct peers *p, nng_stat *root, uint64_t now_ms)
{
    bool due = p->probe_ms == 0 || now_ms - p->probe_ms >= PEERS_PROBE_PERIOD_MS;
    if (atomic_load(&p->listener_id) == 0) { /* a restart failed */
        if (due) {
            p->probe_ms = now_ms;
            (void)peers_listener_restart(p);
        }
        return;
    }
    nng_stat *l = current_stats(p, root);
    /* No statistics: the listener is gone (closed under us), or nng keeps
     * none; only a requested check can tell then. */
    int64_t errors = l != NULL ? (int64_t)sum_stats(l, mixed_stats, N_STATS(mixed_stats))
                               : p->excess_base + (int64_t)atomic_load(&p->listener_closed);
    int64_t excess = errors - (int64_t)atomic_load(&p->listener_closed);
    if (excess < p->excess_base)
        p->excess_base = excess; /* a pipe closed without an error count */
    bool suspect = excess > p->excess_base && p->excess_prev > p->excess_base;
    p->excess_prev = excess;
    bool requested = atomic_exchange(&p->check_requested, false);
    if (!requested && !(suspect && due))
        return;
    p->probe_ms = now_ms;
    if (peers_listener_probe(p)) {
        p->excess_base = excess;
        return;
    }
    log_warn("PEER-LISTEN-STUCK",
             "the peer listener accepts no connections any more (nng 1.5.2 stops accepting "
             "after some failed negotiations); restarting it");
    (void)peers_listener_restart(p);
}
