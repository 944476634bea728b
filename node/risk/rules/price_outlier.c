/*
 * PRICE-OUTLIER (RISK.md): an order line whose unit price is at least 2x or
 * at most 0.5x the median unit price of at least 20 earlier lines with the
 * same HS-6 code, unit and currency in the last 180 days (MEDIUM; HIGH at
 * 4x / 0.25x). Over- and under-invoicing is how trade-based money
 * laundering moves value; a consortium-wide price history is what a single
 * bank cannot see.
 *
 * Input: the history entries of the block. An order's creation is the
 * entry whose tx id is the order's created_tx_id; a cancellation is an
 * entry of a CancelOrder transaction leaving the order CANCELLED.
 *
 * State: one window per group (HS-6, unit, currency), key
 *     "g" <6 HS digits> <u8 len><currency> <u8 len><unit>
 * whose value is a list of 24-byte entries in recording order
 *     be64 time_ms | be64 unit_price_minor | 8-byte order tag
 * (order tag = the first 8 bytes of SHA-256(merchant 0x00 order_no)). The
 * list is pruned when touched: entries at or before t - window go, and only
 * the latest `lines_kept` (default 512) stay, so the median is the median
 * of at most that many latest lines of the window (min_lines above
 * lines_kept can never be met). A timer per group, keyed by the group key
 * and due when its last entry leaves the window, deletes a group nobody
 * touches any more, so the state holds only lines of the window.
 *
 * Invariants and edge decisions:
 *   1. "Earlier lines" are lines of orders created by earlier transactions
 *      (earlier blocks, or earlier in this block): every line of an order is
 *      compared with the window as it was before the order, then all of them
 *      join it. An order cannot set its own baseline.
 *   2. The median of an even count is the lower middle value (RISK.md).
 *      A median of 0 gives no ratio and is not checked.
 *   3. Ratios are compared by cross-multiplying in 128 bits:
 *      price x 10,000 >= median x bound_bps, so no rounding decides a case.
 *   4. A cancelled order never counts: its entries leave the windows of its
 *      lines (matched by order tag). Its alerts stay as they were.
 *   5. One incident per order line: dedup key
 *      "order/<merchant>/<order_no>/line/<line_no>".
 *   6. Within a block the windows live in memory (struct block_groups):
 *      each is read once, changed by every order and cancellation of the
 *      block in turn exactly as a read-change-write per order would change
 *      it, and written once with its timer at the end. Orders of a busy
 *      HS-6 share a window, and reading, copying and writing 12 KiB per
 *      order was 7 % of a validator's CPU (BENCHMARKS.md).
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum {
    P_MIN_LINES,
    P_WINDOW,
    P_LINES_KEPT,
    P_MEDIUM_ABOVE_BPS,
    P_MEDIUM_BELOW_BPS,
    P_HIGH_ABOVE_BPS,
    P_HIGH_BELOW_BPS,
    P_SEVERITY_MEDIUM,
    P_SEVERITY_HIGH,
    P_COUNT
};

/* Largest window a ruleset may ask for: 4,096 x 24 bytes = 96 KiB per group. */
#define PRICE_LINES_KEPT_MAX 4096
#define ENTRY_BYTES          24u
#define TAG_BYTES            8u
/* "g" + 6 digits + (1 + 3) + (1 + 8) */
#define GROUP_KEY_BYTES_MAX 20u

