/*
 * Writes: building and signing a transaction, its admission, the wait for
 * its commit receipt, and asynchronous submits.
 *
 * A write goes through three steps:
 *   1. build: TxBody {chain id, signer = the client's party, created_ms =
 *      now, a random nonce, the action}, encoded, signed under the chain id
 *      (wire_tx_build); the tx id is known from here on;
 *   2. admission: SubmitTx until the node answers a verdict. OK and
 *      ALREADY_PENDING mean admitted; ALREADY_COMMITTED carries the original
 *      receipt; RESULT_BUSY (mempool full) is asked again within the
 *      client's timeout; anything else is HANSA_CODE_REFUSED;
 *   3. commit: GetReceipt with a wait, repeated until the receipt is
 *      COMMITTED or wait_ms has passed (HANSA_CODE_TIMEOUT). A node that
 *      restarts meanwhile is asked again. A committed rejection is
 *      HANSA_CODE_REJECTED.
 *
 * Asynchronous submits: the caller's thread does step 1 (so argument errors
 * are reported at once); a job then goes to a queue served by
 * SDK_ASYNC_WORKERS threads, started with the first job. Admissions go
 * before receipt waits, and a receipt wait lasts at most
 * SDK_ASYNC_WAIT_CHUNK_MS before the job goes back to the end of the wait
 * queue, so a worker is never held by one slow commit while submits wait.
 * Invariants:
 *   1. in_flight counts jobs queued or running, at most HANSA_ASYNC_MAX;
 *   2. every job's callback runs exactly once, on a worker thread, with no
 *      lock held; then the job is freed and in_flight decremented;
 *   3. once the client is closing, workers cancel their requests (their
 *      slots), finish every job left with HANSA_CODE_CLOSED, and exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hansa/assert.h"
#include "internal.h"

#define RES(x) HANSA__RESULT_CODE__RESULT_##x

struct sdk_tx {
    uint8_t *bytes; /* encoded Tx envelope (owned) */
    size_t len;
    uint8_t id[WIRE_HASH_BYTES];
};

/* ---- 1. build ---- */

static hansa_code tx_build(hansa_client *c, Hansa__TxBody__ActionCase action, const void *msg,
                           struct sdk_tx *tx, hansa_error *err)
{
    memset(tx, 0, sizeof *tx);
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&hansa__tx_body__descriptor, (unsigned)action);
    if (f == NULL || !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
        f->type != PROTOBUF_C_TYPE_MESSAGE)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "%d is not a transaction action",
                        (int)action);
    const ProtobufCMessage *m = msg;
    if (m == NULL || m->descriptor != f->descriptor)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "action %s needs a %s message, got %s",
                        f->name, ((const ProtobufCMessageDescriptor *)f->descriptor)->name,
                        m != NULL && m->descriptor != NULL ? m->descriptor->name : "none");
    const char *chain = NULL;
    hansa_code code = sdk_need_key(c, "a write", err);
    if (code == HANSA_CODE_OK)
        code = sdk_chain(c, NULL, &chain, err);
    if (code != HANSA_CODE_OK)
        return code;
    uint8_t nonce[SDK_NONCE_BYTES];
    randombytes_buf(nonce, sizeof nonce);
    Hansa__TxBody body = HANSA__TX_BODY__INIT;
    body.chain_id = (char *)(uintptr_t)chain;
    body.signer = c->party;
    body.created_ms = sdk_now_ms();
    body.nonce = (ProtobufCBinaryData){sizeof nonce, nonce};
    body.action_case = action;
    *(const void **)((char *)&body + f->offset) = msg;
    hansa_err rv = wire_tx_build(&body, &c->kp, &tx->bytes, &tx->len, tx->id);
    if (rv == HANSA_ETOOLARGE)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "the transaction is larger than %u bytes",
                        HANSA_TX_BYTES_MAX);
    if (rv != HANSA_OK)
        return sdk_fail(err, HANSA_CODE_NOMEM, "cannot build the transaction: %s",
                        hansa_strerror(rv));
    return HANSA_CODE_OK;
}

/* ---- 2. admission ---- */

