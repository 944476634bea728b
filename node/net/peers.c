/*
 * Validator links (see peers.h for the contract, peers_internal.h for the
 * threads and invariants). This file holds the sockets, the send paths, the
 * receive thread and the bounded inbound queue; peers_listen.c the
 * listener (and its repair), peers_watch.c the logging.
 *
 * Lifecycle:
 *
 *   peers_open:  pull0 listener (TLS auth REQUIRED, RECVMAXSZ) -> one push0
 *                socket + non-blocking dialer per peer (own TLS config with
 *                server name = peer id) -> receive thread -> watcher thread
 *   running:     sends never block; the receive thread queues or drops
 *   peers_close: stop watcher -> close pull (receive thread wakes with
 *                NNG_ECLOSED) -> join -> close push sockets -> free queue
 *
 * peers_close accepts every half-built state peers_open can leave.
 *
 * The receive thread blocks in nng_recvmsg without a timeout on purpose:
 * receive timeouts race with arriving messages in nng 1.5.2 (LIBNOTES 1.9),
 * and closing the socket is the wake-up.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include "hansa/assert.h"
#include "log.h"
#include "peers_internal.h"
#include "tls.h"

/* Messages queued per peer before sends drop. One height costs a peer about
 * a proposal, two votes from each of up to 64 validators (relayed), a status
 * and a few transaction batches: ~140-200 messages. 256 absorbs one such
 * burst while the peer's TCP window is full or it is reconnecting; a peer
 * further behind is dropped from and catches up instead. */
#define PEERS_SEND_QUEUE_MSGS 256
/* Reconnect back-off: first retry after 100 ms, doubling to 5 s (nng's
 * default is 1 s forever, LIBNOTES 1.2). */
#define PEERS_RECONNECT_MIN_MS 100
#define PEERS_RECONNECT_MAX_MS 5000

_Static_assert(PEERS_SEND_QUEUE_MSGS <= 8192, "nng's push0 SENDBUF range is 0-8192");

