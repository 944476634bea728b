/*
 * GetAlerts (RISK.md "Subscriptions"): alerts in cursor order strictly
 * after a cursor, filtered, limited to what the reader may see, with a
 * long-poll when nothing matches yet.
 *
 * Access: a regulator sees every alert; any other party only alerts whose
 * audience lists it. The second is enforced by construction: such a reader
 * is served from its own audience index (x/p/<reader>/ in the alerts
 * family, node/risk/risk.h), so an alert it may not see is never even
 * loaded. Filters (rules, minimum severity, party, subject, kinds) only
 * narrow what the reader may see.
 *
 * Bounds: one request examines at most API_ALERTS_SCAN_MAX log entries;
 * the page then ends early and next_cursor (the last entry examined) lets
 * the caller continue, so a selective filter over a long log costs several
 * cheap requests instead of one unbounded one.
 *
 * Retention: a cursor older than the newest alert retention deleted gets
 * ERROR_CURSOR_EXPIRED with the page's cursor_expired and earliest_cursor
 * set: never a silent gap.
 *
 * Long-poll: with wait_ms > 0 and nothing to return, the request parks
 * (api_park) until the risk thread commits new alerts (api_on_alerts) or
 * the wait ends; it then looks again and, if still nothing matches and time
 * remains, parks again.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "hansa/assert.h"
#include "log.h"
#include "risk.h"

#define ERR(x) HANSA__ERROR_CODE__ERROR_##x

/* GetAlerts.limit (hansa.proto): 1-1,000, 0 = 100. */
#define API_ALERTS_LIMIT_MAX     1000u
#define API_ALERTS_LIMIT_DEFAULT 100u
/* Rule ids in one filter (hansa.proto: at most 32). */
#define API_ALERTS_RULES_MAX 32u
/* Log entries one request examines. */
#define API_ALERTS_SCAN_MAX 10000u

struct cursor {
    uint64_t height;
    uint32_t ordinal;
};

static int cursor_cmp(struct cursor a, struct cursor b)
{
    if (a.height != b.height)
        return a.height < b.height ? -1 : 1;
    return (a.ordinal > b.ordinal) - (a.ordinal < b.ordinal);
}

static void cursor_bytes(uint8_t out[12], struct cursor c)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(c.height >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        out[8 + i] = (uint8_t)(c.ordinal >> (24 - 8 * i));
}

static struct cursor cursor_of(const uint8_t b[12])
{
    struct cursor c = {0, 0};
    for (int i = 0; i < 8; i++)
        c.height = c.height << 8 | b[i];
    for (int i = 8; i < 12; i++)
        c.ordinal = c.ordinal << 8 | b[i];
    return c;
}

static Hansa__Cursor *cursor_msg(struct api_ctx *c, struct cursor v)
{
    Hansa__Cursor *m = api_alloc(c, sizeof *m);
    if (m != NULL) {
        hansa__cursor__init(m);
        m->height = v.height;
        m->ordinal = v.ordinal;
    }
    return m;
}

/* ---- filters ---- */

