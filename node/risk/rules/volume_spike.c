/*
 * VOLUME-SPIKE (RISK.md): when an order is created, the merchant's order
 * value (actual_paid) in the last 7 days exceeds 5x its weekly average over
 * the 12 weeks before (that 12-week sum / 12), given its first order is at
 * least 28 days old (MEDIUM, one incident per merchant and ISO week at
 * UTC+8). A merchant that suddenly books many times its usual volume is
 * pumping receivables ahead of financing - or its account was taken over.
 *
 * Amounts are compared only within one currency (RISK.md), so a merchant
 * has one series per currency, and the age gate is that series' first
 * order: a merchant's first orders in a new currency are not a spike of its
 * old one.
 *
 * Time is counted in buckets of block time (default one day at UTC+8:
 * bucket = (time_ms + 8 h) / bucket_ms). At an order created at t in bucket
 * c, with R = recent_window / bucket and B = baseline_window / bucket
 * (whole buckets, at least 1):
 *     recent   = value of buckets c-R+1 .. c        (this order included)
 *     baseline = value of buckets c-R-B+1 .. c-R
 *     spike   <=> recent x B x 10,000 > spike_bps x baseline x R
 * which with the defaults (R = 7, B = 84, 50,000 bps) is
 * recent > 5 x baseline / 12, cross-multiplied in 128 bits. The windows
 * are whole days at UTC+8 rather than (t - 7 d, t]: that is what daily
 * buckets can give. A baseline of 0 (orders only further back) means any
 * recent value is a spike, as RISK.md reads.
 *
 * Input: the block's history entries: an order's creation (the entry whose
 * tx id is its created_tx_id) and a CancelOrder leaving it CANCELLED.
 *
 * State, per merchant and currency (keys "f" / "b" <u8 len><merchant>
 * <3-byte currency>):
 *   f -> be64 time of the series' first order (kept; one per series)
 *   b -> (be64 bucket, be64 value_minor) pairs, ascending by bucket,
 *        pruned when touched to the R + B buckets that can still count and
 *        to at most VOLUME_BUCKETS_MAX pairs.
 *
 * Edge decisions:
 *   1. A cancelled order's value leaves its bucket (if still kept); it
 *      still dates the series' start: the gate is about how long the
 *      merchant has traded on the ledger, not about value.
 *   2. Bucket values saturate at INT64_MAX (10^15 per order bounds them far
 *      below in practice).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum {
    P_RECENT_WINDOW,
    P_BASELINE_WINDOW,
    P_SPIKE_BPS,
    P_MIN_HISTORY,
    P_BUCKET,
    P_SEVERITY,
    P_COUNT
};

/* Pairs kept per series: 91 with the defaults; a ruleset with tiny buckets
 * keeps only this many latest (non-empty) ones. */
#define VOLUME_BUCKETS_MAX 4096u
#define PAIR_BYTES         16u
#define UTC8_MS            (UINT64_C(8) * 3600 * 1000)
#define SERIES_KEY_BYTES   (2 + HANSA_ID_LEN_MAX + 3)

static const struct risk_param_spec params[P_COUNT] = {
    [P_RECENT_WINDOW] = {"recent_window", RISK_P_DURATION, 7 * RISK_DAY_MS, 1000, 365 * RISK_DAY_MS,
                         "the recent window whose order value is compared"},
    [P_BASELINE_WINDOW] = {"baseline_window", RISK_P_DURATION, 84 * RISK_DAY_MS, 1000,
                           3650 * RISK_DAY_MS,
                           "the window before it whose average per recent window is the baseline"},
    [P_SPIKE_BPS] = {"spike_bps", RISK_P_INT, 50000, 1, 100000000,
                     "a spike is recent value above this many bps of the baseline average"},
    [P_MIN_HISTORY] = {"min_history", RISK_P_DURATION, 28 * RISK_DAY_MS, 0, 3650 * RISK_DAY_MS,
                       "the merchant's first order in the currency must be at least this old"},
    [P_BUCKET] = {"bucket", RISK_P_DURATION, RISK_DAY_MS, 1000, 7 * RISK_DAY_MS,
                  "time bucket of the windows (aligned to UTC+8)"},
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_MEDIUM, 0, 0,
                    "severity of a spike"},
};