static uint32_t next_backoff(uint32_t ms)
{
    return ms * 2 > SDK_BACKOFF_MS_MAX ? SDK_BACKOFF_MS_MAX : ms * 2;
}

/* One SubmitTx. *again when the node is busy (mempool full). */
static hansa_code admit_once(hansa_client *c, Hansa__Request *req, uint32_t timeout_ms,
                             struct sdk_call_slot *slot, hansa_receipt *out, bool *committed,
                             bool *again, hansa_error *err)
{
    Hansa__Response *resp = NULL;
    hansa_code code = sdk_call(c, req, timeout_ms, slot, &resp, err);
    if (code == HANSA_CODE_OK)
        code = sdk_node_error(resp, err);
    if (code == HANSA_CODE_OK && resp->kind_case != HANSA__RESPONSE__KIND_SUBMIT)
        code = sdk_fail(err, HANSA_CODE_PROTOCOL, "the node answered a submit with another kind");
    if (code != HANSA_CODE_OK) {
        wire_free(resp);
        return code;
    }
    const Hansa__SubmitResult *sr = resp->submit;
    switch (sr->result) {
    case RES(OK):
    case RES(ALREADY_PENDING):
        break;
    case RES(ALREADY_COMMITTED):
        if (sr->receipt == NULL)
            code = sdk_fail(err, HANSA_CODE_PROTOCOL, "ALREADY_COMMITTED without its receipt");
        else {
            sdk_receipt_fill(sr->receipt, out);
            *committed = true;
        }
        break;
    case RES(BUSY):
        *again = true;
        code = sdk_fail(err, HANSA_CODE_REFUSED, "the node stayed busy (mempool full): %s",
                        sr->message);
        if (err != NULL)
            err->result = sr->result;
        break;
    default:
        code = sdk_fail(err, HANSA_CODE_REFUSED, "refused at admission: %s%s%s",
                        hansa_result_name(sr->result), sr->message[0] ? ": " : "", sr->message);
        if (err != NULL)
            err->result = sr->result;
        break;
    }
    wire_free(resp);
    return code;
}

static hansa_code admit(hansa_client *c, const struct sdk_tx *tx, struct sdk_call_slot *slot,
                        hansa_receipt *out, bool *committed, hansa_error *err)
{
    Hansa__SubmitTx s = HANSA__SUBMIT_TX__INIT;
    s.tx = (ProtobufCBinaryData){tx->len, tx->bytes};
    Hansa__Request req = HANSA__REQUEST__INIT;
    req.kind_case = HANSA__REQUEST__KIND_SUBMIT;
    req.submit = &s;
    *committed = false;
    uint64_t deadline = sdk_mono_ms() + c->timeout_ms;
    uint32_t backoff_ms = SDK_BACKOFF_MS_MIN;
    for (;;) {
        uint64_t now = sdk_mono_ms();
        uint32_t left = deadline > now ? (uint32_t)(deadline - now) : 1;
        bool again = false;
        hansa_code code = admit_once(c, &req, left, slot, out, committed, &again, err);
        if (!again || sdk_mono_ms() + backoff_ms >= deadline)
            return code;
        if (!sdk_pause(c, backoff_ms))
            return sdk_fail(err, HANSA_CODE_CLOSED, "the client is closing");
        backoff_ms = next_backoff(backoff_ms);
    }
}

/* ---- 3. commit ---- */

static hansa_code verdict(const hansa_receipt *r, hansa_error *err)
{
    if (r->result == RES(OK))
        return sdk_ok(err);
    sdk_fail(err, HANSA_CODE_REJECTED, "committed at height %llu with %s%s%s",
             (unsigned long long)r->height, hansa_result_name(r->result), r->message[0] ? ": " : "",
             r->message);
    if (err != NULL)
        err->result = r->result;
    return HANSA_CODE_REJECTED;
}

/* Errors of a receipt wait worth asking again for (the node restarting,
 * busy or slow), as opposed to answers that will not change. */
static bool transient(hansa_code code)
{
    return code == HANSA_CODE_CONNECT || code == HANSA_CODE_TIMEOUT || code == HANSA_CODE_NODE;
}

