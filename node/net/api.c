/*
 * The client API server: nng plumbing, the job queue, the workers, parked
 * receipt waits, and the helpers the handlers share (api_internal.h has the
 * context life cycle and its invariants).
 *
 * Threads:
 *   - nng callbacks (ctx_cb) decode the Request envelope and queue the
 *     context, or answer at once (undecodable request, queue full, closing).
 *     They never block: the only lock they take, api->mu, is held for a few
 *     pointer moves.
 *   - cfg->verifier_threads workers pop contexts and run the handlers
 *     (submit.c, query.c, reads.c): signature checks and store reads happen
 *     here.
 *   - the node's event loop calls api_on_commit and api_tick, which move
 *     parked receipt waits back into the queue (room for them is reserved,
 *     so resuming never fails) for a worker to answer.
 *
 * Receives wait without a timeout (clients may idle); an answer waits at
 * most API_SEND_TIMEOUT_MS for a client that does not read, so nobody can
 * pin a context. Every listener caps requests at HANSA_REQUEST_BYTES_MAX:
 * nng drops the connection of a client that sends more (LIBNOTES 1.2).
 *
 * Shutdown (api_close): stop the workers, answer everything queued or
 * parked with ERROR_UNAVAILABLE, close the socket (every outstanding aio
 * completes with NNG_ECLOSED), then nng_aio_stop each aio outside any
 * callback (LIBNOTES 1.5) and free.
 */
#include <nng/nng.h>

#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "tls.h"
#include "hansa/assert.h"
#include "log.h"

static void ctx_cb(void *arg);

uint64_t api_now_ms(const struct api *api)
{
    return api->deps.now_ms(api->deps.now_ctx);
}

/* ---- keeping allocations until the reply is encoded ---- */

bool api_keep(struct api_ctx *c, void *p, void (*fn)(void *))
{
    if (p == NULL)
        return true;
    if (c->n_keep == c->cap_keep) {
        size_t cap = c->cap_keep ? c->cap_keep * 2 : 16;
        struct api_keep *k = realloc(c->keep, cap * sizeof *k);
        if (k == NULL) {
            fn(p);
            c->keep_failed = true;
            return false;
        }
        c->keep = k;
        c->cap_keep = cap;
    }
    c->keep[c->n_keep++] = (struct api_keep){p, fn};
    return true;
}

void *api_alloc(struct api_ctx *c, size_t size)
{
    void *p = calloc(1, size);
    if (p == NULL) {
        c->keep_failed = true;
        return NULL;
    }
    return api_keep(c, p, free) ? p : NULL;
}

char *api_strdup(struct api_ctx *c, const char *s)
{
    size_t n = strlen(s);
    char *p = api_alloc(c, n + 1);
    if (p == NULL)
        return (char *)"";
    memcpy(p, s, n);
    return p;
}

static void keep_release(struct api_ctx *c)
{
    for (size_t i = c->n_keep; i > 0; i--)
        c->keep[i - 1].fn(c->keep[i - 1].p);
    free(c->keep);
    c->keep = NULL;
    c->n_keep = c->cap_keep = 0;
    c->keep_failed = false;
}

/* Free the request state of c (invariant 1). */
static void ctx_release(struct api_ctx *c)
{
    keep_release(c);
    wire_free(c->req);
    wire_free(c->query);
    wire_free(c->reader_party);
    c->req = NULL;
    c->query = NULL;
    c->reader_party = NULL;
    memset(&c->reader, 0, sizeof c->reader);
    c->resume = false;
    c->deadline_ms = 0;
    c->message[0] = '\0';
}

void api_fail(struct api_ctx *c, Hansa__Response *resp, Hansa__ErrorCode code, const char *fmt, ...)
{
    HANSA_ASSERT(code != HANSA__ERROR_CODE__ERROR_NONE);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
    resp->error = code;
    resp->error_message = c->message;
    resp->kind_case = HANSA__RESPONSE__KIND__NOT_SET;
}

