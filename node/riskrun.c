/* The risk engine's thread (riskrun.h). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hansa/assert.h"
#include "log.h"
#include "riskrun.h"

/* Idle wait between looks at the store when no commit kicks the thread. */
#define RISKRUN_IDLE_MS 1000
/* After a storage failure: retry the block after this long. */
#define RISKRUN_RETRY_MS 1000

struct riskrun {
    struct riskrun_deps d;
    struct risk_ruleset rs;
    int lag_rule; /* index of ENGINE-LAG in the registry, -1 if absent */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kicked;
    uint64_t processed;
    bool lag_raised;
};

/* ---- store helpers ---- */

static void be64_put(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static hansa_err fam_get(void *ctx, const uint8_t *key, size_t key_len, uint8_t **val,
                         size_t *val_len, enum store_family f)
{
    return store_get(ctx, f, key, key_len, val, val_len);
}

static hansa_err alerts_get(void *ctx, const uint8_t *key, size_t key_len, uint8_t **val,
                            size_t *val_len)
{
    return fam_get(ctx, key, key_len, val, val_len, STORE_ALERTS);
}

static hansa_err alerts_scan(void *ctx, const uint8_t *prefix, size_t prefix_len,
                             ledger_visit_fn visit, void *arg)
{
    return store_scan(ctx, STORE_ALERTS, prefix, prefix_len, NULL, 0, visit, arg);
}

static hansa_err alerts_scan_until(void *ctx, const uint8_t *prefix, size_t prefix_len,
                                   const uint8_t *until, size_t until_len, ledger_visit_fn visit,
                                   void *arg)
{
    return store_scan_range(ctx, STORE_ALERTS, prefix, prefix_len, NULL, 0, until, until_len, visit,
                            arg);
}

static hansa_err history_get(void *ctx, const uint8_t *key, size_t key_len, uint8_t **val,
                             size_t *val_len)
{
    return fam_get(ctx, key, key_len, val, val_len, STORE_HISTORY);
}

static hansa_err history_scan(void *ctx, const uint8_t *prefix, size_t prefix_len,
                              ledger_visit_fn visit, void *arg)
{
    return store_scan(ctx, STORE_HISTORY, prefix, prefix_len, NULL, 0, visit, arg);
}

static hansa_err history_scan_back(void *ctx, const uint8_t *prefix, size_t prefix_len,
                                   const uint8_t *from, size_t from_len, ledger_visit_fn visit,
                                   void *arg)
{
    return store_scan_back(ctx, STORE_HISTORY, prefix, prefix_len, from, from_len, visit, arg);
}

static hansa_err load_block(struct store *s, uint64_t height, Hansa__StoredBlock **sb,
                            Hansa__BlockHeader **hdr)
{
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = store_get_block(s, height, &val, &len);
    if (rv == HANSA_OK)
        rv = wire_decode(&hansa__stored_block__descriptor, val, len, 4 * len + 4096, WIRE_LENIENT,
                         (ProtobufCMessage **)sb);
    free(val);
    if (rv != HANSA_OK)
        return rv;
    if ((*sb)->block == NULL || (*sb)->results == NULL ||
        (*sb)->results->block_hash.len != WIRE_HASH_BYTES) {
        wire_free(*sb);
        *sb = NULL;
        return HANSA_EFORMAT;
    }
    rv = wire_decode(&hansa__block_header__descriptor, (*sb)->block->header.data,
                     (*sb)->block->header.len, 4 * (*sb)->block->header.len + 1024, WIRE_LENIENT,
                     (ProtobufCMessage **)hdr);
    if (rv != HANSA_OK) {
        wire_free(*sb);
        *sb = NULL;
    }
    return rv;
}

static hansa_err block_info(void *ctx, uint64_t height, uint8_t hash[WIRE_HASH_BYTES],
                            uint64_t *time_ms)
{
    Hansa__StoredBlock *sb = NULL;
    Hansa__BlockHeader *hdr = NULL;
    hansa_err rv = load_block(ctx, height, &sb, &hdr);
    if (rv != HANSA_OK)
        return rv;
    memcpy(hash, sb->results->block_hash.data, WIRE_HASH_BYTES);
    *time_ms = hdr->time_ms;
    wire_free(sb);
    wire_free(hdr);
    return HANSA_OK;
}

/* ---- one block ---- */

struct keys {
    uint8_t **k;
    size_t *len;
    size_t n, cap;
    hansa_err err;
};

static bool keys_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                       size_t val_len)
{
    struct keys *ks = arg;
    (void)key;
    (void)key_len;
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? 2 * ks->cap : 16;
        uint8_t **k = realloc(ks->k, cap * sizeof *k);
        size_t *l = k ? realloc(ks->len, cap * sizeof *l) : NULL;
        if (k != NULL)
            ks->k = k;
        if (l == NULL) {
            ks->err = HANSA_ENOMEM;
            return false;
        }
        ks->len = l;
        ks->cap = cap;
    }
    uint8_t *c = malloc(val_len ? val_len : 1);
    if (c == NULL) {
        ks->err = HANSA_ENOMEM;
        return false;
    }
    memcpy(c, val, val_len);
    ks->k[ks->n] = c;
    ks->len[ks->n++] = val_len;
    return true;
}

