/* See cluster.h. */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "cluster.h"
#include "store.h"

static void load_node_up(struct cluster *c, int i, bool up);
static void load_abandon(struct cluster *c);

void cluster_load_key(struct cluster *c, const char *party, struct wire_keypair *kp)
{
    char path[512], p[65], why[256];
    snprintf(path, sizeof path, "%s/parties/%s.key", c->net, party);
    cr_assert_eq(wire_keyfile_load(path, kp, p, sizeof p, why, sizeof why), HANSA_OK, "%s", why);
}

void cluster_init(struct cluster *c, int n, const char *chain)
{
    memset(c, 0, sizeof *c);
    cr_assert_eq(wire_global_init(), HANSA_OK);
    cr_assert(n > 0 && n <= CLUSTER_NODES_MAX);
    c->n = n;
    snprintf(c->chain, sizeof c->chain, "%s", chain);
    strcpy(c->dir, "/tmp/hansa-cluster-XXXXXX");
    cr_assert_not_null(mkdtemp(c->dir));
    c->base_port = proc_free_port_base(10 * n);
    cr_assert_gt(c->base_port, 0);
    snprintf(c->net, sizeof c->net, "%s/net", c->dir);
    char nv[8], port[16], log[320];
    snprintf(nv, sizeof nv, "%d", n);
    snprintf(port, sizeof port, "%d", c->base_port);
    snprintf(log, sizeof log, "%s/testnet.log", c->dir);
    char *argv[] = {HANSA_BIN_DIR "/hansad", "testnet", "--validators", nv,       "--dir", c->net,
                    "--base-port",           port,      "--chain-id",   c->chain, NULL};
    cr_assert_eq(proc_run(argv, log, 120000), 0, "hansad testnet failed; see %s", log);
    cluster_load_key(c, "MER-SZ-0001", &c->merchant);
    cluster_load_key(c, "CUS-0001", &c->regulator);
}

void cluster_config_set(struct cluster *c, int i, const char *key, const char *value)
{
    char path[400];
    snprintf(path, sizeof path, "%s/node%d/config.ini", c->net, i);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s", path);
    static char text[65536], out[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    size_t o = 0, klen = strlen(key);
    bool done = false;
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (!done && strncmp(line, key, klen) == 0 && line[klen] == ' ' && line[klen + 1] == '=') {
            o += (size_t)snprintf(out + o, sizeof out - o, "%s = %s\n", key, value);
            done = true;
        } else {
            o += (size_t)snprintf(out + o, sizeof out - o, "%.*s\n", (int)len, line);
        }
        line += len + (end ? 1 : 0);
    }
    cr_assert(done, "%s has no key %s", path, key);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(out, 1, o, f), o);
    fclose(f);
}

void cluster_start(struct cluster *c, int i)
{
    char home[400], log[400];
    snprintf(home, sizeof home, "%s/node%d", c->net, i);
    snprintf(log, sizeof log, "%s/node%d.log", c->dir, i);
    char *argv[] = {HANSA_BIN_DIR "/hansad", "start", "--home", home, NULL};
    cr_assert_eq(proc_spawn(&c->nodes[i], argv, log), 0);
    c->running[i] = true;
    load_node_up(c, i, true);
}

void cluster_signal(struct cluster *c, int i, int sig)
{
    proc_signal(&c->nodes[i], sig);
}

void cluster_kill(struct cluster *c, int i)
{
    /* The load learns of it only afterwards, like a client would: a request
     * in flight to it fails, and the load goes on with the others. */
    proc_signal(&c->nodes[i], SIGKILL);
    int rv = proc_wait(&c->nodes[i], 10000);
    c->running[i] = false;
    load_node_up(c, i, false);
    cr_assert_eq(rv, 128 + SIGKILL, "node%d: status %d after SIGKILL", i, rv);
}

void cluster_stop(struct cluster *c, int i)
{
    load_node_up(c, i, false);
    proc_signal(&c->nodes[i], SIGCONT); /* in case it was paused */
    proc_signal(&c->nodes[i], SIGTERM);
    int rv = proc_wait(&c->nodes[i], 30000);
    if (rv != 0) {
        /* The log goes with the temp dir: show its end, and do not leave a
         * hung node behind. */
        cluster_dump_log(c, i, 40);
        if (rv < 0) {
            proc_signal(&c->nodes[i], SIGKILL);
            proc_wait(&c->nodes[i], 10000);
        }
    }
    c->running[i] = false;
    cr_assert_eq(rv, 0, "node%d did not stop cleanly (status %d)", i, rv);
}

void cluster_fini(struct cluster *c, bool keep)
{
    load_abandon(c);
    for (int i = 0; i < c->n; i++)
        if (c->running[i]) {
            proc_signal(&c->nodes[i], SIGCONT);
            proc_signal(&c->nodes[i], SIGKILL);
            proc_wait(&c->nodes[i], 10000);
            c->running[i] = false;
        }
    free(c->acked_ids);
    free(c->acked_heights);
    if (!keep) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf %s", c->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", c->dir);
    }
}

