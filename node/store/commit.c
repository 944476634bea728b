/*
 * Commits: genesis, blocks and standalone synced writes.
 *
 * A block commit is ONE WriteBatch written with sync = 1 (store.h invariant
 * 1). The batch holds, in this order:
 *   blocks     be64 height        -> the encoded StoredBlock
 *   block_ids  block hash         -> be64 height
 *   txs        tx id              -> TxLocation{height, index}, per tx
 *   state      the ledger's writes (puts, and deletes where val == NULL)
 *   history    the ledger's history entries
 *   extras     the caller's puts into any family (alerts, risk cursor, ...)
 *   meta       height (be64) and state_root (32 bytes) = out->state_root
 * Later operations on the same key win inside a batch, so an extra put
 * overrides a ledger write of the same key; the meta keys the store owns
 * (height, state_root, schema) are refused in extras, which keeps invariant
 * 2: only this code writes them, always together.
 *
 * Genesis is the same batch without block, ids and txs, at height 0.
 *
 * The cached height and root change only after rocksdb_write returned
 * success, so a failed commit leaves the handle describing the disk.
 */
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"

/* Encoded TxLocation: two varints, at most 10 + 5 bytes plus two tags. */
#define STORE_TX_LOCATION_BYTES_MAX 32u

static void batch_op(rocksdb_writebatch_t *wb, rocksdb_column_family_handle_t *cf,
                     const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    if (val == NULL)
        rocksdb_writebatch_delete_cf(wb, cf, (const char *)key, key_len);
    else
        rocksdb_writebatch_put_cf(wb, cf, (const char *)key, key_len, (const char *)val, val_len);
}

/* History writes also go into the by-height index (store.h): the risk
 * engine reads what a block changed from it. */
static void batch_ledger_output(struct store *s, rocksdb_writebatch_t *wb, uint64_t height,
                                const struct ledger_output *out)
{
    for (size_t i = 0; i < out->n_state; i++) {
        const struct ledger_write *w = &out->state[i];
        batch_op(wb, s->cf[STORE_STATE], w->key, w->key_len, w->val, w->val_len);
    }
    for (size_t i = 0; i < out->n_history; i++) {
        const struct ledger_write *w = &out->history[i];
        batch_op(wb, s->cf[STORE_HISTORY], w->key, w->key_len, w->val, w->val_len);
        uint8_t ix[STORE_HISTORY_BY_HEIGHT_BYTES];
        store_history_by_height_key(ix, height, (uint32_t)i);
        batch_op(wb, s->cf[STORE_HISTORY], ix, sizeof ix, w->key, w->key_len);
    }
}

static void batch_tip(struct store *s, rocksdb_writebatch_t *wb, uint64_t height,
                      const uint8_t root[32])
{
    uint8_t h[8];
    store_be64_put(h, height);
    batch_op(wb, s->cf[STORE_META], (const uint8_t *)STORE_META_HEIGHT, strlen(STORE_META_HEIGHT),
             h, sizeof h);
    batch_op(wb, s->cf[STORE_META], (const uint8_t *)STORE_META_STATE_ROOT,
             strlen(STORE_META_STATE_ROOT), root, 32);
}

/* HANSA_EINVAL if any put targets a meta key only commits may write. */
static hansa_err puts_check(struct store *s, const struct store_put *puts, size_t n)
{
    HANSA_ASSERT(puts != NULL || n == 0);
    for (size_t i = 0; i < n; i++) {
        HANSA_ASSERT(puts[i].family < STORE_FAMILY_COUNT);
        HANSA_ASSERT(puts[i].key != NULL || puts[i].key_len == 0);
        if (puts[i].family == STORE_META && store_meta_key_reserved(puts[i].key, puts[i].key_len))
            return store_fail(s, HANSA_EINVAL,
                              "put %zu targets meta/%.*s, which only block commits write", i,
                              (int)puts[i].key_len, (const char *)puts[i].key);
    }
    return HANSA_OK;
}

static void batch_puts(struct store *s, rocksdb_writebatch_t *wb, const struct store_put *puts,
                       size_t n)
{
    for (size_t i = 0; i < n; i++)
        batch_op(wb, s->cf[puts[i].family], puts[i].key, puts[i].key_len, puts[i].val,
                 puts[i].val_len);
}

/* Write wb synced and destroy it. */
static hansa_err batch_write(struct store *s, rocksdb_writebatch_t *wb, const char *what)
{
    char *err = NULL;
    rocksdb_write(s->db, s->wo_sync, wb, &err);
    rocksdb_writebatch_destroy(wb);
    if (err != NULL)
        return store_fail_rocks(s, what, &err);
    return HANSA_OK;
}

