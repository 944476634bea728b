/*
 * node/store on a real RocksDB in a temporary directory: commits and reads,
 * heights, deletes, scans, reopen, schema and corruption checks, locking,
 * checkpoints, and atomicity of a block commit under SIGKILL.
 *
 * Test blocks are built by hand (struct ledger_output with generated
 * writes, blocks.h), deterministic in the height, so a test can recompute
 * what block b must have left in every family, and check that nothing of
 * block b + 1 is there. Processes that must be killed, or must hold the
 * database from outside, are store_crash_writer (crash_writer.c), exec'd.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <rocksdb/c.h>

#include "../unit/leakcheck.h"
#include "blocks.h"
#include "store.h"

/* ---- temporary directories ----------------------------------------------- */

static char g_root[64];

static void rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[512];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                rm_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void setup(void)
{
    snprintf(g_root, sizeof g_root, "/tmp/hansa-store-XXXXXX");
    cr_assert_not_null(mkdtemp(g_root), "mkdtemp: %s", strerror(errno));
}

static void close_all(void);

static void teardown(void)
{
    close_all();
    rm_tree(g_root);
}

TestSuite(store, .init = setup, .fini = teardown, .timeout = 60);

/* g_root/name into buf. */
static const char *path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", g_root, name);
    return buf;
}

static bool path_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* ---- open stores and writer processes --------------------------------------- */

/* Stores a test has open, closed by teardown if an assertion ends the test
 * early: a process that exits with a RocksDB database open can hang in
 * RocksDB's static destructors. */
#define OPEN_STORES_MAX 8
static struct store *g_open[OPEN_STORES_MAX];

static struct store *track(struct store *s)
{
    for (int i = 0; i < OPEN_STORES_MAX; i++)
        if (g_open[i] == NULL) {
            g_open[i] = s;
            return s;
        }
    cr_assert_fail("more than %d stores open", OPEN_STORES_MAX);
    return NULL;
}

static void close_store(struct store *s)
{
    for (int i = 0; i < OPEN_STORES_MAX; i++)
        if (g_open[i] == s)
            g_open[i] = NULL;
    store_close(s);
}

static void close_all(void)
{
    for (int i = 0; i < OPEN_STORES_MAX; i++) {
        store_close(g_open[i]);
        g_open[i] = NULL;
    }
}

/* A store_crash_writer process: out reads its stdout, in writes its stdin. */
struct writer {
    pid_t pid;
    int out, in;
};

static struct writer writer_start(const char *mode, const char *dir, const char *arg)
{
    int out[2], in[2];
    cr_assert_eq(pipe(out), 0);
    cr_assert_eq(pipe(in), 0);
    char *argv[] = {(char *)STORE_CRASH_WRITER, (char *)mode, (char *)dir, (char *)arg, NULL};
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* Only async-signal-safe calls between fork and exec. */
        dup2(out[1], STDOUT_FILENO);
        dup2(in[0], STDIN_FILENO);
        close(out[0]);
        close(out[1]);
        close(in[0]);
        close(in[1]);
        execv(STORE_CRASH_WRITER, argv);
        _exit(127);
    }
    close(out[1]);
    close(in[0]);
    return (struct writer){pid, out[0], in[1]};
}

/* Close the writer's stdin (a holder then exits) and reap it. */
static int writer_stop(struct writer *w)
{
    close(w->in);
    close(w->out);
    int status = 0;
    cr_assert_eq(waitpid(w->pid, &status, 0), w->pid);
    return status;
}

static struct store *open_ok(const char *dir)
{
    struct store *s = NULL;
    char why[512] = "";
    hansa_err rv = store_open(dir, &s, why, sizeof why);
    cr_assert_eq(rv, HANSA_OK, "store_open(%s): %s: %s", dir, hansa_errname(rv), why);
    return track(s);
}

static struct store *open_ro_ok(const char *dir)
{
    struct store *s = NULL;
    char why[512] = "";
    hansa_err rv = store_open_readonly(dir, &s, why, sizeof why);
    cr_assert_eq(rv, HANSA_OK, "store_open_readonly(%s): %s: %s", dir, hansa_errname(rv), why);
    return track(s);
}

/* A fresh store at g_root/name with genesis and blocks 1..n committed. */
static struct store *store_with_blocks(const char *name, uint64_t n)
{
    char dir[256];
    struct store *s = open_ok(path_in(dir, sizeof dir, name));
    cr_assert_eq(tb_commit_genesis(s), HANSA_OK);
    for (uint64_t b = 1; b <= n; b++)
        cr_assert_eq(tb_commit_block(s, b), HANSA_OK, "block %llu", (unsigned long long)b);
    return s;
}

/* ---- checks of what a block left behind ---------------------------------- */

static void expect_value(struct store *s, enum store_family f, const uint8_t *key, size_t key_len,
                         const uint8_t *want, size_t want_len, const char *what, uint64_t b)
{
    uint8_t *v = NULL;
    size_t n = 0;
    hansa_err rv = store_get(s, f, key, key_len, &v, &n);
    cr_assert_eq(rv, HANSA_OK, "block %llu: %s: %s", (unsigned long long)b, what,
                 hansa_errname(rv));
    cr_assert_eq(n, want_len, "block %llu: %s: %zu bytes, want %zu", (unsigned long long)b, what, n,
                 want_len);
    cr_assert(memcmp(v, want, n) == 0, "block %llu: %s: wrong value", (unsigned long long)b, what);
    free(v);
}

static void expect_absent(struct store *s, enum store_family f, const uint8_t *key, size_t key_len,
                          const char *what, uint64_t b)
{
    uint8_t *v = NULL;
    size_t n = 0;
    hansa_err rv = store_get(s, f, key, key_len, &v, &n);
    cr_assert_eq(rv, HANSA_ENOENT, "block %llu: %s should be absent, got %s", (unsigned long long)b,
                 what, hansa_errname(rv));
    cr_assert_null(v);
}

