/*
 * The engine's loop over one block (risk.h): rules in registry order, each
 * with its due timers first, then its block handler; the rule-facing API of
 * rule.h (state, timers, entity lookups); and the alert log writes.
 *
 * Writes go to an overlay (node/ledger/overlay.c) so that a rule reads its
 * own writes within the block and the output is sorted and unique.
 *
 * Incident state (i/<id>): be32 next event number, one byte severity, one
 * byte open (1) or resolved (0).
 */
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"
#include "keys.h"
#include "overlay.h"
#include "rules/common.h"

/* ---- keys ---- */

void risk_log_key(uint8_t key[RISK_LOG_KEY_BYTES], uint64_t height, uint32_t ordinal)
{
    key[0] = 'a';
    key[1] = '/';
    risk_be64_put(key + 2, height);
    risk_be32_put(key + 10, ordinal);
}

bool risk_log_key_parse(const uint8_t *key, size_t len, uint64_t *height, uint32_t *ordinal)
{
    if (len != RISK_LOG_KEY_BYTES || key[0] != 'a' || key[1] != '/')
        return false;
    *height = risk_be64_get(key + 2);
    *ordinal = risk_be32_get(key + 10);
    return true;
}

/* prefix ("s/" or "t/") + rule id + "/" + rest; returns the length. */
static size_t rule_key(uint8_t *buf, size_t cap, char kind, const char *rule, const void *rest,
                       size_t rest_len)
{
    size_t id_len = strlen(rule);
    size_t n = 2 + id_len + 1 + rest_len;
    if (n > cap)
        return 0;
    buf[0] = (uint8_t)kind;
    buf[1] = '/';
    memcpy(buf + 2, rule, id_len);
    buf[2 + id_len] = '/';
    if (rest_len > 0)
        memcpy(buf + 3 + id_len, rest, rest_len);
    return n;
}

/* ---- context ---- */

const struct risk_block *risk_ctx_block(const struct risk_ctx *ctx)
{
    return ctx->b;
}

const struct risk_ruleset *risk_ctx_ruleset(const struct risk_ctx *ctx)
{
    return ctx->env->rs;
}

int64_t risk_param(const struct risk_ctx *ctx, size_t i)
{
    HANSA_ASSERT(i < ctx->rule->n_params);
    return ctx->env->rs->params[ctx->rule_ix][i];
}

bool risk_listed_jurisdiction(const struct risk_ctx *ctx, const char *country)
{
    const struct risk_ruleset *rs = ctx->env->rs;
    if (country == NULL || country[0] == '\0')
        return false;
    for (size_t i = 0; i < rs->n_jurisdictions; i++)
        if (strcmp(rs->jurisdictions[i], country) == 0)
            return true;
    return false;
}

bool risk_min_transit_ms(const struct risk_ctx *ctx, const char *from, const char *to, int64_t *ms)
{
    const struct risk_ruleset *rs = ctx->env->rs;
    for (int pass = 0; pass < 2; pass++) {
        const char *a = pass == 0 ? from : to, *b = pass == 0 ? to : from;
        for (size_t i = 0; i < rs->n_transit; i++)
            if (strcmp(rs->transit[i].from, a) == 0 && strcmp(rs->transit[i].to, b) == 0) {
                *ms = rs->transit[i].min_ms;
                return true;
            }
    }
    return false;
}

const char *risk_validator_operator(const struct risk_ctx *ctx, const char *validator_id)
{
    const Hansa__ValidatorSet *vs = ctx->env->validators;
    for (size_t i = 0; vs != NULL && validator_id != NULL && i < vs->n_validators; i++) {
        const Hansa__Validator *v = vs->validators[i];
        if (v->id != NULL && strcmp(v->id, validator_id) == 0)
            return v->operator_party != NULL && v->operator_party[0] != '\0' ? v->operator_party
                                                                             : NULL;
    }
    return NULL;
}

Hansa__TxBody__ActionCase risk_tx_action(const struct risk_ctx *ctx, size_t i)
{
    HANSA_ASSERT(i < ctx->b->n_txs);
    return ctx->b->txs[i].body->action_case;
}

Hansa__ResultCode risk_tx_result(const struct risk_ctx *ctx, size_t i)
{
    HANSA_ASSERT(i < ctx->b->n_txs);
    return ctx->b->results[i]->result;
}

/* ---- raw state access (overlay over committed) ---- */

