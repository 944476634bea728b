/*
 * memtrim: a kick leads to one trim, trims are at least an interval apart,
 * close does not wait out the interval, and a trim gives freed heap memory
 * back to the operating system (the reason the module exists).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memtrim.h"

#define WAIT_MS 10000u

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait (with a deadline) until the trimmer has done n trims. */
static bool wait_count(struct memtrim *m, uint64_t n)
{
    uint64_t end = mono_ms() + WAIT_MS;
    while (memtrim_count(m) < n) {
        if (mono_ms() > end)
            return false;
        sleep_ms(5);
    }
    return true;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    cr_assert_not_null(f);
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

Test(memtrim, kick_leads_to_a_trim)
{
    struct memtrim *m = NULL;
    cr_assert_eq(memtrim_open(0, &m), HANSA_OK);
    cr_assert_eq(memtrim_count(m), 0);
    memtrim_kick(m);
    cr_assert(wait_count(m, 1), "no trim after a kick");
    memtrim_kick(m);
    cr_assert(wait_count(m, 2), "no trim after a second kick");
    memtrim_close(m);
}

Test(memtrim, trims_at_most_once_per_interval_and_close_does_not_wait_it_out)
{
    struct memtrim *m = NULL;
    cr_assert_eq(memtrim_open(3600u * 1000u, &m), HANSA_OK);
    memtrim_kick(m);
    cr_assert(wait_count(m, 1));
    for (int i = 0; i < 10; i++)
        memtrim_kick(m);
    sleep_ms(200);
    cr_assert_eq(memtrim_count(m), 1, "a second trim within the hour-long interval");
    uint64_t t0 = mono_ms();
    memtrim_close(m);
    cr_assert_lt(mono_ms() - t0, WAIT_MS, "close waited for the interval");
}

Test(memtrim, close_without_a_kick_and_close_null)
{
    struct memtrim *m = NULL;
    cr_assert_eq(memtrim_open(MEMTRIM_INTERVAL_MS, &m), HANSA_OK);
    memtrim_close(m);
    memtrim_close(NULL);
}

/* Many small chunks freed while one late chunk stays: glibc cannot trim
 * the top of the heap past the live chunk, so without malloc_trim the
 * freed memory stays resident. Sanitizers replace malloc, so the memory
 * claim only holds for glibc's allocator. */
Test(memtrim, trim_returns_freed_heap_memory_to_the_os)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer replaces glibc malloc");
#endif
    enum { N = 400000, SIZE = 256 }; /* ~100 MiB in small chunks */
    void **p = malloc(N * sizeof *p);
    cr_assert_not_null(p);
    for (size_t i = 0; i < N; i++) {
        p[i] = malloc(SIZE);
        cr_assert_not_null(p[i]);
        memset(p[i], 0xa5, SIZE);
    }
    void *live = malloc(SIZE); /* pins the top of the heap */
    memset(live, 1, SIZE);
    for (size_t i = 0; i < N; i++)
        free(p[i]);
    long before = rss_kib();

    struct memtrim *m = NULL;
    cr_assert_eq(memtrim_open(0, &m), HANSA_OK);
    memtrim_kick(m);
    cr_assert(wait_count(m, 1));
    long after = rss_kib();
    memtrim_close(m);
    free(live);
    free(p);
    cr_assert_gt(before - after, 50 * 1024, "RSS %ld kB before the trim, %ld kB after", before,
                 after);
}