static void keys_free(struct keys *ks)
{
    for (size_t i = 0; i < ks->n; i++)
        free(ks->k[i]);
    free(ks->k);
    free(ks->len);
}

/* The history entries block `height` wrote, in execution order. */
static hansa_err load_history(struct store *s, uint64_t height, Hansa__HistoryEntry ***out,
                              size_t *n)
{
    uint8_t prefix[9];
    prefix[0] = '#';
    be64_put(prefix + 1, height);
    struct keys ks = {0};
    hansa_err rv = store_scan(s, STORE_HISTORY, prefix, sizeof prefix, NULL, 0, keys_visit, &ks);
    if (rv == HANSA_OK)
        rv = ks.err;
    Hansa__HistoryEntry **h = rv == HANSA_OK ? calloc(ks.n + 1, sizeof *h) : NULL;
    if (rv == HANSA_OK && h == NULL)
        rv = HANSA_ENOMEM;
    size_t k = 0;
    for (; rv == HANSA_OK && k < ks.n; k++) {
        uint8_t *val = NULL;
        size_t len = 0;
        rv = store_get(s, STORE_HISTORY, ks.k[k], ks.len[k], &val, &len);
        if (rv == HANSA_OK)
            rv = wire_decode(&hansa__history_entry__descriptor, val, len, 4 * len + 4096,
                             WIRE_LENIENT, (ProtobufCMessage **)&h[k]);
        free(val);
    }
    keys_free(&ks);
    if (rv != HANSA_OK) {
        for (size_t i = 0; h != NULL && i < k; i++)
            wire_free(h[i]);
        free(h);
        return rv;
    }
    *out = h;
    *n = ks.n;
    return HANSA_OK;
}

struct puts {
    struct store_put *p;
    size_t n, cap;
    uint8_t **own; /* buffers to free */
    size_t n_own, cap_own;
};

static hansa_err put(struct puts *ps, enum store_family f, const uint8_t *key, size_t key_len,
                     const uint8_t *val, size_t val_len, bool copy)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? 2 * ps->cap : 64;
        struct store_put *p = realloc(ps->p, cap * sizeof *p);
        if (p == NULL)
            return HANSA_ENOMEM;
        ps->p = p;
        ps->cap = cap;
    }
    if (copy) {
        if (ps->n_own + 2 > ps->cap_own) {
            size_t cap = ps->cap_own ? 2 * ps->cap_own : 64;
            uint8_t **o = realloc(ps->own, cap * sizeof *o);
            if (o == NULL)
                return HANSA_ENOMEM;
            ps->own = o;
            ps->cap_own = cap;
        }
        uint8_t *k = malloc(key_len ? key_len : 1);
        uint8_t *v = val != NULL ? malloc(val_len ? val_len : 1) : NULL;
        if (k == NULL || (val != NULL && v == NULL)) {
            free(k);
            free(v);
            return HANSA_ENOMEM;
        }
        memcpy(k, key, key_len);
        if (val != NULL)
            memcpy(v, val, val_len);
        ps->own[ps->n_own++] = k;
        if (v != NULL)
            ps->own[ps->n_own++] = v;
        key = k;
        val = v;
    }
    ps->p[ps->n++] = (struct store_put){f, key, key_len, val, val_len};
    return HANSA_OK;
}

static void puts_free(struct puts *ps)
{
    for (size_t i = 0; i < ps->n_own; i++)
        free(ps->own[i]);
    free(ps->own);
    free(ps->p);
}

static void cursor_val(uint8_t v[12], uint64_t height, uint32_t ordinal)
{
    be64_put(v, height);
    for (int i = 0; i < 4; i++)
        v[8 + i] = (uint8_t)(ordinal >> (24 - 8 * i));
}

/* Index key of an alert: "x/p/<party>/" or "x/r/<rule>/" + the log key's
 * 12-byte cursor. */
