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

/* Wall clock in ms (for created_ms). */
uint64_t tc_now_ms(void);

#endif
