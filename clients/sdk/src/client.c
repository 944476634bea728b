/*
 * The client handle and its request plumbing: open and close, dialing the
 * node, one request-response round trip on its own nng context, node status
 * and the chain id.
 *
 * A round trip (round_trip) opens an nng req0 context, sends the encoded
 * Request and waits for the answer within a deadline. nng's req protocol
 * resends a request when the connection it went out on breaks, so an
 * answer arrives after a node restart too; requests are idempotent (a
 * resubmitted transaction is ALREADY_PENDING or ALREADY_COMMITTED).
 *
 * Connecting: the first request dials and waits for the outcome, so a node
 * that refuses the connection (or a TLS failure) is reported at once as
 * HANSA_CODE_CONNECT. Once connected, nng redials by itself; the pipe
 * notifications keep a count of live connections, which tells an
 * unreachable node (CONNECT) from a slow one (TIMEOUT) when a deadline
 * passes.
 *
 * Invariants (internal.h): the dialer starts successfully at most once;
 * the chain id is written before it is published; a context receives only
 * after its send completed, so a cancel never meets a receive with a send
 * pending.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "hansa/assert.h"
#include "internal.h"

/* Redial pauses after the node went away: quick to notice a restart, slow
 * enough not to spin against a node that stays down. */
#define SDK_RECONNECT_MIN_MS 100
#define SDK_RECONNECT_MAX_MS 2000

/* ---- library-wide ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static hansa_err init_result = HANSA_EINVAL;

static void init_run(void)
{
    init_result = wire_global_init();
}

hansa_code sdk_init(hansa_error *err)
{
    pthread_once(&init_once, init_run);
    if (init_result != HANSA_OK)
        return sdk_fail(err, HANSA_CODE_NOMEM, "libsodium cannot be initialised: %s",
                        hansa_strerror(init_result));
    return HANSA_CODE_OK;
}

uint64_t sdk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t sdk_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool sdk_pause(hansa_client *c, uint32_t ms)
{
    uint64_t end = sdk_mono_ms() + ms;
    pthread_mutex_lock(&c->mu);
    while (!c->closing) {
        uint64_t now = sdk_mono_ms();
        if (now >= end)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (end - now) * 1000000u;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&c->cond, &c->mu, &ts);
    }
    bool open = !c->closing;
    pthread_mutex_unlock(&c->mu);
    return open;
}

/* ---- call slots ---- */

void sdk_slot_init(struct sdk_call_slot *s)
{
    pthread_mutex_init(&s->mu, NULL);
    s->aio = NULL;
    s->cancelled = false;
}

void sdk_slot_fini(struct sdk_call_slot *s)
{
    HANSA_ASSERT(s->aio == NULL);
    pthread_mutex_destroy(&s->mu);
}

void sdk_slot_cancel(struct sdk_call_slot *s)
{
    pthread_mutex_lock(&s->mu);
    s->cancelled = true;
    if (s->aio != NULL)
        nng_aio_cancel(s->aio);
    pthread_mutex_unlock(&s->mu);
}

/* ---- opening and closing ---- */

/* Runs with the socket lock held (LIBNOTES 1.5): only the counter. */
static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    hansa_client *c = arg;
    if (ev == NNG_PIPE_EV_ADD_POST)
        atomic_fetch_add(&c->pipes, 1);
    else if (ev == NNG_PIPE_EV_REM_POST)
        atomic_fetch_sub(&c->pipes, 1);
}

static hansa_code check_url(const char *url, bool *tls, hansa_error *err)
{
    if (url == NULL || url[0] == '\0')
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "no node url given");
    *tls = strncmp(url, "tls+tcp://", 10) == 0;
    if (!*tls && strncmp(url, "tcp://", 6) != 0)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "node url %s: expected tcp://host:port or tls+tcp://host:port", url);
    if (strlen(url) >= sizeof(((hansa_client *)0)->url))
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "node url is too long");
    nng_url *u = NULL;
    int rv = nng_url_parse(&u, url);
    if (rv != 0)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "node url %s: %s", url, nng_strerror(rv));
    nng_url_free(u);
    return HANSA_CODE_OK;
}

