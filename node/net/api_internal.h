/*
 * What the files of the client API server share (api.c, submit.c, query.c,
 * reads.c, read_rules.c): the server, its request contexts and the helpers
 * every handler uses. Not part of the API's interface (api.h).
 *
 * One struct api_ctx per nng rep context. A context carries at most one
 * request at a time, so it doubles as that request's job: its state says
 * who holds it.
 *
 *        recv done                 worker pops             reply encoded
 *   RECV ─────────▶ QUEUED ─────────────────▶ WORKING ───────────────────▶ SEND
 *    ▲    (decode ok,  │                        │  ▲                         │
 *    │     queue room) │                        │  │ api_on_commit /          │
 *    │                 │ (queue full: BUSY      ▼  │ api_tick: QUEUED again   │
 *    │                 │  answered at once)   PARKED (receipt wait_ms)        │
 *    └─────────────────┴─────────────────────────────────────────────────────┘
 *                              send done: receive the next request
 *
 * Invariants:
 *   1. A context in QUEUED, WORKING or PARKED owns its decoded request
 *      (req, query, reader) and nothing else touches them; they are freed
 *      when its reply is encoded.
 *   2. A context is in the queue, in the parked list, held by one worker,
 *      or in flight in nng: never two of these at once. Moves between the
 *      queue and the parked list happen under api->mu.
 *   3. Every request gets exactly one Response (unless the socket closes
 *      first).
 */
#ifndef HANSA_NET_API_INTERNAL_H
#define HANSA_NET_API_INTERNAL_H

#include <nng/nng.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "admission.h"
#include "api.h"
#include "audit.h"
#include "hansa/wire.h"
#include "read_rules.h"

/* Request contexts: requests in progress at once (being received, queued,
 * worked on, parked or answered). Each holds one aio and at most one request
 * of HANSA_REQUEST_BYTES_MAX, so 64 bound the API's memory to ~4.5 MiB. */
#define API_CONTEXTS 64
/* Requests waiting for a worker. Beyond it the nng callback answers
 * ERROR_BUSY at once; half the contexts, so contexts remain to say so. */
#define API_QUEUE_MAX 32
/* Receipt queries parked until their transaction commits or their wait
 * ends; the rest of the contexts keep serving other requests. */
#define API_PARKED_MAX 32
/* GetReceipt.wait_ms, hansa.proto: 0-30,000. */
#define API_WAIT_MS_MAX 30000u
/* Page sizes of lists and history, hansa.proto: 1-100 (0 = 50). */
#define API_PAGE_LIMIT_MAX     100u
#define API_PAGE_LIMIT_DEFAULT 50u
/* A page token is the last key returned, hansa.proto: at most 256 bytes. */
#define API_PAGE_TOKEN_BYTES_MAX 256u
/* Index keys one list request examines (records the reader may not see are
 * skipped): bounds the work of one request; the page then ends early with a
 * token to continue. */
#define API_LIST_SCAN_MAX 1000u

/* How long an answer may wait for a client that does not read it (its
 * TCP window full). The answer is then dropped and the context serves
 * others: a client cannot pin contexts by never reading. */
#define API_SEND_TIMEOUT_MS 10000
/* At close, how long a last answer (ERROR_UNAVAILABLE to queued and
 * parked requests) may wait for a client that does not read: a stopping
 * node must not hang on one slow peer. */
#define API_CLOSE_SEND_MS 1000
/* error_message and SubmitResult.message: one sentence. */
#define API_MESSAGE_BYTES_MAX 256u

_Static_assert(API_QUEUE_MAX < API_CONTEXTS, "a full queue must be reachable to answer busy");
_Static_assert(API_PARKED_MAX < API_CONTEXTS, "parked waits must leave contexts free");

enum api_ctx_state { CTX_IDLE, CTX_RECV, CTX_QUEUED, CTX_WORKING, CTX_PARKED, CTX_SEND };

/* A pointer freed when the request's reply has been encoded. */
struct api_keep {
    void *p;
    void (*fn)(void *);
};

struct api_ctx {
    struct api *api;
    nng_ctx ctx;
    nng_aio *aio;
    enum api_ctx_state state;

    /* The request being served (invariant 1). */
    Hansa__Request *req;
    Hansa__Query *query; /* decoded SignedQuery.query, once verified */
    Hansa__Party *reader_party;
    struct api_reader reader;
    bool resume;                  /* a parked receipt wait ended: answer now */
    uint64_t serial;              /* counts requests served in this context (under mu) */
    nng_duration send_timeout_ms; /* API_SEND_TIMEOUT_MS; shorter at close */
    uint64_t deadline_ms;         /* PARKED: when the wait ends (node clock) */

    struct api_keep *keep;
    size_t n_keep, cap_keep;
    bool keep_failed; /* out of memory while keeping: answer ERROR_INTERNAL */
    char message[API_MESSAGE_BYTES_MAX];
};

struct api {
    struct api_deps deps;
    struct admission admission; /* over deps.store and deps.mempool */
    nng_socket sock;
    bool sock_open;
    nng_listener tls_listener, tcp_listener;
    bool tls_started, tcp_started;
    struct audit *audit;

