/*
 * Opening, checking and closing the store.
 *
 * store_open opens the database with every column family of store.h (RocksDB
 * refuses a subset, LIBNOTES 2.1), creating what is missing, then:
 *   1. schema: meta/schema must be be32 STORE_SCHEMA_VERSION. A new, empty
 *      database gets it written (synced); a database with data but no
 *      schema, or another version, is refused (HANSA_EFORMAT).
 *   2. tip: meta/height (be64) and meta/state_root (32 bytes) are read and
 *      cached. Both are present (genesis done) or both absent.
 *   3. recovery check: every block commit is one synced WriteBatch, so
 *      RocksDB's WAL recovery alone brings back a whole prefix of blocks;
 *      there is nothing to redo. What is checked is that this held: the
 *      last key of the blocks family (SeekToLast) must be meta/height (or
 *      the family empty at height 0 or before genesis, since genesis has no
 *      block). A disagreement means the files were damaged or written by
 *      something else, and the store refuses to open (HANSA_EFORMAT).
 *
 * store_open_readonly does the same without writing anything. A read-only
 * handle sees the database as of its open (the files plus the WAL replayed
 * into memory); it may coexist with a writer in this or another process,
 * and its cached height does not advance.
 *
 * Errors: every RocksDB error string is taken with the errptr convention of
 * LIBNOTES 2.6 (NULL on entry, freed and reset after use) and mapped by
 * store_map_error; why receives a sentence that includes RocksDB's message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hansa/assert.h"
#include "internal.h"

_Static_assert(STORE_FAMILY_COUNT == 7, "update store_family_names with enum store_family");

const char *const store_family_names[STORE_FAMILY_COUNT] = {
    [STORE_BLOCKS] = "blocks", [STORE_BLOCK_IDS] = "block_ids", [STORE_TXS] = "txs",
    [STORE_STATE] = "state",   [STORE_HISTORY] = "history",     [STORE_ALERTS] = "alerts",
    [STORE_META] = "meta",
};

void store_set_why(char *why, size_t why_len, const char *fmt, ...)
{
    if (why == NULL || why_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

hansa_err store_map_error(const char *msg)
{
    /* Another process holds the fcntl lock on LOCK ("While lock file"), or
     * this process already has the database open ("lock hold by current
     * process"). */
    if (strstr(msg, "lock hold by current process") != NULL ||
        strstr(msg, "While lock file") != NULL)
        return HANSA_EBUSY;
    if (strncmp(msg, "Corruption", 10) == 0)
        return HANSA_EFORMAT;
    if (strstr(msg, "No such file or directory") != NULL)
        return HANSA_ENOENT;
    if (strncmp(msg, "Invalid argument", 16) == 0 || strncmp(msg, "Not implemented", 15) == 0)
        return HANSA_EINVAL;
    return HANSA_EIO;
}

hansa_err store_fail(struct store *s, hansa_err rv, const char *fmt, ...)
{
    HANSA_ASSERT(rv != HANSA_OK);
    char buf[STORE_ERROR_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&s->mu);
    memcpy(s->last_error, buf, sizeof buf);
    pthread_mutex_unlock(&s->mu);
    return rv;
}

hansa_err store_fail_rocks(struct store *s, const char *what, char **err)
{
    HANSA_ASSERT(*err != NULL);
    hansa_err rv = store_map_error(*err);
    rv = store_fail(s, rv, "%s: %s", what, *err);
    rocksdb_free(*err);
    *err = NULL;
    return rv;
}

void store_last_error(struct store *s, char *why, size_t why_len)
{
    HANSA_ASSERT(s != NULL);
    pthread_mutex_lock(&s->mu);
    store_set_why(why, why_len, "%s", s->last_error[0] ? s->last_error : "no error");
    pthread_mutex_unlock(&s->mu);
}

bool store_meta_key_reserved(const uint8_t *key, size_t len)
{
    static const char *const reserved[] = {STORE_META_HEIGHT, STORE_META_STATE_ROOT,
                                           STORE_META_SCHEMA};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (len == strlen(reserved[i]) && memcmp(key, reserved[i], len) == 0)
            return true;
    return false;
}

void store_set_tip(struct store *s, uint64_t height, const uint8_t root[32])
{
    pthread_mutex_lock(&s->mu);
    s->height = height;
    memcpy(s->root, root, 32);
    pthread_mutex_unlock(&s->mu);
}

