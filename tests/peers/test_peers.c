/*
 * Validator links (node/net/peers.c) on real tls+tcp sockets on 127.0.0.1
 * with a PKI generated per test: three nodes exchanging broadcasts and
 * unicasts, the inbound checks (chain id, sender, decoding), an oversized
 * message, a dialer with a foreign certificate, a restarting peer, full
 * queues on both sides, and the wake/timeout behaviour of peers_next.
 *
 * No sleeps: tests wait on peers_next or peers_wait_until, each with a
 * deadline; every test has a Criterion timeout because closing nng sockets
 * can hang in 1.5.2 (LIBNOTES 1.9).
 */
#include <netinet/in.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "peers_fixture.h"
#include "peers_internal.h"
#include "testdir.h"
#include "tls.h"

#define WAIT_MS 10000u

TestSuite(peers, .init = pf_setup, .fini = pf_teardown, .timeout = 60);

/* ---- predicates for peers_wait_until ------------------------------------- */

static bool connected_at_least(struct peers *p, void *arg)
{
    struct peers_stats s;
    peers_stats(p, &s);
    return s.peers_connected >= *(const uint32_t *)arg;
}

static bool peer_down(struct peers *p, void *arg)
{
    return !peers_peer_connected(p, arg);
}

static bool inbound_closed_at_least(struct peers *p, void *arg)
{
    struct peers_inbound_stats s;
    peers_inbound_stats(p, &s);
    return s.closed >= *(const uint64_t *)arg;
}

static bool handshakes_failed_at_least(struct peers *p, void *arg)
{
    struct peers_inbound_stats s;
    peers_inbound_stats(p, &s);
    return s.handshakes_failed >= *(const uint64_t *)arg;
}

static bool accepted_at_least(struct peers *p, void *arg)
{
    struct peers_inbound_stats s;
    peers_inbound_stats(p, &s);
    return s.accepted >= *(const uint64_t *)arg;
}

static bool handled_at_least(struct peers *p, void *arg)
{
    struct peers_stats s;
    peers_stats(p, &s);
    return s.received + s.recv_dropped >= *(const uint64_t *)arg;
}

/* ---- three nodes ---------------------------------------------------------- */

#define TAG_BROADCAST 1u
#define TAG_UNICAST   2u
#define ROUNDS        50u

/* One node's view of what it must receive from one sender, in order. */
struct expect {
    const char *sender;
    bool unicasts; /* the sender also unicasts to this node */
    uint64_t next_seq;
    uint32_t next_tag;
};

