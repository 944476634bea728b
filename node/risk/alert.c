/*
 * Building and emitting alerts (rule.h): the builder collects a rule's
 * findings; risk_alert_emit decides the event kind from the incident's
 * state, numbers the alert, encodes the Alert record of RISK.md and writes
 * it to the log with its audience and rule index entries.
 *
 *   incident_id = SHA-256("hansa/incident/v1" 0x00 rule_id 0x00 dedup key)
 *   alert_id    = SHA-256("hansa/alert/v1" 0x00 incident_id || be32 event_no)
 *
 * Caps (risk.h) are applied deterministically: entries past a cap are left
 * out in the order they were added, so every node leaves out the same ones.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "hansa/civil.h"
#include "internal.h"

struct alert_party {
    Hansa__Role role;
    char *id;
};

struct alert_subject {
    Hansa__EntityType type;
    char *owner, *id;
};

struct alert_evidence {
    char *field, *expected, *observed;
    uint8_t source[WIRE_HASH_BYTES];
    bool has_source;
};

struct risk_alert {
    struct risk_ctx *ctx;
    char *dedup;
    Hansa__Severity severity;
    uint64_t at_height;
    uint8_t tx_ids[RISK_ALERT_TX_IDS_MAX][WIRE_HASH_BYTES];
    size_t n_tx_ids;
    struct alert_party parties[RISK_ALERT_PARTIES_MAX];
    size_t n_parties;
    struct alert_subject subjects[RISK_ALERT_SUBJECTS_MAX];
    size_t n_subjects;
    struct alert_evidence evidence[RISK_ALERT_EVIDENCE_MAX];
    size_t n_evidence;
    char message[RISK_ALERT_MESSAGE_MAX + 1];
    hansa_err err;
};

static char *dup_cut(const char *s, size_t max, hansa_err *err)
{
    if (s == NULL)
        s = "";
    size_t n = strlen(s);
    if (n > max)
        n = max;
    char *c = malloc(n + 1);
    if (c == NULL) {
        *err = HANSA_ENOMEM;
        return NULL;
    }
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static void alert_free(struct risk_alert *a)
{
    if (a == NULL)
        return;
    free(a->dedup);
    for (size_t i = 0; i < a->n_parties; i++)
        free(a->parties[i].id);
    for (size_t i = 0; i < a->n_subjects; i++) {
        free(a->subjects[i].owner);
        free(a->subjects[i].id);
    }
    for (size_t i = 0; i < a->n_evidence; i++) {
        free(a->evidence[i].field);
        free(a->evidence[i].expected);
        free(a->evidence[i].observed);
    }
    free(a);
}

/* Returned when even the builder cannot be allocated: every call on it is
 * a no-op and emit reports HANSA_ENOMEM. */
static struct risk_alert oom_alert = {.err = HANSA_ENOMEM};

struct risk_alert *risk_alert_new(struct risk_ctx *ctx, const char *dedup_key,
                                  Hansa__Severity severity)
{
    HANSA_ASSERT(dedup_key != NULL && dedup_key[0] != '\0');
    HANSA_ASSERT(severity >= HANSA__SEVERITY__SEVERITY_INFO &&
                 severity <= HANSA__SEVERITY__SEVERITY_CRITICAL);
    struct risk_alert *a = calloc(1, sizeof *a);
    if (a == NULL)
        return &oom_alert;
    a->ctx = ctx;
    a->severity = severity;
    a->at_height = ctx->b->height;
    a->dedup = dup_cut(dedup_key, 512, &a->err);
    return a;
}

void risk_alert_at(struct risk_alert *a, uint64_t height)
{
    if (a != &oom_alert)
        a->at_height = height;
}

void risk_alert_tx(struct risk_alert *a, const uint8_t tx_id[WIRE_HASH_BYTES])
{
    if (a == &oom_alert || tx_id == NULL)
        return;
    for (size_t i = 0; i < a->n_tx_ids; i++)
        if (memcmp(a->tx_ids[i], tx_id, WIRE_HASH_BYTES) == 0)
            return;
    if (a->n_tx_ids < RISK_ALERT_TX_IDS_MAX)
        memcpy(a->tx_ids[a->n_tx_ids++], tx_id, WIRE_HASH_BYTES);
}

void risk_alert_party(struct risk_alert *a, Hansa__Role role, const char *party_id)
{
    if (a == &oom_alert || party_id == NULL || party_id[0] == '\0')
        return;
    for (size_t i = 0; i < a->n_parties; i++)
        if (a->parties[i].role == role && strcmp(a->parties[i].id, party_id) == 0)
            return;
    if (a->n_parties == RISK_ALERT_PARTIES_MAX)
        return;
    char *id = dup_cut(party_id, 64, &a->err);
    if (id != NULL)
        a->parties[a->n_parties++] = (struct alert_party){role, id};
}

