/*
 * The read questions of a verified SignedQuery: one record, a borrower's
 * exposure, a party's records, an entity's history, a block, the
 * parameters.
 *
 * Every answer follows the same steps: validate the question
 * (ERROR_BAD_REQUEST), load the record from committed state, decide with
 * read_rules.c, audit unless the record is the reader's own, answer or
 * refuse (ERROR_NOT_AUTHORIZED, with the same sentence whether or not the
 * record exists, so a refusal never tells an outsider what exists). A
 * record that does not exist is ERROR_NOT_FOUND for whoever could have
 * owned it and for regulators, and a refusal for everyone else.
 *
 * Answers point into records kept with the request (api_keep); they are
 * freed once the Response is encoded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "hansa/assert.h"

#define ERR(x) HANSA__ERROR_CODE__ERROR_##x

/* ---- records ---- */

const ProtobufCMessageDescriptor *api_record_descriptor(Hansa__Record__KindCase kind)
{
    switch (kind) {
    case HANSA__RECORD__KIND_PARTY:
        return &hansa__party__descriptor;
    case HANSA__RECORD__KIND_ORDER:
        return &hansa__order__descriptor;
    case HANSA__RECORD__KIND_PAYMENT:
        return &hansa__payment__descriptor;
    case HANSA__RECORD__KIND_WAYBILL:
        return &hansa__waybill__descriptor;
    case HANSA__RECORD__KIND_CREDIT_LINE:
        return &hansa__credit_line__descriptor;
    case HANSA__RECORD__KIND_FINANCING:
        return &hansa__financing__descriptor;
    case HANSA__RECORD__KIND_PROPOSAL:
        return &hansa__governance_proposal__descriptor;
    default:
        return NULL;
    }
}

hansa_err api_record_load(struct api_ctx *c, const char *key, Hansa__Record__KindCase kind,
                          Hansa__Record **out)
{
    *out = NULL;
    const ProtobufCMessageDescriptor *d = api_record_descriptor(kind);
    HANSA_ASSERT(d != NULL);
    void *m = NULL;
    hansa_err rv = api_state_load_kept(c, key, d, &m);
    if (rv != HANSA_OK)
        return rv;
    Hansa__Record *rec = api_alloc(c, sizeof *rec);
    if (rec == NULL)
        return HANSA_ENOMEM;
    hansa__record__init(rec);
    rec->kind_case = kind;
    switch (kind) {
    case HANSA__RECORD__KIND_PARTY:
        rec->party = m;
        break;
    case HANSA__RECORD__KIND_ORDER:
        rec->order = m;
        break;
    case HANSA__RECORD__KIND_PAYMENT:
        rec->payment = m;
        break;
    case HANSA__RECORD__KIND_WAYBILL:
        rec->waybill = m;
        break;
    case HANSA__RECORD__KIND_CREDIT_LINE:
        rec->credit_line = m;
        break;
    case HANSA__RECORD__KIND_FINANCING:
        rec->financing = m;
        break;
    default:
        rec->proposal = m;
        break;
    }
    *out = rec;
    return HANSA_OK;
}

/* ---- common steps ---- */

static bool ids_valid(const char *a, const char *b)
{
    return wire_id_valid(a) && wire_id_valid(b);
}

static void deny(struct api_ctx *c, Hansa__Response *resp, const char *key)
{
    api_fail(c, resp, ERR(NOT_AUTHORIZED), "%s may not read %s", c->reader.id, key);
}

/* Audit and answer per the verdict; true when the answer may be given. */
static bool permit(struct api_ctx *c, Hansa__Response *resp, const char *key, enum rules_verdict v)
{
    if (api_audit_verdict(c, key, v))
        return true;
    deny(c, resp, key);
    return false;
}

/* No record at key, which would belong to owner. */
static void missing(struct api_ctx *c, Hansa__Response *resp, const char *key, const char *owner)
{
    if (c->reader.regulator || strcmp(c->reader.id, owner) == 0) {
        api_fail(c, resp, ERR(NOT_FOUND), "no record %s", key);
        return;
    }
    api_audit(c, key, false);
    deny(c, resp, key);
}