Test(peers, three_nodes_receive_exactly_their_broadcasts_and_unicasts_in_order_per_sender,
     .timeout = 60)
{
    static const char *const ids[3] = {"A", "B", "C"};
    uint16_t ports[3] = {pf_free_port(), pf_free_port(), pf_free_port()};
    struct node_config *cfg[3];
    struct peers *p[3];
    for (int i = 0; i < 3; i++) {
        const char *peer_ids[2] = {ids[(i + 1) % 3], ids[(i + 2) % 3]};
        uint16_t peer_ports[2] = {ports[(i + 1) % 3], ports[(i + 2) % 3]};
        cfg[i] = pf_config(ids[i], "good", ports[i], 2, peer_ids, peer_ports);
    }
    for (int i = 0; i < 3; i++)
        p[i] = pf_open(cfg[i], 1024);

    /* Each node broadcasts ROUNDS statuses and unicasts ROUNDS to the next
     * node (A->B, B->C, C->A), interleaved. Sends queue (SENDBUF 256) until
     * the dialers connect, so nothing needs to wait for connections. */
    for (uint64_t seq = 1; seq <= ROUNDS; seq++) {
        for (int i = 0; i < 3; i++) {
            Hansa__ConsensusMessage m;
            Hansa__PeerStatus st;
            pf_status(&m, &st, seq, TAG_BROADCAST);
            peers_broadcast(p[i], &m);
            pf_status(&m, &st, seq, TAG_UNICAST);
            cr_assert_eq(peers_send(p[i], ids[(i + 1) % 3], &m), HANSA_OK);
        }
    }

    for (int i = 0; i < 3; i++) {
        /* Node i hears from i+1 (broadcasts) and i+2 (broadcasts and, as
         * its predecessor, unicasts). */
        struct expect ex[2] = {
            {ids[(i + 1) % 3], false, 1, TAG_BROADCAST},
            {ids[(i + 2) % 3], true, 1, TAG_BROADCAST},
        };
        for (uint32_t n = 0; n < 3 * ROUNDS; n++) {
            Hansa__ConsensusMessage *m = peers_next(p[i], WAIT_MS);
            cr_assert(m != NULL, "%s: message %u of %u missing", ids[i], n + 1, 3 * ROUNDS);
            struct expect *e = strcmp(m->sender, ex[0].sender) == 0   ? &ex[0]
                               : strcmp(m->sender, ex[1].sender) == 0 ? &ex[1]
                                                                      : NULL;
            cr_assert(e != NULL, "%s: unexpected sender %s", ids[i], m->sender);
            cr_assert_eq(m->kind_case, HANSA__CONSENSUS_MESSAGE__KIND_STATUS);
            cr_assert_eq(m->status->committed_height, e->next_seq, "%s from %s: seq %lu, want %lu",
                         ids[i], e->sender, (unsigned long)m->status->committed_height,
                         (unsigned long)e->next_seq);
            cr_assert_eq(m->status->round, e->next_tag, "%s from %s: out of order", ids[i],
                         e->sender);
            if (e->unicasts && e->next_tag == TAG_BROADCAST) {
                e->next_tag = TAG_UNICAST;
            } else {
                e->next_tag = TAG_BROADCAST;
                e->next_seq++;
            }
            wire_free(m);
        }
        cr_assert_eq(ex[0].next_seq, ROUNDS + 1);
        cr_assert_eq(ex[1].next_seq, ROUNDS + 1);
    }
    /* Nothing more arrives, nothing was dropped, and everyone is linked. */
    for (int i = 0; i < 3; i++) {
        cr_assert_null(peers_next(p[i], 200), "%s received an extra message", ids[i]);
        uint32_t two = 2;
        cr_assert(peers_wait_until(p[i], connected_at_least, &two, WAIT_MS));
        struct peers_stats s;
        peers_stats(p[i], &s);
        cr_assert_eq(s.sent, 3 * ROUNDS);
        cr_assert_eq(s.received, 3 * ROUNDS);
        cr_assert_eq(
            s.send_dropped + s.recv_dropped + s.malformed + s.wrong_chain + s.unknown_sender, 0);
    }
    for (int i = 0; i < 3; i++) {
        pf_close(p[i]);
    }
}

/* ---- inbound checks ------------------------------------------------------- */

Test(peers, drops_and_counts_wrong_chain_unknown_sender_and_malformed_messages, .timeout = 60)
{
    uint16_t pa = pf_free_port(), pb = pf_free_port();
    const char *peer_b[] = {"B"};
    struct node_config *ca = pf_config("A", "good", pa, 1, peer_b, &pb);
    struct node_config *cb = pf_config("B", "good", pb, 0, NULL, NULL);
    struct peers *a = pf_open(ca, 64);
    /* B's certificate, but raw bytes: whatever a member's node could send. */
    nng_socket raw = pf_raw_dial(cb, "A", pa);

    uint8_t *buf = NULL;
    size_t len = 0;
    pf_encode("another-chain", "B", true, 1, &buf, &len);
    pf_raw_send(raw, buf, len);
    free(buf);
    pf_encode(PF_CHAIN, "mallory", true, 2, &buf, &len);
    pf_raw_send(raw, buf, len);
    free(buf);
    pf_encode(PF_CHAIN, "A", true, 3, &buf, &len); /* A itself is no peer of A */
    pf_raw_send(raw, buf, len);
    free(buf);
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    pf_raw_send(raw, junk, sizeof junk);
    pf_encode(PF_CHAIN, "B", false, 4, &buf, &len); /* no payload */
    pf_raw_send(raw, buf, len);
    free(buf);
    pf_encode(PF_CHAIN, "B", true, 5, &buf, &len);
    pf_raw_send(raw, buf, len);
    free(buf);

    /* One connection is FIFO and one thread checks in order: when the good
     * message is out, the others have been counted. */
    cr_assert_eq(pf_expect_status(a, "B", NULL, WAIT_MS), 5);
    cr_assert_null(peers_next(a, 0));
    struct peers_stats s;
    peers_stats(a, &s);
    cr_assert_eq(s.wrong_chain, 1);
    cr_assert_eq(s.unknown_sender, 2);
    cr_assert_eq(s.malformed, 2);
    cr_assert_eq(s.received, 1);
    cr_assert_eq(s.recv_dropped, 0);

    pf_close(a);
}

