/*
 * DUP-NEAR (RISK.md): the same sale financed twice under two order numbers.
 * Two orders of one merchant with different order_no, the same buyer
 * identity commitment (CreateOrder.buyer_commitment) and currency, amounts
 * (actual_paid) within ±1 % of the larger one, created within 3 days of each
 * other, both financed, at different banks. HIGH, one incident per pair
 * (dedup key "orders/<merchant>/<order_no A>/<order_no B>", A < B bytewise).
 *
 * Input: the block's financing history entries with the credit event
 * APPROVED ("financed" = APPROVED or later) and REJECTED (no longer
 * financed: a withdrawn approval).
 *
 * State: an index of financed orders, one entry per (order, financing):
 *   s/DUP-NEAR/f/<merchant>/<currency>/<64 hex buyer>/<be32 day><be64 created_ms>
 *                                         <order_no>/<financing_id>
 *     -> be64 due_ms, be64 actual_paid, 32-byte approval tx id, "<bank>/<line_id>"
 *   t/DUP-NEAR/<be64 due_ms>/<same key>    its expiry timer
 * day = created_ms / 86,400,000 (fixed, whatever the window), so the orders
 * created within the window of an order are found by prefix scans of the
 * few days the window spans, not by a scan of the merchant's history. Ids
 * never contain '/' and the binary fields are fixed width: keys are
 * unambiguous.
 *
 * When a financing is approved, each of its orders is compared with the
 * indexed orders of the same merchant, currency and buyer created within the
 * window, then indexed itself. A pair is reported when the other order is
 * financed at a different bank, is not cancelled, differs in order_no, and
 *     |created_a − created_b| < window_ms          (RISK.md: a window of
 *                                                   length W covers (t−W, t])
 *     |paid_a − paid_b| × 10,000 ≤ tolerance_bps × max(paid_a, paid_b).
 * A rejected financing removes its entries (it is no longer "financed").
 *
 * Invariants:
 *   1. An index entry exists for (order, financing) iff the financing was
 *      approved, has not been rejected, and created_ms + retention_ms has not
 *      passed; its timer is at due_ms stored in the entry.
 *   2. Orders of one financing share its bank, so they never pair up.
 *
 * Edge decisions:
 *   - A financing that later settles keeps counting (SETTLED is "later" than
 *     APPROVED); an order financed again after settlement gets one entry per
 *     financing.
 *   - retention_ms bounds the index: a financed order stops being a candidate
 *     that long after its creation (default 365 days; effective at least the
 *     window). A pair whose second financing comes later is not seen.
 *   - Evidence: "expected" is the earlier financed order's value, "observed"
 *     the newly financed order's.
 *   - Alerts are not resolved when a financing is rejected later: the pair
 *     was financed twice at that moment.
 *   - Audience: the merchant and both banks.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum { P_SEVERITY, P_WINDOW_MS, P_TOLERANCE_BPS, P_RETENTION_MS, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH, 0, 0,
                    "severity of two near-identical orders financed at different banks"},
    [P_WINDOW_MS] = {"window_ms", RISK_P_DURATION, 3 * RISK_DAY_MS, 1000, 30 * RISK_DAY_MS,
                     "the two orders were created less than this apart (block time)"},
    [P_TOLERANCE_BPS] = {"tolerance_bps", RISK_P_INT, 100, 0, 10000,
                         "the amounts differ by at most this, in bps of the larger actual_paid"},
    [P_RETENTION_MS] = {"retention_ms", RISK_P_DURATION, 365 * RISK_DAY_MS, RISK_DAY_MS,
                        3650 * RISK_DAY_MS,
                        "how long after its creation a financed order stays a candidate"},
};

#define ORDER_T   HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER
#define FINANCE_T HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING
#define CEV(x)    HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_##x
#define HEX_BYTES (2 * WIRE_HASH_BYTES)
#define CUR_MAX   16u
/* "f/" merchant "/" currency "/" hex "/" */
#define PREFIX_MAX (2u + HANSA_ID_LEN_MAX + 1u + CUR_MAX + 1u + HEX_BYTES + 1u)
#define DAY_PREFIX (PREFIX_MAX + 4u)
#define KEY_MAX    (DAY_PREFIX + 8u + HANSA_ID_LEN_MAX + 1u + HANSA_ID_LEN_MAX)
#define VAL_FIXED  (8u + 8u + WIRE_HASH_BYTES)
#define VAL_MAX    (VAL_FIXED + 2u * HANSA_ID_LEN_MAX + 1u)

