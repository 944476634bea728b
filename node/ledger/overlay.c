/*
 * Open-addressing hash table (linear probing, power-of-two capacity, load
 * factor <= 1/2) with an undo log. Entries are never removed from the table
 * during a block: a delete is a tombstone value, and rollback of a newly
 * created entry marks it "absent" again. See overlay.h.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hansa/assert.h"
#include "overlay.h"

enum entry_state { SLOT_EMPTY = 0, ENTRY_ABSENT, ENTRY_VALUE, ENTRY_DELETED };

struct entry {
    uint8_t *key;
    size_t key_len;
    uint8_t *val;
    size_t val_len;
    uint64_t hash;
    enum entry_state state;
};

struct undo {
    size_t slot;
    enum entry_state state;
    uint8_t *val;
    size_t val_len;
};

struct ledger_overlay {
    struct entry *slots;
    size_t cap, used;
    struct undo *undo;
    size_t n_undo, cap_undo;
    uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

#define OVERLAY_INITIAL_SLOTS 1024u

hansa_err overlay_open(struct ledger_overlay **out, const uint8_t hash_key[16])
{
    _Static_assert(crypto_shorthash_KEYBYTES == 16, "SipHash key size");
    struct ledger_overlay *ov = calloc(1, sizeof *ov);
    if (ov == NULL)
        return HANSA_ENOMEM;
    ov->slots = calloc(OVERLAY_INITIAL_SLOTS, sizeof *ov->slots);
    if (ov->slots == NULL) {
        free(ov);
        return HANSA_ENOMEM;
    }
    ov->cap = OVERLAY_INITIAL_SLOTS;
    memcpy(ov->hash_key, hash_key, sizeof ov->hash_key);
    *out = ov;
    return HANSA_OK;
}

static void undo_clear(struct ledger_overlay *ov)
{
    for (size_t i = 0; i < ov->n_undo; i++)
        free(ov->undo[i].val);
    ov->n_undo = 0;
}

void overlay_close(struct ledger_overlay *ov)
{
    if (ov == NULL)
        return;
    undo_clear(ov);
    free(ov->undo);
    for (size_t i = 0; i < ov->cap; i++) {
        free(ov->slots[i].key);
        free(ov->slots[i].val);
    }
    free(ov->slots);
    free(ov);
}

static uint64_t key_hash(const struct ledger_overlay *ov, const uint8_t *key, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, len, ov->hash_key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

/* Slot holding key, or the empty slot where it would go. */
static size_t find_slot(const struct ledger_overlay *ov, const uint8_t *key, size_t len,
                        uint64_t hash)
{
    size_t mask = ov->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const struct entry *e = &ov->slots[i];
        if (e->state == SLOT_EMPTY)
            return i;
        if (e->hash == hash && e->key_len == len && memcmp(e->key, key, len) == 0)
            return i;
    }
}

static hansa_err grow(struct ledger_overlay *ov)
{
    size_t old_cap = ov->cap;
    struct entry *old = ov->slots;
    struct entry *slots = calloc(old_cap * 2, sizeof *slots);
    if (slots == NULL)
        return HANSA_ENOMEM;
    ov->slots = slots;
    ov->cap = old_cap * 2;
    /* Slot numbers change, so the undo log must refer to new slots. */
    size_t *moved = malloc(old_cap * sizeof *moved);
    if (moved == NULL) {
        ov->slots = old;
        ov->cap = old_cap;
        free(slots);
        return HANSA_ENOMEM;
    }
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].state == SLOT_EMPTY)
            continue;
        size_t s = find_slot(ov, old[i].key, old[i].key_len, old[i].hash);
        ov->slots[s] = old[i];
        moved[i] = s;
    }
    for (size_t i = 0; i < ov->n_undo; i++)
        ov->undo[i].slot = moved[ov->undo[i].slot];
    free(moved);
    free(old);
    return HANSA_OK;
}