static hansa_code tls_setup(hansa_client *c, const hansa_client_options *o, hansa_error *err)
{
    if (o->ca_path == NULL || o->ca_path[0] == '\0')
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "%s is a tls+tcp url: the consortium CA certificate (ca_path) is needed",
                        o->url);
    int rv = nng_tls_config_alloc(&c->tls, NNG_TLS_MODE_CLIENT);
    if (rv != 0)
        return sdk_fail(err, HANSA_CODE_NOMEM, "cannot set up TLS: %s", nng_strerror(rv));
    rv = nng_tls_config_ca_file(c->tls, o->ca_path);
    if (rv != 0)
        return sdk_fail(err, HANSA_CODE_IO, "cannot load the CA certificate %s: %s", o->ca_path,
                        nng_strerror(rv));
    if (o->server_name != NULL && o->server_name[0] != '\0') {
        rv = nng_tls_config_server_name(c->tls, o->server_name);
        if (rv != 0)
            return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "server name %s: %s", o->server_name,
                            nng_strerror(rv));
    }
    return HANSA_CODE_OK;
}

static hansa_code socket_setup(hansa_client *c, hansa_error *err)
{
    int rv = nng_req0_open(&c->sock);
    if (rv != 0)
        return sdk_fail(err, HANSA_CODE_NOMEM, "cannot open a socket: %s", nng_strerror(rv));
    nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, SDK_RECONNECT_MIN_MS);
    nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, SDK_RECONNECT_MAX_MS);
    rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, on_pipe, c);
    if (rv == 0)
        rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, on_pipe, c);
    if (rv != 0)
        return sdk_fail(err, HANSA_CODE_NOMEM, "cannot watch connections: %s", nng_strerror(rv));
    return HANSA_CODE_OK;
}

static void client_free(hansa_client *c, bool sock_open)
{
    /* A close that hangs (closer.h) keeps c: on_pipe may still run. */
    if (sock_open && !sdk_close_sockets(&c->sock, 1, SDK_CLOSE_WAIT_MS))
        return;
    if (c->tls != NULL)
        nng_tls_config_free(c->tls);
    wire_keypair_wipe(&c->kp);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

hansa_code hansa_client_open(const hansa_client_options *opts, hansa_client **out, hansa_error *err)
{
    if (out == NULL || opts == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "hansa_client_open: opts and out needed");
    *out = NULL;
    hansa_code code = sdk_init(err);
    bool tls = false;
    if (code == HANSA_CODE_OK)
        code = check_url(opts->url, &tls, err);
    if (code != HANSA_CODE_OK)
        return code;
    hansa_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return sdk_fail(err, HANSA_CODE_NOMEM, "out of memory");
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    snprintf(c->url, sizeof c->url, "%s", opts->url);
    c->timeout_ms = opts->timeout_ms ? opts->timeout_ms : SDK_TIMEOUT_MS_DEFAULT;
    atomic_init(&c->pipes, 0);
    atomic_init(&c->chain, NULL);
    atomic_init(&c->request_ids, 0);
    /* The CA also serves subscriptions to tls+tcp events of a tcp client. */
    if (tls || (opts->ca_path != NULL && opts->ca_path[0] != '\0'))
        code = tls_setup(c, opts, err);
    if (code == HANSA_CODE_OK && opts->key_path != NULL) {
        code = sdk_key_load(opts->key_path, &c->kp, c->party, err);
        c->has_key = code == HANSA_CODE_OK;
    }
    if (code != HANSA_CODE_OK) {
        client_free(c, false);
        return code;
    }
    code = socket_setup(c, err);
    if (code != HANSA_CODE_OK) {
        client_free(c, true);
        return code;
    }
    *out = c;
    return sdk_ok(err);
}

void hansa_client_close(hansa_client *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->closing = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
    sdk_async_close(c);
    client_free(c, true);
}

const char *hansa_client_party(const hansa_client *c)
{
    return c != NULL && c->has_key ? c->party : "";
}

const char *hansa_client_chain(const hansa_client *c)
{
    const char *chain = c != NULL ? atomic_load(&c->chain) : NULL;
    return chain != NULL ? chain : "";
}

void hansa_free(void *protobuf_message)
{
    if (protobuf_message != NULL)
        protobuf_c_message_free_unpacked(protobuf_message, NULL);
}

hansa_code sdk_need_key(const hansa_client *c, const char *what, hansa_error *err)
{
    if (c->has_key)
        return HANSA_CODE_OK;
    return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                    "%s needs a party key: open the client with key_path", what);
}

/* ---- one round trip ---- */