/* Every key block b wrote that later blocks do not overwrite. */
static void expect_block_complete(struct store *s, uint64_t b)
{
    struct tb_block *k = tb_block_make(b);
    uint8_t h8[8], key[12];
    tb_be64(h8, b);
    uint8_t *v = NULL;
    size_t n = 0;
    cr_assert_eq(store_get_block(s, b, &v, &n), HANSA_OK, "block %llu", (unsigned long long)b);
    cr_assert(n == sizeof k->stored && memcmp(v, k->stored, n) == 0);
    free(v);
    expect_value(s, STORE_BLOCK_IDS, k->hash, 32, h8, 8, "block id", b);
    for (uint32_t i = 0; i < TB_TXS_PER_BLOCK; i++) {
        uint64_t th = 0;
        uint32_t ti = 99;
        cr_assert_eq(store_tx_location(s, k->tx_ids + 32 * i, &th, &ti), HANSA_OK);
        cr_assert(th == b && ti == i, "tx %u of block %llu at %llu/%u", i, (unsigned long long)b,
                  (unsigned long long)th, ti);
    }
    for (uint32_t i = 0; i < TB_STATE_PER_BLOCK; i++) {
        tb_state_key(b, i, key);
        const struct ledger_write *w = &k->out.state[1 + i];
        expect_value(s, STORE_STATE, key, 12, w->val, w->val_len, "state", b);
    }
    for (uint32_t i = 0; i < TB_HISTORY_PER_BLOCK; i++) {
        tb_history_key(b, i, key);
        const struct ledger_write *w = &k->out.history[i];
        expect_value(s, STORE_HISTORY, key, 12, w->val, w->val_len, "history", b);
        /* The by-height index names the same key, in execution order. */
        uint8_t ix[STORE_HISTORY_BY_HEIGHT_BYTES];
        store_history_by_height_key(ix, b, i);
        expect_value(s, STORE_HISTORY, ix, sizeof ix, key, 12, "history index", b);
    }
    expect_value(s, STORE_ALERTS, k->alert_k, 10, k->alert_v, sizeof k->alert_v, "alert", b);
    tb_block_free(k);
}

/* Nothing block b would write is there. */
static void expect_block_absent(struct store *s, uint64_t b)
{
    struct tb_block *k = tb_block_make(b);
    uint8_t key[12];
    uint8_t *v = NULL;
    size_t n = 0;
    cr_assert_eq(store_get_block(s, b, &v, &n), HANSA_ENOENT, "block %llu present",
                 (unsigned long long)b);
    expect_absent(s, STORE_BLOCK_IDS, k->hash, 32, "block id", b);
    for (uint32_t i = 0; i < TB_TXS_PER_BLOCK; i++)
        expect_absent(s, STORE_TXS, k->tx_ids + 32 * i, 32, "tx", b);
    for (uint32_t i = 0; i < TB_STATE_PER_BLOCK; i++) {
        tb_state_key(b, i, key);
        expect_absent(s, STORE_STATE, key, 12, "state", b);
    }
    for (uint32_t i = 0; i < TB_HISTORY_PER_BLOCK; i++) {
        tb_history_key(b, i, key);
        expect_absent(s, STORE_HISTORY, key, 12, "history", b);
        uint8_t ix[STORE_HISTORY_BY_HEIGHT_BYTES];
        store_history_by_height_key(ix, b, i);
        expect_absent(s, STORE_HISTORY, ix, sizeof ix, "history index", b);
    }
    expect_absent(s, STORE_ALERTS, k->alert_k, 10, "alert", b);
    tb_tmp_key(b, key);
    expect_absent(s, STORE_STATE, key, 12, "tmp", b);
    tb_block_free(k);
}

static bool count_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    (*(size_t *)arg)++;
    return true;
}

static size_t count_prefix(struct store *s, enum store_family f, const char *prefix)
{
    size_t n = 0;
    cr_assert_eq(
        store_scan(s, f, (const uint8_t *)prefix, strlen(prefix), NULL, 0, count_visit, &n),
        HANSA_OK);
    return n;
}

/* The store is exactly at height h: meta, the blocks-wide keys, counts. */
static void expect_tip(struct store *s, uint64_t h)
{
    cr_assert_eq(store_height(s), h);
    uint8_t root[32], want[32], h8[8], key[12];
    store_state_root(s, root);
    tb_root(h, want);
    cr_assert(memcmp(root, want, 32) == 0, "cached root is not root(%llu)", (unsigned long long)h);
    expect_value(s, STORE_META, (const uint8_t *)"state_root", 10, want, 32, "meta/state_root", h);
    tb_be64(h8, h);
    expect_value(s, STORE_META, (const uint8_t *)"height", 6, h8, 8, "meta/height", h);
    expect_value(s, STORE_STATE, (const uint8_t *)"counter", 7, h8, 8, "counter", h);
    tb_tmp_key(h, key);
    expect_value(s, STORE_STATE, key, 12, (const uint8_t *)"t", 1, "tmp", h);
    if (h > 0) {
        tb_tmp_key(h - 1, key);
        expect_absent(s, STORE_STATE, key, 12, "deleted tmp", h);
        expect_value(s, STORE_META, (const uint8_t *)"risk_cursor", 11, h8, 8, "risk_cursor", h);
    }
    /* One more of any family would show in the counts. */
    cr_assert_eq(count_prefix(s, STORE_STATE, "s/"), (size_t)(h + 1) * TB_STATE_PER_BLOCK);
    cr_assert_eq(count_prefix(s, STORE_HISTORY, "h/"), (size_t)(h + 1) * TB_HISTORY_PER_BLOCK);
    cr_assert_eq(count_prefix(s, STORE_BLOCKS, ""), (size_t)h);
    cr_assert_eq(count_prefix(s, STORE_BLOCK_IDS, ""), (size_t)h);
    cr_assert_eq(count_prefix(s, STORE_TXS, ""), (size_t)h * TB_TXS_PER_BLOCK);
    cr_assert_eq(count_prefix(s, STORE_ALERTS, ""), (size_t)h);
}