/* kind <u8 len><merchant><currency>; 0 if the ids do not fit. */
static size_t series_key(uint8_t *k, char kind, const char *merchant, const char *currency)
{
    size_t ml = strlen(merchant);
    if (ml > HANSA_ID_LEN_MAX || strlen(currency) != 3)
        return 0;
    k[0] = (uint8_t)kind;
    size_t n = 1 + risk_key_put_id(k + 1, merchant);
    memcpy(k + n, currency, 3);
    return n + 3;
}

struct series {
    uint8_t key[SERIES_KEY_BYTES];
    size_t key_len;
    uint64_t *bucket; /* owned, n pairs, room for n + 1 */
    int64_t *value_minor;
    size_t n;
};

static void series_free(struct series *s)
{
    free(s->bucket);
    free(s->value_minor);
}

/* Load the pairs of a series, keeping buckets >= oldest. */
static hansa_err series_load(struct risk_ctx *ctx, struct series *s, uint64_t oldest)
{
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = risk_get(ctx, s->key, s->key_len, &val, &len);
    if (rv == HANSA_ENOENT)
        len = 0;
    else if (rv != HANSA_OK)
        return rv;
    if (len % PAIR_BYTES != 0) {
        free(val);
        return HANSA_EFORMAT;
    }
    size_t have = len / PAIR_BYTES;
    s->bucket = malloc((have + 1) * sizeof *s->bucket);
    s->value_minor = malloc((have + 1) * sizeof *s->value_minor);
    if (s->bucket == NULL || s->value_minor == NULL) {
        free(val);
        return HANSA_ENOMEM;
    }
    s->n = 0;
    for (size_t i = 0; i < have; i++) {
        uint64_t bk = risk_be64_get(val + i * PAIR_BYTES);
        if (bk < oldest)
            continue;
        s->bucket[s->n] = bk;
        s->value_minor[s->n++] = (int64_t)risk_be64_get(val + i * PAIR_BYTES + 8);
    }
    free(val);
    return HANSA_OK;
}

/* Write back the latest VOLUME_BUCKETS_MAX non-empty pairs. */
static hansa_err series_store(struct risk_ctx *ctx, const struct series *s)
{
    size_t first = s->n > VOLUME_BUCKETS_MAX ? s->n - VOLUME_BUCKETS_MAX : 0, n = 0;
    uint8_t *val = malloc((s->n - first) * PAIR_BYTES + 1);
    if (val == NULL)
        return HANSA_ENOMEM;
    for (size_t i = first; i < s->n; i++) {
        if (s->value_minor[i] <= 0)
            continue;
        risk_be64_put(val + n * PAIR_BYTES, s->bucket[i]);
        risk_be64_put(val + n * PAIR_BYTES + 8, (uint64_t)s->value_minor[i]);
        n++;
    }
    hansa_err rv = risk_put(ctx, s->key, s->key_len, n > 0 ? val : NULL, n * PAIR_BYTES);
    free(val);
    return rv;
}

/* Add amount to bucket bk (the newest or an existing one). */
static void series_add(struct series *s, uint64_t bk, int64_t amount_minor)
{
    size_t i = s->n;
    while (i > 0 && s->bucket[i - 1] > bk)
        i--;
    if (i > 0 && s->bucket[i - 1] == bk) {
        int64_t *v = &s->value_minor[i - 1];
        *v = amount_minor > 0 && *v > INT64_MAX - amount_minor ? INT64_MAX : *v + amount_minor;
        return;
    }
    memmove(s->bucket + i + 1, s->bucket + i, (s->n - i) * sizeof *s->bucket);
    memmove(s->value_minor + i + 1, s->value_minor + i, (s->n - i) * sizeof *s->value_minor);
    s->bucket[i] = bk;
    s->value_minor[i] = amount_minor;
    s->n++;
}

