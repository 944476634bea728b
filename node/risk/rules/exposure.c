/*
 * EXPOSURE (RISK.md): at a disbursement, the borrower's outstanding across
 * all banks exceeds 15,000 bps of the amount_paid of its orders' payments
 * recorded in the last 90 days. What no single bank can see: each bank knows
 * its own lines, the consortium knows the sum. HIGH, one incident per
 * borrower and week (dedup key "borrower/<borrower>/<YYYY-Www>", the ISO week
 * of block time at UTC+8).
 *
 * Inputs, in the block's history order:
 *   - every credit event (line and financing entries carry the same event):
 *     line_outstanding_minor is the line's outstanding after it, so the
 *     borrower's total per currency follows every disbursement and
 *     repayment exactly;
 *   - payment entries (payments are immutable: each entry is a new payment):
 *     its amount_paid joins the window of the order's merchant in the
 *     payment's currency;
 *   - order entries turning CANCELLED: their payment leaves the window
 *     (cancelled orders never count);
 *   - financing entries with the credit event DISBURSED: the check.
 * The check compares within one currency, the financing's:
 *     outstanding × 10,000 > cap_bps × Σ amount_paid in (t − window, t].
 *
 * State (ids never contain '/'; binary fields are fixed width):
 *   s/EXPOSURE/l/<bank>/<line_id>        -> be64 line outstanding (absent = 0)
 *   s/EXPOSURE/o/<borrower>/<currency>   -> be64 Σ outstanding over its lines
 *   s/EXPOSURE/p/<merchant>/<currency>/<be64 recorded_ms><institution>/<pay_id>
 *                                        -> be64 amount_paid, be64 due_ms
 *   s/EXPOSURE/w/<merchant>/<currency>   -> be64 Σ amount_paid of the p/ entries
 *   t/EXPOSURE/<be64 due_ms>/p/...       a payment's expiry timer
 * Invariants:
 *   1. o/ is the sum of l/ over the borrower's lines of that currency, and
 *      w/ the sum of the p/ entries of that merchant and currency; zeros are
 *      deleted, not stored.
 *   2. A p/ entry exists from the payment's block until its timer at
 *      recorded_ms + window_ms − 1 fires (the first block at or after
 *      recorded_ms + window_ms, so a window (t − W, t] holds it exactly), or
 *      until its order is cancelled.
 *
 * Edge decisions:
 *   - A payment counts under its own currency (amount_paid is in it); a
 *     payment in another currency than the order's leaves the order
 *     MISMATCHED anyway.
 *   - window_ms applies to payments recorded after it is set; entries keep
 *     the expiry they were given.
 *   - The sums saturate at INT64_MAX, beyond any ledger amount (10^15 per
 *     record).
 *   - One incident per borrower and week: a second currency over the cap in
 *     the same week is merged into it.
 *   - Audience: the borrower and the disbursing bank only. The other lending
 *     banks are not named: DOMAIN.md lets a bank see a borrower's aggregate
 *     outstanding but never other banks' names or terms.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum { P_SEVERITY, P_CAP_BPS, P_WINDOW_MS, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH, 0, 0,
                    "severity of a disbursement leaving the borrower over the exposure cap"},
    [P_CAP_BPS] = {"cap_bps", RISK_P_INT, 15000, 1, 1000000,
                   "most the borrower may owe across all banks, in bps of its orders' payments "
                   "in the window"},
    [P_WINDOW_MS] = {"window_ms", RISK_P_DURATION, 90 * RISK_DAY_MS, 1000, 366 * RISK_DAY_MS,
                     "how far back payments (block time of recording) count"},
};

#define CEV(x)    HANSA__CREDIT_EVENT_TYPE__CREDIT_EVENT_TYPE_##x
#define CUR_MAX   16u
#define KEY_MAX   (2u + 3u * HANSA_ID_LEN_MAX + CUR_MAX + 8u + 3u)
#define PAY_BYTES 16u

/* "<kind>/<a>/<b>"; 0 if too long (never, for ids the ledger accepted). */
static size_t pair_key(uint8_t *k, char kind, const char *a, const char *b)
{
    return risk_pair_key(k, KEY_MAX, kind, a, b);
}