uint64_t peers_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void count(atomic_uint_fast64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static uint64_t load(atomic_uint_fast64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- pipe callbacks (socket lock held: atomics only) ------------------------ */

static void link_pipe_cb(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
    struct peers_link *link = arg;
    unsigned id = (unsigned)nng_pipe_id(pipe);
    if (ev == NNG_PIPE_EV_ADD_POST) {
        count(&link->connects);
        if (atomic_exchange(&link->pipe_id, id) == 0)
            atomic_fetch_add(&link->owner->connected, 1);
    } else if (ev == NNG_PIPE_EV_REM_POST) {
        /* Only the pipe that was added counts: REM_POST also fires for a
         * pipe closed between ADD_PRE and ADD_POST. */
        unsigned expected = id;
        if (atomic_compare_exchange_strong(&link->pipe_id, &expected, 0))
            atomic_fetch_sub(&link->owner->connected, 1);
    }
}

static void pull_pipe_cb(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
    struct peers *p = arg;
    /* ADD_PRE and REM_POST pair up exactly (nng runs REM_POST for every
     * pipe that saw ADD_PRE), so opened - closed is the open count. */
    if (ev == NNG_PIPE_EV_ADD_PRE) {
        count(&p->inbound_opened);
    } else if (ev == NNG_PIPE_EV_REM_POST) {
        count(&p->inbound_closed);
        /* A pipe getter, allowed here (it takes nng's pipe table lock, not
         * the socket's): which listener's pipe closed (peers_listen.c). */
        int id = nng_listener_id(nng_pipe_listener(pipe));
        if (id > 0 && (unsigned)id == atomic_load(&p->listener_id))
            count(&p->listener_closed);
    }
}

/* ---- the inbound queue ------------------------------------------------------ */

static void progress_notify(struct peers *p)
{
    if (atomic_load(&p->progress_waiters) == 0)
        return;
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv_progress);
    pthread_mutex_unlock(&p->mu);
}

/* Takes ownership of msg: queued, or freed and counted when the queue is
 * full. */
static void queue_push(struct peers *p, Hansa__ConsensusMessage *msg)
{
    pthread_mutex_lock(&p->mu);
    HANSA_ASSERT(p->count <= p->cap);
    bool full = p->count == p->cap;
    if (!full) {
        p->ring[(p->head + p->count) % p->cap] = msg;
        p->count++;
        count(&p->received);
        pthread_cond_signal(&p->cv_msg);
    } else {
        count(&p->recv_dropped);
    }
    if (atomic_load(&p->progress_waiters) != 0)
        pthread_cond_broadcast(&p->cv_progress);
    pthread_mutex_unlock(&p->mu);
    if (full)
        wire_free(msg);
}

static bool is_peer(const struct peers *p, const char *id)
{
    for (size_t i = 0; i < p->n_links; i++)
        if (strcmp(p->links[i].id, id) == 0)
            return true;
    return false;
}

/* Decode and check one message off the wire; queue it or count why not. */
static void handle_inbound(struct peers *p, const uint8_t *buf, size_t len)
{
    Hansa__ConsensusMessage *msg = NULL;
    atomic_uint_fast64_t *reject = NULL;
    if (wire_consensus_decode(buf, len, &msg) != HANSA_OK ||
        msg->kind_case == HANSA__CONSENSUS_MESSAGE__KIND__NOT_SET)
        reject = &p->malformed;
    else if (strcmp(msg->chain_id, p->chain_id) != 0)
        reject = &p->wrong_chain;
    else if (!is_peer(p, msg->sender))
        reject = &p->unknown_sender;
    if (reject == NULL) {
        queue_push(p, msg);
        return;
    }
    count(reject);
    wire_free(msg);
    progress_notify(p);
}

static void *recv_main(void *arg)
{
    struct peers *p = arg;
    for (;;) {
        nng_msg *m = NULL;
        int rv = nng_recvmsg(p->pull, &m, 0);
        if (rv == NNG_ECLOSED)
            break;
        if (rv != 0) /* NNG_ENOMEM: transient; the message is lost */
            continue;
        handle_inbound(p, nng_msg_body(m), nng_msg_len(m));
        nng_msg_free(m);
    }
    return NULL;
}

/* ---- opening ---------------------------------------------------------------- */

static hansa_err sync_init(struct peers *p)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return HANSA_ENOMEM;
    bool ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0;
    ok = ok && pthread_mutex_init(&p->mu, NULL) == 0;
    if (ok && pthread_cond_init(&p->cv_msg, &ca) != 0) {
        pthread_mutex_destroy(&p->mu);
        ok = false;
    }
    if (ok && pthread_cond_init(&p->cv_progress, &ca) != 0) {
        pthread_cond_destroy(&p->cv_msg);
        pthread_mutex_destroy(&p->mu);
        ok = false;
    }
    if (ok && pthread_cond_init(&p->cv_watch, &ca) != 0) {
        pthread_cond_destroy(&p->cv_progress);
        pthread_cond_destroy(&p->cv_msg);
        pthread_mutex_destroy(&p->mu);
        ok = false;
    }
    pthread_condattr_destroy(&ca);
    p->sync_ready = ok;
    return ok ? HANSA_OK : HANSA_ENOMEM;
}

static hansa_err listen_open(struct peers *p, char *why, size_t why_len)
{
    int rv = nng_pull0_open(&p->pull);
    if (rv != 0) {
        snprintf(why, why_len, "cannot open the peer pull socket: %s", nng_strerror(rv));
        return HANSA_EIO;
    }
    p->pull_open = true;
    nng_pipe_notify(p->pull, NNG_PIPE_EV_ADD_PRE, pull_pipe_cb, p);
    nng_pipe_notify(p->pull, NNG_PIPE_EV_REM_POST, pull_pipe_cb, p);
    return peers_listener_open(p, p->cfg->p2p_listen.url, why, why_len);
}

