/*
 * Read rules: see read_rules.h for the table. Each verdict function looks
 * at the record (and, for payments and waybills, their order) and answers
 * OWN before ALLOW before DENY, so a regulator reading its own record is
 * not audited and a merchant is never mistaken for an outsider.
 *
 * The bank rule ("the orders, payments and waybills referenced by financing
 * requested on its lines") needs the financing that references an order.
 * Financing is keyed by merchant and an order belongs to one merchant, so
 * the financing of the order's merchant is scanned; an approved financing
 * also names itself in Order.pledged_by, which is checked first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "log.h"
#include "read_rules.h"

/* A stored record is at most a block's worth of bytes (the ledger's
 * RECORD_BYTES_MAX). */
#define RULES_RECORD_BYTES_MAX HANSA_BLOCK_BYTES_MAX

static void key_fmt(int n)
{
    HANSA_ASSERT(n > 0 && (size_t)n < RULES_KEY_BYTES_MAX);
}

hansa_err rules_load(struct store *s, const char *key, const ProtobufCMessageDescriptor *d,
                     void **out)
{
    HANSA_ASSERT(s != NULL && key != NULL && out != NULL);
    *out = NULL;
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = store_get(s, STORE_STATE, (const uint8_t *)key, strlen(key), &val, &len);
    if (rv != HANSA_OK)
        return rv;
    ProtobufCMessage *m = NULL;
    rv = wire_decode(d, val, len, RULES_RECORD_BYTES_MAX, WIRE_LENIENT, &m);
    free(val);
    if (rv != HANSA_OK)
        return HANSA_EFORMAT;
    *out = m;
    return HANSA_OK;
}

static bool same(const char *a, const char *b)
{
    return a != NULL && b != NULL && a[0] != '\0' && strcmp(a, b) == 0;
}

static bool refs_order(const Hansa__OrderRef *ref, const char *merchant, const char *order_no)
{
    return ref != NULL && same(ref->merchant, merchant) && same(ref->order_no, order_no);
}

struct finances_scan {
    const char *bank, *merchant, *order_no;
    size_t visited;
    bool yes, truncated, bad_record;
};

static bool finances_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                           size_t val_len)
{
    (void)key;
    (void)key_len;
    struct finances_scan *fs = arg;
    if (fs->visited++ == RULES_SCAN_MAX) {
        fs->truncated = true;
        return false;
    }
    Hansa__Financing *f = NULL;
    if (wire_decode(&hansa__financing__descriptor, val, val_len, RULES_RECORD_BYTES_MAX,
                    WIRE_LENIENT, (ProtobufCMessage **)&f) != HANSA_OK) {
        fs->bad_record = true;
        return false;
    }
    if (f->line != NULL && same(f->line->bank, fs->bank))
        for (size_t i = 0; i < f->n_orders && !fs->yes; i++)
            fs->yes = refs_order(f->orders[i], fs->merchant, fs->order_no);
    wire_free(f);
    return !fs->yes;
}

hansa_err rules_bank_finances_order(struct store *s, const char *bank, const char *merchant,
                                    const char *order_no, bool *yes)
{
    *yes = false;
    char prefix[RULES_KEY_BYTES_MAX];
    key_fmt(snprintf(prefix, sizeof prefix, "financing/%s/", merchant));
    struct finances_scan fs = {.bank = bank, .merchant = merchant, .order_no = order_no};
    hansa_err rv = store_scan(s, STORE_STATE, (const uint8_t *)prefix, strlen(prefix), NULL, 0,
                              finances_visit, &fs);
    if (rv != HANSA_OK)
        return rv;
    if (fs.bad_record)
        return HANSA_EFORMAT;
    if (fs.truncated)
        log_warn("API-RULE-SCAN-LIMIT",
                 "%s has more than %u financing records; %s's read of order %s/%s was decided on "
                 "the first %u",
                 merchant, RULES_SCAN_MAX, bank, merchant, order_no, RULES_SCAN_MAX);
    *yes = fs.yes;
    return HANSA_OK;
}

/* A bank whose line carries financing that references the order. */
static hansa_err bank_reads_order(struct store *s, const struct api_reader *r,
                                  const Hansa__Order *o, bool *yes)
{
    *yes = false;
    if (!r->bank || o->document == NULL)
        return HANSA_OK;
    const char *merchant = o->document->merchant, *order_no = o->document->order_no;
    if (!wire_id_valid(merchant) || !wire_id_valid(order_no))
        return HANSA_OK;
    /* Fast path: the financing the order is pledged to. */
    if (o->pledged_by != NULL && wire_id_valid(o->pledged_by->merchant) &&
        wire_id_valid(o->pledged_by->financing_id)) {
        char key[RULES_KEY_BYTES_MAX];
        ledger_key_financing(key, o->pledged_by->merchant, o->pledged_by->financing_id);
        Hansa__Financing *f = NULL;
        hansa_err rv = rules_load(s, key, &hansa__financing__descriptor, (void **)&f);
        if (rv != HANSA_OK && rv != HANSA_ENOENT)
            return rv;
        *yes = f != NULL && f->line != NULL && same(f->line->bank, r->id);
        wire_free(f);
        if (*yes)
            return HANSA_OK;
    }
    return rules_bank_finances_order(s, r->id, merchant, order_no, yes);
}