/*
 * DISABLED in the default run: on nng 1.5.2 (Debian 12) a TLS connection
 * dropped for exceeding NNG_OPT_RECVMAXSZ sometimes leaves nng's reaper
 * stuck, after which the listener stops accepting and nng_close hangs
 * (about 1 run in 4 here; the close deadlock is fixed upstream in nng
 * 1.9.0, LIBNOTES 1.9). peers_listen.c restarts a listener that stopped
 * accepting (tested below by
 * listener_that_stops_accepting_is_restarted_and_peers_deliver_again), but
 * the hang at close makes this test fail the run at random. Run it by hand
 * with --filter 'peers/oversized*' until nng is upgraded.
 */
Test(peers, oversized_message_drops_the_connection_and_the_receiver_keeps_working, .timeout = 60,
     .disabled = true)
{
    uint16_t pa = pf_free_port(), pb = pf_free_port();
    const char *peer_b[] = {"B"};
    struct node_config *ca = pf_config("A", "good", pa, 1, peer_b, &pb);
    struct node_config *cb = pf_config("B", "good", pb, 0, NULL, NULL);
    struct peers *a = pf_open(ca, 64);
    nng_socket raw = pf_raw_dial(cb, "A", pa);

    uint8_t *buf = NULL;
    size_t len = 0;
    pf_encode(PF_CHAIN, "B", true, 1, &buf, &len);
    pf_raw_send(raw, buf, len);
    cr_assert_eq(pf_expect_status(a, "B", NULL, WAIT_MS), 1);
    struct peers_inbound_stats in;
    peers_inbound_stats(a, &in);
    cr_assert_eq(in.connections, 1);
    cr_assert_eq(in.closed, 0);

    /* One byte over the limit: refused from its length header, before any
     * allocation, by closing the connection. */
    size_t big_len = (size_t)HANSA_PEER_MESSAGE_BYTES_MAX + 1;
    uint8_t *big = calloc(1, big_len);
    cr_assert(big != NULL);
    pf_raw_send(raw, big, big_len);
    free(big);
    uint64_t one = 1;
    cr_assert(peers_wait_until(a, inbound_closed_at_least, &one, WAIT_MS),
              "the receiver kept the connection of an oversized message");

    /* The raw dialer reconnects; what was in flight may be lost, so send
     * until one arrives. */
    uint64_t got = 0;
    for (uint64_t seq = 2; seq < 40 && got == 0; seq++) {
        free(buf);
        pf_encode(PF_CHAIN, "B", true, seq, &buf, &len);
        pf_raw_send(raw, buf, len);
        Hansa__ConsensusMessage *m = peers_next(a, 500);
        if (m != NULL) {
            got = m->status->committed_height;
            wire_free(m);
        }
    }
    free(buf);
    cr_assert(got >= 2, "nothing received after the oversized message");
    struct peers_stats s;
    peers_stats(a, &s);
    cr_assert_eq(s.malformed, 0, "the oversized message reached the decoder");
    peers_inbound_stats(a, &in);
    cr_assert_geq(in.accepted, 2);

    pf_close(a);
}

/* ---- a certificate of another CA ------------------------------------------ */

Test(peers, dialer_with_certificate_of_another_ca_never_delivers_and_good_peers_still_connect,
     .timeout = 60)
{
    uint16_t pa = pf_free_port(), pb = pf_free_port(), pc = pf_free_port();
    const char *peers_of_a[] = {"B", "C"};
    uint16_t ports_of_a[] = {pb, pc};
    const char *peer_a[] = {"A"};
    struct node_config *ca = pf_config("A", "good", pa, 2, peers_of_a, ports_of_a);
    struct node_config *cc = pf_config("C", "good", pc, 1, peer_a, &pa);
    /* An impostor of B: same id, listens on B's port, trusts the good CA,
     * but its certificate comes from another CA. Were it let in, its
     * messages would pass every check, since B is a configured peer. */
    struct node_config *cm = pf_config("B", "other", pb, 1, peer_a, &pa);
    struct peers *a = pf_open(ca, 64);
    struct peers *m = pf_open(cm, 64);

    for (uint64_t seq = 1; seq <= 5; seq++) {
        Hansa__ConsensusMessage msg;
        Hansa__PeerStatus st;
        pf_status(&msg, &st, seq, 0);
        peers_broadcast(m, &msg);
    }
    /* The listener sees failed handshakes and no pipe; the impostor keeps
     * retrying and keeps failing. */
    uint64_t failures = 3;
    cr_assert(peers_wait_until(a, handshakes_failed_at_least, &failures, WAIT_MS),
              "no failed handshakes observed on the listener");
    struct peers_inbound_stats in;
    peers_inbound_stats(a, &in);
    cr_assert_eq(in.accepted, 0, "a foreign certificate got a pipe");

    /* A good peer connects and delivers meanwhile. */
    struct peers *c = pf_open(cc, 64);
    Hansa__ConsensusMessage msg;
    Hansa__PeerStatus st;
    pf_status(&msg, &st, 42, 0);
    peers_broadcast(c, &msg);
    cr_assert_eq(pf_expect_status(a, "C", NULL, WAIT_MS), 42);
    cr_assert_null(peers_next(a, 300), "a message of the impostor was delivered");

    struct peers_stats s;
    peers_stats(a, &s);
    cr_assert_eq(s.received, 1);
    cr_assert_eq(s.unknown_sender + s.wrong_chain + s.malformed, 0);
    cr_assert(!peers_peer_connected(m, "A"));
    cr_assert(!peers_peer_connected(a, "B"), "A accepted the impostor's server certificate");
    peers_stats(m, &s);
    cr_assert_eq(s.peers_connected, 0);
    peers_inbound_stats(a, &in);
    cr_assert_eq(in.accepted, 1); /* C only */

    pf_close(c);
    pf_close(m);
    pf_close(a);
}

