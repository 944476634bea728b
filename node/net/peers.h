/*
 * Validator links (DESIGN.md §6): one pull0 listener for everything peers
 * send this node, and one push0 socket per peer dialing that peer's
 * listener, all over tls+tcp with mutual authentication against the
 * consortium CA.
 *
 *   - The listener requires a client certificate signed by the CA
 *     (NNG_TLS_AUTH_MODE_REQUIRED); a peer without one never gets a pipe.
 *   - Each dialer expects the peer's validator id as TLS server name
 *     (mbedTLS 2.28 never matches IP addresses: LIBNOTES 1.6).
 *   - Sends never block: a full per-peer queue drops the message and counts
 *     it (consensus re-broadcasts; catch-up fills gaps). One slow peer
 *     cannot stall the others.
 *   - NNG_OPT_RECVMAXSZ = HANSA_PEER_MESSAGE_BYTES_MAX on every endpoint.
 *   - Received messages are decoded (wire_consensus_decode), checked for the
 *     chain id and a known sender id, and queued for the event loop on a
 *     bounded queue; a full queue drops the message and counts it.
 * The sender named in a ConsensusMessage is not authenticated by TLS
 * (nng 1.5.2 cannot tell which certificate a pipe presented: LIBNOTES 1.7);
 * every payload that matters carries its own Ed25519 signature, which the
 * event loop checks.
 */
#ifndef HANSA_NET_PEERS_H
#define HANSA_NET_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "hansa/error.h"
#include "hansa/wire.h"

struct peers;

struct peers_stats {
    uint64_t sent, send_dropped;     /* messages, across peers */
    uint64_t received, recv_dropped; /* recv_dropped: queue full */
    uint64_t malformed, wrong_chain, unknown_sender;
    uint32_t peers_connected; /* push sockets with a live pipe */
};

/* Listen on cfg->p2p_listen and dial every cfg->peers[i]. why names the
 * URL or file at fault. The inbound queue holds at most queue_max messages. */
HANSA_MUST_USE hansa_err peers_open(const struct node_config *cfg, size_t queue_max,
                                    struct peers **out, char *why, size_t why_len);
/* Stop all sockets, drop queued messages. Accepts NULL. */
void peers_close(struct peers *p);

/* Encode msg once (chain_id and sender are filled in from the config) and
 * send it to every peer (broadcast) or to the peer with this id. */
void peers_broadcast(struct peers *p, Hansa__ConsensusMessage *msg);
HANSA_MUST_USE hansa_err peers_send(struct peers *p, const char *peer_id,
                                    Hansa__ConsensusMessage *msg);

/* The next received message, waiting at most timeout_ms (0: do not wait).
 * NULL if none. The caller owns it (wire_free). */
Hansa__ConsensusMessage *peers_next(struct peers *p, uint32_t timeout_ms);
/* Wake a peers_next that is waiting (e.g. at shutdown or when other work
 * arrived for the event loop). */
void peers_wake(struct peers *p);

void peers_stats(struct peers *p, struct peers_stats *out);
/* The port the listener bound (for tests that listen on port 0). */
uint16_t peers_bound_port(const struct peers *p);

/* ---- added with the implementation ---------------------------------------- */

/* peers_send returns HANSA_OK (queued for the peer), HANSA_EINVAL (peer_id is
 * not a configured peer), HANSA_EBUSY (that peer's send queue is full: the
 * message was dropped and counted), HANSA_ETOOLARGE or HANSA_ENOMEM (not
 * encoded; counted as dropped), HANSA_ECLOSED. Neither it nor
 * peers_broadcast keeps or changes msg: the chain id and sender are put in
 * for the encoding only, so a decoded message can be relayed as it is. */

/* The listener side, for operators and tests. nng 1.5.2 gives no callback
 * for a failed TLS handshake and no pipe ever exists for it, so the only
 * trace of a dialer with a foreign certificate is nng's listener statistics
 * (handshakes_failed). accepted also counts the node's own probes of its
 * listener (peers_listen.c: nng 1.5.2 can stop accepting after a failed
 * negotiation; the node then restarts the listener). */
struct peers_inbound_stats {
    uint32_t connections;       /* inbound pipes open now */
    uint64_t accepted, closed;  /* inbound pipes ever opened / closed */
    uint64_t handshakes_failed; /* TLS handshakes or SP negotiations that failed,
                                   whichever side gave up (nng's listener
                                   counters; a dialer hanging up is counted
                                   once the watcher settles it, within ~2 s;
                                   failures at the same instant may go
                                   uncounted in nng 1.5.2) */
};
void peers_inbound_stats(struct peers *p, struct peers_inbound_stats *out);

/* peers_wake is sticky: a wake while nobody waits makes the next peers_next
 * that finds the queue empty return NULL at once (and clears it), so work
 * announced just before the event loop goes to sleep is not missed. */

/* True while the push socket to peer_id has a live connection. */
bool peers_peer_connected(struct peers *p, const char *peer_id);

/* Wait until pred(p, arg) holds, at most timeout_ms; true if it does. pred
 * is re-evaluated whenever the receive thread has handled a message and at
 * least every PEERS_WAIT_SLICE_MS (connection changes come from nng
 * callbacks that may only touch atomics, so they are polled). For start-up
 * ("wait for 2f peers") and tests. */
#define PEERS_WAIT_SLICE_MS 20u
typedef bool peers_pred(struct peers *p, void *arg);
bool peers_wait_until(struct peers *p, peers_pred *pred, void *arg, uint32_t timeout_ms);

#endif
