/*
 * Bounded closing (clients/sdk/src/closer.c): a job that finishes is
 * waited for; one that hangs is left running after the wait and can still
 * finish later without touching freed memory (the sanitizer tier runs
 * this); sockets are really closed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <criterion/criterion.h>

#include "closer.h"

#include <nng/protocol/reqrep0/req.h>

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void count(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

Test(closer, a_job_that_finishes_is_waited_for)
{
    atomic_int ran = 0;
    cr_assert(sdk_run_bounded(count, &ran, 10000));
    cr_assert_eq(atomic_load(&ran), 1);
}

/* Blocks until released, like an nng_close that deadlocked. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open, passed;
};

static void wait_at_gate(void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    g->passed = true;
    pthread_mutex_unlock(&g->mu);
}

Test(closer, a_job_that_hangs_is_left_behind_after_the_wait_and_may_finish_later)
{
    static struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
    uint64_t t0 = mono_ms();
    cr_assert_not(sdk_run_bounded(wait_at_gate, &g, 200), "a blocked job reported finished");
    uint64_t waited = mono_ms() - t0;
    cr_assert_geq(waited, 200, "gave up after %llu ms, before the wait",
                  (unsigned long long)waited);
    cr_assert_lt(waited, 10000, "the caller was held %llu ms", (unsigned long long)waited);

    /* The job finishes after its caller gave up: its thread cleans up. */
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    uint64_t deadline = mono_ms() + 10000;
    bool passed = false;
    while (!passed && mono_ms() < deadline) {
        pthread_mutex_lock(&g.mu);
        passed = g.passed;
        pthread_mutex_unlock(&g.mu);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    cr_assert(passed, "the released job never finished");
}

Test(closer, sockets_are_closed)
{
    nng_socket socks[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(nng_req0_open(&socks[i]), 0);
    cr_assert(sdk_close_sockets(socks, 3, 10000));
    for (int i = 0; i < 3; i++)
        cr_assert_eq(nng_send(socks[i], "x", 1, NNG_FLAG_NONBLOCK), NNG_ECLOSED,
                     "socket %d is still open", i);
}