static hansa_code dial(hansa_client *c, hansa_error *err)
{
    pthread_mutex_lock(&c->mu);
    if (c->closing) {
        pthread_mutex_unlock(&c->mu);
        return sdk_fail(err, HANSA_CODE_CLOSED, "the client is closing");
    }
    if (c->dialed) {
        pthread_mutex_unlock(&c->mu);
        return HANSA_CODE_OK;
    }
    nng_dialer d;
    int rv = nng_dialer_create(&d, c->sock, c->url);
    if (rv == 0)
        rv = nng_dialer_set_size(d, NNG_OPT_RECVMAXSZ,
                                 HANSA_RESPONSE_BYTES_MAX + HANSA_NNG_HEADER_BYTES_MAX);
    if (rv == 0 && strncmp(c->url, "tls+", 4) == 0)
        rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, c->tls);
    if (rv == 0) {
        /* Blocking: the first attempt's outcome is the answer. On failure
         * nothing retries in the background (LIBNOTES 1.2). */
        rv = nng_dialer_start(d, 0);
        if (rv != 0)
            nng_dialer_close(d);
    }
    c->dialed = rv == 0;
    pthread_mutex_unlock(&c->mu);
    if (rv == NNG_ECRYPTO || rv == NNG_EPEERAUTH)
        return sdk_fail(err, HANSA_CODE_CONNECT,
                        "TLS with %s failed (%s): check the CA certificate and the server name",
                        c->url, nng_strerror(rv));
    if (rv != 0)
        return sdk_fail(err, HANSA_CODE_CONNECT, "cannot connect to %s: %s", c->url,
                        nng_strerror(rv));
    return HANSA_CODE_OK;
}

static hansa_code aio_failure(hansa_client *c, int rv, bool sent, uint32_t timeout_ms,
                              hansa_error *err)
{
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
        return sdk_fail(err, HANSA_CODE_CLOSED, "the request was cancelled: the client is closing");
    if (rv == NNG_ETIMEDOUT && atomic_load(&c->pipes) <= 0)
        return sdk_fail(err, HANSA_CODE_CONNECT,
                        "no connection to %s within %u ms: the node is down or unreachable", c->url,
                        (unsigned)timeout_ms);
    if (rv == NNG_ETIMEDOUT)
        return sdk_fail(err, HANSA_CODE_TIMEOUT, "%s did not answer within %u ms", c->url,
                        (unsigned)timeout_ms);
    return sdk_fail(err, HANSA_CODE_CONNECT, "%s the request to %s: %s",
                    sent ? "no answer to" : "cannot send", c->url, nng_strerror(rv));
}

static nng_duration remaining_ms(uint64_t deadline)
{
    uint64_t now = sdk_mono_ms();
    if (now >= deadline)
        return 1;
    uint64_t left = deadline - now;
    return left > INT32_MAX ? INT32_MAX : (nng_duration)left;
}

/* Start an operation on the context under the slot lock, so that a cancel
 * lands either before it (seen here) or on the running operation. */
static bool start_op(nng_ctx ctx, nng_aio *aio, bool send, struct sdk_call_slot *slot)
{
    if (slot == NULL) {
        (send ? nng_ctx_send : nng_ctx_recv)(ctx, aio);
        return true;
    }
    pthread_mutex_lock(&slot->mu);
    bool go = !slot->cancelled;
    if (go)
        (send ? nng_ctx_send : nng_ctx_recv)(ctx, aio);
    pthread_mutex_unlock(&slot->mu);
    return go;
}

/* Send m and receive the answer on aio within deadline. The receive starts
 * only once the send has completed (invariant 3). *answer is set on
 * success. */
static int exchange(nng_ctx ctx, nng_aio *aio, nng_msg *m, uint64_t deadline,
                    struct sdk_call_slot *slot, bool *sent, nng_msg **answer)
{
    *sent = false;
    nng_aio_set_msg(aio, m);
    nng_aio_set_timeout(aio, remaining_ms(deadline));
    if (!start_op(ctx, aio, true, slot)) {
        nng_aio_set_msg(aio, NULL);
        nng_msg_free(m);
        return NNG_ECANCELED;
    }
    nng_aio_wait(aio);
    int rv = nng_aio_result(aio);
    if (rv != 0) {
        nng_msg *unsent = nng_aio_get_msg(aio); /* a failed send leaves it with us */
        if (unsent != NULL)
            nng_msg_free(unsent);
        return rv;
    }
    *sent = true;
    nng_aio_set_timeout(aio, remaining_ms(deadline));
    if (!start_op(ctx, aio, false, slot))
        return NNG_ECANCELED;
    nng_aio_wait(aio);
    rv = nng_aio_result(aio);
    if (rv == 0)
        *answer = nng_aio_get_msg(aio);
    return rv;
}

