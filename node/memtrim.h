/*
 * Returning freed memory to the operating system.
 *
 * A validator's heap breathes with the load: every admitted transaction is
 * decoded into many small protobuf allocations that live until its block
 * commits, so a mempool of tens of thousands of transactions takes a few
 * hundred MiB and then frees it within seconds. glibc keeps freed memory
 * inside its arenas (only the top of each heap is trimmed, and only past a
 * threshold), so resident memory stayed at the peak: 400+ MiB per
 * validator under the benchmark, of which malloc_trim(0) returned ~240 MiB
 * at once (BENCHMARKS.md, "Resident memory").
 *
 * memtrim runs a thread that calls malloc_trim(0) after blocks commit, at
 * most once per interval, off the event loop. It also caps the number of
 * malloc arenas (memtrim_configure, called once at process start): glibc's
 * default of eight per core gives each of the node's many threads (nng,
 * API workers, verifiers) its own arena, each holding its own free memory.
 */
#ifndef HANSA_NODE_MEMTRIM_H
#define HANSA_NODE_MEMTRIM_H

#include <stdint.h>

#include "hansa/error.h"

/* At most one trim per this interval: a trim walks every arena and gives
 * pages back with madvise, and the next allocations fault them in again,
 * so trimming after every block of a busy chain would cost more than the
 * memory it saves for a second. */
#define MEMTRIM_INTERVAL_MS 1000u
/* malloc arenas per process (glibc M_ARENA_MAX). */
#define MEMTRIM_ARENAS_MAX 4

struct memtrim;

/* Once per process, before other threads start. */
void memtrim_configure(void);

/* Start the trimming thread; interval_ms is the least time between trims. */
HANSA_MUST_USE hansa_err memtrim_open(uint64_t interval_ms, struct memtrim **out);
/* Ask for a trim (a block committed). Cheap; never blocks on a trim. */
void memtrim_kick(struct memtrim *m);
/* Trims done so far. */
uint64_t memtrim_count(struct memtrim *m);
/* Stop and join the thread; accepts NULL. */
void memtrim_close(struct memtrim *m);

#endif