uint64_t store_height(const struct store *s)
{
    HANSA_ASSERT(s != NULL);
    /* The handle is never const itself (store_open allocates it); the lock
     * is how readers on other threads see a commit's update whole. */
    struct store *m = (struct store *)(uintptr_t)s;
    pthread_mutex_lock(&m->mu);
    uint64_t h = m->height;
    pthread_mutex_unlock(&m->mu);
    return h;
}

void store_state_root(const struct store *s, uint8_t root[32])
{
    HANSA_ASSERT(s != NULL && root != NULL);
    struct store *m = (struct store *)(uintptr_t)s;
    pthread_mutex_lock(&m->mu);
    memcpy(root, m->root, 32);
    pthread_mutex_unlock(&m->mu);
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    /* LIBNOTES 2.1: family handles before the database. */
    for (size_t i = 0; i < STORE_FAMILY_COUNT; i++)
        if (s->cf[i] != NULL)
            rocksdb_column_family_handle_destroy(s->cf[i]);
    if (s->default_cf != NULL)
        rocksdb_column_family_handle_destroy(s->default_cf);
    if (s->db != NULL)
        rocksdb_close(s->db);
    if (s->opts != NULL)
        rocksdb_options_destroy(s->opts);
    if (s->wo_sync != NULL)
        rocksdb_writeoptions_destroy(s->wo_sync);
    if (s->ro != NULL)
        rocksdb_readoptions_destroy(s->ro);
    if (s->mu_ready)
        pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Why for a failed rocksdb_open*: say what the operator can do about it. */
static hansa_err open_error(const char *dir, const char *msg, char *why, size_t why_len)
{
    hansa_err rv = store_map_error(msg);
    if (rv == HANSA_EBUSY) {
        store_set_why(why, why_len,
                      "database %s is in use by another process (or already open in this one): "
                      "stop the other node first (%s)",
                      dir, msg);
    } else if (strstr(msg, "Column families not opened") != NULL) {
        rv = HANSA_EFORMAT;
        store_set_why(why, why_len,
                      "database %s has column families this build does not know (written by a "
                      "newer version?): %s",
                      dir, msg);
    } else if (rv == HANSA_ENOENT) {
        store_set_why(why, why_len, "no database in %s: %s", dir, msg);
    } else {
        if (rv == HANSA_EINVAL)
            rv = HANSA_EFORMAT; /* what we pass is fixed; the files are what differ */
        store_set_why(why, why_len, "cannot open database %s: %s", dir, msg);
    }
    return rv;
}

/* Point read of a meta key into buf (exactly want bytes). HANSA_ENOENT if
 * absent, HANSA_EFORMAT if present with another length. */
static hansa_err meta_read(struct store *s, const char *key, uint8_t *buf, size_t want, char *why,
                           size_t why_len)
{
    char *err = NULL;
    rocksdb_pinnableslice_t *p =
        rocksdb_get_pinned_cf(s->db, s->ro, s->cf[STORE_META], key, strlen(key), &err);
    if (err != NULL) {
        hansa_err rv = store_map_error(err);
        store_set_why(why, why_len, "cannot read meta/%s: %s", key, err);
        rocksdb_free(err);
        return rv;
    }
    if (p == NULL)
        return HANSA_ENOENT;
    size_t n = 0;
    const char *v = rocksdb_pinnableslice_value(p, &n);
    hansa_err rv = HANSA_OK;
    if (n != want) {
        store_set_why(why, why_len, "meta/%s is %zu bytes, expected %zu: not a Hansa database?",
                      key, n, want);
        rv = HANSA_EFORMAT;
    } else {
        memcpy(buf, v, want);
    }
    rocksdb_pinnableslice_destroy(p);
    return rv;
}

/* Whether family f holds any key; HANSA_OK with *any set, or an error. */
static hansa_err family_nonempty(struct store *s, enum store_family f, bool *any, char *why,
                                 size_t why_len)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[f]);
    rocksdb_iter_seek_to_first(it);
    *any = rocksdb_iter_valid(it) != 0;
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    if (err != NULL) {
        hansa_err rv = store_map_error(err);
        store_set_why(why, why_len, "cannot read family %s: %s", store_family_names[f], err);
        rocksdb_free(err);
        return rv;
    }
    return HANSA_OK;
}

/* A new database (nothing in meta, blocks or state) gets the schema
 * version; anything else without one is refused. */
