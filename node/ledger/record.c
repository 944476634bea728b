/*
 * Reading and writing records during execution: committed state seen
 * through the block's overlay, encode/decode, history and indexes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"
#include "overlay.h"

/* A state record is at most a block's worth of bytes. */
#define RECORD_BYTES_MAX HANSA_BLOCK_BYTES_MAX

static void set_fatal(struct ledger_exec *ex, hansa_err err)
{
    if (ex->fatal == HANSA_OK)
        ex->fatal = err;
}

void ledger_why(struct ledger_exec *ex, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex->why, sizeof ex->why, fmt, ap);
    va_end(ap);
}

void ledger_defer_free(struct ledger_exec *ex, void *p, void (*free_fn)(void *))
{
    if (p == NULL)
        return;
    if (ex->n_deferred == ex->cap_deferred) {
        size_t cap = ex->cap_deferred ? ex->cap_deferred * 2 : 32;
        struct ledger_deferred *d = realloc(ex->deferred, cap * sizeof *d);
        if (d == NULL) {
            free_fn(p); /* cannot keep it: the caller must not use p after a fatal */
            set_fatal(ex, HANSA_ENOMEM);
            return;
        }
        ex->deferred = d;
        ex->cap_deferred = cap;
    }
    ex->deferred[ex->n_deferred++] = (struct ledger_deferred){p, free_fn};
}

/* The value of key as this block sees it: 1 found (*val malloc'd), 0 absent. */
static int read_value(struct ledger_exec *ex, const char *key, size_t key_len, uint8_t **val,
                      size_t *val_len)
{
    struct overlay_entry_view v;
    if (overlay_get(ex->ov, (const uint8_t *)key, key_len, &v)) {
        if (v.val == NULL)
            return 0;
        *val = malloc(v.val_len ? v.val_len : 1);
        if (*val == NULL) {
            set_fatal(ex, HANSA_ENOMEM);
            return 0;
        }
        memcpy(*val, v.val, v.val_len);
        *val_len = v.val_len;
        return 1;
    }
    hansa_err rv = ex->base->get(ex->base->ctx, (const uint8_t *)key, key_len, val, val_len);
    if (rv == HANSA_ENOENT)
        return 0;
    if (rv != HANSA_OK) {
        set_fatal(ex, rv);
        return 0;
    }
    return 1;
}

void *ledger_load_keep(struct ledger_exec *ex, const ProtobufCMessageDescriptor *desc,
                       const char *key, size_t key_len)
{
    uint8_t *val = NULL;
    size_t val_len = 0;
    if (!read_value(ex, key, key_len, &val, &val_len))
        return NULL;
    ProtobufCMessage *m = NULL;
    hansa_err rv = wire_decode(desc, val, val_len, RECORD_BYTES_MAX, WIRE_LENIENT, &m);
    free(val);
    if (rv != HANSA_OK) {
        set_fatal(ex, HANSA_EFORMAT); /* our own record does not decode: corrupt state */
        return NULL;
    }
    return m;
}

void *ledger_load(struct ledger_exec *ex, const ProtobufCMessageDescriptor *desc, const char *key,
                  size_t key_len)
{
    void *m = ledger_load_keep(ex, desc, key, key_len);
    ledger_defer_free(ex, m, wire_free);
    return ex->fatal == HANSA_OK ? m : NULL;
}

#define LOAD(desc, keyfn, ...)                                                                     \
    do {                                                                                           \
        char key[LEDGER_KEY_BYTES_MAX];                                                            \
        size_t n = keyfn(key, __VA_ARGS__);                                                        \
        return ledger_load(ex, &desc, key, n);                                                     \
    } while (0)

Hansa__Party *ledger_load_party(struct ledger_exec *ex, const char *party)
{
    LOAD(hansa__party__descriptor, ledger_key_party, party);
}

Hansa__Order *ledger_load_order(struct ledger_exec *ex, const char *merchant, const char *order_no)
{
    LOAD(hansa__order__descriptor, ledger_key_order, merchant, order_no);
}

Hansa__Payment *ledger_load_payment(struct ledger_exec *ex, const char *institution,
                                    const char *pay_transaction_id)
{
    LOAD(hansa__payment__descriptor, ledger_key_payment, institution, pay_transaction_id);
}