void api_fail_storage(struct api_ctx *c, Hansa__Response *resp, const char *what, hansa_err err)
{
    char why[256] = "";
    store_last_error(c->api->deps.store, why, sizeof why);
    log_error("API-STORE-READ", "%s: %s (%s)", what, hansa_strerror(err), why);
    api_fail(c, resp, HANSA__ERROR_CODE__ERROR_INTERNAL,
             "the node could not read its store (%s); the failure is logged there",
             hansa_errname(err));
}

/* ---- state reads shared by the handlers ---- */

hansa_err api_state_load(struct api *api, const char *key, const ProtobufCMessageDescriptor *d,
                         void **out)
{
    return rules_load(api->deps.store, key, d, out);
}

hansa_err api_state_load_kept(struct api_ctx *c, const char *key,
                              const ProtobufCMessageDescriptor *d, void **out)
{
    hansa_err rv = api_state_load(c->api, key, d, out);
    if (rv == HANSA_OK && !api_keep(c, *out, wire_free)) {
        *out = NULL;
        return HANSA_ENOMEM;
    }
    return rv;
}

hansa_err api_params(struct api_ctx *c, Hansa__Parameters **out)
{
    return api_state_load_kept(c, RULES_KEY_PARAMS, &hansa__parameters__descriptor, (void **)out);
}

/* Field numbers of hansa.proto read without decoding a whole stored block
 * (a block of 5,000 transactions is ~1.5 MB; a receipt needs one of them). */
enum {
    FIELD_STORED_BLOCK = 1,   /* StoredBlock.block */
    FIELD_STORED_RESULTS = 3, /* StoredBlock.results */
    FIELD_BLOCK_HEADER = 1,   /* Block.header */
    FIELD_BLOCK_TXS = 2,      /* Block.txs */
    FIELD_RESULTS = 3,        /* BlockResults.results */
};

hansa_err api_receipt_load(struct api_ctx *c, const uint8_t id[WIRE_HASH_BYTES], uint64_t height,
                           uint32_t index, Hansa__Receipt **out, const uint8_t **tx_bytes,
                           size_t *tx_len)
{
    *out = NULL;
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = store_get_block(c->api->deps.store, height, &val, &len);
    if (rv != HANSA_OK)
        return rv == HANSA_ENOENT ? HANSA_EFORMAT : rv; /* the tx index names it */
    if (!api_keep(c, val, free))
        return HANSA_ENOMEM;
    /* Only the header, transaction `index` and its result: the stored block
     * is neither decoded nor copied as a whole. */
    const uint8_t *block, *results, *header, *tx, *result;
    size_t block_len, results_len, header_len, tx_len_, result_len;
    if (wire_field_bytes(val, len, FIELD_STORED_BLOCK, 0, &block, &block_len) != HANSA_OK ||
        wire_field_bytes(val, len, FIELD_STORED_RESULTS, 0, &results, &results_len) != HANSA_OK ||
        wire_field_bytes(block, block_len, FIELD_BLOCK_HEADER, 0, &header, &header_len) !=
            HANSA_OK ||
        wire_field_bytes(block, block_len, FIELD_BLOCK_TXS, index, &tx, &tx_len_) != HANSA_OK ||
        wire_field_bytes(results, results_len, FIELD_RESULTS, index, &result, &result_len) !=
            HANSA_OK)
        return HANSA_EFORMAT;
    Hansa__BlockHeader *h = NULL;
    if (wire_block_header_decode(header, header_len, &h) != HANSA_OK)
        return HANSA_EFORMAT;
    uint64_t time_ms = h->time_ms;
    wire_free(h);
    Hansa__TxResult *tr = NULL;
    if (wire_decode(&hansa__tx_result__descriptor, result, result_len, HANSA_RESPONSE_BYTES_MAX,
                    WIRE_LENIENT, (ProtobufCMessage **)&tr) != HANSA_OK)
        return HANSA_EFORMAT;
    if (!api_keep(c, tr, wire_free))
        return HANSA_ENOMEM;

    Hansa__Receipt *r = api_alloc(c, sizeof *r);
    uint8_t *idc = api_alloc(c, WIRE_HASH_BYTES);
    uint8_t *hash = api_alloc(c, WIRE_HASH_BYTES);
    if (r == NULL || idc == NULL || hash == NULL)
        return HANSA_ENOMEM;
    hansa__receipt__init(r);
    memcpy(idc, id, WIRE_HASH_BYTES);
    wire_block_hash(header, header_len, hash);
    r->tx_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, idc};
    r->height = height;
    r->index = index;
    r->result = tr->result;
    r->message = tr->message;
    r->block_time_ms = time_ms;
    r->block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, hash};
    *out = r;
    if (tx_bytes != NULL) {
        *tx_bytes = tx;
        *tx_len = tx_len_;
    }
    return HANSA_OK;
}