/* Load the record at key: true with *rec set; false with resp answered. */
static bool load(struct api_ctx *c, Hansa__Response *resp, const char *key,
                 Hansa__Record__KindCase kind, const char *owner, Hansa__Record **rec)
{
    hansa_err rv = api_record_load(c, key, kind, rec);
    if (rv == HANSA_OK)
        return true;
    if (rv == HANSA_ENOENT)
        missing(c, resp, key, owner);
    else
        api_fail_storage(c, resp, key, rv);
    return false;
}

/* Decide and answer for a loaded record; true when it may be given. */
static bool decide(struct api_ctx *c, Hansa__Response *resp, const char *key,
                   const Hansa__Record *rec)
{
    enum rules_verdict v = RULES_DENY;
    hansa_err rv = rules_record(c->api->deps.store, &c->reader, rec, &v);
    if (rv != HANSA_OK) {
        api_fail_storage(c, resp, key, rv);
        return false;
    }
    return permit(c, resp, key, v);
}

/* ---- one record ---- */

void api_read_order(struct api_ctx *c, Hansa__Response *resp)
{
    const Hansa__OrderRef *ref = c->query->order->order;
    if (ref == NULL || !ids_valid(ref->merchant, ref->order_no)) {
        api_fail(c, resp, ERR(BAD_REQUEST), "the order must be named by merchant and order_no");
        return;
    }
    char key[RULES_KEY_BYTES_MAX];
    ledger_key_order(key, ref->merchant, ref->order_no);
    Hansa__Record *rec = NULL;
    if (!load(c, resp, key, HANSA__RECORD__KIND_ORDER, ref->merchant, &rec) ||
        !decide(c, resp, key, rec))
        return;
    resp->kind_case = HANSA__RESPONSE__KIND_ORDER;
    resp->order = rec->order;
}

/* The leg (payment or waybill) of an order named by its order: the leg's
 * key into key, or false with resp answered. */
static bool leg_of_order(struct api_ctx *c, Hansa__Response *resp, const Hansa__OrderRef *ref,
                         bool payment, char *key)
{
    if (ref == NULL || !ids_valid(ref->merchant, ref->order_no)) {
        api_fail(c, resp, ERR(BAD_REQUEST), "the order must be named by merchant and order_no");
        return false;
    }
    char okey[RULES_KEY_BYTES_MAX];
    ledger_key_order(okey, ref->merchant, ref->order_no);
    Hansa__Record *rec = NULL;
    if (!load(c, resp, okey, HANSA__RECORD__KIND_ORDER, ref->merchant, &rec))
        return false;
    const Hansa__Order *o = rec->order;
    if (payment && o->payment != NULL &&
        ids_valid(o->payment->institution, o->payment->pay_transaction_id)) {
        ledger_key_payment(key, o->payment->institution, o->payment->pay_transaction_id);
        return true;
    }
    if (!payment && o->waybill != NULL &&
        ids_valid(o->waybill->carrier, o->waybill->logistics_no)) {
        ledger_key_waybill(key, o->waybill->carrier, o->waybill->logistics_no);
        return true;
    }
    /* No leg yet: say so only to whoever may read the order. */
    if (decide(c, resp, okey, rec))
        api_fail(c, resp, ERR(NOT_FOUND), "order %s has no %s yet", okey,
                 payment ? "payment" : "waybill");
    return false;
}

void api_read_payment(struct api_ctx *c, Hansa__Response *resp)
{
    const Hansa__GetPayment *g = c->query->payment;
    char key[RULES_KEY_BYTES_MAX];
    const char *owner = "";
    if (g->by_case == HANSA__GET_PAYMENT__BY_PAYMENT && g->payment != NULL &&
        ids_valid(g->payment->institution, g->payment->pay_transaction_id)) {
        ledger_key_payment(key, g->payment->institution, g->payment->pay_transaction_id);
        owner = g->payment->institution;
    } else if (g->by_case == HANSA__GET_PAYMENT__BY_ORDER) {
        if (!leg_of_order(c, resp, g->order, true, key))
            return;
    } else {
        api_fail(c, resp, ERR(BAD_REQUEST),
                 "the payment must be named by institution and pay_transaction_id, or by its "
                 "order");
        return;
    }
    Hansa__Record *rec = NULL;
    if (!load(c, resp, key, HANSA__RECORD__KIND_PAYMENT, owner, &rec) || !decide(c, resp, key, rec))
        return;
    resp->kind_case = HANSA__RESPONSE__KIND_PAYMENT;
    resp->payment = rec->payment;
}