static bool check_request(struct api_ctx *c, Hansa__Response *resp, const Hansa__GetAlerts *g)
{
    if (g->limit > API_ALERTS_LIMIT_MAX) {
        api_fail(c, resp, ERR(BAD_REQUEST), "limit %u is above %u", (unsigned)g->limit,
                 API_ALERTS_LIMIT_MAX);
        return false;
    }
    if (g->wait_ms > API_WAIT_MS_MAX) {
        api_fail(c, resp, ERR(BAD_REQUEST), "wait_ms %u is above the limit of %u",
                 (unsigned)g->wait_ms, API_WAIT_MS_MAX);
        return false;
    }
    if (g->n_rule_ids > API_ALERTS_RULES_MAX) {
        api_fail(c, resp, ERR(BAD_REQUEST), "%zu rule ids: at most %u", g->n_rule_ids,
                 API_ALERTS_RULES_MAX);
        return false;
    }
    if (g->min_severity < 0 || g->min_severity > HANSA__SEVERITY__SEVERITY_CRITICAL) {
        api_fail(c, resp, ERR(BAD_REQUEST), "min_severity %d is not a severity",
                 (int)g->min_severity);
        return false;
    }
    for (size_t i = 0; i < g->n_kinds; i++)
        if (g->kinds[i] < HANSA__ALERT_KIND__ALERT_KIND_NEW ||
            g->kinds[i] > HANSA__ALERT_KIND__ALERT_KIND_RESOLVED) {
            api_fail(c, resp, ERR(BAD_REQUEST), "kinds[%zu] = %d is not an alert kind", i,
                     (int)g->kinds[i]);
            return false;
        }
    if (g->party != NULL && strlen(g->party) > HANSA_ID_LEN_MAX) {
        api_fail(c, resp, ERR(BAD_REQUEST), "party is longer than %u characters", HANSA_ID_LEN_MAX);
        return false;
    }
    return true;
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool matches(const Hansa__GetAlerts *g, const Hansa__Alert *a)
{
    if (g->n_rule_ids > 0) {
        bool any = false;
        for (size_t i = 0; i < g->n_rule_ids && !any; i++)
            any = str_eq(g->rule_ids[i], a->rule_id);
        if (!any)
            return false;
    }
    if (g->min_severity != HANSA__SEVERITY__SEVERITY_UNSPECIFIED && a->severity < g->min_severity)
        return false;
    if (g->n_kinds > 0) {
        bool any = false;
        for (size_t i = 0; i < g->n_kinds && !any; i++)
            any = g->kinds[i] == a->kind;
        if (!any)
            return false;
    }
    if (g->party != NULL && g->party[0] != '\0') {
        bool any = false;
        for (size_t i = 0; i < a->n_parties && !any; i++)
            any = str_eq(a->parties[i]->party_id, g->party);
        if (!any)
            return false;
    }
    if (g->subject != NULL) {
        bool any = false;
        for (size_t i = 0; i < a->n_subjects && !any; i++) {
            const Hansa__EntityRef *s = a->subjects[i];
            any = s->type == g->subject->type && str_eq(s->owner, g->subject->owner) &&
                  str_eq(s->id, g->subject->id);
        }
        if (!any)
            return false;
    }
    return true;
}

/* ---- the scan ---- */

struct page {
    struct api_ctx *c;
    const Hansa__GetAlerts *g;
    size_t prefix_len;
    bool from_index; /* keys are index entries: load the alert from a/ */
    uint32_t limit;
    Hansa__Alert **alerts;
    size_t n;
    size_t examined;
    struct cursor next;
    bool bounded; /* stopped by API_ALERTS_SCAN_MAX */
    hansa_err err;
};

static bool page_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                       size_t val_len)
{
    struct page *p = arg;
    if (p->examined == API_ALERTS_SCAN_MAX) {
        p->bounded = true;
        return false;
    }
    if (key_len != p->prefix_len + 12) {
        p->err = HANSA_EFORMAT;
        return false;
    }
    struct cursor cur = cursor_of(key + p->prefix_len);
    uint8_t *loaded = NULL;
    size_t loaded_len = 0;
    if (p->from_index) {
        uint8_t log_key[RISK_LOG_KEY_BYTES];
        risk_log_key(log_key, cur.height, cur.ordinal);
        p->err = store_get(p->c->api->deps.store, STORE_ALERTS, log_key, sizeof log_key, &loaded,
                           &loaded_len);
        if (p->err == HANSA_ENOENT) { /* pruned between index and log: skip */
            p->err = HANSA_OK;
            p->examined++;
            p->next = cur;
            return true;
        }
        if (p->err != HANSA_OK)
            return false;
        val = loaded;
        val_len = loaded_len;
    }
    Hansa__Alert *a = NULL;
    p->err = wire_decode(&hansa__alert__descriptor, val, val_len, 4 * val_len + 4096, WIRE_LENIENT,
                         (ProtobufCMessage **)&a);
    free(loaded);
    if (p->err != HANSA_OK)
        return false;
    p->examined++;
    p->next = cur;
    if (!matches(p->g, a)) {
        wire_free(a);
        return true;
    }
    if (!api_keep(p->c, a, wire_free)) {
        p->err = HANSA_ENOMEM;
        return false;
    }
    p->alerts[p->n++] = a;
    return p->n < p->limit;
}

/* Scan prefix (alerts family) after `after`. */
static hansa_err scan(struct page *p, const uint8_t *prefix, size_t prefix_len, struct cursor after)
{
    uint8_t from[4 + HANSA_ID_LEN_MAX + 1 + 12];
    HANSA_ASSERT(prefix_len + 12 <= sizeof from);
    memcpy(from, prefix, prefix_len);
    struct cursor start = after;
    if (start.ordinal == UINT32_MAX && start.height == UINT64_MAX)
        return HANSA_OK; /* nothing can follow the last possible cursor */
    if (start.ordinal == UINT32_MAX) {
        start.height++;
        start.ordinal = 0;
    } else {
        start.ordinal++;
    }
    cursor_bytes(from + prefix_len, start);
    p->prefix_len = prefix_len;
    hansa_err rv = store_scan(p->c->api->deps.store, STORE_ALERTS, prefix, prefix_len, from,
                              prefix_len + 12, page_visit, p);
    return rv != HANSA_OK ? rv : p->err;
}

/* Which key range to walk: the reader's audience index unless the reader
 * is a regulator; for a regulator the narrowest index a filter names. */
static size_t choose_prefix(const struct api_ctx *c, const Hansa__GetAlerts *g, uint8_t *buf,
                            bool *from_index)
{
    const char *kind = NULL, *name = NULL;
    if (!c->reader.regulator) {
        kind = "x/p/";
        name = c->reader.id;
    } else if (g->party != NULL && g->party[0] != '\0') {
        kind = "x/p/";
        name = g->party;
    } else if (g->n_rule_ids == 1 && strlen(g->rule_ids[0]) <= HANSA_ID_LEN_MAX) {
        kind = "x/r/";
        name = g->rule_ids[0];
    }
    if (kind == NULL) {
        *from_index = false;
        memcpy(buf, "a/", 2);
        return 2;
    }
    *from_index = true;
    size_t nl = strlen(name);
    memcpy(buf, kind, 4);
    memcpy(buf + 4, name, nl);
    buf[4 + nl] = '/';
    return 5 + nl;
}

