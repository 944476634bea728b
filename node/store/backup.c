/*
 * Backups: a RocksDB checkpoint of the whole database, then a check that
 * the copy is a complete store.
 *
 * rocksdb_checkpoint_create flushes the memtables (log_size_for_flush = 0)
 * and hard-links the SST files into the new directory (copies them across
 * filesystems), with the WAL tail copied. The target must not exist; we
 * check first to give the operator a plain sentence, and map RocksDB's own
 * "Directory exists" for the race.
 *
 * Verification: the checkpoint is opened read-only exactly as store_open
 * would (schema, meta tip, last block = meta height) and its height must be
 * at least the handle's height when the backup started. A failed check
 * removes the checkpoint directory, so a backup that exists is a good one.
 *
 * Why the check matters (found by test, RocksDB 7.8.3): a checkpoint taken
 * through a READ-ONLY handle while a writer (the node) has the database
 * open is only right if the writer neither flushed nor compacted since the
 * read-only open. Otherwise RocksDB returns success and writes a checkpoint
 * made of the MANIFEST as of the read-only open, without the WAL files the
 * writer has deleted since: the copy silently lacks data, up to all of it
 * (height -1: not even genesis). If the writer reopened the database
 * meanwhile, its MANIFEST is gone and RocksDB does fail ("No such file").
 * Both become HANSA_EBUSY with a sentence saying what to do. The check
 * catches a copy that lost the tip; it cannot prove that every family of
 * a copy that kept it is whole. So backups of a live node must be taken
 * through the node's own (read-write) handle; a read-only handle is for a
 * database no node is running on.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hansa/assert.h"
#include "internal.h"

/* Remove a checkpoint directory (flat: RocksDB writes no subdirectories). */
static void remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        int fd = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            (void)unlinkat(fd, e->d_name, 0);
        }
        closedir(d);
    }
    (void)rmdir(dir);
}

/* The why for a read-only handle whose checkpoint the writer spoiled. */
static void read_only_busy_why(char *why, size_t why_len, const char *detail, const char *dir)
{
    store_set_why(why, why_len,
                  "the checkpoint taken through a read-only handle is incomplete (%s): a node "
                  "probably flushed, compacted or reopened the database since this handle was "
                  "opened. Take the backup through the running node, or stop it and retry; "
                  "nothing was left in %s",
                  detail, dir);
}

static hansa_err checkpoint_create(struct store *s, const char *dir, char *why, size_t why_len)
{
    char *err = NULL;
    rocksdb_checkpoint_t *cp = rocksdb_checkpoint_object_create(s->db, &err);
    if (err == NULL) {
        rocksdb_checkpoint_create(cp, dir, 0 /* log_size_for_flush: always flush */, &err);
        rocksdb_checkpoint_object_destroy(cp);
    }
    if (err == NULL)
        return HANSA_OK;
    hansa_err rv = store_map_error(err);
    if (strstr(err, "Directory exists") != NULL) {
        rv = HANSA_EEXIST;
        store_set_why(why, why_len, "backup target %s already exists: %s", dir, err);
    } else if (s->read_only && rv == HANSA_ENOENT) {
        /* A file the read-only handle knows (its MANIFEST, a WAL) is gone:
         * the writer replaced it. RocksDB removes its partial copy. */
        rv = HANSA_EBUSY;
        read_only_busy_why(why, why_len, err, dir);
    } else {
        store_set_why(why, why_len, "checkpoint into %s failed: %s", dir, err);
    }
    (void)store_fail(s, rv, "checkpoint into %s failed: %s", dir, err);
    rocksdb_free(err);
    return rv;
}

/* Open the checkpoint as a store and compare its height with height_min. */
static hansa_err checkpoint_verify(struct store *s, const char *dir, uint64_t height_min, char *why,
                                   size_t why_len)
{
    char vwhy[STORE_ERROR_BYTES] = "";
    struct store *b = NULL;
    hansa_err rv = store_open_readonly(dir, &b, vwhy, sizeof vwhy);
    uint64_t h = rv == HANSA_OK ? store_height(b) : STORE_NO_HEIGHT;
    store_close(b);
    if (rv == HANSA_OK &&
        (height_min == STORE_NO_HEIGHT || (h != STORE_NO_HEIGHT && h >= height_min)))
        return HANSA_OK;
    if (rv == HANSA_OK)
        snprintf(vwhy, sizeof vwhy, "it holds height %lld, the database had %llu",
                 h == STORE_NO_HEIGHT ? -1LL : (long long)h, (unsigned long long)height_min);
    if (s->read_only) {
        read_only_busy_why(why, why_len, vwhy, dir);
        rv = HANSA_EBUSY;
    } else {
        store_set_why(why, why_len, "the checkpoint in %s does not check out (%s); it was removed",
                      dir, vwhy);
        rv = HANSA_EIO;
    }
    (void)store_fail(s, rv, "backup into %s: %s", dir, vwhy);
    remove_flat_dir(dir);
    return rv;
}

hansa_err store_backup(struct store *s, const char *dir, char *why, size_t why_len)
{
    HANSA_ASSERT(s != NULL && dir != NULL);
    struct stat st;
    if (stat(dir, &st) == 0) {
        store_set_why(why, why_len,
                      "backup target %s already exists; a checkpoint must go into a directory "
                      "that does not exist yet",
                      dir);
        return store_fail(s, HANSA_EEXIST, "backup target %s already exists", dir);
    }
    if (errno != ENOENT) {
        store_set_why(why, why_len, "cannot check backup target %s: %s", dir, strerror(errno));
        return store_fail(s, HANSA_EIO, "cannot check backup target %s", dir);
    }
    uint64_t height_min = store_height(s);
    hansa_err rv = checkpoint_create(s, dir, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    return checkpoint_verify(s, dir, height_min, why, why_len);
}