hansa_err risk_raw_get(struct risk_ctx *ctx, const uint8_t *key, size_t key_len, uint8_t **val,
                       size_t *val_len)
{
    struct overlay_entry_view v;
    if (overlay_get(ctx->ov, key, key_len, &v) == 1) {
        if (v.val == NULL)
            return HANSA_ENOENT;
        *val = malloc(v.val_len ? v.val_len : 1);
        if (*val == NULL)
            return HANSA_ENOMEM;
        if (v.val_len > 0)
            memcpy(*val, v.val, v.val_len);
        *val_len = v.val_len;
        return HANSA_OK;
    }
    return ctx->env->alerts.get(ctx->env->alerts.ctx, key, key_len, val, val_len);
}

hansa_err risk_raw_put(struct risk_ctx *ctx, const uint8_t *key, size_t key_len, const uint8_t *val,
                       size_t val_len)
{
    HANSA_ASSERT(val != NULL || val_len == 0);
    return overlay_put(ctx->ov, key, key_len, val, val_len);
}

struct kv {
    uint8_t *key;
    size_t key_len;
    uint8_t *val;
    size_t val_len;
};

struct collect {
    struct kv *v;
    size_t n, cap;
    hansa_err err;
};

static bool collect_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                          size_t val_len)
{
    struct collect *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        struct kv *v = realloc(c->v, cap * sizeof *v);
        if (v == NULL) {
            c->err = HANSA_ENOMEM;
            return false;
        }
        c->v = v;
        c->cap = cap;
    }
    uint8_t *k = malloc(key_len ? key_len : 1), *x = malloc(val_len ? val_len : 1);
    if (k == NULL || x == NULL) {
        free(k);
        free(x);
        c->err = HANSA_ENOMEM;
        return false;
    }
    memcpy(k, key, key_len);
    if (val_len > 0)
        memcpy(x, val, val_len);
    c->v[c->n++] = (struct kv){k, key_len, x, val_len};
    return true;
}

static void collect_free(struct collect *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].key);
        free(c->v[i].val);
    }
    free(c->v);
}

static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c != 0 ? c : (al > bl) - (al < bl);
}

/* A streaming merge of a committed-state scan with this block's overlay:
 * the store scan calls merge_visit for each committed key in order, and the
 * overlay entries (sorted) that come before it are visited first. An
 * overlay entry replaces the committed value of its key, and a deleted one
 * (val NULL) hides it. Nothing is copied, and a visitor that stops ends the
 * store scan too: fire_timers stops at the first timer not yet due, so a
 * block reads the timers it fires, not every live timer. (The earlier
 * version collected the whole prefix first: with ~1M live 3DOC-MISSING
 * timers that was a copy of every timer on every block.) */
struct merge {
    size_t prefix_len, skip, until_len;
    const uint8_t *prefix, *until; /* until: NULL or the exclusive end */
    const struct overlay_entry_view *ov;
    size_t n_ov, j; /* next overlay entry */
    ledger_visit_fn visit;
    void *arg;
    bool stopped;
};

static bool merge_ov_here(const struct merge *m)
{
    if (m->j >= m->n_ov)
        return false;
    const struct overlay_entry_view *e = &m->ov[m->j];
    return e->key_len >= m->prefix_len && memcmp(e->key, m->prefix, m->prefix_len) == 0 &&
           (m->until == NULL || key_cmp(e->key, e->key_len, m->until, m->until_len) < 0);
}

/* Visit the overlay entry at j (and step past it); false if the visitor
 * stopped. */
static bool merge_take_ov(struct merge *m)
{
    const struct overlay_entry_view *e = &m->ov[m->j++];
    if (e->val == NULL)
        return true;
    if (!m->visit(m->arg, e->key + m->skip, e->key_len - m->skip, e->val, e->val_len)) {
        m->stopped = true;
        return false;
    }
    return true;
}

static bool merge_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    struct merge *m = arg;
    int cmp = -1;
    while (merge_ov_here(m) &&
           (cmp = key_cmp(m->ov[m->j].key, m->ov[m->j].key_len, key, key_len)) < 0)
        if (!merge_take_ov(m))
            return false;
    if (merge_ov_here(m) && cmp == 0)
        return merge_take_ov(m); /* this block's value (or deletion) wins */
    if (!m->visit(m->arg, key + m->skip, key_len - m->skip, val, val_len)) {
        m->stopped = true;
        return false;
    }
    return true;
}

/* Visit committed keys with prefix (and before until, unless NULL) merged
 * with this block's overlay, in key order, until visit returns false; skip
 * strips that many leading bytes from the key passed to visit. Keys and
 * values are valid only during the call, and visit must not write to the
 * overlay. */
