/*
 * A minimal synchronous client of the node's API for tests (the SDK comes
 * later and will replace it): nng req0 over tcp:// or tls+tcp://, signed
 * queries, submit, status.
 */
#ifndef HANSA_TEST_CLIENT_H
#define HANSA_TEST_CLIENT_H

#include <stdint.h>

#include "hansa/wire.h"

struct tc;

/* For tls+tcp:// give the CA file and the server name (node id). */
HANSA_MUST_USE hansa_err tc_open(const char *url, const char *ca_path, const char *server_name,
                                 uint32_t timeout_ms, struct tc **out);
void tc_close(struct tc *c);

/* Send raw request bytes and receive raw response bytes (caller frees). */
HANSA_MUST_USE hansa_err tc_raw(struct tc *c, const uint8_t *req, size_t len, uint8_t **resp,
                                size_t *resp_len);
/* Send a Request, decode the Response (caller wire_free()s). */
HANSA_MUST_USE hansa_err tc_call(struct tc *c, Hansa__Request *req, Hansa__Response **resp);
/* Submit signed transaction bytes. */
HANSA_MUST_USE hansa_err tc_submit(struct tc *c, const uint8_t *tx, size_t len,
                                   Hansa__Response **resp);
/* Sign q (chain_id, reader, created_ms = now, nonce filled in) as reader and
 * send it. */
HANSA_MUST_USE hansa_err tc_query(struct tc *c, const char *chain_id, const char *reader,
                                  const struct wire_keypair *kp, Hansa__Query *q,
                                  Hansa__Response **resp);
HANSA_MUST_USE hansa_err tc_status(struct tc *c, Hansa__Response **resp);

/*
 * A valid signed EXPORT order (CNY, CN -> DE) of merchant MER-SZ-0001 with
 * one line of quantity 1 at price_minor, created at created_ms, signed by
 * signer with kp (so tests can also sign as someone who may not). *bytes is
 * the Tx (caller frees); id (optional) its tx id.
 */
HANSA_MUST_USE hansa_err tc_order_tx(const char *chain_id, const char *signer,
                                     const struct wire_keypair *kp, const char *order_no,
                                     int64_t price_minor, uint64_t created_ms, uint8_t **bytes,
                                     size_t *len, uint8_t id[WIRE_HASH_BYTES]);

/* The body tc_order_tx signs, with item_name as the line's name, encoded
 * with no limit but max_len (caller frees *body): for transactions larger
 * than wire_tx_build allows, signed and wrapped by the caller. */
HANSA_MUST_USE hansa_err tc_order_body(const char *chain_id, const char *signer,
                                       const char *order_no, const char *item_name,
                                       int64_t price_minor, uint64_t created_ms, size_t max_len,
                                       uint8_t **body, size_t *body_len);

/* Wall clock in ms (for created_ms). */
uint64_t tc_now_ms(void);

#endif
