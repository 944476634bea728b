/*
 * libhansa internals shared by the SDK's source files (never installed).
 *
 * The client (client.c) owns one nng req0 socket; every request opens its
 * own nng context, so any number of threads may send at once. A request
 * can be given a call slot: another thread may then cancel it while it
 * waits for its answer (hansa_client_close cancels asynchronous submits,
 * hansa_subscription_close a long-poll). Invariants:
 *   1. the dialer is started at most once successfully (c->dialed), under
 *      c->mu; a failed first dial leaves nothing behind, so the next
 *      request dials again;
 *   2. the chain id is written once, before c->chain is published;
 *   3. a context starts its receive only after its send completed, so
 *      cancelling a call never cancels a receive while a send is pending
 *      (nng 1.5.2 bug #1702, LIBNOTES 1.9); operations start under the
 *      slot's lock, so a cancel is never lost between two of them.
 */
#ifndef HANSA_SDK_INTERNAL_H
#define HANSA_SDK_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "closer.h"
#include "hansa/hansa.h"
#include "hansa/wire.h"

/* Defaults of the public options (hansa.h). */
#define SDK_TIMEOUT_MS_DEFAULT 10000u
#define SDK_WAIT_MS_DEFAULT    30000u
#define SDK_POLL_MS_DEFAULT    10000u
/* How long closing a client or a subscription waits for nng_close before
 * it leaves the socket behind (closer.h): a healthy close takes
 * milliseconds. */
#define SDK_CLOSE_WAIT_MS 5000u
/* The node's longest wait in one request (GetReceipt / GetAlerts wait_ms:
 * 0-30,000, hansa.proto); longer waits are several requests. */
#define SDK_NODE_WAIT_MS_MAX 30000u
/* Random bytes in every transaction and query nonce (0-32 allowed). */
#define SDK_NONCE_BYTES 16u
/* Worker threads of asynchronous submits, started at the first one. */
#define SDK_ASYNC_WORKERS 4
/* One receipt wait of an asynchronous submit: workers take turns, so a
 * long wait never holds a worker that new submits need. */
#define SDK_ASYNC_WAIT_CHUNK_MS 2000u
/* Pauses between retries of a busy or unreachable node. */
#define SDK_BACKOFF_MS_MIN 50u
#define SDK_BACKOFF_MS_MAX 5000u

/* A request another thread may cancel (invariant 3). */
struct sdk_call_slot {
    pthread_mutex_t mu;
    nng_aio *aio; /* the request's aio while it runs */
    bool cancelled;
};
void sdk_slot_init(struct sdk_call_slot *s);
void sdk_slot_fini(struct sdk_call_slot *s);
/* Cancel the request in the slot now and every later one. */
void sdk_slot_cancel(struct sdk_call_slot *s);

struct sdk_async; /* submit.c */

struct hansa_client {
    nng_socket sock;
    char url[256];
    nng_tls_config *tls; /* with ca_path; shared with subscription dialers */
    uint32_t timeout_ms;
    bool has_key;
    struct wire_keypair kp;
    char party[HANSA_ID_LEN_MAX + 1];

    pthread_mutex_t mu;  /* dialing, the chain id, async state */
    pthread_cond_t cond; /* async state changes; monotonic clock */
    bool dialed;
    bool closing;     /* hansa_client_close has begun */
    atomic_int pipes; /* connections to the node now */
    char chain_buf[HANSA_CHAIN_ID_LEN_MAX + 1];
    _Atomic(const char *) chain; /* chain_buf once learned, else NULL */
    atomic_uint_fast64_t request_ids;
    struct sdk_async *async;
};

/* ---- errors (errors.c) ---- */