/* ---- audit ---- */

void api_audit(struct api_ctx *c, const char *record, bool allowed)
{
    audit_record(c->api->audit, api_now_ms(c->api), c->reader.id, record, allowed);
}

bool api_audit_verdict(struct api_ctx *c, const char *record, enum rules_verdict v)
{
    if (v != RULES_OWN)
        api_audit(c, record, v == RULES_ALLOW);
    return v != RULES_DENY;
}

/* ---- replies ---- */

static void ctx_recv(struct api_ctx *c)
{
    c->state = CTX_RECV;
    nng_aio_set_timeout(c->aio, NNG_DURATION_INFINITE); /* clients may idle */
    nng_ctx_recv(c->ctx, c->aio);
}

/* Send the encoded reply buf (freed here). */
static void ctx_send(struct api_ctx *c, uint8_t *buf, size_t len)
{
    nng_msg *m = NULL;
    int rv = nng_msg_alloc(&m, len);
    if (rv == 0 && len > 0)
        memcpy(nng_msg_body(m), buf, len);
    free(buf);
    if (rv != 0) {
        /* The client's request times out and is resent (LIBNOTES 1.4). */
        log_error("API-REPLY-ALLOC", "cannot allocate a %zu-byte reply: %s", len, nng_strerror(rv));
        ctx_recv(c);
        return;
    }
    c->state = CTX_SEND;
    nng_aio_set_timeout(c->aio, c->send_timeout_ms);
    nng_aio_set_msg(c->aio, m);
    nng_ctx_send(c->ctx, c->aio);
}