static hansa_err raw_scan_until(struct risk_ctx *ctx, const uint8_t *prefix, size_t prefix_len,
                                const uint8_t *until, size_t until_len, size_t skip,
                                ledger_visit_fn visit, void *arg)
{
    struct overlay_entry_view *ov = NULL;
    size_t n_ov = 0;
    hansa_err rv = overlay_sorted(ctx->ov, &ov, &n_ov);
    if (rv != HANSA_OK)
        return rv;
    struct merge m = {.prefix = prefix,
                      .prefix_len = prefix_len,
                      .until = until,
                      .until_len = until_len,
                      .skip = skip,
                      .ov = ov,
                      .n_ov = n_ov,
                      .visit = visit,
                      .arg = arg};
    /* First overlay entry with the prefix. */
    while (m.j < n_ov && key_cmp(ov[m.j].key, ov[m.j].key_len, prefix, prefix_len) < 0)
        m.j++;
    const struct ledger_state *st = &ctx->env->alerts;
    if (until != NULL && st->scan_until != NULL)
        rv = st->scan_until(st->ctx, prefix, prefix_len, until, until_len, merge_visit, &m);
    else
        rv = st->scan(st->ctx, prefix, prefix_len, merge_visit, &m);
    while (rv == HANSA_OK && !m.stopped && merge_ov_here(&m))
        if (!merge_take_ov(&m))
            break;
    free(ov);
    return rv;
}

hansa_err risk_raw_scan(struct risk_ctx *ctx, const uint8_t *prefix, size_t prefix_len, size_t skip,
                        ledger_visit_fn visit, void *arg)
{
    return raw_scan_until(ctx, prefix, prefix_len, NULL, 0, skip, visit, arg);
}

/* ---- the rule's state ---- */

#define RISK_KEY_BYTES_MAX 1024u

hansa_err risk_get(struct risk_ctx *ctx, const void *key, size_t key_len, uint8_t **val,
                   size_t *val_len)
{
    uint8_t k[RISK_KEY_BYTES_MAX];
    size_t n = rule_key(k, sizeof k, 's', ctx->rule->id, key, key_len);
    HANSA_ASSERT(n > 0);
    return risk_raw_get(ctx, k, n, val, val_len);
}

hansa_err risk_put(struct risk_ctx *ctx, const void *key, size_t key_len, const void *val,
                   size_t val_len)
{
    uint8_t k[RISK_KEY_BYTES_MAX];
    size_t n = rule_key(k, sizeof k, 's', ctx->rule->id, key, key_len);
    HANSA_ASSERT(n > 0);
    return risk_raw_put(ctx, k, n, val, val_len);
}

hansa_err risk_scan(struct risk_ctx *ctx, const void *prefix, size_t prefix_len,
                    ledger_visit_fn visit, void *arg)
{
    uint8_t k[RISK_KEY_BYTES_MAX];
    size_t n = rule_key(k, sizeof k, 's', ctx->rule->id, prefix, prefix_len);
    HANSA_ASSERT(n > 0);
    return risk_raw_scan(ctx, k, n, n - prefix_len, visit, arg);
}

/* ---- timers ---- */

static size_t timer_key(struct risk_ctx *ctx, uint8_t *k, uint64_t due_ms, const void *key,
                        size_t key_len)
{
    uint8_t rest[RISK_KEY_BYTES_MAX];
    HANSA_ASSERT(key_len + 9 <= sizeof rest);
    risk_be64_put(rest, due_ms);
    rest[8] = '/';
    memcpy(rest + 9, key, key_len);
    size_t n = rule_key(k, RISK_KEY_BYTES_MAX, 't', ctx->rule->id, rest, key_len + 9);
    HANSA_ASSERT(n > 0);
    return n;
}

hansa_err risk_timer_set(struct risk_ctx *ctx, uint64_t due_ms, const void *key, size_t key_len)
{
    uint8_t k[RISK_KEY_BYTES_MAX];
    size_t n = timer_key(ctx, k, due_ms, key, key_len);
    return risk_raw_put(ctx, k, n, (const uint8_t *)"", 0);
}

hansa_err risk_timer_cancel(struct risk_ctx *ctx, uint64_t due_ms, const void *key, size_t key_len)
{
    uint8_t k[RISK_KEY_BYTES_MAX];
    size_t n = timer_key(ctx, k, due_ms, key, key_len);
    return risk_raw_put(ctx, k, n, NULL, 0);
}

struct due_scan {
    uint64_t now_ms;
    struct collect due;
};