static __int128 series_sum(const struct series *s, uint64_t from, uint64_t to)
{
    __int128 sum = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->bucket[i] >= from && s->bucket[i] <= to)
            sum += s->value_minor[i];
    return sum;
}

/* The window geometry at time t. */
struct windows {
    uint64_t now, r, b; /* current bucket, recent and baseline lengths in buckets */
};

static struct windows windows_at(const struct risk_ctx *ctx, uint64_t time_ms)
{
    uint64_t bucket_ms = (uint64_t)risk_param(ctx, P_BUCKET);
    struct windows w = {
        .now = (time_ms + UTC8_MS) / bucket_ms,
        .r = (uint64_t)risk_param(ctx, P_RECENT_WINDOW) / bucket_ms,
        .b = (uint64_t)risk_param(ctx, P_BASELINE_WINDOW) / bucket_ms,
    };
    w.r = w.r ? w.r : 1;
    w.b = w.b ? w.b : 1;
    return w;
}

static uint64_t oldest_bucket(const struct windows *w)
{
    return w->now >= w->r + w->b ? w->now - w->r - w->b + 1 : 0;
}

static void fmt_i128(char *out, size_t cap, __int128 v, const char *suffix)
{
    /* Sums of <= 4096 buckets of <= INT64_MAX fit 76 bits; print in two
     * halves below 10^18. */
    const __int128 e18 = (__int128)1000000000000000000;
    if (v >= e18)
        snprintf(out, cap, "%" PRId64 "%018" PRId64 "%s", (int64_t)(v / e18), (int64_t)(v % e18),
                 suffix);
    else
        snprintf(out, cap, "%" PRId64 "%s", (int64_t)v, suffix);
}

static hansa_err report(struct risk_ctx *ctx, const Hansa__HistoryEntry *h, const Hansa__Order *o,
                        __int128 recent, __int128 baseline, const struct windows *w,
                        uint64_t first_ms)
{
    const Hansa__CreateOrder *d = o->document;
    int64_t spike_bps = risk_param(ctx, P_SPIKE_BPS);
    char week[12], dedup[120], exp[96], obs[96], cur[8];
    risk_iso_week(o->created_ms, week);
    snprintf(dedup, sizeof dedup, "merchant/%s/week/%s", d->merchant, week);
    snprintf(cur, sizeof cur, " %s", d->currency);
    const uint8_t *tx = risk_tx_or_null(&h->tx_id);

    struct risk_alert *a = risk_alert_new(ctx, dedup, (Hansa__Severity)risk_param(ctx, P_SEVERITY));
    risk_alert_tx(a, tx);
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, d->merchant);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY, "", d->merchant);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, d->merchant, d->order_no);
    /* recent > X <=> recent > floor(X) for an integer recent. */
    __int128 limit = (__int128)spike_bps * baseline * (__int128)w->r / ((__int128)w->b * RISK_BPS);
    __int128 average = baseline * (__int128)w->r / (__int128)w->b;
    char lim[48];
    fmt_i128(lim, sizeof lim, limit, "");
    snprintf(exp, sizeof exp, "<= %s", lim);
    fmt_i128(obs, sizeof obs, recent, cur);
    risk_alert_evidence(a, "orders.value_recent_minor", exp, obs, tx);
    fmt_i128(obs, sizeof obs, baseline, cur);
    risk_alert_evidence(a, "orders.value_baseline_minor", "", obs, NULL);
    char avg[48];
    fmt_i128(avg, sizeof avg, average, cur);
    risk_alert_evidence(a, "orders.baseline_average_minor", "", avg, NULL);
    snprintf(exp, sizeof exp, "<= %" PRIu64,
             o->created_ms - (uint64_t)risk_param(ctx, P_MIN_HISTORY));
    snprintf(obs, sizeof obs, "%" PRIu64, first_ms);
    risk_alert_evidence(a, "merchant.first_order_ms", exp, obs, NULL);
    fmt_i128(obs, sizeof obs, recent, cur);
    risk_alert_message(a,
                       "Merchant %s booked %s in the recent window, over %" PRId64
                       " bps of its average %s per window before it.",
                       d->merchant, obs, spike_bps, avg);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

