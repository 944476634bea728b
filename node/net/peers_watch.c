/*
 * The watcher of the validator links: a thread that wakes every
 * PEERS_WATCH_PERIOD_MS and turns counters into log lines, so that no send
 * or receive path ever logs and no pipe callback does more than an atomic
 * add (LIBNOTES 1.5: they run with the socket lock held).
 *
 * What it logs (ids are stable):
 *   PEER-CONNECT         a peer's push socket got a connection
 *   PEER-DISCONNECT      it lost it (nng redials: 100 ms doubling to 5 s)
 *   PEER-RECONNECT       connections opened and closed within one period
 *   PEER-UNREACHABLE     a peer without a connection for 10 s (then every
 *                        minute while it lasts)
 *   PEER-INBOUND-REJECT  inbound connections failed their handshake, with
 *                        the listener's address and the count per cause
 *   PEER-LISTEN-STUCK, PEER-LISTEN-RESTART, PEER-LISTEN-FAIL
 *                        the listener stopped accepting and was restarted
 *                        (peers_listen.c)
 *   PEER-DROP-SEND, PEER-DROP-FULL, PEER-MALFORMED, PEER-WRONG-CHAIN,
 *   PEER-UNKNOWN-SENDER, PEER-ENCODE-FAIL  counted drops
 * Each warning kind is logged at most once per PEERS_WARN_PERIOD_MS with
 * the count since its last line; what is still unreported is flushed when
 * the links close.
 *
 * Failed handshakes: nng 1.5.2 has no callback for them and never creates a
 * pipe, so neither the peer's address nor its certificate is known. What is
 * observable is nng's statistics tree (nng_stats_get): the listener counts
 * failed accepts by cause, which peers_listen.c turns into counts of
 * refusals (peers_listener_rejects). Every cause counts, whichever side
 * gave up: our TLS refusing the dialer's certificate ("auth"), the dialer
 * hanging up because it refuses ours (its alert may be lost: then nng
 * files the end of the connection under "other" or "disconnect", next to
 * the errors of live pipes, and the watcher settles those), a timeout or
 * a failed SP negotiation. The dialing side sees nothing at all (its
 * dialer statistics count the TCP connect as a success), only a link that
 * never comes up: that is PEER-UNREACHABLE.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "peers_internal.h"

struct warn_kind {
    const char *id;
    const char *what;
};

static const struct warn_kind warn_kinds[PEERS_WARN_COUNT] = {
    [PEERS_WARN_SEND_DROP] = {"PEER-DROP-SEND",
                              "outbound messages dropped (a peer's send queue was full, or the "
                              "peer is down)"},
    [PEERS_WARN_QUEUE_FULL] = {"PEER-DROP-FULL",
                               "inbound messages dropped: the event loop's queue was full"},
    [PEERS_WARN_MALFORMED] = {"PEER-MALFORMED",
                              "inbound messages dropped: undecodable or without a payload"},
    [PEERS_WARN_WRONG_CHAIN] = {"PEER-WRONG-CHAIN", "inbound messages dropped: another chain id"},
    [PEERS_WARN_UNKNOWN_SENDER] = {"PEER-UNKNOWN-SENDER",
                                   "inbound messages dropped: sender is not a configured peer"},
    [PEERS_WARN_INBOUND_FAIL] = {"PEER-INBOUND-REJECT",
                                 "inbound connections failed the TLS handshake or negotiation"},
    [PEERS_WARN_ENCODE] = {"PEER-ENCODE-FAIL",
                           "outbound messages not sent: too large to encode or out of memory"},
};

/* Log a counter that moved since its last line, at most once a period. */
static void warn_counter(struct peers *p, enum peers_warn_kind k, uint64_t total, uint64_t now_ms,
                         bool force)
{
    uint64_t last = p->warn_total[k];
    if (total <= last)
        return;
    if (!force && p->warn_ms[k] != 0 && now_ms - p->warn_ms[k] < PEERS_WARN_PERIOD_MS)
        return;
    log_warn(warn_kinds[k].id, "%" PRIu64 " %s since the last report (%" PRIu64 " in all)",
             total - last, warn_kinds[k].what, total);
    p->warn_total[k] = total;
    p->warn_ms[k] = now_ms;
}

/* What each cause of a failed inbound handshake means, for the log. */
static const char *const reject_what[PEERS_REJECT_COUNT] = {
    [PEERS_REJECT_TLS] = "refused by our TLS (certificate not of our CA, none, or not TLS)",
    [PEERS_REJECT_HANG_UP] = "hung up by the dialer during the handshake (it may refuse our "
                             "certificate)",
    [PEERS_REJECT_TIMEOUT] = "timed out",
    [PEERS_REJECT_PROTO] = "failed the SP negotiation",
};

/* PEER-INBOUND-REJECT: like warn_counter, with the listener's address and
 * the count of each cause since the last line. At most one line a period,
 * however many connections fail: a flood costs one line per 10 s. */