void risk_alert_subject(struct risk_alert *a, Hansa__EntityType type, const char *owner,
                        const char *id)
{
    if (a == &oom_alert || a->n_subjects == RISK_ALERT_SUBJECTS_MAX)
        return;
    struct alert_subject *s = &a->subjects[a->n_subjects];
    s->type = type;
    s->owner = dup_cut(owner, 64, &a->err);
    s->id = dup_cut(id, 128, &a->err);
    if (s->owner == NULL || s->id == NULL) {
        free(s->owner);
        free(s->id);
        return;
    }
    a->n_subjects++;
}

void risk_alert_evidence(struct risk_alert *a, const char *field, const char *expected,
                         const char *observed, const uint8_t *source_tx)
{
    if (a == &oom_alert || a->n_evidence == RISK_ALERT_EVIDENCE_MAX)
        return;
    struct alert_evidence *e = &a->evidence[a->n_evidence];
    e->field = dup_cut(field, RISK_EVIDENCE_VALUE_MAX, &a->err);
    e->expected = dup_cut(expected, RISK_EVIDENCE_VALUE_MAX, &a->err);
    e->observed = dup_cut(observed, RISK_EVIDENCE_VALUE_MAX, &a->err);
    if (e->field == NULL || e->expected == NULL || e->observed == NULL) {
        free(e->field);
        free(e->expected);
        free(e->observed);
        return;
    }
    e->has_source = source_tx != NULL;
    if (source_tx != NULL)
        memcpy(e->source, source_tx, WIRE_HASH_BYTES);
    a->n_evidence++;
}

void risk_alert_message(struct risk_alert *a, const char *fmt, ...)
{
    if (a == &oom_alert)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
}

/* ---- emit ---- */

static void incident_id(const char *rule, const char *dedup, uint8_t out[WIRE_HASH_BYTES])
{
    static const char tag[] = "hansa/incident/v1";
    size_t rl = strlen(rule), dl = strlen(dedup), n = sizeof tag + rl + 1 + dl;
    uint8_t buf[sizeof tag + 64 + 1 + 513];
    HANSA_ASSERT(n <= sizeof buf);
    memcpy(buf, tag, sizeof tag); /* with its NUL: the 0x00 separator */
    memcpy(buf + sizeof tag, rule, rl);
    buf[sizeof tag + rl] = 0;
    memcpy(buf + sizeof tag + rl + 1, dedup, dl);
    wire_sha256(buf, n, out);
}

static void alert_id(const uint8_t incident[WIRE_HASH_BYTES], uint32_t event_no,
                     uint8_t out[WIRE_HASH_BYTES])
{
    static const char tag[] = "hansa/alert/v1";
    uint8_t buf[sizeof tag + WIRE_HASH_BYTES + 4];
    memcpy(buf, tag, sizeof tag);
    memcpy(buf + sizeof tag, incident, WIRE_HASH_BYTES);
    for (int i = 0; i < 4; i++)
        buf[sizeof tag + WIRE_HASH_BYTES + i] = (uint8_t)(event_no >> (24 - 8 * i));
    wire_sha256(buf, sizeof buf, out);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, distinct party ids of the alert's parties. */
static size_t audience(const struct risk_alert *a, char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_parties; i++)
        out[n++] = a->parties[i].id;
    qsort(out, n, sizeof *out, str_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(out[k - 1], out[i]) != 0)
            out[k++] = out[i];
    return k;
}

/* Decide the kind: 0 = emit nothing. */
static Hansa__AlertKind decide(struct risk_incident *inc, Hansa__AlertKind asked,
                               Hansa__Severity severity)
{
    switch (asked) {
    case HANSA__ALERT_KIND__ALERT_KIND_RESOLVED:
        if (!inc->exists || !inc->open)
            return 0;
        inc->open = false; /* inc->severity stays: the alert carries it */
        return asked;
    case HANSA__ALERT_KIND__ALERT_KIND_NEW:
    case HANSA__ALERT_KIND__ALERT_KIND_UPDATE:
        if (!inc->exists) {
            inc->exists = true;
            inc->open = true;
            inc->severity = severity;
            return HANSA__ALERT_KIND__ALERT_KIND_NEW;
        }
        if (inc->open && asked == HANSA__ALERT_KIND__ALERT_KIND_NEW && severity <= inc->severity)
            return 0;
        inc->open = true;
        inc->severity = severity;
        return HANSA__ALERT_KIND__ALERT_KIND_UPDATE;
    default:
        HANSA_ASSERT(!"unknown alert kind");
        return 0;
    }
}