hansa_err store_commit_genesis(struct store *s, const struct ledger_output *out)
{
    HANSA_ASSERT(s != NULL && out != NULL);
    if (s->read_only)
        return store_fail(s, HANSA_EINVAL, "genesis: the store is open read-only");
    if (store_height(s) != STORE_NO_HEIGHT)
        return store_fail(s, HANSA_EEXIST, "genesis is already committed (height %llu)",
                          (unsigned long long)store_height(s));
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    batch_ledger_output(s, wb, 0, out);
    batch_tip(s, wb, 0, out->state_root);
    hansa_err rv = batch_write(s, wb, "genesis commit");
    if (rv == HANSA_OK)
        store_set_tip(s, 0, out->state_root);
    return rv;
}

static hansa_err block_check(struct store *s, const struct store_commit *c)
{
    if (s->read_only)
        return store_fail(s, HANSA_EINVAL, "block %llu: the store is open read-only",
                          (unsigned long long)c->height);
    uint64_t h = store_height(s);
    if (h == STORE_NO_HEIGHT)
        return store_fail(s, HANSA_EINVAL, "block %llu: genesis is not committed",
                          (unsigned long long)c->height);
    if (c->height != h + 1)
        return store_fail(s, HANSA_EINVAL, "block %llu refused: the next block is %llu",
                          (unsigned long long)c->height, (unsigned long long)(h + 1));
    if (c->n_txs > HANSA_BLOCK_TXS_MAX)
        return store_fail(s, HANSA_EINVAL, "block %llu has %zu transactions, over %u",
                          (unsigned long long)c->height, c->n_txs, HANSA_BLOCK_TXS_MAX);
    return puts_check(s, c->extra, c->n_extra);
}

static void batch_txs(struct store *s, rocksdb_writebatch_t *wb, const struct store_commit *c)
{
    for (size_t i = 0; i < c->n_txs; i++) {
        Hansa__TxLocation loc = HANSA__TX_LOCATION__INIT;
        loc.height = c->height;
        loc.index = (uint32_t)i; /* i < HANSA_BLOCK_TXS_MAX, checked */
        uint8_t buf[STORE_TX_LOCATION_BYTES_MAX];
        HANSA_ASSERT(hansa__tx_location__get_packed_size(&loc) <= sizeof buf);
        size_t n = hansa__tx_location__pack(&loc, buf);
        batch_op(wb, s->cf[STORE_TXS], c->tx_ids + i * WIRE_HASH_BYTES, WIRE_HASH_BYTES, buf, n);
    }
}

hansa_err store_commit_block(struct store *s, const struct store_commit *c)
{
    HANSA_ASSERT(s != NULL && c != NULL && c->out != NULL && c->block_hash != NULL);
    HANSA_ASSERT(c->stored_block != NULL || c->stored_block_len == 0);
    HANSA_ASSERT(c->tx_ids != NULL || c->n_txs == 0);
    hansa_err rv = block_check(s, c);
    if (rv != HANSA_OK)
        return rv;

    uint8_t h[8];
    store_be64_put(h, c->height);
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    batch_op(wb, s->cf[STORE_BLOCKS], h, sizeof h,
             c->stored_block != NULL ? c->stored_block : (const uint8_t *)"", c->stored_block_len);
    batch_op(wb, s->cf[STORE_BLOCK_IDS], c->block_hash, WIRE_HASH_BYTES, h, sizeof h);
    batch_txs(s, wb, c);
    batch_ledger_output(s, wb, c->height, c->out);
    batch_puts(s, wb, c->extra, c->n_extra);
    batch_tip(s, wb, c->height, c->out->state_root);

    rv = batch_write(s, wb, "block commit");
    if (rv == HANSA_OK)
        store_set_tip(s, c->height, c->out->state_root);
    return rv;
}

hansa_err store_write_sync(struct store *s, const struct store_put *puts, size_t n)
{
    HANSA_ASSERT(s != NULL);
    if (s->read_only)
        return store_fail(s, HANSA_EINVAL, "write: the store is open read-only");
    hansa_err rv = puts_check(s, puts, n);
    if (rv != HANSA_OK || n == 0)
        return rv;
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    batch_puts(s, wb, puts, n);
    return batch_write(s, wb, "synced write");
}

void store_history_by_height_key(uint8_t key[STORE_HISTORY_BY_HEIGHT_BYTES], uint64_t height,
                                 uint32_t i)
{
    key[0] = '#';
    store_be64_put(key + 1, height);
    for (int k = 0; k < 4; k++)
        key[9 + k] = (uint8_t)(i >> (24 - 8 * k));
}
