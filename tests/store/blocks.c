/* Deterministic test blocks; see blocks.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"

static void tb_check_alloc(bool allocated)
{
    if (!allocated) {
        fprintf(stderr, "test blocks: out of memory\n");
        abort();
    }
}

void tb_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

void tb_fill(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
}

void tb_root(uint64_t b, uint8_t root[32])
{
    tb_fill(root, 32, 0x700000 + b);
}

void tb_hash(uint64_t b, uint8_t hash[32])
{
    tb_fill(hash, 32, 0x800000 + b);
}

void tb_tx_id(uint64_t b, uint32_t i, uint8_t id[32])
{
    tb_fill(id, 32, (b << 16) + i + 0x900000);
}

size_t tb_state_val_len(uint64_t b, uint32_t i)
{
    return 20 + (size_t)((b * 7 + i * 13) % 180);
}

void tb_state_key(uint64_t b, uint32_t i, uint8_t k[12])
{
    k[0] = 's';
    k[1] = '/';
    tb_be64(k + 2, b);
    k[10] = (uint8_t)(i >> 8);
    k[11] = (uint8_t)i;
}

void tb_history_key(uint64_t b, uint32_t i, uint8_t k[12])
{
    tb_state_key(b, i, k);
    k[0] = 'h';
}

void tb_tmp_key(uint64_t b, uint8_t k[12])
{
    memcpy(k, "tmp/", 4);
    tb_be64(k + 4, b);
}

void tb_alert_key(uint64_t b, uint8_t k[10])
{
    k[0] = 'a';
    k[1] = '/';
    tb_be64(k + 2, b);
}

uint8_t *tb_dup(const void *p, size_t n)
{
    uint8_t *c = malloc(n > 0 ? n : 1);
    tb_check_alloc(c != NULL);
    memcpy(c, p, n);
    return c;
}

void tb_write_set(struct ledger_write *w, const void *key, size_t key_len, const void *val,
                  size_t val_len)
{
    w->key = tb_dup(key, key_len);
    w->key_len = key_len;
    w->val = val != NULL ? tb_dup(val, val_len) : NULL;
    w->val_len = val_len;
}

static void blk_state(struct tb_block *k, uint64_t b)
{
    /* Sorted and unique like the ledger's: "counter" < "s/..." < "tmp/...". */
    size_t n = 0;
    k->out.state = calloc(TB_STATE_PER_BLOCK + 4, sizeof *k->out.state); /* + 1 for tests */
    tb_check_alloc(k->out.state != NULL);
    uint8_t v8[8], key[12], val[256];
    tb_be64(v8, b);
    tb_write_set(&k->out.state[n++], "counter", 7, v8, 8);
    for (uint32_t i = 0; i < TB_STATE_PER_BLOCK; i++) {
        tb_state_key(b, i, key);
        tb_fill(val, tb_state_val_len(b, i), (b << 16) + i);
        tb_write_set(&k->out.state[n++], key, 12, val, tb_state_val_len(b, i));
    }
    if (b > 0) {
        tb_tmp_key(b - 1, key);
        tb_write_set(&k->out.state[n++], key, 12, NULL, 0);
    }
    tb_tmp_key(b, key);
    tb_write_set(&k->out.state[n++], key, 12, "t", 1);
    k->out.n_state = n;
}

static void blk_history(struct tb_block *k, uint64_t b)
{
    k->out.history = calloc(TB_HISTORY_PER_BLOCK, sizeof *k->out.history);
    tb_check_alloc(k->out.history != NULL);
    uint8_t key[12], val[64];
    for (uint32_t i = 0; i < TB_HISTORY_PER_BLOCK; i++) {
        tb_history_key(b, i, key);
        tb_fill(val, sizeof val, 0x500000 + (b << 16) + i);
        tb_write_set(&k->out.history[i], key, 12, val, sizeof val);
    }
    k->out.n_history = TB_HISTORY_PER_BLOCK;
}

struct tb_block *tb_block_make(uint64_t b)
{
    struct tb_block *k = calloc(1, sizeof *k);
    tb_check_alloc(k != NULL);
    blk_state(k, b);
    blk_history(k, b);
    tb_root(b, k->out.state_root);
    tb_hash(b, k->hash);
    tb_fill(k->stored, sizeof k->stored, 0x600000 + b);
    for (uint32_t i = 0; i < TB_TXS_PER_BLOCK; i++)
        tb_tx_id(b, i, k->tx_ids + 32 * i);
    tb_alert_key(b, k->alert_k);
    tb_fill(k->alert_v, sizeof k->alert_v, 0x400000 + b);
    tb_be64(k->cursor_v, b);
    k->extra[0] = (struct store_put){STORE_ALERTS, k->alert_k, sizeof k->alert_k, k->alert_v,
                                     sizeof k->alert_v};
    k->extra[1] =
        (struct store_put){STORE_META, (const uint8_t *)"risk_cursor", 11, k->cursor_v, 8};
    k->c = (struct store_commit){.height = b,
                                 .block_hash = k->hash,
                                 .stored_block = k->stored,
                                 .stored_block_len = sizeof k->stored,
                                 .tx_ids = k->tx_ids,
                                 .n_txs = TB_TXS_PER_BLOCK,
                                 .out = &k->out,
                                 .extra = k->extra,
                                 .n_extra = 2};
    return k;
}

void tb_writes_free(struct ledger_write *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(w[i].key);
        free(w[i].val);
    }
    free(w);
}

void tb_block_free(struct tb_block *k)
{
    tb_writes_free(k->out.state, k->out.n_state);
    tb_writes_free(k->out.history, k->out.n_history);
    free(k);
}

/* Commit genesis (the height-0 writes of tb_block_make(0), no block). */
hansa_err tb_commit_genesis(struct store *s)
{
    struct tb_block *g = tb_block_make(0);
    hansa_err rv = store_commit_genesis(s, &g->out);
    tb_block_free(g);
    return rv;
}

hansa_err tb_commit_block(struct store *s, uint64_t b)
{
    struct tb_block *k = tb_block_make(b);
    hansa_err rv = store_commit_block(s, &k->c);
    tb_block_free(k);
    return rv;
}
