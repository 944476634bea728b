/*
 * Reads: point gets, prefix scans, and the ledger's view of the state
 * family.
 *
 * Point reads use rocksdb_get_pinned_cf and copy the value into a buffer of
 * our own malloc, so callers free() what they get whatever allocator
 * RocksDB uses, and an empty value is a 1-byte allocation, not NULL.
 *
 * A scan iterates [start, upper) where start is the later of prefix and
 * from, and upper is the smallest key greater than every key with the prefix
 * (the prefix with trailing 0xff bytes dropped and its last byte
 * incremented; no bound if the prefix is empty or all 0xff). The bound lives
 * in a buffer and a readoptions object that both outlive the iterator
 * (LIBNOTES 2.3: the C API keeps a Slice pointing into our buffer). After
 * the loop rocksdb_iter_get_error tells an end of data from a read error.
 * The iterator reads an implicit snapshot taken at its creation, so a scan
 * sees no half of a concurrent commit.
 */
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"

hansa_err store_get(struct store *s, enum store_family f, const uint8_t *key, size_t key_len,
                    uint8_t **val, size_t *val_len)
{
    HANSA_ASSERT(s != NULL && f < STORE_FAMILY_COUNT && val != NULL && val_len != NULL);
    HANSA_ASSERT(key != NULL || key_len == 0);
    *val = NULL;
    *val_len = 0;
    char *err = NULL;
    rocksdb_pinnableslice_t *p =
        rocksdb_get_pinned_cf(s->db, s->ro, s->cf[f], (const char *)key, key_len, &err);
    if (err != NULL)
        return store_fail_rocks(s, "get", &err);
    if (p == NULL)
        return HANSA_ENOENT;
    size_t n = 0;
    const char *v = rocksdb_pinnableslice_value(p, &n);
    uint8_t *copy = malloc(n > 0 ? n : 1);
    if (copy == NULL) {
        rocksdb_pinnableslice_destroy(p);
        return store_fail(s, HANSA_ENOMEM, "get: out of memory for a %zu-byte value", n);
    }
    if (n > 0)
        memcpy(copy, v, n);
    rocksdb_pinnableslice_destroy(p);
    *val = copy;
    *val_len = n;
    return HANSA_OK;
}

hansa_err store_get_block(struct store *s, uint64_t height, uint8_t **val, size_t *val_len)
{
    uint8_t k[8];
    store_be64_put(k, height);
    return store_get(s, STORE_BLOCKS, k, sizeof k, val, val_len);
}

hansa_err store_tx_location(struct store *s, const uint8_t tx_id[32], uint64_t *height,
                            uint32_t *index)
{
    HANSA_ASSERT(tx_id != NULL && height != NULL && index != NULL);
    uint8_t *v = NULL;
    size_t n = 0;
    hansa_err rv = store_get(s, STORE_TXS, tx_id, WIRE_HASH_BYTES, &v, &n);
    if (rv != HANSA_OK)
        return rv;
    ProtobufCMessage *m = NULL;
    rv = wire_decode(&hansa__tx_location__descriptor, v, n, 64, WIRE_LENIENT, &m);
    free(v);
    if (rv != HANSA_OK)
        return store_fail(s, HANSA_EFORMAT, "txs: stored TxLocation does not decode (%s)",
                          hansa_strerror(rv));
    const Hansa__TxLocation *loc = (const Hansa__TxLocation *)m;
    *height = loc->height;
    *index = loc->index;
    wire_free(m);
    return HANSA_OK;
}

/* The exclusive upper bound of keys starting with prefix, into ub (of
 * prefix_len bytes); returns its length, 0 for "no bound". */
static size_t prefix_upper_bound(const uint8_t *prefix, size_t prefix_len, uint8_t *ub)
{
    size_t n = prefix_len;
    while (n > 0 && prefix[n - 1] == 0xffu)
        n--;
    if (n == 0)
        return 0;
    memcpy(ub, prefix, n);
    ub[n - 1]++;
    return n;
}

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n > 0 ? memcmp(a, b, n) : 0;
    return c != 0 ? c : (an > bn) - (an < bn);
}

/* Visit from the iterator's position while keys have the prefix. */
static void scan_loop(rocksdb_iterator_t *it, const uint8_t *prefix, size_t prefix_len,
                      ledger_visit_fn visit, void *arg)
{
    for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen = 0, vlen = 0;
        const char *k = rocksdb_iter_key(it, &klen);
        /* The upper bound already ends the range; this guards the no-bound
         * case of an all-0xff prefix. */
        if (prefix_len > 0 && (klen < prefix_len || memcmp(k, prefix, prefix_len) != 0))
            break;
        const char *v = rocksdb_iter_value(it, &vlen);
        if (!visit(arg, (const uint8_t *)k, klen, (const uint8_t *)v, vlen))
            break;
    }
}

hansa_err store_scan(struct store *s, enum store_family f, const uint8_t *prefix, size_t prefix_len,
                     const uint8_t *from, size_t from_len, ledger_visit_fn visit, void *arg)
{
    return store_scan_range(s, f, prefix, prefix_len, from, from_len, NULL, 0, visit, arg);
}