/* "p/<merchant>/<currency>/<be64 recorded_ms><institution>/<pay_id>". */
static size_t payment_key(uint8_t *k, const char *merchant, const char *currency,
                          uint64_t recorded_ms, const char *institution, const char *pay_id)
{
    if (strlen(currency) > CUR_MAX)
        return 0;
    int n = snprintf((char *)k, KEY_MAX + 1, "p/%s/%s/", merchant, currency);
    if (n <= 0 || (size_t)n + 8 > KEY_MAX)
        return 0;
    risk_be64_put(k + n, recorded_ms);
    size_t off = (size_t)n + 8;
    int m = snprintf((char *)k + off, KEY_MAX + 1 - off, "%s/%s", institution, pay_id);
    return m > 0 && (size_t)m <= KEY_MAX - off ? off + (size_t)m : 0;
}

/* A be64 counter; absent = 0. */
static hansa_err counter_get(struct risk_ctx *ctx, const uint8_t *k, size_t n, int64_t *v)
{
    uint8_t val[8];
    bool have = false;
    *v = 0;
    hansa_err rv = risk_get_exact(ctx, k, n, val, sizeof val, &have);
    if (have)
        *v = (int64_t)risk_be64_get(val);
    return rv;
}

static hansa_err counter_put(struct risk_ctx *ctx, const uint8_t *k, size_t n, int64_t v)
{
    uint8_t val[8];
    if (v <= 0)
        return risk_put(ctx, k, n, NULL, 0);
    risk_be64_put(val, (uint64_t)v);
    return risk_put(ctx, k, n, val, sizeof val);
}

static int64_t add_sat(int64_t a, int64_t d)
{
    __int128 s = (__int128)a + d;
    return s > INT64_MAX ? INT64_MAX : s < 0 ? 0 : (int64_t)s;
}

static hansa_err counter_add(struct risk_ctx *ctx, const uint8_t *k, size_t n, int64_t delta)
{
    int64_t v = 0;
    hansa_err rv = counter_get(ctx, k, n, &v);
    return rv == HANSA_OK ? counter_put(ctx, k, n, add_sat(v, delta)) : rv;
}

/* ---- outstanding ---- */

static hansa_err on_credit_event(struct risk_ctx *ctx, const Hansa__CreditEvent *ev)
{
    if (ev->line == NULL)
        return HANSA_OK;
    uint8_t lk[KEY_MAX + 1], ok[KEY_MAX + 1];
    size_t ln = pair_key(lk, 'l', ev->line->bank, ev->line->line_id);
    size_t on = pair_key(ok, 'o', ev->borrower, ev->currency);
    if (ln == 0 || on == 0)
        return HANSA_OK;
    int64_t before_minor = 0;
    int64_t after_minor = ev->line_outstanding_minor > 0 ? ev->line_outstanding_minor : 0;
    hansa_err rv = counter_get(ctx, lk, ln, &before_minor);
    if (rv != HANSA_OK || before_minor == after_minor)
        return rv;
    rv = counter_put(ctx, lk, ln, after_minor);
    return rv == HANSA_OK ? counter_add(ctx, ok, on, after_minor - before_minor) : rv;
}

/* ---- payments in the window ---- */

static hansa_err on_payment(struct risk_ctx *ctx, const Hansa__Payment *p)
{
    const Hansa__RecordPayment *d = p->document;
    if (d == NULL || d->order == NULL || d->amount_paid_minor <= 0)
        return HANSA_OK;
    uint8_t pk[KEY_MAX + 1], wk[KEY_MAX + 1], v[PAY_BYTES];
    size_t pn = payment_key(pk, d->order->merchant, d->currency, p->recorded_ms, p->institution,
                            d->pay_transaction_id);
    size_t wn = pair_key(wk, 'w', d->order->merchant, d->currency);
    if (pn == 0 || wn == 0)
        return HANSA_OK;
    bool counted = false; /* payments are immutable: one entry each */
    hansa_err rv = risk_exists(ctx, pk, pn, &counted);
    if (rv != HANSA_OK || counted)
        return rv;
    uint64_t due_ms = p->recorded_ms + (uint64_t)risk_param(ctx, P_WINDOW_MS) - 1;
    risk_be64_put(v, (uint64_t)d->amount_paid_minor);
    risk_be64_put(v + 8, due_ms);
    rv = risk_put(ctx, pk, pn, v, sizeof v);
    if (rv == HANSA_OK)
        rv = risk_timer_set(ctx, due_ms, pk, pn);
    return rv == HANSA_OK ? counter_add(ctx, wk, wn, d->amount_paid_minor) : rv;
}