void api_read_waybill(struct api_ctx *c, Hansa__Response *resp)
{
    const Hansa__GetWaybill *g = c->query->waybill;
    char key[RULES_KEY_BYTES_MAX];
    const char *owner = "";
    if (g->by_case == HANSA__GET_WAYBILL__BY_WAYBILL && g->waybill != NULL &&
        ids_valid(g->waybill->carrier, g->waybill->logistics_no)) {
        ledger_key_waybill(key, g->waybill->carrier, g->waybill->logistics_no);
        owner = g->waybill->carrier;
    } else if (g->by_case == HANSA__GET_WAYBILL__BY_ORDER) {
        if (!leg_of_order(c, resp, g->order, false, key))
            return;
    } else {
        api_fail(c, resp, ERR(BAD_REQUEST),
                 "the waybill must be named by carrier and logistics_no, or by its order");
        return;
    }
    Hansa__Record *rec = NULL;
    if (!load(c, resp, key, HANSA__RECORD__KIND_WAYBILL, owner, &rec) || !decide(c, resp, key, rec))
        return;
    resp->kind_case = HANSA__RESPONSE__KIND_WAYBILL;
    resp->waybill = rec->waybill;
}

void api_read_line(struct api_ctx *c, Hansa__Response *resp)
{
    const Hansa__LineRef *ref = c->query->credit_line->line;
    if (ref == NULL || !ids_valid(ref->bank, ref->line_id)) {
        api_fail(c, resp, ERR(BAD_REQUEST), "the credit line must be named by bank and line_id");
        return;
    }
    char key[RULES_KEY_BYTES_MAX];
    ledger_key_line(key, ref->bank, ref->line_id);
    Hansa__Record *rec = NULL;
    if (!load(c, resp, key, HANSA__RECORD__KIND_CREDIT_LINE, ref->bank, &rec) ||
        !decide(c, resp, key, rec))
        return;
    resp->kind_case = HANSA__RESPONSE__KIND_CREDIT_LINE;
    resp->credit_line = rec->credit_line;
}

void api_read_financing(struct api_ctx *c, Hansa__Response *resp)
{
    const Hansa__FinancingRef *ref = c->query->financing->financing;
    if (ref == NULL || !ids_valid(ref->merchant, ref->financing_id)) {
        api_fail(c, resp, ERR(BAD_REQUEST),
                 "the financing must be named by merchant and financing_id");
        return;
    }
    char key[RULES_KEY_BYTES_MAX];
    ledger_key_financing(key, ref->merchant, ref->financing_id);
    Hansa__Record *rec = NULL;
    if (!load(c, resp, key, HANSA__RECORD__KIND_FINANCING, ref->merchant, &rec) ||
        !decide(c, resp, key, rec))
        return;
    resp->kind_case = HANSA__RESPONSE__KIND_FINANCING;
    resp->financing = rec->financing;
}

void api_read_party(struct api_ctx *c, Hansa__Response *resp)
{
    const char *id = c->query->party->party_id;
    if (!wire_id_valid(id)) {
        api_fail(c, resp, ERR(BAD_REQUEST), "party_id is not a valid party id");
        return;
    }
    char key[RULES_KEY_BYTES_MAX];
    ledger_key_party(key, id);
    Hansa__Record *rec = NULL;
    /* Absence is told only to those who may read parties (and to the
     * party itself). */
    if (!load(c, resp, key, HANSA__RECORD__KIND_PARTY,
              rules_reads_governance(&c->reader) ? c->reader.id : id, &rec) ||
        !decide(c, resp, key, rec))
        return;
    resp->kind_case = HANSA__RESPONSE__KIND_PARTY;
    resp->party = rec->party;
}

void api_read_parameters(struct api_ctx *c, Hansa__Response *resp)
{
    Hansa__Parameters *p = NULL;
    hansa_err rv = api_params(c, &p);
    if (rv == HANSA_ENOENT) {
        api_fail(c, resp, ERR(UNAVAILABLE), "the node has no committed genesis yet");
        return;
    }
    if (rv != HANSA_OK) {
        api_fail_storage(c, resp, RULES_KEY_PARAMS, rv);
        return;
    }
    /* DOMAIN.md "may read": parameters are ADMIN's (and REGULATOR's). */
    if (!permit(c, resp, RULES_KEY_PARAMS,
                rules_reads_governance(&c->reader) ? RULES_ALLOW : RULES_DENY))
        return;
    resp->kind_case = HANSA__RESPONSE__KIND_PARAMETERS;
    resp->parameters = p;
}