/* Encode resp, release the request state and send. */
static void ctx_reply(struct api_ctx *c, Hansa__Response *resp)
{
    if (c->keep_failed) {
        api_fail(c, resp, HANSA__ERROR_CODE__ERROR_INTERNAL, "the node ran out of memory");
        log_error("API-NOMEM", "out of memory while answering request %llu",
                  (unsigned long long)resp->request_id);
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    hansa_err rv = wire_encode(&resp->base, HANSA_RESPONSE_BYTES_MAX, &buf, &len);
    if (rv != HANSA_OK) {
        log_error("API-REPLY-ENCODE", "answer to request %llu not encoded: %s",
                  (unsigned long long)resp->request_id, hansa_strerror(rv));
        api_fail(c, resp, HANSA__ERROR_CODE__ERROR_INTERNAL,
                 rv == HANSA_ETOOLARGE ? "the answer exceeds the response size limit"
                                       : "the node ran out of memory");
        rv = wire_encode(&resp->base, HANSA_RESPONSE_BYTES_MAX, &buf, &len);
        HANSA_ASSERT(rv == HANSA_OK || rv == HANSA_ENOMEM);
    }
    ctx_release(c);
    if (rv != HANSA_OK) {
        ctx_recv(c);
        return;
    }
    ctx_send(c, buf, len);
}

__attribute__((format(printf, 4, 5))) static void
ctx_reply_error(struct api_ctx *c, uint64_t request_id, Hansa__ErrorCode code, const char *fmt, ...)
{
    Hansa__Response resp = HANSA__RESPONSE__INIT;
    resp.request_id = request_id;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
    resp.error = code;
    resp.error_message = c->message;
    ctx_reply(c, &resp);
}

/* request_id of bytes that do not decode as a Request, when they at least
 * start with field 1 as a varint (so the client can match the error). */
static uint64_t peek_request_id(const uint8_t *b, size_t len)
{
    if (len < 2 || b[0] != 0x08)
        return 0;
    uint64_t v = 0;
    for (size_t i = 1; i < len && i <= 10; i++) {
        v |= (uint64_t)(b[i] & 0x7f) << (7 * (i - 1));
        if ((b[i] & 0x80) == 0)
            return v;
    }
    return 0;
}

/* ---- the queue ---- */

static void queue_push_locked(struct api *api, struct api_ctx *c)
{
    size_t cap = sizeof api->queue / sizeof api->queue[0];
    HANSA_ASSERT(api->q_len < cap);
    api->queue[(api->q_head + api->q_len) % cap] = c;
    api->q_len++;
    c->state = CTX_QUEUED;
    pthread_cond_signal(&api->cv);
}

static struct api_ctx *queue_pop_locked(struct api *api)
{
    size_t cap = sizeof api->queue / sizeof api->queue[0];
    if (api->q_len == 0)
        return NULL;
    struct api_ctx *c = api->queue[api->q_head];
    api->q_head = (api->q_head + 1) % cap;
    api->q_len--;
    if (!c->resume) {
        HANSA_ASSERT(api->q_requests > 0);
        api->q_requests--;
    }
    c->state = CTX_WORKING;
    return c;
}

/* A new request: queue it, or say why not. */
static Hansa__ErrorCode enqueue_request(struct api *api, struct api_ctx *c)
{
    Hansa__ErrorCode code = HANSA__ERROR_CODE__ERROR_NONE;
    pthread_mutex_lock(&api->mu);
    if (api->closing)
        code = HANSA__ERROR_CODE__ERROR_UNAVAILABLE;
    else if (api->q_requests == API_QUEUE_MAX)
        code = HANSA__ERROR_CODE__ERROR_BUSY;
    else {
        c->serial++;
        api->q_requests++;
        queue_push_locked(api, c);
    }
    pthread_mutex_unlock(&api->mu);
    return code;
}

/* ---- parked receipt waits ---- */

Hansa__ErrorCode api_park(struct api_ctx *c, uint64_t deadline_ms, uint64_t *serial)
{
    struct api *api = c->api;
    Hansa__ErrorCode code = HANSA__ERROR_CODE__ERROR_NONE;
    pthread_mutex_lock(&api->mu);
    /* Parked waits and resumed ones still queued share the reserved part
     * of the queue, so resuming never finds it full. */
    size_t resumes_queued = api->q_len - api->q_requests;
    if (api->closing)
        code = HANSA__ERROR_CODE__ERROR_UNAVAILABLE;
    else if (api->n_parked + resumes_queued >= API_PARKED_MAX)
        code = HANSA__ERROR_CODE__ERROR_BUSY;
    else {
        c->deadline_ms = deadline_ms;
        c->state = CTX_PARKED;
        api->parked[api->n_parked++] = c;
        *serial = c->serial;
    }
    pthread_mutex_unlock(&api->mu);
    return code;
}

static bool unpark_locked(struct api *api, struct api_ctx *c)
{
    for (size_t i = 0; i < api->n_parked; i++) {
        if (api->parked[i] == c) {
            api->parked[i] = api->parked[--api->n_parked];
            return true;
        }
    }
    return false;
}

bool api_unpark(struct api *api, struct api_ctx *c, uint64_t serial)
{
    pthread_mutex_lock(&api->mu);
    /* The serial tells this request from a later one parked in the same
     * context after this one was resumed and answered elsewhere. */
    bool ok = c->serial == serial && unpark_locked(api, c);
    if (ok)
        c->state = CTX_WORKING;
    pthread_mutex_unlock(&api->mu);
    return ok;
}

/* Move parked[i] to the queue to be answered now (room is reserved). */
static void resume_locked(struct api *api, size_t i)
{
    struct api_ctx *c = api->parked[i];
    api->parked[i] = api->parked[--api->n_parked];
    c->resume = true;
    queue_push_locked(api, c);
}

/* The tx id a parked receipt wait waits for; NULL for an alert poll. */
static const uint8_t *parked_tx_id(const struct api_ctx *c)
{
    HANSA_ASSERT(c->query != NULL);
    if (c->query->kind_case != HANSA__QUERY__KIND_RECEIPT)
        return NULL;
    return c->query->receipt->tx_id.data;
}

void api_on_commit(struct api *api, uint64_t height, uint64_t block_time_ms,
                   const Hansa__BlockResults *results)
{
    (void)height;
    (void)block_time_ms;
    if (api == NULL || results == NULL)
        return;
    pthread_mutex_lock(&api->mu);
    for (size_t i = 0; i < api->n_parked;) {
        const uint8_t *id = parked_tx_id(api->parked[i]);
        bool hit = false;
        for (size_t k = 0; id != NULL && k < results->n_results && !hit; k++) {
            const Hansa__TxResult *r = results->results[k];
            hit = r->tx_id.len == WIRE_HASH_BYTES && memcmp(r->tx_id.data, id, 32) == 0;
        }
        if (hit)
            resume_locked(api, i); /* parked[i] now holds another entry */
        else
            i++;
    }
    pthread_mutex_unlock(&api->mu);
}

void api_on_alerts(struct api *api)
{
    if (api == NULL)
        return;
    pthread_mutex_lock(&api->mu);
    for (size_t i = 0; i < api->n_parked;) {
        if (parked_tx_id(api->parked[i]) == NULL)
            resume_locked(api, i); /* parked[i] now holds another entry */
        else
            i++;
    }
    pthread_mutex_unlock(&api->mu);
}

void api_tick(struct api *api, uint64_t now_ms)
{
    if (api == NULL)
        return;
    pthread_mutex_lock(&api->mu);
    for (size_t i = 0; i < api->n_parked;) {
        if (api->parked[i]->deadline_ms <= now_ms)
            resume_locked(api, i);
        else
            i++;
    }
    pthread_mutex_unlock(&api->mu);
}

size_t api_parked_count(struct api *api)
{
    HANSA_ASSERT(api != NULL);
    pthread_mutex_lock(&api->mu);
    size_t n = api->n_parked;
    pthread_mutex_unlock(&api->mu);
    return n;
}

/* ---- serving one request (worker threads) ---- */

static void serve_status(struct api_ctx *c, Hansa__Response *resp)
{
    struct api *api = c->api;
    Hansa__NodeStatus *st = api_alloc(c, sizeof *st);
    if (st == NULL)
        return;
    hansa__node_status__init(st);
    if (api->deps.status != NULL) {
        api->deps.status(api->deps.status_ctx, st);
    } else {
        uint64_t h = store_height(api->deps.store);
        st->latest_height = h == UINT64_MAX ? 0 : h;
    }
    if (st->chain_id == NULL || st->chain_id[0] == '\0')
        st->chain_id = (char *)api->deps.cfg->chain_id;
    if (st->node_id == NULL || st->node_id[0] == '\0')
        st->node_id = (char *)api->deps.cfg->node_id;
    size_t txs = mempool_count(api->deps.mempool);
    st->mempool_txs = txs > UINT32_MAX ? UINT32_MAX : (uint32_t)txs;
    st->mempool_bytes = mempool_bytes(api->deps.mempool);
    st->local_time_ms = api_now_ms(api);
    Hansa__Cursor *head = api_alloc(c, sizeof *head);
    if (head == NULL)
        return;
    hansa__cursor__init(head);
    hansa_err rv =
        store_meta_cursor(api->deps.store, STORE_META_RISK_HEAD, &head->height, &head->ordinal);
    if (rv != HANSA_OK) {
        api_fail_storage(c, resp, "status: alert head", rv);
        return;
    }
    st->alert_head = head;
    rv = store_meta_u64(api->deps.store, STORE_META_RISK_HEIGHT, &st->risk_processed_height);
    if (rv != HANSA_OK) {
        api_fail_storage(c, resp, "status: risk height", rv);
        return;
    }
    if (st->latest_state_root.len == 0) {
        uint8_t *root = api_alloc(c, WIRE_HASH_BYTES);
        if (root == NULL)
            return;
        store_state_root(api->deps.store, root);
        st->latest_state_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, root};
    }
    resp->kind_case = HANSA__RESPONSE__KIND_STATUS;
    resp->status = st;
}

