/*
 * RocksDB options for the store, each with the reason it is set.
 *
 * One options object serves every column family. The families differ in
 * access pattern (blocks and history are appended by increasing key and
 * read rarely; state and txs take random point reads, many of them misses)
 * but not enough to justify separate tuning yet: the settings below are
 * good for the point-read families and harmless for the append-only ones.
 *
 * Memory is bounded on purpose: a test network runs four validators on one
 * 2-vCPU machine (LIBNOTES 7), so every per-process figure is multiplied by
 * four there.
 */
#include "hansa/assert.h"
#include "internal.h"

/* Block cache (data blocks only: index and filter blocks stay with the
 * table readers, below). The hot working set of a validator is the state
 * family's live records (parties, parameters, open orders and waybills,
 * credit lines) and the newest history; blocks are read only for catch-up
 * and queries, where a miss costs a disk read and nothing else. 32 MiB
 * holds that working set (BENCHMARKS.md, "State size", measured to ~500k
 * orders at this size and to 1.07M at 64 MiB). Every MiB here is
 * multiplied by four on a test machine, and a validator under a full
 * backlog peaked at 259 MiB with 64 MiB here, against a 256 MiB budget. */
#define STORE_BLOCK_CACHE_BYTES (32u * 1024u * 1024u)

/* Bloom filter bits per key: 10 gives about 1 % false positives. Most of the
 * point reads that miss are tx-id lookups (ALREADY_COMMITTED admission
 * checks) and state keys that do not exist yet (a new order), and a filter
 * answers those without touching a data block. */
#define STORE_BLOOM_BITS_PER_KEY 10

/* Memtables. Each of the eight families has its own; 16 MiB each, and at
 * most 64 MiB across all of them (db_write_buffer_size), keeps write memory
 * bounded however the load is spread. A block of 10,000 transactions
 * writes a few MiB, so a memtable still holds several blocks. */
#define STORE_WRITE_BUFFER_BYTES    (16u * 1024u * 1024u)
#define STORE_DB_WRITE_BUFFER_BYTES (64u * 1024u * 1024u)

/* WAL size cap. The WAL is shared by all families, and a WAL file can only
 * be deleted once every family has flushed past it; a rarely written family
 * (alerts) would otherwise keep every WAL file since its last flush alive.
 * Past this size RocksDB flushes the families that hold old WAL files. */
#define STORE_MAX_TOTAL_WAL_BYTES (64u * 1024u * 1024u)

/* Open table files. The default (-1) keeps every SST file open forever;
 * with a long chain that runs into the default soft limit of 1,024
 * descriptors, which the node also needs for its sockets. */
#define STORE_MAX_OPEN_FILES 512

/* RocksDB's own info LOG: rotate at 8 MiB and keep 5 old files, so the
 * diagnostics stay under 48 MiB instead of growing without end. */
#define STORE_INFO_LOG_BYTES_MAX  (8u * 1024u * 1024u)
#define STORE_INFO_LOG_FILES_KEPT 5u

/* Background flush and compaction threads: the machine has 2 vCPUs. */
#define STORE_BACKGROUND_THREADS 2

static rocksdb_block_based_table_options_t *table_options_create(void)
{
    rocksdb_block_based_table_options_t *t = rocksdb_block_based_options_create();
    HANSA_ASSERT(t != NULL);
    /* The table options take ownership of the policy. (The C API takes the
     * bits per key as a double; an integer constant converts exactly.) */
    rocksdb_block_based_options_set_filter_policy(
        t, rocksdb_filterpolicy_create_bloom_full(STORE_BLOOM_BITS_PER_KEY));
    rocksdb_cache_t *cache = rocksdb_cache_create_lru(STORE_BLOCK_CACHE_BYTES);
    HANSA_ASSERT(cache != NULL);
    /* The table options copy a shared pointer; ours can go at once. */
    rocksdb_block_based_options_set_block_cache(t, cache);
    rocksdb_cache_destroy(cache);
    /* Index and filter blocks stay with their table readers, outside the
     * block cache, loaded once when a table is opened. In the cache (the
     * earlier setting) they were evicted by data blocks as the state grew:
     * at ~230k orders 69 % of the event loop went into decompressing index
     * blocks again for admission reads (BENCHMARKS.md, "State size"). Their
     * memory grows with the data, not with the traffic: about 1 % of the
     * database for indexes and 10 bits per key for filters, and at most
     * STORE_MAX_OPEN_FILES tables are open. */
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(t, 0);
    return t;
}

rocksdb_options_t *store_options_create(void)
{
    rocksdb_options_t *o = rocksdb_options_create();
    HANSA_ASSERT(o != NULL);
    /* A new node creates its database; read-only opens ignore these. */
    rocksdb_options_set_create_if_missing(o, 1);
    rocksdb_options_set_create_missing_column_families(o, 1);

    rocksdb_options_increase_parallelism(o, STORE_BACKGROUND_THREADS);

    rocksdb_block_based_table_options_t *t = table_options_create();
    rocksdb_options_set_block_based_table_factory(o, t); /* copies t */
    rocksdb_block_based_options_destroy(t);

    /* lz4 on the upper levels: cheap enough to keep compaction off the
     * commit path's CPU. zstd on the bottommost level, where about 90 % of
     * the data ends up and is rewritten rarely: protobuf records and
     * repetitive history keys compress well there. Both are linked into
     * Debian's librocksdb (LIBNOTES 2.4). */
    rocksdb_options_set_compression(o, rocksdb_lz4_compression);
    rocksdb_options_set_bottommost_compression(o, rocksdb_zstd_compression);
    /* Level sizes follow the data, which keeps space amplification near
     * 1.1x as the chain grows (RocksDB's recommended setting). */
    rocksdb_options_set_level_compaction_dynamic_level_bytes(o, 1);

    rocksdb_options_set_write_buffer_size(o, STORE_WRITE_BUFFER_BYTES);
    rocksdb_options_set_db_write_buffer_size(o, STORE_DB_WRITE_BUFFER_BYTES);
    rocksdb_options_set_max_total_wal_size(o, STORE_MAX_TOTAL_WAL_BYTES);
    rocksdb_options_set_max_open_files(o, STORE_MAX_OPEN_FILES);

    rocksdb_options_set_max_log_file_size(o, STORE_INFO_LOG_BYTES_MAX);
    rocksdb_options_set_keep_log_file_num(o, STORE_INFO_LOG_FILES_KEPT);

    /* Stated, not changed, because the commit invariant rests on them:
     * point-in-time WAL recovery replays a consistent prefix of the synced
     * batches and drops a torn tail (a crash mid-write), and paranoid
     * checks refuse to open a database whose files do not check out. */
    rocksdb_options_set_wal_recovery_mode(o, rocksdb_point_in_time_recovery);
    rocksdb_options_set_paranoid_checks(o, 1);
    return o;
}
