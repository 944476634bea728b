/*
 * CIRCULAR (RISK.md): B2B orders forming a cycle of 2-4 parties (A sells to
 * B ... sells back to A) within 90 days, each hop's amount within +-10 % of
 * the first hop's, all orders sharing an HS-4 code on some line (HIGH).
 * Goods that go round in a circle create receivables - and financing - out
 * of nothing; each bank sees only its own client's leg.
 *
 * The trade graph: a B2B order is an edge seller -> buyer. The seller is
 * the order's merchant; the buyer is CreateOrder.buyer_party, which the
 * ledger requires for every B2B order (admission) and requires to be a
 * registered party (execution), so the graph is keyed by party ids and the
 * buyer commitment is not needed. Other trade modes have no buyer party
 * and are not edges; nor is an order naming its own merchant as buyer.
 *
 * Input: the block's history entries: an order's creation (the entry whose
 * tx id is the order's created_tx_id) adds an edge after searching for the
 * cycles it closes; a CancelOrder that leaves it CANCELLED removes it.
 *
 * State: one key per edge, grouped by seller so a party's outgoing edges
 * are one prefix scan, in time order:
 *     "e" <u8 len><seller> <be64 created_ms> <u8 len><order_no>
 *   -> <u8 len><buyer> be64 actual_paid_minor, 3-byte currency, 32-byte
 *      create tx id, be64 height, be32 tx index, u8 n, n x be16 HS-4 codes
 *      (distinct, ascending).
 * A timer per edge (same key) deletes it when it leaves the window, and a
 * seller keeps at most edges_per_party_max edges (the oldest go first), so
 * the state is bounded by the window and by that cap.
 *
 * The search, when order o = A -> B is created at time t: a depth-first
 * walk over edges B -> ... -> A of at most max_parties - 1 hops through
 * distinct parties, in key order (deterministic). An edge is followed only
 * if it is inside the window (t - window, t], in o's currency, shares an
 * HS-4 code with every edge so far, and its amount is within reach of o's:
 * all hops within +-tol of a first amount f means any two amounts x, y
 * satisfy x (1 - tol) <= y (1 + tol), a necessary condition checked by
 * cross-multiplying. A closed cycle is then checked exactly against its
 * first hop (the earliest by height and tx index). Every edge read counts
 * against search_edges_max; when that budget is spent the search stops.
 *
 * Invariants and edge decisions:
 *   1. Hops need not be in time order: a cycle in the graph within the
 *      window is suspicious whichever leg came first.
 *   2. All amounts are compared in o's currency only (RISK.md).
 *   3. One incident per set of parties: dedup key "cycle/<p1>/<p2>/..." with
 *      the party ids sorted; a later order re-closing the same cycle adds
 *      nothing while the incident is open.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hansa/assert.h"

enum {
    P_WINDOW,
    P_MAX_PARTIES,
    P_AMOUNT_TOLERANCE_BPS,
    P_EDGES_PER_PARTY_MAX,
    P_SEARCH_EDGES_MAX,
    P_SEVERITY,
    P_COUNT
};

/* The longest cycle a ruleset may ask for (the walk's depth). */
#define CYCLE_PARTIES_MAX  6
#define HS4_MAX            HANSA_ORDER_LINES_MAX
#define EDGE_KEY_BYTES_MAX (1 + 1 + HANSA_ID_LEN_MAX + 8 + 1 + HANSA_ID_LEN_MAX)