static hansa_code wait_commit(hansa_client *c, const struct sdk_tx *tx, uint32_t wait_ms,
                              hansa_receipt *out, hansa_error *err)
{
    uint64_t deadline = sdk_mono_ms() + wait_ms;
    uint32_t backoff_ms = SDK_BACKOFF_MS_MIN;
    hansa_error last = {.code = HANSA_CODE_OK};
    for (;;) {
        uint64_t now = sdk_mono_ms();
        uint64_t left = deadline > now ? deadline - now : 0;
        uint32_t chunk = left > SDK_NODE_WAIT_MS_MAX ? SDK_NODE_WAIT_MS_MAX : (uint32_t)left;
        Hansa__TxStatus status = HANSA__TX_STATUS__TX_STATUS_UNSPECIFIED;
        hansa_code code = sdk_receipt_query(c, tx->id, chunk, NULL, &status, out, &last);
        if (code == HANSA_CODE_OK && status == HANSA__TX_STATUS__TX_STATUS_COMMITTED)
            return verdict(out, err);
        if (code != HANSA_CODE_OK && !transient(code)) {
            if (err != NULL)
                *err = last;
            return code;
        }
        if (sdk_mono_ms() >= deadline)
            break;
        if (code != HANSA_CODE_OK) {
            if (!sdk_pause(c, backoff_ms))
                return sdk_fail(err, HANSA_CODE_CLOSED, "the client is closing");
            backoff_ms = next_backoff(backoff_ms);
        }
    }
    return sdk_fail(err, HANSA_CODE_TIMEOUT,
                    "admitted but not committed within %u ms; ask for its receipt later%s%s",
                    (unsigned)wait_ms, last.code != HANSA_CODE_OK ? " (last: " : "",
                    last.code != HANSA_CODE_OK ? last.message : "");
}

static void options_of(const hansa_submit_options *opts, bool *no_wait, uint32_t *wait_ms)
{
    *no_wait = opts != NULL && opts->no_wait;
    *wait_ms = opts != NULL && opts->wait_ms != 0 ? opts->wait_ms : SDK_WAIT_MS_DEFAULT;
}

hansa_code hansa_submit(hansa_client *c, Hansa__TxBody__ActionCase action, const void *msg,
                        const hansa_submit_options *opts, hansa_receipt *out, hansa_error *err)
{
    if (c == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "hansa_submit: no client");
    hansa_receipt local;
    hansa_receipt *r = out != NULL ? out : &local;
    memset(r, 0, sizeof *r);
    bool no_wait;
    uint32_t wait_ms;
    options_of(opts, &no_wait, &wait_ms);
    struct sdk_tx tx;
    hansa_code code = tx_build(c, action, msg, &tx, err);
    if (code != HANSA_CODE_OK)
        return code;
    memcpy(r->tx_id, tx.id, sizeof r->tx_id);
    bool committed = false;
    code = admit(c, &tx, NULL, r, &committed, err);
    if (code == HANSA_CODE_OK && committed)
        code = verdict(r, err);
    else if (code == HANSA_CODE_OK && !no_wait)
        code = wait_commit(c, &tx, wait_ms, r, err);
    else if (code == HANSA_CODE_OK)
        code = sdk_ok(err);
    free(tx.bytes);
    return code;
}

/* ---- asynchronous submits ---- */

struct sdk_job {
    struct sdk_job *next;
    struct sdk_tx tx;
    bool no_wait;
    uint32_t wait_ms;
    bool admitted;
    uint64_t deadline_ms; /* of the commit wait (monotonic), from admission */
    uint32_t backoff_ms;
    hansa_submit_cb done;
    void *arg;
    hansa_receipt receipt;
};

struct job_queue {
    struct sdk_job *head, *tail;
};

struct sdk_async {
    pthread_t workers[SDK_ASYNC_WORKERS];
    struct sdk_call_slot slots[SDK_ASYNC_WORKERS];
    int n_workers;
    struct job_queue admit_q, wait_q; /* under c->mu */
    unsigned in_flight;               /* under c->mu; invariant 1 */
};

struct worker_arg {
    hansa_client *c;
    int index;
};