/* Remove the payment entry pk (merchant's window wk) if it is there; when
 * due_ms is given, only if it is the entry's expiry. */
static hansa_err payment_drop(struct risk_ctx *ctx, const uint8_t *pk, size_t pn, const uint8_t *wk,
                              size_t wn, const uint64_t *due_ms)
{
    uint8_t v[PAY_BYTES];
    bool have = false;
    hansa_err rv = risk_get_exact(ctx, pk, pn, v, sizeof v, &have);
    if (rv != HANSA_OK || !have)
        return rv;
    int64_t amount_minor = (int64_t)risk_be64_get(v);
    uint64_t entry_due = risk_be64_get(v + 8);
    if (due_ms != NULL && *due_ms != entry_due)
        return HANSA_OK;
    rv = risk_put(ctx, pk, pn, NULL, 0);
    if (rv == HANSA_OK && due_ms == NULL)
        rv = risk_timer_cancel(ctx, entry_due, pk, pn);
    return rv == HANSA_OK ? counter_add(ctx, wk, wn, -amount_minor) : rv;
}

/* A cancelled order's payment leaves the window. */
static hansa_err on_cancelled(struct risk_ctx *ctx, const Hansa__Order *o)
{
    Hansa__HistoryEntry *ph = NULL;
    const Hansa__Payment *p = NULL;
    hansa_err rv = risk_payment_load(ctx, o->payment, &ph, &p);
    if (p != NULL && p->document->order != NULL) {
        uint8_t pk[KEY_MAX + 1], wk[KEY_MAX + 1];
        size_t pn = payment_key(pk, p->document->order->merchant, p->document->currency,
                                p->recorded_ms, p->institution, p->document->pay_transaction_id);
        size_t wn = pair_key(wk, 'w', p->document->order->merchant, p->document->currency);
        if (pn > 0 && wn > 0)
            rv = payment_drop(ctx, pk, pn, wk, wn, NULL);
    }
    wire_free(ph);
    return rv;
}

/* A payment's window passed. key = "p/<merchant>/<currency>/..." */
static hansa_err on_timer(struct risk_ctx *ctx, const uint8_t *key, size_t key_len, uint64_t due_ms)
{
    char merchant[HANSA_ID_LEN_MAX + 1], currency[CUR_MAX + 1];
    if (key_len < 2 || key[0] != 'p' || key[1] != '/')
        return HANSA_OK;
    const uint8_t *m = key + 2, *end = key + key_len;
    const uint8_t *s1 = memchr(m, '/', (size_t)(end - m));
    const uint8_t *s2 = s1 != NULL ? memchr(s1 + 1, '/', (size_t)(end - s1 - 1)) : NULL;
    if (s2 == NULL || (size_t)(s1 - m) > HANSA_ID_LEN_MAX || (size_t)(s2 - s1 - 1) > CUR_MAX)
        return HANSA_OK;
    memcpy(merchant, m, (size_t)(s1 - m));
    merchant[s1 - m] = '\0';
    memcpy(currency, s1 + 1, (size_t)(s2 - s1 - 1));
    currency[s2 - s1 - 1] = '\0';
    uint8_t wk[KEY_MAX + 1];
    size_t wn = pair_key(wk, 'w', merchant, currency);
    return wn > 0 ? payment_drop(ctx, key, key_len, wk, wn, &due_ms) : HANSA_OK;
}

/* ---- the check ---- */