static hansa_err link_open(struct peers_link *link, const struct node_config *cfg, char *why,
                           size_t why_len)
{
    int rv = nng_push0_open(&link->sock);
    if (rv != 0) {
        snprintf(why, why_len, "cannot open a push socket for peer %s: %s", link->id,
                 nng_strerror(rv));
        return HANSA_EIO;
    }
    link->sock_open = true;
    nng_pipe_notify(link->sock, NNG_PIPE_EV_ADD_POST, link_pipe_cb, link);
    nng_pipe_notify(link->sock, NNG_PIPE_EV_REM_POST, link_pipe_cb, link);
    rv = nng_socket_set_int(link->sock, NNG_OPT_SENDBUF, PEERS_SEND_QUEUE_MSGS);
    if (rv == 0)
        rv = nng_dialer_create(&link->dialer, link->sock, link->url);
    if (rv == 0) {
        link->dialer_open = true;
        rv = nng_dialer_set_ms(link->dialer, NNG_OPT_RECONNMINT, PEERS_RECONNECT_MIN_MS);
    }
    if (rv == 0)
        rv = nng_dialer_set_ms(link->dialer, NNG_OPT_RECONNMAXT, PEERS_RECONNECT_MAX_MS);
    if (rv == 0)
        rv = nng_dialer_set_size(link->dialer, NNG_OPT_RECVMAXSZ, HANSA_PEER_MESSAGE_BYTES_MAX);
    if (rv == 0) {
        nng_tls_config *tls = NULL;
        hansa_err err = net_tls_client(cfg, link->id, &tls, why, why_len);
        if (err != HANSA_OK)
            return err;
        rv = nng_dialer_set_ptr(link->dialer, NNG_OPT_TLS_CONFIG, tls);
        nng_tls_config_free(tls);
    }
    /* Non-blocking: returns at once and keeps retrying in the background,
     * whether or not the peer is up yet (LIBNOTES 1.2). */
    if (rv == 0)
        rv = nng_dialer_start(link->dialer, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        snprintf(why, why_len, "cannot dial peer %s at %s: %s", link->id, link->url,
                 nng_strerror(rv));
        return HANSA_EIO;
    }
    return HANSA_OK;
}

static hansa_err threads_start(struct peers *p, char *why, size_t why_len)
{
    int rv = pthread_create(&p->recv_thread, NULL, recv_main, p);
    if (rv == 0) {
        p->recv_started = true;
        rv = pthread_create(&p->watch_thread, NULL, peers_watch_main, p);
        p->watch_started = rv == 0;
    }
    if (rv != 0) {
        snprintf(why, why_len, "cannot start the peer threads: %s", strerror(rv));
        return HANSA_ENOMEM;
    }
    return HANSA_OK;
}

static struct peers *peers_alloc(const struct node_config *cfg, size_t queue_max)
{
    struct peers *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->links = calloc(cfg->n_peers > 0 ? cfg->n_peers : 1, sizeof *p->links);
    p->ring = calloc(queue_max, sizeof *p->ring);
    if (p->links == NULL || p->ring == NULL) {
        free(p->links);
        free(p->ring);
        free(p);
        return NULL;
    }
    p->cfg = malloc(sizeof *p->cfg);
    if (p->cfg == NULL) {
        free(p->links);
        free(p->ring);
        free(p);
        return NULL;
    }
    *p->cfg = *cfg;
    p->cap = queue_max;
    p->n_links = cfg->n_peers;
    snprintf(p->node_id, sizeof p->node_id, "%s", cfg->node_id);
    snprintf(p->chain_id, sizeof p->chain_id, "%s", cfg->chain_id);
    snprintf(p->listen_url, sizeof p->listen_url, "%s", cfg->p2p_listen.url);
    for (size_t i = 0; i < p->n_links; i++) {
        struct peers_link *link = &p->links[i];
        link->owner = p;
        snprintf(link->id, sizeof link->id, "%s", cfg->peers[i].id);
        snprintf(link->url, sizeof link->url, "%s", cfg->peers[i].addr.url);
    }
    return p;
}

hansa_err peers_open(const struct node_config *cfg, size_t queue_max, struct peers **out, char *why,
                     size_t why_len)
{
    *out = NULL;
    if (queue_max == 0 || cfg->n_peers > HANSA_PEERS_MAX || cfg->p2p_listen.url[0] == '\0') {
        snprintf(why, why_len, "peers: %s",
                 queue_max == 0                   ? "the inbound queue needs room for a message"
                 : cfg->n_peers > HANSA_PEERS_MAX ? "too many peers"
                                                  : "no [p2p] listen address");
        return HANSA_EINVAL;
    }
    struct peers *p = peers_alloc(cfg, queue_max);
    if (p == NULL) {
        snprintf(why, why_len, "peers: out of memory");
        return HANSA_ENOMEM;
    }
    hansa_err err = sync_init(p);
    if (err != HANSA_OK)
        snprintf(why, why_len, "peers: cannot create a mutex or condition variable");
    if (err == HANSA_OK)
        err = listen_open(p, why, why_len);
    for (size_t i = 0; err == HANSA_OK && i < p->n_links; i++)
        err = link_open(&p->links[i], cfg, why, why_len);
    if (err == HANSA_OK)
        err = threads_start(p, why, why_len);
    if (err != HANSA_OK) {
        peers_close(p);
        return err;
    }
    log_info("PEER-LISTEN", "listening for peers on %s (port %u), dialing %zu peers", p->listen_url,
             (unsigned)p->port, p->n_links);
    *out = p;
    return HANSA_OK;
}