void api_read_proposal(struct api_ctx *c, Hansa__Response *resp)
{
    const ProtobufCBinaryData *id = &c->query->proposal->proposal_id;
    if (id->len != WIRE_HASH_BYTES) {
        api_fail(c, resp, ERR(BAD_REQUEST), "proposal_id must be %u bytes (got %zu)",
                 WIRE_HASH_BYTES, id->len);
        return;
    }
    char key[RULES_KEY_BYTES_MAX];
    ledger_key_proposal(key, id->data);
    Hansa__Record *rec = NULL;
    if (!load(c, resp, key, HANSA__RECORD__KIND_PROPOSAL,
              rules_reads_governance(&c->reader) ? c->reader.id : "", &rec) ||
        !decide(c, resp, key, rec))
        return;
    resp->kind_case = HANSA__RESPONSE__KIND_PROPOSAL;
    resp->proposal = rec->proposal;
}

/* ---- key collection for scans ---- */

struct key_list {
    char **keys;
    size_t n, cap, max;
    const char *skip; /* a page token: the last key already returned */
    bool more;        /* keys beyond max exist */
    bool nomem;
};

static bool collect_key(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    (void)val;
    (void)val_len;
    struct key_list *kl = arg;
    if (kl->skip != NULL && strlen(kl->skip) == key_len && memcmp(kl->skip, key, key_len) == 0)
        return true;
    if (kl->n == kl->max) {
        kl->more = true;
        return false;
    }
    if (kl->n == kl->cap) {
        size_t cap = kl->cap ? kl->cap * 2 : 64;
        char **k = realloc(kl->keys, cap * sizeof *k);
        if (k == NULL) {
            kl->nomem = true;
            return false;
        }
        kl->keys = k;
        kl->cap = cap;
    }
    char *copy = malloc(key_len + 1);
    if (copy == NULL) {
        kl->nomem = true;
        return false;
    }
    memcpy(copy, key, key_len);
    copy[key_len] = '\0';
    kl->keys[kl->n++] = copy;
    return true;
}

static void key_list_free(struct key_list *kl)
{
    for (size_t i = 0; i < kl->n; i++)
        free(kl->keys[i]);
    free(kl->keys);
}

static hansa_err key_list_scan(struct api_ctx *c, enum store_family f, const char *prefix,
                               const char *from, struct key_list *kl)
{
    hansa_err rv = store_scan(c->api->deps.store, f, (const uint8_t *)prefix, strlen(prefix),
                              (const uint8_t *)from, from ? strlen(from) : 0, collect_key, kl);
    return rv == HANSA_OK && kl->nomem ? HANSA_ENOMEM : rv;
}

/* ---- exposure ---- */

struct exposure_sum {
    const char *currency; /* points into a kept line */
    int64_t outstanding_minor;
};

static void exposure_add(struct exposure_sum *sums, size_t *n, const Hansa__CreditLine *l)
{
    if (l->outstanding_minor <= 0)
        return;
    size_t i = 0;
    while (i < *n && strcmp(sums[i].currency, l->currency) != 0)
        i++;
    if (i == *n)
        sums[(*n)++] = (struct exposure_sum){l->currency, 0};
    /* Amounts are at most 10^15 each; saturate rather than wrap. */
    int64_t *s = &sums[i].outstanding_minor;
    *s = *s > INT64_MAX - l->outstanding_minor ? INT64_MAX : *s + l->outstanding_minor;
}

static int exposure_cmp(const void *a, const void *b)
{
    return strcmp(((const struct exposure_sum *)a)->currency,
                  ((const struct exposure_sum *)b)->currency);
}