hansa_err store_scan_range(struct store *s, enum store_family f, const uint8_t *prefix,
                           size_t prefix_len, const uint8_t *from, size_t from_len,
                           const uint8_t *until, size_t until_len, ledger_visit_fn visit, void *arg)
{
    HANSA_ASSERT(s != NULL && f < STORE_FAMILY_COUNT && visit != NULL);
    HANSA_ASSERT(prefix != NULL || prefix_len == 0);
    HANSA_ASSERT(until == NULL || until_len > 0);
    uint8_t *ub = malloc(prefix_len > 0 ? prefix_len : 1);
    if (ub == NULL)
        return store_fail(s, HANSA_ENOMEM, "scan: out of memory");
    size_t ub_len = prefix_upper_bound(prefix, prefix_len, ub);
    const uint8_t *bound = ub;
    if (until != NULL && (ub_len == 0 || key_cmp(until, until_len, ub, ub_len) < 0)) {
        bound = until; /* tighter than the prefix's end */
        ub_len = until_len;
    }
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    HANSA_ASSERT(ro != NULL);
    if (ub_len > 0)
        rocksdb_readoptions_set_iterate_upper_bound(ro, (const char *)bound, ub_len);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, s->cf[f]);

    const uint8_t *start = prefix;
    size_t start_len = prefix_len;
    if (from != NULL && key_cmp(from, from_len, prefix, prefix_len) > 0) {
        start = from;
        start_len = from_len;
    }
    rocksdb_iter_seek(it, (const char *)(start != NULL ? start : (const uint8_t *)""), start_len);
    scan_loop(it, prefix, prefix_len, visit, arg);

    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    /* Iterator first, then what it points into (LIBNOTES 2.3). */
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    free(ub);
    if (err != NULL)
        return store_fail_rocks(s, "scan", &err);
    return HANSA_OK;
}

hansa_err store_scan_back(struct store *s, enum store_family f, const uint8_t *prefix,
                          size_t prefix_len, const uint8_t *from, size_t from_len,
                          ledger_visit_fn visit, void *arg)
{
    HANSA_ASSERT(s != NULL && f < STORE_FAMILY_COUNT && visit != NULL);
    HANSA_ASSERT(prefix != NULL || prefix_len == 0);
    HANSA_ASSERT(from != NULL);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    HANSA_ASSERT(ro != NULL);
    if (prefix_len > 0)
        rocksdb_readoptions_set_iterate_lower_bound(ro, (const char *)prefix, prefix_len);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, s->cf[f]);
    rocksdb_iter_seek_for_prev(it, (const char *)from, from_len);
    for (; rocksdb_iter_valid(it); rocksdb_iter_prev(it)) {
        size_t klen = 0, vlen = 0;
        const char *k = rocksdb_iter_key(it, &klen);
        if (klen < prefix_len || memcmp(k, prefix, prefix_len) != 0) {
            /* Past the prefix's keys (from lies beyond them): step back to
             * them. Below them the lower bound has already ended it. */
            if (key_cmp((const uint8_t *)k, klen, prefix, prefix_len) > 0)
                continue;
            break;
        }
        const char *v = rocksdb_iter_value(it, &vlen);
        if (!visit(arg, (const uint8_t *)k, klen, (const uint8_t *)v, vlen))
            break;
    }
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    if (err != NULL)
        return store_fail_rocks(s, "scan back", &err);
    return HANSA_OK;
}

static hansa_err state_get(void *ctx, const uint8_t *key, size_t key_len, uint8_t **val,
                           size_t *val_len)
{
    return store_get(ctx, STORE_STATE, key, key_len, val, val_len);
}

static hansa_err state_scan(void *ctx, const uint8_t *prefix, size_t prefix_len,
                            ledger_visit_fn visit, void *arg)
{
    return store_scan(ctx, STORE_STATE, prefix, prefix_len, NULL, 0, visit, arg);
}

struct ledger_state store_ledger_state(struct store *s)
{
    HANSA_ASSERT(s != NULL);
    struct ledger_state st = {.ctx = s, .get = state_get, .scan = state_scan};
    return st;
}

hansa_err store_meta_u64(struct store *s, const char *key, uint64_t *v)
{
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = store_get(s, STORE_META, (const uint8_t *)key, strlen(key), &val, &len);
    *v = 0;
    if (rv == HANSA_ENOENT)
        return HANSA_OK;
    if (rv == HANSA_OK && len == 8)
        *v = store_be64_get(val);
    else if (rv == HANSA_OK)
        rv = HANSA_EFORMAT;
    free(val);
    return rv;
}

hansa_err store_meta_cursor(struct store *s, const char *key, uint64_t *height, uint32_t *ordinal)
{
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = store_get(s, STORE_META, (const uint8_t *)key, strlen(key), &val, &len);
    *height = 0;
    *ordinal = 0;
    if (rv == HANSA_ENOENT)
        return HANSA_OK;
    if (rv == HANSA_OK && len == 12) {
        *height = store_be64_get(val);
        *ordinal =
            (uint32_t)val[8] << 24 | (uint32_t)val[9] << 16 | (uint32_t)val[10] << 8 | val[11];
    } else if (rv == HANSA_OK) {
        rv = HANSA_EFORMAT;
    }
    free(val);
    return rv;
}