Hansa__Waybill *ledger_load_waybill(struct ledger_exec *ex, const char *carrier,
                                    const char *logistics_no)
{
    LOAD(hansa__waybill__descriptor, ledger_key_waybill, carrier, logistics_no);
}

Hansa__CreditLine *ledger_load_line(struct ledger_exec *ex, const char *bank, const char *line_id)
{
    LOAD(hansa__credit_line__descriptor, ledger_key_line, bank, line_id);
}

Hansa__Financing *ledger_load_financing(struct ledger_exec *ex, const char *merchant,
                                        const char *financing_id)
{
    LOAD(hansa__financing__descriptor, ledger_key_financing, merchant, financing_id);
}

void ledger_put_raw(struct ledger_exec *ex, const char *key, size_t key_len, const uint8_t *val,
                    size_t val_len)
{
    if (ex->fatal != HANSA_OK)
        return;
    hansa_err rv = overlay_put(ex->ov, (const uint8_t *)key, key_len, val, val_len);
    if (rv != HANSA_OK)
        set_fatal(ex, rv);
}

void ledger_put(struct ledger_exec *ex, const char *key, size_t key_len, const ProtobufCMessage *m)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    hansa_err rv = wire_encode(m, RECORD_BYTES_MAX, &buf, &len);
    if (rv != HANSA_OK) {
        set_fatal(ex, rv);
        return;
    }
    ledger_put_raw(ex, key, key_len, buf, len);
    free(buf);
}

void ledger_delete(struct ledger_exec *ex, const char *key, size_t key_len)
{
    if (ex->fatal != HANSA_OK)
        return;
    hansa_err rv = overlay_put(ex->ov, (const uint8_t *)key, key_len, NULL, 0);
    if (rv != HANSA_OK)
        set_fatal(ex, rv);
}

static struct ledger_write *history_slot(struct ledger_exec *ex)
{
    if (ex->n_history == ex->cap_history) {
        size_t cap = ex->cap_history ? ex->cap_history * 2 : 64;
        struct ledger_write *h = realloc(ex->history, cap * sizeof *h);
        if (h == NULL)
            return NULL;
        ex->history = h;
        ex->cap_history = cap;
    }
    return &ex->history[ex->n_history];
}

void ledger_history(struct ledger_exec *ex, Hansa__EntityType type, const char *owner,
                    const char *id, const Hansa__Record *after, Hansa__CreditEvent *ev)
{
    if (ex->fatal != HANSA_OK)
        return;
    Hansa__EntityRef ref = HANSA__ENTITY_REF__INIT;
    ref.type = type;
    ref.owner = (char *)(uintptr_t)(owner ? owner : "");
    ref.id = (char *)(uintptr_t)id;
    Hansa__HistoryEntry h = HANSA__HISTORY_ENTRY__INIT;
    h.entity = &ref;
    h.height = ex->height;
    h.tx_index = ex->tx_index;
    h.time_ms = ex->time_ms;
    if (ex->tx != NULL) {
        h.tx_id.data = (uint8_t *)(uintptr_t)ex->tx->id;
        h.tx_id.len = WIRE_HASH_BYTES;
    }
    h.after = (Hansa__Record *)(uintptr_t)after;
    if (ev != NULL) {
        if (ev->height == 0) { /* not stamped yet: a new event */
            ev->height = ex->height;
            ev->ordinal = ex->credit_ordinal++;
            ev->tx_id = h.tx_id;
            ev->time_ms = ex->time_ms;
        }
        h.credit_event = ev;
    }

    char ekey[LEDGER_KEY_BYTES_MAX];
    size_t n = ledger_key_entity(ekey, type, owner, id);
    HANSA_ASSERT(n > 0);
    char key[LEDGER_KEY_BYTES_MAX + 32];
    int klen = snprintf(key, sizeof key, "%.*s/%016llx/%08x", (int)n, ekey,
                        (unsigned long long)ex->height, ex->history_seq);
    HANSA_ASSERT(klen > 0 && (size_t)klen < sizeof key);

    struct ledger_write *w = history_slot(ex);
    uint8_t *val = NULL;
    size_t val_len = 0;
    hansa_err rv = w ? wire_encode(&h.base, RECORD_BYTES_MAX, &val, &val_len) : HANSA_ENOMEM;
    uint8_t *kcopy = rv == HANSA_OK ? malloc((size_t)klen) : NULL;
    if (kcopy == NULL) {
        free(val);
        set_fatal(ex, rv != HANSA_OK ? rv : HANSA_ENOMEM);
        return;
    }
    memcpy(kcopy, key, (size_t)klen);
    *w = (struct ledger_write){
        .key = kcopy, .key_len = (size_t)klen, .val = val, .val_len = val_len};
    ex->n_history++;
    ex->history_seq++;
}