static const struct risk_param_spec params[P_COUNT] = {
    [P_MIN_LINES] = {"min_lines", RISK_P_INT, 20, 1, PRICE_LINES_KEPT_MAX,
                     "earlier lines of the same HS-6, unit and currency needed for a median"},
    [P_WINDOW] = {"window", RISK_P_DURATION, 180 * RISK_DAY_MS, 1000, 3650 * RISK_DAY_MS,
                  "how far back earlier lines count"},
    [P_LINES_KEPT] = {"lines_kept", RISK_P_INT, 512, 1, PRICE_LINES_KEPT_MAX,
                      "latest lines kept per HS-6, unit and currency (the median's bound)"},
    [P_MEDIUM_ABOVE_BPS] = {"medium_above_bps", RISK_P_INT, 20000, 10001, 100000000,
                            "MEDIUM when the unit price is at least this many bps of the median"},
    [P_MEDIUM_BELOW_BPS] = {"medium_below_bps", RISK_P_INT, 5000, 0, 9999,
                            "MEDIUM when the unit price is at most this many bps of the median"},
    [P_HIGH_ABOVE_BPS] = {"high_above_bps", RISK_P_INT, 40000, 10001, 100000000,
                          "HIGH when the unit price is at least this many bps of the median"},
    [P_HIGH_BELOW_BPS] = {"high_below_bps", RISK_P_INT, 2500, 0, 9999,
                          "HIGH when the unit price is at most this many bps of the median"},
    [P_SEVERITY_MEDIUM] = {"severity_medium", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_MEDIUM, 0,
                           0, "severity of a line outside the medium bounds"},
    [P_SEVERITY_HIGH] = {"severity_high", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH, 0, 0,
                         "severity of a line outside the high bounds"},
};

/* ---- entries ---- */

static void order_tag(const char *merchant, const char *order_no, uint8_t tag[TAG_BYTES])
{
    char buf[2 * HANSA_ID_LEN_MAX + 2];
    size_t ml = strnlen(merchant, HANSA_ID_LEN_MAX), ol = strnlen(order_no, HANSA_ID_LEN_MAX);
    memcpy(buf, merchant, ml);
    buf[ml] = '\0';
    memcpy(buf + ml + 1, order_no, ol);
    uint8_t h[WIRE_HASH_BYTES];
    wire_sha256(buf, ml + 1 + ol, h);
    memcpy(tag, h, TAG_BYTES);
}

/* The group key of a line; 0 if the line's codes do not fit it (the ledger
 * refuses such lines, so this only guards the key layout). */
static size_t group_key(const Hansa__OrderItem *it, const char *currency,
                        uint8_t key[GROUP_KEY_BYTES_MAX])
{
    size_t cl = strnlen(currency, 4), ul = strnlen(it->unit, 9);
    if (strnlen(it->hs_code, 6) < 6 || cl > 3 || ul > 8)
        return 0;
    key[0] = 'g';
    memcpy(key + 1, it->hs_code, 6);
    key[7] = (uint8_t)cl;
    memcpy(key + 8, currency, cl);
    key[8 + cl] = (uint8_t)ul;
    memcpy(key + 9 + cl, it->unit, ul);
    return 9 + cl + ul;
}

/* One group touched by the order being processed. */
struct group {
    uint8_t key[GROUP_KEY_BYTES_MAX];
    size_t key_len;
    uint8_t *entries; /* owned; n * ENTRY_BYTES, room for cap */
    size_t n, cap;
    uint64_t stored_last_ms; /* time of the last stored entry (its timer), 0 if none */
    bool has_median;
    int64_t median_minor;
    size_t median_count;
};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Drop the window's leading entries at or before cutoff_ms. */
static void group_cut(struct group *g, uint64_t cutoff_ms)
{
    size_t first = 0;
    while (first < g->n && risk_be64_get(g->entries + first * ENTRY_BYTES) <= cutoff_ms)
        first++;
    if (first > 0) {
        memmove(g->entries, g->entries + first * ENTRY_BYTES, (g->n - first) * ENTRY_BYTES);
        g->n -= first;
    }
}

/* Load a group's window (the stored copy becomes g->entries), dropping
 * entries at or before cutoff_ms. */
static hansa_err group_load(struct risk_ctx *ctx, struct group *g, uint64_t cutoff_ms)
{
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = risk_get(ctx, g->key, g->key_len, &val, &len);
    if (rv == HANSA_ENOENT) {
        len = 0;
        val = malloc(1);
        if (val == NULL)
            return HANSA_ENOMEM;
    } else if (rv != HANSA_OK) {
        return rv;
    }
    if (len % ENTRY_BYTES != 0) {
        free(val);
        return HANSA_EFORMAT;
    }
    g->entries = val;
    g->n = g->cap = len / ENTRY_BYTES;
    g->stored_last_ms = g->n > 0 ? risk_be64_get(val + (g->n - 1) * ENTRY_BYTES) : 0;
    group_cut(g, cutoff_ms);
    return HANSA_OK;
}