static void answer(struct api_ctx *c, Hansa__Response *resp, struct page *p, struct cursor head,
                   uint64_t processed)
{
    Hansa__AlertPage *pg = api_alloc(c, sizeof *pg);
    if (pg == NULL)
        return;
    hansa__alert_page__init(pg);
    pg->alerts = p->alerts;
    pg->n_alerts = p->n;
    pg->next_cursor = cursor_msg(c, p->next);
    pg->head_cursor = cursor_msg(c, head);
    pg->processed_height = processed;
    resp->kind_case = HANSA__RESPONSE__KIND_ALERTS;
    resp->alerts = pg;
}

static void expired(struct api_ctx *c, Hansa__Response *resp, struct cursor after,
                    struct cursor pruned, struct cursor head, uint64_t processed)
{
    api_fail(c, resp, ERR(CURSOR_EXPIRED),
             "cursor (%" PRIu64
             ", %u) is older than retention: the earliest valid cursor is (%" PRIu64 ", %u)",
             after.height, after.ordinal, pruned.height, pruned.ordinal);
    Hansa__AlertPage *pg = api_alloc(c, sizeof *pg);
    if (pg == NULL)
        return;
    hansa__alert_page__init(pg);
    pg->next_cursor = cursor_msg(c, after);
    pg->head_cursor = cursor_msg(c, head);
    pg->cursor_expired = true;
    pg->earliest_cursor = cursor_msg(c, pruned);
    pg->processed_height = processed;
    resp->kind_case = HANSA__RESPONSE__KIND_ALERTS;
    resp->alerts = pg;
}

bool api_read_alerts(struct api_ctx *c, Hansa__Response *resp, bool may_wait)
{
    const Hansa__GetAlerts *g = c->query->alerts;
    struct api *api = c->api;
    if (!check_request(c, resp, g))
        return true;
    struct cursor after = {g->after ? g->after->height : 0, g->after ? g->after->ordinal : 0};
    struct cursor head, pruned;
    uint64_t processed = 0;
    hansa_err rv =
        store_meta_cursor(api->deps.store, STORE_META_RISK_HEAD, &head.height, &head.ordinal);
    if (rv == HANSA_OK)
        rv = store_meta_cursor(api->deps.store, STORE_META_RISK_PRUNED, &pruned.height,
                               &pruned.ordinal);
    if (rv == HANSA_OK)
        rv = store_meta_u64(api->deps.store, STORE_META_RISK_HEIGHT, &processed);
    if (rv != HANSA_OK) {
        api_fail_storage(c, resp, "alerts: meta", rv);
        return true;
    }
    if (pruned.height > 0 && cursor_cmp(after, pruned) < 0) {
        expired(c, resp, after, pruned, head, processed);
        return true;
    }
    uint32_t limit = g->limit == 0 ? API_ALERTS_LIMIT_DEFAULT : g->limit;
    struct page p = {.c = c, .g = g, .limit = limit, .next = after};
    p.alerts = api_alloc(c, limit * sizeof *p.alerts);
    if (p.alerts == NULL)
        return true; /* api_alloc answered ERROR_INTERNAL */
    uint8_t prefix[4 + HANSA_ID_LEN_MAX + 1];
    size_t prefix_len = choose_prefix(c, g, prefix, &p.from_index);
    rv = scan(&p, prefix, prefix_len, after);
    if (rv != HANSA_OK) {
        api_fail_storage(c, resp, "alerts: scan", rv);
        return true;
    }
    if (p.n == 0 && !p.bounded && may_wait && g->wait_ms > 0) {
        uint64_t deadline = c->deadline_ms != 0 ? c->deadline_ms : api_now_ms(api) + g->wait_ms;
        uint64_t serial = 0;
        Hansa__ErrorCode code = api_park(c, deadline, &serial);
        if (code != ERR(NONE)) {
            api_fail(c, resp, code,
                     code == ERR(BUSY) ? "too many waits are parked; poll again later"
                                       : "the node is stopping; try another node");
            return true;
        }
        /* Parked: c belongs to whoever unparks it. An alert committed
         * between the scan and the park would not wake us: look at the
         * head once more. */
        struct cursor now;
        rv = store_meta_cursor(api->deps.store, STORE_META_RISK_HEAD, &now.height, &now.ordinal);
        if (rv == HANSA_OK && cursor_cmp(now, head) == 0)
            return false;
        if (!api_unpark(api, c, serial))
            return false;
        /* What arrived may not be for this reader: wait on if time remains. */
        return api_read_alerts(c, resp, api_now_ms(api) < c->deadline_ms);
    }
    answer(c, resp, &p, head, processed);
    return true;
}