/* ---- closing ---------------------------------------------------------------- */

void peers_close(struct peers *p)
{
    if (p == NULL)
        return;
    if (p->watch_started) {
        pthread_mutex_lock(&p->mu);
        p->stopping = true;
        pthread_cond_broadcast(&p->cv_watch);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->watch_thread, NULL);
    }
    /* Closing the pull socket fails the blocked nng_recvmsg with
     * NNG_ECLOSED; nng_close returns after the last pipe callback. */
    if (p->pull_open)
        nng_close(p->pull);
    if (p->recv_started)
        pthread_join(p->recv_thread, NULL);
    for (size_t i = 0; i < p->n_links; i++)
        if (p->links[i].sock_open)
            nng_close(p->links[i].sock);
    for (size_t i = 0; i < p->count; i++)
        wire_free(p->ring[(p->head + i) % p->cap]);
    if (p->sync_ready) {
        pthread_cond_destroy(&p->cv_watch);
        pthread_cond_destroy(&p->cv_progress);
        pthread_cond_destroy(&p->cv_msg);
        pthread_mutex_destroy(&p->mu);
    }
    free(p->ring);
    free(p->links);
    free(p->cfg);
    free(p);
}

/* ---- sending ---------------------------------------------------------------- */

/* Encode msg with this node's chain id and id as sender into a new nng
 * message. The caller's msg is left as it was: it may be a decoded message
 * being relayed, whose strings its own free will release. */
static hansa_err encode(struct peers *p, Hansa__ConsensusMessage *msg, nng_msg **out)
{
    char *chain_id = msg->chain_id, *sender = msg->sender;
    msg->chain_id = p->chain_id;
    msg->sender = p->node_id;
    uint8_t *buf = NULL;
    size_t len = 0;
    hansa_err err = wire_encode(&msg->base, HANSA_PEER_MESSAGE_BYTES_MAX, &buf, &len);
    msg->chain_id = chain_id;
    msg->sender = sender;
    if (err != HANSA_OK)
        return err;
    *out = NULL;
    if (nng_msg_alloc(out, 0) != 0 || nng_msg_append(*out, buf, len) != 0) {
        nng_msg_free(*out);
        err = HANSA_ENOMEM;
    }
    free(buf);
    return err;
}

/* Hand m to one peer's queue without blocking. Takes ownership of m. */
static hansa_err link_send(struct peers *p, struct peers_link *link, nng_msg *m)
{
    int rv = nng_sendmsg(link->sock, m, NNG_FLAG_NONBLOCK);
    if (rv == 0) {
        count(&p->sent);
        return HANSA_OK;
    }
    /* A failed send leaves the message with us [nng_sendmsg.3]. */
    nng_msg_free(m);
    count(&p->send_dropped);
    return rv == NNG_ECLOSED ? HANSA_ECLOSED : HANSA_EBUSY;
}

void peers_broadcast(struct peers *p, Hansa__ConsensusMessage *msg)
{
    if (p->n_links == 0)
        return;
    nng_msg *m = NULL;
    if (encode(p, msg, &m) != HANSA_OK) {
        /* Too large or out of memory: every copy is lost. */
        count(&p->encode_failed);
        atomic_fetch_add_explicit(&p->send_dropped, p->n_links, memory_order_relaxed);
        return;
    }
    for (size_t i = 0; i + 1 < p->n_links; i++) {
        nng_msg *copy = NULL;
        if (nng_msg_dup(&copy, m) != 0) {
            count(&p->send_dropped);
            continue;
        }
        (void)link_send(p, &p->links[i], copy);
    }
    (void)link_send(p, &p->links[p->n_links - 1], m); /* the original goes last */
}