static hansa_err schema_init(struct store *s, const char *dir, char *why, size_t why_len)
{
    bool has_blocks = false, has_state = false, has_meta = false;
    hansa_err rv = family_nonempty(s, STORE_BLOCKS, &has_blocks, why, why_len);
    if (rv == HANSA_OK)
        rv = family_nonempty(s, STORE_STATE, &has_state, why, why_len);
    if (rv == HANSA_OK)
        rv = family_nonempty(s, STORE_META, &has_meta, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    if (has_blocks || has_state || has_meta || s->read_only) {
        store_set_why(why, why_len,
                      "database %s has no schema version (meta/schema): not a Hansa database, "
                      "or never initialised",
                      dir);
        return HANSA_EFORMAT;
    }
    uint8_t v[4];
    store_be32_put(v, STORE_SCHEMA_VERSION);
    char *err = NULL;
    rocksdb_put_cf(s->db, s->wo_sync, s->cf[STORE_META], STORE_META_SCHEMA,
                   strlen(STORE_META_SCHEMA), (const char *)v, sizeof v, &err);
    if (err != NULL) {
        rv = store_map_error(err);
        store_set_why(why, why_len, "cannot write the schema version into %s: %s", dir, err);
        rocksdb_free(err);
        return rv;
    }
    return HANSA_OK;
}

static hansa_err schema_check(struct store *s, const char *dir, char *why, size_t why_len)
{
    uint8_t v[4];
    hansa_err rv = meta_read(s, STORE_META_SCHEMA, v, sizeof v, why, why_len);
    if (rv == HANSA_ENOENT)
        return schema_init(s, dir, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    uint32_t version = store_be32_get(v);
    if (version != STORE_SCHEMA_VERSION) {
        store_set_why(why, why_len,
                      "database %s has schema version %u; this build reads version %u only "
                      "(migrate it or use a matching hansad)",
                      dir, version, STORE_SCHEMA_VERSION);
        return HANSA_EFORMAT;
    }
    return HANSA_OK;
}

static hansa_err tip_load(struct store *s, const char *dir, char *why, size_t why_len)
{
    uint8_t h[8];
    hansa_err rh = meta_read(s, STORE_META_HEIGHT, h, sizeof h, why, why_len);
    if (rh != HANSA_OK && rh != HANSA_ENOENT)
        return rh;
    hansa_err rr = meta_read(s, STORE_META_STATE_ROOT, s->root, sizeof s->root, why, why_len);
    if (rr != HANSA_OK && rr != HANSA_ENOENT)
        return rr;
    if (rh != rr) {
        store_set_why(why, why_len,
                      "database %s is corrupt: meta/height is %s but meta/state_root is %s", dir,
                      rh == HANSA_OK ? "present" : "absent", rr == HANSA_OK ? "present" : "absent");
        return HANSA_EFORMAT;
    }
    s->height = rh == HANSA_OK ? store_be64_get(h) : STORE_NO_HEIGHT;
    if (rh == HANSA_OK && s->height == STORE_NO_HEIGHT) {
        store_set_why(why, why_len, "database %s is corrupt: meta/height is 2^64-1", dir);
        return HANSA_EFORMAT;
    }
    return HANSA_OK;
}

/* Invariant 1 of store.h, checked: the last block is the meta height. */
static hansa_err tip_verify(struct store *s, const char *dir, char *why, size_t why_len)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ro, s->cf[STORE_BLOCKS]);
    rocksdb_iter_seek_to_last(it);
    bool valid = rocksdb_iter_valid(it) != 0;
    size_t klen = 0;
    const char *k = valid ? rocksdb_iter_key(it, &klen) : NULL;
    uint64_t last = (valid && klen == 8) ? store_be64_get((const uint8_t *)k) : 0;
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    if (err != NULL) {
        hansa_err rv = store_map_error(err);
        store_set_why(why, why_len, "cannot read the last block of %s: %s", dir, err);
        rocksdb_free(err);
        return rv;
    }
    char meta[24];
    if (s->height == STORE_NO_HEIGHT)
        snprintf(meta, sizeof meta, "absent");
    else
        snprintf(meta, sizeof meta, "%llu", (unsigned long long)s->height);
    if (!valid) {
        if (s->height == STORE_NO_HEIGHT || s->height == 0)
            return HANSA_OK;
        store_set_why(why, why_len,
                      "database %s is corrupt: meta/height is %s but the blocks family is empty; "
                      "restore it from a backup",
                      dir, meta);
        return HANSA_EFORMAT;
    }
    if (klen != 8) {
        store_set_why(why, why_len,
                      "database %s is corrupt: the last key of the blocks family is %zu bytes, "
                      "not an 8-byte height",
                      dir, klen);
        return HANSA_EFORMAT;
    }
    if (s->height == STORE_NO_HEIGHT || last != s->height) {
        store_set_why(why, why_len,
                      "database %s is corrupt: the last block is %llu but meta/height is %s; a "
                      "block commit is one batch, so the files were damaged or written by "
                      "something else: restore from a backup",
                      dir, (unsigned long long)last, meta);
        return HANSA_EFORMAT;
    }
    return HANSA_OK;
}