void cluster_dump_log(struct cluster *c, int i, int lines)
{
    char cmd[600];
    fprintf(stderr, "---- last %d lines of node%d.log ----\n", lines, i);
    fflush(stderr);
    snprintf(cmd, sizeof cmd, "tail -n %d %s/node%d.log >&2", lines, c->dir, i);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
    fprintf(stderr, "---- end of node%d.log ----\n", i);
}

struct tc *cluster_client(struct cluster *c, int i, uint32_t timeout_ms)
{
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", c->base_port + 10 * i + 2);
    struct tc *t = NULL;
    cr_assert_eq(tc_open(url, NULL, NULL, timeout_ms, &t), HANSA_OK);
    return t;
}

static bool answers(struct cluster *c, int i)
{
    struct tc *t = cluster_client(c, i, 1000);
    Hansa__Response *r = NULL;
    bool ok = tc_status(t, &r) == HANSA_OK && r->kind_case == HANSA__RESPONSE__KIND_STATUS;
    wire_free(r);
    tc_close(t);
    return ok;
}

/* A node the test believes running has exited: say so with its log, and
 * stop waiting for it (a wait would only end at its deadline). */
static bool died(struct cluster *c, int k)
{
    int status = 0;
    if (!proc_exited(&c->nodes[k], &status))
        return false;
    c->running[k] = false;
    load_node_up(c, k, false);
    fprintf(stderr, "node%d exited unexpectedly (status %d)\n", k, status);
    char log[400];
    snprintf(log, sizeof log, "%s/node%d.log", c->dir, k);
    bool crashed = status > 128;
    cluster_dump_log(c, k, crashed ? 90 : 30); /* a crash report has up to 64 frames */
    if (crashed)
        proc_crash_stack(log, HANSA_BIN_DIR "/hansad", NULL);
    return true;
}

bool cluster_wait_ready(struct cluster *c, int i, uint32_t timeout_ms)
{
    uint64_t deadline = proc_mono_ms() + timeout_ms;
    for (int k = 0; k < c->n; k++) {
        if ((i >= 0 && k != i) || !c->running[k])
            continue;
        while (!answers(c, k))
            if (proc_mono_ms() >= deadline || died(c, k))
                return false;
    }
    return true;
}

uint64_t cluster_height(struct cluster *c, int i)
{
    struct tc *t = cluster_client(c, i, 1000);
    Hansa__Response *r = NULL;
    uint64_t h = 0;
    if (tc_status(t, &r) == HANSA_OK && r->kind_case == HANSA__RESPONSE__KIND_STATUS)
        h = r->status->latest_height;
    wire_free(r);
    tc_close(t);
    return h;
}

bool cluster_wait_height(struct cluster *c, int i, uint64_t height, uint32_t timeout_ms)
{
    uint64_t deadline = proc_mono_ms() + timeout_ms;
    for (;;) {
        bool all = true;
        for (int k = 0; k < c->n; k++) {
            if ((i >= 0 && k != i) || !c->running[k])
                continue;
            if (died(c, k))
                return false;
            if (cluster_height(c, k) < height)
                all = false;
        }
        if (all)
            return true;
        if (proc_mono_ms() >= deadline)
            return false;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL); /* polling interval of the condition, not a wait for time */
    }
}

int cluster_leader(struct cluster *c)
{
    int best = -1;
    uint64_t h = 0;
    for (int k = 0; k < c->n; k++)
        if (c->running[k]) {
            uint64_t hk = cluster_height(c, k);
            if (best < 0 || hk > h) {
                best = k;
                h = hk;
            }
        }
    return best;
}

static void order_tx(struct cluster *c, uint8_t **bytes, size_t *len, uint8_t id[32])
{
    char order_no[32];
    snprintf(order_no, sizeof order_no, "CL-%06d", ++c->seq);
    cr_assert_eq(tc_order_tx(c->chain, "MER-SZ-0001", &c->merchant, order_no, 3000 + c->seq,
                             tc_now_ms(), bytes, len, id),
                 HANSA_OK);
}

static void ack(struct cluster *c, const uint8_t id[32], uint64_t height)
{
    if (c->n_acked == c->cap_acked) {
        c->cap_acked = c->cap_acked ? 2 * c->cap_acked : 256;
        c->acked_ids = realloc(c->acked_ids, c->cap_acked * sizeof *c->acked_ids);
        c->acked_heights = realloc(c->acked_heights, c->cap_acked * sizeof *c->acked_heights);
        cr_assert(c->acked_ids && c->acked_heights);
    }
    memcpy(c->acked_ids[c->n_acked], id, 32);
    c->acked_heights[c->n_acked++] = height;
}