static hansa_code round_trip(hansa_client *c, const uint8_t *req, size_t len, uint64_t deadline,
                             uint32_t timeout_ms, struct sdk_call_slot *slot, nng_msg **answer,
                             hansa_error *err)
{
    nng_ctx ctx;
    nng_aio *aio = NULL;
    nng_msg *m = NULL;
    int rv = nng_ctx_open(&ctx, c->sock);
    if (rv != 0)
        return aio_failure(c, rv, false, timeout_ms, err);
    rv = nng_aio_alloc(&aio, NULL, NULL);
    if (rv == 0)
        rv = nng_msg_alloc(&m, len);
    if (rv != 0) {
        nng_aio_free(aio);
        nng_ctx_close(ctx);
        return sdk_fail(err, HANSA_CODE_NOMEM, "out of memory for a request");
    }
    memcpy(nng_msg_body(m), req, len);
    if (slot != NULL) {
        pthread_mutex_lock(&slot->mu);
        bool cancelled = slot->cancelled;
        if (!cancelled)
            slot->aio = aio;
        pthread_mutex_unlock(&slot->mu);
        if (cancelled) {
            nng_msg_free(m);
            nng_aio_free(aio);
            nng_ctx_close(ctx);
            return aio_failure(c, NNG_ECANCELED, false, timeout_ms, err);
        }
    }
    bool sent = false;
    rv = exchange(ctx, aio, m, deadline, slot, &sent, answer);
    if (slot != NULL) {
        pthread_mutex_lock(&slot->mu);
        slot->aio = NULL;
        pthread_mutex_unlock(&slot->mu);
    }
    nng_ctx_close(ctx);
    nng_aio_free(aio);
    return rv == 0 ? HANSA_CODE_OK : aio_failure(c, rv, sent, timeout_ms, err);
}

static hansa_code decode_answer(nng_msg *m, uint64_t request_id, Hansa__Response **out,
                                hansa_error *err)
{
    Hansa__Response *r = NULL;
    hansa_err rv = wire_response_decode(nng_msg_body(m), nng_msg_len(m), &r);
    nng_msg_free(m);
    if (rv != HANSA_OK)
        return sdk_fail(err, HANSA_CODE_PROTOCOL, "the node's answer does not decode: %s",
                        hansa_strerror(rv));
    if (r->request_id != request_id) {
        wire_free(r);
        return sdk_fail(err, HANSA_CODE_PROTOCOL, "the node answered another request");
    }
    *out = r;
    return HANSA_CODE_OK;
}

hansa_code sdk_call(hansa_client *c, Hansa__Request *req, uint32_t timeout_ms,
                    struct sdk_call_slot *slot, Hansa__Response **out, hansa_error *err)
{
    *out = NULL;
    hansa_code code = dial(c, err);
    if (code != HANSA_CODE_OK)
        return code;
    uint64_t deadline = sdk_mono_ms() + timeout_ms;
    uint32_t backoff_ms = SDK_BACKOFF_MS_MIN;
    for (;;) {
        req->request_id = atomic_fetch_add(&c->request_ids, 1) + 1;
        uint8_t *bytes = NULL;
        size_t len = 0;
        hansa_err rv = wire_encode(&req->base, HANSA_REQUEST_BYTES_MAX, &bytes, &len);
        if (rv != HANSA_OK)
            return sdk_fail(err,
                            rv == HANSA_ETOOLARGE ? HANSA_CODE_INVALID_ARGUMENT : HANSA_CODE_NOMEM,
                            "cannot encode the request: %s", hansa_strerror(rv));
        nng_msg *answer = NULL;
        code = round_trip(c, bytes, len, deadline, timeout_ms, slot, &answer, err);
        free(bytes);
        if (code == HANSA_CODE_OK)
            code = decode_answer(answer, req->request_id, out, err);
        if (code != HANSA_CODE_OK || (*out)->error != HANSA__ERROR_CODE__ERROR_BUSY)
            return code;
        /* The node's queue is full: ask again while time remains. */
        if (sdk_mono_ms() + backoff_ms >= deadline)
            return HANSA_CODE_OK; /* the BUSY answer is the caller's to map */
        wire_free(*out);
        *out = NULL;
        if (!sdk_pause(c, backoff_ms))
            return sdk_fail(err, HANSA_CODE_CLOSED, "the client is closing");
        backoff_ms = backoff_ms * 2 > SDK_BACKOFF_MS_MAX ? SDK_BACKOFF_MS_MAX : backoff_ms * 2;
    }
}