/* What the rule needs of an order. */
struct near_order {
    const char *merchant, *order_no, *currency;
    const uint8_t *buyer; /* 32 bytes */
    uint64_t created_ms;
    int64_t paid_minor;
};

/* An indexed (order, financing) read back from the index. */
struct near_entry {
    char order_no[HANSA_ID_LEN_MAX + 1], financing_id[HANSA_ID_LEN_MAX + 1];
    char bank[HANSA_ID_LEN_MAX + 1], line_id[HANSA_ID_LEN_MAX + 1];
    uint64_t created_ms;
    int64_t paid_minor;
    uint8_t tx_id[WIRE_HASH_BYTES];
};

static bool near_order_of(const Hansa__HistoryEntry *h, struct near_order *no)
{
    if (h->after == NULL || h->after->kind_case != HANSA__RECORD__KIND_ORDER)
        return false;
    const Hansa__Order *o = h->after->order;
    const Hansa__CreateOrder *d = o->document;
    if (d == NULL || d->buyer_commitment.len != WIRE_HASH_BYTES || strlen(d->currency) > CUR_MAX)
        return false;
    *no = (struct near_order){.merchant = d->merchant,
                              .order_no = d->order_no,
                              .currency = d->currency,
                              .buyer = d->buyer_commitment.data,
                              .created_ms = o->created_ms,
                              .paid_minor = d->actual_paid_minor};
    return o->status != HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED;
}

/* "f/<merchant>/<currency>/<hex>/" (+ be32 day when with_day); 0 if too
 * long (never, for ids the ledger accepted). */
static size_t prefix_key(uint8_t *k, const struct near_order *o, bool with_day, uint32_t day)
{
    char hex[HEX_BYTES + 1];
    wire_hex_encode(o->buyer, WIRE_HASH_BYTES, hex);
    int n = snprintf((char *)k, PREFIX_MAX + 1, "f/%s/%s/%s/", o->merchant, o->currency, hex);
    if (n <= 0 || (size_t)n > PREFIX_MAX)
        return 0;
    if (!with_day)
        return (size_t)n;
    risk_be32_put(k + n, day);
    return (size_t)n + 4;
}

static size_t entry_key(uint8_t *k, const struct near_order *o, const char *financing_id)
{
    size_t n = prefix_key(k, o, true, (uint32_t)(o->created_ms / (uint64_t)RISK_DAY_MS));
    if (n == 0)
        return 0;
    risk_be64_put(k + n, o->created_ms);
    n += 8;
    int m = snprintf((char *)k + n, KEY_MAX + 1 - n, "%s/%s", o->order_no, financing_id);
    return m > 0 && (size_t)m <= KEY_MAX - n ? n + (size_t)m : 0;
}

