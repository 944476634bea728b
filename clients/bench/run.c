/*
 * One measured run. Threads:
 *   submitters  C of them, submitter i on node i mod N (one req0 socket per
 *               node over tls+tcp, one context per submitter); each takes
 *               the next ready transaction (a step whose prerequisites are
 *               committed, else the order of a new chain), paces itself
 *               when a rate is set, sends it and reads the admission answer;
 *               BUSY and transport errors put it back in the queue
 *   subscribers one sub0 socket per node on block/ and tx/; the first
 *               receipt of a transaction marks it committed and releases its
 *               dependents; each height's block event is kept once
 *   reconciler  pub/sub drops events when a subscriber falls behind (nng
 *               keeps a bounded queue per subscriber), and a dropped receipt
 *               would hold its in-flight slot and its chain's next steps for
 *               ever, throttling the run by itself. So transactions sent more
 *               than RECONCILE_AGE_MS ago without a receipt are asked for
 *               with GetReceipt (the regulator's key may read any receipt);
 *               one that no node knows after RECONCILE_LOST_PASSES passes
 *               counts as lost and gives its slot back
 *   the caller  prints progress, closes the windows, computes the result
 *
 * Windows: warm-up [t0, t0 + warmup), steady [t0 + warmup, t0 + warmup +
 * seconds). Committed tx/s = Σ tx_count of blocks first seen (on any node)
 * in the steady window ÷ seconds. Latency = receipt seen − request sent, over
 * transactions sent in the steady window (receipts may arrive after it).
 * In-flight (sent, not yet committed) is capped so a closed loop at full
 * speed does not just fill the mempools.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "bench.h"
#include "closer.h"
#include "hansa/assert.h"
#include "hansa/hansa.h"

#define RECV_TIMEOUT_MS 200
/* A submitter told BUSY (the node's mempool is full) waits this long before
 * the next send, as a client should: at 2 ms, 32 submitters kept ~1,500
 * refused requests a second in flight against full mempools. */
#define BUSY_BACKOFF_MS 20u
/* Reconciler: a pass every RECONCILE_EVERY_MS asks about at most
 * RECONCILE_PER_PASS transactions that have had no receipt for
 * RECONCILE_AGE_MS (well above a normal commit latency, so it only asks
 * about dropped receipts), spread over the nodes. Each ask is a signed
 * query the node verifies and audits, so the pass is bounded to keep the
 * measurement's extra load small. */
#define RECONCILE_EVERY_MS    2000u
#define RECONCILE_AGE_MS      10000u
#define RECONCILE_PER_PASS    400u
#define RECONCILE_LOST_PASSES 3
/* With --receipts poll every receipt comes from the reconciler: it asks
 * about every transaction sent POLL_AGE_MS ago or more, every POLL_EVERY_MS,
 * and the commit time it records is when it saw the receipt. */
#define POLL_EVERY_MS    200u
#define POLL_AGE_MS      200u
#define POLL_PER_PASS    20000u
#define POLL_LOST_PASSES 50
#define REQ_TIMEOUT_MS   15000
#define DRAIN_MS         8000

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    nanosleep(&ts, NULL);
}

/* ---- transport ---- */

static int dial(nng_socket s, const char *url, const char *ca, const char *server_name,
                size_t recv_max)
{
    nng_dialer d;
    int rv = nng_dialer_create(&d, s, url);
    if (rv == 0)
        nng_dialer_set_size(d, NNG_OPT_RECVMAXSZ, recv_max);
    if (rv == 0 && strncmp(url, "tls+", 4) == 0) {
        nng_tls_config *tls = NULL;
        rv = nng_tls_config_alloc(&tls, NNG_TLS_MODE_CLIENT);
        if (rv == 0)
            rv = nng_tls_config_ca_file(tls, ca);
        if (rv == 0)
            rv = nng_tls_config_server_name(tls, server_name);
        if (rv == 0)
            rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls);
        if (tls)
            nng_tls_config_free(tls);
    }
    if (rv == 0)
        rv = nng_dialer_start(d, 0);
    return rv;
}