/* Fill err (may be NULL) and return code. */
hansa_code sdk_fail(hansa_error *err, hansa_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
hansa_code sdk_vfail(hansa_error *err, hansa_code code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Set err to success and return HANSA_CODE_OK. */
hansa_code sdk_ok(hansa_error *err);
/* The name of an enum value without the prefix every value of its enum
 * shares ("HIGH" for SEVERITY_HIGH); NULL for a number it does not name. */
const char *sdk_enum_short_name(const ProtobufCEnumDescriptor *d, int value);
/* Length of the prefix every value name of d shares, cut after its last
 * '_' ("SEVERITY_" -> 9). */
size_t sdk_enum_prefix_len(const ProtobufCEnumDescriptor *d);

/* ---- the library ---- */

/* wire_global_init once per process. */
hansa_code sdk_init(hansa_error *err);
uint64_t sdk_now_ms(void);  /* wall clock, for created_ms */
uint64_t sdk_mono_ms(void); /* monotonic, for deadlines */
/* Pause ms before a retry; false at once, or as soon as the client starts
 * closing. */
bool sdk_pause(hansa_client *c, uint32_t ms);

/* ---- requests (client.c) ---- */

/*
 * Send req (request_id is filled in) and receive its Response (*out, caller
 * wire_free()s) within timeout_ms. Retries ERROR_BUSY answers within the
 * timeout. A Response that carries an error is returned as it is, with
 * HANSA_CODE_OK: callers map node errors themselves (sdk_node_error).
 * slot may be NULL.
 */
hansa_code sdk_call(hansa_client *c, Hansa__Request *req, uint32_t timeout_ms,
                    struct sdk_call_slot *slot, Hansa__Response **out, hansa_error *err);
/* Map a Response's error to a code and fill err (node_error set). */
hansa_code sdk_node_error(const Hansa__Response *resp, hansa_error *err);
/* Take the answer (the kind member) out of resp, or NULL when its kind is
 * not want. The answer is owned by the caller (hansa_free). */
void *sdk_response_take(Hansa__Response *resp, int want);
/* The chain id, asking the node for it the first time. */
hansa_code sdk_chain(hansa_client *c, struct sdk_call_slot *slot, const char **chain,
                     hansa_error *err);
/* HANSA_CODE_INVALID_ARGUMENT unless the client was opened with a key. */
hansa_code sdk_need_key(const hansa_client *c, const char *what, hansa_error *err);

/* ---- signed queries (reads.c) ---- */

/*
 * Sign q as the client's party and send it. On HANSA_CODE_OK or
 * HANSA_CODE_CURSOR_EXPIRED *out holds the Response, whose kind is
 * checked against want (PROTOCOL otherwise). wait_ms is added to the
 * request's timeout for queries that wait on the node.
 */
hansa_code sdk_query(hansa_client *c, Hansa__Query *q, int want, uint32_t wait_ms,
                     struct sdk_call_slot *slot, Hansa__Response **out, hansa_error *err);
/* One GetReceipt of at most wait_ms (<= SDK_NODE_WAIT_MS_MAX): *status is
 * the node's TxStatus; out is filled when committed. */
hansa_code sdk_receipt_query(hansa_client *c, const uint8_t tx_id[32], uint32_t wait_ms,
                             struct sdk_call_slot *slot, Hansa__TxStatus *status,
                             hansa_receipt *out, hansa_error *err);
/* Copy a protocol Receipt into out (committed = true). */
void sdk_receipt_fill(const Hansa__Receipt *r, hansa_receipt *out);

/* ---- alerts (alerts.c) ---- */

/* hansa_alerts_pull with a call slot (the subscription's). */
hansa_code sdk_alerts_pull(hansa_client *c, hansa_cursor after, const hansa_alert_filter *filter,
                           uint32_t limit, uint32_t wait_ms, struct sdk_call_slot *slot,
                           Hansa__AlertPage **out, hansa_error *err);

/* ---- async submits (submit.c) ---- */

/* Cancel and finish every asynchronous submit, join the workers. */
void sdk_async_close(hansa_client *c);

/* ---- keys (keys.c) ---- */

hansa_code sdk_key_load(const char *path, struct wire_keypair *kp, char party[HANSA_ID_LEN_MAX + 1],
                        hansa_error *err);

/* ---- cursor files (cursor.c) ---- */

/* *found = false and HANSA_CODE_OK when the file does not exist;
 * HANSA_CODE_IO when it exists but cannot be read or parsed. */
hansa_code sdk_cursor_load(const char *path, hansa_cursor *out, bool *found, hansa_error *err);
/* Replace the file atomically and durably: temporary file, fsync, rename,
 * fsync of the directory. */
hansa_code sdk_cursor_save(const char *path, hansa_cursor cur, hansa_error *err);

#endif