/* ---- raw RocksDB access, to damage a database on purpose ------------------- */

#define RAW_FAMILIES 8
static const char *const raw_names[RAW_FAMILIES] = {"default", "blocks",  "block_ids", "txs",
                                                    "state",   "history", "alerts",    "meta"};

struct raw {
    rocksdb_options_t *o;
    rocksdb_t *db;
    rocksdb_column_family_handle_t *h[RAW_FAMILIES];
    rocksdb_writeoptions_t *wo;
};

/* Opens with exactly the family names of store.h and no create flags: fails
 * if the store named its families otherwise. */
static void raw_open(struct raw *r, const char *dir)
{
    r->o = rocksdb_options_create();
    const rocksdb_options_t *cfo[RAW_FAMILIES];
    for (int i = 0; i < RAW_FAMILIES; i++)
        cfo[i] = r->o;
    char *err = NULL;
    r->db = rocksdb_open_column_families(r->o, dir, RAW_FAMILIES, raw_names, cfo, r->h, &err);
    cr_assert_null(err, "raw open: %s", err);
    r->wo = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(r->wo, 1);
}

static void raw_put(struct raw *r, int family, const void *k, size_t kl, const void *v, size_t vl)
{
    char *err = NULL;
    if (v == NULL)
        rocksdb_delete_cf(r->db, r->wo, r->h[family], k, kl, &err);
    else
        rocksdb_put_cf(r->db, r->wo, r->h[family], k, kl, v, vl, &err);
    cr_assert_null(err, "raw write: %s", err);
}

static void raw_close(struct raw *r)
{
    for (int i = 0; i < RAW_FAMILIES; i++)
        rocksdb_column_family_handle_destroy(r->h[i]);
    rocksdb_close(r->db);
    rocksdb_writeoptions_destroy(r->wo);
    rocksdb_options_destroy(r->o);
}

/* ---- commits and reads --------------------------------------------------- */

Test(store, commits_genesis_and_blocks_and_reads_every_family_back)
{
    struct store *s = store_with_blocks("db", 3);
    expect_tip(s, 3);
    for (uint64_t b = 1; b <= 3; b++)
        expect_block_complete(s, b);
    expect_block_absent(s, 4);
    /* Genesis state (height 0) is there too, with no block. */
    uint8_t key[12];
    tb_state_key(0, 5, key);
    uint8_t *v = NULL;
    size_t n = 0;
    cr_assert_eq(store_get(s, STORE_STATE, key, 12, &v, &n), HANSA_OK);
    cr_assert_eq(n, tb_state_val_len(0, 5));
    free(v);
    cr_assert_eq(store_get_block(s, 0, &v, &n), HANSA_ENOENT);
    close_store(s);
    EXPECT_NO_LEAKS();
}

Test(store, height_is_none_before_genesis_and_zero_after)
{
    char dir[256];
    struct store *s = open_ok(path_in(dir, sizeof dir, "db"));
    cr_assert_eq(store_height(s), UINT64_MAX);
    cr_assert_eq(tb_commit_genesis(s), HANSA_OK);
    expect_tip(s, 0);
    close_store(s);
}

Test(store, refuses_genesis_twice_and_blocks_at_the_wrong_height)
{
    char dir[256];
    struct store *s = open_ok(path_in(dir, sizeof dir, "db"));
    cr_assert_eq(tb_commit_block(s, 1), HANSA_EINVAL, "block before genesis");
    cr_assert_eq(tb_commit_block(s, 0), HANSA_EINVAL, "height 0 as a block before genesis");
    cr_assert_eq(tb_commit_genesis(s), HANSA_OK);
    cr_assert_eq(tb_commit_genesis(s), HANSA_EEXIST);
    cr_assert_eq(tb_commit_block(s, 0), HANSA_EINVAL);
    cr_assert_eq(tb_commit_block(s, 2), HANSA_EINVAL, "skips block 1");
    char why[256];
    store_last_error(s, why, sizeof why);
    cr_assert(strstr(why, "next block is 1") != NULL, "why: %s", why);
    cr_assert_eq(tb_commit_block(s, 1), HANSA_OK);
    cr_assert_eq(tb_commit_block(s, 1), HANSA_EINVAL, "block 1 again");
    /* Refused commits wrote nothing. */
    expect_tip(s, 1);
    expect_block_absent(s, 2);
    close_store(s);
}

Test(store, stores_exactly_the_state_root_of_the_ledger_output)
{
    struct store *s = store_with_blocks("db", 1);
    struct tb_block *k = tb_block_make(2);
    memset(k->out.state_root, 0xab, 32);
    cr_assert_eq(store_commit_block(s, &k->c), HANSA_OK);
    tb_block_free(k);
    uint8_t want[32], root[32];
    memset(want, 0xab, 32);
    store_state_root(s, root);
    cr_assert(memcmp(root, want, 32) == 0);
    expect_value(s, STORE_META, (const uint8_t *)"state_root", 10, want, 32, "meta/state_root", 2);
    close_store(s);
}

