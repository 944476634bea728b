/*
 * node/store internals shared by the store's files: the handle, the meta key
 * names, error mapping and big-endian helpers.
 *
 *   store.c    open (read-write or read-only), schema check, recovery check,
 *              close, cached height and root
 *   options.c  RocksDB options and the reasons for each
 *   commit.c   genesis, block and sync-write batches
 *   read.c     point reads, scans, the ledger's view of the state family
 *   backup.c   checkpoints and their verification
 *
 * Locking: mu guards height, root and last_error only. RocksDB itself is
 * safe for concurrent reads and writes (LIBNOTES 2.6); commits are
 * serialized by the caller (store.h), so height and root can be read
 * without the lock by the committing thread, but other threads take it.
 */
#ifndef HANSA_STORE_INTERNAL_H
#define HANSA_STORE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rocksdb/c.h>

#include "store.h"

/* Meta keys the store owns. store_write_sync and extra puts may not touch
 * them: invariant 2 of store.h depends on only commits writing them. */
#define STORE_META_HEIGHT     "height"
#define STORE_META_STATE_ROOT "state_root"
#define STORE_META_SCHEMA     "schema"

/* The on-disk layout version this build reads and writes. Bump it when a
 * family's key or value encoding changes. */
#define STORE_SCHEMA_VERSION 1u

/* Height value meaning "not even genesis". */
#define STORE_NO_HEIGHT UINT64_MAX

#define STORE_ERROR_BYTES 512u

struct store {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_column_family_handle_t *default_cf;
    rocksdb_column_family_handle_t *cf[STORE_FAMILY_COUNT];
    rocksdb_writeoptions_t *wo_sync; /* sync = 1: every store write is durable */
    rocksdb_readoptions_t *ro;       /* point reads; scans make their own */
    bool read_only;
    bool mu_ready;
    pthread_mutex_t mu;
    uint64_t height; /* STORE_NO_HEIGHT before genesis */
    uint8_t root[32];
    char last_error[STORE_ERROR_BYTES];
};

/* The family names on disk, in enum store_family order. */
extern const char *const store_family_names[STORE_FAMILY_COUNT];

/* options.c: a new options object (caller destroys). */
rocksdb_options_t *store_options_create(void);

/* Map a RocksDB error message to a hansa_err. */
hansa_err store_map_error(const char *rocks_msg);

/* Record msg as s's last error (for store_last_error) and return rv. */
__attribute__((format(printf, 3, 4))) hansa_err store_fail(struct store *s, hansa_err rv,
                                                           const char *fmt, ...);
/* Record RocksDB's err (then free it) as s's last error, prefixed with what
 * was being done; returns the mapped error. *err is reset to NULL. */
hansa_err store_fail_rocks(struct store *s, const char *what, char **err);

/* Write the formatted sentence into why (NULL or why_len 0: nothing). */
__attribute__((format(printf, 3, 4))) void store_set_why(char *why, size_t why_len, const char *fmt,
                                                         ...);

/* Whether (key, len) is one of the meta keys only commits may write. */
bool store_meta_key_reserved(const uint8_t *key, size_t len);

/* Set the cached height and root (after a successful write). */
void store_set_tip(struct store *s, uint64_t height, const uint8_t root[32]);

static inline void store_be64_put(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xffu);
        v >>= 8;
    }
}

static inline uint64_t store_be64_get(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

static inline void store_be32_put(uint8_t out[4], uint32_t v)
{
    for (int i = 3; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xffu);
        v >>= 8;
    }
}

static inline uint32_t store_be32_get(const uint8_t in[4])
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = (v << 8) | in[i];
    return v;
}

#endif