/* Copy at most cap-1 bytes of [s, s+len) as a string; false if too long. */
static bool take_str(char *out, size_t cap, const uint8_t *s, size_t len)
{
    if (len >= cap)
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

/* Parse an index entry; skip = length of the day prefix. */
static bool entry_parse(const uint8_t *key, size_t key_len, size_t skip, const uint8_t *val,
                        size_t val_len, struct near_entry *e)
{
    if (key_len < skip + 8 || val_len < VAL_FIXED)
        return false;
    e->created_ms = risk_be64_get(key + skip);
    const uint8_t *rest = key + skip + 8, *end = key + key_len;
    const uint8_t *slash = memchr(rest, '/', (size_t)(end - rest));
    if (slash == NULL || !take_str(e->order_no, sizeof e->order_no, rest, (size_t)(slash - rest)) ||
        !take_str(e->financing_id, sizeof e->financing_id, slash + 1, (size_t)(end - slash - 1)))
        return false;
    e->paid_minor = (int64_t)risk_be64_get(val + 8);
    memcpy(e->tx_id, val + 16, WIRE_HASH_BYTES);
    const uint8_t *bl = val + VAL_FIXED, *bend = val + val_len;
    slash = memchr(bl, '/', (size_t)(bend - bl));
    return slash != NULL && take_str(e->bank, sizeof e->bank, bl, (size_t)(slash - bl)) &&
           take_str(e->line_id, sizeof e->line_id, slash + 1, (size_t)(bend - slash - 1));
}

/* ---- candidate search ---- */

struct scan_arg {
    size_t skip;
    const struct near_order *o;
    const char *bank;
    uint64_t window_ms;
    int64_t tolerance_bps;
    struct near_entry *found;
    size_t n, cap;
    hansa_err err;
};

static uint64_t created_gap_ms(uint64_t a_ms, uint64_t b_ms)
{
    return a_ms > b_ms ? a_ms - b_ms : b_ms - a_ms;
}

static bool amounts_near(int64_t a_minor, int64_t b_minor, int64_t tolerance_bps)
{
    int64_t hi_minor = a_minor > b_minor ? a_minor : b_minor;
    int64_t diff_minor = a_minor > b_minor ? a_minor - b_minor : b_minor - a_minor;
    return (__int128)diff_minor * RISK_BPS <= (__int128)tolerance_bps * hi_minor;
}

static bool candidate_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                            size_t val_len)
{
    struct scan_arg *s = arg;
    struct near_entry e;
    if (!entry_parse(key, key_len, s->skip, val, val_len, &e))
        return true; /* not an entry of ours (cannot happen) */
    uint64_t gap_ms = created_gap_ms(e.created_ms, s->o->created_ms);
    if (strcmp(e.order_no, s->o->order_no) == 0 || strcmp(e.bank, s->bank) == 0 ||
        gap_ms >= s->window_ms || !amounts_near(e.paid_minor, s->o->paid_minor, s->tolerance_bps))
        return true;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        struct near_entry *v = realloc(s->found, cap * sizeof *v);
        if (v == NULL) {
            s->err = HANSA_ENOMEM;
            return false;
        }
        s->found = v;
        s->cap = cap;
    }
    s->found[s->n++] = e;
    return true;
}

/* Indexed orders near o financed at a bank other than bank, into s->found. */
static hansa_err candidates(struct risk_ctx *ctx, const struct near_order *o, const char *bank,
                            struct scan_arg *s)
{
    uint64_t window_ms = (uint64_t)risk_param(ctx, P_WINDOW_MS);
    *s = (struct scan_arg){.o = o,
                           .bank = bank,
                           .window_ms = window_ms,
                           .tolerance_bps = risk_param(ctx, P_TOLERANCE_BPS)};
    uint64_t lo_ms = o->created_ms >= window_ms ? o->created_ms - window_ms + 1 : 0;
    uint64_t hi_ms = o->created_ms + window_ms - 1;
    for (uint64_t day = lo_ms / (uint64_t)RISK_DAY_MS; day <= hi_ms / (uint64_t)RISK_DAY_MS;
         day++) {
        uint8_t k[DAY_PREFIX];
        size_t n = prefix_key(k, o, true, (uint32_t)day);
        if (n == 0)
            return HANSA_OK;
        s->skip = n;
        hansa_err rv = risk_scan(ctx, k, n, candidate_visit, s);
        if (rv == HANSA_OK)
            rv = s->err;
        if (rv != HANSA_OK)
            return rv;
    }
    return HANSA_OK;
}

/* The candidate's order is not cancelled (it may have been, after its
 * financing settled). */
static hansa_err candidate_live(struct risk_ctx *ctx, const char *merchant,
                                const struct near_entry *e, bool *live)
{
    Hansa__HistoryEntry *h = NULL;
    struct near_order no;
    hansa_err rv = risk_lookup(ctx, ORDER_T, merchant, e->order_no, &h);
    *live = h != NULL && near_order_of(h, &no);
    wire_free(h);
    return rv;
}

/* ---- report ---- */