static const struct risk_param_spec params[P_COUNT] = {
    [P_WINDOW] = {"window", RISK_P_DURATION, 90 * RISK_DAY_MS, 1000, 3650 * RISK_DAY_MS,
                  "orders of a cycle are created within this window"},
    [P_MAX_PARTIES] = {"max_parties", RISK_P_INT, 4, 2, CYCLE_PARTIES_MAX,
                       "longest cycle searched, in parties (2 = A -> B -> A)"},
    [P_AMOUNT_TOLERANCE_BPS] = {"amount_tolerance_bps", RISK_P_INT, 1000, 0, 5000,
                                "each hop's actual_paid within this many bps of the first hop's"},
    [P_EDGES_PER_PARTY_MAX] = {"edges_per_party_max", RISK_P_INT, 256, 1, 4096,
                               "latest B2B orders kept per seller for the search"},
    [P_SEARCH_EDGES_MAX] = {"search_edges_max", RISK_P_INT, 4096, 1, 1000000,
                            "edges read while searching the cycles of one new order"},
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH, 0, 0,
                    "severity of a cycle"},
};

/* ---- edges ---- */

struct edge {
    char seller[HANSA_ID_LEN_MAX + 1], buyer[HANSA_ID_LEN_MAX + 1];
    char order_no[HANSA_ID_LEN_MAX + 1];
    char currency[4];
    uint64_t time_ms, height;
    uint32_t tx_index;
    int64_t amount_minor;
    uint8_t tx_id[WIRE_HASH_BYTES];
    uint16_t hs4[HS4_MAX];
    size_t n_hs4;
};

static size_t party_prefix(uint8_t *p, const char *party)
{
    p[0] = 'e';
    return 1 + risk_key_put_id(p + 1, party);
}

static size_t edge_key(uint8_t *p, const char *seller, uint64_t time_ms, const char *order_no)
{
    size_t n = party_prefix(p, seller);
    risk_be64_put(p + n, time_ms);
    n += 8;
    return n + risk_key_put_id(p + n, order_no);
}

static size_t edge_value(uint8_t *p, const struct edge *e)
{
    size_t n = risk_key_put_id(p, e->buyer);
    risk_be64_put(p + n, (uint64_t)e->amount_minor);
    memcpy(p + n + 8, e->currency, 3);
    memcpy(p + n + 11, e->tx_id, WIRE_HASH_BYTES);
    n += 11 + WIRE_HASH_BYTES;
    risk_be64_put(p + n, e->height);
    risk_be32_put(p + n + 8, e->tx_index);
    p[n + 12] = (uint8_t)e->n_hs4;
    n += 13;
    for (size_t i = 0; i < e->n_hs4; i++, n += 2)
        risk_be16_put(p + n, e->hs4[i]);
    return n;
}