/* A node of another consortium: its certificate is of another CA and it
 * trusts only that CA, so it refuses our certificate and hangs up before
 * ours is judged. Our listener must still log the refusal. */
Test(peers, node_of_another_consortium_is_refused_and_the_refusal_logged, .timeout = 60)
{
    pf_log_capture();
    uint16_t pa = pf_free_port(), pb = pf_free_port();
    const char *peer_a[] = {"A"}, *peer_b[] = {"B"};
    struct node_config *ca = pf_config("A", "good", pa, 1, peer_b, &pb);
    struct node_config *cm = pf_config("B", "other", pb, 1, peer_a, &pa);
    pf_trust(cm, "other");
    /* Listeners of other sockets first, as a node has (events, the API):
     * A's counters must be its own listener's, not the process's first. */
    nng_socket decoy;
    nng_listener decoy_l;
    cr_assert_eq(nng_rep0_open(&decoy), 0);
    cr_assert_eq(nng_listen(decoy, "tcp://127.0.0.1:0", &decoy_l, 0), 0);
    struct peers *a = pf_open(ca, 64);
    struct peers *m = pf_open(cm, 64);

    Hansa__ConsensusMessage msg;
    Hansa__PeerStatus st;
    pf_status(&msg, &st, 1, 0);
    peers_broadcast(m, &msg);

    /* The line names A's listener, so it is A's and not the impostor's
     * (whose listener refuses A's dials in turn). */
    char where[32];
    snprintf(where, sizeof where, "127.0.0.1:%u", (unsigned)pa);
    cr_assert(pf_log_wait("PEER-INBOUND-REJECT", where, WAIT_MS),
              "no PEER-INBOUND-REJECT for A's listener within %u ms", WAIT_MS);
    struct peers_inbound_stats in;
    peers_inbound_stats(a, &in);
    cr_assert_eq(in.accepted, 0, "the impostor got a pipe");
    cr_assert_geq(in.handshakes_failed, 1);
    cr_assert_null(peers_next(a, 0), "a message of the impostor was delivered");
    cr_assert(!peers_peer_connected(m, "A"));

    pf_close(m);
    pf_close(a);
    nng_close(decoy);
}

/* The same refusal when the other side's alert never arrives: the node of
 * another consortium hangs up on our certificate (once with a FIN, once
 * with a reset), and dialers that never speak TLS close. nng files these
 * under "other" and "disconnect", next to the errors of live pipes. nng
 * 1.5.2 reports a failed negotiation only to a waiting accept, so of
 * failures at the same instant some go uncounted (and a reset before its
 * accept(2) leaves no trace): the hang-ups are spaced out here. */
static void tcp_hang_up(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
}