Test(store, deletes_state_keys_that_a_block_deletes)
{
    struct store *s = store_with_blocks("db", 2);
    uint8_t key[12];
    tb_tmp_key(1, key);
    expect_absent(s, STORE_STATE, key, 12, "tmp/1 deleted by block 2", 2);
    tb_tmp_key(2, key);
    expect_value(s, STORE_STATE, key, 12, (const uint8_t *)"t", 1, "tmp/2", 2);
    /* A delete of a key that never existed is fine as well. */
    struct tb_block *k = tb_block_make(3);
    uint8_t never[] = "zzz-never-written";
    k->out.state[k->out.n_state++] = (struct ledger_write){tb_dup(never, 17), 17, NULL, 0};
    cr_assert_eq(store_commit_block(s, &k->c), HANSA_OK);
    tb_block_free(k);
    expect_absent(s, STORE_STATE, never, 17, "never written", 3);
    close_store(s);
}

Test(store, refuses_extra_puts_into_the_meta_keys_it_owns)
{
    struct store *s = store_with_blocks("db", 1);
    struct tb_block *k = tb_block_make(2);
    uint8_t h8[8];
    tb_be64(h8, 99);
    k->extra[1] = (struct store_put){STORE_META, (const uint8_t *)"height", 6, h8, 8};
    cr_assert_eq(store_commit_block(s, &k->c), HANSA_EINVAL);
    tb_block_free(k);
    struct store_put p = {STORE_META, (const uint8_t *)"state_root", 10, h8, 8};
    cr_assert_eq(store_write_sync(s, &p, 1), HANSA_EINVAL);
    p.key = (const uint8_t *)"schema";
    p.key_len = 6;
    cr_assert_eq(store_write_sync(s, &p, 1), HANSA_EINVAL);
    expect_tip(s, 1);
    close_store(s);
}

Test(store, write_sync_puts_and_deletes_outside_blocks)
{
    struct store *s = store_with_blocks("db", 1);
    struct store_put puts[] = {
        {STORE_META, (const uint8_t *)"signer", 6, (const uint8_t *)"h5r0", 4},
        {STORE_ALERTS, (const uint8_t *)"x", 1, (const uint8_t *)"", 0},
    };
    cr_assert_eq(store_write_sync(s, puts, 2), HANSA_OK);
    expect_value(s, STORE_META, (const uint8_t *)"signer", 6, (const uint8_t *)"h5r0", 4, "signer",
                 1);
    expect_value(s, STORE_ALERTS, (const uint8_t *)"x", 1, (const uint8_t *)"", 0, "empty value",
                 1);
    struct store_put del[] = {
        {STORE_META, (const uint8_t *)"signer", 6, NULL, 0},
        {STORE_ALERTS, (const uint8_t *)"x", 1, NULL, 0},
    };
    cr_assert_eq(store_write_sync(s, del, 2), HANSA_OK);
    expect_absent(s, STORE_META, (const uint8_t *)"signer", 6, "signer", 1);
    expect_absent(s, STORE_ALERTS, (const uint8_t *)"x", 1, "alert x", 1);
    cr_assert_eq(store_write_sync(s, NULL, 0), HANSA_OK);
    expect_tip(s, 1);
    close_store(s);
    EXPECT_NO_LEAKS();
}

Test(store, reports_unknown_tx_and_key_as_not_found)
{
    struct store *s = store_with_blocks("db", 1);
    uint8_t id[32] = {0};
    uint64_t h = 7;
    uint32_t i = 7;
    cr_assert_eq(store_tx_location(s, id, &h, &i), HANSA_ENOENT);
    uint8_t *v = (uint8_t *)&h;
    size_t n = 3;
    cr_assert_eq(store_get(s, STORE_STATE, (const uint8_t *)"nope", 4, &v, &n), HANSA_ENOENT);
    cr_assert_null(v);
    cr_assert_eq(n, 0);
    close_store(s);
}

/* ---- scans ----------------------------------------------------------------- */

struct seen {
    char keys[16][8];
    size_t n, stop_after;
};

static bool seen_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                       size_t val_len)
{
    struct seen *s = arg;
    cr_assert_lt(s->n, 16);
    cr_assert_lt(key_len, 8);
    memcpy(s->keys[s->n], key, key_len);
    s->keys[s->n][key_len] = 0;
    cr_assert_eq(val_len, 1);
    cr_assert_eq(val[0], (uint8_t)key_len, "value of %s", s->keys[s->n]);
    s->n++;
    return s->stop_after == 0 || s->n < s->stop_after;
}

/* Genesis with the given state keys (value: one byte, the key length). */
static struct store *store_with_keys(const char *const *keys, size_t n)
{
    char dir[256];
    struct store *s = open_ok(path_in(dir, sizeof dir, "db"));
    struct ledger_output out = {0};
    out.state = calloc(n, sizeof *out.state);
    for (size_t i = 0; i < n; i++) {
        uint8_t len = (uint8_t)strlen(keys[i]);
        tb_write_set(&out.state[i], keys[i], len, &len, 1);
    }
    out.n_state = n;
    cr_assert_eq(store_commit_genesis(s, &out), HANSA_OK);
    tb_writes_free(out.state, n);
    return s;
}

static const char *const scan_keys[] = {"a", "ab",   "abc",      "abd",         "ac",
                                        "b", "\xff", "\xff\xff", "\xff\xff\x01"};
#define N_SCAN_KEYS (sizeof scan_keys / sizeof scan_keys[0])

static struct seen scan(struct store *s, const char *prefix, const char *from, size_t stop_after)
{
    struct seen seen = {.stop_after = stop_after};
    hansa_err rv = store_scan(s, STORE_STATE, (const uint8_t *)prefix, strlen(prefix),
                              (const uint8_t *)from, from ? strlen(from) : 0, seen_visit, &seen);
    cr_assert_eq(rv, HANSA_OK);
    return seen;
}