static int sub_open(nng_socket *s, const struct bench_net *net, int i, const char *topic)
{
    int rv = nng_sub0_open(s);
    if (rv != 0)
        return rv;
    nng_socket_set_int(*s, NNG_OPT_RECVBUF, 8192);
    nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, RECV_TIMEOUT_MS);
    nng_socket_set(*s, NNG_OPT_SUB_SUBSCRIBE, topic, strlen(topic));
    rv = dial(*s, net->node[i].events, net->ca_path, net->node[i].id, 1 << 20);
    if (rv != 0)
        nng_close(*s);
    return rv;
}

/* Send req, receive and decode the answer (NULL on transport failure). */
static Hansa__Response *call(nng_ctx ctx, nng_aio *aio, const uint8_t *req, size_t len)
{
    nng_msg *m = NULL;
    if (nng_msg_alloc(&m, len) != 0)
        return NULL;
    memcpy(nng_msg_body(m), req, len);
    nng_aio_set_msg(aio, m);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    if (nng_aio_result(aio) != 0) {
        nng_msg_free(nng_aio_get_msg(aio));
        return NULL;
    }
    nng_ctx_recv(ctx, aio);
    nng_aio_wait(aio);
    if (nng_aio_result(aio) != 0)
        return NULL;
    m = nng_aio_get_msg(aio);
    Hansa__Response *r = NULL;
    if (wire_response_decode(nng_msg_body(m), nng_msg_len(m), &r) != HANSA_OK)
        r = NULL;
    nng_msg_free(m);
    return r;
}

/* ---- shared run state ---- */

struct block_seen {
    uint64_t seen_ns; /* 0: not seen */
    uint32_t tx_count, ok_count;
};

struct run {
    const struct bench_net *net;
    struct bench_load *l;
    const struct bench_opts *o;
    nng_socket req[BENCH_NODES_MAX];

    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t *ready; /* ring */
    size_t ready_cap, ready_head, ready_len;
    uint32_t next_chain;

    pthread_mutex_t bmu;
    struct block_seen *blocks;
    size_t blocks_cap;
    uint64_t max_height;

    atomic_bool stop_submit, stop_all;
    atomic_uint_fast64_t paced, submitted, accepted, busy, rejected, errors, receipts, inflight;
    atomic_uint_fast64_t recovered, lost; /* by the reconciler */
    atomic_uint_fast64_t failed[STEP_COUNT];
    uint64_t t0_ns;
    int inflight_max;
};