size_t cluster_submit(struct cluster *c, int i, size_t k, uint32_t timeout_ms)
{
    struct tc *t = cluster_client(c, i, timeout_ms + 2000);
    uint8_t(*ids)[32] = calloc(k ? k : 1, 32);
    for (size_t j = 0; j < k; j++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        order_tx(c, &bytes, &len, ids[j]);
        Hansa__Response *r = NULL;
        if (tc_submit(t, bytes, len, &r) != HANSA_OK ||
            r->kind_case != HANSA__RESPONSE__KIND_SUBMIT ||
            r->submit->result != HANSA__RESULT_CODE__RESULT_OK)
            memset(ids[j], 0, 32); /* not admitted: not tracked */
        wire_free(r);
        free(bytes);
    }
    size_t committed = 0;
    for (size_t j = 0; j < k; j++) {
        static const uint8_t zero[32];
        if (memcmp(ids[j], zero, 32) == 0)
            continue;
        Hansa__GetReceipt g = HANSA__GET_RECEIPT__INIT;
        g.tx_id = (ProtobufCBinaryData){32, ids[j]};
        g.wait_ms = timeout_ms < 30000 ? timeout_ms : 30000;
        Hansa__Query q = HANSA__QUERY__INIT;
        q.kind_case = HANSA__QUERY__KIND_RECEIPT;
        q.receipt = &g;
        Hansa__Response *r = NULL;
        if (tc_query(t, c->chain, "MER-SZ-0001", &c->merchant, &q, &r) == HANSA_OK &&
            r->kind_case == HANSA__RESPONSE__KIND_RECEIPT &&
            r->receipt->status == HANSA__TX_STATUS__TX_STATUS_COMMITTED) {
            ack(c, ids[j], r->receipt->receipt->height);
            committed++;
        }
        wire_free(r);
    }
    free(ids);
    tc_close(t);
    return committed;
}

/* ---- a client submitting throughout ------------------------------------ */

/* Request timeout of the load's clients: a paused or just killed node costs
 * the load this much once, then it is left alone for LOAD_BACKOFF_MS. */
#define LOAD_REQUEST_MS 1000u
#define LOAD_BACKOFF_MS 2000u
/* Transactions admitted whose commit the load has not seen yet; at the
 * limit it submits nothing until some resolve. */
#define LOAD_PENDING_MAX 4096u
/* A receipt is first asked for this long after the submit, then again after
 * a quarter of the transaction's age (LOAD_RECHECK_MS at least,
 * LOAD_RECHECK_MAX_MS at most: a halted chain's backlog is not polled
 * hundreds of times a second), for at most LOAD_GIVE_UP_MS (then it is not
 * tracked: a transaction lost with a killed node's mempool, or given to the
 * impostor). */
#define LOAD_FIRST_CHECK_MS 150u
#define LOAD_RECHECK_MS     300u
#define LOAD_RECHECK_MAX_MS 2000u
#define LOAD_GIVE_UP_MS     60000u
/* Receipts are polled every LOAD_POLL_MS, at most LOAD_CHECKS_PER_POLL at a
 * time, so that polling never starves submitting. */
#define LOAD_POLL_MS         100u
#define LOAD_CHECKS_PER_POLL 20u
/* cluster_load_stop collects receipts still due until none is left, none
 * has come for LOAD_DRAIN_IDLE_MS, or LOAD_DRAIN_MS have passed. */
#define LOAD_DRAIN_IDLE_MS 3000u
#define LOAD_DRAIN_MS      20000u

struct load_tx {
    uint8_t id[WIRE_HASH_BYTES];
    int node; /* it was admitted there */
    uint64_t sent_ms, check_ms;
};

/*
 * Shared between the test's thread and the load thread: stop, abandon, up,
 * the counters and failed (atomics; why is written before failed is set).
 * Everything else belongs to the load thread until it is joined. The thread
 * reads c only for what does not change while it runs (n, base_port,
 * chain, merchant) and never asserts: criterion asserts only on the test's
 * thread.
 */
struct cluster_load {
    const struct cluster *c;
    pthread_t thread;
    uint32_t period_us;
    atomic_bool stop, abandon, failed;
    char why[256];
    atomic_uint up; /* bit i: node i is running as far as the test knows */
    atomic_size_t n_submitted, n_admitted, n_acked;
    atomic_size_t in_flight[CLUSTER_NODES_MAX];
    atomic_uint_fast64_t top_height;
    struct tc *tc[CLUSTER_NODES_MAX];
    uint64_t backoff_until_ms[CLUSTER_NODES_MAX];
    int next;
    unsigned seq;
    struct load_tx *pending;
    size_t n_pending;
    uint8_t (*acked_ids)[WIRE_HASH_BYTES];
    uint64_t *acked_heights;
    size_t cap_acked;
};