static hansa_err report(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                        const Hansa__Financing *f, int64_t outstanding_minor, int64_t paid_minor)
{
    int64_t cap_bps = risk_param(ctx, P_CAP_BPS);
    int64_t limit_minor = (int64_t)((__int128)paid_minor * cap_bps / RISK_BPS);
    const uint8_t *tx = risk_tx_or_null(&h->tx_id);
    char week[12], e[48];
    risk_iso_week(risk_ctx_block(ctx)->time_ms, week);

    struct risk_alert *a = risk_alert_for(ctx, "borrower", f->merchant, week,
                                          (Hansa__Severity)risk_param(ctx, P_SEVERITY));
    risk_alert_tx(a, tx);
    risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, f->merchant);
    risk_alert_party(a, HANSA__ROLE__ROLE_BANK, f->line->bank);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY, "", f->merchant);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, f->merchant, f->financing_id);
    risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE, f->line->bank,
                       f->line->line_id);
    risk_fmt_i64(e, sizeof e, limit_minor);
    risk_evidence_i64(a, "borrower.outstanding_minor", e, outstanding_minor, tx);
    risk_evidence_i64(a, "payments.amount_paid_minor", "", paid_minor, NULL);
    if (paid_minor > 0) {
        risk_fmt_i64(e, sizeof e, cap_bps);
        risk_evidence_i64(a, "borrower.outstanding_bps", e,
                          (int64_t)((__int128)outstanding_minor * RISK_BPS / paid_minor), tx);
    }
    risk_evidence_i64(a, "financing.amount_minor", "", f->amount_minor, tx);
    risk_alert_evidence(a, "currency", "", f->currency, NULL);
    risk_evidence_i64(a, "payments.window_s", "", risk_param(ctx, P_WINDOW_MS) / 1000, NULL);
    risk_alert_message(a,
                       "After %s disbursed %s, %s owes %" PRId64 " %s across all banks, above "
                       "%" PRId64 " bps of the %" PRId64 " %s its orders were paid in the window.",
                       f->line->bank, f->financing_id, f->merchant, outstanding_minor, f->currency,
                       cap_bps, paid_minor, f->currency);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

static hansa_err on_disbursed(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                              const Hansa__Financing *f)
{
    uint8_t ok[KEY_MAX + 1], wk[KEY_MAX + 1];
    size_t on = pair_key(ok, 'o', f->merchant, f->currency);
    size_t wn = pair_key(wk, 'w', f->merchant, f->currency);
    if (on == 0 || wn == 0)
        return HANSA_OK;
    int64_t outstanding_minor = 0, paid_minor = 0;
    hansa_err rv = counter_get(ctx, ok, on, &outstanding_minor);
    if (rv == HANSA_OK)
        rv = counter_get(ctx, wk, wn, &paid_minor);
    if (rv != HANSA_OK)
        return rv;
    if ((__int128)outstanding_minor * RISK_BPS > (__int128)risk_param(ctx, P_CAP_BPS) * paid_minor)
        return report(ctx, h, f, outstanding_minor, paid_minor);
    return HANSA_OK;
}

static hansa_err on_entry(struct risk_ctx *ctx, const Hansa__HistoryEntry *h)
{
    const Hansa__Record *r = h->after;
    hansa_err rv = HANSA_OK;
    if (h->credit_event != NULL)
        rv = on_credit_event(ctx, h->credit_event);
    if (rv != HANSA_OK || r == NULL)
        return rv;
    switch (r->kind_case) {
    case HANSA__RECORD__KIND_PAYMENT:
        return on_payment(ctx, r->payment);
    case HANSA__RECORD__KIND_ORDER:
        if (r->order->status == HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED &&
            r->order->payment != NULL)
            return on_cancelled(ctx, r->order);
        return HANSA_OK;
    case HANSA__RECORD__KIND_FINANCING:
        if (h->credit_event != NULL && h->credit_event->type == CEV(DISBURSED) &&
            r->financing->line != NULL)
            return on_disbursed(ctx, h, r->financing);
        return HANSA_OK;
    default:
        return HANSA_OK;
    }
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    return risk_each_entry(ctx, on_entry);
}

const struct risk_rule risk_rule_exposure = {
    .id = "EXPOSURE",
    .rev = 1,
    .summary = "a disbursement leaves the borrower owing more than its recent paid orders support",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
    .on_timer = on_timer,
};