static size_t index_key(uint8_t *buf, size_t cap, const char *kind, const char *name,
                        const uint8_t *log_key)
{
    size_t nl = strlen(name), n = 4 + nl + 1 + 12;
    if (n > cap)
        return 0;
    memcpy(buf, kind, 4);
    memcpy(buf + 4, name, nl);
    buf[4 + nl] = '/';
    memcpy(buf + 5 + nl, log_key + 2, 12);
    return n;
}

/* Alerts retention deletes in one batch: bounds the batch when retention is
 * turned on (or shortened) over a long log; the rest goes with the next
 * blocks. */
#define RISKRUN_PRUNE_MAX 10000u

struct prune {
    struct puts *ps;
    uint64_t cutoff; /* delete alerts of heights <= cutoff */
    uint64_t last_h;
    uint32_t last_o;
    size_t n;
    hansa_err err;
};

static bool prune_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    struct prune *p = arg;
    Hansa__Alert *a = NULL;
    uint64_t h;
    uint32_t o;
    if (!risk_log_key_parse(key, key_len, &h, &o)) {
        p->err = HANSA_EFORMAT;
        return false;
    }
    if (h > p->cutoff || p->n == RISKRUN_PRUNE_MAX)
        return false;
    if (wire_decode(&hansa__alert__descriptor, val, val_len, 4 * val_len + 4096, WIRE_LENIENT,
                    (ProtobufCMessage **)&a) != HANSA_OK) {
        p->err = HANSA_EFORMAT;
        return false;
    }
    uint8_t ix[4 + 128 + 1 + 12];
    hansa_err rv = put(p->ps, STORE_ALERTS, key, key_len, NULL, 0, true);
    for (size_t i = 0; rv == HANSA_OK && i < a->n_audience; i++) {
        size_t n = index_key(ix, sizeof ix, "x/p/", a->audience[i], key);
        rv = n > 0 ? put(p->ps, STORE_ALERTS, ix, n, NULL, 0, true) : HANSA_EFORMAT;
    }
    size_t n = index_key(ix, sizeof ix, "x/r/", a->rule_id, key);
    if (rv == HANSA_OK)
        rv = n > 0 ? put(p->ps, STORE_ALERTS, ix, n, NULL, 0, true) : HANSA_EFORMAT;
    wire_free(a);
    p->err = rv;
    p->last_h = h;
    p->last_o = o;
    p->n++;
    return rv == HANSA_OK;
}

/* Deletes of the alerts of every block up to cutoff (retention), oldest
 * first, at most RISKRUN_PRUNE_MAX. */
static hansa_err prune_upto(struct riskrun *r, struct puts *ps, uint64_t cutoff, uint8_t pruned[12],
                            bool *any)
{
    struct prune p = {.ps = ps, .cutoff = cutoff};
    hansa_err rv =
        store_scan(r->d.store, STORE_ALERTS, (const uint8_t *)"a/", 2, NULL, 0, prune_visit, &p);
    if (rv == HANSA_OK)
        rv = p.err;
    if (rv == HANSA_OK && p.n > 0) {
        cursor_val(pruned, p.last_h, p.last_o);
        *any = true;
    }
    return rv;
}

static void publish(struct riskrun *r, const struct risk_output *out, uint64_t height,
                    const uint8_t hash[WIRE_HASH_BYTES], uint64_t time_ms)
{
    if (r->d.events == NULL)
        return;
    for (size_t i = 0; i < out->n_alerts; i++) {
        Hansa__Alert *a = NULL;
        if (wire_decode(&hansa__alert__descriptor, out->alerts[i].bytes, out->alerts[i].len,
                        4 * out->alerts[i].len + 4096, WIRE_LENIENT,
                        (ProtobufCMessage **)&a) != HANSA_OK)
            continue;
        Hansa__AlertHint hint = HANSA__ALERT_HINT__INIT;
        hint.cursor = a->cursor;
        hint.alert_id = a->alert_id;
        hint.rule_id = a->rule_id;
        hint.severity = a->severity;
        hint.kind = a->kind;
        Hansa__Event ev = HANSA__EVENT__INIT;
        ev.height = height;
        ev.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)hash};
        ev.block_time_ms = time_ms;
        ev.kind_case = HANSA__EVENT__KIND_ALERT;
        ev.alert = &hint;
        char topic[256];
        const char *sev = risk_severity_name(a->severity);
        if (a->n_audience == 0) {
            snprintf(topic, sizeof topic, "alert/%s/%s/", sev, a->rule_id);
            events_publish(r->d.events, topic, &ev);
        }
        for (size_t k = 0; k < a->n_audience; k++) {
            snprintf(topic, sizeof topic, "alert/%s/%s/%s", sev, a->rule_id, a->audience[k]);
            events_publish(r->d.events, topic, &ev);
        }
        wire_free(a);
    }
}