static bool due_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                      size_t val_len)
{
    struct due_scan *d = arg;
    if (key_len < 9 || risk_be64_get(key) >= d->now_ms)
        return false; /* sorted by due time: the rest is later */
    return collect_visit(&d->due, key, key_len, val, val_len);
}

static hansa_err fire_timers(struct risk_ctx *ctx)
{
    uint8_t prefix[RISK_KEY_BYTES_MAX];
    size_t n = rule_key(prefix, sizeof prefix, 't', ctx->rule->id, NULL, 0);
    struct due_scan d = {.now_ms = ctx->b->time_ms};
    /* Due means before the block's time: the scan ends at the first key
     * with that due time. Cancelled timers (most of 3DOC-MISSING's: the
     * documents arrived) leave deleted keys at their future due times, and
     * an unbounded scan stepped through all of them to reach the first live
     * timer on every block. */
    uint8_t until[RISK_KEY_BYTES_MAX];
    HANSA_ASSERT(n + 8 <= sizeof until);
    memcpy(until, prefix, n);
    risk_be64_put(until + n, d.now_ms);
    hansa_err rv = raw_scan_until(ctx, prefix, n, until, n + 8, n, due_visit, &d);
    if (rv == HANSA_OK)
        rv = d.due.err;
    for (size_t i = 0; rv == HANSA_OK && i < d.due.n; i++) {
        const struct kv *t = &d.due.v[i];
        uint64_t due = risk_be64_get(t->key);
        rv = risk_timer_cancel(ctx, due, t->key + 9, t->key_len - 9);
        if (rv == HANSA_OK && ctx->rule->on_timer != NULL)
            rv = ctx->rule->on_timer(ctx, t->key + 9, t->key_len - 9, due);
    }
    collect_free(&d.due);
    return rv;
}

/* ---- entities as of the block ---- */

struct latest {
    uint64_t height_max;
    size_t base_len;
    uint8_t *val;
    size_t val_len;
    hansa_err err;
};

/* History keys are "<entity key>/<16 hex height>/<8 hex seq>". The height of
 * such a key, or false for a key of another form (a longer entity key that
 * shares the prefix). */
static bool history_height(const struct latest *l, const uint8_t *key, size_t key_len,
                           uint64_t *height)
{
    if (key_len != l->base_len + 16 + 1 + 8)
        return false;
    uint64_t h = 0;
    for (size_t i = 0; i < 16; i++) {
        char ch = (char)key[l->base_len + i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (d < 0)
            return false;
        h = h << 4 | (uint64_t)d;
    }
    *height = h;
    return true;
}

/* Backward from the height: the first entry of the right form is the one. */
static bool latest_back_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                              size_t val_len)
{
    struct latest *l = arg;
    uint64_t h = 0;
    if (!history_height(l, key, key_len, &h) || h > l->height_max)
        return true;
    l->val = malloc(val_len ? val_len : 1);
    if (l->val == NULL) {
        l->err = HANSA_ENOMEM;
        return false;
    }
    if (val_len > 0)
        memcpy(l->val, val, val_len);
    l->val_len = val_len;
    return false;
}

hansa_err risk_entity(struct risk_ctx *ctx, Hansa__EntityType type, const char *owner,
                      const char *id, Hansa__HistoryEntry **out)
{
    char key[LEDGER_KEY_BYTES_MAX + 1 + 16 + 1];
    size_t n = ledger_key_entity(key, type, owner, id);
    if (n == 0)
        return HANSA_ENOENT;
    key[n++] = '/';
    struct latest l = {.height_max = ctx->b->height, .base_len = n};
    const struct ledger_state *hs = &ctx->env->history;
    HANSA_ASSERT(hs->scan_back != NULL);
    /* "<entity>/<height>0" sorts after every key of that height ('/' < '0')
     * and before those of the next. */
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < 16; i++)
        key[n + i] = hex[(l.height_max >> (60 - 4 * i)) & 0xf];
    key[n + 16] = '0';
    hansa_err rv = hs->scan_back(hs->ctx, (const uint8_t *)key, n, (const uint8_t *)key, n + 17,
                                 latest_back_visit, &l);
    if (rv == HANSA_OK)
        rv = l.err;
    if (rv == HANSA_OK && l.val == NULL)
        rv = HANSA_ENOENT;
    if (rv == HANSA_OK)
        rv = wire_decode(&hansa__history_entry__descriptor, l.val, l.val_len, 4 * l.val_len + 4096,
                         WIRE_LENIENT, (ProtobufCMessage **)out);
    free(l.val);
    return rv;
}

/* ---- incidents ---- */