static bool exposure_answer(struct api_ctx *c, Hansa__Response *resp, const char *borrower,
                            struct exposure_sum *sums, size_t n)
{
    qsort(sums, n, sizeof *sums, exposure_cmp);
    Hansa__Exposure *e = api_alloc(c, sizeof *e);
    Hansa__CurrencyAmount **items = api_alloc(c, (n ? n : 1) * sizeof *items);
    Hansa__CurrencyAmount *amounts = api_alloc(c, (n ? n : 1) * sizeof *amounts);
    if (e == NULL || items == NULL || amounts == NULL)
        return false;
    hansa__exposure__init(e);
    for (size_t i = 0; i < n; i++) {
        hansa__currency_amount__init(&amounts[i]);
        amounts[i].currency = (char *)sums[i].currency;
        amounts[i].amount_minor = sums[i].outstanding_minor;
        items[i] = &amounts[i];
    }
    e->borrower = (char *)borrower;
    e->n_outstanding = n;
    e->outstanding = items;
    uint64_t h = store_height(c->api->deps.store);
    e->height = h == UINT64_MAX ? 0 : h;
    resp->kind_case = HANSA__RESPONSE__KIND_EXPOSURE;
    resp->exposure = e;
    return true;
}

void api_read_exposure(struct api_ctx *c, Hansa__Response *resp)
{
    const char *borrower = c->query->exposure->borrower;
    if (!wire_id_valid(borrower)) {
        api_fail(c, resp, ERR(BAD_REQUEST), "borrower is not a valid party id");
        return;
    }
    char prefix[RULES_KEY_BYTES_MAX], record[RULES_KEY_BYTES_MAX];
    snprintf(prefix, sizeof prefix, "ix/%s/line/", borrower);
    snprintf(record, sizeof record, "exposure/%s", borrower);
    struct key_list kl = {.max = RULES_SCAN_MAX};
    hansa_err rv = key_list_scan(c, STORE_STATE, prefix, NULL, &kl);
    struct exposure_sum *sums = calloc(kl.n ? kl.n : 1, sizeof *sums);
    bool bank_has_line = false;
    if (rv == HANSA_OK && sums == NULL)
        rv = HANSA_ENOMEM;
    size_t n_sums = 0;
    for (size_t i = 0; i < kl.n && rv == HANSA_OK; i++) {
        Hansa__Record *rec = NULL;
        rv = api_record_load(c, kl.keys[i] + strlen(prefix), HANSA__RECORD__KIND_CREDIT_LINE, &rec);
        if (rv == HANSA_ENOENT) {
            rv = HANSA_OK;
            continue;
        }
        const Hansa__CreditLine *l = rv == HANSA_OK ? rec->credit_line : NULL;
        if (l == NULL || l->borrower == NULL || strcmp(l->borrower, borrower) != 0)
            continue; /* a line where the borrower is the bank */
        exposure_add(sums, &n_sums, l);
        bank_has_line |= strcmp(l->bank, c->reader.id) == 0 &&
                         l->status != HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_CLOSED;
    }
    key_list_free(&kl);
    if (rv != HANSA_OK) {
        api_fail_storage(c, resp, prefix, rv);
    } else {
        /* DOMAIN: the borrower itself; a bank with a line to it that is not
         * CLOSED (expired counts); regulators. */
        enum rules_verdict v = strcmp(c->reader.id, borrower) == 0 ? RULES_OWN
                               : c->reader.regulator || (c->reader.bank && bank_has_line)
                                   ? RULES_ALLOW
                                   : RULES_DENY;
        if (permit(c, resp, record, v))
            exposure_answer(c, resp, borrower, sums, n_sums);
    }
    free(sums);
}

/* ---- pages ---- */

static bool page_limit(struct api_ctx *c, Hansa__Response *resp, uint32_t limit, uint32_t *out)
{
    if (limit > API_PAGE_LIMIT_MAX) {
        api_fail(c, resp, ERR(BAD_REQUEST), "limit %u is above the maximum of %u", (unsigned)limit,
                 API_PAGE_LIMIT_MAX);
        return false;
    }
    *out = limit == 0 ? API_PAGE_LIMIT_DEFAULT : limit;
    return true;
}

/* The page token as a key under prefix (NULL for the first page), or false
 * with resp answered. */