static void load_node_up(struct cluster *c, int i, bool up)
{
    if (c->load == NULL)
        return;
    if (up)
        atomic_fetch_or(&c->load->up, 1u << i);
    else
        atomic_fetch_and(&c->load->up, ~(1u << i));
}

static void load_fail(struct cluster_load *l, const char *why)
{
    if (!atomic_load(&l->failed)) {
        snprintf(l->why, sizeof l->why, "%s", why);
        atomic_store(&l->failed, true);
    }
    atomic_store(&l->stop, true);
}

static bool load_usable(const struct cluster_load *l, int i, uint64_t now)
{
    return (atomic_load(&l->up) >> i & 1u) && now >= l->backoff_until_ms[i];
}

/* The next usable node after `after`, round-robin; -1 if none. */
static int load_pick(const struct cluster_load *l, int after, uint64_t now)
{
    for (int k = 1; k <= l->c->n; k++) {
        int i = (after + k) % l->c->n;
        if (load_usable(l, i, now))
            return i;
    }
    return -1;
}

static struct tc *load_client(struct cluster_load *l, int i)
{
    if (l->tc[i] == NULL) {
        char url[64];
        snprintf(url, sizeof url, "tcp://127.0.0.1:%d", l->c->base_port + 10 * i + 2);
        if (tc_open(url, NULL, NULL, LOAD_REQUEST_MS, &l->tc[i]) != HANSA_OK)
            l->tc[i] = NULL;
    }
    return l->tc[i];
}

/* Node i did not answer: drop the connection (a fresh one later, so no old
 * request is resent) and leave the node alone for a while. */
static void load_node_failed(struct cluster_load *l, int i)
{
    tc_close(l->tc[i]);
    l->tc[i] = NULL;
    l->backoff_until_ms[i] = proc_mono_ms() + LOAD_BACKOFF_MS;
}

static void load_submit(struct cluster_load *l, uint64_t now)
{
    int i = load_pick(l, l->next, now);
    if (i < 0 || l->n_pending == LOAD_PENDING_MAX)
        return;
    l->next = i;
    struct tc *t = load_client(l, i);
    if (t == NULL) {
        load_node_failed(l, i);
        return;
    }
    char order_no[32];
    snprintf(order_no, sizeof order_no, "LD-%06u", ++l->seq);
    struct load_tx *p = &l->pending[l->n_pending];
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (tc_order_tx(l->c->chain, "MER-SZ-0001", &l->c->merchant, order_no, 5000 + (int64_t)l->seq,
                    tc_now_ms(), &bytes, &len, p->id) != HANSA_OK) {
        load_fail(l, "cannot build a signed order");
        return;
    }
    atomic_fetch_add(&l->n_submitted, 1);
    Hansa__Response *r = NULL;
    hansa_err rv = tc_submit(t, bytes, len, &r);
    free(bytes);
    if (rv != HANSA_OK) {
        load_node_failed(l, i); /* it may have been admitted: not tracked */
    } else if (r->kind_case == HANSA__RESPONSE__KIND_SUBMIT &&
               r->submit->result == HANSA__RESULT_CODE__RESULT_OK) {
        p->node = i;
        p->sent_ms = now;
        p->check_ms = now + LOAD_FIRST_CHECK_MS;
        l->n_pending++;
        atomic_fetch_add(&l->in_flight[i], 1);
        atomic_fetch_add(&l->n_admitted, 1);
    } /* else refused (busy, ...): not tracked */
    wire_free(r);
}

static void load_ack(struct cluster_load *l, const uint8_t id[WIRE_HASH_BYTES], uint64_t height)
{
    size_t n = atomic_load(&l->n_acked);
    if (n == l->cap_acked) {
        size_t cap = l->cap_acked ? 2 * l->cap_acked : 1024;
        void *ids = realloc(l->acked_ids, cap * sizeof *l->acked_ids);
        if (ids != NULL)
            l->acked_ids = ids;
        void *heights = realloc(l->acked_heights, cap * sizeof *l->acked_heights);
        if (heights != NULL)
            l->acked_heights = heights;
        if (ids == NULL || heights == NULL) {
            load_fail(l, "out of memory for acknowledged transactions");
            return;
        }
        l->cap_acked = cap;
    }
    memcpy(l->acked_ids[n], id, WIRE_HASH_BYTES);
    l->acked_heights[n] = height;
    atomic_store(&l->n_acked, n + 1);
    if (height > atomic_load(&l->top_height))
        atomic_store(&l->top_height, height);
}

/* Ask a node about p: the one that admitted it if it is usable, else the
 * next usable one (a node catching up may not know it yet: asked again
 * later). COMMITTED (with *height), another status, or -1 for no answer. */
