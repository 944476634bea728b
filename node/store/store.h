/*
 * node/store: Hansa's durable state on RocksDB.
 *
 * Column families (DESIGN.md §5):
 *   blocks     be64 height          -> encoded StoredBlock (block, commit, results)
 *   block_ids  32-byte block hash   -> be64 height
 *   txs        32-byte tx id        -> encoded TxLocation (height, index)
 *   state      ledger key           -> encoded record (the ledger's state)
 *   history    ledger history key   -> encoded HistoryEntry
 *              "#" be64 height be32 i -> the history key of the block's i-th
 *                                  history write (what a block changed, in
 *                                  execution order; read by the risk engine)
 *   alerts     (risk engine)        -> encoded Alert
 *   meta       name                 -> value: "height" (be64), "state_root" (32 bytes),
 *                                      "schema" (be32), consensus "signer" state, risk cursor
 *
 * Invariants:
 *   1. Every block is committed with ONE synced WriteBatch holding the block,
 *      its tx index entries, the ledger's state and history writes, and
 *      meta/height + meta/state_root. After a crash the store holds exactly
 *      the blocks up to some height h, with the state after h: never half a
 *      block.
 *   2. meta/height and meta/state_root always describe the same block.
 *   3. store_commit_block refuses any height but store_height() + 1.
 *
 * Thread safety: reads (get, scan, block/tx lookups) may run on any thread
 * concurrently with one committing thread; commits are serialized by the
 * caller (the node's event loop).
 */
#ifndef HANSA_STORE_H
#define HANSA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hansa/error.h"
#include "ledger.h"

struct store;

enum store_family {
    STORE_BLOCKS,
    STORE_BLOCK_IDS,
    STORE_TXS,
    STORE_STATE,
    STORE_HISTORY,
    STORE_ALERTS,
    STORE_META,
    STORE_FAMILY_COUNT
};

/* Open (creating if missing) the database in dir. why receives a sentence
 * for the operator on failure (e.g. the RocksDB message, "locked by another
 * process"). */
HANSA_MUST_USE hansa_err store_open(const char *dir, struct store **out, char *why, size_t why_len);
/* Open an existing database in dir read-only (nothing is created or
 * written; HANSA_ENOENT if there is none). The same checks as store_open.
 * It may be opened while a node process holds the database for writing,
 * and then sees the database as of this call: its height does not advance.
 * Commits and writes on it fail with HANSA_EINVAL. store_backup through
 * such a handle is refused with HANSA_EBUSY when the node changed the files
 * meanwhile (see store_backup). */
HANSA_MUST_USE hansa_err store_open_readonly(const char *dir, struct store **out, char *why,
                                             size_t why_len);
/* Accepts NULL. Must not race with other calls on s. */
void store_close(struct store *s);

/* A sentence about the last failed operation on s (the RocksDB message for
 * storage errors), for logs: commits and reads return only a hansa_err. */
void store_last_error(struct store *s, char *why, size_t why_len);

/* Height of the last committed block; 0 after genesis; UINT64_MAX if not
 * even genesis is committed. */
uint64_t store_height(const struct store *s);
/* State root after the last committed block (or genesis). */
void store_state_root(const struct store *s, uint8_t root[32]);

/* The committed state as the ledger reads it (reads the state family). */
struct ledger_state store_ledger_state(struct store *s);

/* Commit genesis (height 0): the ledger's genesis output, in one synced
 * batch. HANSA_EEXIST if genesis is already committed. */
HANSA_MUST_USE hansa_err store_commit_genesis(struct store *s, const struct ledger_output *out);

struct store_commit {
    uint64_t height;
    const uint8_t *block_hash;   /* 32 bytes */
    const uint8_t *stored_block; /* encoded StoredBlock */
    size_t stored_block_len;
    const uint8_t *tx_ids; /* n_txs x 32 bytes, block order */
    size_t n_txs;
    const struct ledger_output *out; /* state, history, state root */
    /* Extra puts into any family, committed in the same batch (risk engine
     * alerts and cursor, consensus markers). May be NULL. */
    const struct store_put *extra;
    size_t n_extra;
};