static hansa_err write_index(struct risk_ctx *ctx, const char *kind, const char *name,
                             const uint8_t log_key[RISK_LOG_KEY_BYTES])
{
    uint8_t key[4 + 128 + 1 + 12];
    size_t nl = strlen(name);
    HANSA_ASSERT(nl <= 128);
    memcpy(key, kind, 4); /* "x/p/" or "x/r/" */
    memcpy(key + 4, name, nl);
    key[4 + nl] = '/';
    memcpy(key + 5 + nl, log_key + 2, 12);
    return risk_raw_put(ctx, key, 17 + nl, (const uint8_t *)"", 0);
}

static hansa_err append(struct risk_ctx *ctx, uint8_t *bytes, size_t len)
{
    struct risk_output *out = ctx->out;
    if (out->n_alerts == ctx->cap_alerts) {
        size_t cap = ctx->cap_alerts ? 2 * ctx->cap_alerts : 8;
        struct risk_emitted *v = realloc(out->alerts, cap * sizeof *v);
        if (v == NULL)
            return HANSA_ENOMEM;
        out->alerts = v;
        ctx->cap_alerts = cap;
    }
    out->alerts[out->n_alerts++] = (struct risk_emitted){bytes, len};
    return HANSA_OK;
}

static hansa_err encode(struct risk_ctx *ctx, const struct risk_alert *a, Hansa__AlertKind kind,
                        const uint8_t incident[WIRE_HASH_BYTES], uint32_t event_no, uint8_t **bytes,
                        size_t *len)
{
    const struct risk_block *b = ctx->b;
    Hansa__Alert al = HANSA__ALERT__INIT;
    Hansa__Cursor cur = HANSA__CURSOR__INIT;
    cur.height = b->height;
    cur.ordinal = ctx->next_ordinal;
    al.cursor = &cur;
    uint8_t aid[WIRE_HASH_BYTES], hash[WIRE_HASH_BYTES];
    alert_id(incident, event_no, aid);
    al.alert_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, aid};
    al.incident_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)incident};
    al.kind = kind;
    al.rule_id = (char *)ctx->rule->id;
    al.rule_rev = ctx->rule->rev;
    al.ruleset_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)ctx->env->rs->hash};
    al.severity = a->severity;
    al.height = a->at_height;
    uint64_t time_ms = b->time_ms;
    memcpy(hash, b->hash, WIRE_HASH_BYTES);
    if (a->at_height != b->height) {
        hansa_err rv =
            ctx->env->block_info == NULL
                ? HANSA_ENOENT
                : ctx->env->block_info(ctx->env->block_info_ctx, a->at_height, hash, &time_ms);
        if (rv != HANSA_OK)
            return rv;
    }
    al.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, hash};
    al.block_time_ms = time_ms;

    ProtobufCBinaryData txs[RISK_ALERT_TX_IDS_MAX];
    for (size_t i = 0; i < a->n_tx_ids; i++)
        txs[i] = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)a->tx_ids[i]};
    al.tx_ids = txs;
    al.n_tx_ids = a->n_tx_ids;

    Hansa__AlertParty ps[RISK_ALERT_PARTIES_MAX], *pp[RISK_ALERT_PARTIES_MAX];
    for (size_t i = 0; i < a->n_parties; i++) {
        hansa__alert_party__init(&ps[i]);
        ps[i].role = a->parties[i].role;
        ps[i].party_id = a->parties[i].id;
        pp[i] = &ps[i];
    }
    al.parties = pp;
    al.n_parties = a->n_parties;

    Hansa__EntityRef ss[RISK_ALERT_SUBJECTS_MAX], *sp[RISK_ALERT_SUBJECTS_MAX];
    for (size_t i = 0; i < a->n_subjects; i++) {
        hansa__entity_ref__init(&ss[i]);
        ss[i].type = a->subjects[i].type;
        ss[i].owner = a->subjects[i].owner;
        ss[i].id = a->subjects[i].id;
        sp[i] = &ss[i];
    }
    al.subjects = sp;
    al.n_subjects = a->n_subjects;

    char *aud[RISK_ALERT_PARTIES_MAX];
    al.n_audience = audience(a, aud);
    al.audience = aud;

    Hansa__AlertEvidence es[RISK_ALERT_EVIDENCE_MAX], *ep[RISK_ALERT_EVIDENCE_MAX];
    for (size_t i = 0; i < a->n_evidence; i++) {
        hansa__alert_evidence__init(&es[i]);
        es[i].field = a->evidence[i].field;
        es[i].expected = a->evidence[i].expected;
        es[i].observed = a->evidence[i].observed;
        if (a->evidence[i].has_source)
            es[i].source_tx_id =
                (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)a->evidence[i].source};
        ep[i] = &es[i];
    }
    al.evidence = ep;
    al.n_evidence = a->n_evidence;
    al.message = (char *)a->message;
    al.event_no = event_no;
    return wire_encode(&al.base, RISK_ALERT_BYTES_MAX, bytes, len);
}