/* ---- answers ---- */

hansa_code sdk_node_error(const Hansa__Response *resp, hansa_error *err)
{
    hansa_code code;
    switch (resp->error) {
    case HANSA__ERROR_CODE__ERROR_NONE:
        return HANSA_CODE_OK;
    case HANSA__ERROR_CODE__ERROR_NOT_AUTHORIZED:
    case HANSA__ERROR_CODE__ERROR_UNKNOWN_READER:
        code = HANSA_CODE_DENIED;
        break;
    case HANSA__ERROR_CODE__ERROR_NOT_FOUND:
        code = HANSA_CODE_NOT_FOUND;
        break;
    case HANSA__ERROR_CODE__ERROR_CURSOR_EXPIRED:
        code = HANSA_CODE_CURSOR_EXPIRED;
        break;
    case HANSA__ERROR_CODE__ERROR_TIMEOUT:
        code = HANSA_CODE_TIMEOUT;
        break;
    default:
        code = HANSA_CODE_NODE;
        break;
    }
    const char *why = resp->error_message != NULL ? resp->error_message : "";
    sdk_fail(err, code, "%s%s%s", hansa_node_error_name(resp->error), why[0] ? ": " : "", why);
    if (err != NULL)
        err->node_error = resp->error;
    return code;
}

void *sdk_response_take(Hansa__Response *resp, int want)
{
    if ((int)resp->kind_case != want)
        return NULL;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&hansa__response__descriptor, (unsigned)want);
    HANSA_ASSERT(f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE);
    void **member = (void **)((char *)resp + f->offset);
    void *answer = *member;
    *member = NULL;
    resp->kind_case = HANSA__RESPONSE__KIND__NOT_SET;
    return answer;
}

/* ---- status and the chain id ---- */

static hansa_code learn_chain(hansa_client *c, const char *chain, hansa_error *err)
{
    if (chain == NULL || !wire_chain_id_valid(chain))
        return sdk_fail(err, HANSA_CODE_PROTOCOL, "the node reports an invalid chain id");
    pthread_mutex_lock(&c->mu);
    if (atomic_load(&c->chain) == NULL) {
        snprintf(c->chain_buf, sizeof c->chain_buf, "%s", chain);
        atomic_store(&c->chain, c->chain_buf);
    }
    pthread_mutex_unlock(&c->mu);
    return HANSA_CODE_OK;
}

static hansa_code status_call(hansa_client *c, struct sdk_call_slot *slot, Hansa__NodeStatus **out,
                              hansa_error *err)
{
    *out = NULL;
    Hansa__StatusRequest s = HANSA__STATUS_REQUEST__INIT;
    Hansa__Request req = HANSA__REQUEST__INIT;
    req.kind_case = HANSA__REQUEST__KIND_STATUS;
    req.status = &s;
    Hansa__Response *resp = NULL;
    hansa_code code = sdk_call(c, &req, c->timeout_ms, slot, &resp, err);
    if (code == HANSA_CODE_OK)
        code = sdk_node_error(resp, err);
    Hansa__NodeStatus *st = NULL;
    if (code == HANSA_CODE_OK) {
        st = sdk_response_take(resp, HANSA__RESPONSE__KIND_STATUS);
        code = st != NULL ? learn_chain(c, st->chain_id, err)
                          : sdk_fail(err, HANSA_CODE_PROTOCOL,
                                     "the node answered status with another kind of answer");
    }
    wire_free(resp);
    if (code != HANSA_CODE_OK) {
        hansa_free(st);
        return code;
    }
    *out = st;
    return sdk_ok(err);
}

hansa_code hansa_status(hansa_client *c, Hansa__NodeStatus **out, hansa_error *err)
{
    if (c == NULL || out == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "hansa_status: client and out needed");
    return status_call(c, NULL, out, err);
}

hansa_code sdk_chain(hansa_client *c, struct sdk_call_slot *slot, const char **chain,
                     hansa_error *err)
{
    *chain = atomic_load(&c->chain);
    if (*chain != NULL)
        return HANSA_CODE_OK;
    Hansa__NodeStatus *st = NULL;
    hansa_code code = status_call(c, slot, &st, err);
    hansa_free(st);
    *chain = atomic_load(&c->chain);
    return code;
}