/* The k-th smallest of p[0..n) (0-based; p is reordered): quickselect with
 * a median-of-three pivot and Wirth's partition, linear on average. The
 * value at a rank does not depend on how it is found, so this equals
 * sorting and indexing. After 2 log2(n) + 2 rounds without narrowing to k
 * (inputs built against the pivot rule) it sorts what is left, so the
 * worst case stays n log n. */
static int64_t select_kth(int64_t *p, size_t n, size_t k)
{
    HANSA_ASSERT(k < n);
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
    unsigned rounds = 2;
    for (size_t m = n; m > 1; m >>= 1)
        rounds += 2;
    while (lo < hi) {
        if (rounds-- == 0) {
            qsort(p + lo, (size_t)(hi - lo + 1), sizeof *p, cmp_i64);
            break;
        }
        int64_t a = p[lo], b = p[lo + (hi - lo) / 2], c = p[hi];
        int64_t pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        ptrdiff_t i = lo, j = hi;
        /* The pivot is in [lo, hi], so the first round swaps and each scan
         * stops at the other's last swapped element at the latest. */
        while (i <= j) {
            while (p[i] < pivot)
                i++;
            while (p[j] > pivot)
                j--;
            if (i <= j) {
                int64_t t = p[i];
                p[i++] = p[j];
                p[j--] = t;
            }
        }
        /* Now p[lo..j] <= pivot, p[i..hi] >= pivot, and between them
         * every element equals the pivot. */
        if (kk <= j)
            hi = j;
        else if (kk >= i)
            lo = i;
        else
            break;
    }
    return p[k];
}

/* Lower-middle median of the window's prices, if there are min_lines. */
static hansa_err group_median(struct group *g, size_t min_lines)
{
    g->median_count = g->n;
    if (g->n < min_lines || g->n == 0)
        return HANSA_OK;
    int64_t *p = malloc(g->n * sizeof *p);
    if (p == NULL)
        return HANSA_ENOMEM;
    for (size_t i = 0; i < g->n; i++)
        p[i] = (int64_t)risk_be64_get(g->entries + i * ENTRY_BYTES + 8);
    g->median_minor = select_kth(p, g->n, (g->n - 1) / 2);
    g->has_median = true;
    free(p);
    return HANSA_OK;
}

/* Keep the latest `kept` entries, write the window back, and move the
 * group's expiry timer to when its last entry leaves the window. */
static hansa_err group_store(struct risk_ctx *ctx, struct group *g, size_t kept)
{
    size_t drop = g->n > kept ? g->n - kept : 0;
    uint64_t window_ms = (uint64_t)risk_param(ctx, P_WINDOW);
    uint64_t last_ms = g->n > drop ? risk_be64_get(g->entries + (g->n - 1) * ENTRY_BYTES) : 0;
    hansa_err rv = g->n > drop ? risk_put(ctx, g->key, g->key_len, g->entries + drop * ENTRY_BYTES,
                                          (g->n - drop) * ENTRY_BYTES)
                               : risk_put(ctx, g->key, g->key_len, NULL, 0);
    if (rv != HANSA_OK || last_ms == g->stored_last_ms)
        return rv;
    if (g->stored_last_ms != 0)
        rv = risk_timer_cancel(ctx, g->stored_last_ms + window_ms, g->key, g->key_len);
    if (rv == HANSA_OK && last_ms != 0)
        rv = risk_timer_set(ctx, last_ms + window_ms, g->key, g->key_len);
    return rv;
}

static void group_append(struct group *g, uint64_t time_ms, int64_t price_minor,
                         const uint8_t tag[TAG_BYTES])
{
    HANSA_ASSERT(g->n < g->cap);
    uint8_t *e = g->entries + g->n * ENTRY_BYTES;
    risk_be64_put(e, time_ms);
    risk_be64_put(e + 8, (uint64_t)price_minor);
    memcpy(e + 16, tag, TAG_BYTES);
    g->n++;
}

/* ---- the check ---- */