int overlay_get(const struct ledger_overlay *ov, const uint8_t *key, size_t key_len,
                struct overlay_entry_view *view)
{
    size_t s = find_slot(ov, key, key_len, key_hash(ov, key, key_len));
    const struct entry *e = &ov->slots[s];
    if (e->state == SLOT_EMPTY || e->state == ENTRY_ABSENT)
        return 0;
    view->key = e->key;
    view->key_len = e->key_len;
    view->val = e->state == ENTRY_VALUE ? e->val : NULL;
    view->val_len = e->state == ENTRY_VALUE ? e->val_len : 0;
    return 1;
}

static hansa_err undo_push(struct ledger_overlay *ov, size_t slot)
{
    if (ov->n_undo == ov->cap_undo) {
        size_t cap = ov->cap_undo ? ov->cap_undo * 2 : 64;
        struct undo *u = realloc(ov->undo, cap * sizeof *u);
        if (u == NULL)
            return HANSA_ENOMEM;
        ov->undo = u;
        ov->cap_undo = cap;
    }
    struct entry *e = &ov->slots[slot];
    ov->undo[ov->n_undo++] =
        (struct undo){.slot = slot, .state = e->state, .val = e->val, .val_len = e->val_len};
    e->val = NULL; /* ownership moved to the undo record */
    e->val_len = 0;
    return HANSA_OK;
}

hansa_err overlay_put(struct ledger_overlay *ov, const uint8_t *key, size_t key_len,
                      const uint8_t *val, size_t val_len)
{
    if ((ov->used + 1) * 2 > ov->cap) {
        hansa_err rv = grow(ov);
        if (rv != HANSA_OK)
            return rv;
    }
    uint64_t hash = key_hash(ov, key, key_len);
    size_t s = find_slot(ov, key, key_len, hash);
    struct entry *e = &ov->slots[s];
    uint8_t *copy = NULL;
    if (val != NULL) {
        copy = malloc(val_len ? val_len : 1);
        if (copy == NULL)
            return HANSA_ENOMEM;
        if (val_len)
            memcpy(copy, val, val_len);
    }
    if (e->state == SLOT_EMPTY) {
        e->key = malloc(key_len ? key_len : 1);
        if (e->key == NULL) {
            free(copy);
            return HANSA_ENOMEM;
        }
        memcpy(e->key, key, key_len);
        e->key_len = key_len;
        e->hash = hash;
        e->state = ENTRY_ABSENT;
        ov->used++;
    }
    if (undo_push(ov, s) != HANSA_OK) {
        free(copy);
        return HANSA_ENOMEM;
    }
    e->val = copy;
    e->val_len = val ? val_len : 0;
    e->state = val ? ENTRY_VALUE : ENTRY_DELETED;
    return HANSA_OK;
}

void overlay_mark(struct ledger_overlay *ov)
{
    undo_clear(ov);
}

void overlay_rollback(struct ledger_overlay *ov)
{
    while (ov->n_undo > 0) {
        struct undo *u = &ov->undo[--ov->n_undo];
        struct entry *e = &ov->slots[u->slot];
        free(e->val);
        e->val = u->val;
        e->val_len = u->val_len;
        e->state = u->state;
    }
}

static int view_cmp(const void *a, const void *b)
{
    const struct overlay_entry_view *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

hansa_err overlay_sorted(const struct ledger_overlay *ov, struct overlay_entry_view **out,
                         size_t *n)
{
    struct overlay_entry_view *v = malloc((ov->used ? ov->used : 1) * sizeof *v);
    if (v == NULL)
        return HANSA_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < ov->cap; i++) {
        const struct entry *e = &ov->slots[i];
        if (e->state != ENTRY_VALUE && e->state != ENTRY_DELETED)
            continue;
        v[k++] = (struct overlay_entry_view){.key = e->key,
                                             .key_len = e->key_len,
                                             .val = e->state == ENTRY_VALUE ? e->val : NULL,
                                             .val_len = e->val_len};
    }
    HANSA_ASSERT(k <= ov->used);
    qsort(v, k, sizeof *v, view_cmp);
    *out = v;
    *n = k;
    return HANSA_OK;
}
