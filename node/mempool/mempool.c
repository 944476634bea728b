/*
 * A FIFO ring of pointers plus an open-addressing set of tx ids for
 * deduplication. Ids are SHA-256 outputs, so their first 8 bytes are a
 * uniform hash that nobody can steer without finding SHA-256 preimages.
 * The set uses tombstones and is rebuilt when they accumulate.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hansa/assert.h"
#include "mempool.h"

struct mempool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct mempool_tx **ring;
    size_t cap, head, count, bytes, max_bytes;
    /* id set: slots hold pointers into pooled and in-flight txs; TOMB marks
     * a removal */
    const uint8_t **set;
    size_t set_cap, set_used; /* used counts live + tombstones */
    /* Taken for a block but not yet committed: still "pending" for
     * deduplication until mempool_forget. At most max_txs. */
    struct mempool_tx **flight;
    size_t n_flight;
    bool woken;
};

static const uint8_t tomb_marker[1];
#define TOMB ((const uint8_t *)tomb_marker)

static uint64_t id_hash(const uint8_t *id)
{
    uint64_t h;
    memcpy(&h, id, sizeof h);
    return h;
}

hansa_err mempool_open(size_t max_txs, size_t max_bytes, struct mempool **out)
{
    HANSA_ASSERT(max_txs > 0 && max_bytes > 0);
    struct mempool *mp = calloc(1, sizeof *mp);
    if (mp == NULL)
        return HANSA_ENOMEM;
    mp->cap = max_txs;
    mp->max_bytes = max_bytes;
    /* Pooled plus in-flight ids are at most 2 x max_txs: a table of at least
     * 4 x max_txs stays at most half full of live ids. */
    mp->set_cap = 16;
    while (mp->set_cap < max_txs * 4)
        mp->set_cap *= 2;
    mp->ring = calloc(mp->cap, sizeof *mp->ring);
    mp->set = calloc(mp->set_cap, sizeof *mp->set);
    mp->flight = calloc(mp->cap, sizeof *mp->flight);
    if (mp->ring == NULL || mp->set == NULL || mp->flight == NULL) {
        free(mp->ring);
        free(mp->set);
        free(mp->flight);
        free(mp);
        return HANSA_ENOMEM;
    }
    pthread_mutex_init(&mp->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&mp->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = mp;
    return HANSA_OK;
}

void mempool_tx_free(struct mempool_tx *tx)
{
    if (tx == NULL)
        return;
    wire_tx_close(&tx->tx);
    free(tx->bytes);
    free(tx);
}

void mempool_close(struct mempool *mp)
{
    if (mp == NULL)
        return;
    for (size_t i = 0; i < mp->count; i++)
        mempool_tx_free(mp->ring[(mp->head + i) % mp->cap]);
    free(mp->ring);
    free(mp->set);
    free(mp->flight);
    pthread_cond_destroy(&mp->cv);
    pthread_mutex_destroy(&mp->mu);
    free(mp);
}

/* Slot of id, or the first free slot for it (tombstones reused). */
static size_t set_find(const struct mempool *mp, const uint8_t *id, bool *found)
{
    size_t mask = mp->set_cap - 1, first_tomb = SIZE_MAX;
    for (size_t i = id_hash(id) & mask;; i = (i + 1) & mask) {
        const uint8_t *s = mp->set[i];
        if (s == NULL) {
            *found = false;
            return first_tomb != SIZE_MAX ? first_tomb : i;
        }
        if (s == TOMB) {
            if (first_tomb == SIZE_MAX)
                first_tomb = i;
        } else if (memcmp(s, id, WIRE_HASH_BYTES) == 0) {
            *found = true;
            return i;
        }
    }
}

static void set_insert(struct mempool *mp, const uint8_t *id)
{
    bool found;
    size_t s = set_find(mp, id, &found);
    HANSA_ASSERT(!found);
    mp->set[s] = id;
    mp->set_used++;
}

/* Rebuild without tombstones: the pooled and the in-flight ids. */
static void set_rebuild(struct mempool *mp)
{
    memset(mp->set, 0, mp->set_cap * sizeof *mp->set);
    mp->set_used = 0;
    for (size_t i = 0; i < mp->count; i++)
        set_insert(mp, mp->ring[(mp->head + i) % mp->cap]->tx.id);
    for (size_t i = 0; i < mp->n_flight; i++)
        set_insert(mp, mp->flight[i]->tx.id);
}

hansa_err mempool_add(struct mempool *mp, struct mempool_tx *tx)
{
    pthread_mutex_lock(&mp->mu);
    hansa_err rv = HANSA_OK;
    bool found;
    size_t s = set_find(mp, tx->tx.id, &found);
    if (found)
        rv = HANSA_EEXIST;
    else if (mp->count == mp->cap || mp->bytes + tx->len > mp->max_bytes)
        rv = HANSA_EBUSY;
    else {
        if (mp->set[s] == NULL)
            mp->set_used++;
        mp->set[s] = tx->tx.id;
        mp->ring[(mp->head + mp->count) % mp->cap] = tx;
        mp->count++;
        mp->bytes += tx->len;
        pthread_cond_signal(&mp->cv);
    }
    pthread_mutex_unlock(&mp->mu);
    return rv;
}

bool mempool_has_room(struct mempool *mp, size_t len)
{
    pthread_mutex_lock(&mp->mu);
    bool room = mp->count < mp->cap && mp->bytes + len <= mp->max_bytes;
    pthread_mutex_unlock(&mp->mu);
    return room;
}

bool mempool_contains(struct mempool *mp, const uint8_t id[WIRE_HASH_BYTES])
{
    pthread_mutex_lock(&mp->mu);
    bool found;
    (void)set_find(mp, id, &found);
    pthread_mutex_unlock(&mp->mu);
    return found;
}

size_t mempool_take(struct mempool *mp, struct mempool_tx **out, size_t max_txs, size_t max_bytes)
{
    pthread_mutex_lock(&mp->mu);
    size_t n = 0, bytes = 0;
    while (n < max_txs && mp->count > 0 && mp->n_flight < mp->cap) {
        struct mempool_tx *tx = mp->ring[mp->head];
        if (n > 0 && bytes + tx->len > max_bytes)
            break;
        mp->flight[mp->n_flight++] = tx; /* its id stays in the set */
        mp->ring[mp->head] = NULL;
        mp->head = (mp->head + 1) % mp->cap;
        mp->count--;
        mp->bytes -= tx->len;
        bytes += tx->len;
        out[n++] = tx;
    }
    pthread_mutex_unlock(&mp->mu);
    return n;
}

void mempool_forget(struct mempool *mp, struct mempool_tx *const *txs, size_t n)
{
    pthread_mutex_lock(&mp->mu);
    for (size_t i = 0; i < n; i++) {
        bool found;
        size_t s = set_find(mp, txs[i]->tx.id, &found);
        HANSA_ASSERT(found);
        mp->set[s] = TOMB;
        for (size_t k = 0; k < mp->n_flight; k++)
            if (mp->flight[k] == txs[i]) {
                mp->flight[k] = mp->flight[--mp->n_flight];
                break;
            }
    }
    /* Live + tombstones stay below 3/4 of the table: at most 1/4 after a
     * forget, plus at most 2 x max_txs <= set_cap / 2 live ids. */
    if (mp->set_used > mp->set_cap / 4)
        set_rebuild(mp);
    pthread_mutex_unlock(&mp->mu);
}

size_t mempool_wait(struct mempool *mp, uint64_t timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(timeout_ms / 1000);
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mp->mu);
    while (mp->count == 0 && !mp->woken) {
        if (pthread_cond_timedwait(&mp->cv, &mp->mu, &deadline) == ETIMEDOUT)
            break;
    }
    mp->woken = false;
    size_t n = mp->count;
    pthread_mutex_unlock(&mp->mu);
    return n;
}