static void serve(struct api_ctx *c)
{
    Hansa__Response resp = HANSA__RESPONSE__INIT;
    resp.request_id = c->req->request_id;
    bool answer = true;
    if (c->resume) {
        answer = api_query_resume(c, &resp);
    } else {
        switch (c->req->kind_case) {
        case HANSA__REQUEST__KIND_SUBMIT:
            api_submit(c, &resp);
            break;
        case HANSA__REQUEST__KIND_QUERY:
            answer = api_query(c, &resp);
            break;
        case HANSA__REQUEST__KIND_STATUS:
            serve_status(c, &resp);
            break;
        default:
            if (c->req->base.n_unknown_fields > 0)
                api_fail(c, &resp, HANSA__ERROR_CODE__ERROR_UNSUPPORTED,
                         "the request kind is unknown to this node (a newer client?)");
            else
                api_fail(c, &resp, HANSA__ERROR_CODE__ERROR_BAD_REQUEST,
                         "the request names no kind (submit, query or status)");
            break;
        }
    }
    if (answer)
        ctx_reply(c, &resp);
}

static void *worker_main(void *arg)
{
    struct api *api = arg;
    for (;;) {
        pthread_mutex_lock(&api->mu);
        while (api->q_len == 0 && !api->closing)
            pthread_cond_wait(&api->cv, &api->mu);
        struct api_ctx *c = api->closing ? NULL : queue_pop_locked(api);
        pthread_mutex_unlock(&api->mu);
        if (c == NULL)
            return NULL;
        serve(c);
    }
}