    struct api_ctx *ctxs; /* API_CONTEXTS */
    size_t n_ctxs;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Ring of contexts waiting for a worker: API_QUEUE_MAX requests plus
     * room reserved for every parked wait to resume. */
    struct api_ctx *queue[API_QUEUE_MAX + API_PARKED_MAX];
    size_t q_head, q_len, q_requests; /* q_requests: of q_len, fresh requests */
    struct api_ctx *parked[API_PARKED_MAX];
    size_t n_parked;
    bool closing;

    pthread_t *workers;
    size_t n_workers;
};

/* ---- api.c ---- */
uint64_t api_now_ms(const struct api *api);
/* Keep p until the reply is encoded, then fn(p). On allocation failure fn(p)
 * runs at once, the request is answered ERROR_INTERNAL, and false returns:
 * the caller must not use p. */
bool api_keep(struct api_ctx *c, void *p, void (*fn)(void *));
/* calloc(1, size) kept with free; NULL on failure. */
void *api_alloc(struct api_ctx *c, size_t size);
/* A copy of s kept with free; "" on failure. */
char *api_strdup(struct api_ctx *c, const char *s);
/* Set an error answer: code and a printf-formatted sentence. */
__attribute__((format(printf, 4, 5))) void api_fail(struct api_ctx *c, Hansa__Response *resp,
                                                    Hansa__ErrorCode code, const char *fmt, ...);
/* A storage failure: logged with the store's message, ERROR_INTERNAL. */
void api_fail_storage(struct api_ctx *c, Hansa__Response *resp, const char *what, hansa_err err);

/* Park c (a receipt wait) until deadline_ms: ERROR_NONE with the request's
 * serial, or ERROR_BUSY when the parked list is full, ERROR_UNAVAILABLE
 * when the server is closing. */
Hansa__ErrorCode api_park(struct api_ctx *c, uint64_t deadline_ms, uint64_t *serial);
/* Take c back out of the parked list. False if api_on_commit or api_tick
 * took it first: it is then queued to resume and another worker may be
 * answering it already, so the caller must not touch c at all (not even
 * read it) once api_park has returned true, except through this call. */
bool api_unpark(struct api *api, struct api_ctx *c, uint64_t serial);

/* Decoded state record at key: HANSA_OK, HANSA_ENOENT, or a storage error
 * (HANSA_EFORMAT for a stored record that does not decode). */
HANSA_MUST_USE hansa_err api_state_load(struct api *api, const char *key,
                                        const ProtobufCMessageDescriptor *d, void **out);
/* The same, kept with c. */
HANSA_MUST_USE hansa_err api_state_load_kept(struct api_ctx *c, const char *key,
                                             const ProtobufCMessageDescriptor *d, void **out);
/* Parameters in force, kept with c. */
HANSA_MUST_USE hansa_err api_params(struct api_ctx *c, Hansa__Parameters **out);
/* The receipt of a committed transaction from its stored block, kept with
 * c; *tx_bytes/len (optional) point at its encoded Tx inside the kept
 * block. */
HANSA_MUST_USE hansa_err api_receipt_load(struct api_ctx *c, const uint8_t id[WIRE_HASH_BYTES],
                                          uint64_t height, uint32_t index, Hansa__Receipt **out,
                                          const uint8_t **tx_bytes, size_t *tx_len);

/* Append one line to the read-audit log for c's reader. */
void api_audit(struct api_ctx *c, const char *record, bool allowed);
/* Audit per verdict (own reads are not audited); true if allowed. */
bool api_audit_verdict(struct api_ctx *c, const char *record, enum rules_verdict v);

/* ---- records (reads.c) ---- */
/* Descriptor of a Record kind's message; NULL for NOT_SET. */
const ProtobufCMessageDescriptor *api_record_descriptor(Hansa__Record__KindCase kind);
/* Load the record of this kind at key into a kept Record. */
HANSA_MUST_USE hansa_err api_record_load(struct api_ctx *c, const char *key,
                                         Hansa__Record__KindCase kind, Hansa__Record **out);

/* ---- handlers ---- */
/* submit.c */
void api_submit(struct api_ctx *c, Hansa__Response *resp);
/* query.c: false when the request was parked (no reply now). */
bool api_query(struct api_ctx *c, Hansa__Response *resp);
bool api_query_resume(struct api_ctx *c, Hansa__Response *resp);
/* reads.c: one per Query kind */
void api_read_order(struct api_ctx *c, Hansa__Response *resp);
void api_read_payment(struct api_ctx *c, Hansa__Response *resp);
void api_read_waybill(struct api_ctx *c, Hansa__Response *resp);
void api_read_line(struct api_ctx *c, Hansa__Response *resp);
void api_read_financing(struct api_ctx *c, Hansa__Response *resp);
void api_read_party(struct api_ctx *c, Hansa__Response *resp);
void api_read_exposure(struct api_ctx *c, Hansa__Response *resp);
void api_read_list(struct api_ctx *c, Hansa__Response *resp);
void api_read_history(struct api_ctx *c, Hansa__Response *resp);
void api_read_block(struct api_ctx *c, Hansa__Response *resp);
void api_read_parameters(struct api_ctx *c, Hansa__Response *resp);
void api_read_proposal(struct api_ctx *c, Hansa__Response *resp);
/* alerts.c: GetAlerts; false when the request was parked (may_wait and
 * nothing to answer yet): the caller must not touch c. */
bool api_read_alerts(struct api_ctx *c, Hansa__Response *resp, bool may_wait);

#endif