static hansa_err open_db(struct store *s, const char *dir, char *why, size_t why_len)
{
    const char *names[STORE_FAMILY_COUNT + 1];
    const rocksdb_options_t *cf_opts[STORE_FAMILY_COUNT + 1];
    rocksdb_column_family_handle_t *handles[STORE_FAMILY_COUNT + 1] = {0};
    names[0] = "default";
    cf_opts[0] = s->opts;
    for (size_t i = 0; i < STORE_FAMILY_COUNT; i++) {
        names[i + 1] = store_family_names[i];
        cf_opts[i + 1] = s->opts;
    }
    char *err = NULL;
    if (s->read_only)
        s->db = rocksdb_open_for_read_only_column_families(s->opts, dir, STORE_FAMILY_COUNT + 1,
                                                           names, cf_opts, handles,
                                                           0 /* error_if_wal_file_exists */, &err);
    else
        s->db = rocksdb_open_column_families(s->opts, dir, STORE_FAMILY_COUNT + 1, names, cf_opts,
                                             handles, &err);
    if (err != NULL) {
        hansa_err rv = open_error(dir, err, why, why_len);
        rocksdb_free(err);
        s->db = NULL; /* an error leaves no database behind */
        return rv;
    }
    HANSA_ASSERT(s->db != NULL);
    s->default_cf = handles[0];
    for (size_t i = 0; i < STORE_FAMILY_COUNT; i++)
        s->cf[i] = handles[i + 1];
    return HANSA_OK;
}

/* A read-only open must not create anything, but RocksDB creates the
 * directory (for its info LOG) before it finds no database there. */
static hansa_err exists_check(const char *dir, char *why, size_t why_len)
{
    char current[4096];
    int n = snprintf(current, sizeof current, "%s/CURRENT", dir);
    if (n < 0 || (size_t)n >= sizeof current) {
        store_set_why(why, why_len, "database path too long: %s", dir);
        return HANSA_EINVAL;
    }
    struct stat st;
    if (stat(current, &st) != 0) {
        int e = errno;
        store_set_why(why, why_len, "no database in %s: %s: %s", dir, current, strerror(e));
        return e == ENOENT || e == ENOTDIR ? HANSA_ENOENT : HANSA_EIO;
    }
    return HANSA_OK;
}

static hansa_err open_common(const char *dir, bool read_only, struct store **out, char *why,
                             size_t why_len)
{
    HANSA_ASSERT(dir != NULL && out != NULL);
    *out = NULL;
    struct store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        store_set_why(why, why_len, "out of memory opening %s", dir);
        return HANSA_ENOMEM;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        store_set_why(why, why_len, "cannot create a mutex opening %s", dir);
        return HANSA_ENOMEM;
    }
    s->mu_ready = true;
    s->read_only = read_only;
    s->height = STORE_NO_HEIGHT;
    s->opts = store_options_create();
    s->wo_sync = rocksdb_writeoptions_create();
    s->ro = rocksdb_readoptions_create();
    HANSA_ASSERT(s->wo_sync != NULL && s->ro != NULL);
    /* fsync the WAL before a write returns: a committed block survives a
     * power loss, not only a process crash (LIBNOTES 2.2). */
    rocksdb_writeoptions_set_sync(s->wo_sync, 1);

    hansa_err rv = read_only ? exists_check(dir, why, why_len) : HANSA_OK;
    if (rv == HANSA_OK)
        rv = open_db(s, dir, why, why_len);
    if (rv == HANSA_OK)
        rv = schema_check(s, dir, why, why_len);
    if (rv == HANSA_OK)
        rv = tip_load(s, dir, why, why_len);
    if (rv == HANSA_OK)
        rv = tip_verify(s, dir, why, why_len);
    if (rv != HANSA_OK) {
        store_close(s);
        return rv;
    }
    *out = s;
    return HANSA_OK;
}

hansa_err store_open(const char *dir, struct store **out, char *why, size_t why_len)
{
    return open_common(dir, false, out, why, why_len);
}

hansa_err store_open_readonly(const char *dir, struct store **out, char *why, size_t why_len)
{
    return open_common(dir, true, out, why, why_len);
}