/* ---- nng callback ---- */

static void on_received(struct api_ctx *c)
{
    nng_msg *m = nng_aio_get_msg(c->aio);
    const uint8_t *body = nng_msg_body(m);
    size_t len = nng_msg_len(m);
    Hansa__Request *req = NULL;
    hansa_err rv = wire_request_decode(body, len, &req);
    uint64_t peeked = rv == HANSA_OK ? 0 : peek_request_id(body, len);
    nng_msg_free(m);
    if (rv == HANSA_ETOOLARGE) {
        ctx_reply_error(c, peeked, HANSA__ERROR_CODE__ERROR_TOO_LARGE,
                        "the request is %zu bytes or decodes too large; the limit is %u bytes", len,
                        HANSA_REQUEST_BYTES_MAX);
        return;
    }
    if (rv != HANSA_OK) {
        ctx_reply_error(c, peeked, HANSA__ERROR_CODE__ERROR_MALFORMED,
                        "the request does not decode as a hansa.Request (%s)", hansa_strerror(rv));
        return;
    }
    c->req = req;
    Hansa__ErrorCode code = enqueue_request(c->api, c);
    if (code == HANSA__ERROR_CODE__ERROR_BUSY)
        ctx_reply_error(c, req->request_id, code, "the node has %u requests waiting; retry later",
                        API_QUEUE_MAX);
    else if (code != HANSA__ERROR_CODE__ERROR_NONE)
        ctx_reply_error(c, req->request_id, code, "the node is stopping; try another node");
}

static bool api_closing(struct api *api)
{
    pthread_mutex_lock(&api->mu);
    bool closing = api->closing;
    pthread_mutex_unlock(&api->mu);
    return closing;
}

static void ctx_cb(void *arg)
{
    struct api_ctx *c = arg;
    int rv = nng_aio_result(c->aio);
    switch (c->state) {
    case CTX_RECV:
        if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
            c->state = CTX_IDLE;
            return;
        }
        if (rv != 0) {
            ctx_recv(c);
            return;
        }
        on_received(c);
        return;
    case CTX_SEND:
        if (rv != 0)
            nng_msg_free(nng_aio_get_msg(c->aio));
        if (rv == NNG_ECLOSED || rv == NNG_ECANCELED || api_closing(c->api)) {
            c->state = CTX_IDLE;
            return;
        }
        ctx_recv(c);
        return;
    default:
        HANSA_ASSERT(!"aio completed in a state without an operation");
    }
}