Test(peers, dialers_hanging_up_during_the_handshake_are_refusals_and_logged, .timeout = 60)
{
    pf_log_capture();
    uint16_t pa = pf_free_port();
    struct node_config *ca = pf_config("A", "good", pa, 0, NULL, NULL);
    struct peers *a = pf_open(ca, 64);
    char where[32];
    snprintf(where, sizeof where, "127.0.0.1:%u", (unsigned)pa);

    pf_tls_hang_up_on_server_cert(pa, false);
    cr_assert(pf_log_wait("PEER-INBOUND-REJECT", where, WAIT_MS),
              "no PEER-INBOUND-REJECT for a peer that hung up on our certificate");
    uint64_t t0 = peers_now_ms();
    cr_assert_eq(pf_log_count("PEER-INBOUND-REJECT", "1 hung up"), 1);

    pf_tls_hang_up_on_server_cert(pa, true);
    uint64_t n = 2;
    cr_assert(peers_wait_until(a, handshakes_failed_at_least, &n, WAIT_MS),
              "a reset during the handshake was not counted");
    tcp_hang_up(pa);
    n = 3;
    cr_assert(peers_wait_until(a, handshakes_failed_at_least, &n, WAIT_MS),
              "a dialer closing without TLS was not counted");
    /* A flood: whatever nng counts of it, the log gets one line a period
     * (the first came at once; closing flushes what was held back). */
    for (int i = 0; i < 50; i++)
        tcp_hang_up(pa);
    n = 4;
    cr_assert(peers_wait_until(a, handshakes_failed_at_least, &n, WAIT_MS));
    struct peers_inbound_stats in;
    peers_inbound_stats(a, &in);
    pf_close(a);
    uint64_t periods = (peers_now_ms() - t0) / PEERS_WARN_PERIOD_MS;
    size_t lines = pf_log_count("PEER-INBOUND-REJECT", NULL);
    cr_assert(lines >= 2 && lines <= 2 + periods, "%zu lines in %" PRIu64 " periods", lines,
              periods);
    /* The last line (the flush at close) accounts for every failure. */
    char line[4096];
    cr_assert(pf_log_last("PEER-INBOUND-REJECT", line, sizeof line));
    const char *all = strstr(line, "since the last report (");
    cr_assert(all != NULL, "%s", line);
    cr_assert_geq(strtoull(all + strlen("since the last report ("), NULL, 10), in.handshakes_failed,
                  "%s", line);
    cr_assert_eq(pf_log_count("PEER-INBOUND-REJECT", "refused by our TLS"), 0);
}

/* Members connecting, exchanging and going away make no refusal line. */
Test(peers, members_connecting_log_no_refusal, .timeout = 60)
{
    pf_log_capture();
    uint16_t pa = pf_free_port(), pb = pf_free_port();
    const char *peer_a[] = {"A"}, *peer_b[] = {"B"};
    struct node_config *ca = pf_config("A", "good", pa, 1, peer_b, &pb);
    struct node_config *cb = pf_config("B", "good", pb, 1, peer_a, &pa);
    struct peers *a = pf_open(ca, 64);
    struct peers *b = pf_open(cb, 64);
    uint32_t one = 1;
    cr_assert(peers_wait_until(a, connected_at_least, &one, WAIT_MS));
    cr_assert(peers_wait_until(b, connected_at_least, &one, WAIT_MS));
    Hansa__ConsensusMessage msg;
    Hansa__PeerStatus st;
    pf_status(&msg, &st, 7, 0);
    cr_assert_eq(peers_send(b, "A", &msg), HANSA_OK);
    cr_assert_eq(pf_expect_status(a, "B", NULL, WAIT_MS), 7);
    /* B leaves: its pipe into A ends with an error, which nng counts on
     * A's listener like a failed negotiation. */
    pf_close(b);
    cr_assert(peers_wait_until(a, peer_down, "B", WAIT_MS));
    /* Three watcher ticks, then A closes (flushing what it held back). */
    cr_assert(!pf_log_wait("PEER-INBOUND-REJECT", NULL, 3 * PEERS_WATCH_PERIOD_MS + 500),
              "a member's connection was logged as refused");
    pf_close(a);
    cr_assert_eq(pf_log_count("PEER-INBOUND-REJECT", NULL), 0,
                 "a member's connection was logged as refused at close");
    cr_assert(pf_log_count("PEER-CONNECT", NULL) >= 1);
}

/* ---- restart -------------------------------------------------------------- */

/* Send statuses seq, seq+1, ... from `from` to `to_id` until `to` receives
 * one from `from_id` (what is in flight across a reconnect may be lost);
 * at most 40 tries of 500 ms. */
static bool send_until_received(struct peers *from, const char *to_id, struct peers *to,
                                const char *from_id, uint64_t seq)
{
    for (int tries = 0; tries < 40; tries++, seq++) {
        Hansa__ConsensusMessage msg;
        Hansa__PeerStatus st;
        pf_status(&msg, &st, seq, 0);
        hansa_err err = peers_send(from, to_id, &msg);
        cr_assert(err == HANSA_OK || err == HANSA_EBUSY, "%s", hansa_strerror(err));
        Hansa__ConsensusMessage *m = peers_next(to, 500);
        if (m != NULL) {
            cr_assert_str_eq(m->sender, from_id);
            wire_free(m);
            return true;
        }
    }
    return false;
}