static int load_receipt(struct cluster_load *l, const struct load_tx *p, uint64_t now,
                        uint64_t *height)
{
    int i = load_usable(l, p->node, now) ? p->node : load_pick(l, p->node, now);
    if (i < 0)
        return -1;
    struct tc *t = load_client(l, i);
    if (t == NULL) {
        load_node_failed(l, i);
        return -1;
    }
    Hansa__GetReceipt g = HANSA__GET_RECEIPT__INIT;
    g.tx_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)(uintptr_t)p->id};
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_RECEIPT;
    q.receipt = &g;
    Hansa__Response *r = NULL;
    int status = -1;
    if (tc_query(t, l->c->chain, "MER-SZ-0001", &l->c->merchant, &q, &r) != HANSA_OK) {
        load_node_failed(l, i);
    } else if (r->kind_case == HANSA__RESPONSE__KIND_RECEIPT) {
        status = (int)r->receipt->status;
        if (status == HANSA__TX_STATUS__TX_STATUS_COMMITTED)
            *height = r->receipt->receipt->height;
    }
    wire_free(r);
    return status;
}

/* Poll the receipts that are due, oldest first. */
static void load_poll(struct cluster_load *l)
{
    unsigned budget = LOAD_CHECKS_PER_POLL;
    size_t k = 0;
    while (k < l->n_pending && budget > 0 && !atomic_load(&l->abandon)) {
        struct load_tx *p = &l->pending[k];
        uint64_t now = proc_mono_ms();
        if (p->check_ms > now) {
            k++;
            continue;
        }
        budget--;
        uint64_t height = 0;
        int status = load_receipt(l, p, now, &height);
        bool done = status == HANSA__TX_STATUS__TX_STATUS_COMMITTED;
        if (done)
            load_ack(l, p->id, height);
        if (done || now - p->sent_ms > LOAD_GIVE_UP_MS) {
            atomic_fetch_sub(&l->in_flight[p->node], 1);
            memmove(p, p + 1, (l->n_pending - k - 1) * sizeof *p);
            l->n_pending--;
        } else {
            uint64_t wait_ms = (now - p->sent_ms) / 4;
            wait_ms = wait_ms < LOAD_RECHECK_MS       ? LOAD_RECHECK_MS
                      : wait_ms > LOAD_RECHECK_MAX_MS ? LOAD_RECHECK_MAX_MS
                                                      : wait_ms;
            p->check_ms = now + wait_ms;
            k++;
        }
    }
}

static void load_sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* pacing of the load, not a wait for a condition */
}

static void *load_main(void *arg)
{
    struct cluster_load *l = arg;
    uint64_t next_submit_us = proc_mono_ms() * 1000u, next_poll_ms = proc_mono_ms();
    while (!atomic_load(&l->stop)) {
        uint64_t now = proc_mono_ms();
        if (now * 1000u >= next_submit_us) {
            load_submit(l, now);
            next_submit_us += l->period_us;
            if (next_submit_us + 1000000u < now * 1000u)
                next_submit_us = now * 1000u; /* fell behind (a node timed out): no burst */
        }
        if (now >= next_poll_ms) {
            load_poll(l);
            next_poll_ms = proc_mono_ms() + LOAD_POLL_MS;
        }
        now = proc_mono_ms();
        uint64_t wake =
            next_submit_us / 1000u < next_poll_ms ? next_submit_us / 1000u : next_poll_ms;
        if (wake > now)
            load_sleep_ms(wake - now < 10 ? wake - now : 10);
    }
    uint64_t start = proc_mono_ms(), progress = start;
    while (!atomic_load(&l->abandon) && l->n_pending > 0) {
        uint64_t now = proc_mono_ms();
        if (now - start > LOAD_DRAIN_MS || now - progress > LOAD_DRAIN_IDLE_MS)
            break;
        size_t before = atomic_load(&l->n_acked);
        load_poll(l);
        if (atomic_load(&l->n_acked) > before)
            progress = proc_mono_ms();
        load_sleep_ms(LOAD_POLL_MS);
    }
    for (int i = 0; i < CLUSTER_NODES_MAX; i++)
        tc_close(l->tc[i]);
    return NULL;
}

void cluster_load_start(struct cluster *c, uint32_t rate_per_s)
{
    cr_assert_null(c->load, "a load is already running");
    cr_assert(rate_per_s > 0 && rate_per_s <= 1000);
    struct cluster_load *l = calloc(1, sizeof *l);
    cr_assert_not_null(l);
    l->pending = calloc(LOAD_PENDING_MAX, sizeof *l->pending);
    cr_assert_not_null(l->pending);
    l->c = c;
    l->period_us = 1000000u / rate_per_s;
    l->next = -1;
    unsigned up = 0;
    for (int i = 0; i < c->n; i++)
        if (c->running[i])
            up |= 1u << i;
    atomic_store(&l->up, up);
    c->load = l;
    cr_assert_eq(pthread_create(&l->thread, NULL, load_main, l), 0);
}