/* Severity of price against median (0 = inside the bounds). */
static Hansa__Severity judge(const struct risk_ctx *ctx, int64_t price_minor, int64_t median_minor)
{
    __int128 p = (__int128)price_minor * RISK_BPS, m = median_minor;
    if (p >= m * risk_param(ctx, P_HIGH_ABOVE_BPS) || p <= m * risk_param(ctx, P_HIGH_BELOW_BPS))
        return (Hansa__Severity)risk_param(ctx, P_SEVERITY_HIGH);
    if (p >= m * risk_param(ctx, P_MEDIUM_ABOVE_BPS) ||
        p <= m * risk_param(ctx, P_MEDIUM_BELOW_BPS))
        return (Hansa__Severity)risk_param(ctx, P_SEVERITY_MEDIUM);
    return 0;
}

static hansa_err report(struct risk_ctx *ctx, const Hansa__HistoryEntry *h, const Hansa__Order *o,
                        const Hansa__OrderItem *it, const struct group *g, Hansa__Severity sev)
{
    const Hansa__CreateOrder *d = o->document;
    char dedup[200], v[96], e[96], hs6[7];
    snprintf(dedup, sizeof dedup, "order/%s/%s/line/%" PRIu32, d->merchant, d->order_no,
             it->line_no);
    memcpy(hs6, it->hs_code, 6);
    hs6[6] = '\0';
    const uint8_t *tx = risk_tx_or_null(&h->tx_id);
    int64_t ratio_bps = (int64_t)((__int128)it->unit_price_minor * RISK_BPS / g->median_minor);

    struct risk_alert *a = risk_alert_new(ctx, dedup, sev);
    risk_alert_tx(a, tx);
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, d->merchant);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, d->merchant, d->order_no);
    snprintf(e, sizeof e, "> %" PRId64 " and < %" PRId64, risk_param(ctx, P_MEDIUM_BELOW_BPS),
             risk_param(ctx, P_MEDIUM_ABOVE_BPS));
    risk_evidence_i64(a, "line.price_to_median_bps", e, ratio_bps, tx);
    risk_evidence_amount(a, "line.unit_price_minor", "", it->unit_price_minor, d->currency, tx);
    risk_evidence_amount(a, "median.unit_price_minor", "", g->median_minor, d->currency, NULL);
    snprintf(e, sizeof e, ">= %" PRId64, risk_param(ctx, P_MIN_LINES));
    risk_evidence_u64(a, "median.lines", e, g->median_count, NULL);
    snprintf(v, sizeof v, "%s %s %s", hs6, it->unit, d->currency);
    risk_alert_evidence(a, "line.hs6_unit_currency", "", v, tx);
    risk_alert_message(a,
                       "Line %" PRIu32 " of order %s of %s (HS %s, %s) is priced at %" PRId64
                       " %s, %" PRId64 " bps of the median %" PRId64 " of %zu earlier lines.",
                       it->line_no, d->order_no, d->merchant, hs6, it->unit, it->unit_price_minor,
                       d->currency, ratio_bps, g->median_minor, g->median_count);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

/* ---- the block's windows ---- */

/* Every window the block touched, in memory until the block ends. g.n
 * entries are the window as the next order will see it before its cutoff;
 * first_last_ms is the time of the last entry stored before the block (its
 * timer), kept the trim of the last change (lines_kept after an order, none
 * after a cancellation, as group_store is called by each). */
struct block_group {
    struct group g;
    uint64_t first_last_ms;
    size_t kept;
    bool dirty;
};

struct block_groups {
    struct block_group *v;
    size_t n, cap;
};

/* The block being processed (set by on_block for its duration): the rule
 * callbacks of risk_each_order_change take no argument of their own. The
 * engine runs one block at a time on a thread. */
static _Thread_local struct block_groups *block_groups;

/* The index in block_groups of key's window, loaded (without a cutoff) on
 * first use. An index, not a pointer: loading another window may move
 * them all. */