static void ready_push(struct run *r, uint32_t idx)
{
    pthread_mutex_lock(&r->mu);
    if (r->ready_len < r->ready_cap) {
        r->ready[(r->ready_head + r->ready_len) % r->ready_cap] = idx;
        r->ready_len++;
    }
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* The next transaction to send, or -1 after a short wait with none ready. */
static long ready_pop(struct run *r)
{
    long idx = -1;
    pthread_mutex_lock(&r->mu);
    for (int tries = 0; tries < 2 && idx < 0; tries++) {
        bool room = atomic_load(&r->inflight) < (uint64_t)r->inflight_max;
        if (r->ready_len > 0 && room) {
            idx = r->ready[r->ready_head];
            r->ready_head = (r->ready_head + 1) % r->ready_cap;
            r->ready_len--;
        } else if (r->next_chain < r->l->n_chains && room) {
            idx = r->l->steps[r->next_chain++][STEP_ORDER];
        } else if (tries == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 20000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        }
    }
    pthread_mutex_unlock(&r->mu);
    return idx;
}

/* now = 0: committed, but when is unknown (a receipt the reconciler found):
 * no latency sample. */
static void mark_committed(struct run *r, long idx, int result, uint64_t now)
{
    struct bench_tx *t = &r->l->tx[idx];
    int expect = 1;
    if (!atomic_compare_exchange_strong(&t->state, &expect, 2)) {
        expect = 0; /* answered ALREADY_COMMITTED before we marked it sent */
        if (!atomic_compare_exchange_strong(&t->state, &expect, 2))
            return;
    } else {
        atomic_fetch_sub(&r->inflight, 1);
    }
    t->commit_ns = now;
    t->result = result;
    atomic_fetch_add(&r->receipts, 1);
    if (result != HANSA__RESULT_CODE__RESULT_OK) {
        atomic_fetch_add(&r->failed[t->step], 1);
        return; /* its dependents would fail too: the chain ends here */
    }
    enum bench_step dep[2];
    int nd = bench_step_dependents((enum bench_step)t->step, dep);
    for (int j = 0; j < nd; j++) {
        uint32_t d = r->l->steps[t->chain][dep[j]];
        if (d != UINT32_MAX && atomic_fetch_sub(&r->l->tx[d].deps_left, 1) == 1)
            ready_push(r, d);
    }
}

/* ---- submitters ---- */

struct submitter {
    struct run *r;
    int node;
    pthread_t th;
};

static void pace(struct run *r)
{
    if (r->o->rate <= 0)
        return;
    uint64_t n = atomic_fetch_add(&r->paced, 1);
    uint64_t slot = r->t0_ns + (uint64_t)((double)n * 1e9 / r->o->rate);
    uint64_t now = bench_now_ns();
    if (slot > now)
        sleep_ns(slot - now);
}

static void submit_one(struct run *r, nng_ctx ctx, nng_aio *aio, long idx)
{
    struct bench_tx *t = &r->l->tx[idx];
    t->submit_ns = bench_now_ns();
    atomic_store(&t->state, 1);
    atomic_fetch_add(&r->inflight, 1);
    atomic_fetch_add(&r->submitted, 1);
    Hansa__Response *resp = call(ctx, aio, t->req, t->req_len);
    int code = -1;
    if (resp != NULL && resp->kind_case == HANSA__RESPONSE__KIND_SUBMIT)
        code = resp->submit->result;
    if (code == HANSA__RESULT_CODE__RESULT_OK ||
        code == HANSA__RESULT_CODE__RESULT_ALREADY_PENDING) {
        atomic_fetch_add(&r->accepted, 1);
    } else if (code == HANSA__RESULT_CODE__RESULT_ALREADY_COMMITTED) {
        atomic_fetch_add(&r->accepted, 1);
        const Hansa__Receipt *rc = resp->submit->receipt;
        mark_committed(r, idx, rc ? rc->result : HANSA__RESULT_CODE__RESULT_OK, bench_now_ns());
    } else {
        /* not admitted: take it back unless someone already saw it commit */
        int expect = 1;
        if (atomic_compare_exchange_strong(&t->state, &expect, 0))
            atomic_fetch_sub(&r->inflight, 1);
        bool retry = resp == NULL || code == HANSA__RESULT_CODE__RESULT_BUSY || code == -1;
        if (retry) {
            atomic_fetch_add(resp == NULL ? &r->errors : &r->busy, 1);
            sleep_ns((uint64_t)BUSY_BACKOFF_MS * 1000000u);
            ready_push(r, (uint32_t)idx);
        } else {
            if (atomic_fetch_add(&r->rejected, 1) < 5)
                fprintf(stderr, "hansa-bench: %s refused: %s (%d)\n",
                        bench_step_name((enum bench_step)t->step), resp->submit->message, code);
        }
    }
    if (resp)
        wire_free(resp);
}

static void *submitter_main(void *arg)
{
    struct submitter *s = arg;
    struct run *r = s->r;
    nng_ctx ctx;
    nng_aio *aio = NULL;
    if (nng_ctx_open(&ctx, r->req[s->node]) != 0 || nng_aio_alloc(&aio, NULL, NULL) != 0) {
        fprintf(stderr, "hansa-bench: cannot open a request context\n");
        return NULL;
    }
    nng_aio_set_timeout(aio, REQ_TIMEOUT_MS);
    while (!atomic_load(&r->stop_submit)) {
        long idx = ready_pop(r);
        if (idx < 0)
            continue;
        pace(r);
        if (atomic_load(&r->stop_submit)) {
            ready_push(r, (uint32_t)idx);
            break;
        }
        submit_one(r, ctx, aio, idx);
    }
    nng_aio_free(aio);
    nng_ctx_close(ctx);
    return NULL;
}

/* ---- subscribers ---- */

struct subscriber {
    struct run *r;
    int node;
    nng_socket sock;
    pthread_t th;
};

static void block_seen(struct run *r, uint64_t h, const Hansa__BlockCommitted *b, uint64_t now)
{
    pthread_mutex_lock(&r->bmu);
    if (h >= r->blocks_cap) {
        size_t cap = r->blocks_cap ? r->blocks_cap : 4096;
        while (cap <= h)
            cap *= 2;
        struct block_seen *nb = realloc(r->blocks, cap * sizeof *nb);
        if (nb != NULL) {
            memset(nb + r->blocks_cap, 0, (cap - r->blocks_cap) * sizeof *nb);
            r->blocks = nb;
            r->blocks_cap = cap;
        }
    }
    if (h < r->blocks_cap && r->blocks[h].seen_ns == 0) {
        r->blocks[h] = (struct block_seen){now, b->tx_count, b->ok_count};
        if (h > r->max_height)
            r->max_height = h;
    }
    pthread_mutex_unlock(&r->bmu);
}

static void event_in(struct run *r, const uint8_t *body, size_t len)
{
    uint64_t now = bench_now_ns();
    const uint8_t *nul = memchr(body, 0, len);
    if (nul == NULL)
        return;
    size_t off = (size_t)(nul - body) + 1;
    Hansa__Event *e = NULL;
    if (wire_event_decode(body + off, len - off, &e) != HANSA_OK)
        return;
    if (e->kind_case == HANSA__EVENT__KIND_BLOCK && e->block != NULL) {
        block_seen(r, e->height, e->block, now);
    } else if (e->kind_case == HANSA__EVENT__KIND_TX && e->tx != NULL &&
               e->tx->tx_id.len == WIRE_HASH_BYTES) {
        long idx = bench_load_find(r->l, e->tx->tx_id.data);
        if (idx >= 0)
            mark_committed(r, idx, e->tx->result, now);
    }
    wire_free(e);
}

static void *subscriber_main(void *arg)
{
    struct subscriber *s = arg;
    while (!atomic_load(&s->r->stop_all)) {
        nng_msg *m = NULL;
        if (nng_recvmsg(s->sock, &m, 0) != 0)
            continue;
        event_in(s->r, nng_msg_body(m), nng_msg_len(m));
        nng_msg_free(m);
    }
    return NULL;
}

/* ---- closing sockets ---- */

/* nng 1.5.2's nng_close can hang for good (LIBNOTES 1.9). It did twice in
 * one afternoon of runs: once closing the run's sockets after the
 * measurement, once closing the setup transaction's sockets, and the bench
 * never printed its result. So sockets are closed as the SDK closes its
 * own (closer.h), and after CLOSE_WAIT_MS the bench goes on without them
 * (the process exits soon; the hung thread and its sockets are left to the
 * exit). */
#define CLOSE_WAIT_MS 10000u

void bench_close(const nng_socket *socks, int n)
{
    if (!sdk_close_sockets(socks, n, CLOSE_WAIT_MS))
        fprintf(stderr, "hansa-bench: nng_close hung (nng 1.5.2, LIBNOTES 1.9); going on "
                        "without it\n");
}

/* ---- reconciler ---- */

struct reconciler {
    struct run *r;
    hansa_client *c[BENCH_NODES_MAX];
    pthread_t th;
};

/* Ask about one transaction sent long ago without a receipt. */
static void reconcile_one(struct reconciler *rc, long idx, int node)
{
    struct run *r = rc->r;
    struct bench_tx *t = &r->l->tx[idx];
    hansa_receipt rec;
    hansa_error err;
    hansa_code code = hansa_tx_get(rc->c[node], t->id, 0, &rec, &err);
    if (code == HANSA_CODE_OK && rec.committed) {
        atomic_fetch_add(&r->recovered, 1);
        mark_committed(r, idx, rec.result, r->o->poll ? bench_now_ns() : 0);
    } else if (code == HANSA_CODE_OK) {
        t->unknown = 0; /* pending on that node */
    } else if (code == HANSA_CODE_NOT_FOUND &&
               ++t->unknown >= (r->o->poll ? POLL_LOST_PASSES : RECONCILE_LOST_PASSES)) {
        int expect = 1;
        if (atomic_compare_exchange_strong(&t->state, &expect, 3)) {
            atomic_fetch_sub(&r->inflight, 1);
            if (atomic_fetch_add(&r->lost, 1) < 5)
                fprintf(stderr,
                        "hansa-bench: a %s transaction was admitted but no node knows it "
                        "any more (not pending, not committed)\n",
                        bench_step_name((enum bench_step)t->step));
        }
    }
}

static void *reconciler_main(void *arg)
{
    struct reconciler *rc = arg;
    struct run *r = rc->r;
    size_t next = 0;
    unsigned pass = 0;
    unsigned every_ms = r->o->poll ? POLL_EVERY_MS : RECONCILE_EVERY_MS;
    unsigned per_pass = r->o->poll ? POLL_PER_PASS : RECONCILE_PER_PASS;
    uint64_t age_ns = (uint64_t)(r->o->poll ? POLL_AGE_MS : RECONCILE_AGE_MS) * 1000000u;
    while (!atomic_load(&r->stop_all)) {
        for (unsigned waited = 0; waited < every_ms && !atomic_load(&r->stop_all); waited += 100)
            sleep_ns(100000000u);
        uint64_t old_ns = bench_now_ns() - age_ns;
        unsigned asked = 0;
        /* Round-robin over the load, so every old transaction gets asked
         * about within a few passes however many there are. */
        for (size_t seen = 0; seen < r->l->n_tx && asked < per_pass && !atomic_load(&r->stop_all);
             seen++, next = (next + 1) % r->l->n_tx) {
            struct bench_tx *t = &r->l->tx[next];
            if (atomic_load(&t->state) != 1 || t->submit_ns > old_ns)
                continue;
            reconcile_one(rc, (long)next, (int)((next + pass) % (size_t)r->net->n));
            asked++;
        }
        pass++;
    }
    return NULL;
}

static int reconciler_open(struct reconciler *rc, struct run *r)
{
    char key[700];
    snprintf(key, sizeof key, "%s/parties/CUS-0001.key", r->net->dir);
    rc->r = r;
    for (int i = 0; i < r->net->n; i++) {
        hansa_client_options o = {.url = r->net->node[i].api_tls,
                                  .ca_path = r->net->ca_path,
                                  .server_name = r->net->node[i].id,
                                  .key_path = key,
                                  .timeout_ms = REQ_TIMEOUT_MS};
        hansa_error err;
        if (hansa_client_open(&o, &rc->c[i], &err) != HANSA_CODE_OK) {
            fprintf(stderr, "hansa-bench: reconciler: %s\n", err.message);
            return -1;
        }
    }
    return pthread_create(&rc->th, NULL, reconciler_main, rc) == 0 ? 0 : -1;
}

static void reconciler_close(struct reconciler *rc, bool started)
{
    if (started)
        pthread_join(rc->th, NULL);
    for (int i = 0; i < BENCH_NODES_MAX; i++)
        hansa_client_close(rc->c[i]);
}

/* ---- setup transactions ---- */

int bench_submit_wait(const struct bench_net *net, const uint8_t *req, size_t len,
                      const uint8_t id[WIRE_HASH_BYTES], uint32_t timeout_ms)
{
    char topic[3 + 2 * WIRE_HASH_BYTES + 1] = "tx/";
    wire_hex_encode(id, WIRE_HASH_BYTES, topic + 3);
    nng_socket sub, rs;
    if (sub_open(&sub, net, 0, topic) != 0)
        return -1;
    int result = -1;
    if (nng_req0_open(&rs) == 0) {
        nng_ctx ctx;
        nng_aio *aio = NULL;
        if (dial(rs, net->node[0].api_tls, net->ca_path, net->node[0].id, 1 << 22) == 0 &&
            nng_ctx_open(&ctx, rs) == 0 && nng_aio_alloc(&aio, NULL, NULL) == 0) {
            nng_aio_set_timeout(aio, REQ_TIMEOUT_MS);
            Hansa__Response *resp = call(ctx, aio, req, len);
            if (resp && resp->kind_case == HANSA__RESPONSE__KIND_SUBMIT &&
                resp->submit->result == HANSA__RESULT_CODE__RESULT_OK) {
                uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
                while (result < 0 && bench_now_ns() < deadline) {
                    nng_msg *m = NULL;
                    if (nng_recvmsg(sub, &m, 0) != 0)
                        continue;
                    size_t off = strlen(topic) + 1;
                    Hansa__Event *e = NULL;
                    if (nng_msg_len(m) <= off ||
                        wire_event_decode((uint8_t *)nng_msg_body(m) + off, nng_msg_len(m) - off,
                                          &e) != HANSA_OK)
                        e = NULL;
                    if (e && e->kind_case == HANSA__EVENT__KIND_TX)
                        result = e->tx->result;
                    if (e)
                        wire_free(e);
                    nng_msg_free(m);
                }
            } else if (resp && resp->kind_case == HANSA__RESPONSE__KIND_SUBMIT) {
                fprintf(stderr, "hansa-bench: setup transaction refused: %s\n",
                        resp->submit->message);
            }
            if (resp)
                wire_free(resp);
            nng_aio_free(aio);
        }
        bench_close(&rs, 1);
    }
    bench_close(&sub, 1);
    return result == HANSA__RESULT_CODE__RESULT_OK ? 0 : -1;
}

/* ---- the run ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)ceil(p * (double)n) - 1;
    if (k >= n)
        k = n - 1;
    return (double)v[k] / 1e6;
}

static uint64_t committed_between(struct run *r, uint64_t from_ns, uint64_t to_ns, uint64_t *ok,
                                  uint64_t *blocks)
{
    uint64_t n = 0, o = 0, b = 0;
    pthread_mutex_lock(&r->bmu);
    for (uint64_t h = 1; h <= r->max_height && h < r->blocks_cap; h++) {
        const struct block_seen *s = &r->blocks[h];
        if (s->seen_ns >= from_ns && s->seen_ns < to_ns && s->seen_ns != 0) {
            n += s->tx_count;
            o += s->ok_count;
            b++;
        }
    }
    pthread_mutex_unlock(&r->bmu);
    if (ok)
        *ok = o;
    if (blocks)
        *blocks = b;
    return n;
}

static void progress(struct run *r, uint64_t now, uint64_t *last_ns, uint64_t *last_committed)
{
    uint64_t total = committed_between(r, r->t0_ns, now + 1, NULL, NULL);
    double dt = (double)(now - *last_ns) / 1e9;
    double el = (double)(now - r->t0_ns) / 1e9;
    const char *phase = el < r->o->warmup ? "warm-up" : "steady";
    printf("[%s %5.1fs %-7s] committed %8" PRIu64 " (%6.0f tx/s)  sent %8" PRIu64
           "  in-flight %6" PRIu64 "  busy %" PRIu64 "  height %" PRIu64 "  recovered %" PRIu64
           "  lost %" PRIu64 "\n",
           r->o->label, el, phase, total, (double)(total - *last_committed) / dt,
           (uint64_t)atomic_load(&r->submitted), (uint64_t)atomic_load(&r->inflight),
           (uint64_t)atomic_load(&r->busy), r->max_height, (uint64_t)atomic_load(&r->recovered),
           (uint64_t)atomic_load(&r->lost));
    fflush(stdout);
    *last_ns = now;
    *last_committed = total;
}

/* CPU used so far by the nodes this run started. */
static uint64_t nodes_cpu_us(const struct bench_net *net)
{
    uint64_t us = 0;
    for (int i = 0; i < net->n; i++)
        if (net->node[i].pid > 0)
            us += bench_cpu_us(net->node[i].pid);
    return us;
}

static void result_fill(struct run *r, struct bench_result *res, uint64_t w0, uint64_t w1)
{
    const struct bench_opts *o = r->o;
    uint64_t ok = 0, blocks = 0;
    res->committed = committed_between(r, w0, w1, &ok, &blocks);
    res->committed_ok = ok;
    res->blocks = blocks;
    res->tps = (double)res->committed / o->seconds;
    res->ok_tps = (double)ok / o->seconds;
    res->submitted = atomic_load(&r->submitted);
    res->accepted = atomic_load(&r->accepted);
    res->busy = atomic_load(&r->busy);
    res->rejected = atomic_load(&r->rejected);
    res->recovered = atomic_load(&r->recovered);
    res->lost = atomic_load(&r->lost);
    uint64_t *lat = malloc((r->l->n_tx + 1) * sizeof *lat);
    size_t n = 0;
    for (size_t i = 0; lat && i < r->l->n_tx; i++) {
        const struct bench_tx *t = &r->l->tx[i];
        if (atomic_load(&t->state) == 2 && t->submit_ns >= w0 && t->submit_ns < w1 &&
            t->commit_ns > t->submit_ns)
            lat[n++] = t->commit_ns - t->submit_ns;
    }
    if (lat)
        qsort(lat, n, sizeof *lat, cmp_u64);
    res->samples = n;
    res->p50_ms = pct_ms(lat, n, 0.50);
    res->p90_ms = pct_ms(lat, n, 0.90);
    res->p99_ms = pct_ms(lat, n, 0.99);
    free(lat);
}

static int open_req_sockets(struct run *r)
{
    for (int i = 0; i < r->net->n; i++) {
        int rv = nng_req0_open(&r->req[i]);
        if (rv == 0)
            rv = dial(r->req[i], r->net->node[i].api_tls, r->net->ca_path, r->net->node[i].id,
                      1 << 22);
        if (rv != 0) {
            fprintf(stderr, "hansa-bench: cannot reach %s: %s\n", r->net->node[i].api_tls,
                    nng_strerror(rv));
            return -1;
        }
    }
    return 0;
}

int bench_run(const struct bench_net *net, struct bench_load *l, const struct bench_opts *o,
              struct bench_result *res)
{
    struct run *r = calloc(1, sizeof *r);
    struct submitter *subm = calloc((size_t)o->clients, sizeof *subm);
    struct subscriber subs[BENCH_NODES_MAX];
    if (r == NULL || subm == NULL)
        return -1;
    r->net = net;
    r->l = l;
    r->o = o;
    r->inflight_max = 40000;
    r->ready_cap = l->n_tx + 1;
    r->ready = malloc(r->ready_cap * sizeof *r->ready);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    pthread_mutex_init(&r->bmu, NULL);
    memset(res, 0, sizeof *res);
    int rv = r->ready ? open_req_sockets(r) : -1;
    int n_subs = 0;
    for (int i = 0; rv == 0 && i < net->n; i++) {
        subs[i] = (struct subscriber){.r = r, .node = i};
        rv = sub_open(&subs[i].sock, net, i, "block/");
        if (rv == 0 && !o->poll)
            nng_socket_set(subs[i].sock, NNG_OPT_SUB_SUBSCRIBE, "tx/", 3);
        if (rv == 0 && pthread_create(&subs[i].th, NULL, subscriber_main, &subs[i]) == 0)
            n_subs++;
        else
            rv = -1;
    }
    struct reconciler rc = {0};
    bool rc_started = rv == 0 && reconciler_open(&rc, r) == 0;
    if (rv == 0 && !rc_started)
        rv = -1;
    r->t0_ns = bench_now_ns();
    int n_subm = 0;
    for (int i = 0; rv == 0 && i < o->clients; i++) {
        subm[i] = (struct submitter){.r = r, .node = i % net->n};
        if (pthread_create(&subm[i].th, NULL, submitter_main, &subm[i]) == 0)
            n_subm++;
    }
    uint64_t w0 = r->t0_ns + (uint64_t)o->warmup * 1000000000u;
    uint64_t w1 = w0 + (uint64_t)o->seconds * 1000000000u;
    uint64_t last_ns = r->t0_ns, last_committed = 0;
    /* Node CPU is sampled as the steady window opens and as it closes, and
     * divided by what committed in between. */
    uint64_t cpu_a = 0, cpu_a_ns = 0, cpu_b = 0, cpu_b_ns = 0;
    while (rv == 0 && bench_now_ns() < w1) {
        uint64_t wake = bench_now_ns() + (uint64_t)o->progress_s * 1000000000u;
        if (cpu_a_ns == 0 && w0 < wake)
            wake = w0; /* sample the CPU as the window opens */
        if (w1 < wake)
            wake = w1;
        uint64_t now = bench_now_ns();
        if (wake > now)
            sleep_ns(wake - now);
        if (cpu_a_ns == 0 && bench_now_ns() >= w0) {
            cpu_a_ns = bench_now_ns();
            cpu_a = nodes_cpu_us(net);
        }
        progress(r, bench_now_ns(), &last_ns, &last_committed);
        pthread_mutex_lock(&r->mu);
        bool dry = r->next_chain >= l->n_chains && r->ready_len == 0;
        pthread_mutex_unlock(&r->mu);
        if (dry && atomic_load(&r->inflight) == 0) {
            res->exhausted = true;
            fprintf(stderr, "hansa-bench: the pre-generated load ran out; raise --max-tps\n");
            break;
        }
    }
    cpu_b_ns = bench_now_ns();
    cpu_b = nodes_cpu_us(net);
    atomic_store(&r->stop_submit, true);
    pthread_mutex_lock(&r->mu);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    for (int i = 0; i < n_subm; i++)
        pthread_join(subm[i].th, NULL);
    /* let receipts of the window's last transactions arrive */
    uint64_t drain_end = bench_now_ns() + (uint64_t)DRAIN_MS * 1000000u;
    while (bench_now_ns() < drain_end && atomic_load(&r->inflight) > 0)
        sleep_ns(100000000u);
    atomic_store(&r->stop_all, true);
    reconciler_close(&rc, rc_started);
    nng_socket socks[2 * BENCH_NODES_MAX];
    int n_socks = 0;
    for (int i = 0; i < n_subs; i++) {
        pthread_join(subs[i].th, NULL);
        socks[n_socks++] = subs[i].sock;
    }
    for (int i = 0; i < net->n; i++)
        socks[n_socks++] = r->req[i];
    bench_close(socks, n_socks);
    if (rv == 0) {
        result_fill(r, res, w0, w1);
        uint64_t n = cpu_a_ns ? committed_between(r, cpu_a_ns, cpu_b_ns, NULL, NULL) : 0;
        res->cpu_us_per_tx = n > 0 && cpu_b > cpu_a ? (double)(cpu_b - cpu_a) / (double)n : 0;
    }
    for (int s = 0; s < STEP_COUNT; s++)
        if (atomic_load(&r->failed[s]) > 0)
            fprintf(stderr, "hansa-bench: %" PRIu64 " %s transactions committed with a rejection\n",
                    (uint64_t)atomic_load(&r->failed[s]), bench_step_name((enum bench_step)s));
    free(r->ready);
    free(r->blocks);
    free(r);
    free(subm);
    return rv;
}