static void load_free(struct cluster_load *l)
{
    free(l->pending);
    free(l->acked_ids);
    free(l->acked_heights);
    free(l);
}

/* For cluster_fini (a failed test included): end the thread now. */
static void load_abandon(struct cluster *c)
{
    struct cluster_load *l = c->load;
    if (l == NULL)
        return;
    atomic_store(&l->abandon, true);
    atomic_store(&l->stop, true);
    pthread_join(l->thread, NULL);
    c->load = NULL;
    load_free(l);
}

void cluster_load_stop(struct cluster *c, size_t *acked)
{
    struct cluster_load *l = c->load;
    if (l == NULL)
        return;
    atomic_store(&l->stop, true);
    pthread_join(l->thread, NULL);
    c->load = NULL;
    size_t n = atomic_load(&l->n_acked);
    fprintf(stderr,
            "load: %zu submitted, %zu admitted, %zu seen committed, %zu unresolved at the end\n",
            atomic_load(&l->n_submitted), atomic_load(&l->n_admitted), n, l->n_pending);
    bool failed = atomic_load(&l->failed);
    char why[sizeof l->why];
    snprintf(why, sizeof why, "%s", l->why);
    for (size_t k = 0; k < n && !failed; k++)
        ack(c, l->acked_ids[k], l->acked_heights[k]);
    load_free(l);
    cr_assert(!failed, "the load failed: %s", why);
    if (acked != NULL)
        *acked = n;
}

size_t cluster_load_acked(struct cluster *c)
{
    return c->load ? atomic_load(&c->load->n_acked) : 0;
}

size_t cluster_load_admitted(struct cluster *c)
{
    return c->load ? atomic_load(&c->load->n_admitted) : 0;
}

size_t cluster_load_in_flight(struct cluster *c, int i)
{
    cr_assert(i >= 0 && i < c->n);
    return c->load ? atomic_load(&c->load->in_flight[i]) : 0;
}

uint64_t cluster_load_top_height(struct cluster *c)
{
    return c->load ? (uint64_t)atomic_load(&c->load->top_height) : 0;
}

enum load_goal { LOAD_ACKED, LOAD_ADMITTED, LOAD_IN_FLIGHT };

static bool load_wait(struct cluster *c, enum load_goal goal, size_t n, int node,
                      uint32_t timeout_ms)
{
    cr_assert_not_null(c->load, "no load is running");
    uint64_t deadline = proc_mono_ms() + timeout_ms;
    for (;;) {
        struct cluster_load *l = c->load;
        size_t have = goal == LOAD_ACKED      ? atomic_load(&l->n_acked)
                      : goal == LOAD_ADMITTED ? atomic_load(&l->n_admitted)
                                              : atomic_load(&l->in_flight[node]);
        if (have >= n)
            return true;
        if (atomic_load(&l->failed))
            return false;
        for (int k = 0; k < c->n; k++)
            if (c->running[k] && died(c, k))
                return false;
        if (proc_mono_ms() >= deadline)
            return false;
        load_sleep_ms(20); /* polling interval of the condition */
    }
}

bool cluster_load_wait_acked(struct cluster *c, size_t n, uint32_t timeout_ms)
{
    return load_wait(c, LOAD_ACKED, n, 0, timeout_ms);
}

bool cluster_load_wait_admitted(struct cluster *c, size_t n, uint32_t timeout_ms)
{
    return load_wait(c, LOAD_ADMITTED, n, 0, timeout_ms);
}

bool cluster_load_wait_in_flight(struct cluster *c, int i, uint32_t timeout_ms)
{
    cr_assert(i >= 0 && i < c->n);
    return load_wait(c, LOAD_IN_FLIGHT, 1, i, timeout_ms);
}

/* ---- the end-of-test check -------------------------------------------- */

static void hex8(const uint8_t *b, char out[17])
{
    for (int k = 0; k < 8; k++)
        snprintf(out + 2 * k, 3, "%02x", b[k]);
}

/* Wait until every running node of the mask reports the same height;
 * fail with every node's height and log otherwise. */
static uint64_t agreed_height(struct cluster *c, unsigned mask, uint32_t timeout_ms)
{
    uint64_t deadline = proc_mono_ms() + timeout_ms;
    uint64_t h[CLUSTER_NODES_MAX] = {0};
    for (;;) {
        bool any = false, same = true;
        uint64_t first = 0;
        for (int i = 0; i < c->n; i++) {
            if (!(mask >> i & 1u) || !c->running[i])
                continue;
            cr_assert(!died(c, i), "node%d died before the end-of-test check", i);
            h[i] = cluster_height(c, i);
            if (!any)
                first = h[i];
            same = same && h[i] == first;
            any = true;
        }
        if (!any || (same && first > 0))
            return first;
        if (proc_mono_ms() >= deadline)
            break;
        load_sleep_ms(50); /* polling interval of the condition */
    }
    for (int i = 0; i < c->n; i++)
        if ((mask >> i & 1u) && c->running[i]) {
            fprintf(stderr, "node%d at height %" PRIu64 "\n", i, h[i]);
            cluster_dump_log(c, i, 30);
        }
    cr_assert_fail("the validators did not settle at one height within %u ms", timeout_ms);
    return 0;
}