static bool page_token(struct api_ctx *c, Hansa__Response *resp, const ProtobufCBinaryData *t,
                       const char *prefix, const char **from)
{
    *from = NULL;
    if (t->len == 0)
        return true;
    size_t plen = strlen(prefix);
    if (t->len > API_PAGE_TOKEN_BYTES_MAX || t->len <= plen || memcmp(t->data, prefix, plen) != 0 ||
        memchr(t->data, '\0', t->len) != NULL) {
        api_fail(c, resp, ERR(BAD_REQUEST), "page_token does not belong to this listing");
        return false;
    }
    char *s = api_alloc(c, t->len + 1);
    if (s == NULL)
        return false;
    memcpy(s, t->data, t->len);
    *from = s;
    return true;
}

static bool set_token(struct api_ctx *c, ProtobufCBinaryData *t, const char *key)
{
    size_t n = strlen(key);
    uint8_t *p = api_alloc(c, n ? n : 1);
    if (p == NULL)
        return false;
    memcpy(p, key, n);
    *t = (ProtobufCBinaryData){n, p};
    return true;
}

/* ListRecords type -> index type name and Record kind; NULL name for the
 * types listed straight from their state prefix. */
static bool list_type(Hansa__EntityType t, const char **ix_name, const char **state_prefix,
                      Hansa__Record__KindCase *kind)
{
    *ix_name = NULL;
    *state_prefix = NULL;
    switch (t) {
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY:
        *state_prefix = "party/", *kind = HANSA__RECORD__KIND_PARTY;
        return true;
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_GOVERNANCE_PROPOSAL:
        *state_prefix = "proposal/", *kind = HANSA__RECORD__KIND_PROPOSAL;
        return true;
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER:
        *ix_name = "order", *kind = HANSA__RECORD__KIND_ORDER;
        return true;
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_PAYMENT:
        *ix_name = "payment", *kind = HANSA__RECORD__KIND_PAYMENT;
        return true;
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL:
        *ix_name = "waybill", *kind = HANSA__RECORD__KIND_WAYBILL;
        return true;
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE:
        *ix_name = "line", *kind = HANSA__RECORD__KIND_CREDIT_LINE;
        return true;
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING:
        *ix_name = "financing", *kind = HANSA__RECORD__KIND_FINANCING;
        return true;
    default:
        return false;
    }
}

/* Fill page from the collected keys; false when resp was answered. */
static bool list_fill(struct api_ctx *c, Hansa__Response *resp, const struct key_list *kl,
                      size_t strip, Hansa__Record__KindCase kind, uint32_t limit,
                      Hansa__RecordPage *page)
{
    page->records = api_alloc(c, limit * sizeof *page->records);
    if (page->records == NULL)
        return true;
    const char *last = NULL;
    for (size_t i = 0; i < kl->n; i++) {
        const char *key = kl->keys[i] + strip;
        last = kl->keys[i];
        Hansa__Record *rec = NULL;
        hansa_err rv = api_record_load(c, key, kind, &rec);
        if (rv == HANSA_ENOENT)
            continue; /* an index entry whose record is gone */
        enum rules_verdict v = RULES_DENY;
        if (rv == HANSA_OK)
            rv = rules_record(c->api->deps.store, &c->reader, rec, &v);
        if (rv != HANSA_OK) {
            api_fail_storage(c, resp, key, rv);
            return false;
        }
        if (!api_audit_verdict(c, key, v))
            continue; /* records the reader may not read are left out */
        page->records[page->n_records++] = rec;
        if (page->n_records == limit) {
            if (i + 1 < kl->n || kl->more)
                set_token(c, &page->next_page_token, kl->keys[i]);
            return true;
        }
    }
    /* The scan bound ended the page early: continue after the last examined. */
    if (kl->more && last != NULL)
        set_token(c, &page->next_page_token, last);
    return true;
}