Test(store, scans_keys_with_a_prefix_in_byte_order)
{
    struct store *s = store_with_keys(scan_keys, N_SCAN_KEYS);
    struct seen r = scan(s, "ab", NULL, 0);
    cr_assert_eq(r.n, 3);
    cr_assert_str_eq(r.keys[0], "ab");
    cr_assert_str_eq(r.keys[1], "abc");
    cr_assert_str_eq(r.keys[2], "abd");
    r = scan(s, "", NULL, 0);
    cr_assert_eq(r.n, N_SCAN_KEYS, "empty prefix visits everything");
    r = scan(s, "\xff\xff", NULL, 0);
    cr_assert_eq(r.n, 2, "a prefix of 0xff bytes has no upper bound key");
    cr_assert_str_eq(r.keys[1], "\xff\xff\x01");
    r = scan(s, "zz", NULL, 0);
    cr_assert_eq(r.n, 0);
    r = scan(s, "a", NULL, 2);
    cr_assert_eq(r.n, 2, "the visitor stops the scan");
    close_store(s);
}

static struct seen scan_until(struct store *s, const char *prefix, const char *until)
{
    struct seen seen = {0};
    hansa_err rv = store_scan_range(s, STORE_STATE, (const uint8_t *)prefix, strlen(prefix), NULL,
                                    0, (const uint8_t *)until, strlen(until), seen_visit, &seen);
    cr_assert_eq(rv, HANSA_OK);
    return seen;
}

Test(store, scans_a_prefix_up_to_an_exclusive_end_key)
{
    struct store *s = store_with_keys(scan_keys, N_SCAN_KEYS);
    struct seen r = scan_until(s, "a", "abd");
    cr_assert_eq(r.n, 3, "a, ab, abc: the end key itself is left out");
    cr_assert_str_eq(r.keys[2], "abc");
    r = scan_until(s, "a", "abca");
    cr_assert_eq(r.n, 3, "an end between keys");
    r = scan_until(s, "a", "zz");
    cr_assert_eq(r.n, 5, "an end past the prefix stops at the prefix's end");
    r = scan_until(s, "ab", "a");
    cr_assert_eq(r.n, 0, "an end before the prefix visits nothing");
    r = scan_until(s, "\xff\xff", "\xff\xff\x01");
    cr_assert_eq(r.n, 1, "an end inside a prefix of 0xff bytes");
    close_store(s);
}

static struct seen scan_back(struct store *s, const char *prefix, const char *from,
                             size_t stop_after)
{
    struct seen seen = {.stop_after = stop_after};
    hansa_err rv = store_scan_back(s, STORE_STATE, (const uint8_t *)prefix, strlen(prefix),
                                   (const uint8_t *)from, strlen(from), seen_visit, &seen);
    cr_assert_eq(rv, HANSA_OK);
    return seen;
}

Test(store, scans_a_prefix_backward_from_an_inclusive_key)
{
    struct store *s = store_with_keys(scan_keys, N_SCAN_KEYS);
    struct seen r = scan_back(s, "a", "abc", 0);
    cr_assert_eq(r.n, 3, "abc, ab, a: the start key itself is included");
    cr_assert_str_eq(r.keys[0], "abc");
    cr_assert_str_eq(r.keys[1], "ab");
    cr_assert_str_eq(r.keys[2], "a");
    r = scan_back(s, "ab", "abca", 0);
    cr_assert_eq(r.n, 2, "a start between keys, and the prefix's lower end");
    cr_assert_str_eq(r.keys[0], "abc");
    r = scan_back(s, "ab", "az", 0);
    cr_assert_eq(r.n, 3, "a start past the prefix steps back to its last key");
    cr_assert_str_eq(r.keys[0], "abd");
    r = scan_back(s, "ab", "aa", 0);
    cr_assert_eq(r.n, 0, "a start before the prefix visits nothing");
    r = scan_back(s, "a", "ac", 2);
    cr_assert_eq(r.n, 2, "the visitor stops the scan");
    cr_assert_str_eq(r.keys[1], "abd");
    r = scan_back(s, "", "b", 0);
    cr_assert_eq(r.n, 6, "an empty prefix goes back to the first key");
    close_store(s);
}

Test(store, scans_from_a_start_key_inside_the_prefix)
{
    struct store *s = store_with_keys(scan_keys, N_SCAN_KEYS);
    struct seen r = scan(s, "a", "abd", 0);
    cr_assert_eq(r.n, 2);
    cr_assert_str_eq(r.keys[0], "abd");
    cr_assert_str_eq(r.keys[1], "ac");
    r = scan(s, "a", "abca", 0); /* between keys: starts at the next one */
    cr_assert_eq(r.n, 2);
    cr_assert_str_eq(r.keys[0], "abd");
    r = scan(s, "ab", "", 0); /* before the prefix: starts at the prefix */
    cr_assert_eq(r.n, 3);
    r = scan(s, "ab", "b", 0); /* past the prefix: nothing */
    cr_assert_eq(r.n, 0);
    close_store(s);
}

Test(store, ledger_state_reads_the_state_family)
{
    struct store *s = store_with_keys(scan_keys, N_SCAN_KEYS);
    struct ledger_state st = store_ledger_state(s);
    uint8_t *v = NULL;
    size_t n = 0;
    cr_assert_eq(st.get(st.ctx, (const uint8_t *)"abc", 3, &v, &n), HANSA_OK);
    cr_assert(n == 1 && v[0] == 3);
    free(v);
    cr_assert_eq(st.get(st.ctx, (const uint8_t *)"abe", 3, &v, &n), HANSA_ENOENT);
    struct seen seen = {0};
    cr_assert_eq(st.scan(st.ctx, (const uint8_t *)"a", 1, seen_visit, &seen), HANSA_OK);
    cr_assert_eq(seen.n, 5);
    /* Other families are not the ledger's state. */
    cr_assert_eq(st.get(st.ctx, (const uint8_t *)"height", 6, &v, &n), HANSA_ENOENT);
    close_store(s);
}