static hansa_err report(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                        const Hansa__Financing *f, const struct near_order *o,
                        const struct near_entry *c)
{
    const uint8_t *tx = risk_tx_or_null(&h->tx_id);
    bool c_first = strcmp(c->order_no, o->order_no) < 0;
    char dedup[256], e[48], v[48], hex[HEX_BYTES + 1];
    snprintf(dedup, sizeof dedup, "orders/%s/%s/%s", o->merchant,
             c_first ? c->order_no : o->order_no, c_first ? o->order_no : c->order_no);
    struct risk_alert *a = risk_alert_new(ctx, dedup, (Hansa__Severity)risk_param(ctx, P_SEVERITY));
    risk_alert_tx(a, c->tx_id);
    risk_alert_tx(a, tx);
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, o->merchant);
    risk_alert_party(a, HANSA__ROLE__ROLE_BANK, c->bank);
    risk_alert_party(a, HANSA__ROLE__ROLE_BANK, f->line->bank);
    risk_alert_subject(a, ORDER_T, o->merchant, c->order_no);
    risk_alert_subject(a, ORDER_T, o->merchant, o->order_no);
    risk_alert_subject(a, FINANCE_T, o->merchant, c->financing_id);
    risk_alert_subject(a, FINANCE_T, f->merchant, f->financing_id);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, c->bank, c->line_id);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, f->line->bank,
                       f->line->line_id);

    risk_alert_evidence(a, "order.order_no", c->order_no, o->order_no, NULL);
    wire_hex_encode(o->buyer, WIRE_HASH_BYTES, hex);
    risk_alert_evidence(a, "order.buyer_commitment", hex, hex, NULL);
    risk_alert_evidence(a, "order.currency", o->currency, o->currency, NULL);
    snprintf(e, sizeof e, "%" PRId64, c->paid_minor);
    snprintf(v, sizeof v, "%" PRId64, o->paid_minor);
    risk_alert_evidence(a, "order.actual_paid_minor", e, v, NULL);
    snprintf(e, sizeof e, "%" PRIu64, c->created_ms);
    snprintf(v, sizeof v, "%" PRIu64, o->created_ms);
    risk_alert_evidence(a, "order.created_ms", e, v, NULL);
    risk_alert_evidence(a, "financing.bank", c->bank, f->line->bank, tx);
    risk_alert_evidence(a, "financing.financing_id", c->financing_id, f->financing_id, tx);
    uint64_t gap_ms = created_gap_ms(c->created_ms, o->created_ms);
    risk_alert_message(a,
                       "Orders %s and %s of %s (same buyer, %" PRId64 " and %" PRId64
                       " %s, created %" PRIu64 " s apart) are financed at %s (%s) and %s (%s).",
                       c->order_no, o->order_no, o->merchant, c->paid_minor, o->paid_minor,
                       o->currency, gap_ms / 1000, c->bank, c->financing_id, f->line->bank,
                       f->financing_id);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

/* ---- index maintenance ---- */

static uint64_t due_of(struct risk_ctx *ctx, uint64_t created_ms)
{
    int64_t keep_ms = risk_param(ctx, P_RETENTION_MS), window_ms = risk_param(ctx, P_WINDOW_MS);
    return created_ms + (uint64_t)(keep_ms > window_ms ? keep_ms : window_ms);
}

static hansa_err index_put(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                           const Hansa__Financing *f, const struct near_order *o)
{
    uint8_t k[KEY_MAX + 1], v[VAL_MAX + 1];
    size_t kn = entry_key(k, o, f->financing_id);
    if (kn == 0)
        return HANSA_OK;
    uint64_t due_ms = due_of(ctx, o->created_ms);
    risk_be64_put(v, due_ms);
    risk_be64_put(v + 8, (uint64_t)o->paid_minor);
    memset(v + 16, 0, WIRE_HASH_BYTES);
    if (h->tx_id.len == WIRE_HASH_BYTES)
        memcpy(v + 16, h->tx_id.data, WIRE_HASH_BYTES);
    int m = snprintf((char *)v + VAL_FIXED, VAL_MAX + 1 - VAL_FIXED, "%s/%s", f->line->bank,
                     f->line->line_id);
    if (m <= 0 || (size_t)m > VAL_MAX - VAL_FIXED)
        return HANSA_OK;
    hansa_err rv = risk_put(ctx, k, kn, v, VAL_FIXED + (size_t)m);
    return rv == HANSA_OK ? risk_timer_set(ctx, due_ms, k, kn) : rv;
}

/* The expiry stored in the entry at k: *have false if there is none,
 * *due_ms 0 if the entry is too short to hold one. */
