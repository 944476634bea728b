/* The risk engine over the ledger fixture (risk_fixture.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "hansa/assert.h"
#include "memstate.h"
#include "risk_fixture.h"

static hansa_err block_info(void *ctx, uint64_t height, uint8_t hash[WIRE_HASH_BYTES],
                            uint64_t *time_ms)
{
    struct rfx *r = ctx;
    if (height >= r->cap_blocks || r->blocks[height].time_ms == 0)
        return HANSA_ENOENT;
    memcpy(hash, r->blocks[height].hash, WIRE_HASH_BYTES);
    *time_ms = r->blocks[height].time_ms;
    return HANSA_OK;
}

static void remember_block(struct rfx *r, uint64_t height, const uint8_t hash[WIRE_HASH_BYTES],
                           uint64_t time_ms)
{
    if (height >= r->cap_blocks) {
        size_t cap = r->cap_blocks ? r->cap_blocks : 64;
        while (cap <= height)
            cap *= 2;
        r->blocks = realloc(r->blocks, cap * sizeof *r->blocks);
        HANSA_ASSERT(r->blocks != NULL);
        memset(r->blocks + r->cap_blocks, 0, (cap - r->cap_blocks) * sizeof *r->blocks);
        r->cap_blocks = cap;
    }
    memcpy(r->blocks[height].hash, hash, WIRE_HASH_BYTES);
    r->blocks[height].time_ms = time_ms;
}

/* Apply writes (puts and deletes) to a memstate through a ledger_output. */
static void apply(struct memstate *m, struct ledger_write *w, size_t n)
{
    struct ledger_output o = {.state = w, .n_state = n};
    memstate_apply(m, &o);
}

static void on_block(void *arg, const struct ledger_block *blk, const struct ledger_output *out)
{
    struct rfx *r = arg;
    /* History first: the engine reads entities as of this block. */
    apply(r->history, out->history, out->n_history);

    uint8_t seed[16];
    memcpy(seed, &blk->height, 8);
    memcpy(seed + 8, &blk->time_ms, 8);
    uint8_t hash[WIRE_HASH_BYTES];
    wire_sha256(seed, sizeof seed, hash);
    remember_block(r, blk->height, hash, blk->time_ms);

    Hansa__HistoryEntry **hist = calloc(out->n_history + 1, sizeof *hist);
    HANSA_ASSERT(hist != NULL);
    for (size_t i = 0; i < out->n_history; i++)
        HANSA_ASSERT(wire_decode(&hansa__history_entry__descriptor, out->history[i].val,
                                 out->history[i].val_len, 1u << 22, WIRE_LENIENT,
                                 (ProtobufCMessage **)&hist[i]) == HANSA_OK);
    struct risk_block b = {.height = blk->height,
                           .time_ms = blk->time_ms,
                           .txs = blk->txs,
                           .n_txs = blk->n_txs,
                           .results = out->results,
                           .history = hist,
                           .n_history = out->n_history,
                           .evidence = r->pending_evidence,
                           .n_evidence = r->n_pending_evidence};
    memcpy(b.hash, hash, WIRE_HASH_BYTES);
    struct risk_env env = {.rs = &r->rs,
                           .alerts = memstate_view(r->alerts),
                           .history = memstate_view(r->history),
                           .validators = r->validators,
                           .block_info = block_info,
                           .block_info_ctx = r};
    struct risk_output ro;
    hansa_err rv = risk_process(&env, &b, &ro);
    cr_assert_eq(rv, HANSA_OK, "risk_process at height %llu: %s", (unsigned long long)blk->height,
                 hansa_strerror(rv));
    for (size_t i = 1; i < ro.n_writes; i++) {
        const struct ledger_write *a = &ro.writes[i - 1], *c = &ro.writes[i];
        size_t n = a->key_len < c->key_len ? a->key_len : c->key_len;
        int cmp = memcmp(a->key, c->key, n);
        cr_assert(cmp < 0 || (cmp == 0 && a->key_len < c->key_len),
                  "risk writes not sorted and unique");
    }
    apply(r->alerts, ro.writes, ro.n_writes);
    for (size_t i = 0; i < ro.n_alerts; i++) {
        Hansa__Alert *al = NULL;
        cr_assert_eq(wire_decode(&hansa__alert__descriptor, ro.alerts[i].bytes, ro.alerts[i].len,
                                 1u << 22, WIRE_CANONICAL, (ProtobufCMessage **)&al),
                     HANSA_OK, "an emitted alert does not decode canonically");
        cr_assert_eq(al->cursor->height, blk->height);
        cr_assert_eq(al->cursor->ordinal, (uint32_t)i);
        if (r->n_log == r->cap_log) {
            r->cap_log = r->cap_log ? 2 * r->cap_log : 16;
            r->log = realloc(r->log, r->cap_log * sizeof *r->log);
            HANSA_ASSERT(r->log != NULL);
        }
        r->log[r->n_log++] = al;
    }
    risk_output_free(&ro);
    for (size_t i = 0; i < out->n_history; i++)
        wire_free(hist[i]);
    free(hist);
    for (size_t i = 0; i < r->n_pending_evidence; i++)
        wire_free(r->pending_evidence[i]);
    free(r->pending_evidence);
    r->pending_evidence = NULL;
    r->n_pending_evidence = 0;
}