/* ---- reopen, schema, corruption ------------------------------------------ */

Test(store, keeps_height_and_root_after_a_clean_reopen)
{
    close_store(store_with_blocks("db", 4));
    char dir[256];
    struct store *s = open_ok(path_in(dir, sizeof dir, "db"));
    expect_tip(s, 4);
    cr_assert_eq(tb_commit_block(s, 5), HANSA_OK, "continues at the next height");
    close_store(s);
    s = open_ok(dir);
    expect_tip(s, 5);
    for (uint64_t b = 1; b <= 5; b++)
        expect_block_complete(s, b);
    close_store(s);
}

Test(store, uses_exactly_the_column_families_of_store_h)
{
    char dir[256];
    close_store(store_with_blocks("db", 1));
    struct raw r;
    raw_open(&r, path_in(dir, sizeof dir, "db")); /* fails on any other set */
    char *err = NULL;
    size_t n = 0;
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    char *v = rocksdb_get_cf(r.db, ro, r.h[7], "schema", 6, &n, &err);
    rocksdb_readoptions_destroy(ro);
    cr_assert_null(err);
    cr_assert(v != NULL && n == 4 && memcmp(v, "\0\0\0\1", 4) == 0, "meta/schema is be32 1");
    free(v);
    raw_close(&r);
}

Test(store, refuses_a_database_with_another_schema_version)
{
    char dir[256];
    close_store(store_with_blocks("db", 1));
    struct raw r;
    raw_open(&r, path_in(dir, sizeof dir, "db"));
    raw_put(&r, 7, "schema", 6, "\0\0\0\2", 4);
    raw_close(&r);
    struct store *s = NULL;
    char why[512] = "";
    cr_assert_eq(store_open(dir, &s, why, sizeof why), HANSA_EFORMAT);
    cr_assert_null(s);
    cr_assert(strstr(why, "schema version 2") != NULL, "why: %s", why);
    cr_assert_eq(store_open_readonly(dir, &s, why, sizeof why), HANSA_EFORMAT);
    EXPECT_NO_LEAKS();
}

Test(store, refuses_a_database_with_data_but_no_schema)
{
    char dir[256];
    close_store(store_with_blocks("db", 1));
    struct raw r;
    raw_open(&r, path_in(dir, sizeof dir, "db"));
    raw_put(&r, 7, "schema", 6, NULL, 0);
    raw_close(&r);
    struct store *s = NULL;
    char why[512] = "";
    cr_assert_eq(store_open(dir, &s, why, sizeof why), HANSA_EFORMAT);
    cr_assert(strstr(why, "no schema version") != NULL, "why: %s", why);
}

Test(store, refuses_to_open_when_the_last_block_disagrees_with_meta_height)
{
    char dir[256];
    close_store(store_with_blocks("db", 2));
    struct raw r;
    raw_open(&r, path_in(dir, sizeof dir, "db"));
    uint8_t k[8];
    tb_be64(k, 3);
    raw_put(&r, 1, k, 8, "half", 4); /* block 3 without its meta */
    raw_close(&r);
    struct store *s = NULL;
    char why[512] = "";
    cr_assert_eq(store_open(dir, &s, why, sizeof why), HANSA_EFORMAT);
    cr_assert(strstr(why, "corrupt") != NULL && strstr(why, "last block is 3") != NULL, "why: %s",
              why);
    /* And the other way: meta says 2, block 2 gone. */
    raw_open(&r, dir);
    raw_put(&r, 1, k, 8, NULL, 0);
    tb_be64(k, 2);
    raw_put(&r, 1, k, 8, NULL, 0);
    raw_close(&r);
    cr_assert_eq(store_open(dir, &s, why, sizeof why), HANSA_EFORMAT);
    cr_assert(strstr(why, "last block is 1 but meta/height is 2") != NULL, "why: %s", why);
}

Test(store, refuses_meta_height_without_state_root)
{
    char dir[256];
    close_store(store_with_blocks("db", 1));
    struct raw r;
    raw_open(&r, path_in(dir, sizeof dir, "db"));
    raw_put(&r, 7, "state_root", 10, NULL, 0);
    raw_close(&r);
    struct store *s = NULL;
    char why[512] = "";
    cr_assert_eq(store_open(dir, &s, why, sizeof why), HANSA_EFORMAT);
    cr_assert(strstr(why, "state_root is absent") != NULL, "why: %s", why);
}

Test(store, refuses_a_database_with_column_families_it_does_not_know)
{
    char dir[256];
    close_store(store_with_blocks("db", 1));
    struct raw r;
    raw_open(&r, path_in(dir, sizeof dir, "db"));
    char *err = NULL;
    rocksdb_column_family_handle_t *h = rocksdb_create_column_family(r.db, r.o, "future", &err);
    cr_assert_null(err, "%s", err);
    rocksdb_column_family_handle_destroy(h);
    raw_close(&r);
    struct store *s = NULL;
    char why[512] = "";
    cr_assert_eq(store_open(dir, &s, why, sizeof why), HANSA_EFORMAT);
    cr_assert(strstr(why, "does not know") != NULL && strstr(why, "future") != NULL, "why: %s",
              why);
}

/* ---- locking and read-only handles --------------------------------------- */