Test(peers, restarted_peer_receives_again_after_reconnect, .timeout = 60)
{
    uint16_t pa = pf_free_port(), pb = pf_free_port();
    const char *peer_a[] = {"A"}, *peer_b[] = {"B"};
    struct node_config *ca = pf_config("A", "good", pa, 1, peer_b, &pb);
    struct node_config *cb = pf_config("B", "good", pb, 1, peer_a, &pa);
    struct peers *a = pf_open(ca, 64);
    struct peers *b = pf_open(cb, 64);

    Hansa__ConsensusMessage msg;
    Hansa__PeerStatus st;
    pf_status(&msg, &st, 1, 0);
    cr_assert_eq(peers_send(a, "B", &msg), HANSA_OK);
    cr_assert_eq(pf_expect_status(b, "A", NULL, WAIT_MS), 1);
    /* B restarts once its own dial into A is through: a peer closing while
     * its dial is still negotiating can stop nng 1.5.2's accept loop (the
     * listener test below covers the repair). */
    uint32_t one = 1;
    cr_assert(peers_wait_until(b, connected_at_least, &one, WAIT_MS));

    pf_close(b);
    cr_assert(peers_wait_until(a, peer_down, "B", WAIT_MS), "A did not notice B going away");
    b = pf_open(cb, 64); /* same port */
    cr_assert_eq(peers_bound_port(b), pb);

    /* What was in flight at the restart may be lost: send until B hears. */
    cr_assert(send_until_received(a, "B", b, "A", 2), "the restarted peer received nothing");
    /* And the restarted node's own dialer reaches A. */
    cr_assert(send_until_received(b, "A", a, "B", 100), "A never heard from the restarted B");

    pf_close(b);
    pf_close(a);
}

/* ---- the listener's repair (peers_listen.c) ------------------------------- */

static unsigned listener_of(struct peers *p)
{
    return atomic_load(&p->listener_id);
}

static bool listener_replaced(struct peers *p, void *arg)
{
    unsigned id = listener_of(p);
    return id != 0 && id != *(const unsigned *)arg;
}

Test(peers, listener_that_stops_accepting_is_restarted_and_peers_deliver_again, .timeout = 60)
{
    uint16_t pa = pf_free_port(), pb = pf_free_port();
    const char *peer_a[] = {"A"}, *peer_b[] = {"B"};
    struct node_config *ca = pf_config("A", "good", pa, 1, peer_b, &pb);
    struct node_config *cb = pf_config("B", "good", pb, 1, peer_a, &pa);
    struct peers *a = pf_open(ca, 64);
    struct peers *b = pf_open(cb, 64);
    cr_assert(send_until_received(b, "A", a, "B", 1));
    /* B goes away first: closing a listener while a dial into it is still
     * negotiating can wedge nng 1.5.2's reaper (see peers_listen.c). */
    pf_close(b);
    cr_assert(peers_wait_until(a, peer_down, "B", WAIT_MS));

    /* Take A's listener away under it, as nng 1.5.2's fault does in effect
     * (there it stays open but never accepts again; that state comes only
     * from a timing window, about 1 in 12 to 1 in 60 quick peer restarts
     * here). The watcher's probe finds nobody accepting and listens again
     * on the same port. */
    unsigned dead = listener_of(a);
    nng_listener l = NNG_LISTENER_INITIALIZER;
    l.id = dead;
    cr_assert_eq(nng_listener_close(l), 0);
    peers_listener_request_check(a);
    cr_assert(peers_wait_until(a, listener_replaced, &dead, WAIT_MS), "no restart");
    cr_assert_eq(peers_bound_port(a), pa);

    b = pf_open(cb, 64);
    cr_assert(send_until_received(b, "A", a, "B", 2), "A stayed deaf");
}