struct store_put {
    enum store_family family;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *val; /* NULL deletes */
    size_t val_len;
};

/* One synced batch; see invariant 1. HANSA_EINVAL for a wrong height. */
HANSA_MUST_USE hansa_err store_commit_block(struct store *s, const struct store_commit *c);

/* A synced batch of puts outside block commits (consensus last-signed
 * state, risk engine progress). */
HANSA_MUST_USE hansa_err store_write_sync(struct store *s, const struct store_put *puts, size_t n);

/* Risk engine progress in the meta family (node/riskrun.c writes them in
 * its batches; the API reads them). */
#define STORE_META_RISK_HEIGHT "risk_height" /* be64: last block processed */
#define STORE_META_RISK_HEAD   "risk_head"   /* be64 height, be32 ordinal: newest alert */
#define STORE_META_RISK_PRUNED "risk_pruned" /* the same: newest alert retention deleted */
/* A be64 meta value (0 when absent), or a cursor ((0, 0) when absent);
 * HANSA_EFORMAT for a value of the wrong size. */
HANSA_MUST_USE hansa_err store_meta_u64(struct store *s, const char *key, uint64_t *v);
HANSA_MUST_USE hansa_err store_meta_cursor(struct store *s, const char *key, uint64_t *height,
                                           uint32_t *ordinal);

/* The by-height history index key ("#", be64 height, be32 i). */
#define STORE_HISTORY_BY_HEIGHT_BYTES 13u
void store_history_by_height_key(uint8_t key[STORE_HISTORY_BY_HEIGHT_BYTES], uint64_t height,
                                 uint32_t i);

/* Point reads. HANSA_OK with a malloc'd copy (caller frees), HANSA_ENOENT, or
 * a storage error. */
HANSA_MUST_USE hansa_err store_get(struct store *s, enum store_family f, const uint8_t *key,
                                   size_t key_len, uint8_t **val, size_t *val_len);
HANSA_MUST_USE hansa_err store_get_block(struct store *s, uint64_t height, uint8_t **val,
                                         size_t *val_len);
HANSA_MUST_USE hansa_err store_tx_location(struct store *s, const uint8_t tx_id[32],
                                           uint64_t *height, uint32_t *index);

/* Visit keys of family f starting at from (inclusive; NULL = prefix start)
 * that begin with prefix, in order, until visit returns false. */
HANSA_MUST_USE hansa_err store_scan(struct store *s, enum store_family f, const uint8_t *prefix,
                                    size_t prefix_len, const uint8_t *from, size_t from_len,
                                    ledger_visit_fn visit, void *arg);
/* The same, ending before until (exclusive; NULL = the end of the prefix).
 * The bound is given to RocksDB, so the iterator stops there instead of
 * stepping through every deleted key up to the next live one. */
HANSA_MUST_USE hansa_err store_scan_range(struct store *s, enum store_family f,
                                          const uint8_t *prefix, size_t prefix_len,
                                          const uint8_t *from, size_t from_len,
                                          const uint8_t *until, size_t until_len,
                                          ledger_visit_fn visit, void *arg);

/* Visit keys of family f that begin with prefix and are at or before from
 * (inclusive), in reverse order, until visit returns false. The prefix is
 * given to RocksDB as the lower bound. */
HANSA_MUST_USE hansa_err store_scan_back(struct store *s, enum store_family f,
                                         const uint8_t *prefix, size_t prefix_len,
                                         const uint8_t *from, size_t from_len,
                                         ledger_visit_fn visit, void *arg);

/* A consistent copy of the whole database in dir (which must not exist:
 * HANSA_EEXIST), via a RocksDB checkpoint, verified by opening it: a copy
 * that does not check out is removed and an error returned. Through a
 * read-only handle this is safe only while no node writes the database:
 * RocksDB 7.8 then silently leaves out data the writer flushed since the
 * read-only open, which the verification reports as HANSA_EBUSY. */
HANSA_MUST_USE hansa_err store_backup(struct store *s, const char *dir, char *why, size_t why_len);

#endif
