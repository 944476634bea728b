/*
 * Deterministic test blocks for the store tests and the crash-writer
 * helper: what block b commits depends only on b, so a checker can
 * recompute what must (and must not) be in every family after block b.
 *
 *   blocks     be64 b -> 1 KiB pattern          block_ids  hash(b) -> be64 b
 *   txs        id(b, i) -> TxLocation(b, i)     alerts     "a/" be64 b -> pattern
 *   state      "s/" be64 b be16 i -> pattern, "counter" -> be64 b,
 *              "tmp/" be64 b put and "tmp/" be64 (b-1) deleted
 *   history    "h/" be64 b be16 i -> pattern    meta "risk_cursor" -> be64 b
 *   state root tb_root(b)
 *
 * Height 0 is genesis: the same state and history writes, no block.
 * Allocation failures abort (test code).
 */
#ifndef HANSA_TEST_STORE_BLOCKS_H
#define HANSA_TEST_STORE_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define TB_STATE_PER_BLOCK    40u
#define TB_HISTORY_PER_BLOCK  20u
#define TB_TXS_PER_BLOCK      8u
#define TB_STORED_BLOCK_BYTES 1024u

/* Everything block b commits; buffers owned here (tb_block_free). */
struct tb_block {
    uint8_t hash[32];
    uint8_t stored[TB_STORED_BLOCK_BYTES];
    uint8_t tx_ids[TB_TXS_PER_BLOCK * 32];
    uint8_t alert_k[10], alert_v[64], cursor_v[8];
    struct store_put extra[2];
    struct ledger_output out;
    struct store_commit c;
};

void tb_be64(uint8_t out[8], uint64_t v);
/* len pseudo-random bytes from seed (xorshift). */
void tb_fill(uint8_t *buf, size_t len, uint64_t seed);
void tb_root(uint64_t b, uint8_t root[32]);
void tb_hash(uint64_t b, uint8_t hash[32]);
void tb_tx_id(uint64_t b, uint32_t i, uint8_t id[32]);
size_t tb_state_val_len(uint64_t b, uint32_t i);
void tb_state_key(uint64_t b, uint32_t i, uint8_t k[12]);
void tb_history_key(uint64_t b, uint32_t i, uint8_t k[12]);
void tb_tmp_key(uint64_t b, uint8_t k[12]);
void tb_alert_key(uint64_t b, uint8_t k[10]);
/* malloc'd copy of n bytes (at least 1 byte allocated). */
uint8_t *tb_dup(const void *p, size_t n);
/* Fill w with copies of key and val (val NULL: a delete). */
void tb_write_set(struct ledger_write *w, const void *key, size_t key_len, const void *val,
                  size_t val_len);
void tb_writes_free(struct ledger_write *w, size_t n);

/* Block b (b = 0: genesis writes); the state array has room for one more
 * write, which a test may append. */
struct tb_block *tb_block_make(uint64_t b);
void tb_block_free(struct tb_block *k);

/* Commit genesis / block b as generated. */
hansa_err tb_commit_genesis(struct store *s);
hansa_err tb_commit_block(struct store *s, uint64_t b);

#endif