static void warn_rejects(struct peers *p, const uint64_t by_cause[], uint64_t now_ms, bool force)
{
    const enum peers_warn_kind k = PEERS_WARN_INBOUND_FAIL;
    uint64_t total = 0;
    for (int c = 0; c < PEERS_REJECT_COUNT; c++)
        total += by_cause[c];
    uint64_t last = p->warn_total[k];
    if (total <= last)
        return;
    if (!force && p->warn_ms[k] != 0 && now_ms - p->warn_ms[k] < PEERS_WARN_PERIOD_MS)
        return;
    char causes[512] = "";
    size_t used = 0;
    for (int c = 0; c < PEERS_REJECT_COUNT && used < sizeof causes; c++) {
        uint64_t n = by_cause[c] - p->warn_rejects[c];
        if (n == 0)
            continue;
        int w = snprintf(causes + used, sizeof causes - used, "%s%" PRIu64 " %s",
                         used > 0 ? ", " : "", n, reject_what[c]);
        used += w > 0 ? (size_t)w : 0;
    }
    char url[2 * NODE_CONFIG_URL_BYTES_MAX];
    peers_listener_url(p, url, sizeof url);
    log_warn(warn_kinds[k].id,
             "%" PRIu64 " %s on %s since the last report (%" PRIu64 " in all): %s; from an "
             "unknown address (nng 1.5.2 does not tell)",
             total - last, warn_kinds[k].what, url, total, causes);
    p->warn_total[k] = total;
    p->warn_ms[k] = now_ms;
    for (int c = 0; c < PEERS_REJECT_COUNT; c++)
        p->warn_rejects[c] = by_cause[c];
}

/* Connection changes of one link since the last tick, and a link that has
 * stayed down. A dialer learns nothing of a failed handshake in 1.5.2 (its
 * statistics count the TCP connect as a success and no error follows; the
 * listener on the other side counts it), so a peer whose certificate we
 * refuse, or that refuses ours, looks like a peer that is down. */
static void watch_link(struct peers_link *link, uint64_t now_ms)
{
    bool up = atomic_load(&link->pipe_id) != 0;
    uint64_t connects = atomic_load(&link->connects);
    uint64_t opened = connects - link->seen_connects;
    if (up && !link->seen_up)
        log_info("PEER-CONNECT", "peer %s connected (%s)", link->id, link->url);
    else if (!up && link->seen_up)
        log_warn("PEER-DISCONNECT", "peer %s disconnected; redialing %s", link->id, link->url);
    else if (opened > 0 && up)
        log_warn("PEER-RECONNECT", "peer %s: connection lost and re-established (%" PRIu64 "x)",
                 link->id, opened);
    else if (opened > 0)
        log_warn("PEER-RECONNECT", "peer %s: %" PRIu64 " connections opened and lost again",
                 link->id, opened);
    link->seen_up = up;
    link->seen_connects = connects;
    if (up || opened > 0) {
        link->down_since_ms = up ? 0 : now_ms;
        link->warn_down_ms = 0;
        return;
    }
    if (link->down_since_ms == 0)
        link->down_since_ms = now_ms;
    uint64_t down_ms = now_ms - link->down_since_ms;
    if (down_ms >= PEERS_UNREACHABLE_MS &&
        (link->warn_down_ms == 0 || now_ms - link->warn_down_ms >= PEERS_UNREACHABLE_REPEAT_MS)) {
        log_warn("PEER-UNREACHABLE",
                 "peer %s (%s): no connection for %" PRIu64 " s: it is down or unreachable, or "
                 "the TLS handshake fails (its certificate is not of our CA or does not name "
                 "%s, or it refuses ours; nng 1.5.2 tells the dialer nothing)",
                 link->id, link->url, down_ms / 1000u, link->id);
        link->warn_down_ms = now_ms;
    }
}

static void watch_tick(struct peers *p, bool force)
{
    uint64_t now_ms = peers_now_ms();
    nng_stat *root = NULL;
    if (nng_stats_get(&root) != 0)
        root = NULL;
    for (size_t i = 0; i < p->n_links; i++)
        if (p->links[i].dialer_open)
            watch_link(&p->links[i], now_ms);
    peers_listener_settle(p, root);
    uint64_t rejects[PEERS_REJECT_COUNT];
    peers_listener_rejects(p, root, rejects);
    if (!force) /* not on the way out: the links are closing */
        peers_listener_check(p, root, now_ms);
    if (root != NULL)
        nng_stats_free(root);

    const uint64_t totals[PEERS_WARN_COUNT] = {
        [PEERS_WARN_SEND_DROP] = atomic_load(&p->send_dropped),
        [PEERS_WARN_QUEUE_FULL] = atomic_load(&p->recv_dropped),
        [PEERS_WARN_MALFORMED] = atomic_load(&p->malformed),
        [PEERS_WARN_WRONG_CHAIN] = atomic_load(&p->wrong_chain),
        [PEERS_WARN_UNKNOWN_SENDER] = atomic_load(&p->unknown_sender),
        [PEERS_WARN_ENCODE] = atomic_load(&p->encode_failed),
    };
    for (int k = 0; k < PEERS_WARN_COUNT; k++)
        if (k != PEERS_WARN_INBOUND_FAIL)
            warn_counter(p, (enum peers_warn_kind)k, totals[k], now_ms, force);
    warn_rejects(p, rejects, now_ms, force);
}

void *peers_watch_main(void *arg)
{
    struct peers *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        struct timespec next = peers_deadline_after(PEERS_WATCH_PERIOD_MS);
        pthread_cond_timedwait(&p->cv_watch, &p->mu, &next);
        bool stop = p->stopping;
        pthread_mutex_unlock(&p->mu);
        /* On the way out, report what the period limit held back. */
        watch_tick(p, stop);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}