Test(store, refuses_a_second_open_of_the_same_database_in_one_process)
{
    struct store *s = store_with_blocks("db", 1);
    char dir[256];
    struct store *t = NULL;
    char why[512] = "";
    cr_assert_eq(store_open(path_in(dir, sizeof dir, "db"), &t, why, sizeof why), HANSA_EBUSY);
    cr_assert_null(t);
    cr_assert(strstr(why, "in use by another process") != NULL, "why: %s", why);
    cr_assert(strstr(why, "LOCK") != NULL, "RocksDB's message is included: %s", why);
    close_store(s);
    close_store(open_ok(dir)); /* free again after close */
    EXPECT_NO_LEAKS();
}

Test(store, refuses_to_open_a_database_another_process_holds)
{
    char dir[256];
    path_in(dir, sizeof dir, "db");
    struct writer w = writer_start("hold", dir, NULL);
    char byte;
    cr_assert_eq(read(w.out, &byte, 1), 1, "the holder did not open the store");
    struct store *s = NULL;
    char why[512] = "";
    hansa_err rv = store_open(dir, &s, why, sizeof why);
    cr_assert_eq(rv, HANSA_EBUSY, "%s: %s", hansa_errname(rv), why);
    cr_assert_null(s);
    cr_assert(strstr(why, "in use by another process") != NULL, "why: %s", why);
    cr_assert(strstr(why, "LOCK") != NULL, "RocksDB's message is included: %s", why);
    /* A read-only open beside the writer works and sees its genesis. */
    struct store *ro = open_ro_ok(dir);
    cr_assert_eq(store_height(ro), 0);
    close_store(ro);
    int status = writer_stop(&w);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "holder status %d", status);
}

Test(store, read_only_handle_reads_but_refuses_writes)
{
    char dir[256];
    close_store(store_with_blocks("db", 2));
    struct store *s = open_ro_ok(path_in(dir, sizeof dir, "db"));
    expect_tip(s, 2);
    expect_block_complete(s, 2);
    cr_assert_eq(tb_commit_block(s, 3), HANSA_EINVAL);
    struct store_put p = {STORE_ALERTS, (const uint8_t *)"x", 1, (const uint8_t *)"y", 1};
    cr_assert_eq(store_write_sync(s, &p, 1), HANSA_EINVAL);
    close_store(s);
    s = open_ok(dir);
    expect_tip(s, 2);
    close_store(s);
}

Test(store, read_only_open_of_a_missing_database_is_not_found)
{
    char dir[256];
    struct store *s = NULL;
    char why[512] = "";
    cr_assert_eq(store_open_readonly(path_in(dir, sizeof dir, "none"), &s, why, sizeof why),
                 HANSA_ENOENT);
    cr_assert(strstr(why, "no database") != NULL, "why: %s", why);
    cr_assert(!path_exists(dir), "read-only open created %s", dir);
}

/* ---- backups ------------------------------------------------------------------ */

Test(store, backup_is_a_checkpoint_that_opens_read_only_with_all_data)
{
    struct store *s = store_with_blocks("db", 3);
    char bak[256], why[512] = "";
    cr_assert_eq(store_backup(s, path_in(bak, sizeof bak, "bak"), why, sizeof why), HANSA_OK, "%s",
                 why);
    cr_assert_eq(tb_commit_block(s, 4), HANSA_OK, "the live store goes on");
    close_store(s);
    struct store *b = open_ro_ok(bak);
    expect_tip(b, 3);
    for (uint64_t h = 1; h <= 3; h++)
        expect_block_complete(b, h);
    expect_block_absent(b, 4);
    close_store(b);
    EXPECT_NO_LEAKS();
}

Test(store, refuses_a_backup_into_an_existing_directory)
{
    struct store *s = store_with_blocks("db", 1);
    char bak[256], why[512] = "";
    cr_assert_eq(mkdir(path_in(bak, sizeof bak, "bak"), 0700), 0);
    cr_assert_eq(store_backup(s, bak, why, sizeof why), HANSA_EEXIST);
    cr_assert(strstr(why, "already exists") != NULL, "why: %s", why);
    /* An existing file counts as well. */
    char f[256];
    FILE *fp = fopen(path_in(f, sizeof f, "file"), "w");
    cr_assert_not_null(fp);
    fclose(fp);
    cr_assert_eq(store_backup(s, f, why, sizeof why), HANSA_EEXIST);
    close_store(s);
}

Test(store, backup_through_a_read_only_handle_of_an_idle_database_is_complete)
{
    char dir[256], bak[256], why[512] = "";
    close_store(store_with_blocks("db", 2));
    struct store *ro = open_ro_ok(path_in(dir, sizeof dir, "db"));
    cr_assert_eq(store_backup(ro, path_in(bak, sizeof bak, "bak"), why, sizeof why), HANSA_OK, "%s",
                 why);
    close_store(ro);
    struct store *b = open_ro_ok(bak);
    expect_tip(b, 2);
    expect_block_complete(b, 1);
    expect_block_complete(b, 2);
    close_store(b);
}

Test(store, backup_through_a_read_only_handle_beside_an_idle_writer_is_complete)
{
    /* The writer keeps the database open but flushes nothing between the
     * read-only open and the checkpoint: everything is still in the WAL
     * files the read-only handle knows, and they are copied. */
    struct store *w = store_with_blocks("db", 2);
    char dir[256], bak[256], why[512] = "";
    struct store *ro = open_ro_ok(path_in(dir, sizeof dir, "db"));
    cr_assert_eq(tb_commit_block(w, 3), HANSA_OK);
    cr_assert_eq(store_backup(ro, path_in(bak, sizeof bak, "bak"), why, sizeof why), HANSA_OK, "%s",
                 why);
    close_store(ro);
    close_store(w);
    struct store *b = open_ro_ok(bak);
    cr_assert_geq(store_height(b), 2);
    for (uint64_t h = 1; h <= store_height(b); h++)
        expect_block_complete(b, h);
    close_store(b);
}