void rfx_init(struct rfx *r, const char *ruleset_text)
{
    memset(r, 0, sizeof *r);
    if (ruleset_text == NULL) {
        risk_ruleset_default(&r->rs);
    } else {
        char why[512] = "";
        hansa_err rv = risk_ruleset_parse("test.ini", ruleset_text, strlen(ruleset_text), &r->rs,
                                          why, sizeof why);
        cr_assert_eq(rv, HANSA_OK, "ruleset refused: %s", why);
    }
    fx_init(&r->f);
    r->alerts = memstate_new();
    r->history = memstate_new();
    /* Genesis history (the parties) at height 0. */
    apply(r->history, r->f.last.history, r->f.last.n_history);
    r->f.on_block = on_block;
    r->f.on_block_arg = r;
}

void rfx_close(struct rfx *r)
{
    fx_close(&r->f);
    memstate_free(r->alerts);
    memstate_free(r->history);
    for (size_t i = 0; i < r->n_log; i++)
        wire_free(r->log[i]);
    free(r->log);
    free(r->blocks);
    for (size_t i = 0; i < r->n_pending_evidence; i++)
        wire_free(r->pending_evidence[i]);
    free(r->pending_evidence);
    memset(r, 0, sizeof *r);
}

void rfx_reinit(struct rfx *r, const char *ruleset_text)
{
    rfx_close(r);
    rfx_init(r, ruleset_text);
}

size_t rfx_take(struct rfx *r, Hansa__Alert ***out)
{
    size_t n = r->n_log - r->taken;
    *out = r->log + r->taken;
    r->taken = r->n_log;
    return n;
}

static void describe(const Hansa__Alert *a, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s %s at %llu: %s", a->rule_id, risk_severity_name(a->severity),
             (unsigned long long)a->cursor->height, a->message);
}

void rfx_expect_none(struct rfx *r)
{
    Hansa__Alert **a;
    size_t n = rfx_take(r, &a);
    if (n > 0) {
        char d[700];
        describe(a[0], d, sizeof d);
        cr_assert_fail("expected no alert, got %zu, the first: %s", n, d);
    }
}

Hansa__Alert *rfx_expect_one(struct rfx *r, const char *rule_id)
{
    Hansa__Alert **a;
    size_t n = rfx_take(r, &a);
    if (n != 1) {
        char d[700] = "";
        if (n > 0)
            describe(a[n > 1 ? 1 : 0], d, sizeof d);
        cr_assert_fail("expected one %s alert, got %zu %s", rule_id, n, d);
    }
    cr_assert_str_eq(a[0]->rule_id, rule_id);
    return a[0];
}

size_t rfx_take_rule(struct rfx *r, const char *rule_id, Hansa__Alert **out, size_t max)
{
    Hansa__Alert **a;
    size_t n = rfx_take(r, &a), k = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i]->rule_id, rule_id) == 0 && k < max)
            out[k++] = a[i];
    return k;
}

void rfx_evidence_block(struct rfx *r, const Hansa__Evidence *ev)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    HANSA_ASSERT(wire_encode(&ev->base, 1u << 20, &bytes, &len) == HANSA_OK);
    Hansa__Evidence *copy = NULL;
    HANSA_ASSERT(wire_decode(&hansa__evidence__descriptor, bytes, len, 1u << 22, WIRE_LENIENT,
                             (ProtobufCMessage **)&copy) == HANSA_OK);
    free(bytes);
    r->pending_evidence =
        realloc(r->pending_evidence, (r->n_pending_evidence + 1) * sizeof *r->pending_evidence);
    HANSA_ASSERT(r->pending_evidence != NULL);
    r->pending_evidence[r->n_pending_evidence++] = copy;
    fx_empty_block(&r->f);
}

void rfx_advance_to(struct rfx *r, uint64_t t_ms)
{
    if (r->f.time_ms < t_ms)
        fx_advance(&r->f, t_ms - r->f.time_ms);
    fx_empty_block(&r->f);
}

void rfx_next_block_at(struct rfx *r, uint64_t t_ms)
{
    cr_assert_geq(t_ms, r->f.time_ms, "the next block cannot be earlier");
    fx_advance(&r->f, t_ms - r->f.time_ms);
}

/* Room for more alerts of one rule than any test expects at once, so that
 * a count above one is reported as it is. */
#define TAKE_MAX 8