/* A transaction of a block: its id and the height. */
struct tx_at {
    uint8_t id[WIRE_HASH_BYTES];
    uint64_t height;
};

static int tx_at_cmp(const void *a, const void *b)
{
    return memcmp(((const struct tx_at *)a)->id, ((const struct tx_at *)b)->id, WIRE_HASH_BYTES);
}

struct node_view {
    struct store *s;
    uint64_t top;
    struct tx_at *txs;
    size_t n_txs, cap_txs;
};

static void disagree(struct cluster *c, int a, int b, uint64_t h, const char *what)
{
    cluster_dump_log(c, a, 30);
    cluster_dump_log(c, b, 30);
    cr_assert_fail("node%d and node%d differ at height %" PRIu64 ": %s", a, b, h, what);
}

/* Decode node i's block h; check its own hash; collect its tx ids. */
static Hansa__StoredBlock *view_block(struct cluster *c, struct node_view *v, int i, uint64_t h)
{
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = store_get_block(v->s, h, &val, &len);
    if (rv != HANSA_OK) {
        cluster_dump_log(c, i, 30);
        cr_assert_fail("node%d: no block %" PRIu64 " below its height %" PRIu64 " (%s)", i, h,
                       v->top, hansa_strerror(rv));
    }
    Hansa__StoredBlock *sb = NULL;
    rv = wire_decode(&hansa__stored_block__descriptor, val, len, 1u << 30, WIRE_LENIENT,
                     (ProtobufCMessage **)&sb);
    free(val);
    cr_assert_eq(rv, HANSA_OK, "node%d: block %" PRIu64 " does not decode", i, h);
    cr_assert(sb->block && sb->results && sb->results->block_hash.len == WIRE_HASH_BYTES &&
                  sb->results->state_root.len == WIRE_HASH_BYTES,
              "node%d: block %" PRIu64 " is incomplete", i, h);
    uint8_t hash[WIRE_HASH_BYTES];
    wire_block_hash(sb->block->header.data, sb->block->header.len, hash);
    cr_assert_arr_eq(hash, sb->results->block_hash.data, WIRE_HASH_BYTES,
                     "node%d: block %" PRIu64 " is not the block its results name", i, h);
    if (v->n_txs + sb->block->n_txs > v->cap_txs) {
        v->cap_txs = 2 * (v->n_txs + sb->block->n_txs) + 1024;
        v->txs = realloc(v->txs, v->cap_txs * sizeof *v->txs);
        cr_assert_not_null(v->txs);
    }
    for (size_t k = 0; k < sb->block->n_txs; k++) {
        struct tx_at *t = &v->txs[v->n_txs++];
        wire_tx_id(sb->block->txs[k].data, sb->block->txs[k].len, t->id);
        t->height = h;
    }
    return sb;
}

/* Rule 4 of the check: blocks and state roots. */
static void check_blocks(struct cluster *c, unsigned mask, struct node_view *v)
{
    uint64_t max_top = 0;
    for (int i = 0; i < c->n; i++)
        if ((mask >> i & 1u) && v[i].top > max_top)
            max_top = v[i].top;
    for (uint64_t h = 1; h <= max_top; h++) {
        Hansa__StoredBlock *ref = NULL;
        int ref_node = -1;
        for (int i = 0; i < c->n; i++) {
            if (!(mask >> i & 1u) || v[i].top < h)
                continue;
            Hansa__StoredBlock *sb = view_block(c, &v[i], i, h);
            if (ref == NULL) {
                ref = sb;
                ref_node = i;
                continue;
            }
            if (memcmp(sb->results->block_hash.data, ref->results->block_hash.data,
                       WIRE_HASH_BYTES) != 0)
                disagree(c, ref_node, i, h, "block hash");
            if (memcmp(sb->results->state_root.data, ref->results->state_root.data,
                       WIRE_HASH_BYTES) != 0)
                disagree(c, ref_node, i, h, "state root after the block");
            wire_free(sb);
        }
        for (int i = 0; i < c->n; i++)
            if ((mask >> i & 1u) && v[i].top == h && h > 0) {
                /* The store's state root is its top block's. */
                uint8_t root[WIRE_HASH_BYTES];
                store_state_root(v[i].s, root);
                cr_assert_arr_eq(root, ref->results->state_root.data, WIRE_HASH_BYTES,
                                 "node%d: its state root is not that of its block %" PRIu64, i, h);
            }
        wire_free(ref);
    }
}