static hansa_err block_group(struct risk_ctx *ctx, const uint8_t *key, size_t key_len, size_t *out)
{
    struct block_groups *bg = block_groups;
    HANSA_ASSERT(bg != NULL && key_len <= GROUP_KEY_BYTES_MAX);
    for (size_t i = 0; i < bg->n; i++)
        if (bg->v[i].g.key_len == key_len && memcmp(bg->v[i].g.key, key, key_len) == 0) {
            *out = i;
            return HANSA_OK;
        }
    if (bg->n == bg->cap) {
        size_t cap = bg->cap ? 2 * bg->cap : 8;
        struct block_group *v = realloc(bg->v, cap * sizeof *v);
        if (v == NULL)
            return HANSA_ENOMEM;
        bg->v = v;
        bg->cap = cap;
    }
    struct block_group *b = &bg->v[bg->n];
    memset(b, 0, sizeof *b);
    memcpy(b->g.key, key, key_len);
    b->g.key_len = key_len;
    hansa_err rv = group_load(ctx, &b->g, 0);
    if (rv != HANSA_OK) {
        free(b->g.entries);
        return rv;
    }
    b->first_last_ms = b->g.stored_last_ms;
    b->kept = SIZE_MAX;
    *out = bg->n++;
    return HANSA_OK;
}

/* Keep the latest kept entries (as group_store does when it writes). */
static void group_trim(struct group *g, size_t kept)
{
    if (g->n > kept) {
        size_t drop = g->n - kept;
        memmove(g->entries, g->entries + drop * ENTRY_BYTES, kept * ENTRY_BYTES);
        g->n = kept;
    }
}

static hansa_err group_reserve(struct group *g, size_t more)
{
    if (g->n + more <= g->cap)
        return HANSA_OK;
    size_t cap = g->n + more > 2 * g->cap ? g->n + more : 2 * g->cap;
    uint8_t *e = realloc(g->entries, cap * ENTRY_BYTES);
    if (e == NULL)
        return HANSA_ENOMEM;
    g->entries = e;
    g->cap = cap;
    return HANSA_OK;
}

/* Write every window the block changed, each with its timer moved from
 * where the block found it to its last entry's. */
static hansa_err block_groups_store(struct risk_ctx *ctx, struct block_groups *bg)
{
    hansa_err rv = HANSA_OK;
    for (size_t i = 0; rv == HANSA_OK && i < bg->n; i++) {
        struct block_group *b = &bg->v[i];
        if (!b->dirty)
            continue;
        b->g.stored_last_ms = b->first_last_ms;
        rv = group_store(ctx, &b->g, b->kept);
    }
    return rv;
}

static void block_groups_free(struct block_groups *bg)
{
    for (size_t i = 0; i < bg->n; i++)
        free(bg->v[i].g.entries);
    free(bg->v);
}

/* ---- orders ---- */

/* The block's windows the order's lines fall in (line_group[i] = SIZE_MAX
 * for a line without one), each cut at the order's window start, with room
 * for the order's lines and its median computed. */
static hansa_err load_groups(struct risk_ctx *ctx, const Hansa__CreateOrder *d, uint64_t now_ms,
                             size_t *line_group)
{
    uint64_t cutoff_ms = risk_window_start_ms(now_ms, (uint64_t)risk_param(ctx, P_WINDOW));
    size_t min_lines = (size_t)risk_param(ctx, P_MIN_LINES);
    hansa_err rv = HANSA_OK;
    for (size_t i = 0; rv == HANSA_OK && i < d->n_items; i++) {
        uint8_t key[GROUP_KEY_BYTES_MAX];
        size_t kl = group_key(d->items[i], d->currency, key);
        line_group[i] = SIZE_MAX;
        if (kl == 0)
            continue;
        rv = block_group(ctx, key, kl, &line_group[i]);
        bool seen = false; /* an earlier line of this order prepared it */
        for (size_t j = 0; rv == HANSA_OK && j < i && !seen; j++)
            seen = line_group[j] == line_group[i];
        if (rv != HANSA_OK || seen)
            continue;
        struct group *g = &block_groups->v[line_group[i]].g;
        group_cut(g, cutoff_ms);
        g->has_median = false;
        rv = group_median(g, min_lines);
        if (rv == HANSA_OK)
            rv = group_reserve(g, d->n_items);
    }
    return rv;
}

