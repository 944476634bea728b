/*
 * Bounded closing of nng sockets (closer.h).
 *
 * A job is shared by the caller and the thread that runs it; whichever of
 * the two lets go of it last frees it, so a caller that gave up and
 * returned leaves nothing dangling for a thread that finishes later.
 */
#include "closer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct job {
    void (*fn)(void *);
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    bool done;
    int refs; /* the caller and the thread */
};

static void job_release(struct job *j)
{
    pthread_mutex_lock(&j->mu);
    bool last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (last) {
        pthread_cond_destroy(&j->cv);
        pthread_mutex_destroy(&j->mu);
        free(j);
    }
}

static void *job_main(void *arg)
{
    struct job *j = arg;
    j->fn(j->arg);
    pthread_mutex_lock(&j->mu);
    j->done = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    job_release(j);
    return NULL;
}

bool sdk_run_bounded(void (*fn)(void *), void *arg, uint32_t wait_ms)
{
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        fn(arg);
        return true;
    }
    j->fn = fn;
    j->arg = arg;
    j->refs = 2;
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t th;
    pthread_attr_t ta;
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    bool started = pthread_create(&th, &ta, job_main, j) == 0;
    pthread_attr_destroy(&ta);
    if (!started) {
        j->refs = 1;
        job_main(j); /* no thread to spare: run it here */
        return true;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)wait_ms * 1000000u;
    until.tv_sec += (time_t)(ns / 1000000000u);
    until.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&j->mu);
    while (!j->done && pthread_cond_timedwait(&j->cv, &j->mu, &until) == 0)
        ;
    bool done = j->done;
    pthread_mutex_unlock(&j->mu);
    job_release(j);
    return done;
}

struct socket_list {
    int n;
    nng_socket socks[];
};

static void close_all(void *arg)
{
    struct socket_list *l = arg;
    for (int i = 0; i < l->n; i++)
        nng_close(l->socks[i]);
}

bool sdk_close_sockets(const nng_socket *socks, int n, uint32_t wait_ms)
{
    struct socket_list *l = malloc(sizeof *l + (size_t)n * sizeof *socks);
    if (l == NULL) { /* closing inline is all that is left */
        for (int i = 0; i < n; i++)
            nng_close(socks[i]);
        return true;
    }
    l->n = n;
    memcpy(l->socks, socks, (size_t)n * sizeof *socks);
    if (!sdk_run_bounded(close_all, l, wait_ms))
        return false; /* l stays with the hung close */
    free(l);
    return true;
}