/* Rule 5: no tx id twice; every acknowledged one once, where acknowledged. */
static void check_txs(struct cluster *c, unsigned mask, struct node_view *v)
{
    char hex[17];
    for (int i = 0; i < c->n; i++) {
        if (!(mask >> i & 1u))
            continue;
        qsort(v[i].txs, v[i].n_txs, sizeof *v[i].txs, tx_at_cmp);
        for (size_t k = 1; k < v[i].n_txs; k++)
            if (tx_at_cmp(&v[i].txs[k - 1], &v[i].txs[k]) == 0) {
                hex8(v[i].txs[k].id, hex);
                cr_assert_fail("node%d: tx %s... committed twice, at heights %" PRIu64
                               " and %" PRIu64,
                               i, hex, v[i].txs[k - 1].height, v[i].txs[k].height);
            }
    }
    for (size_t k = 0; k < c->n_acked; k++) {
        hex8(c->acked_ids[k], hex);
        struct tx_at key;
        memcpy(key.id, c->acked_ids[k], WIRE_HASH_BYTES);
        for (int i = 0; i < c->n; i++) {
            if (!(mask >> i & 1u) || v[i].top < c->acked_heights[k])
                continue;
            const struct tx_at *t =
                bsearch(&key, v[i].txs, v[i].n_txs, sizeof *v[i].txs, tx_at_cmp);
            cr_assert_not_null(t,
                               "node%d: acknowledged tx %s... (height %" PRIu64 ") is in no block",
                               i, hex, c->acked_heights[k]);
            cr_assert_eq(t->height, c->acked_heights[k],
                         "node%d: acknowledged tx %s... is at height %" PRIu64
                         ", its receipt said %" PRIu64,
                         i, hex, t->height, c->acked_heights[k]);
            uint64_t h = 0;
            uint32_t idx = 0;
            cr_assert_eq(store_tx_location(v[i].s, key.id, &h, &idx), HANSA_OK,
                         "node%d: acknowledged tx %s... is not in its tx index", i, hex);
            cr_assert_eq(h, t->height, "node%d: tx index and blocks disagree on tx %s...", i, hex);
        }
    }
}

/* SIGTERM to all of them at once, then a clean exit of each: stopped one
 * after the other, the first would miss the blocks the rest still commit
 * (a heartbeat chain never stands still). */
static void stop_together(struct cluster *c, const bool which[])
{
    for (int i = 0; i < c->n; i++)
        if (which[i]) {
            proc_signal(&c->nodes[i], SIGCONT); /* in case it was paused */
            proc_signal(&c->nodes[i], SIGTERM);
        }
    for (int i = 0; i < c->n; i++)
        if (which[i]) {
            int rv = proc_wait(&c->nodes[i], 30000);
            c->running[i] = false;
            if (rv != 0) {
                cluster_dump_log(c, i, 40);
                if (rv < 0) {
                    proc_signal(&c->nodes[i], SIGKILL);
                    proc_wait(&c->nodes[i], 10000);
                }
            }
            cr_assert_eq(rv, 0, "node%d did not stop cleanly (status %d)", i, rv);
        }
}

void cluster_check_agreement_of(struct cluster *c, unsigned nodes_mask)
{
    unsigned mask = nodes_mask & ((1u << c->n) - 1u);
    cr_assert(mask != 0);
    cluster_load_stop(c, NULL);
    uint64_t agreed = agreed_height(c, mask, 60000);
    bool was_running[CLUSTER_NODES_MAX] = {false};
    for (int i = 0; i < c->n; i++)
        was_running[i] = (mask >> i & 1u) && c->running[i];
    stop_together(c, was_running);
    struct node_view v[CLUSTER_NODES_MAX];
    memset(v, 0, sizeof v);
    for (int i = 0; i < c->n; i++) {
        if (!(mask >> i & 1u))
            continue;
        char data[400], why[256];
        snprintf(data, sizeof data, "%s/node%d/data", c->net, i);
        cr_assert_eq(store_open_readonly(data, &v[i].s, why, sizeof why), HANSA_OK, "node%d: %s", i,
                     why);
        v[i].top = store_height(v[i].s);
        cr_assert_gt(v[i].top, 0, "node%d committed nothing", i);
        cr_assert(!was_running[i] || v[i].top >= agreed,
                  "node%d reported height %" PRIu64 " but its store holds %" PRIu64, i, agreed,
                  v[i].top);
    }
    check_blocks(c, mask, v);
    check_txs(c, mask, v);
    fprintf(stderr,
            "agreement: height %" PRIu64 " on every running validator, %zu acknowledged "
            "transactions each committed once\n",
            agreed, c->n_acked);
    for (int i = 0; i < c->n; i++) {
        store_close(v[i].s);
        free(v[i].txs);
    }
}

void cluster_check_agreement(struct cluster *c)
{
    cluster_check_agreement_of(c, (1u << c->n) - 1u);
}