static hansa_err emit(struct risk_ctx *ctx, struct risk_alert *a, Hansa__AlertKind asked,
                      bool *emitted)
{
    uint8_t inc_id[WIRE_HASH_BYTES];
    incident_id(ctx->rule->id, a->dedup, inc_id);
    struct risk_incident inc;
    hansa_err rv = risk_incident_get(ctx, inc_id, &inc);
    if (rv != HANSA_OK)
        return rv;
    Hansa__AlertKind kind = decide(&inc, asked, a->severity);
    if (kind == 0)
        return HANSA_OK;
    a->severity = inc.severity;
    uint32_t event_no = inc.next_event++;
    uint8_t *bytes = NULL;
    size_t len = 0;
    rv = encode(ctx, a, kind, inc_id, event_no, &bytes, &len);
    if (rv == HANSA_OK)
        rv = risk_incident_put(ctx, inc_id, &inc);
    uint8_t log_key[RISK_LOG_KEY_BYTES];
    risk_log_key(log_key, ctx->b->height, ctx->next_ordinal);
    if (rv == HANSA_OK)
        rv = risk_raw_put(ctx, log_key, sizeof log_key, bytes, len);
    char *aud[RISK_ALERT_PARTIES_MAX];
    size_t n_aud = audience(a, aud);
    for (size_t i = 0; rv == HANSA_OK && i < n_aud; i++)
        rv = write_index(ctx, "x/p/", aud[i], log_key);
    if (rv == HANSA_OK)
        rv = write_index(ctx, "x/r/", ctx->rule->id, log_key);
    if (rv == HANSA_OK)
        rv = append(ctx, bytes, len);
    if (rv != HANSA_OK) {
        free(bytes);
        return rv;
    }
    ctx->next_ordinal++;
    if (emitted != NULL)
        *emitted = true;
    return HANSA_OK;
}

void risk_alert_discard(struct risk_alert *a)
{
    if (a != NULL && a != &oom_alert)
        alert_free(a);
}

hansa_err risk_alert_emit(struct risk_ctx *ctx, struct risk_alert *a, Hansa__AlertKind kind,
                          bool *emitted)
{
    if (emitted != NULL)
        *emitted = false;
    if (a == &oom_alert)
        return HANSA_ENOMEM;
    hansa_err rv = a->err != HANSA_OK ? a->err : emit(ctx, a, kind, emitted);
    alert_free(a);
    return rv;
}

/* ---- small shared helpers ---- */

const char *risk_severity_name(Hansa__Severity s)
{
    switch (s) {
    case HANSA__SEVERITY__SEVERITY_INFO:
        return "INFO";
    case HANSA__SEVERITY__SEVERITY_LOW:
        return "LOW";
    case HANSA__SEVERITY__SEVERITY_MEDIUM:
        return "MEDIUM";
    case HANSA__SEVERITY__SEVERITY_HIGH:
        return "HIGH";
    case HANSA__SEVERITY__SEVERITY_CRITICAL:
        return "CRITICAL";
    default:
        return "UNSPECIFIED";
    }
}

bool risk_severity_parse(const char *s, Hansa__Severity *out)
{
    for (int v = HANSA__SEVERITY__SEVERITY_INFO; v <= HANSA__SEVERITY__SEVERITY_CRITICAL; v++)
        if (strcmp(s, risk_severity_name((Hansa__Severity)v)) == 0) {
            *out = (Hansa__Severity)v;
            return true;
        }
    return false;
}

void risk_iso_week(uint64_t time_ms, char out[12])
{
    int64_t days = (int64_t)((time_ms + UINT64_C(8) * 3600 * 1000) / 86400000);
    int64_t wd = (days + 3) % 7 + 1; /* 1970-01-01 was a Thursday: 1 = Monday */
    int64_t thursday = days - wd + 4;
    int64_t y;
    unsigned m, d;
    hansa_civil_from_days(thursday, &y, &m, &d);
    int64_t week = (thursday - hansa_days_from_civil(y, 1, 1)) / 7 + 1;
    HANSA_ASSERT(y >= 0 && y <= 9999 && week >= 1 && week <= 53);
    snprintf(out, 12, "%04u-W%02u", (unsigned)y % 10000u, (unsigned)week % 100u);
}