static const char *entity_type_name(Hansa__EntityType type)
{
    switch (type) {
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY:
        return "party";
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER:
        return "order";
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_PAYMENT:
        return "payment";
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL:
        return "waybill";
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE:
        return "line";
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING:
        return "financing";
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_GOVERNANCE_PROPOSAL:
        return "proposal";
    default:
        return "other";
    }
}

void ledger_index(struct ledger_exec *ex, const char *party, Hansa__EntityType type,
                  const char *entity_key_str)
{
    char key[LEDGER_KEY_BYTES_MAX + 96];
    int n = snprintf(key, sizeof key, "ix/%s/%s/%s", party, entity_type_name(type), entity_key_str);
    HANSA_ASSERT(n > 0 && (size_t)n < sizeof key);
    ledger_put_raw(ex, key, (size_t)n, (const uint8_t *)"", 0);
}

/* ---- scan: committed entries with the prefix, merged with this block's ----
 *
 * A streaming merge: the base scan's callback first hands the visitor every
 * overlay entry that sorts before the committed key, then the committed key
 * itself unless the overlay rewrote or deleted it. A visitor that stops
 * early therefore stops the store's iteration too: a timer scan over "due/"
 * reads only the keys that are due, however many are pending.
 */

struct scan_merge {
    const struct overlay_entry_view *ov; /* this block's entries with the prefix, sorted */
    size_t n_ov, next;
    ledger_visit_fn visit;
    void *arg;
    bool stopped;
};

static int bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

/* Hand over overlay entries before key (all of them when key is NULL);
 * returns 0 if key is not in the overlay, 1 if the overlay holds it. */
static int merge_overlay_upto(struct scan_merge *m, const uint8_t *key, size_t key_len)
{
    while (!m->stopped && m->next < m->n_ov) {
        const struct overlay_entry_view *e = &m->ov[m->next];
        int c = key ? bytes_cmp(e->key, e->key_len, key, key_len) : -1;
        if (c > 0)
            return 0;
        m->next++;
        if (e->val != NULL && !m->visit(m->arg, e->key, e->key_len, e->val, e->val_len))
            m->stopped = true;
        if (c == 0)
            return 1;
    }
    return 0;
}

static bool merge_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    struct scan_merge *m = arg;
    if (merge_overlay_upto(m, key, key_len) == 0 && !m->stopped &&
        !m->visit(m->arg, key, key_len, val, val_len))
        m->stopped = true;
    return !m->stopped;
}

void ledger_scan(struct ledger_exec *ex, const char *prefix, ledger_visit_fn visit, void *arg)
{
    if (ex->fatal != HANSA_OK)
        return;
    size_t plen = strlen(prefix);
    struct overlay_entry_view *all = NULL;
    size_t n_all = 0;
    hansa_err rv = overlay_sorted(ex->ov, &all, &n_all);
    if (rv != HANSA_OK) {
        set_fatal(ex, rv);
        return;
    }
    /* The entries with the prefix are one contiguous run of the sorted list. */
    size_t first = 0;
    while (first < n_all &&
           bytes_cmp(all[first].key, all[first].key_len, (const uint8_t *)prefix, plen) < 0)
        first++;
    size_t end = first;
    while (end < n_all && all[end].key_len >= plen && memcmp(all[end].key, prefix, plen) == 0)
        end++;
    struct scan_merge m = {.ov = all + first, .n_ov = end - first, .visit = visit, .arg = arg};
    rv = ex->base->scan(ex->base->ctx, (const uint8_t *)prefix, plen, merge_visit, &m);
    if (rv != HANSA_OK)
        set_fatal(ex, rv);
    else
        merge_overlay_upto(&m, NULL, 0);
    free(all);
}