hansa_err rules_order(struct store *s, const struct api_reader *r, const Hansa__Order *o,
                      enum rules_verdict *v)
{
    HANSA_ASSERT(r != NULL && r->id != NULL && o != NULL && v != NULL);
    const char *merchant = o->document != NULL ? o->document->merchant : NULL;
    if (same(r->id, merchant) || same(r->id, o->created_by)) {
        *v = RULES_OWN;
        return HANSA_OK;
    }
    if (r->regulator || (o->payment != NULL && same(o->payment->institution, r->id)) ||
        (o->waybill != NULL && same(o->waybill->carrier, r->id))) {
        *v = RULES_ALLOW;
        return HANSA_OK;
    }
    bool yes = false;
    hansa_err rv = bank_reads_order(s, r, o, &yes);
    *v = yes ? RULES_ALLOW : RULES_DENY;
    return rv;
}

/* Verdict on a leg (payment or waybill) of the order ref: OWN for the
 * order's merchant and creator, ALLOW for regulators and a bank financing
 * the order. The leg's own author has been handled by the caller. */
static hansa_err rules_leg(struct store *s, const struct api_reader *r, const Hansa__OrderRef *ref,
                           enum rules_verdict *v)
{
    *v = RULES_DENY;
    Hansa__Order *o = NULL;
    if (ref != NULL && wire_id_valid(ref->merchant) && wire_id_valid(ref->order_no)) {
        char key[RULES_KEY_BYTES_MAX];
        ledger_key_order(key, ref->merchant, ref->order_no);
        hansa_err rv = rules_load(s, key, &hansa__order__descriptor, (void **)&o);
        if (rv != HANSA_OK && rv != HANSA_ENOENT)
            return rv;
    }
    hansa_err rv = HANSA_OK;
    if (o != NULL && o->document != NULL &&
        (same(r->id, o->document->merchant) || same(r->id, o->created_by))) {
        *v = RULES_OWN;
    } else if (r->regulator) {
        *v = RULES_ALLOW;
    } else if (o != NULL) {
        bool yes = false;
        rv = bank_reads_order(s, r, o, &yes);
        *v = yes ? RULES_ALLOW : RULES_DENY;
    }
    wire_free(o);
    return rv;
}

hansa_err rules_payment(struct store *s, const struct api_reader *r, const Hansa__Payment *p,
                        enum rules_verdict *v)
{
    HANSA_ASSERT(r != NULL && p != NULL && v != NULL);
    if (same(r->id, p->institution)) {
        *v = RULES_OWN;
        return HANSA_OK;
    }
    return rules_leg(s, r, p->document != NULL ? p->document->order : NULL, v);
}

hansa_err rules_waybill(struct store *s, const struct api_reader *r, const Hansa__Waybill *w,
                        enum rules_verdict *v)
{
    HANSA_ASSERT(r != NULL && w != NULL && v != NULL);
    if (same(r->id, w->carrier)) {
        *v = RULES_OWN;
        return HANSA_OK;
    }
    return rules_leg(s, r, w->document != NULL ? w->document->order : NULL, v);
}

enum rules_verdict rules_line(const struct api_reader *r, const Hansa__CreditLine *l)
{
    if (same(r->id, l->bank) || same(r->id, l->borrower))
        return RULES_OWN;
    return r->regulator ? RULES_ALLOW : RULES_DENY;
}

enum rules_verdict rules_financing(const struct api_reader *r, const Hansa__Financing *f)
{
    if (same(r->id, f->merchant) || (f->line != NULL && same(r->id, f->line->bank)))
        return RULES_OWN;
    return r->regulator ? RULES_ALLOW : RULES_DENY;
}

/* DOMAIN.md "may read": ADMIN "parties and parameters", REGULATOR
 * "everything"; no other role lists them. */
bool rules_reads_governance(const struct api_reader *r)
{
    return r->admin || r->regulator;
}

enum rules_verdict rules_party(const struct api_reader *r, const Hansa__Party *p)
{
    if (same(r->id, p->id))
        return RULES_OWN;
    return rules_reads_governance(r) ? RULES_ALLOW : RULES_DENY;
}

enum rules_verdict rules_proposal(const struct api_reader *r, const Hansa__GovernanceProposal *p)
{
    if (same(r->id, p->proposer))
        return RULES_OWN;
    return rules_reads_governance(r) ? RULES_ALLOW : RULES_DENY;
}

hansa_err rules_record(struct store *s, const struct api_reader *r, const Hansa__Record *rec,
                       enum rules_verdict *v)
{
    *v = RULES_DENY;
    switch (rec->kind_case) {
    case HANSA__RECORD__KIND_PARTY:
        *v = rules_party(r, rec->party);
        return HANSA_OK;
    case HANSA__RECORD__KIND_ORDER:
        return rules_order(s, r, rec->order, v);
    case HANSA__RECORD__KIND_PAYMENT:
        return rules_payment(s, r, rec->payment, v);
    case HANSA__RECORD__KIND_WAYBILL:
        return rules_waybill(s, r, rec->waybill, v);
    case HANSA__RECORD__KIND_CREDIT_LINE:
        *v = rules_line(r, rec->credit_line);
        return HANSA_OK;
    case HANSA__RECORD__KIND_FINANCING:
        *v = rules_financing(r, rec->financing);
        return HANSA_OK;
    case HANSA__RECORD__KIND_PROPOSAL:
        *v = rules_proposal(r, rec->proposal);
        return HANSA_OK;
    default:
        *v = r->regulator ? RULES_ALLOW : RULES_DENY;
        return HANSA_OK;
    }
}
