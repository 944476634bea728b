/*
 * The mempool: bounded in count and bytes, deduplicated by tx id, FIFO, and
 * its id set stays correct under long add/take churn (tombstone rebuilds).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "mempool.h"

/* A pool entry with a given id and size; no real transaction is needed. */
static struct mempool_tx *fake_tx(uint32_t id, size_t len)
{
    struct mempool_tx *tx = calloc(1, sizeof *tx);
    cr_assert_not_null(tx);
    tx->bytes = calloc(1, len ? len : 1);
    tx->len = len;
    wire_sha256(&id, sizeof id, tx->tx.id);
    return tx;
}

static uint8_t *id_of(uint32_t id, uint8_t out[32])
{
    wire_sha256(&id, sizeof id, out);
    return out;
}

Test(mempool, keeps_arrival_order_and_counts_bytes)
{
    struct mempool *mp = NULL;
    cr_assert_eq(mempool_open(10, 1 << 20, &mp), HANSA_OK);
    for (uint32_t i = 0; i < 5; i++)
        cr_assert_eq(mempool_add(mp, fake_tx(i, 100 + i)), HANSA_OK);
    cr_assert_eq(mempool_count(mp), 5);
    cr_assert_eq(mempool_bytes(mp), 510);
    struct mempool_tx *out[10];
    size_t n = mempool_take(mp, out, 3, SIZE_MAX);
    cr_assert_eq(n, 3);
    uint8_t id[32];
    for (uint32_t i = 0; i < 3; i++)
        cr_assert_arr_eq(out[i]->tx.id, id_of(i, id), 32, "entry %u out of order", i);
    mempool_forget(mp, out, 3);
    for (uint32_t i = 0; i < 3; i++)
        mempool_tx_free(out[i]);
    cr_assert_eq(mempool_count(mp), 2);
    cr_assert_eq(mempool_bytes(mp), 207);
    mempool_close(mp);
}

Test(mempool, refuses_a_duplicate_id_until_it_is_taken)
{
    struct mempool *mp = NULL;
    cr_assert_eq(mempool_open(10, 1 << 20, &mp), HANSA_OK);
    cr_assert_eq(mempool_add(mp, fake_tx(7, 10)), HANSA_OK);
    struct mempool_tx *dup = fake_tx(7, 10);
    cr_assert_eq(mempool_add(mp, dup), HANSA_EEXIST);
    uint8_t id[32];
    cr_assert(mempool_contains(mp, id_of(7, id)));
    struct mempool_tx *out[1];
    cr_assert_eq(mempool_take(mp, out, 1, SIZE_MAX), 1);
    cr_assert(mempool_contains(mp, id), "taken for a block, it is still pending");
    cr_assert_eq(mempool_add(mp, dup), HANSA_EEXIST, "a replay while its block commits");
    mempool_forget(mp, out, 1);
    mempool_tx_free(out[0]);
    cr_assert_not(mempool_contains(mp, id));
    cr_assert_eq(mempool_add(mp, dup), HANSA_OK, "a forgotten id may come again");
    mempool_close(mp);
}

Test(mempool, answers_busy_when_full_by_count_or_bytes)
{
    struct mempool *mp = NULL;
    cr_assert_eq(mempool_open(3, 1000, &mp), HANSA_OK);
    for (uint32_t i = 0; i < 3; i++)
        cr_assert_eq(mempool_add(mp, fake_tx(i, 10)), HANSA_OK);
    struct mempool_tx *extra = fake_tx(99, 10);
    cr_assert_eq(mempool_add(mp, extra), HANSA_EBUSY, "count bound");
    mempool_tx_free(extra);
    mempool_close(mp);

    cr_assert_eq(mempool_open(100, 1000, &mp), HANSA_OK);
    cr_assert_eq(mempool_add(mp, fake_tx(1, 600)), HANSA_OK);
    struct mempool_tx *big = fake_tx(2, 401);
    cr_assert_eq(mempool_add(mp, big), HANSA_EBUSY, "byte bound");
    mempool_tx_free(big);
    cr_assert_eq(mempool_add(mp, fake_tx(3, 400)), HANSA_OK, "exactly at the bound fits");
    mempool_close(mp);
}

Test(mempool, take_stops_at_the_byte_budget_but_always_takes_one)
{
    struct mempool *mp = NULL;
    cr_assert_eq(mempool_open(10, 1 << 20, &mp), HANSA_OK);
    for (uint32_t i = 0; i < 4; i++)
        cr_assert_eq(mempool_add(mp, fake_tx(i, 100)), HANSA_OK);
    struct mempool_tx *out[10];
    cr_assert_eq(mempool_take(mp, out, 10, 250), 2);
    mempool_forget(mp, out, 2);
    mempool_tx_free(out[0]);
    mempool_tx_free(out[1]);
    cr_assert_eq(mempool_take(mp, out, 10, 50), 1, "a tx larger than the budget still moves");
    mempool_forget(mp, out, 1);
    mempool_tx_free(out[0]);
    mempool_close(mp);
}

Test(mempool, id_set_stays_exact_under_long_churn)
{
    struct mempool *mp = NULL;
    cr_assert_eq(mempool_open(8, 1 << 20, &mp), HANSA_OK);
    uint32_t next = 0, oldest = 0;
    struct mempool_tx *out[8];
    uint8_t id[32];
    for (int round = 0; round < 20000; round++) {
        while (mempool_count(mp) < 8)
            cr_assert_eq(mempool_add(mp, fake_tx(next++, 1)), HANSA_OK);
        size_t n = mempool_take(mp, out, 1 + (size_t)(round % 5), SIZE_MAX);
        for (size_t i = 0; i < n; i++)
            cr_assert_arr_eq(out[i]->tx.id, id_of(oldest++, id), 32);
        mempool_forget(mp, out, n);
        for (size_t i = 0; i < n; i++)
            mempool_tx_free(out[i]);
        cr_assert_not(mempool_contains(mp, id_of(oldest - 1, id)));
        cr_assert(mempool_contains(mp, id_of(oldest, id)));
    }
    mempool_close(mp);
}

static void *add_later(void *arg)
{
    struct mempool *mp = arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL); /* the waiter must be blocked before the add */
    cr_assert_eq(mempool_add(mp, fake_tx(1, 1)), HANSA_OK);
    return NULL;
}

Test(mempool, wait_returns_when_a_transaction_arrives, .timeout = 10)
{
    struct mempool *mp = NULL;
    cr_assert_eq(mempool_open(4, 1 << 20, &mp), HANSA_OK);
    cr_assert_eq(mempool_wait(mp, 1), 0, "empty pool: the wait times out");
    pthread_t th;
    pthread_create(&th, NULL, add_later, mp);
    /* A 60 s wait that returns within the test timeout proves the wake-up. */
    cr_assert_eq(mempool_wait(mp, 60000), 1);
    pthread_join(th, NULL);
    mempool_close(mp);
}