hansa_err peers_send(struct peers *p, const char *peer_id, Hansa__ConsensusMessage *msg)
{
    struct peers_link *link = NULL;
    for (size_t i = 0; i < p->n_links && link == NULL; i++)
        if (strcmp(p->links[i].id, peer_id) == 0)
            link = &p->links[i];
    if (link == NULL)
        return HANSA_EINVAL;
    nng_msg *m = NULL;
    hansa_err err = encode(p, msg, &m);
    if (err != HANSA_OK) {
        count(&p->encode_failed);
        count(&p->send_dropped);
        return err;
    }
    return link_send(p, link, m);
}

/* ---- receiving -------------------------------------------------------------- */

struct timespec peers_deadline_after(uint32_t timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(timeout_ms / 1000u);
    ts.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

Hansa__ConsensusMessage *peers_next(struct peers *p, uint32_t timeout_ms)
{
    struct timespec deadline = peers_deadline_after(timeout_ms);
    Hansa__ConsensusMessage *msg = NULL;
    pthread_mutex_lock(&p->mu);
    HANSA_ASSERT(p->count <= p->cap);
    /* A wake stays set until a call finds the queue empty, so a wake that
     * arrives while the loop is busy elsewhere is not lost. */
    while (p->count == 0 && !p->wake && timeout_ms > 0) {
        if (pthread_cond_timedwait(&p->cv_msg, &p->mu, &deadline) == ETIMEDOUT)
            break;
    }
    if (p->count > 0) {
        msg = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
    } else {
        p->wake = false;
    }
    pthread_mutex_unlock(&p->mu);
    return msg;
}

void peers_wake(struct peers *p)
{
    pthread_mutex_lock(&p->mu);
    p->wake = true;
    pthread_cond_broadcast(&p->cv_msg);
    pthread_mutex_unlock(&p->mu);
}

bool peers_wait_until(struct peers *p, peers_pred *pred, void *arg, uint32_t timeout_ms)
{
    uint64_t end_ms = peers_now_ms() + timeout_ms;
    atomic_fetch_add(&p->progress_waiters, 1);
    bool ok = pred(p, arg);
    while (!ok) {
        uint64_t now_ms = peers_now_ms();
        if (now_ms >= end_ms)
            break;
        uint64_t left_ms = end_ms - now_ms;
        struct timespec slice = peers_deadline_after(
            left_ms < PEERS_WAIT_SLICE_MS ? (uint32_t)left_ms : PEERS_WAIT_SLICE_MS);
        pthread_mutex_lock(&p->mu);
        pthread_cond_timedwait(&p->cv_progress, &p->mu, &slice);
        pthread_mutex_unlock(&p->mu);
        ok = pred(p, arg);
    }
    atomic_fetch_sub(&p->progress_waiters, 1);
    return ok;
}

/* ---- statistics ------------------------------------------------------------- */

void peers_stats(struct peers *p, struct peers_stats *out)
{
    *out = (struct peers_stats){
        .sent = load(&p->sent),
        .send_dropped = load(&p->send_dropped),
        .received = load(&p->received),
        .recv_dropped = load(&p->recv_dropped),
        .malformed = load(&p->malformed),
        .wrong_chain = load(&p->wrong_chain),
        .unknown_sender = load(&p->unknown_sender),
        .peers_connected = atomic_load(&p->connected),
    };
}

void peers_inbound_stats(struct peers *p, struct peers_inbound_stats *out)
{
    /* closed first: a pipe closed between the two loads would otherwise
     * count as closed but not opened. */
    uint64_t closed = load(&p->inbound_closed);
    uint64_t opened = load(&p->inbound_opened);
    *out = (struct peers_inbound_stats){
        .connections = (uint32_t)(opened - closed),
        .accepted = opened,
        .closed = closed,
        .handshakes_failed = peers_listener_failures(p, NULL),
    };
}

bool peers_peer_connected(struct peers *p, const char *peer_id)
{
    for (size_t i = 0; i < p->n_links; i++)
        if (strcmp(p->links[i].id, peer_id) == 0)
            return atomic_load(&p->links[i].pipe_id) != 0;
    return false;
}

uint16_t peers_bound_port(const struct peers *p)
{
    return p->port;
}
