/*
 * The block's write set over committed state, with per-transaction undo.
 *
 * A hash table maps keys to their latest value in this block (or to a
 * tombstone). Every change first records the entry's previous value in an
 * undo log; overlay_rollback() replays the log backwards to the last
 * overlay_mark(), which is how a transaction rejected at execution leaves no
 * trace. The table is keyed with SipHash under a key the caller supplies
 * (the executor derives it from the previous state root), so a party cannot
 * choose order numbers that collide in the table.
 */
#ifndef HANSA_LEDGER_OVERLAY_H
#define HANSA_LEDGER_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hansa/error.h"

struct ledger_overlay;

struct overlay_entry_view {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *val; /* NULL: deleted in this block */
    size_t val_len;
};

HANSA_MUST_USE hansa_err overlay_open(struct ledger_overlay **out, const uint8_t hash_key[16]);
void overlay_close(struct ledger_overlay *ov);

/* 1: found (view filled, val NULL if deleted), 0: not written in this block. */
int overlay_get(const struct ledger_overlay *ov, const uint8_t *key, size_t key_len,
                struct overlay_entry_view *view);
/* Copies key and val. val == NULL records a delete. */
HANSA_MUST_USE hansa_err overlay_put(struct ledger_overlay *ov, const uint8_t *key, size_t key_len,
                                     const uint8_t *val, size_t val_len);

/* Start of a transaction: forget the undo log. */
void overlay_mark(struct ledger_overlay *ov);
/* Undo every change since the last mark. */
void overlay_rollback(struct ledger_overlay *ov);

/* Every entry, sorted by key (views stay valid until the next put/close).
 * *out is malloc'd; caller frees it. */
HANSA_MUST_USE hansa_err overlay_sorted(const struct ledger_overlay *ov,
                                        struct overlay_entry_view **out, size_t *n);

#endif