static void queue_push(struct job_queue *q, struct sdk_job *j)
{
    j->next = NULL;
    if (q->tail != NULL)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
}

static struct sdk_job *queue_pop(struct job_queue *q)
{
    struct sdk_job *j = q->head;
    if (j != NULL) {
        q->head = j->next;
        if (q->head == NULL)
            q->tail = NULL;
    }
    return j;
}

/* Invariant 2: the callback, then the job is gone. */
static void job_finish(hansa_client *c, struct sdk_job *j, hansa_code code, const hansa_error *e)
{
    hansa_error closed;
    if (code == HANSA_CODE_CLOSED && (e == NULL || e->code != HANSA_CODE_CLOSED)) {
        sdk_fail(&closed, HANSA_CODE_CLOSED, "the client closed before the outcome was known");
        e = &closed;
    }
    j->done(j->arg, code, &j->receipt, e);
    free(j->tx.bytes);
    free(j);
    pthread_mutex_lock(&c->mu);
    HANSA_ASSERT(c->async->in_flight > 0);
    c->async->in_flight--;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
}

static void job_requeue(hansa_client *c, struct sdk_job *j)
{
    pthread_mutex_lock(&c->mu);
    queue_push(&c->async->wait_q, j);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
}

static void job_admit(hansa_client *c, struct sdk_job *j, struct sdk_call_slot *slot)
{
    hansa_error e;
    bool committed = false;
    hansa_code code = admit(c, &j->tx, slot, &j->receipt, &committed, &e);
    if (code == HANSA_CODE_OK && committed)
        code = verdict(&j->receipt, &e);
    else if (code == HANSA_CODE_OK && !j->no_wait) {
        j->admitted = true;
        j->deadline_ms = sdk_mono_ms() + j->wait_ms;
        job_requeue(c, j);
        return;
    } else if (code == HANSA_CODE_OK)
        sdk_ok(&e);
    job_finish(c, j, code, &e);
}

static void job_wait(hansa_client *c, struct sdk_job *j, struct sdk_call_slot *slot)
{
    hansa_error e;
    uint64_t now = sdk_mono_ms();
    uint64_t left = j->deadline_ms > now ? j->deadline_ms - now : 0;
    uint32_t chunk = left > SDK_ASYNC_WAIT_CHUNK_MS ? SDK_ASYNC_WAIT_CHUNK_MS : (uint32_t)left;
    Hansa__TxStatus status = HANSA__TX_STATUS__TX_STATUS_UNSPECIFIED;
    hansa_code code = sdk_receipt_query(c, j->tx.id, chunk, slot, &status, &j->receipt, &e);
    if (code == HANSA_CODE_OK && status == HANSA__TX_STATUS__TX_STATUS_COMMITTED) {
        code = verdict(&j->receipt, &e);
        job_finish(c, j, code, &e);
        return;
    }
    if (code != HANSA_CODE_OK && !transient(code)) {
        job_finish(c, j, code, &e);
        return;
    }
    if (sdk_mono_ms() >= j->deadline_ms) {
        sdk_fail(&e, HANSA_CODE_TIMEOUT,
                 "admitted but not committed within %u ms; ask for its receipt later",
                 (unsigned)j->wait_ms);
        job_finish(c, j, HANSA_CODE_TIMEOUT, &e);
        return;
    }
    if (code != HANSA_CODE_OK) {
        if (!sdk_pause(c, j->backoff_ms)) {
            job_finish(c, j, HANSA_CODE_CLOSED, NULL);
            return;
        }
        j->backoff_ms = next_backoff(j->backoff_ms);
    }
    job_requeue(c, j);
}

static void *worker_main(void *p)
{
    struct worker_arg *wa = p;
    hansa_client *c = wa->c;
    struct sdk_call_slot *slot = &c->async->slots[wa->index];
    free(wa);
    for (;;) {
        pthread_mutex_lock(&c->mu);
        struct sdk_async *a = c->async;
        while (!c->closing && a->admit_q.head == NULL && a->wait_q.head == NULL)
            pthread_cond_wait(&c->cond, &c->mu);
        struct sdk_job *j = queue_pop(&a->admit_q);
        if (j == NULL)
            j = queue_pop(&a->wait_q);
        bool closing = c->closing;
        pthread_mutex_unlock(&c->mu);
        if (j == NULL)
            return NULL; /* closing, nothing left (invariant 3) */
        if (closing)
            job_finish(c, j, HANSA_CODE_CLOSED, NULL);
        else if (!j->admitted)
            job_admit(c, j, slot);
        else
            job_wait(c, j, slot);
    }
}

