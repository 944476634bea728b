/* See memtrim.h. */
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "hansa/assert.h"
#include "log.h"
#include "memtrim.h"

struct memtrim {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    bool wanted;       /* a kick since the last trim */
    bool stop;
    uint64_t interval_ms;
    uint64_t count;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void memtrim_configure(void)
{
    /* A failure leaves glibc's default, which only costs memory. */
    if (mallopt(M_ARENA_MAX, MEMTRIM_ARENAS_MAX) != 1)
        log_warn("MEM-ARENAS", "cannot cap malloc arenas at %d", MEMTRIM_ARENAS_MAX);
}

/* Wait until deadline_ms (monotonic) or stop; the lock is held. */
static void wait_until(struct memtrim *m, uint64_t deadline_ms)
{
    while (!m->stop) {
        uint64_t now = mono_ms();
        if (now >= deadline_ms)
            return;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t left_ms = deadline_ms - now;
        ts.tv_sec += (time_t)(left_ms / 1000u);
        ts.tv_nsec += (long)(left_ms % 1000u) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&m->cv, &m->mu, &ts);
    }
}

static void *run(void *arg)
{
    struct memtrim *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        while (!m->wanted && !m->stop)
            pthread_cond_wait(&m->cv, &m->mu);
        if (m->stop)
            break;
        m->wanted = false;
        pthread_mutex_unlock(&m->mu);
        uint64_t t0 = mono_ms();
        malloc_trim(0);
        uint64_t t1 = mono_ms();
        log_debug("MEM-TRIM", "returned free heap memory in %" PRIu64 " ms", t1 - t0);
        pthread_mutex_lock(&m->mu);
        m->count++;
        pthread_cond_broadcast(&m->cv);
        wait_until(m, t1 + m->interval_ms);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

hansa_err memtrim_open(uint64_t interval_ms, struct memtrim **out)
{
    HANSA_ASSERT(out != NULL);
    struct memtrim *m = calloc(1, sizeof *m);
    if (m == NULL)
        return HANSA_ENOMEM;
    m->interval_ms = interval_ms;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&m->mu, NULL);
    if (pthread_create(&m->thread, NULL, run, m) != 0) {
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
        free(m);
        return HANSA_ENOMEM;
    }
    *out = m;
    return HANSA_OK;
}

void memtrim_kick(struct memtrim *m)
{
    pthread_mutex_lock(&m->mu);
    m->wanted = true;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

uint64_t memtrim_count(struct memtrim *m)
{
    pthread_mutex_lock(&m->mu);
    uint64_t n = m->count;
    pthread_mutex_unlock(&m->mu);
    return n;
}

void memtrim_close(struct memtrim *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
}