static hansa_err process(struct riskrun *r, uint64_t height)
{
    struct store *s = r->d.store;
    Hansa__StoredBlock *sb = NULL;
    Hansa__BlockHeader *hdr = NULL;
    Hansa__HistoryEntry **hist = NULL;
    size_t n_hist = 0;
    struct wire_tx *txs = NULL;
    size_t n_txs = 0;
    struct risk_output out = {0};
    struct puts ps = {0};
    hansa_err rv = load_block(s, height, &sb, &hdr);
    if (rv == HANSA_OK && sb->results->n_results != sb->block->n_txs)
        rv = HANSA_EFORMAT;
    if (rv == HANSA_OK)
        rv = load_history(s, height, &hist, &n_hist);
    if (rv == HANSA_OK) {
        txs = calloc(sb->block->n_txs + 1, sizeof *txs);
        rv = txs == NULL ? HANSA_ENOMEM : HANSA_OK;
    }
    for (; rv == HANSA_OK && n_txs < sb->block->n_txs; n_txs++)
        rv = wire_tx_open(&txs[n_txs], sb->block->txs[n_txs].data, sb->block->txs[n_txs].len,
                          r->d.chain_id);
    if (rv == HANSA_OK) {
        struct risk_block b = {.height = height,
                               .time_ms = hdr->time_ms,
                               .txs = txs,
                               .n_txs = n_txs,
                               .results = sb->results->results,
                               .history = hist,
                               .n_history = n_hist,
                               .evidence = sb->block->evidence,
                               .n_evidence = sb->block->n_evidence};
        memcpy(b.hash, sb->results->block_hash.data, WIRE_HASH_BYTES);
        struct risk_env env = {.rs = &r->rs,
                               .alerts = {.ctx = s,
                                          .get = alerts_get,
                                          .scan = alerts_scan,
                                          .scan_until = alerts_scan_until},
                               .history = {.ctx = s,
                                           .get = history_get,
                                           .scan = history_scan,
                                           .scan_back = history_scan_back},
                               .validators = r->d.validators,
                               .block_info = block_info,
                               .block_info_ctx = s};
        rv = risk_process(&env, &b, &out);
    }
    for (size_t i = 0; rv == HANSA_OK && i < out.n_writes; i++)
        rv = put(&ps, STORE_ALERTS, out.writes[i].key, out.writes[i].key_len, out.writes[i].val,
                 out.writes[i].val_len, false);
    uint8_t hv[8], head[12], pruned[12];
    be64_put(hv, height);
    if (rv == HANSA_OK)
        rv = put(&ps, STORE_META, (const uint8_t *)STORE_META_RISK_HEIGHT,
                 strlen(STORE_META_RISK_HEIGHT), hv, sizeof hv, false);
    if (rv == HANSA_OK && out.n_alerts > 0) {
        cursor_val(head, height, (uint32_t)out.n_alerts - 1);
        rv = put(&ps, STORE_META, (const uint8_t *)STORE_META_RISK_HEAD,
                 strlen(STORE_META_RISK_HEAD), head, sizeof head, false);
    }
    bool any_pruned = false;
    if (rv == HANSA_OK && r->d.retention_blocks > 0 && height > r->d.retention_blocks)
        rv = prune_upto(r, &ps, height - r->d.retention_blocks, pruned, &any_pruned);
    if (rv == HANSA_OK && any_pruned)
        rv = put(&ps, STORE_META, (const uint8_t *)STORE_META_RISK_PRUNED,
                 strlen(STORE_META_RISK_PRUNED), pruned, sizeof pruned, false);
    if (rv == HANSA_OK)
        rv = store_write_sync(s, ps.p, ps.n);
    if (rv == HANSA_OK) {
        if (out.n_alerts > 0)
            log_info("RISK-ALERTS", "block %" PRIu64 ": %zu alerts", height, out.n_alerts);
        publish(r, &out, height, sb->results->block_hash.data, hdr->time_ms);
        if (r->d.api != NULL && out.n_alerts > 0)
            api_on_alerts(r->d.api);
    }
    puts_free(&ps);
    risk_output_free(&out);
    for (size_t i = 0; i < n_txs; i++)
        wire_tx_close(&txs[i]);
    free(txs);
    for (size_t i = 0; i < n_hist; i++)
        wire_free(hist[i]);
    free(hist);
    wire_free(sb);
    wire_free(hdr);
    return rv;
}

/* ---- ENGINE-LAG ---- */