/* The series' first order time, recorded now if this is its first order. */
static hansa_err first_order(struct risk_ctx *ctx, const Hansa__CreateOrder *d, uint64_t now_ms,
                             uint64_t *first_ms)
{
    uint8_t key[SERIES_KEY_BYTES], v[8];
    size_t kl = series_key(key, 'f', d->merchant, d->currency);
    HANSA_ASSERT(kl > 0);
    bool have = false;
    hansa_err rv = risk_get_exact(ctx, key, kl, v, sizeof v, &have);
    if (rv != HANSA_OK || have) {
        if (have)
            *first_ms = risk_be64_get(v);
        return rv;
    }
    risk_be64_put(v, now_ms);
    *first_ms = now_ms;
    return risk_put(ctx, key, kl, v, sizeof v);
}

static hansa_err on_created(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                            const Hansa__Order *o)
{
    const Hansa__CreateOrder *d = o->document;
    struct series s = {0};
    s.key_len = series_key(s.key, 'b', d->merchant, d->currency);
    if (s.key_len == 0 || d->actual_paid_minor < 0)
        return HANSA_OK;
    uint64_t first_ms = 0;
    struct windows w = windows_at(ctx, o->created_ms);
    hansa_err rv = first_order(ctx, d, o->created_ms, &first_ms);
    if (rv == HANSA_OK)
        rv = series_load(ctx, &s, oldest_bucket(&w));
    if (rv == HANSA_OK) {
        series_add(&s, w.now, d->actual_paid_minor);
        rv = series_store(ctx, &s);
    }
    uint64_t min_history_ms = (uint64_t)risk_param(ctx, P_MIN_HISTORY);
    if (rv == HANSA_OK && o->created_ms >= first_ms && o->created_ms - first_ms >= min_history_ms) {
        __int128 recent = series_sum(&s, w.now >= w.r ? w.now - w.r + 1 : 0, w.now);
        __int128 baseline = w.now >= w.r ? series_sum(&s, oldest_bucket(&w), w.now - w.r) : 0;
        if (recent * (__int128)w.b * RISK_BPS >
            (__int128)risk_param(ctx, P_SPIKE_BPS) * baseline * (__int128)w.r)
            rv = report(ctx, h, o, recent, baseline, &w, first_ms);
    }
    series_free(&s);
    return rv;
}

/* A cancelled order's value leaves its bucket. */
static hansa_err on_cancelled(struct risk_ctx *ctx, const Hansa__Order *o)
{
    const Hansa__CreateOrder *d = o->document;
    struct series s = {0};
    s.key_len = series_key(s.key, 'b', d->merchant, d->currency);
    if (s.key_len == 0 || d->actual_paid_minor <= 0)
        return HANSA_OK;
    const struct risk_block *b = risk_ctx_block(ctx);
    struct windows now = windows_at(ctx, b->time_ms), then = windows_at(ctx, o->created_ms);
    hansa_err rv = series_load(ctx, &s, oldest_bucket(&now));
    for (size_t i = 0; rv == HANSA_OK && i < s.n; i++)
        if (s.bucket[i] == then.now) {
            s.value_minor[i] -=
                d->actual_paid_minor < s.value_minor[i] ? d->actual_paid_minor : s.value_minor[i];
            rv = series_store(ctx, &s);
        }
    series_free(&s);
    return rv;
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    return risk_each_order_change(ctx, on_created, on_cancelled);
}

const struct risk_rule risk_rule_volume_spike = {
    .id = "VOLUME-SPIKE",
    .rev = 1,
    .summary = "a merchant's order value of the last 7 days above 5x its weekly average of the 12 "
               "weeks before",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
};