Test(peers, member_hanging_up_during_negotiation_is_probed_and_the_listener_kept, .timeout = 60)
{
    uint16_t pa = pf_free_port(), pb = pf_free_port();
    const char *peer_a[] = {"A"}, *peer_b[] = {"B"};
    struct node_config *ca = pf_config("A", "good", pa, 1, peer_b, &pb);
    struct node_config *cb = pf_config("B", "good", pb, 1, peer_a, &pa);
    struct peers *a = pf_open(ca, 64);
    unsigned before = listener_of(a);

    /* A member completes the TLS handshake, reads A's SP header and hangs
     * up without sending its own: a failed negotiation counted as "other"
     * with no pipe to match it, which is how the fatal case looks too. */
    char url[64], why[512] = "";
    snprintf(url, sizeof url, "tls+tcp://127.0.0.1:%u", (unsigned)pa);
    nng_stream_dialer *d = NULL;
    cr_assert_eq(nng_stream_dialer_alloc(&d, url), 0);
    nng_tls_config *tls = NULL;
    cr_assert_eq(net_tls_client(cb, "A", &tls, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(nng_stream_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls), 0);
    nng_tls_config_free(tls);
    nng_aio *aio = NULL;
    cr_assert_eq(nng_aio_alloc(&aio, NULL, NULL), 0);
    nng_aio_set_timeout(aio, WAIT_MS);
    nng_stream_dialer_dial(d, aio);
    nng_aio_wait(aio);
    cr_assert_eq(nng_aio_result(aio), 0);
    nng_stream *s = nng_aio_get_output(aio, 0);
    uint8_t header[8];
    nng_iov iov = {.iov_buf = header, .iov_len = sizeof header};
    cr_assert_eq(nng_aio_set_iov(aio, 1, &iov), 0);
    nng_stream_recv(s, aio);
    nng_aio_wait(aio);
    cr_assert_eq(nng_aio_result(aio), 0);
    nng_stream_close(s);
    nng_stream_free(s);
    nng_aio_free(aio);
    nng_stream_dialer_free(d);

    /* The watcher probes within a few ticks: the probe's pipe is the first
     * one A ever accepts. The listener was alive, so it is kept. */
    uint64_t one = 1;
    cr_assert(peers_wait_until(a, accepted_at_least, &one, WAIT_MS), "no probe");
    cr_assert_eq(listener_of(a), before, "a live listener was restarted");
    struct peers *b = pf_open(cb, 64);
    cr_assert(send_until_received(b, "A", a, "B", 1));
    cr_assert_eq(listener_of(a), before);
}

/* ---- full queues ---------------------------------------------------------- */

Test(peers, full_inbound_queue_drops_and_counts_without_blocking_the_sender, .timeout = 60)
{
    uint16_t pa = pf_free_port(), pb = pf_free_port();
    const char *peer_b[] = {"B"};
    struct node_config *ca = pf_config("A", "good", pa, 1, peer_b, &pb);
    const char *peer_a[] = {"A"};
    struct node_config *cb = pf_config("B", "good", pb, 1, peer_a, &pa);
    struct peers *a = pf_open(ca, 64);
    struct peers *b = pf_open(cb, 4);

    /* B's event loop never reads while A sends 100: every send returns at
     * once (a blocking one would hang into the timeout). */
    for (uint64_t seq = 1; seq <= 100; seq++) {
        Hansa__ConsensusMessage msg;
        Hansa__PeerStatus st;
        pf_status(&msg, &st, seq, 0);
        cr_assert_eq(peers_send(a, "B", &msg), HANSA_OK);
    }
    uint64_t all = 100;
    cr_assert(peers_wait_until(b, handled_at_least, &all, WAIT_MS));
    struct peers_stats s;
    peers_stats(b, &s);
    cr_assert_eq(s.received, 4);
    cr_assert_eq(s.recv_dropped, 96);
    for (uint64_t seq = 1; seq <= 4; seq++)
        cr_assert_eq(pf_expect_status(b, "A", NULL, 0), seq, "the queue keeps the oldest");
    cr_assert_null(peers_next(b, 0));

    /* With room again, the next message is queued. */
    Hansa__ConsensusMessage msg;
    Hansa__PeerStatus st;
    pf_status(&msg, &st, 101, 0);
    cr_assert_eq(peers_send(a, "B", &msg), HANSA_OK);
    cr_assert_eq(pf_expect_status(b, "A", NULL, WAIT_MS), 101);

    pf_close(b);
    pf_close(a);
}

Test(peers, sends_to_an_unreachable_peer_queue_then_drop_and_count, .timeout = 60)
{
    uint16_t pa = pf_free_port(), pb = pf_free_port(), pc = pf_free_port();
    const char *ids[] = {"B", "C"};
    uint16_t ports[] = {pb, pc};
    struct node_config *ca = pf_config("A", "good", pa, 2, ids, ports);
    struct peers *a = pf_open(ca, 64);

    /* Nobody listens: the per-peer queue (256) fills, then sends drop. */
    uint64_t ok = 0, busy = 0;
    for (uint64_t seq = 1; seq <= 300; seq++) {
        Hansa__ConsensusMessage msg;
        Hansa__PeerStatus st;
        pf_status(&msg, &st, seq, 0);
        hansa_err err = peers_send(a, "B", &msg);
        cr_assert(err == HANSA_OK || err == HANSA_EBUSY, "%s", hansa_strerror(err));
        ok += err == HANSA_OK;
        busy += err == HANSA_EBUSY;
    }
    cr_assert_geq(ok, 256);
    cr_assert_geq(busy, 1);
    Hansa__ConsensusMessage msg;
    Hansa__PeerStatus st;
    pf_status(&msg, &st, 301, 0);
    peers_broadcast(a, &msg); /* B's copy drops, C's is queued */
    struct peers_stats s;
    peers_stats(a, &s);
    cr_assert_eq(s.sent, ok + 1);
    cr_assert_eq(s.send_dropped, busy + 1);
    cr_assert_eq(s.peers_connected, 0);
    cr_assert_eq(peers_send(a, "nobody", &msg), HANSA_EINVAL);

    pf_close(a);
}

/* ---- the caller's message, waking, failures to open ---------------------- */

Test(peers, relaying_a_decoded_message_leaves_it_unchanged, .timeout = 60)
{
    uint16_t pa = pf_free_port(), pb = pf_free_port();
    const char *peer_b[] = {"B"};
    struct node_config *ca = pf_config("A", "good", pa, 1, peer_b, &pb);
    struct peers *a = pf_open(ca, 64);

    uint8_t *buf = NULL;
    size_t len = 0;
    pf_encode(PF_CHAIN, "C", true, 9, &buf, &len);
    Hansa__ConsensusMessage *m = NULL;
    cr_assert_eq(wire_consensus_decode(buf, len, &m), HANSA_OK);
    free(buf);
    char *chain = m->chain_id, *sender = m->sender;
    peers_broadcast(a, m);
    cr_assert_eq(peers_send(a, "B", m), HANSA_OK);
    cr_assert(m->chain_id == chain && m->sender == sender);
    cr_assert_str_eq(m->sender, "C");
    wire_free(m); /* would free A's own strings had they been left in */

    pf_close(a);
    TD_EXPECT_NO_LEAKS();
}

static void *wait_next(void *arg)
{
    return peers_next(arg, 30000);
}

Test(peers, wake_returns_a_waiting_or_the_next_peers_next_at_once, .timeout = 60)
{
    uint16_t pa = pf_free_port();
    struct node_config *ca = pf_config("A", "good", pa, 0, NULL, NULL);
    struct peers *a = pf_open(ca, 8);

    /* A wake before the call is kept: the call returns NULL without
     * waiting its 30 s (the suite timeout would catch it). */
    peers_wake(a);
    cr_assert_null(peers_next(a, 30000));
    /* A waiter in another thread is woken; the wake is consumed once. */
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, wait_next, a), 0);
    peers_wake(a);
    void *r = (void *)1;
    cr_assert_eq(pthread_join(t, &r), 0);
    cr_assert_null(r);
    /* Without a wake, a short timeout expires. */
    cr_assert_null(peers_next(a, 50));

    pf_close(a);
}

Test(peers, open_names_the_address_or_file_at_fault, .timeout = 60)
{
    uint16_t pa = pf_free_port();
    struct node_config *ca = pf_config("A", "good", pa, 0, NULL, NULL);
    struct peers *a = pf_open(ca, 8), *again = NULL;
    char why[512] = "";
    cr_assert_eq(peers_open(ca, 8, &again, why, sizeof why), HANSA_EIO);
    cr_assert_null(again);
    cr_assert(strstr(why, ca->p2p_listen.url) != NULL, "%s", why);

    struct node_config *bad = pf_config("B", "good", pf_free_port(), 0, NULL, NULL);
    size_t n = strlen(bad->tls_cert_path);
    cr_assert(n + 8 < sizeof bad->tls_cert_path);
    memcpy(bad->tls_cert_path + n, ".missing", 9);
    cr_assert_eq(peers_open(bad, 8, &again, why, sizeof why), HANSA_EIO);
    cr_assert(strstr(why, ".missing") != NULL, "%s", why);
    cr_assert_eq(peers_open(ca, 0, &again, why, sizeof why), HANSA_EINVAL);

    pf_close(a);
}