/* Neither the refused checkpoint nor RocksDB's staging directory is left. */
static void expect_no_backup(const char *bak)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", bak);
    cr_assert(!path_exists(bak), "the incomplete checkpoint was left in %s", bak);
    cr_assert(!path_exists(tmp), "a staging directory was left in %s", tmp);
}

Test(store, backup_through_a_read_only_handle_refuses_a_copy_missing_what_the_writer_flushed)
{
    /* After the read-only open the writer flushes its memtables (here: by
     * taking a backup itself) and deletes the WAL files the read-only
     * handle knows. RocksDB then checkpoints the read-only handle's old
     * MANIFEST without those WAL files and reports success; the store's
     * verification finds the copy empty and removes it. */
    struct store *w = store_with_blocks("db", 3);
    char dir[256], bak[256], wbak[256], why[512] = "";
    struct store *ro = open_ro_ok(path_in(dir, sizeof dir, "db"));
    cr_assert_eq(store_backup(w, path_in(wbak, sizeof wbak, "writer-bak"), why, sizeof why),
                 HANSA_OK, "%s", why);
    cr_assert_eq(tb_commit_block(w, 4), HANSA_OK);
    hansa_err rv = store_backup(ro, path_in(bak, sizeof bak, "bak"), why, sizeof why);
    cr_assert_eq(rv, HANSA_EBUSY, "%s: %s", hansa_errname(rv), why);
    cr_assert(strstr(why, "read-only handle is incomplete") != NULL, "why: %s", why);
    cr_log_info("%s", why);
    expect_no_backup(bak);
    close_store(ro);
    close_store(w);
}

Test(store, backup_through_a_read_only_handle_refuses_when_the_writer_reopened)
{
    /* A writer reopen replaces the MANIFEST the read-only handle knows;
     * here RocksDB does fail, and the store says what to do. */
    struct store *w = store_with_blocks("db", 3);
    char dir[256], bak[256], why[512] = "";
    struct store *ro = open_ro_ok(path_in(dir, sizeof dir, "db"));
    cr_assert_eq(store_height(ro), 3);
    close_store(w);
    w = open_ok(dir);
    cr_assert_eq(tb_commit_block(w, 4), HANSA_OK);
    hansa_err rv = store_backup(ro, path_in(bak, sizeof bak, "bak"), why, sizeof why);
    cr_assert_eq(rv, HANSA_EBUSY, "%s: %s", hansa_errname(rv), why);
    cr_assert(strstr(why, "read-only handle is incomplete") != NULL, "why: %s", why);
    cr_assert(strstr(why, "running node") != NULL, "why: %s", why);
    expect_no_backup(bak);
    /* Through the writer's handle the same backup works. */
    cr_assert_eq(store_backup(w, bak, why, sizeof why), HANSA_OK, "%s", why);
    close_store(ro);
    close_store(w);
    struct store *b = open_ro_ok(bak);
    expect_tip(b, 4);
    close_store(b);
}

/* ---- atomicity under SIGKILL ------------------------------------------------- */

#define KILL_ROUNDS     30u
#define KILL_STRIDE_MAX 20u

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Read the writer's height reports until it dies; with kill_at, kill it
 * once it reported kill_at (the kill then lands in a later commit, most
 * often inside the synced write). Returns the last height reported. */
static uint64_t watch_writer(struct writer *w, uint64_t kill_at)
{
    uint64_t last = 0, b;
    bool killed = false;
    while (read(w->out, &b, sizeof b) == (ssize_t)sizeof b) {
        last = b;
        if (kill_at != 0 && b >= kill_at && !killed) {
            kill(w->pid, SIGKILL);
            killed = true;
        }
    }
    int status = writer_stop(w);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "writer did not die by SIGKILL (status %d: exit %d)", status,
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return last;
}

Test(store, keeps_whole_blocks_when_the_process_is_killed_mid_commit)
{
    char dir[256];
    struct store *s = open_ok(path_in(dir, sizeof dir, "db"));
    cr_assert_eq(tb_commit_genesis(s), HANSA_OK);
    close_store(s);
    uint64_t rng = 0x2545f4914f6cdd1dull, h = 0;
    for (unsigned round = 0; round < KILL_ROUNDS; round++) {
        uint64_t target = h + 1 + rng_next(&rng) % KILL_STRIDE_MAX;
        bool self = rng_next(&rng) % 3 == 0;
        char self_kill[24];
        snprintf(self_kill, sizeof self_kill, "%llu", self ? (unsigned long long)target : 0ull);
        struct writer w = writer_start("commit", dir, self_kill);
        uint64_t reported = watch_writer(&w, self ? 0 : target);
        cr_assert_geq(reported, target, "round %u: writer reported %llu", round,
                      (unsigned long long)reported);

        s = open_ok(dir);
        uint64_t got = store_height(s);
        cr_log_info("round %u: %s kill after block %llu reported; recovered %llu", round,
                    self ? "self" : "parent", (unsigned long long)reported,
                    (unsigned long long)got);
        /* Every reported commit had returned from a synced write; at most
         * the one in flight at the kill may be there beyond it. */
        cr_assert(got == reported || (!self && got == reported + 1),
                  "round %u: recovered height %llu, writer reported %llu", round,
                  (unsigned long long)got, (unsigned long long)reported);
        expect_tip(s, got);
        for (uint64_t b = h + 1; b <= got; b++)
            expect_block_complete(s, b);
        expect_block_absent(s, got + 1);
        close_store(s);
        h = got;
    }
    s = open_ok(dir);
    for (uint64_t b = 1; b <= h; b++)
        expect_block_complete(s, b);
    close_store(s);
}