static bool edge_parse(const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len,
                       struct edge *e)
{
    const uint8_t *p = key, *end = key + key_len;
    if (key_len < 1 || *p++ != 'e' || !risk_key_get_id(&p, end, e->seller) || end - p < 8)
        return false;
    e->time_ms = risk_be64_get(p);
    p += 8;
    if (!risk_key_get_id(&p, end, e->order_no) || p != end)
        return false;
    p = val;
    end = val + val_len;
    if (!risk_key_get_id(&p, end, e->buyer) || (size_t)(end - p) < 11 + WIRE_HASH_BYTES + 13)
        return false;
    e->amount_minor = (int64_t)risk_be64_get(p);
    memcpy(e->currency, p + 8, 3);
    e->currency[3] = '\0';
    memcpy(e->tx_id, p + 11, WIRE_HASH_BYTES);
    p += 11 + WIRE_HASH_BYTES;
    e->height = risk_be64_get(p);
    e->tx_index = risk_be32_get(p + 8);
    e->n_hs4 = p[12];
    p += 13;
    if (e->n_hs4 > HS4_MAX || (size_t)(end - p) != 2 * e->n_hs4)
        return false;
    for (size_t i = 0; i < e->n_hs4; i++)
        e->hs4[i] = risk_be16_get(p + 2 * i);
    return true;
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* The edge of a B2B order; false if the order is no edge. */
static bool edge_of(const Hansa__HistoryEntry *h, const Hansa__Order *o, struct edge *e)
{
    const Hansa__CreateOrder *d = o->document;
    if (d->trade_mode != HANSA__TRADE_MODE__TRADE_MODE_B2B || d->buyer_party == NULL ||
        d->buyer_party[0] == '\0' || strcmp(d->buyer_party, d->merchant) == 0 ||
        strlen(d->merchant) > HANSA_ID_LEN_MAX || strlen(d->buyer_party) > HANSA_ID_LEN_MAX ||
        strlen(d->order_no) > HANSA_ID_LEN_MAX || strlen(d->currency) != 3 ||
        o->created_tx_id.len != WIRE_HASH_BYTES)
        return false;
    memset(e, 0, sizeof *e);
    strcpy(e->seller, d->merchant);
    strcpy(e->buyer, d->buyer_party);
    strcpy(e->order_no, d->order_no);
    memcpy(e->currency, d->currency, 4);
    e->time_ms = o->created_ms;
    e->height = o->created_height;
    e->tx_index = h->tx_index;
    e->amount_minor = d->actual_paid_minor;
    memcpy(e->tx_id, o->created_tx_id.data, WIRE_HASH_BYTES);
    for (size_t i = 0; i < d->n_items && e->n_hs4 < HS4_MAX; i++) {
        const char *hs = d->items[i]->hs_code;
        if (strnlen(hs, 4) < 4)
            continue;
        e->hs4[e->n_hs4++] = (uint16_t)((hs[0] - '0') * 1000 + (hs[1] - '0') * 100 +
                                        (hs[2] - '0') * 10 + hs[3] - '0');
    }
    qsort(e->hs4, e->n_hs4, sizeof e->hs4[0], cmp_u16);
    size_t k = 0;
    for (size_t i = 0; i < e->n_hs4; i++)
        if (k == 0 || e->hs4[k - 1] != e->hs4[i])
            e->hs4[k++] = e->hs4[i];
    e->n_hs4 = k;
    return e->n_hs4 > 0;
}

/* A party's edges, in key (time) order, newer than cutoff_ms. */
struct edges {
    struct edge *v;
    size_t n, cap;
    size_t read; /* edges visited, inside the window or not */
    uint64_t cutoff_ms;
    hansa_err err;
};

static bool edges_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    struct edges *l = arg;
    l->read++;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        struct edge *v = realloc(l->v, cap * sizeof *v);
        if (v == NULL) {
            l->err = HANSA_ENOMEM;
            return false;
        }
        l->v = v;
        l->cap = cap;
    }
    struct edge *e = &l->v[l->n];
    if (!edge_parse(key, key_len, val, val_len, e)) {
        l->err = HANSA_EFORMAT;
        return false;
    }
    if (e->time_ms > l->cutoff_ms)
        l->n++;
    return true;
}

static hansa_err edges_load(struct risk_ctx *ctx, const char *party, uint64_t cutoff_ms,
                            struct edges *l)
{
    uint8_t prefix[2 + HANSA_ID_LEN_MAX];
    *l = (struct edges){.cutoff_ms = cutoff_ms};
    hansa_err rv = risk_scan(ctx, prefix, party_prefix(prefix, party), edges_visit, l);
    if (rv == HANSA_OK)
        rv = l->err;
    if (rv != HANSA_OK) {
        free(l->v);
        *l = (struct edges){0};
    }
    return rv;
}

/* ---- the search ---- */

struct search {
    struct risk_ctx *ctx;
    const struct edge *e0; /* the new order: A -> B */
    uint64_t cutoff_ms;
    int64_t tol_bps;
    size_t hops_max; /* edges after e0 */
    size_t budget;   /* edges that may still be read */
    const struct edge *path[CYCLE_PARTIES_MAX];
    uint16_t hs4[CYCLE_PARTIES_MAX][HS4_MAX]; /* common codes after path[i] */
    size_t n_hs4[CYCLE_PARTIES_MAX];
};