/* ---- listeners ---- */

static hansa_err listen_on(struct api *api, const char *url, bool tls, nng_listener *l, char *why,
                           size_t why_len)
{
    int rv = nng_listener_create(l, api->sock, url);
    if (rv == 0)
        rv = nng_listener_set_size(*l, NNG_OPT_RECVMAXSZ,
                                   HANSA_REQUEST_BYTES_MAX + HANSA_NNG_HEADER_BYTES_MAX);
    if (rv == 0 && tls) {
        nng_tls_config *tc = NULL;
        hansa_err err = net_tls_server(api->deps.cfg, NNG_TLS_AUTH_MODE_NONE, &tc, why, why_len);
        if (err != HANSA_OK) {
            nng_listener_close(*l);
            return err;
        }
        rv = nng_listener_set_ptr(*l, NNG_OPT_TLS_CONFIG, tc);
        nng_tls_config_free(tc); /* the listener holds its own reference */
    }
    if (rv == 0)
        rv = nng_listener_start(*l, 0);
    if (rv != 0) {
        snprintf(why, why_len, "cannot listen on %s: %s", url, nng_strerror(rv));
        nng_listener_close(*l);
        return HANSA_EIO;
    }
    return HANSA_OK;
}

uint16_t api_bound_port(const struct api *api, bool tls)
{
    HANSA_ASSERT(api != NULL);
    if (tls ? !api->tls_started : !api->tcp_started)
        return 0;
    int port = 0;
    if (nng_listener_get_int(tls ? api->tls_listener : api->tcp_listener, NNG_OPT_TCP_BOUND_PORT,
                             &port) != 0)
        return 0;
    return (uint16_t)port;
}

/* ---- open and close ---- */

static hansa_err start_contexts(struct api *api, char *why, size_t why_len)
{
    api->ctxs = calloc(API_CONTEXTS, sizeof *api->ctxs);
    if (api->ctxs == NULL) {
        snprintf(why, why_len, "out of memory");
        return HANSA_ENOMEM;
    }
    for (size_t i = 0; i < API_CONTEXTS; i++) {
        struct api_ctx *c = &api->ctxs[i];
        c->api = api;
        c->send_timeout_ms = API_SEND_TIMEOUT_MS;
        int rv = nng_aio_alloc(&c->aio, ctx_cb, c);
        if (rv == 0 && (rv = nng_ctx_open(&c->ctx, api->sock)) != 0) {
            nng_aio_free(c->aio);
            c->aio = NULL;
        }
        if (rv != 0) {
            snprintf(why, why_len, "cannot open API context %zu: %s", i, nng_strerror(rv));
            return HANSA_ENOMEM;
        }
        api->n_ctxs++;
    }
    return HANSA_OK;
}

static hansa_err start_workers(struct api *api, char *why, size_t why_len)
{
    uint32_t n = api->deps.cfg->verifier_threads;
    n = n == 0 ? 1 : n > NODE_CONFIG_VERIFIERS_MAX ? NODE_CONFIG_VERIFIERS_MAX : n;
    api->workers = calloc(n, sizeof *api->workers);
    if (api->workers == NULL) {
        snprintf(why, why_len, "out of memory");
        return HANSA_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (pthread_create(&api->workers[i], NULL, worker_main, api) != 0) {
            snprintf(why, why_len, "cannot start API worker thread %u", i);
            return HANSA_ENOMEM;
        }
        api->n_workers++;
    }
    return HANSA_OK;
}