static void incident_key(uint8_t key[2 + WIRE_HASH_BYTES], const uint8_t id[WIRE_HASH_BYTES])
{
    key[0] = 'i';
    key[1] = '/';
    memcpy(key + 2, id, WIRE_HASH_BYTES);
}

hansa_err risk_incident_get(struct risk_ctx *ctx, const uint8_t id[WIRE_HASH_BYTES],
                            struct risk_incident *inc)
{
    uint8_t key[2 + WIRE_HASH_BYTES], *val = NULL;
    size_t len = 0;
    incident_key(key, id);
    hansa_err rv = risk_raw_get(ctx, key, sizeof key, &val, &len);
    if (rv == HANSA_ENOENT) {
        *inc = (struct risk_incident){0};
        return HANSA_OK;
    }
    if (rv != HANSA_OK)
        return rv;
    if (len != 6) {
        free(val);
        return HANSA_EFORMAT;
    }
    *inc = (struct risk_incident){
        .exists = true, .next_event = risk_be32_get(val), .severity = val[4], .open = val[5] != 0};
    free(val);
    return HANSA_OK;
}

hansa_err risk_incident_put(struct risk_ctx *ctx, const uint8_t id[WIRE_HASH_BYTES],
                            const struct risk_incident *inc)
{
    uint8_t key[2 + WIRE_HASH_BYTES], val[6];
    incident_key(key, id);
    risk_be32_put(val, inc->next_event);
    val[4] = (uint8_t)inc->severity;
    val[5] = inc->open ? 1 : 0;
    return risk_raw_put(ctx, key, sizeof key, val, sizeof val);
}

/* ---- the block ---- */

static hansa_err run_rule(struct risk_ctx *ctx)
{
    hansa_err rv = fire_timers(ctx);
    if (rv == HANSA_OK && ctx->rule->on_block != NULL)
        rv = ctx->rule->on_block(ctx);
    return rv;
}

static hansa_err output_writes(struct risk_ctx *ctx, struct risk_output *out)
{
    struct overlay_entry_view *v = NULL;
    size_t n = 0;
    hansa_err rv = overlay_sorted(ctx->ov, &v, &n);
    if (rv != HANSA_OK)
        return rv;
    out->writes = calloc(n ? n : 1, sizeof *out->writes);
    if (out->writes == NULL) {
        free(v);
        return HANSA_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct ledger_write *w = &out->writes[out->n_writes];
        w->key = malloc(v[i].key_len);
        w->val = v[i].val != NULL ? malloc(v[i].val_len ? v[i].val_len : 1) : NULL;
        if (w->key == NULL || (v[i].val != NULL && w->val == NULL)) {
            free(w->key);
            free(w->val);
            free(v);
            return HANSA_ENOMEM;
        }
        memcpy(w->key, v[i].key, v[i].key_len);
        w->key_len = v[i].key_len;
        if (v[i].val != NULL && v[i].val_len > 0)
            memcpy(w->val, v[i].val, v[i].val_len);
        w->val_len = v[i].val_len;
        out->n_writes++;
    }
    free(v);
    return HANSA_OK;
}

hansa_err risk_process(const struct risk_env *env, const struct risk_block *b,
                       struct risk_output *out)
{
    HANSA_ASSERT(env != NULL && env->rs != NULL && b != NULL && out != NULL);
    HANSA_ASSERT(b->n_txs == 0 || (b->txs != NULL && b->results != NULL));
    memset(out, 0, sizeof *out);
    struct risk_ctx ctx = {.env = env, .b = b, .out = out};
    hansa_err rv = overlay_open(&ctx.ov, b->hash);
    for (size_t i = 0; rv == HANSA_OK && i < risk_rule_count; i++) {
        if (!env->rs->enabled[i])
            continue;
        ctx.rule = risk_rules[i];
        ctx.rule_ix = i;
        rv = run_rule(&ctx);
    }
    if (rv == HANSA_OK)
        rv = output_writes(&ctx, out);
    overlay_close(ctx.ov);
    if (rv != HANSA_OK)
        risk_output_free(out);
    HANSA_ASSERT(rv != HANSA_OK || out->n_alerts == ctx.next_ordinal);
    return rv;
}

void risk_output_free(struct risk_output *out)
{
    if (out == NULL)
        return;
    for (size_t i = 0; i < out->n_writes; i++) {
        free(out->writes[i].key);
        free(out->writes[i].val);
    }
    free(out->writes);
    for (size_t i = 0; i < out->n_alerts; i++)
        free(out->alerts[i].bytes);
    free(out->alerts);
    memset(out, 0, sizeof *out);
}