static void check_lag(struct riskrun *r, uint64_t head)
{
    if (r->lag_rule < 0 || !r->rs.enabled[r->lag_rule])
        return;
    uint64_t lag = head > r->processed ? head - r->processed : 0;
    uint64_t bound = (uint64_t)r->rs.params[r->lag_rule][0];
    Hansa__Severity sev = (Hansa__Severity)r->rs.params[r->lag_rule][1];
    bool raise = lag > bound;
    if (raise == r->lag_raised)
        return;
    r->lag_raised = raise;
    if (raise)
        log_warn("RISK-ENGINE-LAG",
                 "ENGINE-LAG %s: the risk engine is %" PRIu64 " blocks behind (at %" PRIu64
                 ", head %" PRIu64 ", bound %" PRIu64 ")",
                 risk_severity_name(sev), lag, r->processed, head, bound);
    else
        log_info("RISK-ENGINE-LAG",
                 "ENGINE-LAG resolved: the risk engine is back within %" PRIu64
                 " blocks of the head",
                 bound);
    if (r->d.events == NULL)
        return;
    Hansa__Cursor zero = HANSA__CURSOR__INIT;
    Hansa__AlertHint hint = HANSA__ALERT_HINT__INIT;
    hint.cursor = &zero;
    hint.rule_id = "ENGINE-LAG";
    hint.severity = sev;
    hint.kind = raise ? HANSA__ALERT_KIND__ALERT_KIND_NEW : HANSA__ALERT_KIND__ALERT_KIND_RESOLVED;
    Hansa__Event ev = HANSA__EVENT__INIT;
    ev.height = r->processed;
    ev.kind_case = HANSA__EVENT__KIND_ALERT;
    ev.alert = &hint;
    char topic[256];
    snprintf(topic, sizeof topic, "alert/%s/ENGINE-LAG/%s", risk_severity_name(sev), r->d.node_id);
    events_publish(r->d.events, topic, &ev);
}

/* ---- the thread ---- */

static void wait_ms(struct riskrun *r, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    while (!r->stop && !r->kicked)
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT)
            break;
    r->kicked = false;
    pthread_mutex_unlock(&r->mu);
}

static bool stopping(struct riskrun *r)
{
    pthread_mutex_lock(&r->mu);
    bool s = r->stop;
    pthread_mutex_unlock(&r->mu);
    return s;
}

static void *run(void *arg)
{
    struct riskrun *r = arg;
    bool failing = false;
    while (!stopping(r)) {
        uint64_t head = store_height(r->d.store);
        check_lag(r, head);
        if (head == UINT64_MAX || r->processed >= head) {
            wait_ms(r, RISKRUN_IDLE_MS);
            continue;
        }
        hansa_err rv = process(r, r->processed + 1);
        if (rv != HANSA_OK) {
            if (!failing) {
                char why[256] = "";
                store_last_error(r->d.store, why, sizeof why);
                log_error("RISK-FATAL",
                          "cannot process block %" PRIu64 ": %s (%s); retrying, nothing skipped",
                          r->processed + 1, hansa_strerror(rv), why);
            }
            failing = true;
            wait_ms(r, RISKRUN_RETRY_MS);
            continue;
        }
        if (failing)
            log_info("RISK-RECOVERED", "block %" PRIu64 " processed", r->processed + 1);
        failing = false;
        r->processed++;
    }
    return NULL;
}

hansa_err riskrun_open(const struct riskrun_deps *deps, struct riskrun **out, char *why,
                       size_t why_len)
{
    HANSA_ASSERT(deps != NULL && deps->store != NULL && deps->rs != NULL);
    struct riskrun *r = calloc(1, sizeof *r);
    if (r == NULL)
        return HANSA_ENOMEM;
    r->d = *deps;
    r->rs = *deps->rs;
    r->d.rs = &r->rs;
    r->lag_rule = risk_rule_index("ENGINE-LAG");
    hansa_err rv = store_meta_u64(deps->store, STORE_META_RISK_HEIGHT, &r->processed);
    if (rv != HANSA_OK) {
        snprintf(why, why_len, "cannot read the risk engine's height: %s", hansa_strerror(rv));
        free(r);
        return rv;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, run, r) != 0) {
        snprintf(why, why_len, "cannot start the risk engine's thread");
        riskrun_close(r);
        return HANSA_ENOMEM;
    }
    r->started = true;
    log_info("RISK-START", "ruleset %s, resuming after block %" PRIu64, r->rs.name, r->processed);
    *out = r;
    return HANSA_OK;
}

void riskrun_kick(struct riskrun *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->kicked = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void riskrun_close(struct riskrun *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (r->started)
        pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}
