/*
 * Fixture of the validator-link tests and benchmark: a consortium PKI in a
 * mkdtemp directory (a good CA and a foreign one), node configs built in
 * memory for nodes on 127.0.0.1, raw push dialers that send arbitrary bytes
 * over mutual TLS, and PeerStatus messages that carry a sequence number.
 */
#ifndef HANSA_TEST_PEERS_FIXTURE_H
#define HANSA_TEST_PEERS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "config.h"
#include "peers.h"

#define PF_CHAIN "hansa-peers-test"

/* Create the PKI under a new temp dir: CA "good" with certificates A, B, C
 * and "mallory"; CA "other" with a certificate B. */
void pf_setup(void);
/* Close every peers and raw socket still open and free every config (a
 * failed assertion skips the rest of a test, not its .fini), then remove
 * the temp dir. */
void pf_teardown(void);

/* A free TCP port on 127.0.0.1 (bound, read and released). */
uint16_t pf_free_port(void);

/* A heap config for node id listening on port, trusting the good CA and
 * presenting the certificate of id issued by ca ("good" or "other"); peers
 * are given as n pairs of id and port. Freed by pf_teardown. */
struct node_config *pf_config(const char *id, const char *ca, uint16_t port, size_t n,
                              const char *const peer_ids[], const uint16_t peer_ports[]);

/* Make cfg trust only the CA named ca ("good" or "other"): with
 * pf_config(id, "other", ...) a node of another consortium. */
void pf_trust(struct node_config *cfg, const char *ca);

/* Capture this process's log (stderr, where log.c writes) in a file until
 * pf_teardown, which puts stderr back. */
void pf_log_capture(void);
/* The number of captured lines that hold both needles (b may be NULL). */
size_t pf_log_count(const char *a, const char *b);
/* The last captured line holding needle, into line; false if none. */
bool pf_log_last(const char *needle, char *line, size_t len);
/* Wait until some captured line holds both needles, at most timeout_ms,
 * rechecking every 50 ms; true if one does. */
bool pf_log_wait(const char *a, const char *b, uint32_t timeout_ms);

/* Play a node of another consortium (certificate B of CA "other", trusting
 * only that CA) dialing 127.0.0.1:port, as a TLS client that stops at the
 * server's certificate, finds it untrusted, and closes the TCP connection
 * without an alert: what a peer that refuses our certificate looks like
 * when its alert is lost. With reset, the close sends a TCP reset instead
 * of a FIN. Asserts that the certificate was untrusted. */
void pf_tls_hang_up_on_server_cert(uint16_t port, bool reset);

/* Open with queue_max; asserts. Closed by pf_close or pf_teardown. */
struct peers *pf_open(const struct node_config *cfg, size_t queue_max);
void pf_close(struct peers *p);

/* A PeerStatus message whose committed_height is seq and round is tag. */
void pf_status(Hansa__ConsensusMessage *m, Hansa__PeerStatus *st, uint64_t seq, uint32_t tag);

/* The next message within timeout_ms, asserting that it is a status from
 * sender; returns its seq (committed_height) and sets *tag. */
uint64_t pf_expect_status(struct peers *p, const char *sender, uint32_t *tag, uint32_t timeout_ms);

/* A raw push0 socket dialing 127.0.0.1:port with the TLS client config of
 * cfg (its certificate, expecting server_name). Sends block up to 10 s.
 * Closed by pf_teardown. */
nng_socket pf_raw_dial(const struct node_config *cfg, const char *server_name, uint16_t port);
/* Send len bytes on a raw socket; asserts that nng accepted them. */
void pf_raw_send(nng_socket s, const void *buf, size_t len);
/* Encode a status with explicit chain id and sender (no payload when
 * with_payload is false); caller frees *buf. */
void pf_encode(const char *chain_id, const char *sender, bool with_payload, uint64_t seq,
               uint8_t **buf, size_t *len);

#endif