Hansa__Alert *rfx_take_one(struct rfx *r, const char *rule_id)
{
    Hansa__Alert *a[TAKE_MAX];
    size_t n = rfx_take_rule(r, rule_id, a, TAKE_MAX);
    cr_assert_eq(n, 1, "expected one %s alert, got %zu", rule_id, n);
    return a[0];
}

Hansa__Alert *rfx_take_alert(struct rfx *r, const char *rule_id, Hansa__AlertKind kind,
                             Hansa__Severity severity)
{
    Hansa__Alert *a = rfx_take_one(r, rule_id);
    cr_assert_eq(a->kind, kind, "kind %d: %s", (int)a->kind, a->message);
    cr_assert_eq(a->severity, severity, "severity %s: %s", risk_severity_name(a->severity),
                 a->message);
    return a;
}

void rfx_take_none(struct rfx *r, const char *rule_id)
{
    Hansa__Alert *a[TAKE_MAX];
    size_t n = rfx_take_rule(r, rule_id, a, TAKE_MAX);
    cr_assert_eq(n, 0, "expected no %s alert, got %zu: %s", rule_id, n, n ? a[0]->message : "");
}

void rfx_incident_id(const char *rule_id, const char *dedup_key, uint8_t out[WIRE_HASH_BYTES])
{
    static const char tag[] = "hansa/incident/v1"; /* with its NUL */
    size_t rl = strlen(rule_id) + 1, kl = strlen(dedup_key);
    uint8_t buf[sizeof tag + 64 + 512];
    cr_assert_leq(sizeof tag + rl + kl, sizeof buf);
    memcpy(buf, tag, sizeof tag);
    memcpy(buf + sizeof tag, rule_id, rl);
    memcpy(buf + sizeof tag + rl, dedup_key, kl);
    wire_sha256(buf, sizeof tag + rl + kl, out);
}

void rfx_expect_incident(const Hansa__Alert *a, const char *rule_id, const char *dedup_key)
{
    uint8_t id[WIRE_HASH_BYTES];
    rfx_incident_id(rule_id, dedup_key, id);
    cr_assert_eq(a->incident_id.len, WIRE_HASH_BYTES);
    cr_assert_arr_eq(a->incident_id.data, id, WIRE_HASH_BYTES, "dedup key is not %s", dedup_key);
}

const Hansa__AlertEvidence *rfx_evidence(const Hansa__Alert *a, const char *field)
{
    for (size_t i = 0; i < a->n_evidence; i++)
        if (strcmp(a->evidence[i]->field, field) == 0)
            return a->evidence[i];
    return NULL;
}

const Hansa__AlertEvidence *rfx_evidence_of(const Hansa__Alert *a, const char *field)
{
    const Hansa__AlertEvidence *e = rfx_evidence(a, field);
    cr_assert_not_null(e, "no evidence %s", field);
    return e;
}

const char *rfx_observed(const Hansa__Alert *a, const char *field)
{
    return rfx_evidence_of(a, field)->observed;
}

void rfx_expect_evidence(const Hansa__Alert *a, const char *field, const char *expected,
                         const char *observed)
{
    const Hansa__AlertEvidence *e = rfx_evidence_of(a, field);
    cr_assert_str_eq(e->expected, expected, "%s expected", field);
    cr_assert_str_eq(e->observed, observed, "%s observed", field);
}

bool rfx_has_subject(const Hansa__Alert *a, Hansa__EntityType type, const char *owner,
                     const char *id)
{
    for (size_t i = 0; i < a->n_subjects; i++)
        if (a->subjects[i]->type == type && strcmp(a->subjects[i]->owner, owner) == 0 &&
            strcmp(a->subjects[i]->id, id) == 0)
            return true;
    return false;
}

bool rfx_has_tx(const Hansa__Alert *a, const uint8_t tx_id[WIRE_HASH_BYTES])
{
    for (size_t i = 0; i < a->n_tx_ids; i++)
        if (a->tx_ids[i].len == WIRE_HASH_BYTES &&
            memcmp(a->tx_ids[i].data, tx_id, WIRE_HASH_BYTES) == 0)
            return true;
    return false;
}

static bool count_visit(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    (void)k, (void)kl, (void)v, (void)vl;
    (*(size_t *)arg)++;
    return true;
}

size_t rfx_rule_keys(struct rfx *r, const char *rule_id, char kind)
{
    struct ledger_state s = memstate_view(r->alerts);
    char prefix[80];
    int n = snprintf(prefix, sizeof prefix, "%c/%s/", kind, rule_id);
    cr_assert(n > 0 && (size_t)n < sizeof prefix);
    size_t count = 0;
    cr_assert_eq(s.scan(s.ctx, (const uint8_t *)prefix, (size_t)n, count_visit, &count), HANSA_OK);
    return count;
}

bool rfx_audience_has(const Hansa__Alert *a, const char *party)
{
    for (size_t i = 0; i < a->n_audience; i++)
        if (strcmp(a->audience[i], party) == 0)
            return true;
    return false;
}