void api_read_list(struct api_ctx *c, Hansa__Response *resp)
{
    const Hansa__ListRecords *g = c->query->list;
    const char *ix_name = NULL, *state_prefix = NULL;
    Hansa__Record__KindCase kind = HANSA__RECORD__KIND__NOT_SET;
    uint32_t limit = 0;
    if (!list_type(g->type, &ix_name, &state_prefix, &kind)) {
        api_fail(c, resp, ERR(BAD_REQUEST), "records of this type cannot be listed");
        return;
    }
    if (ix_name != NULL && !wire_id_valid(g->party)) {
        api_fail(c, resp, ERR(BAD_REQUEST), "party is not a valid party id");
        return;
    }
    if (!page_limit(c, resp, g->limit, &limit))
        return;
    char prefix[RULES_KEY_BYTES_MAX];
    if (ix_name != NULL)
        snprintf(prefix, sizeof prefix, "ix/%s/%s/", g->party, ix_name);
    else
        snprintf(prefix, sizeof prefix, "%s", state_prefix);
    const char *from = NULL;
    if (!page_token(c, resp, &g->page_token, prefix, &from))
        return;

    struct key_list kl = {.max = API_LIST_SCAN_MAX, .skip = from};
    hansa_err rv = key_list_scan(c, STORE_STATE, prefix, from, &kl);
    Hansa__RecordPage *page = api_alloc(c, sizeof *page);
    if (rv != HANSA_OK)
        api_fail_storage(c, resp, prefix, rv);
    else if (page != NULL) {
        hansa__record_page__init(page);
        if (list_fill(c, resp, &kl, ix_name != NULL ? strlen(prefix) : 0, kind, limit, page)) {
            resp->kind_case = HANSA__RESPONSE__KIND_RECORDS;
            resp->records = page;
        }
    }
    key_list_free(&kl);
}

/* ---- history ---- */

/* The entity's state key, Record kind, would-be owner and history key
 * prefix ("<state key>/", the ledger's layout: keys.h). False for a
 * malformed reference or a type without records. */
static bool history_entity(const Hansa__EntityRef *e, char *key, char *hkey,
                           Hansa__Record__KindCase *kind, const char **owner)
{
    if (e == NULL)
        return false;
    *owner = e->owner;
    uint8_t id[WIRE_HASH_BYTES];
    switch (e->type) {
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY:
        if (!wire_id_valid(e->id))
            return false;
        *kind = HANSA__RECORD__KIND_PARTY;
        *owner = e->id;
        break;
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_GOVERNANCE_PROPOSAL:
        if (e->id == NULL || wire_hex_decode(e->id, id, sizeof id) != HANSA_OK)
            return false;
        *kind = HANSA__RECORD__KIND_PROPOSAL;
        *owner = ""; /* no owner a reader could name to learn what exists */
        break;
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER:
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_PAYMENT:
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL:
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE:
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING:
        if (!ids_valid(e->owner, e->id))
            return false;
        *kind = e->type == HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER     ? HANSA__RECORD__KIND_ORDER
                : e->type == HANSA__ENTITY_TYPE__ENTITY_TYPE_PAYMENT ? HANSA__RECORD__KIND_PAYMENT
                : e->type == HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL ? HANSA__RECORD__KIND_WAYBILL
                : e->type == HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE
                    ? HANSA__RECORD__KIND_CREDIT_LINE
                    : HANSA__RECORD__KIND_FINANCING;
        break;
    default:
        return false;
    }
    size_t n = ledger_key_entity(key, e->type, e->owner, e->id);
    HANSA_ASSERT(n > 0 && n + 2 <= RULES_KEY_BYTES_MAX);
    memcpy(hkey, key, n);
    memcpy(hkey + n, "/", 2);
    return true;
}

struct history_collect {
    struct api_ctx *c;
    const char *skip;
    Hansa__HistoryEntry **entries;
    size_t n, limit;
    char last[RULES_KEY_BYTES_MAX];
    bool more, failed;
};

static bool collect_history(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                            size_t val_len)
{
    struct history_collect *h = arg;
    if (h->skip != NULL && strlen(h->skip) == key_len && memcmp(h->skip, key, key_len) == 0)
        return true;
    if (h->n == h->limit) {
        h->more = true;
        return false;
    }
    Hansa__HistoryEntry *e = NULL;
    if (key_len >= sizeof h->last ||
        wire_decode(&hansa__history_entry__descriptor, val, val_len, HANSA_BLOCK_BYTES_MAX,
                    WIRE_LENIENT, (ProtobufCMessage **)&e) != HANSA_OK ||
        !api_keep(h->c, e, wire_free)) {
        h->failed = true;
        return false;
    }
    h->entries[h->n++] = e;
    memcpy(h->last, key, key_len);
    h->last[key_len] = '\0';
    return true;
}

