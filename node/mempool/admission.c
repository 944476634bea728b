/* See admission.h. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "hansa/assert.h"
#include "keys.h"

#define RES(x) HANSA__RESULT_CODE__RESULT_##x

static atomic_uint_fast64_t verify_count;

uint64_t admission_verify_count(void)
{
    return (uint64_t)atomic_load(&verify_count);
}

/* wire_tx_verify, counted. */
static hansa_err verify(const struct wire_tx *tx)
{
    atomic_fetch_add(&verify_count, 1);
    return wire_tx_verify(tx);
}

static void fail(struct admission_result *r, hansa_err err, const char *what)
{
    r->code = RES(UNSPECIFIED);
    r->failure = err;
    snprintf(r->why, sizeof r->why, "%s: %s", what, hansa_strerror(err));
}

static void to_mempool(const struct admission *a, struct wire_tx *tx, const uint8_t *bytes,
                       size_t len, uint64_t now_ms, struct admission_result *r)
{
    struct mempool_tx *m = calloc(1, sizeof *m);
    uint8_t *copy = m != NULL ? malloc(len) : NULL;
    if (copy == NULL) {
        free(m);
        r->code = RES(BUSY);
        snprintf(r->why, sizeof r->why, "the node is out of memory; retry later");
        return;
    }
    memcpy(copy, bytes, len);
    m->bytes = copy;
    m->len = len;
    m->tx = *tx;
    m->admitted_ms = now_ms;
    hansa_err rv = mempool_add(a->mempool, m);
    memset(tx, 0, sizeof *tx); /* moved into m */
    if (rv == HANSA_OK) {
        r->code = RES(OK);
        return;
    }
    mempool_tx_free(m);
    if (rv == HANSA_EEXIST) {
        r->code = RES(ALREADY_PENDING);
        snprintf(r->why, sizeof r->why,
                 "the transaction is already in the mempool; wait for its receipt");
        return;
    }
    r->code = RES(BUSY);
    snprintf(r->why, sizeof r->why, "the mempool is full; retry later");
}

/* The checks after wire_tx_open, on the parameters and the signer's party
 * read once (a). */
static void admit_opened(const struct admission *a, const struct ledger_admission *la,
                         struct wire_tx *tx, const uint8_t *bytes, size_t len,
                         struct admission_result *r)
{
    r->code = ledger_admit_signer_with(la, tx, r->why, sizeof r->why);
    if (r->code != RES(OK))
        return;

    hansa_err rv = store_tx_location(a->store, tx->id, &r->height, &r->index);
    if (rv != HANSA_OK && rv != HANSA_ENOENT) {
        fail(r, rv, "the tx index could not be read");
        return;
    }
    bool committed = rv == HANSA_OK;
    if (!committed && !mempool_contains(a->mempool, tx->id) && verify(tx) != HANSA_OK) {
        r->code = RES(BAD_SIGNATURE);
        snprintf(r->why, sizeof r->why,
                 "the signature does not verify under the key registered to %s", tx->body->signer);
        return;
    }

    uint64_t now = a->now_ms(a->now_ctx);
    r->code = ledger_admit_with(la, tx, now, r->why, sizeof r->why);
    if (r->code == RES(UNSPECIFIED)) {
        r->failure = HANSA_EIO;
        return;
    }
    if (r->code == RES(OUTSIDE_WINDOW))
        return;
    if (committed) {
        r->code = RES(ALREADY_COMMITTED);
        snprintf(r->why, sizeof r->why, "the transaction was committed at height %llu, index %u",
                 (unsigned long long)r->height, (unsigned)r->index);
        return;
    }
    if (r->code != RES(OK))
        return;
    r->why[0] = '\0';
    to_mempool(a, tx, bytes, len, now, r);
}

void admission_admit(const struct admission *a, const uint8_t *bytes, size_t len,
                     struct admission_result *r)
{
    memset(r, 0, sizeof *r);
    wire_tx_id(bytes, len, r->tx_id);
    if (!mempool_has_room(a->mempool, len) && !mempool_contains(a->mempool, r->tx_id)) {
        uint64_t h = 0;
        uint32_t i = 0;
        hansa_err rv = store_tx_location(a->store, r->tx_id, &h, &i);
        if (rv == HANSA_ENOENT) {
            r->code = RES(BUSY);
            snprintf(r->why, sizeof r->why, "the mempool is full; retry later");
            return;
        }
        /* committed (answered below as ALREADY_COMMITTED), or an index
         * read failure (answered below as the node's failure) */
    }
    /* The size limit is a parameter, so the parameters are read before
     * decoding; the signer's party only once the body names it. */
    struct ledger_state st = store_ledger_state(a->store);
    struct ledger_admission la = {0};
    hansa_err rv = ledger_admission_params(&st, &la);
    if (rv != HANSA_OK) {
        ledger_admission_free(&la);
        fail(r, rv, "the parameters could not be read");
        return;
    }
    uint32_t max_tx_bytes = la.params->max_tx_bytes;
    if (len > max_tx_bytes) {
        ledger_admission_free(&la);
        r->code = RES(TOO_LARGE);
        snprintf(r->why, sizeof r->why, "the transaction is %zu bytes; the limit is %u bytes", len,
                 (unsigned)max_tx_bytes);
        return;
    }
    struct wire_tx tx;
    rv = wire_tx_open(&tx, bytes, len, a->chain_id);
    if (rv == HANSA_OK) {
        rv = ledger_admission_signer(&st, tx.body->signer, &la);
        if (rv == HANSA_OK)
            admit_opened(a, &la, &tx, bytes, len, r);
        else
            fail(r, rv, "the signer's party could not be read");
        ledger_admission_free(&la);
        wire_tx_close(&tx); /* zeroed if it went to the mempool */
        return;
    }
    ledger_admission_free(&la);
    switch (rv) {
    case HANSA_ETOOLARGE:
        r->code = RES(TOO_LARGE);
        snprintf(r->why, sizeof r->why,
                 "the transaction is %zu bytes or decodes too large; the limit is %u bytes", len,
                 HANSA_TX_BYTES_MAX);
        return;
    case HANSA_ENONCANONICAL:
        r->code = RES(MALFORMED);
        snprintf(r->why, sizeof r->why,
                 "the transaction is not canonically encoded: re-encoding it gives other bytes "
                 "or it carries unknown fields");
        return;
    case HANSA_EWRONGCHAIN:
        r->code = RES(WRONG_CHAIN);
        snprintf(r->why, sizeof r->why, "the transaction is not for chain %s", a->chain_id);
        return;
    case HANSA_ENOMEM:
        fail(r, rv, "the node ran out of memory");
        return;
    default:
        r->code = RES(MALFORMED);
        snprintf(r->why, sizeof r->why,
                 "the transaction does not decode: a Tx envelope with a 32-byte key, a 64-byte "
                 "signature and a TxBody naming a valid signer and one action is required");
        return;
    }
}
