/*
 * Asynchronous submits on one handle (hansa_submit_async) against a live
 * hansad:
 *   - four threads submit 25 orders each on one client; every callback
 *     runs once, with the order committed OK, on an SDK thread;
 *   - with the node gone, HANSA_ASYNC_MAX submits stay in flight, the next
 *     one fails at once with NODE / ERROR_BUSY, and closing the client
 *     finishes every one of them with HANSA_CODE_CLOSED.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "sdk_fixture.h"

#define THREADS       4
#define PER_THREAD    25
#define TOTAL_SUBMITS (THREADS * PER_THREAD)

static struct sdk_net n;

static void setup(void)
{
    sdk_net_init(&n, "hansa-sdk-async", false, NULL);
    sdk_net_start(&n);
}

static void teardown(void)
{
    sdk_net_fini(&n);
}

TestSuite(async, .init = setup, .fini = teardown, .timeout = 600);

struct tally {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int done, ok, closed, committed;
    bool on_submitter; /* a callback ran on a submitting thread */
    int codes[HANSA_CODE_CLOSED + 1];
    uint8_t ids[HANSA_ASYNC_MAX + TOTAL_SUBMITS][32];
    pthread_t submitters[THREADS];
    char last_error[HANSA_MESSAGE_MAX + 64];
};

static struct tally tally = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void on_done(void *arg, hansa_code code, const hansa_receipt *r, const hansa_error *err)
{
    (void)arg;
    pthread_mutex_lock(&tally.mu);
    for (int i = 0; i < THREADS; i++) /* no assertions here: not the test's thread */
        tally.on_submitter |= pthread_equal(pthread_self(), tally.submitters[i]) != 0;
    if (code >= 0 && code <= HANSA_CODE_CLOSED)
        tally.codes[code]++;
    if (code == HANSA_CODE_OK)
        tally.ok++;
    if (code == HANSA_CODE_CLOSED)
        tally.closed++;
    if (code != HANSA_CODE_OK && code != HANSA_CODE_CLOSED)
        snprintf(tally.last_error, sizeof tally.last_error, "%s: %s", hansa_code_name(code),
                 err->message);
    if (r->committed && r->result == HANSA__RESULT_CODE__RESULT_OK)
        memcpy(tally.ids[tally.committed++], r->tx_id, 32);
    tally.done++;
    pthread_cond_broadcast(&tally.cond);
    pthread_mutex_unlock(&tally.mu);
}

static bool wait_done(int count, uint32_t timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    pthread_mutex_lock(&tally.mu);
    int rv = 0;
    while (tally.done < count && rv == 0)
        rv = pthread_cond_timedwait(&tally.cond, &tally.mu, &ts);
    bool ok = tally.done >= count;
    pthread_mutex_unlock(&tally.mu);
    return ok;
}

struct submitter {
    int index;
    hansa_client *c;
    struct sdk_net *n;
};

static void *submit_orders(void *p)
{
    struct submitter *s = p;
    for (int k = 0; k < PER_THREAD; k++) {
        char no[32];
        snprintf(no, sizeof no, "AS-%d-%02d", s->index, k);
        struct sdk_trade t;
        sdk_trade_init(s->n, &t, no, 1000 + k);
        hansa_error err;
        hansa_code code = hansa_submit_async(s->c, HANSA__TX_BODY__ACTION_CREATE_ORDER, &t.order,
                                             NULL, on_done, NULL, &err);
        cr_assert_eq(code, HANSA_CODE_OK, "%s", err.message);
    }
    return NULL;
}

Test(async, submits_from_several_threads_on_one_handle_all_commit)
{
    hansa_client *c = sdk_client(&n, "MER-SZ-0001");
    struct submitter subs[THREADS];
    pthread_mutex_lock(&tally.mu);
    for (int i = 0; i < THREADS; i++) {
        subs[i] = (struct submitter){i, c, &n};
        cr_assert_eq(pthread_create(&tally.submitters[i], NULL, submit_orders, &subs[i]), 0);
    }
    pthread_mutex_unlock(&tally.mu);
    for (int i = 0; i < THREADS; i++)
        pthread_join(tally.submitters[i], NULL);
    cr_assert(wait_done(TOTAL_SUBMITS, 300000), "only %d of %d callbacks ran", tally.done,
              TOTAL_SUBMITS);
    cr_assert_eq(tally.ok, TOTAL_SUBMITS, "%d committed OK; last failure %s", tally.ok,
                 tally.last_error);
    cr_assert_eq(tally.committed, TOTAL_SUBMITS);
    cr_assert(!tally.on_submitter, "a callback ran on a submitting thread");
    for (int i = 0; i < TOTAL_SUBMITS; i++)
        for (int j = i + 1; j < TOTAL_SUBMITS; j++)
            cr_assert_arr_neq(tally.ids[i], tally.ids[j], 32, "two callbacks for one tx");
    /* Every order is in the ledger. */
    Hansa__Order *o = NULL;
    hansa_error err;
    cr_assert_eq(hansa_order_get(c, "MER-SZ-0001", "AS-3-24", &o, &err), HANSA_CODE_OK, "%s",
                 err.message);
    hansa_free(o);
    hansa_client_close(c);
    cr_assert_eq(tally.done, TOTAL_SUBMITS, "a callback ran twice");
}

Test(async, beyond_the_in_flight_limit_is_busy_and_close_finishes_each_with_closed)
{
    char key[400];
    snprintf(key, sizeof key, "%s/parties/MER-SZ-0001.key", n.c.net);
    hansa_client_options opt = {.url = n.tcp_url, .key_path = key, .timeout_ms = 60000};
    hansa_client *c = NULL;
    hansa_error err;
    cr_assert_eq(hansa_client_open(&opt, &c, &err), HANSA_CODE_OK);
    Hansa__NodeStatus *st = NULL;
    cr_assert_eq(hansa_status(c, &st, &err), HANSA_CODE_OK, "connected, chain id known");
    hansa_free(st);
    cluster_kill(&n.c, 0); /* nothing will be admitted or committed now */
    for (int k = 0; k < HANSA_ASYNC_MAX; k++) {
        char no[32];
        snprintf(no, sizeof no, "BUSY-%03d", k);
        struct sdk_trade t;
        sdk_trade_init(&n, &t, no, 100);
        cr_assert_eq(hansa_submit_async(c, HANSA__TX_BODY__ACTION_CREATE_ORDER, &t.order, NULL,
                                        on_done, NULL, &err),
                     HANSA_CODE_OK, "submit %d: %s", k, err.message);
    }
    struct sdk_trade t;
    sdk_trade_init(&n, &t, "BUSY-MORE", 100);
    cr_assert_eq(hansa_submit_async(c, HANSA__TX_BODY__ACTION_CREATE_ORDER, &t.order, NULL, on_done,
                                    NULL, &err),
                 HANSA_CODE_NODE);
    cr_assert_eq(err.node_error, HANSA__ERROR_CODE__ERROR_BUSY);
    cr_assert_eq(tally.done, 0, "a submit finished while the node is gone");
    hansa_client_close(c);
    cr_assert_eq(tally.done, HANSA_ASYNC_MAX, "%d callbacks after close", tally.done);
    cr_assert_eq(tally.closed, HANSA_ASYNC_MAX, "%d closed; last failure %s", tally.closed,
                 tally.last_error);
}