void api_read_history(struct api_ctx *c, Hansa__Response *resp)
{
    const Hansa__GetHistory *g = c->query->history;
    char key[RULES_KEY_BYTES_MAX], hkey[RULES_KEY_BYTES_MAX];
    Hansa__Record__KindCase kind = HANSA__RECORD__KIND__NOT_SET;
    const char *owner = "";
    uint32_t limit = 0;
    if (!history_entity(g->entity, key, hkey, &kind, &owner)) {
        api_fail(c, resp, ERR(BAD_REQUEST), "the entity is not a well-formed reference");
        return;
    }
    const char *from = NULL;
    if (!page_limit(c, resp, g->limit, &limit) || !page_token(c, resp, &g->page_token, hkey, &from))
        return;
    Hansa__Record *rec = NULL;
    bool governed = kind == HANSA__RECORD__KIND_PARTY || kind == HANSA__RECORD__KIND_PROPOSAL;
    if (governed && rules_reads_governance(&c->reader))
        owner = c->reader.id; /* absence is no secret to them */
    if (!load(c, resp, key, kind, owner, &rec) || !decide(c, resp, key, rec))
        return;

    Hansa__HistoryPage *page = api_alloc(c, sizeof *page);
    Hansa__HistoryEntry **entries = api_alloc(c, limit * sizeof *entries);
    if (page == NULL || entries == NULL)
        return;
    hansa__history_page__init(page);
    struct history_collect hc = {.c = c, .skip = from, .entries = entries, .limit = limit};
    hansa_err rv =
        store_scan(c->api->deps.store, STORE_HISTORY, (const uint8_t *)hkey, strlen(hkey),
                   (const uint8_t *)from, from ? strlen(from) : 0, collect_history, &hc);
    if (rv == HANSA_OK && hc.failed)
        rv = HANSA_EFORMAT;
    if (rv != HANSA_OK) {
        api_fail_storage(c, resp, hkey, rv);
        return;
    }
    page->entries = entries;
    page->n_entries = hc.n;
    if (hc.more && !set_token(c, &page->next_page_token, hc.last))
        return;
    resp->kind_case = HANSA__RESPONSE__KIND_HISTORY;
    resp->history = page;
}

/* ---- blocks ---- */

static void withhold_txs(Hansa__Block *b)
{
    for (size_t i = 0; i < b->n_txs; i++)
        free(b->txs[i].data);
    free(b->txs);
    b->txs = NULL;
    b->n_txs = 0;
}

void api_read_block(struct api_ctx *c, Hansa__Response *resp)
{
    uint64_t latest = store_height(c->api->deps.store), height = c->query->block->height;
    if (latest == UINT64_MAX || latest == 0) {
        api_fail(c, resp, ERR(NOT_FOUND), "no block is committed yet");
        return;
    }
    if (height == 0)
        height = latest;
    if (height > latest) {
        api_fail(c, resp, ERR(NOT_FOUND), "block %llu is not committed; the latest is %llu",
                 (unsigned long long)height, (unsigned long long)latest);
        return;
    }
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = store_get_block(c->api->deps.store, height, &val, &len);
    if (rv == HANSA_ENOENT) {
        api_fail(c, resp, ERR(NOT_FOUND), "block %llu is not stored on this node",
                 (unsigned long long)height);
        return;
    }
    Hansa__StoredBlock *sb = NULL;
    if (rv == HANSA_OK &&
        wire_decode(&hansa__stored_block__descriptor, val, len, HANSA_RESPONSE_BYTES_MAX,
                    WIRE_LENIENT, (ProtobufCMessage **)&sb) != HANSA_OK)
        rv = HANSA_EFORMAT;
    free(val);
    if (rv != HANSA_OK) {
        api_fail_storage(c, resp, "block", rv);
        return;
    }
    Hansa__BlockAnswer *ba = api_alloc(c, sizeof *ba);
    if (!api_keep(c, sb, wire_free) || ba == NULL)
        return;
    hansa__block_answer__init(ba);
    ba->block = sb;
    if (sb->block != NULL && sb->block->n_txs > 0) {
        /* hansa.proto BlockAnswer: the transactions only for regulators. */
        if (c->reader.regulator) {
            char record[64];
            snprintf(record, sizeof record, "block/%llu", (unsigned long long)height);
            api_audit(c, record, true);
        } else {
            withhold_txs(sb->block);
            ba->txs_withheld = true;
        }
    }
    resp->kind_case = HANSA__RESPONSE__KIND_BLOCK;
    resp->block = ba;
}