/* Start the workers; call with c->mu held. */
static hansa_code async_start(hansa_client *c, hansa_error *err)
{
    struct sdk_async *a = calloc(1, sizeof *a);
    if (a == NULL)
        return sdk_fail(err, HANSA_CODE_NOMEM, "out of memory");
    for (int i = 0; i < SDK_ASYNC_WORKERS; i++)
        sdk_slot_init(&a->slots[i]);
    c->async = a;
    for (int i = 0; i < SDK_ASYNC_WORKERS; i++) {
        struct worker_arg *wa = malloc(sizeof *wa);
        if (wa != NULL) {
            *wa = (struct worker_arg){c, i};
            if (pthread_create(&a->workers[i], NULL, worker_main, wa) == 0) {
                a->n_workers++;
                continue;
            }
            free(wa);
        }
        break;
    }
    if (a->n_workers == 0) {
        for (int i = 0; i < SDK_ASYNC_WORKERS; i++)
            sdk_slot_fini(&a->slots[i]);
        free(a);
        c->async = NULL;
        return sdk_fail(err, HANSA_CODE_NOMEM, "cannot start the submit workers");
    }
    return HANSA_CODE_OK;
}

hansa_code hansa_submit_async(hansa_client *c, Hansa__TxBody__ActionCase action, const void *msg,
                              const hansa_submit_options *opts, hansa_submit_cb done, void *arg,
                              hansa_error *err)
{
    if (c == NULL || done == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "hansa_submit_async: client and callback needed");
    struct sdk_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return sdk_fail(err, HANSA_CODE_NOMEM, "out of memory");
    options_of(opts, &j->no_wait, &j->wait_ms);
    j->done = done;
    j->arg = arg;
    j->backoff_ms = SDK_BACKOFF_MS_MIN;
    hansa_code code = tx_build(c, action, msg, &j->tx, err);
    if (code != HANSA_CODE_OK) {
        free(j);
        return code;
    }
    memcpy(j->receipt.tx_id, j->tx.id, sizeof j->receipt.tx_id);
    pthread_mutex_lock(&c->mu);
    if (c->closing)
        code = sdk_fail(err, HANSA_CODE_CLOSED, "the client is closing");
    else if (c->async == NULL)
        code = async_start(c, err);
    if (code == HANSA_CODE_OK && c->async->in_flight >= HANSA_ASYNC_MAX) {
        code = sdk_fail(err, HANSA_CODE_NODE, "%u asynchronous submits are in flight already",
                        (unsigned)HANSA_ASYNC_MAX);
        if (err != NULL)
            err->node_error = HANSA__ERROR_CODE__ERROR_BUSY;
    }
    if (code == HANSA_CODE_OK) {
        c->async->in_flight++;
        queue_push(&c->async->admit_q, j);
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->mu);
    if (code != HANSA_CODE_OK) {
        free(j->tx.bytes);
        free(j);
        return code;
    }
    return sdk_ok(err);
}

void sdk_async_close(hansa_client *c)
{
    struct sdk_async *a = c->async;
    if (a == NULL)
        return;
    HANSA_ASSERT(c->closing);
    for (int i = 0; i < SDK_ASYNC_WORKERS; i++)
        sdk_slot_cancel(&a->slots[i]);
    for (int i = 0; i < a->n_workers; i++)
        pthread_join(a->workers[i], NULL);
    HANSA_ASSERT(a->in_flight == 0 && a->admit_q.head == NULL && a->wait_q.head == NULL);
    for (int i = 0; i < SDK_ASYNC_WORKERS; i++)
        sdk_slot_fini(&a->slots[i]);
    free(a);
    c->async = NULL;
}