void mempool_wake(struct mempool *mp)
{
    pthread_mutex_lock(&mp->mu);
    mp->woken = true;
    pthread_cond_broadcast(&mp->cv);
    pthread_mutex_unlock(&mp->mu);
}

size_t mempool_count(struct mempool *mp)
{
    pthread_mutex_lock(&mp->mu);
    size_t n = mp->count;
    pthread_mutex_unlock(&mp->mu);
    return n;
}

size_t mempool_bytes(struct mempool *mp)
{
    pthread_mutex_lock(&mp->mu);
    size_t n = mp->bytes;
    pthread_mutex_unlock(&mp->mu);
    return n;
}

static int id_ptr_cmp(const void *a, const void *b)
{
    return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, WIRE_HASH_BYTES);
}

void mempool_remove_ids(struct mempool *mp, const uint8_t *const *ids, size_t n)
{
    if (n == 0)
        return;
    /* Sorted once, then one pass over the pool: O((n + pooled) log n). */
    const uint8_t **sorted = malloc(n * sizeof *sorted);
    if (sorted == NULL)
        return; /* they leave later: a block build drops committed txs */
    memcpy(sorted, ids, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, id_ptr_cmp);
    pthread_mutex_lock(&mp->mu);
    size_t w = 0;
    for (size_t k = 0; k < mp->count; k++) {
        struct mempool_tx *tx = mp->ring[(mp->head + k) % mp->cap];
        const uint8_t *key = tx->tx.id;
        if (bsearch(&key, sorted, n, sizeof *sorted, id_ptr_cmp) != NULL) {
            bool found;
            size_t s = set_find(mp, key, &found);
            HANSA_ASSERT(found);
            mp->set[s] = TOMB;
            mp->bytes -= tx->len;
            mempool_tx_free(tx);
            continue;
        }
        mp->ring[(mp->head + w++) % mp->cap] = tx; /* keeps arrival order */
    }
    for (size_t k = w; k < mp->count; k++)
        mp->ring[(mp->head + k) % mp->cap] = NULL;
    mp->count = w;
    if (mp->set_used > mp->set_cap / 4)
        set_rebuild(mp);
    pthread_mutex_unlock(&mp->mu);
    free(sorted);
}