hansa_err api_open(const struct api_deps *deps, struct api **out, char *why, size_t why_len)
{
    HANSA_ASSERT(deps != NULL && deps->cfg != NULL && deps->store != NULL &&
                 deps->mempool != NULL && deps->now_ms != NULL && out != NULL);
    *out = NULL;
    char scratch[8];
    if (why == NULL) {
        why = scratch;
        why_len = sizeof scratch;
    }
    struct api *api = calloc(1, sizeof *api);
    if (api == NULL) {
        snprintf(why, why_len, "out of memory");
        return HANSA_ENOMEM;
    }
    api->deps = *deps;
    api->admission = (struct admission){.store = deps->store,
                                        .mempool = deps->mempool,
                                        .chain_id = deps->cfg->chain_id,
                                        .now_ms = deps->now_ms,
                                        .now_ctx = deps->now_ctx};
    pthread_mutex_init(&api->mu, NULL);
    pthread_cond_init(&api->cv, NULL);

    hansa_err err = wire_global_init();
    if (err != HANSA_OK)
        snprintf(why, why_len, "libsodium does not initialise");
    if (err == HANSA_OK)
        err = audit_open(deps->cfg->read_audit_log_path, &api->audit, why, why_len);
    if (err == HANSA_OK) {
        int rv = nng_rep0_open(&api->sock);
        if (rv != 0) {
            snprintf(why, why_len, "cannot open the API socket: %s", nng_strerror(rv));
            err = HANSA_EIO;
        }
        api->sock_open = rv == 0;
    }
    if (err == HANSA_OK)
        err = start_contexts(api, why, why_len);
    if (err == HANSA_OK)
        err = start_workers(api, why, why_len);
    const struct node_config *cfg = deps->cfg;
    if (err == HANSA_OK && cfg->api_listen_tls.url[0] != '\0') {
        err = listen_on(api, cfg->api_listen_tls.url, true, &api->tls_listener, why, why_len);
        api->tls_started = err == HANSA_OK;
    }
    if (err == HANSA_OK && cfg->api_listen_tcp.url[0] != '\0') {
        err = listen_on(api, cfg->api_listen_tcp.url, false, &api->tcp_listener, why, why_len);
        api->tcp_started = err == HANSA_OK;
    }
    if (err != HANSA_OK) {
        api_close(api);
        return err;
    }
    for (size_t i = 0; i < api->n_ctxs; i++)
        ctx_recv(&api->ctxs[i]);
    *out = api;
    return HANSA_OK;
}

void api_close(struct api *api)
{
    if (api == NULL)
        return;
    pthread_mutex_lock(&api->mu);
    api->closing = true;
    pthread_cond_broadcast(&api->cv);
    pthread_mutex_unlock(&api->mu);
    for (size_t i = 0; i < api->n_workers; i++)
        pthread_join(api->workers[i], NULL);

    /* Workers are gone and nothing new is queued or parked once closing is
     * set: answer what is left. */
    struct api_ctx *left[API_QUEUE_MAX + API_PARKED_MAX + API_PARKED_MAX];
    size_t n_left = 0;
    pthread_mutex_lock(&api->mu);
    struct api_ctx *c;
    while ((c = queue_pop_locked(api)) != NULL)
        left[n_left++] = c;
    while (api->n_parked > 0)
        left[n_left++] = api->parked[--api->n_parked];
    pthread_mutex_unlock(&api->mu);
    for (size_t i = 0; i < n_left; i++) {
        left[i]->send_timeout_ms = API_CLOSE_SEND_MS;
        ctx_reply_error(left[i], left[i]->req->request_id, HANSA__ERROR_CODE__ERROR_UNAVAILABLE,
                        "the node is stopping; try another node");
    }
    /* Let those answers reach their pipes before the socket goes (a send
     * completes once the pipe has the message; the callback then idles). */
    for (size_t i = 0; i < n_left; i++)
        nng_aio_wait(left[i]->aio);

    if (api->sock_open)
        nng_close(api->sock); /* every outstanding aio completes with NNG_ECLOSED */
    for (size_t i = 0; i < api->n_ctxs; i++) {
        nng_aio_stop(api->ctxs[i].aio);
        nng_aio_free(api->ctxs[i].aio);
        ctx_release(&api->ctxs[i]);
    }
    free(api->ctxs);
    free(api->workers);
    audit_close(api->audit);
    pthread_cond_destroy(&api->cv);
    pthread_mutex_destroy(&api->mu);
    free(api);
}