static hansa_err on_created(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                            const Hansa__Order *o)
{
    const Hansa__CreateOrder *d = o->document;
    if (d->n_items == 0)
        return HANSA_OK;
    size_t *line_group = calloc(d->n_items, sizeof *line_group);
    hansa_err rv = line_group != NULL ? HANSA_OK : HANSA_ENOMEM;
    if (rv == HANSA_OK)
        rv = load_groups(ctx, d, o->created_ms, line_group);
    struct block_group *v = block_groups->v; /* no window is loaded from here on */
    /* Judge every line against the windows as they were, in line order. */
    for (size_t i = 0; rv == HANSA_OK && i < d->n_items; i++) {
        const struct group *g = line_group[i] != SIZE_MAX ? &v[line_group[i]].g : NULL;
        if (g == NULL || !g->has_median || g->median_minor <= 0)
            continue;
        Hansa__Severity sev = judge(ctx, d->items[i]->unit_price_minor, g->median_minor);
        if (sev != 0)
            rv = report(ctx, h, o, d->items[i], g, sev);
    }
    /* Then the order's lines join their windows. */
    uint8_t tag[TAG_BYTES];
    order_tag(d->merchant, d->order_no, tag);
    for (size_t i = 0; rv == HANSA_OK && i < d->n_items; i++)
        if (line_group[i] != SIZE_MAX)
            group_append(&v[line_group[i]].g, o->created_ms, d->items[i]->unit_price_minor, tag);
    size_t kept = (size_t)risk_param(ctx, P_LINES_KEPT);
    for (size_t i = 0; rv == HANSA_OK && i < d->n_items; i++)
        if (line_group[i] != SIZE_MAX) {
            group_trim(&v[line_group[i]].g, kept);
            v[line_group[i]].kept = kept;
            v[line_group[i]].dirty = true;
        }
    free(line_group);
    return rv;
}

/* A cancelled order's lines leave their windows. */
static hansa_err on_cancelled(struct risk_ctx *ctx, const Hansa__Order *o)
{
    const Hansa__CreateOrder *d = o->document;
    uint8_t tag[TAG_BYTES];
    order_tag(d->merchant, d->order_no, tag);
    hansa_err rv = HANSA_OK;
    for (size_t i = 0; rv == HANSA_OK && i < d->n_items; i++) {
        uint8_t key[GROUP_KEY_BYTES_MAX];
        size_t kl = group_key(d->items[i], d->currency, key);
        if (kl == 0)
            continue;
        size_t bi = 0;
        rv = block_group(ctx, key, kl, &bi);
        if (rv != HANSA_OK)
            break;
        struct block_group *b = &block_groups->v[bi];
        struct group *g = &b->g;
        size_t k = 0;
        for (size_t j = 0; j < g->n; j++)
            if (memcmp(g->entries + j * ENTRY_BYTES + 16, tag, TAG_BYTES) != 0)
                memmove(g->entries + k++ * ENTRY_BYTES, g->entries + j * ENTRY_BYTES, ENTRY_BYTES);
        if (k != g->n) {
            g->n = k;
            b->kept = SIZE_MAX;
            b->dirty = true;
        }
    }
    return rv;
}

/* A group's last entry left the window: prune it (deletes it if empty). */
static hansa_err on_timer(struct risk_ctx *ctx, const uint8_t *key, size_t key_len, uint64_t due_ms)
{
    (void)due_ms;
    if (key_len == 0 || key_len > GROUP_KEY_BYTES_MAX || key[0] != 'g')
        return HANSA_OK;
    const struct risk_block *b = risk_ctx_block(ctx);
    uint64_t window_ms = (uint64_t)risk_param(ctx, P_WINDOW);
    struct group g = {.key_len = key_len};
    memcpy(g.key, key, key_len);
    /* The engine already removed this timer: nothing to cancel. */
    hansa_err rv = group_load(ctx, &g, risk_window_start_ms(b->time_ms, window_ms));
    g.stored_last_ms = 0;
    if (rv == HANSA_OK)
        rv = group_store(ctx, &g, SIZE_MAX);
    free(g.entries);
    return rv;
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    struct block_groups bg = {0};
    HANSA_ASSERT(block_groups == NULL);
    block_groups = &bg;
    hansa_err rv = risk_each_order_change(ctx, on_created, on_cancelled);
    block_groups = NULL;
    if (rv == HANSA_OK)
        rv = block_groups_store(ctx, &bg);
    block_groups_free(&bg);
    return rv;
}

const struct risk_rule risk_rule_price_outlier = {
    .id = "PRICE-OUTLIER",
    .rev = 1,
    .summary = "an order line priced far from the median of earlier lines of its HS-6, unit and "
               "currency",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
    .on_timer = on_timer,
};
