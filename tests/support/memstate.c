/* Sorted-array state for tests; see memstate.h. */
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "memstate.h"

struct kv {
    uint8_t *key;
    size_t key_len;
    uint8_t *val;
    size_t val_len;
};

struct memstate {
    struct kv *items;
    size_t n, cap;
};

static int cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

/* Index of the first item >= key. */
static size_t lower_bound(const struct memstate *m, const uint8_t *key, size_t len)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp(m->items[mid].key, m->items[mid].key_len, key, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void *xdup(const void *p, size_t n)
{
    void *c = malloc(n ? n : 1);
    HANSA_ASSERT(c != NULL);
    if (n)
        memcpy(c, p, n);
    return c;
}

struct memstate *memstate_new(void)
{
    struct memstate *m = calloc(1, sizeof *m);
    HANSA_ASSERT(m != NULL);
    return m;
}

void memstate_free(struct memstate *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->items[i].key);
        free(m->items[i].val);
    }
    free(m->items);
    free(m);
}

static hansa_err ms_get(void *ctx, const uint8_t *key, size_t key_len, uint8_t **val,
                        size_t *val_len)
{
    struct memstate *m = ctx;
    size_t i = lower_bound(m, key, key_len);
    if (i == m->n || cmp(m->items[i].key, m->items[i].key_len, key, key_len) != 0)
        return HANSA_ENOENT;
    *val = xdup(m->items[i].val, m->items[i].val_len);
    *val_len = m->items[i].val_len;
    return HANSA_OK;
}

static hansa_err ms_scan(void *ctx, const uint8_t *prefix, size_t prefix_len, ledger_visit_fn visit,
                         void *arg)
{
    struct memstate *m = ctx;
    for (size_t i = lower_bound(m, prefix, prefix_len); i < m->n; i++) {
        const struct kv *e = &m->items[i];
        if (e->key_len < prefix_len || memcmp(e->key, prefix, prefix_len) != 0)
            break;
        if (!visit(arg, e->key, e->key_len, e->val, e->val_len))
            break;
    }
    return HANSA_OK;
}

/* Like the store's bounded scan: stops before until. */
static hansa_err ms_scan_until(void *ctx, const uint8_t *prefix, size_t prefix_len,
                               const uint8_t *until, size_t until_len, ledger_visit_fn visit,
                               void *arg)
{
    struct memstate *m = ctx;
    for (size_t i = lower_bound(m, prefix, prefix_len); i < m->n; i++) {
        const struct kv *e = &m->items[i];
        if (e->key_len < prefix_len || memcmp(e->key, prefix, prefix_len) != 0 ||
            cmp(e->key, e->key_len, until, until_len) >= 0)
            break;
        if (!visit(arg, e->key, e->key_len, e->val, e->val_len))
            break;
    }
    return HANSA_OK;
}

/* Like the store's reverse scan: keys with the prefix at or before from,
 * last first. */
static hansa_err ms_scan_back(void *ctx, const uint8_t *prefix, size_t prefix_len,
                              const uint8_t *from, size_t from_len, ledger_visit_fn visit,
                              void *arg)
{
    struct memstate *m = ctx;
    size_t i = lower_bound(m, from, from_len);
    if (i < m->n && cmp(m->items[i].key, m->items[i].key_len, from, from_len) == 0)
        i++; /* from itself is included */
    while (i-- > 0) {
        const struct kv *e = &m->items[i];
        if (e->key_len < prefix_len || memcmp(e->key, prefix, prefix_len) != 0) {
            if (cmp(e->key, e->key_len, prefix, prefix_len) > 0)
                continue;
            break;
        }
        if (!visit(arg, e->key, e->key_len, e->val, e->val_len))
            break;
    }
    return HANSA_OK;
}

struct ledger_state memstate_view(struct memstate *m)
{
    return (struct ledger_state){.ctx = m,
                                 .get = ms_get,
                                 .scan = ms_scan,
                                 .scan_until = ms_scan_until,
                                 .scan_back = ms_scan_back};
}

static void put(struct memstate *m, const struct ledger_write *w)
{
    size_t i = lower_bound(m, w->key, w->key_len);
    bool found = i < m->n && cmp(m->items[i].key, m->items[i].key_len, w->key, w->key_len) == 0;
    if (w->val == NULL) {
        if (found) {
            free(m->items[i].key);
            free(m->items[i].val);
            memmove(&m->items[i], &m->items[i + 1], (m->n - i - 1) * sizeof *m->items);
            m->n--;
        }
        return;
    }
    if (found) {
        free(m->items[i].val);
        m->items[i].val = xdup(w->val, w->val_len);
        m->items[i].val_len = w->val_len;
        return;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 256;
        m->items = realloc(m->items, m->cap * sizeof *m->items);
        HANSA_ASSERT(m->items != NULL);
    }
    memmove(&m->items[i + 1], &m->items[i], (m->n - i) * sizeof *m->items);
    m->items[i] =
        (struct kv){xdup(w->key, w->key_len), w->key_len, xdup(w->val, w->val_len), w->val_len};
    m->n++;
}

void memstate_apply(struct memstate *m, const struct ledger_output *out)
{
    for (size_t i = 0; i < out->n_state; i++)
        put(m, &out->state[i]);
}

size_t memstate_count(const struct memstate *m)
{
    return m->n;
}

struct memstate *memstate_clone(const struct memstate *m)
{
    struct memstate *c = memstate_new();
    for (size_t i = 0; i < m->n; i++) {
        struct ledger_write w = {m->items[i].key, m->items[i].key_len, m->items[i].val,
                                 m->items[i].val_len};
        put(c, &w);
    }
    return c;
}