/* x and y can both lie within +-tol of one amount. */
static bool amounts_may_pair(int64_t x, int64_t y, int64_t tol_bps)
{
    __int128 lo = RISK_BPS - tol_bps, hi = RISK_BPS + tol_bps;
    return (__int128)x * lo <= (__int128)y * hi && (__int128)y * lo <= (__int128)x * hi;
}

static size_t hs4_intersect(const uint16_t *a, size_t na, const uint16_t *b, size_t nb,
                            uint16_t *out)
{
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j])
            i++;
        else if (a[i] > b[j])
            j++;
        else {
            out[k++] = a[i];
            i++, j++;
        }
    }
    return k;
}

static bool visited(const struct search *s, size_t depth, const char *party)
{
    if (strcmp(party, s->e0->seller) == 0 || strcmp(party, s->e0->buyer) == 0)
        return true;
    for (size_t i = 0; i < depth; i++)
        if (strcmp(party, s->path[i]->buyer) == 0)
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool before(const struct edge *a, const struct edge *b)
{
    return a->height < b->height || (a->height == b->height && a->tx_index < b->tx_index);
}

static hansa_err report(struct search *s, const struct edge *const *cyc, size_t n,
                        const uint16_t *hs4, size_t n_hs4)
{
    struct risk_ctx *ctx = s->ctx;
    /* Start the cycle at its earliest hop. */
    size_t first = 0;
    for (size_t i = 1; i < n; i++)
        if (before(cyc[i], cyc[first]))
            first = i;
    const struct edge *f = cyc[first];
    const char *ids[CYCLE_PARTIES_MAX];
    char dedup[8 + CYCLE_PARTIES_MAX * (HANSA_ID_LEN_MAX + 1)] = "cycle";
    char route[CYCLE_PARTIES_MAX * (HANSA_ID_LEN_MAX + 4) + HANSA_ID_LEN_MAX + 1] = "";
    for (size_t i = 0; i < n; i++)
        ids[i] = cyc[i]->seller;
    qsort(ids, n, sizeof ids[0], cmp_str);
    for (size_t i = 0; i < n; i++) {
        strcat(dedup, "/");
        strcat(dedup, ids[i]);
        strcat(route, cyc[(first + i) % n]->seller);
        strcat(route, " -> ");
    }
    strcat(route, f->seller);
    uint64_t t_min = cyc[0]->time_ms, t_max = cyc[0]->time_ms;
    for (size_t i = 1; i < n; i++) {
        t_min = cyc[i]->time_ms < t_min ? cyc[i]->time_ms : t_min;
        t_max = cyc[i]->time_ms > t_max ? cyc[i]->time_ms : t_max;
    }

    struct risk_alert *a = risk_alert_new(ctx, dedup, (Hansa__Severity)risk_param(ctx, P_SEVERITY));
    char field[32], exp[96], obs[2 * RISK_EVIDENCE_VALUE_MAX]; /* cut to the cap when added */
    snprintf(exp, sizeof exp, "within %" PRId64 " bps of %" PRId64 " %s", s->tol_bps,
             f->amount_minor, f->currency);
    for (size_t i = 0; i < n; i++) {
        const struct edge *e = cyc[(first + i) % n];
        risk_alert_tx(a, e->tx_id);
        risk_alert_party(a, HANSA__ROLE__ROLE_MERCHANT, e->seller);
        risk_alert_subject(a, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, e->seller, e->order_no);
        snprintf(field, sizeof field, "hop%zu", i + 1);
        snprintf(obs, sizeof obs, "%s -> %s order %s: %" PRId64 " %s", e->seller, e->buyer,
                 e->order_no, e->amount_minor, e->currency);
        risk_alert_evidence(a, field, exp, obs, e->tx_id);
    }
    size_t used = 0;
    for (size_t i = 0; i < n_hs4 && used + 6 < sizeof obs; i++)
        used += (size_t)snprintf(obs + used, sizeof obs - used, "%s%04u", i ? "," : "",
                                 (unsigned)hs4[i]);
    risk_alert_evidence(a, "order.hs4", "shared by every order", obs, NULL);
    snprintf(exp, sizeof exp, "< %" PRId64, risk_param(ctx, P_WINDOW));
    snprintf(obs, sizeof obs, "%" PRIu64, t_max - t_min);
    risk_alert_evidence(a, "cycle.span_ms", exp, obs, NULL);
    risk_alert_message(a,
                       "B2B orders %s form a %zu-party cycle in HS %04u, each hop within %" PRId64
                       " bps of %" PRId64 " %s, within %" PRIu64 " ms.",
                       route, n, (unsigned)hs4[0], s->tol_bps, f->amount_minor, f->currency,
                       t_max - t_min);
    return risk_alert_emit(ctx, a, HANSA__ALERT_KIND__ALERT_KIND_NEW, NULL);
}

/* path[0..depth) closes the cycle: check every hop against the first. */
static hansa_err closed(struct search *s, size_t depth)
{
    const struct edge *cyc[CYCLE_PARTIES_MAX + 1];
    size_t n = 0, first = 0;
    cyc[n++] = s->e0;
    for (size_t i = 0; i < depth; i++)
        cyc[n++] = s->path[i];
    for (size_t i = 1; i < n; i++)
        if (before(cyc[i], cyc[first]))
            first = i;
    __int128 f = cyc[first]->amount_minor;
    for (size_t i = 0; i < n; i++) {
        __int128 d = cyc[i]->amount_minor - f;
        if ((d < 0 ? -d : d) * RISK_BPS > f * s->tol_bps)
            return HANSA_OK;
    }
    return report(s, cyc, n, s->hs4[depth - 1], s->n_hs4[depth - 1]);
}

/* Follow the edges of party, which path[0..depth) reached. */
static hansa_err walk(struct search *s, const char *party, size_t depth)
{
    if (s->budget == 0)
        return HANSA_OK;
    struct edges l;
    hansa_err rv = edges_load(s->ctx, party, s->cutoff_ms, &l);
    if (rv != HANSA_OK)
        return rv;
    s->budget = l.read >= s->budget ? 0 : s->budget - l.read;
    const uint16_t *hs = depth == 0 ? s->e0->hs4 : s->hs4[depth - 1];
    size_t n_hs = depth == 0 ? s->e0->n_hs4 : s->n_hs4[depth - 1];
    for (size_t i = 0; rv == HANSA_OK && i < l.n; i++) {
        const struct edge *e = &l.v[i];
        bool home = strcmp(e->buyer, s->e0->seller) == 0;
        if (strcmp(e->currency, s->e0->currency) != 0 ||
            !amounts_may_pair(e->amount_minor, s->e0->amount_minor, s->tol_bps) ||
            (!home && (visited(s, depth, e->buyer) || depth + 1 >= s->hops_max)))
            continue;
        s->n_hs4[depth] = hs4_intersect(hs, n_hs, e->hs4, e->n_hs4, s->hs4[depth]);
        if (s->n_hs4[depth] == 0)
            continue;
        s->path[depth] = e;
        rv = home ? closed(s, depth + 1) : walk(s, e->buyer, depth + 1);
    }
    free(l.v);
    return rv;
}

/* ---- edges in and out ---- */

static hansa_err edge_add(struct risk_ctx *ctx, const struct edge *e)
{
    uint8_t key[EDGE_KEY_BYTES_MAX];
    uint8_t val[1 + HANSA_ID_LEN_MAX + 11 + WIRE_HASH_BYTES + 13 + 2 * HS4_MAX];
    size_t kl = edge_key(key, e->seller, e->time_ms, e->order_no);
    uint64_t window_ms = (uint64_t)risk_param(ctx, P_WINDOW);
    hansa_err rv = risk_put(ctx, key, kl, val, edge_value(val, e));
    if (rv == HANSA_OK)
        rv = risk_timer_set(ctx, e->time_ms + window_ms, key, kl);
    /* Keep the seller's latest edges_per_party_max. */
    struct edges l = {0};
    if (rv == HANSA_OK)
        rv = edges_load(ctx, e->seller, 0, &l);
    size_t cap = (size_t)risk_param(ctx, P_EDGES_PER_PARTY_MAX);
    for (size_t i = 0; rv == HANSA_OK && i + cap < l.n; i++) {
        kl = edge_key(key, l.v[i].seller, l.v[i].time_ms, l.v[i].order_no);
        rv = risk_put(ctx, key, kl, NULL, 0);
        if (rv == HANSA_OK)
            rv = risk_timer_cancel(ctx, l.v[i].time_ms + window_ms, key, kl);
    }
    free(l.v);
    return rv;
}

static hansa_err on_created(struct risk_ctx *ctx, const Hansa__HistoryEntry *h,
                            const Hansa__Order *o)
{
    struct edge *e0 = malloc(sizeof *e0);
    struct search *s = malloc(sizeof *s);
    hansa_err rv = e0 != NULL && s != NULL ? HANSA_OK : HANSA_ENOMEM;
    if (rv == HANSA_OK && edge_of(h, o, e0)) {
        uint64_t window_ms = (uint64_t)risk_param(ctx, P_WINDOW);
        *s = (struct search){
            .ctx = ctx,
            .e0 = e0,
            .cutoff_ms = risk_window_start_ms(e0->time_ms, window_ms),
            .tol_bps = risk_param(ctx, P_AMOUNT_TOLERANCE_BPS),
            .hops_max = (size_t)risk_param(ctx, P_MAX_PARTIES) - 1,
            .budget = (size_t)risk_param(ctx, P_SEARCH_EDGES_MAX),
        };
        HANSA_ASSERT(s->hops_max >= 1 && s->hops_max < CYCLE_PARTIES_MAX);
        rv = walk(s, e0->buyer, 0);
        if (rv == HANSA_OK)
            rv = edge_add(ctx, e0);
    }
    free(e0);
    free(s);
    return rv;
}

static hansa_err on_cancelled(struct risk_ctx *ctx, const Hansa__Order *o)
{
    const Hansa__CreateOrder *d = o->document;
    if (d->trade_mode != HANSA__TRADE_MODE__TRADE_MODE_B2B ||
        strlen(d->merchant) > HANSA_ID_LEN_MAX || strlen(d->order_no) > HANSA_ID_LEN_MAX)
        return HANSA_OK;
    uint8_t key[EDGE_KEY_BYTES_MAX];
    size_t kl = edge_key(key, d->merchant, o->created_ms, d->order_no);
    hansa_err rv = risk_put(ctx, key, kl, NULL, 0);
    if (rv == HANSA_OK)
        rv = risk_timer_cancel(ctx, o->created_ms + (uint64_t)risk_param(ctx, P_WINDOW), key, kl);
    return rv;
}

/* An edge left the window. */
static hansa_err on_timer(struct risk_ctx *ctx, const uint8_t *key, size_t key_len, uint64_t due_ms)
{
    (void)due_ms;
    if (key_len == 0 || key[0] != 'e')
        return HANSA_OK;
    return risk_put(ctx, key, key_len, NULL, 0);
}

static hansa_err on_block(struct risk_ctx *ctx)
{
    return risk_each_order_change(ctx, on_created, on_cancelled);
}

const struct risk_rule risk_rule_circular = {
    .id = "CIRCULAR",
    .rev = 1,
    .summary = "B2B orders forming a cycle of 2-4 parties with similar amounts and a shared HS-4",
    .params = params,
    .n_params = P_COUNT,
    .on_block = on_block,
    .on_timer = on_timer,
};