static hansa_err index_due(struct risk_ctx *ctx, const uint8_t *k, size_t kn, bool *have,
                           uint64_t *due_ms)
{
    uint8_t *val = NULL;
    size_t len = 0;
    *have = false;
    *due_ms = 0;
    hansa_err rv = risk_get(ctx, k, kn, &val, &len);
    if (rv != HANSA_OK)
        return rv == HANSA_ENOENT ? HANSA_OK : rv;
    *have = true;
    *due_ms = len >= 8 ? risk_be64_get(val) : 0;
    free(val);
    return HANSA_OK;
}

/* Delete the entry with key k and its timer, if it exists. */
static hansa_err index_del(struct risk_ctx *ctx, const uint8_t *k, size_t kn)
{
    bool have = false;
    uint64_t due_ms = 0;
    hansa_err rv = index_due(ctx, k, kn, &have, &due_ms);
    if (rv != HANSA_OK || !have)
        return rv;
    rv = risk_put(ctx, k, kn, NULL, 0);
    return rv == HANSA_OK && due_ms != 0 ? risk_timer_cancel(ctx, due_ms, k, kn) : rv;
}

/* ---- events ---- */

static hansa_err on_approved(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                             const Hansa__Financing *f)
{
    hansa_err rv = HANSA_OK;
    for (size_t i = 0; rv == HANSA_OK && i < f->n_orders; i++) {
        Hansa__HistoryEntry *oh = NULL;
        struct near_order o;
        rv = risk_lookup(ctx, ORDER_T, f->orders[i]->merchant, f->orders[i]->order_no, &oh);
        if (rv == HANSA_OK && oh != NULL && near_order_of(oh, &o)) {
            struct scan_arg s;
            rv = candidates(ctx, &o, f->line->bank, &s);
            for (size_t c = 0; rv == HANSA_OK && c < s.n; c++) {
                bool live = false;
                rv = candidate_live(ctx, o.merchant, &s.found[c], &live);
                if (rv == HANSA_OK && live)
                    rv = report(ctx, h, f, &o, &s.found[c]);
            }
            free(s.found);
            if (rv == HANSA_OK)
                rv = index_put(ctx, h, f, &o);
        }
        wire_free(oh);
    }
    return rv;
}

static hansa_err on_rejected(struct risk_ctx *ctx, const Hansa__Financing *f)
{
    hansa_err rv = HANSA_OK;
    for (size_t i = 0; rv == HANSA_OK && i < f->n_orders; i++) {
        Hansa__HistoryEntry *oh = NULL;
        rv = risk_lookup(ctx, ORDER_T, f->orders[i]->merchant, f->orders[i]->order_no, &oh);
        struct near_order o = {0};
        uint8_t k[KEY_MAX + 1];
        /* The key also of an order cancelled since (it keeps its document). */
        if (oh != NULL)
            (void)near_order_of(oh, &o);
        size_t kn = o.buyer != NULL ? entry_key(k, &o, f->financing_id) : 0;
        if (kn > 0)
            rv = index_del(ctx, k, kn);
        wire_free(oh);
    }
    return rv;
}

static hansa_err on_credit_event(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                                 const Hansa__Financing *f, Hansa__CreditEventType t)
{
    if (f->line == NULL)
        return HANSA_OK;
    if (t == CEV(APPROVED))
        return on_approved(ctx, h, f);
    if (t == CEV(REJECTED) && f->approved_ms != 0)
        return on_rejected(ctx, f);
    return HANSA_OK;
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    return risk_each_credit_event(ctx, on_credit_event);
}

/* Retention passed: forget the entry (if the timer is the entry's). */
static hansa_err on_timer(struct risk_ctx *ctx, const uint8_t *key, size_t key_len, uint64_t due_ms)
{
    bool have = false;
    uint64_t entry_due_ms = 0;
    hansa_err rv = index_due(ctx, key, key_len, &have, &entry_due_ms);
    if (rv != HANSA_OK || !have || entry_due_ms != due_ms)
        return rv;
    return risk_put(ctx, key, key_len, NULL, 0);
}

const struct risk_rule risk_rule_dup_near = {
    .id = "DUP-NEAR",
    .rev = 1,
    .summary = "two near-identical orders of one merchant and buyer financed at different banks",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
    .on_timer = on_timer,
};
